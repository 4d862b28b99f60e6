"""The tokens in subscribers' links, and the sealing of webhook secrets.

Links carry a signed value instead of a stored token, so nothing that opens
a subscription is kept in the database: a confirmation link signs the
subscriber id with a random nonce kept on the row (cleared when used, so
the link works once) and expires; an unsubscribe link signs the id with the
row's `link_version` (bumped when used, so old links stop working).

A webhook's secret must be read back to sign each payload, so it is stored
encrypted (Fernet) under a key derived from the site's secret key.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from datetime import timedelta
from typing import TypeVar

from cryptography.fernet import Fernet, InvalidToken
from itsdangerous import BadSignature, SignatureExpired, URLSafeSerializer, URLSafeTimedSerializer

CONFIRM_SALT = "statuspage.subscriber.confirm"
MANAGE_SALT = "statuspage.subscriber.manage"
SEAL_CONTEXT = b"statuspage.webhook-secret.v1"

T = TypeVar("T")


class LinkError(ValueError):
    """A link that is not ours, was altered, or is out of date."""


class LinkExpired(LinkError):
    """A confirmation link older than its lifetime."""


class LinkSigner:
    def __init__(self, secret_key: str) -> None:
        self._confirm = URLSafeTimedSerializer(secret_key, salt=CONFIRM_SALT)
        self._manage = URLSafeSerializer(secret_key, salt=MANAGE_SALT)

    def confirm_token(self, subscriber_id: str, nonce: str) -> str:
        return self._confirm.dumps([subscriber_id, nonce])

    def read_confirm_token(self, token: str, max_age: timedelta) -> tuple[str, str]:
        try:
            value = self._confirm.loads(token, max_age=int(max_age.total_seconds()))
        except SignatureExpired as exc:
            raise LinkExpired("this confirmation link has expired") from exc
        except BadSignature as exc:
            raise LinkError("this link is not valid") from exc
        return _pair(value, str)

    def manage_token(self, subscriber_id: str, link_version: int) -> str:
        return self._manage.dumps([subscriber_id, link_version])

    def read_manage_token(self, token: str) -> tuple[str, int]:
        try:
            value = self._manage.loads(token)
        except BadSignature as exc:
            raise LinkError("this link is not valid") from exc
        return _pair(value, int)


def _pair(value: object, second: type[T]) -> tuple[str, T]:
    if (
        isinstance(value, list)
        and len(value) == 2
        and isinstance(value[0], str)
        and isinstance(value[1], second)
    ):
        return value[0], value[1]
    raise LinkError("this link is not valid")


# --- webhook secrets ------------------------------------------------------------


def new_webhook_secret() -> str:
    """A Standard Webhooks secret: `whsec_` and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def _fernet(secret_key: str) -> Fernet:
    digest = hashlib.sha256(SEAL_CONTEXT + b"\0" + secret_key.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def seal(secret: str, secret_key: str) -> str:
    return _fernet(secret_key).encrypt(secret.encode()).decode()


def unseal(sealed: str, secret_key: str) -> str:
    """The webhook secret; raises LinkError when the site's key changed
    since it was sealed (staff must then give the webhook a new secret)."""
    try:
        return _fernet(secret_key).decrypt(sealed.encode()).decode()
    except InvalidToken as exc:
        raise LinkError("the webhook secret cannot be read with this secret key") from exc
