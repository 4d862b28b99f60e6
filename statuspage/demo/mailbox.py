"""The demo's mail server: a local SMTP sink on loopback that keeps each
mail it receives as an `.eml` file (open it with any mail program), so a
newcomer can subscribe, confirm and unsubscribe without a real mail
account. It accepts any recipient and relays nothing."""

from __future__ import annotations

import itertools
import logging
import os
import socket
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

log = logging.getLogger(__name__)
# aiosmtpd logs every connection at INFO: noise in the demo's terminal.
logging.getLogger("mail.log").setLevel(logging.WARNING)

MAIL_DIR = "mail"
HOST = "127.0.0.1"
SENDER = "Demo Status <status@demo.example>"


class _Saver:
    """aiosmtpd's handler: write each message to its own file, atomically."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._numbers = itertools.count(1)
        self._lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self._lock:
            number = next(self._numbers)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        name = f"{stamp}-{os.getpid()}-{number:04d}.eml"
        temporary = self.folder / f".{name}.tmp"
        temporary.write_bytes(envelope.original_content or b"")
        os.replace(temporary, self.folder / name)  # a reader never sees half a mail
        log.info("demo mailbox: saved %s for %s", name, ", ".join(envelope.rcpt_tos))
        return "250 Saved in the demo mailbox"


class DemoMailbox:
    """`start()` listens on a free loopback port; `folder` holds the mails."""

    def __init__(self, directory: Path) -> None:
        self.folder = Path(directory) / MAIL_DIR
        self.port = 0
        self._controller: Controller | None = None

    def start(self) -> DemoMailbox:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.port = _free_port()
        self._controller = Controller(_Saver(self.folder), hostname=HOST, port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def settings(self) -> dict[str, Any]:
        """The `notifications.email` section that sends here."""
        return {"host": HOST, "port": self.port, "security": "none", "from": SENDER}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])
