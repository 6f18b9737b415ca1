"""API of a closed round's ranking questions: frozen figures pooled and per group, and the change from the round
before (:mod:`delphi.results.rankings`). Listed with the results handlers (:data:`delphi.web.api.results.HANDLERS`).

Shapes as the other results schemas: statistics are ``null`` where undefined; ranks are 1 = first; every group is
included, with ``suppressed`` and ``shown_to_panellists`` saying what panellists were shown.
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec
from litestar import get
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.results import rankings
from delphi.results.frame import load_frame
from delphi.web.api.problems import CONFLICT, PROBLEMS
from delphi.web.guards import PanelAccess
from delphi.web.schemas import RoundNumber


class RankingItemResult(msgspec.Struct):
    item_id: int
    text: str
    #: Place in the scope's order by mean rank, 1 = first.
    place: int
    mean_rank: float | None
    median_rank: float | None
    rank_sum: float | None


class RankingScope(msgspec.Struct):
    #: "all" or "group:<id>".
    scope: str
    group_id: int | None
    name: str
    #: Complete rankings counted (they alone enter W).
    n: int
    n_unable: int
    #: Kendall's W, tie-corrected, 0-1.
    w: float | None
    chi2: float | None
    df: int
    pvalue: float | None
    verdict: Literal["in", "none", "insufficient"]
    #: In the scope's order by mean rank.
    items: list[RankingItemResult]
    suppressed: bool
    shown_to_panellists: bool


class RankCorrelation(msgspec.Struct):
    pseudonym: str
    group: str
    #: Spearman's rho with the panellist's own ranking in the round before, -1 to 1; null when undefined.
    rho: float | None


class RankingQuestionResult(msgspec.Struct):
    question_id: int
    text: str
    verdict: Literal["in", "none", "insufficient"]
    pooled: RankingScope | None
    groups: list[RankingScope]
    #: Whether the question was asked in the round before (then previous_w, w_change and correlations apply).
    compared: bool
    previous_w: float | None
    w_change: float | None
    median_rho: float | None
    correlations: list[RankCorrelation]


class RoundRankingResults(msgspec.Struct):
    round: int
    #: The ranking rule in words.
    rule: str
    w_min: float
    #: "submitted" or "all": the answers these figures count.
    analysis_population: str
    analysis_population_text: str
    k_min: int
    questions: list[RankingQuestionResult]


def _verdict(v: str) -> Any:
    return v if v in rankings.VERDICTS else "insufficient"


def scope_schema(s: rankings.ScopeRanking) -> RankingScope:
    return RankingScope(
        scope=s.scope,
        group_id=s.group_id,
        name=s.name,
        n=s.n,
        n_unable=s.n_unable,
        w=s.w,
        chi2=s.chi2,
        df=s.df,
        pvalue=s.pvalue,
        verdict=_verdict(s.verdict),
        items=[
            RankingItemResult(i.item_id, i.text, i.place, i.mean_rank, i.median_rank, i.rank_sum)
            for i in s.items
        ],
        suppressed=s.suppressed,
        shown_to_panellists=s.shown_to_panellists,
    )


@get(
    "/panels/{panel_id:int}/rounds/{number:int}/rankings",
    responses={**PROBLEMS, **CONFLICT},
    summary="Frozen ranking results of a closed round: Kendall's W and mean ranks, pooled and per group",
)
async def get_rankings(
    panel_access: PanelAccess, number: RoundNumber, db_session: AsyncSession
) -> RoundRankingResults:
    frame = await load_frame(db_session, panel_access.panel)
    round_ = frame.closed_round(number)
    result = await rankings.load_round_rankings(db_session, frame.panel, round_, frame.groups)
    return RoundRankingResults(
        round=number,
        rule=result.rule,
        w_min=result.w_min,
        analysis_population=result.population.value,
        analysis_population_text=result.population.description,
        k_min=frame.panel.k_min,
        questions=[
            RankingQuestionResult(
                question_id=q.question_id,
                text=q.text,
                verdict=_verdict(q.verdict),
                pooled=scope_schema(q.pooled) if q.pooled else None,
                groups=[scope_schema(g) for g in q.groups],
                compared=q.compared,
                previous_w=q.previous_w,
                w_change=q.w_change,
                median_rho=q.median_rho,
                correlations=[RankCorrelation(c.pseudonym, c.group, c.rho) for c in q.correlations],
            )
            for q in result.questions
        ],
    )


HANDLERS: list[Any] = [get_rankings]
