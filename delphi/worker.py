"""The background worker: deliver due mail, then run scheduled jobs (reminders, deadlines), every few seconds.

It runs inside the web process by default (:mod:`delphi.web.lifespan`) or as ``delphi worker`` processes; any
number of them can run against PostgreSQL, which hands each outbox row to one of them (``SKIP LOCKED``).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import signal
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from delphi.db.engine import make_engine, make_sessionmaker
from delphi.db.models import utcnow
from delphi.errors import SettingsError
from delphi.mail.delivery import deliver_due, new_worker_id
from delphi.mail.smtp import SmtpPool
from delphi.settings import Settings

log = logging.getLogger("delphi.worker")

#: Batches of mail one tick delivers at most, so scheduled jobs are never starved by a large mailing.
MAX_BATCHES_PER_TICK = 50


def _scheduler() -> Any | None:
    """``delphi.rounds.scheduler`` if it exists (imported lazily: it is optional while being written)."""
    try:
        from delphi.rounds import scheduler
    except ModuleNotFoundError as exc:
        if exc.name in ("delphi.rounds.scheduler", "delphi.rounds"):
            return None
        raise
    return scheduler


async def tick(
    settings: Settings,
    engine: AsyncEngine,
    now: datetime | None = None,
    *,
    pool: SmtpPool | None = None,
    worker_id: str | None = None,
    stop: asyncio.Event | None = None,
) -> dict[str, Any]:
    """One round of work: deliver due mail, then ``delphi.rounds.scheduler.tick(session, now, settings)`` on
    its own session (the scheduler commits as it goes).  Returns ``{"mail": {counts...}, "scheduler": whatever
    the scheduler returned or None}``.
    """
    report = await deliver_due(
        settings,
        engine,
        now=now,
        pool=pool,
        worker_id=worker_id,
        max_batches=MAX_BATCHES_PER_TICK,
        stop=stop,
    )
    scheduled: Any = None
    scheduler = _scheduler()
    if scheduler is not None and not (stop is not None and stop.is_set()):
        async with make_sessionmaker(engine)() as session:
            scheduled = scheduler.tick(session, now or utcnow(), settings)
            if inspect.isawaitable(scheduled):
                scheduled = await scheduled
            await session.commit()  # the scheduler commits per round; this keeps whatever is left
    return {"mail": report.as_dict(), "scheduler": scheduled}


async def run_forever(settings: Settings, engine: AsyncEngine, *, stop: asyncio.Event | None = None) -> None:
    """Tick every ``settings.worker_interval`` seconds until cancelled or ``stop`` is set.

    An exception in a tick is logged and the loop goes on; the SMTP connections are kept between ticks.
    """
    pool = SmtpPool(settings.mail)
    worker_id = new_worker_id()
    stop = stop or asyncio.Event()
    log.info("worker %s started (every %.1f s)", worker_id, settings.worker_interval)
    try:
        while not stop.is_set():
            try:
                await tick(settings, engine, pool=pool, worker_id=worker_id, stop=stop)
            except Exception:
                log.exception("worker tick failed; trying again in %.1f s", settings.worker_interval)
                pool.abort()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=settings.worker_interval)
    finally:
        if stop.is_set():
            await pool.close()
        else:
            pool.abort()  # cancelled: no awaiting on the way out
        log.info("worker %s stopped", worker_id)


async def run_cli(settings: Settings, once: bool) -> None:
    """``delphi worker``: its own engine; ``once`` runs one tick, otherwise it loops until SIGTERM or SIGINT,
    finishing the batch in hand before it exits.  A second signal stops at once.

    Raises SettingsError when ``DELPHI_SECRET_KEY`` is missing: the links in panellists' mail derive from it.
    """
    if len(settings.secret_key) < 32:
        raise SettingsError(
            "DELPHI_SECRET_KEY must be set, to the web app's value: the worker derives the links in "
            "panellists' mail from it."
        )
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    engine = make_engine(settings.database)
    try:
        if once:
            pool = SmtpPool(settings.mail)
            try:
                result = await tick(settings, engine, pool=pool)
            finally:
                await pool.close()
            log.info("worker tick done: %s", result)
            return
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()

        def on_signal() -> None:
            if stop.is_set() and task is not None:
                task.cancel()
            log.info("worker stopping after the current batch (signal again to stop now)")
            stop.set()

        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, on_signal)
        try:
            await run_forever(settings, engine, stop=stop)
        finally:
            for sig in (signal.SIGTERM, signal.SIGINT):
                with contextlib.suppress(NotImplementedError, RuntimeError):
                    loop.remove_signal_handler(sig)
    finally:
        await engine.dispose()
