"""The worker loop: a tick delivers due mail; a failing tick is logged and the loop goes on."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from delphi.db.engine import make_engine, make_sessionmaker
from delphi.errors import SettingsError
from delphi.settings import DatabaseSettings, Settings
from delphi.worker import run_cli, run_forever, tick
from tests.factories import World
from tests.mail.conftest import T0, queue_invitations, rows
from tests.smtp import SmtpSink


async def test_worker_tick_delivers_due_mail_and_reports_counts(
    engine: AsyncEngine, world: World, sink_settings: Settings, smtp_sink: SmtpSink
) -> None:
    async with make_sessionmaker(engine)() as session, session.begin():
        await queue_invitations(session, world)
    result = await tick(sink_settings, engine, T0)
    assert result["mail"]["sent"] == 3
    assert len(smtp_sink.messages()) == 3 and {r.status for r in await rows(engine)} == {"sent"}


async def test_worker_loop_survives_failing_ticks_and_stops_when_asked(
    tmp_path: Path, settings: Settings
) -> None:
    # A database without tables: every tick fails.
    broken = make_engine(DatabaseSettings(url=f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"), null_pool=True)
    stop = asyncio.Event()
    failures: list[logging.LogRecord] = []
    twice = asyncio.Event()

    class Count(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if "worker tick failed" in record.getMessage():
                failures.append(record)
                if len(failures) >= 2:
                    twice.set()

    handler = Count(level=logging.ERROR)
    logging.getLogger("delphi.worker").addHandler(handler)
    try:
        task = asyncio.create_task(
            run_forever(settings.with_overrides(worker_interval=0.01), broken, stop=stop)
        )
        await asyncio.wait_for(twice.wait(), timeout=10)
        assert not task.done()  # still looping after the failures
        stop.set()
        await asyncio.wait_for(task, timeout=10)
    finally:
        logging.getLogger("delphi.worker").removeHandler(handler)
        await broken.dispose()


async def test_worker_command_refuses_to_run_without_the_secret_key(settings: Settings) -> None:
    with pytest.raises(SettingsError, match="DELPHI_SECRET_KEY"):
        await run_cli(settings.with_overrides(secret_key=""), once=True)
