"""The analysis population: which answers a frozen round result counts, fixed with the rule before round 1.

The panel below is the one the trust review reproduced: nine panellists, seven of them sent round 1, one saved
a low rating and never sent it, one did nothing. Under COMET (≥ 70% rate 7-9 and < 15% rate 1-3; Williamson et
al., *The COMET Handbook: version 1.0*, Trials 2017;18(Suppl 3):280, §2.6.4) five agreeing of seven sent
answers (71.4%) is "consensus in"; counting the unsent draft as well gives five of eight (62.5%, with 12.5%
disagreeing), "no consensus".
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import (
    AuditEvent,
    Panel,
    Panellist,
    Rating,
    Round,
    RoundResult,
    RoundStatement,
    Submission,
)
from delphi.domain import SYSTEM, AnalysisPopulation
from delphi.errors import Conflict, InvalidInput
from delphi.panels.settings import PanelInput, update_panel
from delphi.rounds import lookup, transitions
from delphi.settings import Settings
from tests.factories import ACTOR, NOW, build_draft_panel

#: Round-1 ratings of statement 0 by the seven who sent the round, then the draft nobody sent.
SENT = [8, 8, 8, 9, 7, 4, 5]
DRAFT = 2


async def rate_with_one_unsent_draft(session: AsyncSession, panel: Panel, round_: Round) -> None:
    """Nine panellists: seven rate and send, one rates and never sends, one does nothing."""
    first = await session.scalar(
        select(RoundStatement.statement_id)
        .where(RoundStatement.round_id == round_.id)
        .order_by(RoundStatement.position)
        .limit(1)
    )
    people = (
        await session.scalars(select(Panellist).where(Panellist.panel_id == panel.id).order_by(Panellist.id))
    ).all()
    assert len(people) == 9
    for p, value in zip(people, [*SENT, DRAFT], strict=False):
        session.add(Rating(round_id=round_.id, statement_id=first, panellist_id=p.id, value=value))
    for p in people[: len(SENT)]:
        session.add(Submission(round_id=round_.id, panellist_id=p.id))
    await session.flush()


async def close_round_one(session: AsyncSession, settings: Settings, population: str) -> tuple[Panel, Round]:
    panel = await build_draft_panel(session, per_group=3)
    await update_panel(
        session,
        panel,
        PanelInput(title=panel.title, rule=panel.rule, analysis_population=population),
        ACTOR,
    )
    round1 = await lookup.get_round(session, panel, 1)
    await transitions.open_round(session, panel, round1, now=NOW, settings=settings, actor=ACTOR)
    await rate_with_one_unsent_draft(session, panel, round1)
    await transitions.close_round(
        session, panel, round1, now=NOW + timedelta(days=1), settings=settings, actor=SYSTEM
    )
    return panel, round1


async def pooled_result(session: AsyncSession, round_: Round) -> RoundResult:
    first = await session.scalar(
        select(RoundStatement.statement_id)
        .where(RoundStatement.round_id == round_.id)
        .order_by(RoundStatement.position)
        .limit(1)
    )
    row = await session.scalar(
        select(RoundResult).where(
            RoundResult.round_id == round_.id, RoundResult.statement_id == first, RoundResult.scope == "all"
        )
    )
    assert row is not None
    return row


async def test_a_new_panel_counts_only_submitted_answers(session: AsyncSession, settings: Settings) -> None:
    panel = await build_draft_panel(session, per_group=3)
    assert panel.analysis_population == AnalysisPopulation.SUBMITTED


async def test_an_unsent_draft_does_not_count_under_the_submitted_population(
    session: AsyncSession, settings: Settings
) -> None:
    _, round1 = await close_round_one(session, settings, AnalysisPopulation.SUBMITTED)
    pooled = await pooled_result(session, round1)
    assert pooled.n == 7
    assert pooled.pct_agree == pytest.approx(100 * 5 / 7)
    assert pooled.verdict == "in"
    assert sum(pooled.counts) == 7 and pooled.counts[DRAFT - 1] == 0
    closed = await session.scalar(select(AuditEvent).where(AuditEvent.action == "round.closed"))
    assert closed is not None and closed.detail["respondents"] == 7


async def test_every_saved_answer_counts_under_the_all_population(
    session: AsyncSession, settings: Settings
) -> None:
    _, round1 = await close_round_one(session, settings, AnalysisPopulation.ALL)
    pooled = await pooled_result(session, round1)
    assert pooled.n == 8
    assert pooled.pct_agree == pytest.approx(62.5) and pooled.pct_disagree == pytest.approx(12.5)
    assert pooled.verdict == "none"


async def test_the_population_locks_with_the_rule_and_the_lock_is_audited(
    session: AsyncSession, settings: Settings
) -> None:
    panel = await build_draft_panel(session, per_group=3)
    round1 = await lookup.get_round(session, panel, 1)
    await transitions.open_round(session, panel, round1, now=NOW, settings=settings, actor=ACTOR)
    locked = await session.scalar(select(AuditEvent).where(AuditEvent.action == "rule.locked"))
    assert locked is not None and locked.detail["analysis_population"] == "submitted"
    with pytest.raises(Conflict, match="which answers count"):
        await update_panel(
            session,
            panel,
            PanelInput(title=panel.title, rule=panel.rule, analysis_population=AnalysisPopulation.ALL),
            ACTOR,
        )
    assert panel.analysis_population == AnalysisPopulation.SUBMITTED


async def test_an_unknown_population_is_refused_with_the_reason(
    session: AsyncSession, settings: Settings
) -> None:
    panel = await build_draft_panel(session, per_group=3)
    with pytest.raises(InvalidInput) as err:
        await update_panel(
            session, panel, PanelInput(title=panel.title, analysis_population="everyone"), ACTOR
        )
    assert ("analysis_population", "Choose which answers count: submitted only, or every saved one.") in (
        err.value.errors or []
    )
