"""A close and the saves into its round are serialised (:mod:`delphi.db.locks`), on SQLite and PostgreSQL.

Each test holds one side's transaction open at the moment the race used to bite and checks that the other side
waits for it: a save that has read the round as open makes the close wait and is in its frozen result; a save,
background batch or submit that starts while a close is under way waits for it and is then refused; a second
close waits and is refused as "closed already".  (``tests/adversarial/test_close_race.py`` is the same over HTTP
with 64 panellists.)
"""

from __future__ import annotations

import asyncio
from typing import Any, TypeVar

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from delphi.db.engine import make_sessionmaker
from delphi.db.locks import begin_write
from delphi.db.models import Panel, Panellist, Rating, Round, RoundResult, Submission, utcnow
from delphi.domain import POOLED_SCOPE, SYSTEM
from delphi.errors import PreconditionsUnmet
from delphi.participation.checks import RatingInput, clean_input
from delphi.participation.facts import current_round, scale_of
from delphi.participation.issues import RoundClosed
from delphi.participation.save_batch import SaveJob, write_batch
from delphi.participation.save_queue import SaveQueue
from delphi.participation.saving import SaveResult, save_rating, save_ratings
from delphi.participation.submit import Receipt, submit
from delphi.participation.writes import upsert_params, upsert_statement
from delphi.rounds import lookup, transitions
from delphi.settings import Settings
from tests.factories import World, build_panel

T = TypeVar("T")
#: How long a blocked side is watched to be sure it waits (it is released right after).
WAIT = 0.3


@pytest.fixture
async def world(engine: AsyncEngine) -> World:
    """Round 1 open, one consented panellist; every saved answer counts (population "all")."""
    async with make_sessionmaker(engine)() as session, session.begin():
        return await build_panel(session, consented=True, panel_kw={"analysis_population": "all"})


async def still_waiting(task: asyncio.Task[T]) -> bool:
    await asyncio.sleep(WAIT)
    return not task.done()


async def close(session: AsyncSession, panel_id: int, settings: Settings) -> transitions.CloseOutcome:
    """The facilitator's close: load the panel and round (outside the lock, as the page does), then close."""
    panel = await session.get(Panel, panel_id)
    assert panel is not None
    round_ = await lookup.get_round(session, panel, 1)
    return await transitions.close_round(
        session, panel, round_, now=utcnow(), settings=settings, actor=SYSTEM
    )


async def panellist(session: AsyncSession, world: World) -> Panellist:
    person = await session.get(Panellist, world.panellist.id)
    assert person is not None
    return person


async def in_session(engine: AsyncEngine, work: Any) -> Any:
    """Run ``work(session)`` in a transaction of its own that commits."""
    async with make_sessionmaker(engine)() as session, session.begin():
        return await work(session)


async def frozen_n(engine: AsyncEngine, world: World, statement_id: int) -> int:
    async with engine.connect() as conn:
        return int(
            await conn.scalar(
                select(RoundResult.n).where(
                    RoundResult.round_id == world.round.id,
                    RoundResult.statement_id == statement_id,
                    RoundResult.scope == POOLED_SCOPE,
                )
            )
        )


async def stored(engine: AsyncEngine, world: World) -> list[Any]:
    async with engine.connect() as conn:
        return list(
            (
                await conn.execute(
                    select(Rating.statement_id, Rating.value).where(Rating.round_id == world.round.id)
                )
            ).all()
        )


async def close_under_way(engine: AsyncEngine, world: World, settings: Settings) -> AsyncSession:
    """A session whose close has run (results frozen) but not yet committed; the caller commits it."""
    session = make_sessionmaker(engine)()
    await session.begin()
    await close(session, world.panel.id, settings)
    return session


async def test_begin_write_takes_the_sqlite_write_lock_before_any_read(engine: AsyncEngine) -> None:
    async with make_sessionmaker(engine)() as first, first.begin():
        took = await begin_write(first)
        assert took is (engine.dialect.name == "sqlite")
        assert await begin_write(first) is False  # in a transaction already: nothing more to do
        if engine.dialect.name != "sqlite":
            return
        async with engine.connect() as other:
            await other.exec_driver_sql("PRAGMA busy_timeout=50")
            with pytest.raises(OperationalError, match="locked"):
                await other.exec_driver_sql("BEGIN IMMEDIATE")
            await other.rollback()
            assert (await other.execute(text("SELECT 1"))).scalar() == 1  # readers are not held up


