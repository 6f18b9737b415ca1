"""Group commit for the rating page's background saves.

Each web request hands its save to :meth:`SaveQueue.save` and waits.  A free writer task takes everything
that has arrived and stores it in one transaction (:func:`delphi.participation.save_batch.write_batch`), then
answers every waiting request.  A save is acknowledged only after the transaction holding it has committed, so an
acknowledged answer is never lost.

There is no timer: under light load a batch holds one save and goes out at once; under load a batch holds
what arrived while the writers were busy, so the database work per save falls as load rises (the figures are
in ``docs/benchmarks.md``).  PostgreSQL gets four writers, so one batch's round trips and commit flush overlap
with the next; SQLite, which has one write lock, gets one.  No two batches in flight, and no batch, hold two
saves of one panellist's statement: the later save waits for the earlier one's batch, so the last answer sent
is the one kept.

When the queue cannot save a job (a check failed, or the batch's transaction failed), ``save`` returns None
and the caller takes the full path (:func:`delphi.participation.saving.save_rating`), which answers with the
precise error or saves the job on its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from delphi.db.dialect import dialect_name
from delphi.db.models import utcnow
from delphi.participation.checks import RatingInput
from delphi.participation.save_batch import RoundMembers, SaveJob, write_batch
from delphi.participation.saving import SaveResult

log = logging.getLogger("delphi.participation.save_queue")

_Waiting = tuple[SaveJob, "asyncio.Future[SaveResult | None]"]


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

    async def _write_while_busy(self, batch: list[_Waiting]) -> None:
        """Write ``batch``, then the batches that arrived meanwhile, on one connection, one transaction each.

        Keeping the connection while there is work saves a checkout (and its liveness ping) per batch.  After a
        failed batch the connection is given back, and the next batch starts on a fresh one.
        """
        current: list[_Waiting] = batch
        try:
            async with self.engine.connect() as conn:
                while current:
                    try:
                        async with conn.begin():
                            jobs = [job for job, _ in current]
                            results = await write_batch(conn, jobs, self.clock(), self._rounds)
                    except Exception:
                        log.exception("a batch of %d saves failed; each is retried on its own", len(current))
                        self._answer(current, None)
                        return
                    self._answer(current, results)
                    current = self._take()
        except asyncio.CancelledError:  # shutting down mid-batch: it rolled back, nothing was saved
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
