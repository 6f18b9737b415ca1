"""A real SMTP server for tests (aiosmtpd on 127.0.0.1), never a mock of the sending code.

``smtp_sink`` starts one per test on a free port and collects what it receives.  It can be stopped and started
again on the same port (a server outage), refuse chosen recipients with a temporary 4xx or a permanent 5xx at
RCPT, and slow down each DATA (to cancel a delivery mid-batch).
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from delphi.settings import Settings

HOST = "127.0.0.1"


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now (aiosmtpd cannot bind port 0 and report it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


@dataclass(frozen=True, slots=True)
class Received:
    """One message the sink accepted: the SMTP envelope and the parsed message."""

    envelope_from: str
    rcpt_tos: tuple[str, ...]
    raw: bytes
    message: EmailMessage

    @property
    def to(self) -> str:
        return str(self.message["To"])


class _Handler:
    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any
    ) -> str:
        if address in self.sink.permanent:
            return "550 5.1.1 No such user here"
        if address in self.sink.temporary:
            return "451 4.2.0 Mailbox busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.sink.delay:
            await asyncio.sleep(self.sink.delay)
        raw = envelope.original_content or envelope.content
        message = BytesParser(policy=policy.default).parsebytes(raw)
        with self.sink._lock:
            self.sink.received.append(
                Received(envelope.mail_from, tuple(envelope.rcpt_tos), raw, message)  # type: ignore[arg-type]
            )
        return "250 OK: queued"


class SmtpSink:
    """An aiosmtpd server on ``127.0.0.1:port`` that keeps every message it accepts in :attr:`received`."""

    def __init__(self, port: int | None = None) -> None:
        self.host = HOST
        self.port = port or free_port()
        self.received: list[Received] = []
        #: Recipients answered ``451`` (try later) / ``550`` (no such user) at RCPT.
        self.temporary: set[str] = set()
        self.permanent: set[str] = set()
        #: Seconds each DATA takes (0: answer at once).
        self.delay = 0.0
        self._lock = threading.Lock()
        self._controller: Controller | None = None

    @property
    def running(self) -> bool:
        return self._controller is not None

    def start(self) -> None:
        """Listen (again) on the same port; retries briefly while the old socket is released."""
        if self._controller is not None:
            return
        deadline = time.monotonic() + 5
        while True:
            controller = Controller(_Handler(self), hostname=self.host, port=self.port, ready_timeout=5)
            try:
                controller.start()
            except (OSError, RuntimeError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
                continue
            self._controller = controller
            return

    def stop(self) -> None:
        """Stop listening and drop open connections (an outage)."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def messages(self) -> list[Received]:
        with self._lock:
            return list(self.received)

    def to_addresses(self) -> list[str]:
        """The single envelope recipient of each received message, in order received."""
        return [r.rcpt_tos[0] for r in self.messages()]

    async def wait_for(self, count: int, within: float = 10.0) -> list[Received]:
        """Wait until at least ``count`` messages have arrived (TimeoutError after ``within`` seconds)."""
        async with asyncio.timeout(within):
            while len(self.received) < count:  # noqa: ASYNC110 - the server thread appends; polling is simplest
                await asyncio.sleep(0.005)
        return self.messages()

    def settings_for(self, settings: Settings, **mail_changes: Any) -> Settings:
        """``settings`` with the mail server pointed at this sink (plain SMTP) and ``mail_changes`` applied."""
        mail = replace(settings.mail, host=self.host, port=self.port, tls="none", **mail_changes)
        return settings.with_overrides(mail=mail)


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    """A running aiosmtpd server for one test; stopped afterwards."""
    sink = SmtpSink()
    sink.start()
    try:
        yield sink
    finally:
        sink.stop()
