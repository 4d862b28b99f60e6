"""Passwords, roles, API tokens, the user repository (both databases) and
the `statuspage user` commands."""

from __future__ import annotations

import hashlib
from dataclasses import fields
from datetime import timedelta
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from click.testing import CliRunner
from werkzeug.security import generate_password_hash

from statuspage import audit, auth
from statuspage.auth import Role, can, verify_password
from statuspage.cli import main
from statuspage.config import load_config
from statuspage.store import Store
from statuspage.store.users import User, UsernameTaken, UserRepository
from tests.conftest import FakeClock

PASSWORD = "correct horse battery staple"


# --- passwords --------------------------------------------------------------


def test_passwords_are_hashed_with_argon2id_and_verify() -> None:
    stored = auth.hash_password(PASSWORD)
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored
    assert verify_password(stored, PASSWORD) == auth.Verification(True, None)
    assert verify_password(stored, PASSWORD + "!") == auth.Verification(False)
    assert auth.hash_password(PASSWORD) != stored  # salted


def test_a_hash_with_old_parameters_is_replaced_on_login() -> None:
    old = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    result = verify_password(old, PASSWORD)
    assert result.ok and result.new_hash is not None
    assert result.new_hash.startswith("$argon2id$") and "m=19456,t=2,p=1" in result.new_hash
    assert verify_password(result.new_hash, PASSWORD) == auth.Verification(True, None)
    assert verify_password(old, "wrong password!!") == auth.Verification(False)


@pytest.mark.parametrize("method", ["pbkdf2:sha256:1000", "scrypt"])
def test_a_legacy_werkzeug_hash_verifies_and_is_upgraded(method: str) -> None:
    legacy = generate_password_hash(PASSWORD, method=method)
    result = verify_password(legacy, PASSWORD)
    assert result.ok and result.new_hash is not None and result.new_hash.startswith("$argon2id$")
    assert verify_password(legacy, "not the password") == auth.Verification(False)


@pytest.mark.parametrize("stored", ["", "garbage", "$argon2id$v=19$broken", "md5:abc"])
def test_a_broken_hash_refuses_without_raising(stored: str) -> None:
    assert verify_password(stored, PASSWORD) == auth.Verification(False)


class CountingHasher(PasswordHasher):
    def __init__(self) -> None:
        super().__init__(time_cost=2, memory_cost=19 * 1024, parallelism=1)
        self.verifications = 0

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:
        self.verifications += 1
        return super().verify(hash, password)


def test_an_unknown_user_costs_one_verification_like_a_known_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    hasher = CountingHasher()
    monkeypatch.setattr(auth, "HASHER", hasher)
    monkeypatch.setattr(auth, "_dummy_hash", None)
    stored = auth.hash_password(PASSWORD)
    assert verify_password(stored, "wrong password!") == auth.Verification(False)
    assert hasher.verifications == 1
    assert verify_password(None, PASSWORD) == auth.Verification(False)
    assert hasher.verifications == 2
    # An absurdly long password is refused at the same cost, not hashed in full.
    assert verify_password(stored, "x" * 100_000) == auth.Verification(False)
    assert hasher.verifications == 3


def test_password_rules() -> None:
    assert auth.password_problem("a" * 11) == "must be at least 12 characters"
    assert auth.password_problem("a" * 12) is None
    assert auth.password_problem("x" * 1025) == "must be at most 1024 characters"
    assert auth.password_problem("Alice.Example", "alice.example") == "must not be the username"
    assert len(auth.generate_password()) >= 24
    assert auth.generate_password() != auth.generate_password()


@pytest.mark.parametrize("name", ["alice", "a", "bob.smith", "ops-1", "me@acme.example"])
def test_good_usernames(name: str) -> None:
    assert auth.username_problem(name) is None


@pytest.mark.parametrize("name", ["", "Alice", "-x", "a b", "a/b", "x" * 65, "<script>"])
def test_bad_usernames(name: str) -> None:
    assert auth.username_problem(name) is not None


# --- roles ----------------------------------------------------------------


def test_roles_are_ordered_admin_over_editor_over_viewer() -> None:
    assert can(Role.ADMIN, "users.manage") and can("admin", "incidents.edit")
    assert can(Role.EDITOR, "incidents.edit") and can("editor", "maintenance.edit")
    assert not can(Role.EDITOR, "users.manage") and not can("editor", "settings.manage")
    assert not can(Role.EDITOR, "audit.read") and not can(Role.EDITOR, "tokens.manage")
    assert can(Role.VIEWER, "dashboard.view") and not can(Role.VIEWER, "incidents.edit")
    assert not can(Role.ADMIN, "no.such.action")  # unknown actions are refused
    assert auth.lesser_role("admin", "viewer") is Role.VIEWER
    assert auth.at_least("admin", "editor") and not auth.at_least("viewer", "editor")


