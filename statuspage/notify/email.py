"""The email channel: one mail per delivery, over SMTP.

Each mail has a plain-text and an HTML part, the subscriber's manage and
unsubscribe links in its footer, and the headers mail providers expect of
a list: `List-Id`, `List-Unsubscribe` with the one-click POST of RFC 8058
(the link uses `site.url`, which must be https in production), and
`Auto-Submitted`. `Message-ID` is made from the delivery's id, so a mail
sent twice (a worker died between sending and recording it) carries the
same id and a mail reader shows it once.

Every header value goes through `one_line`: CR, LF and other control
characters in an incident title become spaces, so a title can never add a
header (MAIL-12).

Failures are sorted into "try again later" and "never again for this
address". Only a refusal of this one recipient (SMTP 5xx on RCPT, with an
address or mailbox status when the server gives one) is permanent; a
problem of the server as a whole (login refused, sender refused, relaying
denied, 4xx, connection refused, timeouts, TLS errors) is retried, so an
outage of the mail server never disables a subscriber.
"""

from __future__ import annotations

import logging
import re
import smtplib
import socket
import ssl
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime
from urllib.parse import urlsplit

from statuspage.clock import Clock, utc_now
from statuspage.config import Config
from statuspage.notify.channel import Links, Outcome
from statuspage.notify.email_content import (
    MailContent,
    confirmation_content,
    html_part,
    mail_content,
    one_line,
    text_part,
)
from statuspage.notify.settings import EmailSettings
from statuspage.store.outbox import EventKind, Task
from statuspage.store.subscribers import Subscriber

log = logging.getLogger(__name__)

# An enhanced status code (RFC 3463) at the start of a reply: `5.1.1`.
_ENHANCED = re.compile(r"^\s*([245])\.(\d{1,3})\.(\d{1,3})\b")
# Reply codes that refuse one recipient, when the server gives no enhanced
# status: mailbox unavailable, not local, name not allowed, domain does not
# accept mail.
_RECIPIENT_CODES = frozenset({550, 551, 553, 521, 556})
# Without an enhanced status, these words mean the server refused us, not
# the recipient ("550 relaying denied", "550 authentication required").
_SERVER_WORDS = re.compile(r"relay|auth|sender|spam|policy|blocked|rate|too many", re.IGNORECASE)


class EmailChannel:
    """Sends through the SMTP server of `notifications.email`."""

    def __init__(self, config: Config, clock: Clock = utc_now) -> None:
        if config.notifications.email is None:
            raise ValueError("notifications.email is not configured")
        self.config = config
        self.settings: EmailSettings = config.notifications.email
        self.clock = clock
        host = urlsplit(config.site.url).hostname or "localhost"
        self.id_host = f"[{host}]" if ":" in host else host
        self.list_id = "status." + re.sub(r"[^A-Za-z0-9.-]", "-", host)
        # Looked up once: `socket.getfqdn` can wait on DNS.
        self.local_hostname = socket.getfqdn()

    # --- the Channel interface ------------------------------------------------

    def send(self, task: Task, subscriber: Subscriber, links: Links) -> Outcome:
        try:
            recipient = Address(addr_spec=subscriber.address)
        except (ValueError, IndexError) as exc:
            return Outcome.permanent(f"not a usable mail address: {exc}")
        if not subscriber.address.isascii():
            return Outcome.permanent("an address with non-ASCII characters needs SMTPUTF8")
        try:
            message = self.compose(task, recipient, links)
        except Exception as exc:  # a document we cannot write from: a bug, not the recipient
            log.exception("cannot write the mail for delivery %s", task.delivery_id)
            return Outcome.retry(f"cannot write the mail: {type(exc).__name__}: {exc}")
        return self.transmit(message, recipient.addr_spec)

    # --- writing ----------------------------------------------------------------

    def compose(self, task: Task, recipient: Address, links: Links) -> EmailMessage:
        """The mail for one delivery (without sending it)."""
        content = self.content(task, links)
        page_status = str((task.document.get("page") or {}).get("status_description") or "")
        message = EmailMessage(policy=SMTP_POLICY)
        message["From"] = self.settings.sender()
        message["To"] = recipient
        if self.settings.reply_to:
            message["Reply-To"] = one_line(self.settings.reply_to, 400)
        message["Subject"] = one_line(f"[{self.config.site.title}] {content.subject}")
        message["Date"] = format_datetime(self.clock())
        message["Message-ID"] = f"<{task.message_id}@{self.id_host}>"
        message["Auto-Submitted"] = "auto-generated"
        message["X-Auto-Response-Suppress"] = "OOF, AutoReply"
        if content.list_mail:
            message["List-Id"] = f"{_phrase(self.config.site.title)} <{self.list_id}>"
            message["List-Unsubscribe"] = f"<{links.unsubscribe}>"
            message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        # Quoted-printable: 7-bit clean whatever the server's 8BITMIME says.
        message.set_content(
            text_part(self.config, content, links, page_status), cte="quoted-printable"
        )
        message.add_alternative(
            html_part(self.config, content, links, page_status),
            subtype="html",
            cte="quoted-printable",
        )
        return message

    def content(self, task: Task, links: Links) -> MailContent:
        if task.event_kind is EventKind.SUBSCRIBER_CONFIRM:
            if links.confirm is None:
                raise ValueError("the subscriber has no confirmation link")
            return confirmation_content(self.config, links)
        return mail_content(self.config, task.event_kind, task.document)

    # --- sending ----------------------------------------------------------------

    def transmit(self, message: EmailMessage, recipient: str) -> Outcome:
        """Hand the mail to the SMTP server; never raises."""
        try:
            with self._connect() as smtp:
                if self.settings.username:
                    password = self.settings.password
                    smtp.login(
                        self.settings.username,
                        password.get_secret_value() if password is not None else "",
                    )
                smtp.send_message(
                    message, from_addr=self.settings.sender().addr_spec, to_addrs=[recipient]
                )
        except Exception as exc:
            outcome = classify(exc, self._where())
            log.info("mail to subscriber not sent (%s): %s", outcome.result.value, outcome.detail)
            return outcome
        return Outcome.sent()

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        timeout = s.timeout.total_seconds()
        port = s.effective_port()
        if s.security == "tls":
            return smtplib.SMTP_SSL(
                s.host,
                port,
                local_hostname=self.local_hostname,
                timeout=timeout,
                context=self._tls_context(),
            )
        smtp = smtplib.SMTP(s.host, port, local_hostname=self.local_hostname, timeout=timeout)
        try:
            if s.security == "starttls":
                smtp.starttls(context=self._tls_context())
                smtp.ehlo()
        except BaseException:
            smtp.close()
            raise
        return smtp

    def _tls_context(self) -> ssl.SSLContext:
        # Verifies the certificate and the host name; a private server's CA
        # may be given as `ca_file`.
        return ssl.create_default_context(cafile=self.settings.ca_file)

    def _where(self) -> str:
        return f"{self.settings.host}:{self.settings.effective_port()}"


