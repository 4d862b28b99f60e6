"""Who may do what: password hashing, roles, API tokens. No I/O.

Passwords are hashed with argon2id. A hash written by an older setting (or a
legacy werkzeug `pbkdf2:`/`scrypt:` hash imported from another tool) still
verifies, and `verify_password` hands back a fresh argon2id hash to store in
its place (WEB-04). An unknown user costs one verification too, so the answer
time does not tell which usernames exist.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from werkzeug.security import check_password_hash

# OWASP's argon2id setting (19 MiB, 2 passes, 1 lane): about 35 ms here, and
# eight web threads hashing at once stay well under 200 MB.
HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
LEGACY_PREFIXES = ("pbkdf2:", "scrypt:")

MIN_PASSWORD_CHARS = 12
# Long enough for any passphrase, short enough that hashing stays cheap.
MAX_PASSWORD_CHARS = 1024
GENERATED_PASSWORD_BYTES = 18  # 24 URL-safe characters
USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._@-]{0,63}$")

API_TOKEN_PREFIX = "sp_"  # noqa: S105 (a prefix, not a secret)
API_TOKEN_BYTES = 32


class Role(StrEnum):
    VIEWER = "viewer"
    EDITOR = "editor"
    ADMIN = "admin"


ROLE_RANK = {Role.VIEWER: 0, Role.EDITOR: 1, Role.ADMIN: 2}

# The least role each action needs. Views check a role (`login_required`);
# templates and the API ask `can(role, action)`: both read this table.
PERMISSIONS: dict[str, Role] = {
    "dashboard.view": Role.VIEWER,
    "incidents.view": Role.VIEWER,
    "incidents.edit": Role.EDITOR,
    "maintenance.edit": Role.EDITOR,
    "overrides.edit": Role.EDITOR,
    "deployments.create": Role.EDITOR,
    "subscribers.edit": Role.EDITOR,
    "users.manage": Role.ADMIN,
    "tokens.manage": Role.ADMIN,
    "audit.read": Role.ADMIN,
    "settings.manage": Role.ADMIN,
}


def at_least(role: Role | str, minimum: Role | str) -> bool:
    return ROLE_RANK[Role(role)] >= ROLE_RANK[Role(minimum)]


def lesser_role(a: Role | str, b: Role | str) -> Role:
    return Role(a) if ROLE_RANK[Role(a)] <= ROLE_RANK[Role(b)] else Role(b)


def can(role: Role | str, action: str) -> bool:
    """Whether `role` may do `action`; an unknown action is refused."""
    needed = PERMISSIONS.get(action)
    return needed is not None and at_least(role, needed)


# --- passwords -----------------------------------------------------------


def normalize_username(name: str) -> str:
    return name.strip().lower()


def username_problem(name: str) -> str | None:
    if not USERNAME_PATTERN.match(name):
        return (
            "use 1 to 64 lowercase letters, digits, '.', '_', '@' or '-', "
            "starting with a letter or digit"
        )
    return None


def password_problem(password: str, username: str = "") -> str | None:
    """Why a new password is not acceptable, or None."""
    if len(password) < MIN_PASSWORD_CHARS:
        return f"must be at least {MIN_PASSWORD_CHARS} characters"
    if len(password) > MAX_PASSWORD_CHARS:
        return f"must be at most {MAX_PASSWORD_CHARS} characters"
    if username and password.strip().lower() == username.lower():
        return "must not be the username"
    return None


def generate_password() -> str:
    return secrets.token_urlsafe(GENERATED_PASSWORD_BYTES)


def hash_password(password: str) -> str:
    return HASHER.hash(password)


@dataclass(frozen=True)
class Verification:
    ok: bool
    # A hash to store instead of the old one (old parameters or a legacy
    # scheme); only set when `ok`.
    new_hash: str | None = None


_dummy_hash: str | None = None


def _dummy() -> str:
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = HASHER.hash(secrets.token_urlsafe(16))
    return _dummy_hash


def verify_password(stored_hash: str | None, password: str) -> Verification:
    """Check `password` against `stored_hash`. `None` (no such user) still
    runs one argon2 verification so that the time taken is comparable."""
    if stored_hash is None or len(password) > MAX_PASSWORD_CHARS:
        # No password that long can be set: refuse it, at the usual cost.
        _verify_argon2(_dummy(), password[:MAX_PASSWORD_CHARS])
        return Verification(False)
    if stored_hash.startswith(LEGACY_PREFIXES):
        if check_password_hash(stored_hash, password):
            return Verification(True, hash_password(password))
        return Verification(False)
    if not _verify_argon2(stored_hash, password):
        return Verification(False)
    if HASHER.check_needs_rehash(stored_hash):
        return Verification(True, hash_password(password))
    return Verification(True)


def _verify_argon2(stored_hash: str, password: str) -> bool:
    try:
        return HASHER.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


# --- API tokens ------------------------------------------------------------


def new_api_token() -> str:
    """A bearer token, shown once: `sp_` and 43 URL-safe characters."""
    return API_TOKEN_PREFIX + secrets.token_urlsafe(API_TOKEN_BYTES)


def hash_api_token(token: str) -> str:
    """Tokens are long random strings: a plain SHA-256 makes a leaked table
    useless and lets a request look its token up directly."""
    return hashlib.sha256(token.encode()).hexdigest()
