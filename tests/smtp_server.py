"""A real SMTP server on loopback (aiosmtpd) for the mail tests.

It keeps every message it accepts, can be told to refuse recipients or
messages with a given reply (`refuse_rcpt = "550 5.1.1 No such user"`,
for every recipient or, in `refuse_rcpt_for`, for one),
and can be stopped and started again on the same port, to play a mail
server that is down for a while.
"""

from __future__ import annotations

import email
import email.policy
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from tests.support import free_port

SENDER = "Acme Status <status@acme.example>"


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes  # the bytes as they came over the wire (after dot-unstuffing)

    def message(self) -> EmailMessage:
        """Parsed in strict mode: any defect raises."""
        parsed = email.message_from_bytes(self.data, policy=email.policy.strict)
        assert isinstance(parsed, EmailMessage)
        return parsed


class MailSink:
    """The aiosmtpd handler: what was received, and what to refuse."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.refuse_rcpt: str | None = None
        self.refuse_rcpt_for: dict[str, str] = {}  # address -> reply
        self.refuse_data: str | None = None
        self.logins: list[str] = []
        self._lock = threading.Lock()

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if self.refuse_rcpt or address in self.refuse_rcpt_for:
            return self.refuse_rcpt or self.refuse_rcpt_for[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refuse_data:
            return self.refuse_data
        with self._lock:
            self.received.append(
                Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content)
            )
        return "250 Message accepted for delivery"


class SmtpServer:
    def __init__(self, port: int | None = None, **smtp_kwargs: Any) -> None:
        self.host = "127.0.0.1"
        self.port = port or free_port()
        self.sink = MailSink()
        self.smtp_kwargs = smtp_kwargs
        self._controller: Controller | None = None

    @property
    def received(self) -> list[Received]:
        return list(self.sink.received)

    def messages(self) -> list[EmailMessage]:
        return [r.message() for r in self.received]

    def start(self) -> SmtpServer:
        assert self._controller is None, "already running"
        self._controller = Controller(
            self.sink, hostname=self.host, port=self.port, **self.smtp_kwargs
        )
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def settings(self, **more: Any) -> dict[str, Any]:
        """The `notifications.email` section that sends to this server."""
        return {
            "host": self.host,
            "port": self.port,
            "security": "none",
            "from": SENDER,
            "timeout": "5s",
            **more,
        }


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer().start()
    try:
        yield server
    finally:
        server.stop()
