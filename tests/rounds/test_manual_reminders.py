"""A facilitator's "send a reminder now": who it goes to by count, at most one per interval without a
confirmation, and a double click (two requests at once) sends one set of mails."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from delphi.db.engine import make_sessionmaker
from delphi.db.models import AuditEvent, OutboxMessage, Panel, Panellist, Rating, RoundStatement, Submission
from delphi.rounds import lookup, previews, schedule, transitions
from delphi.settings import Settings
from tests.factories import ACTOR, NOW, build_draft_panel


async def open_panel(session: AsyncSession, settings: Settings) -> Panel:
    """:func:`build_draft_panel` (12 panellists) with round 1 open at :data:`NOW`; the first panellist has sent
    round 1, the second saved one rating without sending it, the other ten saved nothing."""
    panel = await build_draft_panel(session)
    round1 = await lookup.get_round(session, panel, 1)
    await transitions.open_round(session, panel, round1, now=NOW, settings=settings, actor=ACTOR)
    ids = (
        await session.scalars(
            select(Panellist.id).where(Panellist.panel_id == panel.id).order_by(Panellist.id)
        )
    ).all()
    statement = await session.scalar(
        select(RoundStatement.statement_id).where(RoundStatement.round_id == round1.id)
    )
    session.add(Submission(round_id=round1.id, panellist_id=ids[0]))
    session.add(Rating(round_id=round1.id, panellist_id=ids[1], statement_id=statement, value=5))
    await session.flush()
    return panel


async def n_reminders(session: AsyncSession) -> int:
    n = await session.scalar(
        select(func.count()).select_from(OutboxMessage).where(OutboxMessage.kind == "reminder")
    )
    return int(n or 0)


async def test_a_reminder_counts_who_had_not_started_and_who_had_started_and_records_them(
    session: AsyncSession, settings: Settings
) -> None:
    panel = await open_panel(session, settings)
    round1 = await lookup.get_round(session, panel, 1)
    preview = await previews.preview_reminder(session, panel, round1, NOW)
    assert (preview.not_started, preview.started, preview.too_soon) == (10, 1, False)
    sent = await schedule.send_reminder_now(session, panel, round1, now=NOW, settings=settings, actor=ACTOR)
    assert (sent.queued, sent.not_started, sent.started) == (11, 10, 1)
    assert await n_reminders(session) == 11
    assert round1.reminded_at == NOW
    event = await session.scalar(select(AuditEvent).where(AuditEvent.action == "round.reminded"))
    assert event is not None
    assert (event.detail["recipients"], event.detail["not_started"], event.detail["started"]) == (11, 10, 1)


async def test_a_second_reminder_within_the_interval_is_refused_and_queues_nothing(
    session: AsyncSession, settings: Settings
) -> None:
    panel = await open_panel(session, settings)
    round1 = await lookup.get_round(session, panel, 1)
    await schedule.send_reminder_now(session, panel, round1, now=NOW, settings=settings, actor=ACTOR)
    later = NOW + previews.REMINDER_INTERVAL - timedelta(minutes=1)
    with pytest.raises(schedule.ReminderTooSoon) as refused:
        await schedule.send_reminder_now(session, panel, round1, now=later, settings=settings, actor=ACTOR)
    assert refused.value.status_code == 409
    assert (refused.value.preview.last_at, refused.value.preview.last_count) == (NOW, 11)
    assert await n_reminders(session) == 11
    # confirmed about the last one: it goes
    stamp = schedule.reminder_stamp(round1.reminded_at)
    await schedule.send_reminder_now(
        session, panel, round1, now=later, settings=settings, actor=ACTOR, confirmed_after=stamp
    )
    assert await n_reminders(session) == 22


async def test_a_reminder_after_the_interval_needs_no_confirmation(
    session: AsyncSession, settings: Settings
) -> None:
    panel = await open_panel(session, settings)
    round1 = await lookup.get_round(session, panel, 1)
    await schedule.send_reminder_now(session, panel, round1, now=NOW, settings=settings, actor=ACTOR)
    after = NOW + previews.REMINDER_INTERVAL
    await schedule.send_reminder_now(session, panel, round1, now=after, settings=settings, actor=ACTOR)
    assert await n_reminders(session) == 22


def test_too_soon_is_strictly_within_the_interval() -> None:
    assert not previews.reminder_too_soon(None, NOW)
    assert previews.reminder_too_soon(NOW, NOW + previews.REMINDER_INTERVAL - timedelta(seconds=1))
    assert not previews.reminder_too_soon(NOW, NOW + previews.REMINDER_INTERVAL)


async def test_two_reminder_requests_at_once_queue_one_set_of_mails(
    engine: AsyncEngine, session: AsyncSession, settings: Settings
) -> None:
    panel = await open_panel(session, settings)
    pid = panel.id
    await session.commit()
    sessions = make_sessionmaker(engine)
    loaded = asyncio.Event()
    ready: list[int] = []

    async def press() -> str:
        async with sessions() as s:
            p = await s.get(Panel, pid)
            assert p is not None
            r = await lookup.get_round(s, p, 1)
            ready.append(1)
            if len(ready) == 2:
                loaded.set()
            await loaded.wait()  # both have read the round (no reminder yet) before either sends
            try:
                await schedule.send_reminder_now(s, p, r, settings=settings, actor=ACTOR)
            except schedule.ReminderTooSoon:
                await s.rollback()
                return "refused"
            await s.commit()
            return "sent"

    outcomes = await asyncio.gather(press(), press())
    assert sorted(outcomes) == ["refused", "sent"]
    session.expire_all()
    assert await n_reminders(session) == 11
