"""People who log in to the admin, and API tokens.

Every change is written to the audit log in the same transaction. Password
hashes leave this module only through `credentials`, which the login uses;
`User` and `ApiToken` carry no hash, so a page or an API that renders them
cannot leak one (SEC-20).

Changing a password or disabling a user bumps `session_version` (every
session made before stops working) and revokes that user's API tokens: a
leaked password must not leave a token behind that outlives it (SEC-09).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from statuspage import audit
from statuspage.auth import Role, at_least, lesser_role
from statuspage.store import Store
from statuspage.store import tables as t


class UsernameTaken(ValueError):
    def __init__(self, username: str) -> None:
        super().__init__(f"a user named {username!r} exists")
        self.username = username


class NoSuchUser(LookupError):
    pass


@dataclass(frozen=True)
class User:
    id: int
    username: str
    role: Role
    disabled: bool
    session_version: int
    created_at: datetime
    last_login_at: datetime | None

    @property
    def actor(self) -> str:
        """How the audit log names this person."""
        return f"user:{self.username}"


@dataclass(frozen=True)
class ApiToken:
    id: int
    name: str
    # What the token may do now: its own role, capped by its user's role.
    role: Role
    user_id: int | None
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @property
    def actor(self) -> str:
        return f"token:{self.name}"


_USER_COLUMNS = [c for c in t.users.c if c.name != "password_hash"]
_TOKEN_COLUMNS = [c for c in t.api_tokens.c if c.name != "token_hash"]


class UserRepository:
    def __init__(self, store: Store) -> None:
        self.store = store

    # --- reading ---------------------------------------------------------

    def get(self, user_id: int) -> User | None:
        with self.store.engine.connect() as conn:
            row = conn.execute(select(*_USER_COLUMNS).where(t.users.c.id == user_id)).first()
        return _user(row) if row else None

    def by_name(self, username: str) -> User | None:
        with self.store.engine.connect() as conn:
            row = conn.execute(select(*_USER_COLUMNS).where(t.users.c.username == username)).first()
        return _user(row) if row else None

    def credentials(self, username: str) -> tuple[User, str] | None:
        """The user and their password hash: for the login check only."""
        with self.store.engine.connect() as conn:
            row = conn.execute(select(t.users).where(t.users.c.username == username)).first()
        return (_user(row), row.password_hash) if row else None

    def all(self) -> list[User]:
        """Every user, by name."""
        with self.store.engine.connect() as conn:
            rows = conn.execute(select(*_USER_COLUMNS).order_by(t.users.c.username))
            return [_user(r) for r in rows]

    def count(self) -> int:
        with self.store.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(t.users)).scalar_one())

    def count_active_admins(self) -> int:
        query = (
            select(func.count())
            .select_from(t.users)
            .where(t.users.c.role == Role.ADMIN.value, t.users.c.disabled.is_(False))
        )
        with self.store.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    # --- changing --------------------------------------------------------

    def create(
        self, username: str, role: Role | str, password_hash: str, *, actor: str, at: datetime
    ) -> User:
        """A new enabled user. Raises UsernameTaken."""
        role = Role(role)
        try:
            with self.store.transaction() as conn:
                user_id = conn.execute(
                    insert(t.users)
                    .values(
                        username=username,
                        password_hash=password_hash,
                        role=role.value,
                        disabled=False,
                        session_version=1,
                        created_at=at,
                    )
                    .returning(t.users.c.id)
                ).scalar_one()
                user = self._get(conn, user_id)
                audit.record(conn, actor, "user.create", "user", username, None, _shown(user), at)
        except IntegrityError as exc:
            raise UsernameTaken(username) from exc
        return user

    def set_password(self, user_id: int, password_hash: str, *, actor: str, at: datetime) -> User:
        """A new password: older sessions and the user's tokens stop working."""
        with self.store.transaction() as conn:
            before = self._get(conn, user_id)
            conn.execute(
                update(t.users)
                .where(t.users.c.id == user_id)
                .values(password_hash=password_hash, session_version=t.users.c.session_version + 1)
            )
            revoked = self._revoke_tokens_of(conn, user_id, at)
            after = self._get(conn, user_id)
            audit.record(
                conn,
                actor,
                "user.password",
                "user",
                after.username,
                _shown(before),
                {**_shown(after), "tokens_revoked": revoked},
                at,
            )
        return after

    def set_role(self, user_id: int, role: Role | str, *, actor: str, at: datetime) -> User:
        role = Role(role)
        with self.store.transaction() as conn:
            before = self._get(conn, user_id)
            conn.execute(update(t.users).where(t.users.c.id == user_id).values(role=role.value))
            after = self._get(conn, user_id)
            audit.record(
                conn, actor, "user.role", "user", after.username, _shown(before), _shown(after), at
            )
        return after

    def set_disabled(self, user_id: int, disabled: bool, *, actor: str, at: datetime) -> User:
        """Disable (every session ends, tokens are revoked) or enable."""
        with self.store.transaction() as conn:
            before = self._get(conn, user_id)
            conn.execute(
                update(t.users)
                .where(t.users.c.id == user_id)
                .values(disabled=disabled, session_version=t.users.c.session_version + 1)
            )
            extra: dict[str, Any] = {}
            if disabled:
                extra["tokens_revoked"] = self._revoke_tokens_of(conn, user_id, at)
            after = self._get(conn, user_id)
            audit.record(
                conn,
                actor,
                "user.disable" if disabled else "user.enable",
                "user",
                after.username,
                _shown(before),
                {**_shown(after), **extra},
                at,
            )
        return after

    def record_login(
        self, user_id: int, *, at: datetime, ip: str, new_hash: str | None = None
    ) -> User:
        """A successful login; `new_hash` replaces an outdated password hash
        (same password, so sessions stay valid)."""
        values: dict[str, Any] = {"last_login_at": at}
        if new_hash is not None:
            values["password_hash"] = new_hash
        with self.store.transaction() as conn:
            conn.execute(update(t.users).where(t.users.c.id == user_id).values(**values))
            user = self._get(conn, user_id)
            audit.record(
                conn,
                user.actor,
                "user.login",
                "user",
                user.username,
                None,
                {"ip": ip, "hash_upgraded": new_hash is not None},
                at,
            )
        return user

    # --- API tokens ------------------------------------------------------

    def create_token(
        self,
        name: str,
        role: Role | str,
        token_hash: str,
        user_id: int | None,
        *,
        actor: str,
        at: datetime,
    ) -> ApiToken:
        """Store a token's hash (the token itself is shown once by the
        caller). A user's token cannot have more rights than the user."""
        role = Role(role)
        with self.store.transaction() as conn:
            if user_id is not None:
                owner = self._get(conn, user_id)
                if not at_least(owner.role, role):
                    raise ValueError(f"{owner.username} is {owner.role}: a token cannot be {role}")
            token_id = conn.execute(
                insert(t.api_tokens)
                .values(
                    name=name,
                    token_hash=token_hash,
                    role=role.value,
                    user_id=user_id,
                    created_at=at,
                )
                .returning(t.api_tokens.c.id)
            ).scalar_one()
            token = self._token(conn, token_id)
            audit.record(conn, actor, "token.create", "token", token_id, None, asdict(token), at)
        return token

    def token_by_hash(self, token_hash: str) -> ApiToken | None:
        """The live token with this hash: not revoked, and its user (if it
        has one) not disabled. Its role is capped by the user's role now."""
        query = (
            select(*_TOKEN_COLUMNS, t.users.c.role.label("user_role"))
            .select_from(t.api_tokens.outerjoin(t.users, t.users.c.id == t.api_tokens.c.user_id))
            .where(
                t.api_tokens.c.token_hash == token_hash,
                t.api_tokens.c.revoked_at.is_(None),
                or_(t.api_tokens.c.user_id.is_(None), t.users.c.disabled.is_(False)),
            )
        )
        with self.store.engine.connect() as conn:
            row = conn.execute(query).first()
        return _token(row) if row else None

    def revoke_token(self, token_id: int, *, actor: str, at: datetime) -> ApiToken:
        with self.store.transaction() as conn:
            before = self._token(conn, token_id)
            conn.execute(
                update(t.api_tokens)
                .where(t.api_tokens.c.id == token_id, t.api_tokens.c.revoked_at.is_(None))
                .values(revoked_at=at)
            )
            after = self._token(conn, token_id)
            audit.record(
                conn, actor, "token.revoke", "token", token_id, asdict(before), asdict(after), at
            )
        return after

    def touch_token(self, token_id: int, at: datetime) -> None:
        """Note a use (not audited: a use is not a change)."""
        with self.store.transaction() as conn:
            conn.execute(
                update(t.api_tokens).where(t.api_tokens.c.id == token_id).values(last_used_at=at)
            )

    def tokens(self, user_id: int | None = None) -> list[ApiToken]:
        """Every token, revoked ones too, newest first."""
        query = select(*_TOKEN_COLUMNS, t.users.c.role.label("user_role")).select_from(
            t.api_tokens.outerjoin(t.users, t.users.c.id == t.api_tokens.c.user_id)
        )
        if user_id is not None:
            query = query.where(t.api_tokens.c.user_id == user_id)
        query = query.order_by(t.api_tokens.c.created_at.desc(), t.api_tokens.c.id.desc())
        with self.store.engine.connect() as conn:
            return [_token(r) for r in conn.execute(query)]

    # --- helpers ---------------------------------------------------------

    def _get(self, conn: Connection, user_id: int) -> User:
        row = conn.execute(select(*_USER_COLUMNS).where(t.users.c.id == user_id)).first()
        if row is None:
            raise NoSuchUser(f"no user with id {user_id}")
        return _user(row)

    def _token(self, conn: Connection, token_id: int) -> ApiToken:
        row = conn.execute(
            select(*_TOKEN_COLUMNS, t.users.c.role.label("user_role"))
            .select_from(t.api_tokens.outerjoin(t.users, t.users.c.id == t.api_tokens.c.user_id))
            .where(t.api_tokens.c.id == token_id)
        ).first()
        if row is None:
            raise LookupError(f"no API token with id {token_id}")
        return _token(row)

    def _revoke_tokens_of(self, conn: Connection, user_id: int, at: datetime) -> int:
        result = conn.execute(
            update(t.api_tokens)
            .where(and_(t.api_tokens.c.user_id == user_id, t.api_tokens.c.revoked_at.is_(None)))
            .values(revoked_at=at)
        )
        return int(result.rowcount)


def _user(r: Any) -> User:
    return User(
        id=r.id,
        username=r.username,
        role=Role(r.role),
        disabled=bool(r.disabled),
        session_version=r.session_version,
        created_at=r.created_at,
        last_login_at=r.last_login_at,
    )


def _token(r: Any) -> ApiToken:
    role = Role(r.role)
    if r.user_role is not None:
        role = lesser_role(role, r.user_role)
    return ApiToken(
        id=r.id,
        name=r.name,
        role=role,
        user_id=r.user_id,
        created_at=r.created_at,
        last_used_at=r.last_used_at,
        revoked_at=r.revoked_at,
    )


def _shown(user: User) -> dict[str, Any]:
    """What the audit log keeps of a user (never the hash)."""
    return {"username": user.username, "role": user.role, "disabled": user.disabled}
