"""The payments canary account: what a user-workflow check walks through
(log in, read the subscription, expect `active`).

Setting `subscriptions_expired` replays the seed outage: a deploy with a
wrong config marks every subscription expired while `/healthz` keeps
answering 200, so only a check of what users do can see it.
"""

from __future__ import annotations

import hmac
import secrets
import threading
from collections import OrderedDict

# Checks log in every few seconds for as long as the demo runs; old
# tokens are forgotten so the set stays small.
MAX_LIVE_TOKENS = 1000


class CanaryAccount:
    """One user, its password, the tokens handed out, and its subscription."""

    def __init__(self, user: str, password: str) -> None:
        self.user = user
        self._password = password
        self._tokens: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()
        self.subscriptions_expired = False

    def log_in(self, user: object, password: object) -> str | None:
        """A new bearer token, or None when the credentials are wrong."""
        if not isinstance(user, str) or not isinstance(password, str):
            return None
        user_ok = hmac.compare_digest(user.encode(), self.user.encode())
        password_ok = hmac.compare_digest(password.encode(), self._password.encode())
        if not (user_ok and password_ok):
            return None
        token = secrets.token_urlsafe(24)
        with self._lock:
            self._tokens[token] = None
            while len(self._tokens) > MAX_LIVE_TOKENS:
                self._tokens.popitem(last=False)
        return token

    def holds_token(self, authorization: str | None) -> bool:
        """Whether an `Authorization: Bearer <token>` header names a live token."""
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return False
        with self._lock:
            return token.strip() in self._tokens

    def subscription_status(self) -> str:
        return "expired" if self.subscriptions_expired else "active"
