"""Group commit for the rating page's background saves.

Each web request hands its save to :meth:`SaveQueue.save` and waits.  A free writer task takes everything
that has arrived and stores it in one transaction (:func:`delphi.participation.save_batch.write_batch`), then
answers every waiting request.  A save is acknowledged only after the transaction holding it has committed, so an
acknowledged answer is never lost.

There is no timer: under light load a batch holds one save and goes out at once; under load a batch holds
what arrived while the writers were busy, so the database work per save falls as load rises (the figures are
in ``docs/benchmarks.md``).  PostgreSQL gets four writers, so one batch's round trips and commit flush overlap
with the next, each running the batch under ``run_sync`` on its own connection.  SQLite, which has one write
lock, gets one, and its batches run whole in one worker thread on a synchronous connection to the same file
(:func:`delphi.db.engine.sqlite_thread_engine`): one hand-over per batch instead of one per driver call.  No
two batches in flight, and no batch, hold two saves of one panellist's statement: the later save waits for the
earlier one's batch, so the last answer sent is the one kept.

When the queue cannot save a job (a check failed, or the batch's transaction failed), ``save`` returns None
and the caller takes the full path (:func:`delphi.participation.saving.save_rating`), which answers with the
precise error or saves the job on its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from sqlalchemy import Engine
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from delphi.db.dialect import dialect_name
from delphi.db.engine import sqlite_thread_engine
from delphi.db.models import utcnow
from delphi.participation.checks import RatingInput
from delphi.participation.save_batch import RoundMembers, SaveJob, Written, mark_outside_iqr, write_batch
from delphi.participation.saving import SaveResult

log = logging.getLogger("delphi.participation.save_queue")

_Waiting = tuple[SaveJob, "asyncio.Future[SaveResult | None]"]
#: Writes one batch in its own transaction and commits it.
_Write = Callable[[Sequence[SaveJob]], Awaitable[Written]]


class SaveQueue:
    """Saves single answers for many requests at once; one per web process (``app.state.save_queue``).

    ``max_batch`` bounds a transaction (default 256 saves).  ``clock`` gives the save time (UTC-aware).
    """

    def __init__(
        self, engine: AsyncEngine, *, max_batch: int = 256, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self.engine = engine
        self.max_batch = max_batch
        self.clock = clock
        self.writers = 1 if dialect_name(engine) == "sqlite" else 4
        self._waiting: deque[_Waiting] = deque()
        self._busy: set[tuple[int, int]] = set()  # (panellist, statement) of the batches being written
        self._rounds: RoundMembers = {}  # the open rounds' statements, shared by the writers
        self._wake: asyncio.Event | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: ThreadPoolExecutor | None = None  # SQLite: the one thread batches run in
        self._thread_engine: Engine | None = None
        #: batches written and saves in them, for tests and benchmarks
        self.batches = 0
        self.saves = 0

    async def save(
        self, panellist_id: int, session_version: int, item: RatingInput, session_started: float | None = None
    ) -> SaveResult | None:
        """Store ``item`` for the panellist with the session ``session_version`` started at ``session_started``
        (epoch seconds, checked against a sign-out); None = take the full path.

        Returns once the answer is committed.  If the caller is cancelled before its batch starts, its save is
        dropped (nobody was told it was saved); once the batch has started it completes regardless.
        """
        loop = asyncio.get_running_loop()
        if self._loop is not loop or not self._tasks or any(t.done() for t in self._tasks):
            self._start(loop)
        assert self._wake is not None
        future: asyncio.Future[SaveResult | None] = loop.create_future()
        self._waiting.append((SaveJob(panellist_id, session_version, item, session_started), future))
        self._wake.set()
        return await future

    def _start(self, loop: asyncio.AbstractEventLoop) -> None:
        for task in self._tasks:
            task.cancel()
        if self._loop is not loop:
            self._waiting.clear()  # futures of another (finished) loop can never be answered
            self._busy.clear()
        self._loop = loop
        if dialect_name(self.engine) == "sqlite" and self._thread is None:
            self._thread_engine = sqlite_thread_engine(self.engine)
            self._thread = ThreadPoolExecutor(1, thread_name_prefix="delphi-save-writer")
        self._wake = asyncio.Event()
        self._tasks = [
            loop.create_task(self._run(), name=f"delphi-save-queue-{n}") for n in range(self.writers)
        ]

    def _take(self) -> list[_Waiting]:
        """The next batch in arrival order: live requests only, one per (panellist, statement), none whose
        (panellist, statement) is in a batch being written (those stay queued, in order)."""
        batch: list[_Waiting] = []
        later: list[_Waiting] = []
        while self._waiting and len(batch) < self.max_batch:
            job, future = self._waiting.popleft()
            if future.done():  # the request was cancelled while it waited
                continue
            key = (job.panellist_id, job.item.statement_id)
            if key in self._busy:
                later.append((job, future))
                continue
            self._busy.add(key)
            batch.append((job, future))
        self._waiting.extendleft(reversed(later))
        return batch

    def _answer(self, batch: list[_Waiting], results: list[SaveResult | None] | None) -> None:
        """Answer every request of ``batch`` (None for all: take the full path) and free its keys."""
        self._busy.difference_update((job.panellist_id, job.item.statement_id) for job, _ in batch)
        if results is None:
            results = [None] * len(batch)
        else:
            self.batches += 1
            self.saves += sum(r is not None for r in results)
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(result)

    def _write_in_thread(self, jobs: Sequence[SaveJob], now: datetime) -> Written:
        """SQLite, in the queue's thread: one batch in one transaction on the thread's engine."""
        assert self._thread_engine is not None
        with self._thread_engine.begin() as conn:
            return write_batch(conn, jobs, now, self._rounds)

    @contextlib.asynccontextmanager
    async def _connection(self) -> AsyncIterator[_Write]:
        """A way to write batches one after another, held while there is work: on PostgreSQL one connection
        (keeping it saves a checkout, and its liveness ping, per batch); on SQLite the queue's thread."""
        if self._thread is not None:
            loop, thread = asyncio.get_running_loop(), self._thread

            async def in_thread(jobs: Sequence[SaveJob]) -> Written:
                return await loop.run_in_executor(thread, self._write_in_thread, jobs, self.clock())

            yield in_thread
            return
        async with self.engine.connect() as conn:
            # Each statement its own transaction: the checks' read, then one statement that writes and commits
            # (two round trips a batch, not four: no BEGIN, no COMMIT of their own).
            await conn.execution_options(isolation_level="AUTOCOMMIT")

            async def on_connection(jobs: Sequence[SaveJob]) -> Written:
                return await conn.run_sync(write_batch, jobs, self.clock(), self._rounds)

            yield on_connection

    async def _results(self, written: Written) -> list[SaveResult | None]:
        """``written``'s results, with the saves outside last round's IQR marked where the panel asks."""
        if not written.asking:
            return written.results
        async with AsyncSession(self.engine) as session:
            return await mark_outside_iqr(session, written)

    async def _write_while_busy(self, batch: list[_Waiting]) -> None:
        """Write ``batch``, then the batches that arrived meanwhile, one transaction each.

        After a failed batch the connection is given back, and the next batch starts on a fresh one.
        """
        current: list[_Waiting] = batch
        try:
            async with self._connection() as write:
                while current:
                    try:
                        results = await self._results(await write([job for job, _ in current]))
                    except Exception:
                        log.exception("a batch of %d saves failed; each is retried on its own", len(current))
                        self._answer(current, None)
                        return
                    self._answer(current, results)
                    current = self._take()
        except asyncio.CancelledError:  # shutting down mid-batch: each save takes the full path
            self._answer(current, None)
            raise
        except Exception:  # no connection
            log.exception("a batch of %d saves could not reach the database", len(current))
            self._answer(current, None)

    async def _run(self) -> None:
        assert self._wake is not None
        while True:
            await self._wake.wait()
            self._wake.clear()
            while batch := self._take():
                await self._write_while_busy(batch)

    async def aclose(self) -> None:
        """Stop the writer; requests still waiting, and those of a batch cut short, take the full path."""
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        while self._waiting:
            _, future = self._waiting.popleft()
            if not future.done():
                future.set_result(None)
        thread, self._thread = self._thread, None
        if thread is not None:  # a batch cut short may still commit there: the full path saves it again
            thread.shutdown(wait=False, cancel_futures=True)
        engine, self._thread_engine = self._thread_engine, None
        if engine is not None:
            engine.dispose()
