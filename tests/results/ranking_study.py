"""A study with a ranking question over two closed rounds, for the ranking results, export and API tests.

The panel is the one of :func:`tests.study.study_panel` (6 service users, 6 practitioners, 2 experts under
k = 3; analysis population ``submitted``). One ranking question, "Order these priorities", with four items A-D,
is asked in rounds 1 and 2 (:data:`RANKS_1`, :data:`RANKS_2`); the rounds are closed by the engine's own
``close_round`` (:func:`tests.study.close`). Should the close not freeze ranking figures (the ranking close not
yet wired into it), :func:`freeze` freezes them with :func:`delphi.stats.ranking.summarise_ranking` as the close
does: complete rankings of the analysis population, pooled and per group.

In round 2 P-001 drops out, but saves an unsent ranking (:data:`P001_DRAFT`): not counted under ``submitted``.
P-006 answers "unable to rank" in round 1.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import numpy as np
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import (
    Panellist,
    RankAnswer,
    RankingItem,
    RankingQuestion,
    RankingResult,
    Round,
    RoundRanking,
    Submission,
)
from delphi.domain import POOLED_SCOPE, AnalysisPopulation, group_scope
from delphi.settings import Settings
from delphi.stats.ranking import ranking_verdict, summarise_ranking
from tests.factories import make_account
from tests.study import ROUND1, ROUND2, Study, close, open_round, rate, study_panel

QUESTION = "Order these priorities"
ITEMS = ("Same-week appointments", "Peer workers", "Evening opening", "Take-home doses")
U = "unable"
#: Round-1 rankings of items A-D per panellist (P-001 first): 6 service users, 6 practitioners, 2 experts.
RANKS_1: list[list[int] | str | None] = [
    [1, 2, 3, 4], [1, 3, 2, 4], [2, 1, 3, 4], [1, 2, 4, 3], [1, 2, 3, 4], U,
    [2, 1, 3, 4], [1, 2, 3, 4], [3, 1, 2, 4], [1, 2, 3, 4], [2, 1, 4, 3], [1, 3, 2, 4],
    [4, 3, 2, 1], [1, 2, 3, 4],
]  # fmt: skip
#: Round 2: P-001 has dropped out (None; see P001_DRAFT), the rest agree more.
RANKS_2: list[list[int] | str | None] = [
    None, [1, 2, 3, 4], [1, 2, 3, 4], [1, 2, 3, 4], [1, 2, 3, 4], [1, 2, 3, 4],
    [2, 1, 3, 4], [1, 2, 3, 4], [1, 2, 3, 4], [1, 2, 3, 4], [1, 2, 3, 4], [1, 2, 3, 4],
    [1, 2, 3, 4], [1, 2, 3, 4],
]  # fmt: skip
#: P-001's round-2 ranking, saved and never sent.
P001_DRAFT = [4, 3, 2, 1]


@dataclass
class RankingStudy:
    study: Study
    question: RankingQuestion
    items: list[RankingItem]
    rounds: dict[int, Round] = field(default_factory=dict)
    #: Whether the engine's close froze the ranking figures (False: :func:`freeze` did).
    frozen_by_close: bool = False


async def answer(
    session: AsyncSession, rs: RankingStudy, round_: Round, table: list[list[int] | str | None]
) -> None:
    """Save the rankings of ``table`` (None: no answer) for the study's panellists in ``round_``."""
    when = round_.opened_at + timedelta(days=1)
    rows = []
    for p, ranks in zip(rs.study.panellists, table, strict=True):
        if ranks is None:
            continue
        unable = ranks == U
        rows.append(
            {
                "round_id": round_.id,
                "question_id": rs.question.id,
                "panellist_id": p.id,
                "ranks": {} if unable else {str(i.id): r for i, r in zip(rs.items, ranks, strict=True)},
                "unable": unable,
                "created_at": when,
                "updated_at": when,
            }
        )
    await session.execute(insert(RankAnswer), rows)


async def link(session: AsyncSession, rs: RankingStudy, round_: Round) -> RoundRanking:
    """The question's link to ``round_``, made when the engine did not carry it forward."""
    row = await session.scalar(
        select(RoundRanking).where(
            RoundRanking.round_id == round_.id, RoundRanking.question_id == rs.question.id
        )
    )
    if row is None:
        row = RoundRanking(round_id=round_.id, question_id=rs.question.id, position=0, outcome={})
        session.add(row)
        await session.flush()
    return row


