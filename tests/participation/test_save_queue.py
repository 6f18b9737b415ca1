"""The group commit of background saves, on SQLite and PostgreSQL: what arrives together is written in one
transaction, every acknowledged answer is stored, the last answer sent is the one kept, and whatever the batch
may not write (an ended session, a bad value, a closed round...) comes back as None, unwritten, for the full
path to phrase, without holding back the rest of its batch."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from delphi.db.models import Panellist, Rating, Round, Statement
from delphi.participation import save_queue as queue_module
from delphi.participation.checks import MAX_COMMENT, RatingInput
from delphi.participation.facts import progress
from delphi.participation.save_queue import SaveQueue
from tests.factories import make_groups, make_panel, make_panellist, make_round, make_statements


@dataclass
class Panel2:
    people: list[Panellist]
    statements: list[Statement]
    round: Round
    outsider: Statement  # a statement of the panel that is not in the open round


@pytest.fixture
async def panel(session: AsyncSession) -> Panel2:
    p = await make_panel(session)
    users, _ = await make_groups(session, p)
    statements = await make_statements(session, p)
    people = [(await make_panellist(session, p, users, n, consented=True))[0] for n in range(1, 21)]
    rnd = await make_round(session, p, statements[:-1])
    await session.commit()
    return Panel2(people, statements[:-1], rnd, statements[-1])


async def stored(engine: AsyncEngine, round_id: int) -> dict[tuple[int, int], tuple[int | None, bool, str]]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(
                Rating.panellist_id, Rating.statement_id, Rating.value, Rating.unable, Rating.comment
            ).where(Rating.round_id == round_id)
        )
        return {(p, s): (v, bool(u), c) for p, s, v, u, c in rows.all()}


async def test_saves_that_arrive_together_are_written_in_one_transaction_and_all_kept(
    engine: AsyncEngine, panel: Panel2
) -> None:
    queue = SaveQueue(engine)
    jobs = [
        (person, statement, 1 + (i + j) % 9)
        for i, person in enumerate(panel.people)
        for j, statement in enumerate(panel.statements[:3])
    ]
    try:
        results = await asyncio.gather(
            *(
                queue.save(person.id, person.session_version, RatingInput(s.id, value))
                for person, s, value in jobs
            )
        )
    finally:
        await queue.aclose()
    assert queue.batches == 1 and queue.saves == len(jobs) == 60
    assert [r.value if r else None for r in results] == [value for _, _, value in jobs]
    assert all(r is not None and r.progress.answered == 3 and r.progress.total == 6 for r in results)
    rows = await stored(engine, panel.round.id)
    assert {k: v for k, (v, _, _) in rows.items()} == {(p.id, s.id): value for p, s, value in jobs}


async def test_the_last_answer_sent_for_a_statement_is_the_one_kept(
    engine: AsyncEngine, panel: Panel2
) -> None:
    queue = SaveQueue(engine)
    me, sid = panel.people[0], panel.statements[0].id
    try:
        first, second, third = await asyncio.gather(
            queue.save(me.id, me.session_version, RatingInput(sid, 3)),
            queue.save(me.id, me.session_version, RatingInput(sid, 7, comment="Needs plain words.")),
            queue.save(me.id, me.session_version, RatingInput(sid, "unable")),
        )
    finally:
        await queue.aclose()
    assert queue.batches == 3  # one save of a statement per transaction, in the order sent
    assert (first.value, second.value, third.value) == (3, 7, None) and third.unable
    assert (await stored(engine, panel.round.id))[(me.id, sid)] == (None, True, "Needs plain words.")


async def test_a_batch_reports_the_answered_count_and_the_answer_the_database_holds_after_it(
    engine: AsyncEngine, session: AsyncSession, panel: Panel2
) -> None:
    """The batch counts from what was saved before it plus what it changes: a first answer counts, a changed
    answer or a comment alone does not (and reports the answer kept), "unable" counts; the figures are those of
    the page's own count after the batch (:func:`delphi.participation.facts.progress`)."""
    queue = SaveQueue(engine)
    me, other = panel.people[0], panel.people[1]
    me_id, other_id, round_id = me.id, other.id, panel.round.id
    s = [st.id for st in panel.statements]
    try:  # before: I answered s0 and s1 and left a comment alone on s2
        await queue.save(me.id, me.session_version, RatingInput(s[0], 4))
        await queue.save(me.id, me.session_version, RatingInput(s[1], 6))
        await queue.save(me.id, me.session_version, RatingInput(s[2], None, comment="Unclear."))
        results = await asyncio.gather(
            queue.save(me.id, me.session_version, RatingInput(s[0], 8)),  # changed: still 2
            queue.save(me.id, me.session_version, RatingInput(s[1], None, comment="Kept.")),  # text only
            queue.save(me.id, me.session_version, RatingInput(s[2], None, comment="Clearer.")),  # still none
            queue.save(me.id, me.session_version, RatingInput(s[3], "unable")),  # +1
            queue.save(me.id, me.session_version, RatingInput(s[4], 5)),  # +1
            queue.save(other.id, other.session_version, RatingInput(s[0], 2)),  # another panellist's first
        )
    finally:
        await queue.aclose()
    assert queue.batches == 4  # the last six together
    assert all(r is not None for r in results)
    assert [(r.value, r.unable) for r in results] == [
        (8, False),
        (6, False),
        (None, False),
        (None, True),
        (5, False),
        (2, False),
    ]
    assert [r.progress.answered for r in results] == [4, 4, 4, 4, 4, 1]
    assert {r.progress.total for r in results} == {len(s)}
    assert (await progress(session, round_id, me_id)).answered == 4
    assert (await progress(session, round_id, other_id)).answered == 1


