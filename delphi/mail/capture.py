"""The development mail catcher: an SMTP server on loopback (aiosmtpd) that keeps what it receives in memory.

Turned on by ``DELPHI_DEV_MAIL``; the web app starts it in its lifespan and the ``/dev/mail`` page shows the
mails with clickable links.  Nothing is relayed anywhere.  The store is bounded (oldest mails are dropped) and
thread-safe: aiosmtpd runs its own event loop in a thread.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import parsedate_to_datetime
from typing import Any

from aiosmtpd.controller import Controller

from delphi.db.models import utcnow
from delphi.settings import Settings

log = logging.getLogger("delphi.mail")

#: Mails kept; older ones are dropped first.
DEFAULT_CAPACITY = 500


@dataclass(frozen=True, slots=True)
class CapturedMail:
    """One received mail, parsed.  ``headers`` keeps every header in order as ``(name, value)`` pairs."""

    id: int
    received_at: datetime
    envelope_from: str
    envelope_to: tuple[str, ...]
    sender: str
    to: str
    subject: str
    date: datetime | None
    text: str
    html: str
    headers: tuple[tuple[str, str], ...]
    size: int


def parse_mail(mail_id: int, envelope_from: str, envelope_to: list[str], raw: bytes) -> CapturedMail:
    """Parse raw message bytes into a :class:`CapturedMail` (text and HTML parts decoded to ``str``)."""
    message: EmailMessage = BytesParser(policy=policy.default).parsebytes(raw)  # type: ignore[assignment]
    text_part = message.get_body(("plain",))
    html_part = message.get_body(("html",))
    try:
        date = parsedate_to_datetime(str(message["Date"])) if message["Date"] else None
    except (TypeError, ValueError):
        date = None
    return CapturedMail(
        id=mail_id,
        received_at=utcnow(),
        envelope_from=envelope_from,
        envelope_to=tuple(envelope_to),
        sender=str(message.get("From", "")),
        to=str(message.get("To", "")),
        subject=str(message.get("Subject", "")),
        date=date,
        text=text_part.get_content() if text_part is not None else "",  # type: ignore[attr-defined]
        html=html_part.get_content() if html_part is not None else "",  # type: ignore[attr-defined]
        headers=tuple((k, str(v)) for k, v in message.items()),
        size=len(raw),
    )


class MailStore:
    """Received mails, newest first, at most ``capacity`` of them."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        self._mails: deque[CapturedMail] = deque(maxlen=capacity)
        self._lock = threading.Lock()
        self._ids = itertools.count(1)

    def add(self, envelope_from: str, envelope_to: list[str], raw: bytes) -> CapturedMail:
        with self._lock:
            mail = parse_mail(next(self._ids), envelope_from, envelope_to, raw)
            self._mails.appendleft(mail)
        return mail

    def list(self) -> list[CapturedMail]:
        """Every kept mail, newest first."""
        with self._lock:
            return list(self._mails)

    def get(self, mail_id: int) -> CapturedMail | None:
        with self._lock:
            return next((m for m in self._mails if m.id == mail_id), None)

    def clear(self) -> None:
        with self._lock:
            self._mails.clear()

    def __len__(self) -> int:
        return len(self._mails)


class _Handler:
    def __init__(self, store: MailStore) -> None:
        self.store = store

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content
        try:
            mail = self.store.add(envelope.mail_from or "", list(envelope.rcpt_tos), raw)
        except Exception:  # a malformed mail must not stop the catcher
            log.exception("dev mail: could not parse a received message")
            return "451 4.3.0 Could not store the message"
        log.debug("dev mail: captured message %d", mail.id)  # the delivery line counts them
        return "250 OK"


@contextlib.contextmanager
def start_capture_server(settings: Settings, *, capacity: int = DEFAULT_CAPACITY) -> Iterator[MailStore]:
    """Run the catcher on ``127.0.0.1:<dev_capture_port>`` while the block runs; yields its store."""
    store = MailStore(capacity)
    # aiosmtpd logs every connection at INFO ("mail.log"); the worker delivers in bursts, so that would bury the
    # demo's terminal.  Its warnings and errors still show; the messages themselves are on /dev/mail.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    controller = Controller(_Handler(store), hostname="127.0.0.1", port=settings.mail.dev_capture_port)
    controller.start()
    log.info("dev mail: capturing SMTP on 127.0.0.1:%d", settings.mail.dev_capture_port)
    try:
        yield store
    finally:
        controller.stop()
