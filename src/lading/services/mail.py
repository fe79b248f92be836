"""Notification e-mail (shares, transfer tasks): kept in the outbox, sent when SMTP is set."""

from __future__ import annotations

import logging
import smtplib
import time
from collections.abc import Callable
from email.message import EmailMessage

from lading.concurrency import run_blocking
from lading.metadata.models import OutboxMessage
from lading.metadata.shares import ShareStore
from lading.settings import SmtpSettings

log = logging.getLogger(__name__)


def now_us() -> int:
    return time.time_ns() // 1000


class Mailer:
    """Records every message in the outbox; delivers it when `smtp.host` is set.

    A delivery failure never fails the operation that sent the message: the outbox row
    says "failed" with the SMTP error, for the admin to read.
    """

    def __init__(
        self, store: ShareStore, smtp: SmtpSettings, clock: Callable[[], int] = now_us
    ) -> None:
        self.store = store
        self.smtp = smtp
        self.clock = clock

    async def send(
        self, recipient: str, subject: str, body: str, *, share_id: int | None = None
    ) -> OutboxMessage:
        return await run_blocking(lambda: self.send_blocking(recipient, subject, body, share_id))

    def send_blocking(
        self, recipient: str, subject: str, body: str, share_id: int | None = None
    ) -> OutboxMessage:
        """`send` for code that runs in a thread of its own (the transfer workers)."""
        status, error = "stored", ""
        if self.smtp.host and "@" in recipient:  # "administrators" is read in the outbox
            try:
                self._deliver(recipient, subject, body)
                status = "sent"
            except (OSError, smtplib.SMTPException) as exc:
                log.warning("could not mail %s: %s", recipient, exc)
                status, error = "failed", str(exc) or type(exc).__name__
        return self.store.add_message(
            created_at=self.clock(),
            recipient=recipient,
            subject=subject,
            body=body,
            status=status,
            error=error,
            share_id=share_id,
        )

    def _deliver(self, recipient: str, subject: str, body: str) -> None:
        message = EmailMessage()
        message["From"] = self.smtp.sender
        message["To"] = recipient
        message["Subject"] = subject
        message.set_content(body)
        smtp = self.smtp
        with smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout_seconds) as client:
            if smtp.starttls:
                client.starttls()
            if smtp.user:
                password = smtp.password.get_secret_value() if smtp.password else ""
                client.login(smtp.user, password)
            client.send_message(message)

    async def outbox(self, *, after: int = 0, limit: int = 100) -> list[OutboxMessage]:
        return await run_blocking(lambda: self.store.list_messages(after=after, limit=limit))