# --- API tokens ------------------------------------------------------------


def test_api_tokens_are_long_random_and_stored_as_sha256() -> None:
    token = auth.new_api_token()
    assert token.startswith("sp_") and len(token) >= 3 + 43
    assert token != auth.new_api_token()
    assert auth.hash_api_token(token) == hashlib.sha256(token.encode()).hexdigest()
    assert len(auth.hash_api_token(token)) == 64


# --- the user repository (both databases) ------------------------------------


def test_users_never_carry_a_password_hash() -> None:
    assert "password_hash" not in {f.name for f in fields(User)}


def test_create_get_and_list_users(store: Store, clock: FakeClock) -> None:
    users = UserRepository(store)
    alice = users.create("alice", "admin", auth.hash_password(PASSWORD), actor="cli", at=clock())
    assert alice.role is Role.ADMIN and not alice.disabled and alice.session_version == 1
    assert alice.created_at == clock() and alice.last_login_at is None
    bob = users.create("bob", Role.EDITOR, "$argon2id$x", actor="user:alice", at=clock())
    with pytest.raises(UsernameTaken):
        users.create("alice", "viewer", "$argon2id$y", actor="cli", at=clock())
    assert users.get(alice.id) == alice and users.by_name("bob") == bob
    assert users.get(9999) is None and users.by_name("carol") is None
    assert [u.username for u in users.all()] == ["alice", "bob"]
    assert users.count() == 2 and users.count_active_admins() == 1
    found = users.credentials("alice")
    assert found is not None and found[0] == alice and found[1].startswith("$argon2id$")
    assert users.credentials("carol") is None
    actions = [(e.actor, e.action, e.target_id) for e in audit.recent(store)]
    assert actions == [("user:alice", "user.create", "bob"), ("cli", "user.create", "alice")]


def test_password_change_and_disable_end_sessions_and_revoke_tokens(
    store: Store, clock: FakeClock
) -> None:
    users = UserRepository(store)
    alice = users.create("alice", "editor", "$argon2id$old", actor="cli", at=clock())
    token = users.create_token(
        "ci", "editor", auth.hash_api_token("sp_one"), alice.id, actor="cli", at=clock()
    )
    assert users.token_by_hash(auth.hash_api_token("sp_one")) == token

    clock.advance(60)
    changed = users.set_password(alice.id, "$argon2id$new", actor="user:root", at=clock())
    assert changed.session_version == 2
    assert users.token_by_hash(auth.hash_api_token("sp_one")) is None
    (revoked,) = users.tokens(alice.id)
    assert revoked.revoked_at == clock()
    entry = audit.recent(store, limit=1)[0]
    assert (entry.action, entry.actor, entry.after) == (
        "user.password",
        "user:root",
        {"disabled": False, "role": "editor", "tokens_revoked": 1, "username": "alice"},
    )
    assert "$argon2id$new" not in str(entry)

    users.create_token(
        "ci2", "viewer", auth.hash_api_token("sp_two"), alice.id, actor="cli", at=clock()
    )
    disabled = users.set_disabled(alice.id, True, actor="user:root", at=clock())
    assert disabled.disabled and disabled.session_version == 3
    assert users.token_by_hash(auth.hash_api_token("sp_two")) is None
    enabled = users.set_disabled(alice.id, False, actor="user:root", at=clock())
    assert not enabled.disabled and enabled.session_version == 4
    # Enabling does not bring revoked tokens back.
    assert users.token_by_hash(auth.hash_api_token("sp_two")) is None
    assert [e.action for e in audit.recent(store, limit=2)] == ["user.enable", "user.disable"]


def test_a_token_never_has_more_rights_than_its_user(store: Store, clock: FakeClock) -> None:
    users = UserRepository(store)
    bob = users.create("bob", "editor", "$argon2id$x", actor="cli", at=clock())
    with pytest.raises(ValueError, match="bob is editor: a token cannot be admin"):
        users.create_token("ci", "admin", "a" * 64, bob.id, actor="cli", at=clock())
    users.create_token("ci", "editor", "b" * 64, bob.id, actor="cli", at=clock())
    users.set_role(bob.id, "viewer", actor="user:root", at=clock())
    token = users.token_by_hash("b" * 64)
    assert token is not None and token.role is Role.VIEWER  # capped now, not at creation
    automation = users.create_token("deploys", "editor", "c" * 64, None, actor="cli", at=clock())
    assert automation.actor == "token:deploys"
    assert users.token_by_hash("c" * 64) == automation