async def test_a_save_that_read_the_round_open_makes_the_close_wait_and_is_frozen(
    engine: AsyncEngine, world: World, settings: Settings
) -> None:
    sid = world.statements[0].id
    async with make_sessionmaker(engine)() as saver, saver.begin():
        await begin_write(saver)
        rnd = await current_round(saver, world.panel.id, for_write=True)
        assert rnd is not None and rnd.status == "open"  # the save's check has passed ...
        closing = asyncio.create_task(in_session(engine, lambda s: close(s, world.panel.id, settings)))
        assert await still_waiting(closing)  # ... so the close waits for the save's transaction
        person = await panellist(saver, world)
        item = clean_input(RatingInput(sid, 8), scale_of(await saver.get(Panel, world.panel.id)))
        assert not isinstance(item, list)
        await saver.execute(
            upsert_statement(engine.dialect.name, item.shape),
            upsert_params(rnd.id, person.id, item, utcnow()),
        )
    await closing
    assert await frozen_n(engine, world, sid) == 1


async def test_a_save_during_a_close_waits_for_it_and_is_refused(
    engine: AsyncEngine, world: World, settings: Settings
) -> None:
    closer = await close_under_way(engine, world, settings)
    try:

        async def save(session: AsyncSession) -> SaveResult:
            return await save_rating(
                session, await panellist(session, world), RatingInput(world.statements[0].id, 8)
            )

        saving = asyncio.create_task(in_session(engine, save))
        assert await still_waiting(saving)
        await closer.commit()
    finally:
        await closer.close()
    with pytest.raises(RoundClosed):
        await saving
    assert await stored(engine, world) == []


async def test_a_background_batch_during_a_close_waits_for_it_and_writes_nothing(
    engine: AsyncEngine, world: World, settings: Settings
) -> None:
    closer = await close_under_way(engine, world, settings)
    try:

        async def batch() -> list[SaveResult | None]:
            job = SaveJob(
                world.panellist.id, world.panellist.session_version, RatingInput(world.statements[0].id, 8)
            )
            async with engine.connect() as conn, conn.begin():
                return (await conn.run_sync(write_batch, [job], utcnow(), {})).results

        saving = asyncio.create_task(batch())
        assert await still_waiting(saving)
        await closer.commit()
    finally:
        await closer.close()
    assert await saving == [None]  # not written: the full path then refuses it (RoundClosed, 409)
    assert await stored(engine, world) == []


async def test_the_save_queue_during_a_close_waits_for_it_and_hands_the_save_to_the_full_path(
    engine: AsyncEngine, world: World, settings: Settings
) -> None:
    """The queue's own way of writing (SQLite: a worker thread; PostgreSQL: one statement that locks, writes
    and commits): a save sent while a close holds the round waits, then is not written."""
    closer = await close_under_way(engine, world, settings)
    queue = SaveQueue(engine)
    try:
        saving = asyncio.create_task(
            queue.save(
                world.panellist.id, world.panellist.session_version, RatingInput(world.statements[0].id, 8)
            )
        )
        assert await still_waiting(saving)
        await closer.commit()
        assert await saving is None  # the full path then refuses it (RoundClosed, 409)
    finally:
        await closer.close()
        await queue.aclose()
    assert await stored(engine, world) == []


async def test_a_submit_during_a_close_waits_for_it_and_is_refused(
    engine: AsyncEngine, world: World, settings: Settings
) -> None:
    async def answer_all(session: AsyncSession) -> None:
        person = await panellist(session, world)
        await save_ratings(session, person, [RatingInput(s.id, 8) for s in world.statements])

    await in_session(engine, answer_all)
    closer = await close_under_way(engine, world, settings)
    try:

        async def submit_answers(session: AsyncSession) -> Receipt:
            return await submit(session, await panellist(session, world), send_receipt=False)

        submitting = asyncio.create_task(in_session(engine, submit_answers))
        assert await still_waiting(submitting)
        await closer.commit()
    finally:
        await closer.close()
    with pytest.raises(RoundClosed):
        await submitting
    async with engine.connect() as conn:
        assert await conn.scalar(select(Submission.id)) is None


async def test_a_second_close_waits_for_the_first_and_is_refused_as_closed_already(
    engine: AsyncEngine, world: World, settings: Settings
) -> None:
    closer = await close_under_way(engine, world, settings)
    try:
        second = asyncio.create_task(in_session(engine, lambda s: close(s, world.panel.id, settings)))
        assert await still_waiting(second)
        await closer.commit()
    finally:
        await closer.close()
    with pytest.raises(PreconditionsUnmet) as refused:
        await second
    assert refused.value.actions == ["Round 1 is closed already."]
    async with engine.connect() as conn:
        rounds = (await conn.execute(select(Round.number, Round.status).order_by(Round.number))).all()
        assert [tuple(r) for r in rounds] == [(1, "closed"), (2, "draft")]
