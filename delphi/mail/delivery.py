"""Deliver the outbox: claim due rows, send them over pooled SMTP connections, mark the results.

Claiming (:mod:`delphi.mail.claim`)
    Up to ``batch_size`` due rows at a time, never the same row by two workers; mail to a panellist who has
    left is cancelled, placeholders become the panellist's current links.  The next batch is claimed while
    one is being sent, so the connections never wait for the database.

Sending (here)
    The claimed rows are shared by ``pool_size`` lanes, each sending one message at a time on its own reused
    connection.  Headers are added (Message-ID stable per row, Date, List-Unsubscribe for panellist mail,
    Auto-Submitted); ``From`` is ``DELPHI_MAIL_FROM``, under a discreet panel's neutral name for its panellists'
    mail (:attr:`~delphi.mail.claim.Ready.sender_name`).

Marking (:mod:`delphi.mail.marking`)
    Results are written in small transactions every :data:`MARK_EVERY` messages, so progress survives a
    cancellation or a crash: a message is sent again only if it was sent but its mark had not committed yet
    (at-least-once, duplicates bounded by the batch in flight).  Failures are retried with backoff, then
    dead-lettered; bounces mark the panellist and tell the facilitators.

Nothing logged here holds a link, a token or a body: log lines name outbox ids and dedupe keys.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from delphi.db.engine import make_sessionmaker
from delphi.db.models import utcnow
from delphi.mail.claim import LEASE, Ready, claim
from delphi.mail.compose import (
    ComposeError,
    compose,
    envelope_address,
    sender_domain,
    stable_message_id,
    with_display_name,
)
from delphi.mail.marking import RELEASED, DeliveryReport, Ledger, Result, mark
from delphi.mail.smtp import REJECTED, TEMPORARY, UNREACHABLE, Failure, SendFailed, SmtpPool
from delphi.security import derive_key
from delphi.settings import Settings

log = logging.getLogger("delphi.mail")

#: Results are committed after this many messages (per delivery run, across lanes).
MARK_EVERY = 50

_Claimed = tuple[list[Ready], int]


def new_worker_id() -> str:
    """``host:pid:random`` naming one delivery process in ``claimed_by``."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{secrets.token_hex(3)}"


@dataclass(slots=True)
class _Run:
    """One delivery run: where results go (``ledger``) and the state its lanes and marker share."""

    ledger: Ledger
    worker_id: str
    lease: timedelta
    pending: list[Result] = field(default_factory=list)
    #: Set by a lane when :data:`MARK_EVERY` results are pending, and when the last lane is done.
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    lanes_done: bool = False
    down: Failure | None = None
    #: Event-loop time after which lanes take no new message (half the lease: no other worker may think the
    #: batch abandoned while it is still being sent).
    deadline: float = float("inf")

    @property
    def report(self) -> DeliveryReport:
        return self.ledger.report


# -- send ----------------------------------------------------------------------------------------------------


async def _marker(run: _Run) -> None:
    """Write pending results in chunks of :data:`MARK_EVERY` while the lanes send; everything once they are done.

    Runs beside the lanes, so a lane never waits for the database.
    """
    while True:
        await run.wake.wait()
        run.wake.clear()
        while run.pending and (run.lanes_done or len(run.pending) >= MARK_EVERY):
            results, run.pending = run.pending, []
            await mark(run.ledger, results)
        if run.lanes_done and not run.pending:
            return


async def _lane(run: _Run, pool: SmtpPool, lane: int, queue: deque[Ready], key: bytes) -> None:
    mail = run.ledger.settings.mail
    envelope_from = envelope_address(mail.sender)
    domain = sender_domain(mail.sender)
    loop = asyncio.get_running_loop()
    while queue and run.down is None and loop.time() < run.deadline:
        item = queue.popleft()
        try:
            data = compose(
                sender=with_display_name(mail.sender, item.sender_name),
                to=item.to,
                subject=item.subject,
                text=item.text,
                html=item.html,
                message_id=stable_message_id(key, item.dedupe_key, domain),
                date=run.ledger.clock(),
                extra_headers=item.headers,
            )
        except ComposeError as exc:
            run.pending.append(Result(item, Failure(REJECTED, 0, str(exc))))
            continue
        try:
            await pool.send(lane, envelope_from, item.to, data)
        except SendFailed as exc:
            failure = exc.failure
            if failure.kind == UNREACHABLE:
                run.down = failure
                failure = Failure(TEMPORARY, failure.code, failure.text)
            else:
                log.info("mail %d (%s) not sent: %s %d", item.id, item.dedupe_key, failure.kind, failure.code)
            run.pending.append(Result(item, failure))
        else:
            run.pending.append(Result(item))
        if len(run.pending) >= MARK_EVERY:
            run.wake.set()


async def _send_batch(run: _Run, pool: SmtpPool, batch: list[Ready], key: bytes) -> None:
    """Send ``batch`` over the pool's lanes and write every result before returning.

    A batch still sending after half the lease (a very slow or hanging server) stops: what was not tried is
    given back at once, so another worker never re-claims messages this one is still sending.
    """
    queue = deque(batch)
    run.lanes_done = False
    run.wake.clear()
    run.deadline = asyncio.get_running_loop().time() + run.lease.total_seconds() / 2
    async with asyncio.TaskGroup() as group:
        group.create_task(_marker(run))
        lanes = [
            group.create_task(_lane(run, pool, lane, queue, key))
            for lane in range(min(pool.size, len(batch)))
        ]
        await asyncio.wait(lanes)
        if queue:
            # Server unreachable, or out of time: put back what was never tried, without counting an attempt.
            _defer(run, list(queue))
            queue.clear()
        run.lanes_done = True
        run.wake.set()