def test_revoke_and_touch_tokens(store: Store, clock: FakeClock) -> None:
    users = UserRepository(store)
    token = users.create_token("ci", "editor", "d" * 64, None, actor="cli", at=clock())
    clock.advance(5)
    users.touch_token(token.id, clock())
    touched = users.token_by_hash("d" * 64)
    assert touched is not None and touched.last_used_at == clock()
    clock.advance(5)
    revoked = users.revoke_token(token.id, actor="user:root", at=clock())
    assert revoked.revoked_at == clock()
    assert users.token_by_hash("d" * 64) is None
    entry = audit.recent(store, limit=1)[0]
    assert entry.action == "token.revoke" and entry.after is not None
    assert "token_hash" not in entry.after and "d" * 64 not in str(entry)


def test_a_login_upgrading_the_hash_keeps_the_session_version(
    store: Store, clock: FakeClock
) -> None:
    users = UserRepository(store)
    alice = users.create("alice", "viewer", "pbkdf2:sha256:1$x$y", actor="cli", at=clock())
    clock.advance(timedelta(minutes=1).total_seconds())
    after = users.record_login(alice.id, at=clock(), ip="192.0.2.1", new_hash="$argon2id$fresh")
    assert after.last_login_at == clock() and after.session_version == 1
    found = users.credentials("alice")
    assert found is not None and found[1] == "$argon2id$fresh"
    entry = audit.recent(store, limit=1)[0]
    assert (entry.action, entry.actor, entry.after) == (
        "user.login",
        "user:alice",
        {"hash_upgraded": True, "ip": "192.0.2.1"},
    )


# --- the CLI ----------------------------------------------------------------


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "statuspage.yaml"
    path.write_text("site:\n  url: https://status.acme.example\n")
    return path


def _repo(config_file: Path) -> tuple[Store, UserRepository]:
    store = Store(load_config(config_file, env={}).database_url())
    return store, UserRepository(store)


def test_user_add_with_a_generated_password_prints_it_once_last(config_file: Path) -> None:
    result = CliRunner().invoke(
        main,
        ["user", "add", "Alice", "--role", "admin", "--generate", "--config", str(config_file)],
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "Created admin alice; log in at https://status.acme.example/admin/login"
    password = lines[-1]
    assert lines[-2] == "The password is shown this once:" and len(password) >= 24
    store, users = _repo(config_file)
    try:
        found = users.credentials("alice")
        assert found is not None and found[0].role is Role.ADMIN
        assert verify_password(found[1], password).ok
    finally:
        store.close()


def test_user_add_prompts_twice_and_insists_on_the_rules(config_file: Path) -> None:
    result = CliRunner().invoke(
        main,
        ["user", "add", "bob", "--config", str(config_file)],
        input=f"short\n{PASSWORD}\n{PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    assert "the password must be at least 12 characters" in result.output
    assert PASSWORD not in result.output  # hidden input
    store, users = _repo(config_file)
    try:
        found = users.credentials("bob")
        assert found is not None and found[0].role is Role.EDITOR
        assert verify_password(found[1], PASSWORD).ok
    finally:
        store.close()

    again = CliRunner().invoke(
        main, ["user", "add", "bob", "--generate", "--config", str(config_file)]
    )
    assert again.exit_code == 1
    assert "a user named bob exists; to change the password: statuspage user set-password bob" in (
        again.output
    )
    bad = CliRunner().invoke(
        main, ["user", "add", "no way", "--generate", "--config", str(config_file)]
    )
    assert bad.exit_code == 2 and "Invalid value for NAME" in bad.output


def test_user_set_password_ends_sessions(config_file: Path) -> None:
    runner = CliRunner()
    runner.invoke(main, ["user", "add", "carol", "--generate", "--config", str(config_file)])
    result = runner.invoke(
        main,
        ["user", "set-password", "carol", "--config", str(config_file)],
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    assert "their sessions and API tokens stopped working" in result.output
    store, users = _repo(config_file)
    try:
        found = users.credentials("carol")
        assert found is not None and found[0].session_version == 2
        assert verify_password(found[1], PASSWORD).ok
        assert [e.action for e in audit.recent(store)] == ["user.password", "user.create"]
        assert {e.actor for e in audit.recent(store)} == {"cli"}
    finally:
        store.close()
    missing = runner.invoke(
        main, ["user", "set-password", "nobody", "--generate", "--config", str(config_file)]
    )
    assert missing.exit_code == 1 and "no user named nobody" in missing.output