async def freeze(session: AsyncSession, rs: RankingStudy, round_: Round) -> None:
    """Freeze the question's figures of ``round_`` as the close does, unless the close already did."""
    done = await session.scalar(select(RankingResult.id).where(RankingResult.round_id == round_.id))
    if done is not None:
        rs.frozen_by_close = True
        return
    panel = rs.study.panel
    query = (
        select(RankAnswer, Panellist.group_id)
        .join(Panellist, Panellist.id == RankAnswer.panellist_id)
        .where(RankAnswer.round_id == round_.id, RankAnswer.question_id == rs.question.id)
    )
    if panel.analysis_population == AnalysisPopulation.SUBMITTED:
        query = query.where(
            select(Submission.id)
            .where(Submission.round_id == round_.id, Submission.panellist_id == RankAnswer.panellist_id)
            .exists()
        )
    answers = (await session.execute(query)).all()
    scopes = [(POOLED_SCOPE, None, answers)] + [
        (group_scope(g.id), g.id, [a for a in answers if a[1] == g.id]) for g in rs.study.groups.values()
    ]
    for scope, gid, part in scopes:
        matrix = np.array(
            [[float(a.ranks.get(str(i.id), "nan")) for i in rs.items] for a, _ in part], dtype=float
        ).reshape(len(part), len(rs.items))
        s = summarise_ranking(matrix, np.array([a.unable for a, _ in part], dtype=bool))
        k = s.kendall
        verdict = ranking_verdict(k.w, s.n_raters, w_min=panel.ranking_w_min, k_min=panel.k_min)
        session.add(
            RankingResult(
                round_id=round_.id,
                question_id=rs.question.id,
                scope=scope,
                group_id=gid,
                n=s.n_raters,
                n_unable=s.n_unable,
                w=_float(k.w),
                chi2=_float(k.chi2),
                df=len(rs.items) - 1,
                pvalue=_float(k.pvalue),
                verdict=verdict,
                items=[
                    {
                        "item_id": i.id,
                        "mean_rank": _float(s.mean_rank[j]),
                        "median_rank": _float(s.median_rank[j]),
                        "rank_sum": _float(s.rank_sum[j]) if s.n_raters else None,
                    }
                    for j, i in enumerate(rs.items)
                ],
                stats={"ties": s.ties},
            )
        )
        if scope == POOLED_SCOPE:
            (await link(session, rs, round_)).verdict = verdict
    await session.flush()


def _float(x: float) -> float | None:
    return None if x != x else float(x)


async def build_ranking_study(
    session: AsyncSession, settings: Settings, *, rounds: int = 2, population: str = "submitted"
) -> RankingStudy:
    """The study of the module docstring with ``rounds`` (1 or 2) closed rounds, committed."""
    owner = await make_account(session, "owner@facilitators.example")
    study = await study_panel(session, owner, population=population)
    question = RankingQuestion(panel_id=study.panel.id, text=QUESTION, position=0)
    session.add(question)
    await session.flush()
    items = [RankingItem(question_id=question.id, text=t, position=i) for i, t in enumerate(ITEMS)]
    session.add_all(items)
    await session.flush()
    rs = RankingStudy(study, question, items)
    r1 = await open_round(session, study, 1)
    await link(session, rs, r1)
    await rate(session, study, r1, ROUND1)
    await answer(session, rs, r1, RANKS_1)
    await close(session, study, r1, settings)
    await freeze(session, rs, r1)
    rs.rounds[1] = r1
    if rounds >= 2:
        r2 = study.rounds[2]
        await link(session, rs, r2)
        r2 = await open_round(session, study, 2)
        await rate(session, study, r2, {"S2": ROUND2["S2"]})
        await answer(session, rs, r2, RANKS_2)
        draft = [P001_DRAFT] + [None] * 13
        await answer(session, rs, r2, draft)  # type: ignore[arg-type]
        await close(session, study, r2, settings)
        await freeze(session, rs, r2)
        rs.rounds[2] = r2
    await session.commit()
    return rs
