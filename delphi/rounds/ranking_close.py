"""Closing a round's ranking questions, which :func:`delphi.rounds.transitions.close_round` does after the
statements' :func:`~delphi.rounds.closing.classify`:

1. :func:`close_rankings`: for each ranking question the round asked, load its answers in the panel's analysis
   population, freeze the pooled and per-group figures (:func:`delphi.stats.ranking.summarise_ranking`) as
   RankingResult rows, apply the ranking rule (:func:`delphi.stats.ranking.ranking_verdict` with
   ``Panel.ranking_w_min`` and ``Panel.k_min``) to the pooled figures, retire the questions with consensus and
   say which ones to ask again;
2. :func:`draft_rankings`: put those questions into the drafted next round.

Each changes rows in the caller's session and commits nothing; the caller holds the round's lock.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import insert, select
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
)
from delphi.db.queries import in_population, panel_group_ids
from delphi.domain import POOLED_SCOPE, AnalysisPopulation, StatementStatus, group_scope
from delphi.rounds import lifecycle
from delphi.stats import RankingSummary, ranking_verdict, summarise_ranking, w_change


@dataclass(frozen=True, slots=True)
class RankingClose:
    """What :func:`close_rankings` decided: ``verdicts`` ``{question_id: "in" | "none" | "insufficient"}`` in the
    round's order, and ``carried``, the question ids to ask in the next round (``carry_policy``)."""

    verdicts: dict[int, str]
    carried: list[int]

    def counts(self) -> dict[str, int]:
        """How many questions got each verdict, for the ``round.closed`` audit event."""
        values = list(self.verdicts.values())
        return {v: values.count(v) for v in ("in", "none", "insufficient")}


@dataclass(frozen=True, slots=True)
class RankMatrix:
    """One question's answers in one round, panellists × items.

    ``item_ids`` (n,) in the question's order; ``panellist_ids`` and ``group_ids`` (m,) one per answer, by
    panellist id; ``ranks`` float (m, n), 1 = first, NaN where an item has no rank (every item of an "unable"
    answer); ``unable`` bool (m,).
    """

    item_ids: list[int]
    panellist_ids: np.ndarray
    group_ids: np.ndarray
    ranks: np.ndarray
    unable: np.ndarray


def rank_matrix(
    item_ids: Sequence[int], answers: Sequence[tuple[int, int, dict[str, Any], bool]]
) -> RankMatrix:
    """Build the (m, n) matrix of ``answers`` (``(panellist_id, group_id, ranks, unable)``, ranks keyed by the
    item id as a string) for items ``item_ids`` in that order.  A rank that is no number, or an item missing
    from ``ranks``, is NaN (the row then counts as incomplete); an "unable" answer's ranks are ignored."""
    ids = list(item_ids)
    m, n = len(answers), len(ids)
    ranks = np.full((m, n), np.nan)
    unable = np.zeros(m, dtype=bool)
    for r, (_, _, given, is_unable) in enumerate(answers):
        if is_unable:
            unable[r] = True
            continue
        for j, item_id in enumerate(ids):
            value = (given or {}).get(str(item_id))
            if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
                ranks[r, j] = float(value)
    return RankMatrix(
        ids,
        np.array([a[0] for a in answers], dtype=np.int64),
        np.array([a[1] for a in answers], dtype=np.int64),
        ranks,
        unable,
    )


async def load_rank_matrix(
    session: AsyncSession, round_id: int, question_id: int, population: AnalysisPopulation
) -> RankMatrix:
    """The round's saved answers to ``question_id`` in the analysis ``population`` (``submitted``: only the
    panellists who sent round ``round_id``; ``all``: every saved answer), as a :class:`RankMatrix`."""
    item_ids = list(
        (
            await session.scalars(
                select(RankingItem.id)
                .where(RankingItem.question_id == question_id)
                .order_by(RankingItem.position, RankingItem.id)
            )
        ).all()
    )
    rows = (
        await session.execute(
            select(RankAnswer.panellist_id, Panellist.group_id, RankAnswer.ranks, RankAnswer.unable)
            .join(Panellist, Panellist.id == RankAnswer.panellist_id)
            .where(
                RankAnswer.round_id == round_id,
                RankAnswer.question_id == question_id,
                in_population(round_id, population),
            )
            .order_by(RankAnswer.panellist_id)
        )
    ).all()
    return rank_matrix(item_ids, [tuple(r) for r in rows])


def _num(x: Any) -> float | None:
    """A JSON-able float: None for NaN."""
    x = float(x)
    return None if math.isnan(x) else x


def _result_row(
    round_id: int,
    question_id: int,
    scope: str,
    group_id: int | None,
    item_ids: list[int],
    summary: RankingSummary,
    verdict: str,
    now: datetime,
    stats: dict[str, Any],
) -> dict[str, Any]:
    k = summary.kendall
    empty = summary.n_raters == 0
    return {
        "round_id": round_id,
        "question_id": question_id,
        "scope": scope,
        "group_id": group_id,
        "n": summary.n_raters,
        "n_unable": summary.n_unable,
        "w": _num(k.w),
        "chi2": _num(k.chi2),
        "df": int(k.df),
        "pvalue": _num(k.pvalue),
        "verdict": verdict,
        "items": [
            {
                "item_id": item_id,
                "mean_rank": None if empty else _num(summary.mean_rank[j]),
                "median_rank": None if empty else _num(summary.median_rank[j]),
                "rank_sum": None if empty else _num(summary.rank_sum[j]),
            }
            for j, item_id in enumerate(item_ids)
        ],
        "stats": {"ties": summary.ties, "n_incomplete": summary.n_incomplete, **stats},
        "computed_at": now,
    }


