"""Rows of ranking questions written directly, for the panellist tests of ranking (like tests/factories.py:
each helper adds to the session and flushes; the caller commits)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import (
    Panel,
    Panellist,
    RankAnswer,
    RankingItem,
    RankingQuestion,
    RankingResult,
    Round,
    RoundRanking,
    StakeholderGroup,
)
from delphi.domain import POOLED_SCOPE, group_scope


async def make_ranking(
    session: AsyncSession,
    panel: Panel,
    items: Sequence[str] = ("Waiting times", "Being listened to", "Clear letters"),
    *,
    text: str = "Which matters most to you?",
    allow_ties: bool = False,
    position: int = 0,
) -> tuple[RankingQuestion, list[RankingItem]]:
    """A ranking question of ``panel`` with ``items`` in order."""
    question = RankingQuestion(panel_id=panel.id, text=text, position=position, allow_ties=allow_ties)
    session.add(question)
    await session.flush()
    rows = [RankingItem(question_id=question.id, text=t, position=i) for i, t in enumerate(items)]
    session.add_all(rows)
    await session.flush()
    return question, rows


async def ask(
    session: AsyncSession, rnd: Round, question: RankingQuestion, position: int = 0
) -> RoundRanking:
    """Round ``rnd`` asks ``question``."""
    row = RoundRanking(round_id=rnd.id, question_id=question.id, position=position)
    session.add(row)
    await session.flush()
    return row


async def add_rank_answer(
    session: AsyncSession,
    rnd: Round,
    question: RankingQuestion,
    panellist: Panellist,
    ranks: Sequence[int] = (),
    *,
    items: Sequence[RankingItem] = (),
    unable: bool = False,
) -> RankAnswer:
    """A saved answer: ``ranks`` line up with ``items``."""
    row = RankAnswer(
        round_id=rnd.id,
        question_id=question.id,
        panellist_id=panellist.id,
        ranks={str(i.id): r for i, r in zip(items, ranks, strict=True)},
        unable=unable,
    )
    session.add(row)
    await session.flush()
    return row


async def add_ranking_result(
    session: AsyncSession,
    rnd: Round,
    question: RankingQuestion,
    items: Sequence[RankingItem],
    mean_ranks: Sequence[float],
    *,
    n: int,
    n_unable: int = 0,
    group: StakeholderGroup | None = None,
) -> RankingResult:
    """A frozen ranking result of one scope (pooled unless ``group``); ``mean_ranks`` line up with ``items``."""
    row = RankingResult(
        round_id=rnd.id,
        question_id=question.id,
        scope=group_scope(group.id) if group else POOLED_SCOPE,
        group_id=group.id if group else None,
        n=n,
        n_unable=n_unable,
        w=None,
        chi2=None,
        df=max(0, len(items) - 1),
        pvalue=None,
        verdict="none",
        items=[
            {"item_id": i.id, "mean_rank": m, "median_rank": m, "rank_sum": m * n}
            for i, m in zip(items, mean_ranks, strict=True)
        ],
    )
    session.add(row)
    await session.flush()
    return row