def _phrase(text: str) -> str:
    """A display name for `List-Id`, quoted when it holds specials."""
    name = one_line(text, 80)
    if re.fullmatch(r"[A-Za-z0-9 !#$%&'*+/=?^_`{|}~.-]*", name):
        return name
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


# --- sorting failures ---------------------------------------------------------------


def classify(exc: BaseException, where: str) -> Outcome:
    """Retry or give up, from what sending raised. The detail is a short
    line for staff; it never holds the password (smtplib's errors carry the
    server's reply, not what we sent)."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, reply = next(iter(exc.recipients.values()), (0, b""))
        return _refusal(int(code), _text(reply), "recipient refused")
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return Outcome.retry(f"login refused by {where}: {exc.smtp_code} {_text(exc.smtp_error)}")
    if isinstance(exc, smtplib.SMTPSenderRefused):
        return Outcome.retry(f"sender refused by {where}: {exc.smtp_code} {_text(exc.smtp_error)}")
    if isinstance(exc, smtplib.SMTPDataError):
        return _refusal(exc.smtp_code, _text(exc.smtp_error), "message refused")
    if isinstance(exc, smtplib.SMTPResponseException):
        return Outcome.retry(f"{where} answered {exc.smtp_code} {_text(exc.smtp_error)}")
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        if isinstance(exc.__context__, TimeoutError):  # smtplib's wrapping of a read timeout
            return Outcome.retry(f"{where} did not answer in time")
        return Outcome.retry(f"{where} closed the connection: {exc}")
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return Outcome.retry(f"{where} does not support it: {exc}")
    if isinstance(exc, ssl.SSLError | ssl.CertificateError):
        return Outcome.retry(f"TLS with {where} failed: {exc}")
    if isinstance(exc, TimeoutError):
        return Outcome.retry(f"{where} did not answer in time")
    if isinstance(exc, ConnectionRefusedError):
        return Outcome.retry(f"connection to {where} refused")
    if isinstance(exc, OSError | smtplib.SMTPException):
        return Outcome.retry(f"cannot reach {where}: {type(exc).__name__}: {exc}")
    return Outcome.retry(f"{type(exc).__name__}: {exc}")


def is_recipient_refusal(code: int, reply: str) -> bool:
    """Whether an SMTP 5xx says this address will never take our mail,
    rather than that the server refuses us (relaying, login, policy)."""
    if not 500 <= code < 600:
        return False
    enhanced = _ENHANCED.match(reply)
    if enhanced is not None:
        klass, subject, detail = (int(g) for g in enhanced.groups())
        # X.1.x: bad address; X.2.x: mailbox disabled... except 5.2.2,
        # mailbox full, which may clear.
        return klass == 5 and (subject == 1 or (subject == 2 and detail != 2))
    return code in _RECIPIENT_CODES and not _SERVER_WORDS.search(reply)


def _refusal(code: int, reply: str, what: str) -> Outcome:
    detail = f"{what}: {code} {reply}".strip()
    if is_recipient_refusal(code, reply):
        return Outcome.permanent(detail)
    return Outcome.retry(detail)


def _text(reply: bytes | str) -> str:
    if isinstance(reply, bytes):
        reply = reply.decode("utf-8", "replace")
    return one_line(reply, 300)
