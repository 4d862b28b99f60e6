"""Login throttling, kept in the database.

A failed login is an audit-log row (`user.login_failed`, actor
`ip:<address>`, target the username typed). Before checking a password the
login counts such rows in the last 15 minutes, per client address and per
username; five of either means 429 until the oldest of them is 15 minutes
old. Because the count lives in the database, every web process behind a
load balancer sees the same failures (WEB-05), and admins see them in the
audit log. Time comes from the app's injected clock.

The client address is `request.remote_addr`: behind a reverse proxy, wrap
the app in werkzeug's ProxyFix so that it is the visitor's, not the proxy's.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from statuspage import audit
from statuspage.store import Store

MAX_FAILURES = 5
WINDOW = timedelta(minutes=15)
FAILED_LOGIN = "user.login_failed"


def wait_before_login(store: Store, ip: str, username: str, now: datetime) -> timedelta | None:
    """How long this address or username must wait before another try, or
    None when a try is allowed now."""
    since = now - WINDOW
    waits = []
    for times in (
        audit.times_since(store, FAILED_LOGIN, since, actor=_actor(ip), limit=MAX_FAILURES),
        audit.times_since(store, FAILED_LOGIN, since, target_id=username, limit=MAX_FAILURES),
    ):
        if len(times) >= MAX_FAILURES:
            # Allowed again once the oldest of the last five leaves the window.
            waits.append(times[MAX_FAILURES - 1] + WINDOW - now)
    return max(waits) if waits else None


def record_failure(store: Store, ip: str, username: str, reason: str, now: datetime) -> None:
    with store.transaction() as conn:
        audit.record(
            conn, _actor(ip), FAILED_LOGIN, "user", username, None, {"reason": reason}, now
        )


def _actor(ip: str) -> str:
    return f"ip:{ip}"
