"""Deliver the outbox: claim due rows, send them over pooled SMTP connections, mark the results.

Claiming
    One statement marks up to ``batch_size`` due rows ``sending`` (with ``claimed_by``/``claimed_at``) and
    returns them: ``UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED) RETURNING ...`` on PostgreSQL,
    so any number of workers never claim the same row; SQLite ignores the locking clause and serialises
    writers instead.  A row is due when it is ``queued`` with ``next_attempt_at <= now``, or ``sending`` with
    a claim older than :data:`LEASE` (a worker died with it in flight).  In the same short transaction, mail
    to a panellist who has withdrawn or been erased is cancelled, and the panellist's current address and link
    version are read.

Sending
    The claimed rows are shared by ``pool_size`` lanes, each sending one message at a time on its own reused
    connection.  Placeholders become the panellist's links (from the *current* ``session_version``), headers
    are added (Message-ID stable per row, Date, List-Unsubscribe for panellist mail, Auto-Submitted).

Marking
    Results are written in small transactions every :data:`MARK_EVERY` messages, so progress survives a
    cancellation or a crash: a message is sent again only if it was sent but its mark had not committed yet
    (at-least-once, duplicates bounded by the batch in flight).  Temporary failures go back to ``queued`` with
    exponential backoff (:func:`retry_delay`) until ``max_attempts``, then ``dead``; a 5xx on the recipient
    makes the row ``dead``, the panellist ``bounced``, writes an audit event and tells the facilitators.

Nothing logged here holds a link, a token or a body: log lines name outbox ids and dedupe keys.
"""

from __future__ import annotations

import asyncio
import html
import logging
import os
import random
import secrets
import socket
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from delphi import audit
from delphi.db.engine import make_sessionmaker
from delphi.db.models import OutboxMessage, Panellist, utcnow
from delphi.domain import SYSTEM, OutboxStatus, PanellistStatus
from delphi.mail.compose import ComposeError, compose, envelope_address, sender_domain, stable_message_id
from delphi.mail.kinds import FACILITATOR_NOTICE
from delphi.mail.notices import notify_bounce, notify_dead
from delphi.mail.outbox import LINK_PLACEHOLDER, WITHDRAW_PLACEHOLDER
from delphi.mail.smtp import BOUNCE, REJECTED, TEMPORARY, UNREACHABLE, Failure, SendFailed, SmtpPool
from delphi.security import derive_key, panellist_token
from delphi.settings import Settings

log = logging.getLogger("delphi.mail")

#: A ``sending`` row whose claim is older than this is claimed again (its worker is presumed dead).
LEASE = timedelta(minutes=5)
#: First retry delay in seconds; doubled per attempt, capped by :data:`RETRY_CAP_S`, with ±20% jitter.
RETRY_BASE_S = 30.0
RETRY_CAP_S = 3600.0
#: Results are committed after this many messages (per delivery run, across lanes).
MARK_EVERY = 50
#: Failure kind of a claimed row given back untried (the worker is stopping, or its batch ran out of time).
RELEASED = "released"

_T = OutboxMessage.__table__
_P = Panellist.__table__
_CLAIM_COLUMNS = (
    _T.c.id,
    _T.c.dedupe_key,
    _T.c.kind,
    _T.c.panel_id,
    _T.c.panellist_id,
    _T.c.to_address,
    _T.c.subject,
    _T.c.body_text,
    _T.c.body_html,
    _T.c.headers,
    _T.c.attempts,
)


def retry_delay(attempts: int, *, rng: Callable[[], float] = random.random) -> timedelta:
    """Wait before the next try after ``attempts`` failed tries.

    ``RETRY_BASE_S * 2**attempts`` seconds, at most :data:`RETRY_CAP_S`, times a jitter factor in [0.8, 1.2) so
    the retries of one batch spread out: 48-72 s after the first failure, then 96-144 s, ... up to about an hour.
    """
    seconds = min(RETRY_CAP_S, RETRY_BASE_S * 2 ** max(0, attempts))
    return timedelta(seconds=seconds * (0.8 + 0.4 * rng()))


