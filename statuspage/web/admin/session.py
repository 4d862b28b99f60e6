"""Admin sessions: the signing key, cookie settings, expiry, and the
`login_required` decorator.

A session is Flask's signed cookie holding the user id, the user's
`session_version` when they logged in, and two timestamps from the injected
clock: when they logged in and when they were last seen. Every request
checks them on the server: idle for 30 minutes or older than 12 hours is
over (SEC-10), and a `session_version` that no longer matches the database
(password changed, user disabled) is over (SEC-09).
"""

from __future__ import annotations

import functools
import logging
import os
import secrets
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import Flask, flash, g, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy.engine import make_url

from statuspage.auth import Role, at_least
from statuspage.config import Config
from statuspage.store.users import User, UserRepository
from statuspage.web import deps

log = logging.getLogger(__name__)

SECRET_KEY_ENV = "STATUSPAGE_SECRET_KEY"  # noqa: S105 (a name, not a key)
SECRET_KEY_FILE = "secret_key"  # noqa: S105 (a file name)
MIN_SECRET_KEY_CHARS = 32
GENERATED_SECRET_KEY_BYTES = 48

IDLE_TIMEOUT = timedelta(minutes=30)
ABSOLUTE_LIFETIME = timedelta(hours=12)
# A form's CSRF token outlives the idle timeout, so it is the session, not
# the token, that decides in practice.
CSRF_TOKEN_LIFETIME = timedelta(hours=1)
SESSION_COOKIE_NAME = "statuspage_session"

# Session keys.
USER_ID = "uid"
VERSION = "sv"
LOGIN_AT = "login_at"
SEEN_AT = "seen_at"

IDLE_MESSAGE = "Your session expired after 30 minutes without activity. Log in again."
LIFETIME_MESSAGE = "Your session reached its 12-hour limit. Log in again."
ENDED_MESSAGE = "Your session has ended (password changed or account disabled). Log in again."

# The attribute on a view function that names who may call it; the
# blueprint refuses any view without one (see blueprint.require_an_access_rule).
ACCESS_ATTR = "admin_access"
PUBLIC = "public"

F = TypeVar("F", bound=Callable[..., ResponseReturnValue])


class SecretKeyError(RuntimeError):
    """No usable key to sign sessions with: the app refuses to start."""


# --- the signing key --------------------------------------------------------


def secret_key_for(
    config: Config, database_url: str | None = None, env: Mapping[str, str] | None = None
) -> str:
    """The key that signs session cookies and CSRF tokens.

    In order: the environment variable `STATUSPAGE_SECRET_KEY`, the config's
    `admin.secret_key`, or, for a SQLite database in a file, a key generated
    once and kept in `secret_key` beside that file (mode 0600) so a restart
    keeps everyone logged in. With PostgreSQL every web process must sign
    with the same key, so it has to be given. A given key shorter than 32
    characters is refused (WEB-16).
    """
    env = os.environ if env is None else env
    given = env.get(SECRET_KEY_ENV) or getattr(getattr(config, "admin", None), "secret_key", None)
    if given:
        if len(given) < MIN_SECRET_KEY_CHARS:
            raise SecretKeyError(
                f"the secret key is {len(given)} characters; use at least "
                f"{MIN_SECRET_KEY_CHARS}, e.g. the output of: "
                "python -c 'import secrets; print(secrets.token_urlsafe(48))'"
            )
        return str(given)
    path = _key_file_beside(database_url or config.database_url())
    if path is None:
        raise SecretKeyError(
            f"no secret key: set {SECRET_KEY_ENV} (or admin.secret_key in the config); "
            "every web process must sign sessions with the same key"
        )
    return _read_or_create_key(path)


def _key_file_beside(database_url: str) -> Path | None:
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    if url.database.startswith("file:"):
        return None
    return Path(url.database).resolve().parent / SECRET_KEY_FILE


