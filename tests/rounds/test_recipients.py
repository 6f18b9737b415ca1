"""Who round mail goes to: the one "invitable" condition behind the open check's count, invitations, reminders
and the final results."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import Panellist, Submission
from delphi.domain import SYSTEM, PanellistStatus
from delphi.rounds import lookup, recipients, schedule, transitions
from delphi.settings import Settings
from tests.factories import ACTOR, NOW, PATTERNS, build_draft_panel, rate_everyone
from tests.helpers import outbox


async def leave_four_out(session: AsyncSession, panel_id: int) -> list[Panellist]:
    """Withdraw one panellist, erase one, bounce one and take the address of one: 8 of 12 stay invitable."""
    people = (
        await session.scalars(select(Panellist).where(Panellist.panel_id == panel_id).order_by(Panellist.id))
    ).all()
    people[0].status = PanellistStatus.WITHDRAWN
    people[1].status, people[1].email = PanellistStatus.WITHDRAWN, None  # erased
    people[2].status = PanellistStatus.BOUNCED
    people[3].email = None
    await session.flush()
    return list(people[4:])


async def test_the_count_and_the_invitations_leave_out_the_same_people(
    session: AsyncSession, settings: Settings
) -> None:
    panel = await build_draft_panel(session)
    staying = await leave_four_out(session, panel.id)
    assert await recipients.count_invitable(session, panel.id) == 8
    assert await recipients.invitable_panellists(session, panel.id) == staying
    facts = await transitions.open_facts(session, panel, await lookup.get_round(session, panel, 1))
    assert facts.n_invitable_panellists == 8
    round1 = await lookup.get_round(session, panel, 1)
    assert await transitions.open_round(session, panel, round1, now=NOW, settings=settings, actor=ACTOR) == 8
    assert {m.panellist_id for m in await outbox(session, "invitation")} == {p.id for p in staying}


async def test_reminders_go_to_the_invitable_who_have_not_submitted(
    session: AsyncSession, settings: Settings
) -> None:
    panel = await build_draft_panel(session)
    staying = await leave_four_out(session, panel.id)
    round1 = await lookup.get_round(session, panel, 1)
    await transitions.open_round(session, panel, round1, now=NOW, settings=settings, actor=ACTOR)
    session.add(Submission(round_id=round1.id, panellist_id=staying[0].id))
    await session.flush()
    sent = await schedule.send_reminder_now(session, panel, round1, now=NOW, settings=settings, actor=ACTOR)
    assert sent.queued == 7
    assert {m.panellist_id for m in await outbox(session, "reminder")} == {p.id for p in staying[1:]}


async def test_the_final_results_go_to_every_invitable_panellist(
    session: AsyncSession, settings: Settings
) -> None:
    panel = await build_draft_panel(session)
    round1 = await lookup.get_round(session, panel, 1)
    await transitions.open_round(session, panel, round1, now=NOW, settings=settings, actor=ACTOR)
    await rate_everyone(session, panel, round1, {g: [9, 9, 9, 9] for g in PATTERNS})
    staying = await leave_four_out(session, panel.id)
    outcome = await transitions.close_round(
        session, panel, round1, now=NOW + timedelta(days=1), settings=settings, actor=SYSTEM
    )
    assert outcome.finished  # all agreed: nothing carried forward
    assert {m.panellist_id for m in await outbox(session, "final_results")} == {p.id for p in staying}
