"""A small pool of reused SMTP connections (aiosmtplib) and the classification of what went wrong.

A pool holds ``pool_size`` *lanes*; each lane is one connection, opened on first use, kept open across batches
and worker ticks, and reopened when the server dropped it.  A send on a connection that was already open and
turns out to be dead is retried once on a fresh connection (servers close idle connections).

Outcomes (:class:`Failure.kind`):

* ``temporary`` – a 4xx answer, a timeout or a dropped connection: try again later;
* ``bounce`` – a 5xx answer to the recipient (RCPT): the address is refused for good;
* ``rejected`` – a 5xx answer to the message itself (DATA) or a message that cannot be written: do not retry;
* ``unreachable`` – no connection could be made: the server is down, stop sending for now.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass

import aiosmtplib

from delphi.settings import MailSettings

log = logging.getLogger("delphi.mail")

TEMPORARY = "temporary"
BOUNCE = "bounce"
REJECTED = "rejected"
UNREACHABLE = "unreachable"


@dataclass(frozen=True, slots=True)
class Failure:
    """Why a send failed: ``kind`` (see the module docstring), the SMTP ``code`` (0 if none), a short text."""

    kind: str
    code: int
    text: str

    def describe(self) -> str:
        return f"{self.code} {self.text}".strip() if self.code else self.text


class SendFailed(Exception):
    """Raised by :meth:`SmtpPool.send` with the classified :class:`Failure`."""

    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.describe())
        self.failure = failure


def _short(text: object, limit: int = 300) -> str:
    return " ".join(str(text).split())[:limit]


def classify(exc: BaseException) -> Failure:
    """Map an aiosmtplib (or socket) exception to a :class:`Failure`."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        refused = exc.recipients[0] if exc.recipients else None
        code = refused.code if refused is not None else 0
        text = _short(refused.message if refused is not None else exc)
        return Failure(BOUNCE if 500 <= code < 600 else TEMPORARY, code, text)
    if isinstance(exc, aiosmtplib.SMTPRecipientRefused):
        return Failure(BOUNCE if 500 <= exc.code < 600 else TEMPORARY, exc.code, _short(exc.message))
    if isinstance(exc, aiosmtplib.SMTPConnectError | aiosmtplib.SMTPConnectTimeoutError):
        return Failure(UNREACHABLE, 0, _short(exc))
    if isinstance(
        exc, aiosmtplib.SMTPSenderRefused | aiosmtplib.SMTPAuthenticationError | aiosmtplib.SMTPHeloError
    ):
        # A problem with our own sender or login: never the recipient's fault, so never a bounce.
        return Failure(TEMPORARY, exc.code, _short(exc.message))
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return Failure(REJECTED if 500 <= exc.code < 600 else TEMPORARY, exc.code, _short(exc.message))
    if isinstance(exc, aiosmtplib.SMTPException | OSError | asyncio.TimeoutError):
        return Failure(TEMPORARY, 0, _short(f"{type(exc).__name__}: {exc}"))
    return Failure(TEMPORARY, 0, _short(f"{type(exc).__name__}: {exc}"))


def _dropped(exc: BaseException) -> bool:
    """True when the connection is unusable afterwards (the lane must reconnect)."""
    if isinstance(exc, aiosmtplib.SMTPServerDisconnected | aiosmtplib.SMTPTimeoutError | OSError):
        return True
    return isinstance(exc, aiosmtplib.SMTPResponseException) and exc.code == 421


class SmtpPool:
    """``settings.pool_size`` reusable connections to the configured SMTP server.

    Honours the TLS mode (``none``, ``starttls``, ``tls``) and logs in when a user is configured.  Not safe
    for two coroutines on one lane at once: :mod:`delphi.mail.delivery` gives each lane to one coroutine.
    """

    def __init__(self, mail: MailSettings, *, timeout: float = 30.0) -> None:
        self.mail = mail
        self.size = max(1, mail.pool_size)
        self.timeout = timeout
        self._lanes: list[aiosmtplib.SMTP | None] = [None] * self.size

    def _client(self) -> aiosmtplib.SMTP:
        m = self.mail
        return aiosmtplib.SMTP(
            hostname=m.host,
            port=m.port,
            username=m.user,
            password=m.password,
            use_tls=m.tls == "tls",
            start_tls=m.tls == "starttls",
            timeout=self.timeout,
        )

    async def _connect(self, lane: int) -> aiosmtplib.SMTP:
        client = self._client()
        try:
            await client.connect()
        except aiosmtplib.SMTPException as exc:
            client.close()
            failure = classify(exc)
            kind = UNREACHABLE if failure.kind in (TEMPORARY, UNREACHABLE) else failure.kind
            raise SendFailed(Failure(kind, failure.code, failure.text)) from exc
        except (TimeoutError, OSError) as exc:
            client.close()
            raise SendFailed(Failure(UNREACHABLE, 0, _short(f"{type(exc).__name__}: {exc}"))) from exc
        self._lanes[lane] = client
        log.debug("smtp lane %d connected to %s:%d", lane, self.mail.host, self.mail.port)
        return client

    def _drop(self, lane: int) -> None:
        client = self._lanes[lane]
        self._lanes[lane] = None
        if client is not None:
            client.close()

    @staticmethod
    async def _transaction(client: aiosmtplib.SMTP, envelope_from: str, to: str, data: bytes) -> None:
        """MAIL, RCPT, DATA for one recipient; RSET after a refusal so the connection stays usable.

        ``SMTP.sendmail`` does the same but validates both addresses and normalises the whole message once
        more to compute SIZE; ``data`` is already CRLF-normalised, so its length is the SIZE.
        """
        options = [f"SIZE={len(data)}"] if client.supports_extension("size") else []
        try:
            await client.mail(envelope_from, options=options)
            await client.rcpt(to)
            await client.data(data)
        except aiosmtplib.SMTPResponseException:
            with contextlib.suppress(ConnectionError, aiosmtplib.SMTPResponseException):
                await client.rset()
            raise

    async def send(self, lane: int, envelope_from: str, to: str, data: bytes) -> None:
        """Send ``data`` to the single recipient ``to`` on lane ``lane``; raises :class:`SendFailed`."""
        client = self._lanes[lane]
        reused = client is not None and client.is_connected
        if client is None or not reused:
            self._drop(lane)
            client = await self._connect(lane)
        try:
            await self._transaction(client, envelope_from, to, data)
            return
        except (TimeoutError, aiosmtplib.SMTPException, OSError) as exc:
            if _dropped(exc):
                self._drop(lane)
            if not (reused and isinstance(exc, aiosmtplib.SMTPServerDisconnected | ConnectionError)):
                raise SendFailed(classify(exc)) from exc
        # The kept-open connection had been closed by the server: one more try on a fresh one.
        client = await self._connect(lane)
        try:
            await self._transaction(client, envelope_from, to, data)
        except (TimeoutError, aiosmtplib.SMTPException, OSError) as exc:
            if _dropped(exc):
                self._drop(lane)
            raise SendFailed(classify(exc)) from exc

    def abort(self) -> None:
        """Close every connection at once, without QUIT (after a cancellation)."""
        for lane in range(self.size):
            self._drop(lane)

    async def close(self) -> None:
        """Say QUIT on every open connection, then close it."""
        for lane, client in enumerate(self._lanes):
            if client is not None and client.is_connected:
                try:
                    await asyncio.wait_for(client.quit(), timeout=5)
                except (TimeoutError, aiosmtplib.SMTPException, OSError):
                    pass
            self._drop(lane)
