"""Round use cases against a real database: set up, open, remind, close, carry forward, finish."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from delphi.db.engine import make_sessionmaker
from delphi.db.models import (
    AuditEvent,
    OutboxMessage,
    Panel,
    Panellist,
    Round,
    RoundResult,
    RoundStatement,
    Submission,
)
from delphi.domain import SYSTEM
from delphi.errors import Conflict, InvalidInput, PreconditionsUnmet
from delphi.panels.panellists import import_panellists
from delphi.panels.settings import PanelInput, create_panel, update_panel
from delphi.panels.statements import edit_statement
from delphi.rounds import lookup, schedule, transitions
from delphi.settings import Settings
from tests.factories import (
    ACTOR,
    NOW,
    PATTERNS,
    build_draft_panel,
    build_draft_panel_by_services,
    make_account,
    rate_everyone,
)
from tests.helpers import outbox


async def test_opening_round_one_locks_the_rule_and_queues_one_invitation_each(
    session: AsyncSession, settings: Settings
) -> None:
    panel = await build_draft_panel(session)
    round1 = await lookup.get_round(session, panel, 1)
    queued = await transitions.open_round(session, panel, round1, now=NOW, settings=settings, actor=ACTOR)
    assert queued == 12
    assert panel.rule_locked_at == NOW and round1.status == "open"
    invitations = await outbox(session, "invitation")
    assert len(invitations) == 12
    assert len({m.to_address for m in invitations}) == 12
    assert all("[[delphi:personal-link]]" in m.body_text for m in invitations)
    # opening again is refused and queues nothing more
    with pytest.raises(PreconditionsUnmet):
        await transitions.open_round(session, panel, round1, now=NOW, settings=settings, actor=ACTOR)
    assert len(await outbox(session, "invitation")) == 12


async def test_open_lists_every_missing_action(session: AsyncSession, settings: Settings) -> None:
    account = await make_account(session, "fac@example.org")
    panel = await create_panel(session, PanelInput(title="Empty"), account.id, ACTOR)
    round1 = await lookup.get_round(session, panel, 1)
    with pytest.raises(PreconditionsUnmet) as err:
        await transitions.open_round(session, panel, round1, now=NOW, settings=settings, actor=ACTOR)
    assert err.value.actions == [
        "Add a panel contact (name and e-mail) in the panel settings: panellists see it on every page and in "
        "every mail.",
        "Add at least one stakeholder group.",
        "Add at least one statement or ranking question to round 1.",
        "Add at least one panellist who can be invited.",
        "Set a closing date for round 1.",
    ]


async def test_locked_rule_cannot_change(session: AsyncSession, settings: Settings) -> None:
    from delphi.stats import rule_by_name

    panel = await build_draft_panel(session)
    round1 = await lookup.get_round(session, panel, 1)
    await transitions.open_round(session, panel, round1, now=NOW, settings=settings, actor=ACTOR)
    with pytest.raises(Conflict, match="locked when round 1 opened"):
        await update_panel(
            session, panel, PanelInput(title=panel.title, rule=rule_by_name("agree80").to_dict()), ACTOR
        )
    # other settings can still change
    changed = await update_panel(session, panel, PanelInput(title="Renamed", rule=panel.rule), ACTOR)
    assert changed == ["title"]


async def test_reminders_go_only_to_those_who_have_not_submitted(
    session: AsyncSession, settings: Settings
) -> None:
    panel = await build_draft_panel(session)
    round1 = await lookup.get_round(session, panel, 1)
    await transitions.open_round(session, panel, round1, now=NOW, settings=settings, actor=ACTOR)
    first_three = (await session.scalars(select(Panellist).order_by(Panellist.id).limit(3))).all()
    for p in first_three:
        session.add(Submission(round_id=round1.id, panellist_id=p.id))
    await session.flush()
    later = round1.closes_at - timedelta(hours=167)
    assert await schedule.send_due_reminders(session, panel, round1, now=later, settings=settings) == 9
    assert await schedule.send_due_reminders(session, panel, round1, now=later, settings=settings) == 0
    reminded = {m.panellist_id for m in await outbox(session, "reminder")}
    assert reminded.isdisjoint({p.id for p in first_three}) and len(reminded) == 9


async def test_closing_freezes_results_and_drafts_the_next_round(
    session: AsyncSession, settings: Settings
) -> None:
    panel = await build_draft_panel(session)
    round1 = await lookup.get_round(session, panel, 1)
    await transitions.open_round(session, panel, round1, now=NOW, settings=settings, actor=ACTOR)
    await rate_everyone(session, panel, round1, PATTERNS)
    outcome = await transitions.close_round(
        session, panel, round1, now=NOW + timedelta(days=1), settings=settings, actor=SYSTEM
    )
    verdicts = list(outcome.verdicts.values())
    assert verdicts == ["in", "out", "none", "none"]
    n_results = await session.scalar(select(func.count()).select_from(RoundResult))
    assert n_results == 4 * 4  # pooled + 3 groups per statement
    pooled = (
        await session.scalars(
            select(RoundResult).where(RoundResult.scope == "all").order_by(RoundResult.statement_id)
        )
    ).all()
    assert [r.n for r in pooled] == [12, 12, 12, 12]
    assert pooled[0].median == 9.0 and pooled[0].pct_agree == 100.0
    assert sum(pooled[0].counts) == 12
    links = (
        await session.scalars(
            select(RoundStatement)
            .where(RoundStatement.round_id == round1.id)
            .order_by(RoundStatement.position)
        )
    ).all()
    assert links[2].outcome["split"] is True  # service users disagree with the professionals
    assert links[2].outcome["lived_experience_split"] is True
    assert links[0].outcome["split"] is False
    round2 = await lookup.get_round(session, panel, 2)
    carried = (
        await session.scalars(
            select(RoundStatement.statement_id)
            .where(RoundStatement.round_id == round2.id)
            .order_by(RoundStatement.position)
        )
    ).all()
    assert carried == [links[2].statement_id, links[3].statement_id]
    assert round2.status == "draft" and not outcome.finished


async def test_round_two_opens_with_round_open_mail_and_stability(
    session: AsyncSession, settings: Settings
) -> None:
    panel = await build_draft_panel(session)
    round1 = await lookup.get_round(session, panel, 1)
    await transitions.open_round(session, panel, round1, now=NOW, settings=settings, actor=ACTOR)
    await rate_everyone(session, panel, round1, PATTERNS)
    await transitions.close_round(session, panel, round1, now=NOW, settings=settings, actor=SYSTEM)
    round2 = await lookup.get_round(session, panel, 2)
    await schedule.set_schedule(
        session,
        panel,
        round2,
        opens_at=None,
        closes_at=NOW + timedelta(days=20),
        reminder_hours=[],
        now=NOW,
        actor=ACTOR,
    )
    assert await transitions.open_round(session, panel, round2, now=NOW, settings=settings, actor=ACTOR) == 12
    mails = await outbox(session, "round_open")
    assert len(mails) == 12 and "agreed on 1 of 4" in mails[0].body_text
    converged = {g: [8, 8] for g in PATTERNS}
    await rate_everyone(session, panel, round2, converged)
    outcome = await transitions.close_round(session, panel, round2, now=NOW, settings=settings, actor=SYSTEM)
    assert list(outcome.verdicts.values()) == ["in", "in"]
    assert outcome.finished  # nothing left to ask
    links = (await session.scalars(select(RoundStatement).where(RoundStatement.round_id == round2.id))).all()
    assert all(link.outcome["stability"]["n_paired"] == 12 for link in links)
    assert len(await outbox(session, "final_results")) == 12
    assert panel.status == "finished"


async def test_a_rolled_back_transaction_enqueues_nothing(engine: AsyncEngine, settings: Settings) -> None:
    maker = make_sessionmaker(engine)
    async with maker() as session, session.begin():
        panel = await build_draft_panel(session)
        panel_id = panel.id
    async with maker() as session:
        panel = await session.get(Panel, panel_id)
        round1 = await lookup.get_round(session, panel, 1)
        round1_id = round1.id
        await transitions.open_round(session, panel, round1, now=NOW, settings=settings, actor=ACTOR)
        await session.rollback()
    async with maker() as session:
        assert await session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
        assert (await session.get(Round, round1_id)).status == "draft"


async def test_a_panellist_csv_with_bad_rows_imports_nothing_and_lists_each(
    session: AsyncSession, settings: Settings
) -> None:
    panel = await build_draft_panel(session)
    before = await session.scalar(select(func.count()).select_from(Panellist))
    bad = (
        "email,group,name\nnew1@example.org,Experts,A\nnot-an-email,Experts,B\nnew1@example.org,Experts,C\n"
        "new2@example.org,Nobody,D\nserv0@example.org,Experts,E\n"
    )
    with pytest.raises(InvalidInput) as err:
        await import_panellists(session, panel, bad, secret_key=settings.secret_key, actor=ACTOR)
    lines = [where for where, _ in err.value.errors]
    assert lines == ["line 3", "line 4", "line 5", "line 6"]
    messages = " ".join(m for _, m in err.value.errors)
    assert (
        "is also on line 2" in messages
        and "does not exist" in messages
        and "on this panel already" in messages
    )
    assert await session.scalar(select(func.count()).select_from(Panellist)) == before


async def test_dates_in_the_past_or_reversed_are_refused(session: AsyncSession, settings: Settings) -> None:
    panel = await build_draft_panel(session)
    round1 = await lookup.get_round(session, panel, 1)
    with pytest.raises(InvalidInput, match="in the future"):
        await schedule.set_schedule(
            session,
            panel,
            round1,
            opens_at=None,
            closes_at=NOW - timedelta(days=1),
            reminder_hours=[],
            now=NOW,
            actor=ACTOR,
        )
    with pytest.raises(InvalidInput, match="after the opening date"):
        await schedule.set_schedule(
            session,
            panel,
            round1,
            opens_at=NOW + timedelta(days=3),
            closes_at=NOW + timedelta(days=2),
            reminder_hours=[],
            now=NOW,
            actor=ACTOR,
        )


async def test_rewording_between_rounds_links_the_new_version(
    session: AsyncSession, settings: Settings
) -> None:
    panel = await build_draft_panel(session)
    round1 = await lookup.get_round(session, panel, 1)
    await transitions.open_round(session, panel, round1, now=NOW, settings=settings, actor=ACTOR)
    await rate_everyone(session, panel, round1, PATTERNS)
    await transitions.close_round(session, panel, round1, now=NOW, settings=settings, actor=SYSTEM)
    round2 = await lookup.get_round(session, panel, 2)
    old_id = (
        await session.scalars(
            select(RoundStatement.statement_id)
            .where(RoundStatement.round_id == round2.id)
            .order_by(RoundStatement.position)
        )
    ).first()
    new = await edit_statement(session, panel, old_id, "Statement 2, said more plainly", "Section A", ACTOR)
    assert new.parent_id == old_id and new.version == 2
    in_round2 = (
        await session.scalars(select(RoundStatement.statement_id).where(RoundStatement.round_id == round2.id))
    ).all()
    assert new.id in in_round2 and old_id not in in_round2


async def test_every_state_change_leaves_an_audit_event(session: AsyncSession, settings: Settings) -> None:
    panel = await build_draft_panel_by_services(session, settings)
    round1 = await lookup.get_round(session, panel, 1)
    await transitions.open_round(session, panel, round1, now=NOW, settings=settings, actor=ACTOR)
    actions = set(
        (await session.scalars(select(AuditEvent.action).where(AuditEvent.panel_id == panel.id))).all()
    )
    assert {
        "panel.created",
        "group.added",
        "statement.added",
        "panellist.imported",
        "round.scheduled",
        "rule.locked",
        "round.opened",
    } <= actions