def new_worker_id() -> str:
    """``host:pid:random`` naming one delivery process in ``claimed_by``."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{secrets.token_hex(3)}"


@dataclass(slots=True)
class DeliveryReport:
    """Counts of one delivery run (messages)."""

    claimed: int = 0
    sent: int = 0
    retried: int = 0
    deferred: int = 0
    dead: int = 0
    bounced: int = 0
    cancelled: int = 0
    batches: int = 0
    #: Set when the SMTP server could not be reached (the run stopped early).
    unreachable: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(slots=True)
class _Ready:
    """A claimed row, ready to send: links filled in, headers known."""

    id: int
    dedupe_key: str
    kind: str
    panel_id: int | None
    panellist_id: int | None
    pseudonym: str | None
    to: str
    subject: str
    text: str
    html: str
    headers: dict[str, str]
    attempts: int


@dataclass(slots=True)
class _Result:
    item: _Ready
    failure: Failure | None = None  # None: sent
    attempted: bool = True


@dataclass(slots=True)
class _Run:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    clock: Callable[[], datetime]
    report: DeliveryReport
    pending: list[_Result] = field(default_factory=list)
    #: Set by a lane when :data:`MARK_EVERY` results are pending, and when the last lane is done.
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    lanes_done: bool = False
    down: Failure | None = None
    #: Event-loop time after which lanes take no new message (half the lease: no other worker may think the
    #: batch abandoned while it is still being sent).
    deadline: float = float("inf")


# -- claim ---------------------------------------------------------------------------------------------------


def _due(now: datetime, lease: timedelta) -> Any:
    return or_(
        and_(_T.c.status == OutboxStatus.QUEUED.value, _T.c.next_attempt_at <= now),
        and_(_T.c.status == OutboxStatus.SENDING.value, _T.c.claimed_at < now - lease),
    )


def _fill(text: str, link: str, withdraw: str) -> str:
    if LINK_PLACEHOLDER in text:
        text = text.replace(LINK_PLACEHOLDER, link)
    if WITHDRAW_PLACEHOLDER in text:
        text = text.replace(WITHDRAW_PLACEHOLDER, withdraw)
    return text


def _has_placeholder(*texts: str) -> bool:
    return any(p in t for t in texts for p in (LINK_PLACEHOLDER, WITHDRAW_PLACEHOLDER))


async def claim(
    session: AsyncConnection | AsyncSession,
    settings: Settings,
    *,
    now: datetime,
    worker_id: str,
    limit: int,
    lease: timedelta = LEASE,
) -> tuple[list[_Ready], int]:
    """Claim up to ``limit`` due rows in the caller's transaction (``session`` or connection; commit at once).

    Returns the rows ready to send (sorted by id) and the number cancelled because their panellist withdrew or
    was erased (or deleted).
    """
    due_ids = (
        select(_T.c.id)
        .where(_due(now, lease))
        .order_by(_T.c.next_attempt_at, _T.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    rows = (
        await session.execute(
            update(_T)
            .where(_T.c.id.in_(due_ids.scalar_subquery()))
            .values(status=OutboxStatus.SENDING.value, claimed_by=worker_id, claimed_at=now)
            .returning(*_CLAIM_COLUMNS)
        )
    ).all()
    if not rows:
        return [], 0
    rows.sort(key=lambda r: r.id)
    people: dict[int, Any] = {}
    pids = sorted({r.panellist_id for r in rows if r.panellist_id is not None})
    if pids:
        found = await session.execute(
            select(_P.c.id, _P.c.status, _P.c.email, _P.c.session_version, _P.c.pseudonym).where(
                _P.c.id.in_(pids)
            )
        )
        people = {p.id: p for p in found}
    ready: list[_Ready] = []
    cancel: list[int] = []
    readdress: list[dict[str, Any]] = []
    base = settings.base_url
    for r in rows:
        link = withdraw = ""
        pseudonym = None
        to = r.to_address
        headers = dict(r.headers or {})
        if r.panellist_id is not None:
            p = people.get(r.panellist_id)
            if p is None or p.email is None or p.status == PanellistStatus.WITHDRAWN.value:
                cancel.append(r.id)
                continue
            token = panellist_token(settings.secret_key, p.id, p.session_version)
            link = f"{base}/p/{token}"
            withdraw = f"{link}/leave"
            pseudonym = p.pseudonym
            if p.email != to:
                readdress.append({"b_id": r.id, "b_to": p.email})
                to = p.email
            headers.setdefault("List-Unsubscribe", f"<{withdraw}>")
            headers.setdefault("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")
        elif _has_placeholder(r.body_text, r.body_html):
            cancel.append(r.id)  # its panellist was deleted: there is no link to put in
            continue
        link_html, withdraw_html = html.escape(link, quote=True), html.escape(withdraw, quote=True)
        ready.append(
            _Ready(
                id=r.id,
                dedupe_key=r.dedupe_key,
                kind=r.kind,
                panel_id=r.panel_id,
                panellist_id=r.panellist_id,
                pseudonym=pseudonym,
                to=to,
                subject=r.subject,
                text=_fill(r.body_text, link, withdraw),
                html=_fill(r.body_html, link_html, withdraw_html),
                headers={k: _fill(str(v), link, withdraw) for k, v in headers.items()},
                attempts=r.attempts,
            )
        )
    if cancel:
        await session.execute(
            update(_T)
            .where(_T.c.id.in_(cancel))
            .values(
                status=OutboxStatus.CANCELLED.value, last_error="Not sent: the panellist has left the panel."
            )
        )
        log.info("mail cancelled %d (panellist withdrawn or erased): ids %s", len(cancel), cancel[:20])
    if readdress:
        await session.execute(
            update(_T).where(_T.c.id == bindparam("b_id")).values(to_address=bindparam("b_to")), readdress
        )
    return ready, len(cancel)


# -- mark ----------------------------------------------------------------------------------------------------


async def _mark(run: _Run, results: list[_Result]) -> None:
    """Write ``results`` in one short transaction (plus one per bounce, which has side effects)."""
    if not results:
        return
    now = run.clock()
    max_attempts = max(1, run.settings.mail.max_attempts)
    sent = [r.item.id for r in results if r.failure is None]
    retry: list[dict[str, Any]] = []
    dead_panels: set[int] = set()
    bounces: list[_Result] = []
    for r in results:
        if r.failure is None:
            continue
        if r.failure.kind == BOUNCE:
            bounces.append(r)
            continue
        attempts = r.item.attempts + (1 if r.attempted else 0)
        error = r.failure.describe() if r.attempted else f"Not attempted: {r.failure.describe()}"
        give_up = r.failure.kind == REJECTED or attempts >= max_attempts
        if give_up:
            status, next_at = OutboxStatus.DEAD.value, now
            run.report.dead += 1
            if r.item.panel_id is not None and r.item.kind != FACILITATOR_NOTICE:
                dead_panels.add(r.item.panel_id)
            log.warning(
                "mail %d (%s) dead after %d attempts: %s",
                r.item.id,
                r.item.dedupe_key,
                attempts,
                r.failure.kind,
            )
        else:
            status = OutboxStatus.QUEUED.value
            next_at = now if r.failure.kind == RELEASED else now + retry_delay(attempts)
            if r.attempted:
                run.report.retried += 1
            else:
                run.report.deferred += 1
        retry.append(
            {
                "b_id": r.item.id,
                "b_status": status,
                "b_attempts": attempts,
                "b_next": next_at,
                "b_error": error,
            }
        )
    # Notices need a session (they render and queue mail); otherwise a bare connection is cheaper.
    if dead_panels:
        async with run.sessions() as session, session.begin():
            await _write_marks(session, sent, retry, now)
            for panel_id in sorted(dead_panels):
                await notify_dead(session, base_url=run.settings.base_url, panel_id=panel_id, now=now)
    else:
        async with run.engine.begin() as conn:
            await _write_marks(conn, sent, retry, now)
    run.report.sent += len(sent)
    for r in bounces:
        await _bounce(run, r, now)


async def _write_marks(
    conn: AsyncConnection | AsyncSession, sent: list[int], retry: list[dict[str, Any]], now: datetime
) -> None:
    if sent:
        await conn.execute(
            update(_T)
            .where(_T.c.id.in_(sent), _T.c.status == OutboxStatus.SENDING.value)
            .values(status=OutboxStatus.SENT.value, sent_at=now, attempts=_T.c.attempts + 1, last_error="")
        )
    if retry:
        await conn.execute(
            update(_T)
            .where(_T.c.id == bindparam("b_id"), _T.c.status == OutboxStatus.SENDING.value)
            .values(
                status=bindparam("b_status"),
                attempts=bindparam("b_attempts"),
                next_attempt_at=bindparam("b_next", type_=_T.c.next_attempt_at.type),
                last_error=bindparam("b_error"),
            ),
            retry,
        )


async def _bounce(run: _Run, result: _Result, now: datetime) -> None:
    """Dead-letter a message refused for good, mark its panellist bounced, audit, tell the facilitators."""
    item, failure = result.item, result.failure
    if failure is None:
        return
    async with run.sessions() as session, session.begin():
        done = await session.execute(
            update(_T)
            .where(_T.c.id == item.id, _T.c.status == OutboxStatus.SENDING.value)
            .values(
                status=OutboxStatus.DEAD.value,
                attempts=_T.c.attempts + 1,
                last_error=f"Refused for good: {failure.describe()}",
            )
        )
        if not done.rowcount:
            return
        if item.panellist_id is not None:
            await session.execute(
                update(_P)
                .where(_P.c.id == item.panellist_id, _P.c.status != PanellistStatus.WITHDRAWN.value)
                .values(status=PanellistStatus.BOUNCED.value, bounced_at=now)
            )
        audit.record(
            session,
            actor=SYSTEM,
            action="mail.bounced",
            panel_id=item.panel_id,
            detail={
                "message_id": item.id,
                "kind": item.kind,
                "pseudonym": item.pseudonym,
                "smtp_code": failure.code,
            },
        )
        if item.panel_id is not None and item.kind != FACILITATOR_NOTICE:
            await notify_bounce(
                session,
                base_url=run.settings.base_url,
                panel_id=item.panel_id,
                message_id=item.id,
                mail_kind=item.kind,
                pseudonym=item.pseudonym,
                reason=failure.describe(),
            )
    run.report.bounced += 1
    run.report.dead += 1
    log.warning("mail %d (%s) bounced: smtp %d", item.id, item.dedupe_key, failure.code)


async def _marker(run: _Run) -> None:
    """Write pending results in chunks of :data:`MARK_EVERY` while the lanes send; everything once they are done.

    Runs beside the lanes, so a lane never waits for the database.
    """
    while True:
        await run.wake.wait()
        run.wake.clear()
        while run.pending and (run.lanes_done or len(run.pending) >= MARK_EVERY):
            results, run.pending = run.pending, []
            await _mark(run, results)
        if run.lanes_done and not run.pending:
            return


# -- send ----------------------------------------------------------------------------------------------------


async def _lane(run: _Run, pool: SmtpPool, lane: int, queue: deque[_Ready], key: bytes) -> None:
    mail = run.settings.mail
    envelope_from = envelope_address(mail.sender)
    domain = sender_domain(mail.sender)
    loop = asyncio.get_running_loop()
    while queue and run.down is None and loop.time() < run.deadline:
        item = queue.popleft()
        try:
            data = compose(
                sender=mail.sender,
                to=item.to,
                subject=item.subject,
                text=item.text,
                html=item.html,
                message_id=stable_message_id(key, item.dedupe_key, domain),
                date=run.clock(),
                extra_headers=item.headers,
            )
        except ComposeError as exc:
            run.pending.append(_Result(item, Failure(REJECTED, 0, str(exc))))
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
            run.pending.append(_Result(item, failure))
        else:
            run.pending.append(_Result(item))
        if len(run.pending) >= MARK_EVERY:
            run.wake.set()


async def _send_batch(
    run: _Run, pool: SmtpPool, batch: list[_Ready], key: bytes, lease: timedelta = LEASE
) -> None:
    """Send ``batch`` over the pool's lanes and write every result before returning.

    A batch still sending after half the lease (a very slow or hanging server) stops: what was not tried is
    given back at once, so another worker never re-claims messages this one is still sending.
    """
    queue = deque(batch)
    run.lanes_done = False
    run.wake.clear()
    run.deadline = asyncio.get_running_loop().time() + lease.total_seconds() / 2
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


def _defer(run: _Run, items: list[_Ready]) -> None:
    """Queue ``items`` again without counting an attempt (claimed, never tried): after the retry delay when the
    server is down, at once otherwise (another worker may take them).
    """
    failure = run.down or Failure(RELEASED, 0, "given back untried (the worker stopped or ran out of time)")
    run.pending.extend(_Result(item, failure, attempted=False) for item in items)


async def _claim_batch(run: _Run, worker_id: str, lease: timedelta) -> tuple[list[_Ready], int]:
    async with run.engine.begin() as conn:
        return await claim(
            conn,
            run.settings,
            now=run.clock(),
            worker_id=worker_id,
            limit=max(1, run.settings.mail.batch_size),
            lease=lease,
        )


async def _release(run: _Run, task: asyncio.Task[tuple[list[_Ready], int]] | None) -> None:
    """Give back a batch claimed ahead that will not be sent in this run (stop, server down)."""
    if task is None:
        return
    batch, cancelled = await task
    run.report.cancelled += cancelled
    if batch:
        run.report.claimed += len(batch)
        _defer(run, batch)
        await _mark(run, run.pending)
        run.pending = []


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
    run = _Run(
        settings=settings,
        engine=engine,
        sessions=make_sessionmaker(engine),
        clock=clock,
        report=DeliveryReport(),
    )
    worker_id = worker_id or new_worker_id()
    own_pool = pool is None
    pool = pool or SmtpPool(settings.mail)
    key = derive_key(settings.secret_key, "message-id")
    ahead: asyncio.Task[tuple[list[_Ready], int]] | None = None
    try:
        if stop is None or not stop.is_set():
            ahead = asyncio.create_task(_claim_batch(run, worker_id, lease))
        concurrent = False  # was ``ahead`` claimed while a batch was being sent?
        while ahead is not None:
            batch, cancelled = await ahead
            ahead = None
            if not batch and not cancelled and concurrent:
                # Sending may have queued more (notices of bounces): look once more now that it is done.
                batch, cancelled = await _claim_batch(run, worker_id, lease)
            run.report.cancelled += cancelled
            if not batch and not cancelled:
                break
            run.report.batches += 1
            run.report.claimed += len(batch)
            if max_batches is None or run.report.batches < max_batches:
                # Claim the next batch while this one is sent, so the connections never wait for the database.
                ahead = asyncio.create_task(_claim_batch(run, worker_id, lease))
                concurrent = bool(batch)
            if batch:
                log.debug("mail batch of %d claimed by %s", len(batch), worker_id)
                await _send_batch(run, pool, batch, key, lease)
            if run.down is not None:
                await _release(run, ahead)
                ahead = None
                run.report.unreachable = run.down.describe()
                log.warning(
                    "mail server %s:%d unreachable (%s); will retry later",
                    settings.mail.host,
                    settings.mail.port,
                    run.down.describe(),
                )
                pool.abort()
                break
            if stop is not None and stop.is_set():
                await _release(run, ahead)
                ahead = None
    except BaseException:
        if ahead is not None:
            ahead.cancel()  # a batch claimed ahead is claimed again once its lease expires
        pool.abort()
        raise
    finally:
        if own_pool:
            await pool.close()
    if run.report.claimed or run.report.cancelled:
        log.info(
            "mail delivered: %s",
            ", ".join(f"{k} {v}" for k, v in run.report.as_dict().items() if v and k != "unreachable"),
        )
    return run.report