def _read_or_create_key(path: Path) -> str:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written aside and linked into place: two processes starting at once
        # end up with the same key, and nobody reads a half-written file.
        spare = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(spare, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(secrets.token_urlsafe(GENERATED_SECRET_KEY_BYTES) + "\n")
        try:
            os.link(spare, path)
            log.info("generated a session key in %s", path)
        except FileExistsError:
            pass
        finally:
            spare.unlink()
    if path.stat().st_mode & 0o077:
        log.warning("%s was readable by others; setting its mode to 0600", path)
        path.chmod(0o600)
    key = path.read_text(encoding="utf-8").strip()
    if len(key) < MIN_SECRET_KEY_CHARS:
        raise SecretKeyError(f"{path} holds a key shorter than {MIN_SECRET_KEY_CHARS} characters")
    return key


def configure(app: Flask, config: Config, database_url: str) -> None:
    """Key and cookie settings. Tests (`app.testing`) get a random key when
    none is configured; anything else refuses to start without one."""
    key = app.config.get("SECRET_KEY")
    if key:
        if len(str(key)) < MIN_SECRET_KEY_CHARS and not app.testing:
            raise SecretKeyError(f"SECRET_KEY must be at least {MIN_SECRET_KEY_CHARS} characters")
    else:
        try:
            key = secret_key_for(config, database_url)
        except SecretKeyError:
            if not app.testing:
                raise
            key = secrets.token_urlsafe(GENERATED_SECRET_KEY_BYTES)
    https = config.site.url.startswith("https://")
    if not https and urlsplit(config.site.url).hostname not in ("127.0.0.1", "localhost", "::1"):
        log.warning(
            "site.url is %s: admin session cookies will be sent without the Secure flag; "
            "serve the page over HTTPS",
            config.site.url,
        )
    app.config.update(
        SECRET_KEY=key,
        SESSION_COOKIE_NAME=SESSION_COOKIE_NAME,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=https,
        PERMANENT_SESSION_LIFETIME=ABSOLUTE_LIFETIME,
        WTF_CSRF_TIME_LIMIT=int(CSRF_TOKEN_LIFETIME.total_seconds()),
    )


# --- one session --------------------------------------------------------------


def users() -> UserRepository:
    return UserRepository(deps.store())


def start_session(user: User, now: datetime) -> None:
    """A new session for `user`. Whatever the cookie held before (a planted
    session, an old CSRF token) is dropped (WEB-02)."""
    session.clear()
    session.permanent = True
    session[USER_ID] = user.id
    session[VERSION] = user.session_version
    session[LOGIN_AT] = now.timestamp()
    session[SEEN_AT] = now.timestamp()


def end_session() -> None:
    session.clear()


def session_user(now: datetime) -> tuple[User | None, str | None]:
    """The user this request's session belongs to, or None and why the
    session stopped (None when there was none). A valid session is marked
    as seen now; an invalid one is cleared."""
    if USER_ID not in session:
        return None, None
    try:
        user_id = int(session[USER_ID])
        version = int(session[VERSION])
        login_at = float(session[LOGIN_AT])
        seen_at = float(session[SEEN_AT])
    except (KeyError, TypeError, ValueError):
        end_session()
        return None, ENDED_MESSAGE
    moment = now.timestamp()
    if moment - login_at >= ABSOLUTE_LIFETIME.total_seconds():
        end_session()
        return None, LIFETIME_MESSAGE
    if moment - seen_at >= IDLE_TIMEOUT.total_seconds():
        end_session()
        return None, IDLE_MESSAGE
    user = users().get(user_id)
    if user is None or user.disabled or user.session_version != version:
        end_session()
        return None, ENDED_MESSAGE
    session[SEEN_AT] = max(seen_at, moment)
    return user, None


def keep_session_after_own_change(user: User) -> None:
    """After a person changes their own password the session they used
    stays valid (every other one ends)."""
    session[VERSION] = user.session_version


def current_user() -> User:
    """The logged-in user (inside a view behind `login_required`)."""
    user: User | None = g.get("admin_user")
    if user is None:
        raise RuntimeError("current_user() outside a view behind login_required")
    return user


def actor() -> str:
    """The audit log's name for whoever makes this request."""
    return current_user().actor


# --- decorators -----------------------------------------------------------------


def login_required(min_role: Role | str = Role.VIEWER) -> Callable[[F], F]:
    """Let a view run only for a logged-in, enabled user of at least
    `min_role`. Without a valid session the browser goes to the login page
    (and comes back afterwards for a GET); with too small a role the answer
    is 403, naming the role needed."""
    needed = Role(min_role)

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> ResponseReturnValue:
            user, why = session_user(deps.now())
            if user is None:
                if why:
                    flash(why, "info")
                return redirect(login_url())
            g.admin_user = user
            if not at_least(user.role, needed):
                return forbidden(user, needed)
            return view(*args, **kwargs)

        setattr(guarded, ACCESS_ATTR, needed.value)
        return guarded  # type: ignore[return-value]

    return decorate


def public(view: F) -> F:
    """Mark an admin view that anyone may call (the login page)."""
    setattr(view, ACCESS_ATTR, PUBLIC)
    return view


def forbidden(user: User | None, needed: Role | None) -> ResponseReturnValue:
    return render_template("admin/forbidden.html", user=user, needed=needed), 403


def login_url() -> str:
    """The login page, coming back here afterwards when "here" is a page."""
    if request.method in ("GET", "HEAD"):
        return url_for("admin.login", next=request.full_path.rstrip("?"))
    return url_for("admin.login")


def safe_next(target: str | None, default: str | None = None) -> str:
    """`target` when it is a path on this site, otherwise the dashboard: a
    login link must never send someone elsewhere (WEB-17)."""
    fallback = default or url_for("admin.dashboard")
    if not target or len(target) > 2000:
        return fallback
    if "\\" in target or any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in target):
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return fallback
    return target
