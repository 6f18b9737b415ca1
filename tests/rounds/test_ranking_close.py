"""Closing a round with ranking questions: the frozen figures, the analysis population, the ranking rule, carrying
forward and retiring, and a round that asks rankings only.

Reference values follow from the definition of Kendall's W, W = 12 S / (m^2 (n^3 - n)) with S the sum of squared
deviations of the items' rank sums from their mean (Kendall & Babington Smith 1939, Ann. Math. Statist. 10(3):
275-287): m identical rankings give W = 1; rankings in pairs of opposite orders give equal rank sums, S = 0 and
W = 0.  Every other figure is compared with :func:`delphi.stats.summarise_ranking` on the same answers.
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import (
    AuditEvent,
    Panel,
    Panellist,
    RankAnswer,
    RankingQuestion,
    RankingResult,
    Round,
    RoundRanking,
    RoundStatement,
    Submission,
)
from delphi.domain import SYSTEM, AnalysisPopulation
from delphi.errors import PreconditionsUnmet
from delphi.panels.rankings import add_ranking_question, question_items
from delphi.panels.settings import PanelInput, update_panel
from delphi.panels.statements import set_in_draft
from delphi.rounds import lifecycle, lookup, transitions
from delphi.settings import Settings
from delphi.stats import summarise_ranking
from tests.factories import ACTOR, NOW, build_draft_panel

AGREED = [1, 2, 3, 4]
REVERSED = [4, 3, 2, 1]
#: Nine rankings of four items with some agreement (W strictly between 0 and 1), by panellist.
MIXED = [
    [1, 2, 3, 4],
    [2, 1, 3, 4],
    [1, 3, 2, 4],
    [1, 2, 4, 3],
    [4, 3, 2, 1],
    [1, 2, 3, 4],
    [2, 1, 4, 3],
    [3, 1, 2, 4],
    [1, 4, 2, 3],
]


async def setup(
    session: AsyncSession, *, only_rankings: bool = False, population: str = "submitted", w_min: float = 0.7
) -> tuple[Panel, Round, RankingQuestion]:
    """:func:`build_draft_panel` (nine panellists in three groups) with one ranking question of four items in
    round 1; ``only_rankings`` drops the four statements from the round."""
    panel = await build_draft_panel(session, per_group=3)
    await update_panel(
        session,
        panel,
        PanelInput(title=panel.title, rule=panel.rule, analysis_population=population, ranking_w_min=w_min),
        ACTOR,
    )
    question = await add_ranking_question(
        session, panel, "Put these changes in order", "Waits\nHours\nStaff\nRoom", False, ACTOR
    )
    round1 = await lookup.get_round(session, panel, 1)
    if only_rankings:
        for sid in (
            await session.scalars(
                select(RoundStatement.statement_id).where(RoundStatement.round_id == round1.id)
            )
        ).all():
            await set_in_draft(session, panel, sid, False, ACTOR)
    await session.flush()
    return panel, round1, question


async def people(session: AsyncSession, panel: Panel) -> list[Panellist]:
    rows = await session.scalars(
        select(Panellist).where(Panellist.panel_id == panel.id).order_by(Panellist.id)
    )
    return list(rows.all())


async def answer(
    session: AsyncSession,
    round_: Round,
    question: RankingQuestion,
    who: list[Panellist],
    rankings: list[list[int] | None],
    *,
    submit: bool = True,
) -> None:
    """Save one answer per panellist (None: "unable to rank") and, with ``submit``, send the round for them."""
    items = [i.id for i in await question_items(session, question.id)]
    for p, ranks in zip(who, rankings, strict=True):
        session.add(
            RankAnswer(
                round_id=round_.id,
                question_id=question.id,
                panellist_id=p.id,
                ranks={} if ranks is None else {str(i): r for i, r in zip(items, ranks, strict=True)},
                unable=ranks is None,
            )
        )
        if submit:
            session.add(Submission(round_id=round_.id, panellist_id=p.id))
    await session.flush()


async def open_(
    session: AsyncSession, settings: Settings, panel: Panel, round_: Round, days: int = 0
) -> None:
    round_.closes_at = NOW + timedelta(days=days + 10)
    await transitions.open_round(
        session, panel, round_, now=NOW + timedelta(days=days), settings=settings, actor=ACTOR
    )


async def close(
    session: AsyncSession, settings: Settings, panel: Panel, round_: Round, days: int = 1
) -> transitions.CloseOutcome:
    return await transitions.close_round(
        session, panel, round_, now=NOW + timedelta(days=days), settings=settings, actor=SYSTEM
    )


async def results(
    session: AsyncSession, round_: Round, question: RankingQuestion
) -> dict[str, RankingResult]:
    rows = await session.scalars(
        select(RankingResult).where(
            RankingResult.round_id == round_.id, RankingResult.question_id == question.id
        )
    )
    return {r.scope: r for r in rows.all()}


async def link(session: AsyncSession, round_: Round, question: RankingQuestion) -> RoundRanking | None:
    return await session.scalar(
        select(RoundRanking).where(
            RoundRanking.round_id == round_.id, RoundRanking.question_id == question.id
        )
    )


async def test_the_frozen_figures_equal_summarise_ranking_on_the_same_answers(
    session: AsyncSession, settings: Settings
) -> None:
    panel, round1, question = await setup(session)
    await open_(session, settings, panel, round1)
    who = await people(session, panel)
    await answer(session, round1, question, who, [*MIXED[:8], None])
    await close(session, settings, panel, round1)
    frozen = await results(session, round1, question)
    expected = summarise_ranking(np.array([*MIXED[:8], [np.nan] * 4]), np.array([False] * 8 + [True]))
    pooled = frozen["all"]
    assert pooled.w == pytest.approx(expected.kendall.w)
    assert pooled.chi2 == pytest.approx(expected.kendall.chi2)
    assert pooled.pvalue == pytest.approx(expected.kendall.pvalue)
    assert (pooled.n, pooled.n_unable, pooled.df) == (8, 1, 3)
    assert [i["mean_rank"] for i in pooled.items] == pytest.approx(expected.mean_rank.tolist())
    assert [i["rank_sum"] for i in pooled.items] == pytest.approx(expected.rank_sum.tolist())
    items = [i.id for i in await question_items(session, question.id)]
    assert [i["item_id"] for i in pooled.items] == items
    # one row per group too, each equal to the summary of that group's answers
    groups = sorted({p.group_id for p in who})
    assert set(frozen) == {"all", *(f"group:{g}" for g in groups)}
    for g in groups:
        rows = [r for p, r in zip(who, [*MIXED[:8], None], strict=True) if p.group_id == g and r is not None]
        mine = summarise_ranking(np.array(rows, dtype=float))
        got = frozen[f"group:{g}"]
        assert got.n == mine.n_raters
        assert got.w == (None if np.isnan(mine.kendall.w) else pytest.approx(mine.kendall.w))
    rr = await link(session, round1, question)
    assert rr is not None and rr.verdict == ("in" if expected.kendall.w >= 0.7 else "none")
    assert rr.outcome["w"] == pytest.approx(expected.kendall.w)
    assert rr.outcome["w_change"] is None  # not asked before round 1
    event = await session.scalar(select(AuditEvent).where(AuditEvent.action == "round.closed"))
    assert event is not None and sum(event.detail["ranking_verdicts"].values()) == 1


@pytest.mark.parametrize(
    ("population", "n"), [(AnalysisPopulation.SUBMITTED, 6), (AnalysisPopulation.ALL, 9)]
)
async def test_an_unsent_answer_counts_only_under_the_every_saved_answer_population(
    session: AsyncSession, settings: Settings, population: str, n: int
) -> None:
    panel, round1, question = await setup(session, population=population)
    await open_(session, settings, panel, round1)
    who = await people(session, panel)
    await answer(session, round1, question, who[:6], [AGREED] * 6)
    await answer(session, round1, question, who[6:], [REVERSED] * 3, submit=False)
    await close(session, settings, panel, round1)
    pooled = (await results(session, round1, question))["all"]
    assert pooled.n == n
    assert pooled.w == pytest.approx(1.0 if n == 6 else expected_w([AGREED] * 6 + [REVERSED] * 3))


def expected_w(rows: list[list[int]]) -> float:
    return summarise_ranking(np.array(rows, dtype=float)).kendall.w


async def test_a_ranking_without_consensus_is_carried_into_the_next_draft_and_w_change_is_frozen(
    session: AsyncSession, settings: Settings
) -> None:
    panel, round1, question = await setup(session, only_rankings=True)
    await open_(session, settings, panel, round1)
    who = await people(session, panel)
    await answer(session, round1, question, who[:8], [AGREED, REVERSED] * 4)
    outcome = await close(session, settings, panel, round1)
    rr1 = await link(session, round1, question)
    assert rr1 is not None and rr1.verdict == "none" and rr1.outcome["w"] == pytest.approx(0.0)
    assert not outcome.finished and outcome.next_round == 2
    round2 = await lookup.get_round(session, panel, 2)
    assert await link(session, round2, question) is not None
    assert question.status == "active"
    await open_(session, settings, panel, round2, days=2)
    await answer(session, round2, question, who, [AGREED] * 9)
    await close(session, settings, panel, round2, days=3)
    rr2 = await link(session, round2, question)
    assert rr2 is not None and rr2.verdict == "in"
    assert rr2.outcome["w_previous"] == pytest.approx(0.0)
    assert rr2.outcome["w_change"] == pytest.approx(1.0)
    assert (await results(session, round2, question))["all"].stats["w_change"] == pytest.approx(1.0)


async def test_a_ranking_with_consensus_is_retired_and_with_nothing_else_left_the_panel_finishes(
    session: AsyncSession, settings: Settings
) -> None:
    panel, round1, question = await setup(session, only_rankings=True)
    await open_(session, settings, panel, round1)
    await answer(session, round1, question, await people(session, panel), [AGREED] * 9)
    outcome = await close(session, settings, panel, round1)
    await session.refresh(question)
    assert (question.status, question.status_round) == ("retired_in", 1)
    assert outcome.finished and panel.status == "finished"


async def test_an_unsettled_ranking_keeps_the_panel_going_when_no_statement_is_carried(
    session: AsyncSession, settings: Settings
) -> None:
    assert not lifecycle.finished_after_close(1, 3, 0, 1)
    panel, round1, question = await setup(session, only_rankings=True)
    await open_(session, settings, panel, round1)
    await answer(session, round1, question, (await people(session, panel))[:2], [AGREED, REVERSED])
    outcome = await close(session, settings, panel, round1)
    rr = await link(session, round1, question)
    assert rr is not None and rr.verdict == "insufficient"  # two rankings, fewer than k_min = 3
    assert not outcome.finished
    assert await link(session, await lookup.get_round(session, panel, 2), question) is not None


async def test_the_panels_ranking_threshold_decides_the_verdict(
    session: AsyncSession, settings: Settings
) -> None:
    rows = [AGREED] * 6 + [REVERSED] * 3
    w = expected_w(rows)
    assert 0.1 < w < 0.7
    panel, round1, question = await setup(session, w_min=w - 0.05)
    await open_(session, settings, panel, round1)
    await answer(session, round1, question, await people(session, panel), rows)
    await close(session, settings, panel, round1)
    rr = await link(session, round1, question)
    assert rr is not None and rr.verdict == "in"


async def test_a_round_with_ranking_questions_and_no_statements_opens_and_closes(
    session: AsyncSession, settings: Settings
) -> None:
    panel, round1, question = await setup(session, only_rankings=True)
    await open_(session, settings, panel, round1)
    assert round1.status == "open"
    await answer(session, round1, question, await people(session, panel), MIXED)
    outcome = await close(session, settings, panel, round1)
    assert outcome.verdicts == {}
    assert (await results(session, round1, question))["all"].n == 9


async def test_a_round_with_neither_statements_nor_rankings_says_to_add_one(
    session: AsyncSession, settings: Settings
) -> None:
    panel, round1, question = await setup(session, only_rankings=True)
    await session.delete(await link(session, round1, question))
    await session.flush()
    with pytest.raises(PreconditionsUnmet) as refused:
        await open_(session, settings, panel, round1)
    assert "Add at least one statement or ranking question to round 1." in refused.value.actions


async def test_opening_a_round_makes_its_ranking_questions_active(
    session: AsyncSession, settings: Settings
) -> None:
    panel, round1, question = await setup(session)
    question.status = "retired_in"
    await session.flush()
    await open_(session, settings, panel, round1)
    await session.refresh(question)
    assert question.status == "active"
