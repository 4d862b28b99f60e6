"""Statuspage-style ids for incidents, maintenances and their updates."""

from __future__ import annotations

import secrets
import string

ID_ALPHABET = string.ascii_lowercase + string.digits
ID_LENGTH = 12


def new_id() -> str:
    """12 lowercase letters and digits, unguessable: ids appear in public
    URLs, so they must not be enumerable."""
    return "".join(secrets.choice(ID_ALPHABET) for _ in range(ID_LENGTH))