async def _previous_w(session: AsyncSession, panel: Panel, round_: Round, question_id: int) -> float | None:
    """The pooled W frozen for the question in the round before ``round_``; None when it was not asked then
    (or W was undefined)."""
    if round_.number == 1:
        return None
    return await session.scalar(
        select(RankingResult.w)
        .join(Round, Round.id == RankingResult.round_id)
        .where(
            Round.panel_id == panel.id,
            Round.number == round_.number - 1,
            RankingResult.question_id == question_id,
            RankingResult.scope == POOLED_SCOPE,
        )
    )


async def close_rankings(
    session: AsyncSession, panel: Panel, round_: Round, *, now: datetime, carry_policy: str = "unsettled"
) -> RankingClose:
    """Freeze and judge every ranking question ``round_`` asked; returns the verdicts and the questions to
    carry forward.

    Reads the round's RoundRanking links (in their order), each question's items and answers in the panel's
    analysis population, the panel's groups and the pooled W of the round before.  Writes one RankingResult per
    question and scope (pooled, then each group, even one with no answer; ``computed_at`` = ``now``); each
    link's ``verdict`` (the pooled figures under the ranking rule) and ``outcome``: ``w`` (None when undefined),
    ``w_previous`` and ``w_change`` (W minus the previous round's pooled W; None when the question was not
    asked then), ``n``, ``n_unable`` and ``suppressed_groups`` (group ids with fewer than ``panel.k_min``
    complete rankings, never released to panellists).  Questions with verdict "in" are retired
    (``status`` retired_in, ``status_round`` this round's number).  ``carried``: :func:`lifecycle.carry_forward`
    with ``carry_policy`` (ValueError for an unknown one), as for statements.
    """
    links = list(
        (
            await session.scalars(
                select(RoundRanking)
                .where(RoundRanking.round_id == round_.id)
                .order_by(RoundRanking.position, RoundRanking.id)
            )
        ).all()
    )
    if not links:
        return RankingClose({}, lifecycle.carry_forward({}, carry_policy))
    population = AnalysisPopulation(panel.analysis_population)
    gids = (await panel_group_ids(session, panel.id)).tolist()
    rows: list[dict[str, Any]] = []
    verdicts: dict[int, str] = {}
    for link in links:
        matrix = await load_rank_matrix(session, round_.id, link.question_id, population)
        pooled = summarise_ranking(matrix.ranks, matrix.unable)
        verdict = ranking_verdict(
            pooled.kendall.w, pooled.n_raters, w_min=panel.ranking_w_min, k_min=panel.k_min
        )
        before = await _previous_w(session, panel, round_, link.question_id)
        change = None if before is None else _num(w_change(before, pooled.kendall.w))
        rows.append(
            _result_row(
                round_.id,
                link.question_id,
                POOLED_SCOPE,
                None,
                matrix.item_ids,
                pooled,
                verdict,
                now,
                {"w_previous": before, "w_change": change},
            )
        )
        suppressed = []
        for gid in gids:
            in_group = matrix.group_ids == gid
            summary = summarise_ranking(matrix.ranks[in_group], matrix.unable[in_group])
            group_verdict = ranking_verdict(
                summary.kendall.w, summary.n_raters, w_min=panel.ranking_w_min, k_min=panel.k_min
            )
            if summary.n_raters < panel.k_min:
                suppressed.append(gid)
            rows.append(
                _result_row(
                    round_.id,
                    link.question_id,
                    group_scope(gid),
                    gid,
                    matrix.item_ids,
                    summary,
                    group_verdict,
                    now,
                    {},
                )
            )
        verdicts[link.question_id] = verdict
        link.verdict = verdict
        link.outcome = {
            "w": _num(pooled.kendall.w),
            "w_previous": before,
            "w_change": change,
            "n": pooled.n_raters,
            "n_unable": pooled.n_unable,
            "suppressed_groups": suppressed,
        }
    await session.execute(insert(RankingResult), rows)
    settled = [qid for qid, v in verdicts.items() if v == "in"]
    if settled:
        for question in (
            await session.scalars(select(RankingQuestion).where(RankingQuestion.id.in_(settled)))
        ).all():
            question.status = StatementStatus.RETIRED_IN
            question.status_round = round_.number
    return RankingClose(verdicts, lifecycle.carry_forward(verdicts, carry_policy))


async def draft_rankings(session: AsyncSession, round_: Round, nxt: Round, carried: Sequence[int]) -> None:
    """Ask the ``carried`` ranking questions of ``round_`` again in the drafted round ``nxt``, each at the
    position it had in ``round_``, with an empty outcome."""
    if not carried:
        return
    position = dict(
        (
            await session.execute(
                select(RoundRanking.question_id, RoundRanking.position).where(
                    RoundRanking.round_id == round_.id
                )
            )
        ).all()
    )
    await session.execute(
        insert(RoundRanking),
        [
            {"round_id": nxt.id, "question_id": qid, "position": position[qid], "outcome": {}}
            for qid in carried
        ],
    )