async def test_a_save_the_batch_may_not_write_comes_back_unwritten_and_the_rest_are_saved(
    engine: AsyncEngine, session: AsyncSession, panel: Panel2
) -> None:
    ok, stale, unconsented, withdrawn = panel.people[:4]
    unconsented.consented_at = None
    withdrawn.status = "withdrawn"
    session.add_all([unconsented, withdrawn])
    await session.commit()
    sid = panel.statements[0].id
    queue = SaveQueue(engine)
    try:
        results = await asyncio.gather(
            queue.save(ok.id, ok.session_version, RatingInput(sid, 5)),
            queue.save(
                stale.id, stale.session_version + 1, RatingInput(sid, 5)
            ),  # a re-issued link's session
            queue.save(unconsented.id, unconsented.session_version, RatingInput(sid, 5)),
            queue.save(withdrawn.id, withdrawn.session_version, RatingInput(sid, 5)),
            queue.save(ok.id, ok.session_version, RatingInput(panel.outsider.id, 5)),  # not in this round
            queue.save(ok.id, ok.session_version, RatingInput(panel.statements[1].id, 10)),  # off the scale
            queue.save(
                ok.id,
                ok.session_version,
                RatingInput(panel.statements[2].id, 4, comment="x" * (MAX_COMMENT + 1)),
            ),
            queue.save(999_999, 1, RatingInput(sid, 5)),  # nobody
        )
    finally:
        await queue.aclose()
    assert results[0] is not None and results[0].value == 5
    assert results[1:] == [None] * 7
    assert await stored(engine, panel.round.id) == {(ok.id, sid): (5, False, "")}


async def test_no_save_is_written_once_the_round_has_closed(
    engine: AsyncEngine, session: AsyncSession, panel: Panel2
) -> None:
    panel.round.closes_at = panel.round.opened_at + timedelta(minutes=1)  # the deadline has passed
    session.add(panel.round)
    await session.commit()
    me = panel.people[0]
    queue = SaveQueue(engine)
    try:
        assert await queue.save(me.id, me.session_version, RatingInput(panel.statements[0].id, 5)) is None
    finally:
        await queue.aclose()
    assert await stored(engine, panel.round.id) == {}


async def test_a_request_cancelled_before_its_batch_starts_saves_nothing(
    engine: AsyncEngine, panel: Panel2
) -> None:
    queue = SaveQueue(engine)
    me = panel.people[0]
    try:
        gone = asyncio.create_task(
            queue.save(me.id, me.session_version, RatingInput(panel.statements[0].id, 5))
        )
        await asyncio.sleep(0)  # it is queued; the writers have not run yet
        gone.cancel()
        kept = await queue.save(me.id, me.session_version, RatingInput(panel.statements[1].id, 6))
    finally:
        await queue.aclose()
    assert gone.cancelled() and kept is not None
    assert await stored(engine, panel.round.id) == {(me.id, panel.statements[1].id): (6, False, "")}


async def test_a_failed_batch_hands_every_save_back_for_the_full_path(
    engine: AsyncEngine, panel: Panel2, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*_args: object) -> None:
        raise ConnectionError("the database went away")

    monkeypatch.setattr(queue_module, "write_batch", broken)
    queue = SaveQueue(engine)
    try:
        results = await asyncio.gather(
            *(
                queue.save(p.id, p.session_version, RatingInput(panel.statements[0].id, 5))
                for p in panel.people[:5]
            )
        )
    finally:
        await queue.aclose()
    assert results == [None] * 5
    assert "a batch of 5 saves failed" in caplog.text


async def test_closing_the_queue_answers_every_waiting_request(
    engine: AsyncEngine, panel: Panel2, monkeypatch: pytest.MonkeyPatch
) -> None:
    started = asyncio.Event()

    @contextlib.asynccontextmanager
    async def stuck(_queue: SaveQueue) -> AsyncIterator[Callable[[object], Awaitable[None]]]:
        async def write(_jobs: object) -> None:
            started.set()
            await asyncio.Event().wait()  # a batch that never finishes

        yield write

    monkeypatch.setattr(SaveQueue, "_connection", stuck)
    queue = SaveQueue(engine)
    me, sid = panel.people[0], panel.statements[0].id
    writing = asyncio.create_task(queue.save(me.id, me.session_version, RatingInput(sid, 5)))
    await started.wait()
    waiting = asyncio.create_task(
        queue.save(me.id, me.session_version, RatingInput(sid, 6))
    )  # same statement
    await asyncio.sleep(0)
    await queue.aclose()
    assert await asyncio.wait_for(writing, 5) is None
    assert await asyncio.wait_for(waiting, 5) is None