def _defer(run: _Run, items: list[Ready]) -> None:
    """Queue ``items`` again without counting an attempt (claimed, never tried): after the retry delay when the
    server is down, at once otherwise (another worker may take them).
    """
    failure = run.down or Failure(RELEASED, 0, "given back untried (the worker stopped or ran out of time)")
    run.pending.extend(Result(item, failure, attempted=False) for item in items)


# -- claim ahead, release --------------------------------------------------------------------------------------


async def _claim_batch(run: _Run) -> _Claimed:
    settings = run.ledger.settings
    async with run.ledger.engine.begin() as conn:
        return await claim(
            conn,
            settings,
            now=run.ledger.clock(),
            worker_id=run.worker_id,
            limit=max(1, settings.mail.batch_size),
            lease=run.lease,
        )


async def _release(run: _Run, task: asyncio.Task[_Claimed] | None) -> None:
    """Give back a batch claimed ahead that will not be sent in this run (stop, server down)."""
    if task is None:
        return
    batch, cancelled = await task
    run.report.cancelled += cancelled
    if batch:
        run.report.claimed += len(batch)
        _defer(run, batch)
        await mark(run.ledger, run.pending)
        run.pending = []


async def _batches(
    run: _Run, pool: SmtpPool, key: bytes, max_batches: int | None, stop: asyncio.Event | None
) -> None:
    """Claim and send batches until none is due, ``max_batches`` were sent, ``stop`` is set or the server is
    down (then ``report.unreachable`` says why and the pool's connections are dropped)."""
    ahead: asyncio.Task[_Claimed] | None = None
    try:
        if stop is None or not stop.is_set():
            ahead = asyncio.create_task(_claim_batch(run))
        concurrent = False  # was ``ahead`` claimed while a batch was being sent?
        while ahead is not None:
            batch, cancelled = await ahead
            ahead = None
            if not batch and not cancelled and concurrent:
                # Sending may have queued more (notices of bounces): look once more now that it is done.
                batch, cancelled = await _claim_batch(run)
            run.report.cancelled += cancelled
            if not batch and not cancelled:
                break
            run.report.batches += 1
            run.report.claimed += len(batch)
            if max_batches is None or run.report.batches < max_batches:
                # Claim the next batch while this one is sent, so the connections never wait for the database.
                ahead = asyncio.create_task(_claim_batch(run))
                concurrent = bool(batch)
            if batch:
                log.debug("mail batch of %d claimed by %s", len(batch), run.worker_id)
                await _send_batch(run, pool, batch, key)
            if run.down is not None or (stop is not None and stop.is_set()):
                await _release(run, ahead)
                ahead = None
            if run.down is not None:
                _server_down(run, pool)
                break
    except BaseException:
        if ahead is not None:
            ahead.cancel()  # a batch claimed ahead is claimed again once its lease expires
        pool.abort()
        raise


def _server_down(run: _Run, pool: SmtpPool) -> None:
    assert run.down is not None
    mail = run.ledger.settings.mail
    run.report.unreachable = run.down.describe()
    log.warning(
        "mail server %s:%d unreachable (%s); will retry later", mail.host, mail.port, run.down.describe()
    )
    pool.abort()


async def deliver_due(
    settings: Settings,
    engine: AsyncEngine,
    *,
    now: datetime | None = None,
    pool: SmtpPool | None = None,
    worker_id: str | None = None,
    max_batches: int | None = None,
    stop: asyncio.Event | None = None,
    lease: timedelta = LEASE,
) -> DeliveryReport:
    """Deliver due mail in batches of ``settings.mail.batch_size`` until none is due (or ``max_batches``).

    Parameters
    ----------
    now
        The time the run acts at (default: the clock, read at each step).  Tests pass a later time to make
        retries and expired leases due.
    pool
        Connections to reuse (the worker keeps one across ticks); a run without one opens and closes its own.
    stop
        When set, the run stops after the current batch (a graceful shutdown).

    Stops early when the SMTP server cannot be reached (``report.unreachable`` says why): untried rows go back
    to the queue for later without counting an attempt.  Cancelling the run closes the pool's connections;
    what was marked stays marked, the rest is claimed again once its lease has expired.
    """
    clock: Callable[[], datetime] = (lambda: now) if now is not None else utcnow
    ledger = Ledger(
        settings=settings,
        engine=engine,
        sessions=make_sessionmaker(engine),
        clock=clock,
        report=DeliveryReport(),
    )
    run = _Run(ledger=ledger, worker_id=worker_id or new_worker_id(), lease=lease)
    own_pool = pool is None
    pool = pool or SmtpPool(settings.mail)
    try:
        await _batches(run, pool, derive_key(settings.secret_key, "message-id"), max_batches, stop)
    finally:
        if own_pool:
            await pool.close()
    if run.report.claimed or run.report.cancelled:
        log.info(
            "mail delivered: %s",
            ", ".join(f"{k} {v}" for k, v in run.report.as_dict().items() if v and k != "unreachable"),
        )
    return run.report
