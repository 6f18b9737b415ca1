"""Ranking questions' results for facilitators and researchers: per round and question, and across rounds.

Reads what the close of a round froze (RankingResult rows per scope, RoundRanking verdict and outcome); the one
thing computed here is each panellist's Spearman rank correlation with their own ranking of the round before
(:func:`delphi.stats.ranking.rank_correlations`), from the saved RankAnswers of the analysis population.

Per scope (the whole panel, then each group in display order): ``n`` complete rankings, ``n_unable`` "unable to
rank" answers, Kendall's W (tie-corrected), Friedman's chi-squared with its ``df`` and p-value, the verdict under
the ranking rule (W at least ``Panel.ranking_w_min``), and each item's mean and median rank (1 = first), items in
the consensus order (lowest mean rank first, :func:`delphi.stats.ranking.consensus_order`).

As on every team page (:mod:`delphi.results.round_results`), every group is shown: a group under k is marked
``suppressed``, and ``shown_to_panellists`` says whether panellists were shown the scope under
:func:`delphi.stats.disclosure.decide` (people counted: complete rankings plus "unable to rank").

Between rounds: the change in the pooled W against the previous round (frozen figures on both sides), and per
panellist (pseudonym) rho between their two complete rankings: only panellists counted in both rounds under the
panel's analysis population, with a complete ranking in each; rho is None (undefined) when either ranking ties
every item.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import (
    AuditEvent,
    Panel,
    Panellist,
    RankAnswer,
    RankingItem,
    RankingQuestion,
    RankingResult,
    Round,
    RoundRanking,
    StakeholderGroup,
    Submission,
)
from delphi.domain import POOLED_SCOPE, AnalysisPopulation, RoundStatus, group_scope
from delphi.results.frame import Frame
from delphi.stats.disclosure import ScopeCounts, decide
from delphi.stats.ranking import consensus_order, rank_correlations, w_change

#: Ranking verdicts as frozen at close, in display order.
VERDICTS: dict[str, str] = {
    "in": "Agreement on the order",
    "none": "No agreement on the order",
    "insufficient": "Too few rankings",
}


def rule_text(w_min: float, k_min: int) -> str:
    """The ranking rule in words, e.g. "Agreement on the order when Kendall's W is at least 0.7 (tie-corrected),
    with at least 3 complete rankings"."""
    return (
        f"Agreement on the order when Kendall's W is at least {w_min:g} (tie-corrected), with at least "
        f"{max(int(k_min), 2)} complete rankings"
    )


@dataclass(frozen=True, slots=True)
class ItemFigures:
    """One item's frozen figures in one scope: ``place`` is its place in the scope's consensus order (1 = first;
    items with no figures come last), ``mean_rank``/``median_rank``/``rank_sum`` None when no one ranked."""

    item_id: int
    text: str
    place: int
    mean_rank: float | None
    median_rank: float | None
    rank_sum: float | None


@dataclass(frozen=True, slots=True)
class ScopeRanking:
    """One scope's frozen ranking figures; ``group_id`` None for the whole panel. ``items`` in the consensus order.

    ``w``, ``chi2``, ``pvalue`` None where undefined (fewer than 2 complete rankings, or every ranking ties every
    item); ``suppressed`` true for a group with fewer than k complete rankings;
    ``shown_to_panellists`` as the module docstring says; ``stats`` the rest of the frozen statistics."""

    scope: str
    group_id: int | None
    name: str
    lived_experience: bool
    n: int
    n_unable: int
    w: float | None
    chi2: float | None
    df: int
    pvalue: float | None
    verdict: str
    items: tuple[ItemFigures, ...]
    suppressed: bool
    shown_to_panellists: bool = True
    stats: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PanellistChange:
    """A panellist's Spearman rho between their complete rankings of a question in this and the previous round
    (None when undefined: a ranking that ties every item)."""

    pseudonym: str
    group: str
    rho: float | None


@dataclass(frozen=True, slots=True)
class QuestionRanking:
    """One ranking question's results in one closed round.

    ``verdict`` is the round's verdict under the ranking rule (RoundRanking.verdict, else the pooled row's);
    ``previous_w`` the pooled W of the round before (None when not asked there or undefined), ``w_change`` this
    round's W minus it; ``compared`` whether the question was asked in the round before; ``correlations`` one per
    panellist compared, by pseudonym; ``median_rho`` their median (None without any defined rho)."""

    question_id: int
    text: str
    position: int
    allow_ties: bool
    verdict: str
    pooled: ScopeRanking | None
    groups: tuple[ScopeRanking, ...]
    compared: bool = False
    previous_w: float | None = None
    w_change: float | None = None
    correlations: tuple[PanellistChange, ...] = ()
    median_rho: float | None = None
    outcome: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RoundRankings:
    """The ranking questions of one closed round with the analysis population and the ranking rule."""

    round: int
    population: AnalysisPopulation
    w_min: float
    rule: str
    questions: tuple[QuestionRanking, ...]


def _number(value: Any) -> float | None:
    """A frozen float as a float, None for None or NaN."""
    if value is None:
        return None
    x = float(value)
    return None if math.isnan(x) else x


def scope_figures(
    row: RankingResult,
    items: Sequence[RankingItem],
    group: StakeholderGroup | None,
    k_min: int,
    shown_to_panellists: bool = True,
) -> ScopeRanking:
    """A RankingResult row as :class:`ScopeRanking` (pure); ``items`` the question's items in its order.
    An item missing from the row's ``items`` has no figures (None) and comes last."""
    frozen = {int(d.get("item_id")): d for d in (row.items or []) if isinstance(d, Mapping)}
    means = [_number(frozen.get(i.id, {}).get("mean_rank")) for i in items]
    order = consensus_order([float("nan") if m is None else m for m in means])
    ordered = []
    for place, index in enumerate(order, start=1):
        item = items[index]
        d = frozen.get(item.id, {})
        ordered.append(
            ItemFigures(
                item.id,
                item.text,
                place,
                means[index],
                _number(d.get("median_rank")),
                _number(d.get("rank_sum")),
            )
        )
    return ScopeRanking(
        scope=row.scope,
        group_id=row.group_id,
        name=group.name if group is not None else "All panellists",
        lived_experience=bool(group is not None and group.is_lived_experience),
        n=int(row.n),
        n_unable=int(row.n_unable),
        w=_number(row.w),
        chi2=_number(row.chi2),
        df=int(row.df),
        pvalue=_number(row.pvalue),
        verdict=row.verdict,
        items=tuple(ordered),
        suppressed=group is not None and int(row.n) < k_min,
        shown_to_panellists=shown_to_panellists,
        stats=dict(row.stats or {}),
    )


def shown_scopes(
    rows: Mapping[str, RankingResult], groups: Sequence[StakeholderGroup], k_min: int
) -> frozenset[str]:
    """The scope keys of one question's rows panellists could be shown, by :func:`delphi.stats.disclosure.decide`
    on the people counted (complete rankings as ``n``, "unable to rank" as ``n_unable``); empty without a pooled
    row or when fewer than k ranked."""
    pooled = rows.get(POOLED_SCOPE)
    if pooled is None:
        return frozenset()
    present = [g for g in groups if group_scope(g.id) in rows]

    def counts(r: RankingResult) -> ScopeCounts:
        return ScopeCounts(int(r.n), int(r.n_unable), ())

    release = decide(counts(pooled), [counts(rows[group_scope(g.id)]) for g in present], k_min)
    if not release.pooled:
        return frozenset()
    return frozenset(
        {POOLED_SCOPE} | {group_scope(g.id) for g, on in zip(present, release.groups, strict=True) if on}
    )


def rank_vector(ranks: Mapping[str, Any], items: Sequence[RankingItem]) -> list[float]:
    """A saved answer's ranks in the question's item order, NaN where an item has no rank (pure)."""
    out = []
    for item in items:
        value = ranks.get(str(item.id))
        try:
            out.append(float(value) if value is not None and value != "" else math.nan)
        except (TypeError, ValueError):
            out.append(math.nan)
    return out


def correlations(
    previous: Mapping[int, Mapping[str, Any]],
    current: Mapping[int, Mapping[str, Any]],
    items: Sequence[RankingItem],
    people: Mapping[int, tuple[str, str]],
) -> tuple[PanellistChange, ...]:
    """Spearman rho per panellist ranking completely in both rounds (pure), ordered by pseudonym.

    ``previous`` and ``current`` map panellist ids to their ``ranks`` (unable and incomplete answers left out by
    the caller or here: a ranking with any item missing is skipped); ``people`` maps panellist ids to
    ``(pseudonym, group name)``."""
    both = []
    for pid in sorted(set(previous) & set(current)):
        a, b = rank_vector(previous[pid], items), rank_vector(current[pid], items)
        if any(math.isnan(x) for x in a + b):
            continue
        both.append((pid, a, b))
    if not both or len(items) < 2:
        return ()
    rho = rank_correlations(np.array([a for _, a, _ in both]), np.array([b for _, _, b in both]))
    out = [
        PanellistChange(people.get(pid, ("", ""))[0], people.get(pid, ("", ""))[1], _number(r))
        for (pid, _, _), r in zip(both, rho, strict=True)
    ]
    return tuple(sorted(out, key=lambda c: c.pseudonym))


def median_rho(changes: Iterable[PanellistChange]) -> float | None:
    """The median of the defined rhos, None without any (pure)."""
    values = [c.rho for c in changes if c.rho is not None]
    return float(np.median(values)) if values else None


def assemble(
    links: Iterable[tuple[RoundRanking, RankingQuestion]],
    items: Mapping[int, Sequence[RankingItem]],
    results: Iterable[RankingResult],
    groups: Sequence[StakeholderGroup],
    k_min: int,
    *,
    previous_w: Mapping[int, float | None] | None = None,
    changes: Mapping[int, tuple[PanellistChange, ...]] | None = None,
) -> list[QuestionRanking]:
    """Join a round's ranking questions with their frozen rows (pure); groups in ``groups`` order.

    ``previous_w`` maps the question ids asked in the round before to their pooled W there (None: undefined);
    ``changes`` maps question ids to the panellists' rank correlations."""
    previous_w = previous_w or {}
    changes = changes or {}
    by_question: dict[int, dict[str, RankingResult]] = {}
    for row in results:
        by_question.setdefault(row.question_id, {})[row.scope] = row
    out = []
    for link, question in links:
        rows = by_question.get(question.id, {})
        its = list(items.get(question.id, ()))
        shown = shown_scopes(rows, groups, k_min)
        pooled_row = rows.get(POOLED_SCOPE)
        pooled = (
            scope_figures(pooled_row, its, None, k_min, POOLED_SCOPE in shown)
            if pooled_row is not None
            else None
        )
        group_rows = tuple(
            scope_figures(rows[group_scope(g.id)], its, g, k_min, group_scope(g.id) in shown)
            for g in groups
            if group_scope(g.id) in rows
        )
        compared = question.id in previous_w
        before = previous_w.get(question.id)
        now = pooled.w if pooled is not None else None
        delta = w_change(before, now) if before is not None and now is not None else None
        mine = changes.get(question.id, ())
        out.append(
            QuestionRanking(
                question_id=question.id,
                text=question.text,
                position=link.position,
                allow_ties=bool(question.allow_ties),
                verdict=link.verdict or (pooled.verdict if pooled is not None else "insufficient"),
                pooled=pooled,
                groups=group_rows,
                compared=compared,
                previous_w=before,
                w_change=delta,
                correlations=mine,
                median_rho=median_rho(mine),
                outcome=dict(link.outcome or {}),
            )
        )
    return out


async def _answers(
    session: AsyncSession, round_id: int, question_ids: Sequence[int], population: AnalysisPopulation
) -> list[tuple[int, int, dict[str, Any], str, int | None]]:
    """``(question id, panellist id, ranks, pseudonym, group id)`` of the complete (not unable) answers of the
    analysis ``population`` in round ``round_id`` (one query)."""
    if not question_ids:
        return []
    query = (
        select(
            RankAnswer.question_id,
            RankAnswer.panellist_id,
            RankAnswer.ranks,
            Panellist.pseudonym,
            Panellist.group_id,
        )
        .join(Panellist, Panellist.id == RankAnswer.panellist_id)
        .where(
            RankAnswer.round_id == round_id,
            RankAnswer.question_id.in_(question_ids),
            RankAnswer.unable.is_(False),
        )
    )
    if population == AnalysisPopulation.SUBMITTED:
        query = query.where(
            select(Submission.id)
            .where(Submission.round_id == round_id, Submission.panellist_id == RankAnswer.panellist_id)
            .exists()
        )
    rows = (await session.execute(query)).all()
    return [(int(q), int(p), dict(r or {}), str(s), g) for q, p, r, s, g in rows]


async def load_round_rankings(
    session: AsyncSession, panel: Panel, round_: Round, groups: Sequence[StakeholderGroup]
) -> RoundRankings:
    """The ranking questions of closed round ``round_`` with their frozen figures and the change from the round
    before (at most seven queries, none per question or panellist). A round without ranking questions gives an
    empty ``questions``."""
    population = AnalysisPopulation(panel.analysis_population)
    links = (
        await session.execute(
            select(RoundRanking, RankingQuestion)
            .join(RankingQuestion, RankingQuestion.id == RoundRanking.question_id)
            .where(RoundRanking.round_id == round_.id)
            .order_by(RoundRanking.position, RoundRanking.id)
        )
    ).all()
    qids = [q.id for _, q in links]
    w_min = float(panel.ranking_w_min)
    rule = rule_text(w_min, panel.k_min)
    if not qids:
        return RoundRankings(round_.number, population, w_min, rule, ())
    items: dict[int, list[RankingItem]] = {}
    for item in (
        await session.scalars(
            select(RankingItem)
            .where(RankingItem.question_id.in_(qids))
            .order_by(RankingItem.position, RankingItem.id)
        )
    ).all():
        items.setdefault(item.question_id, []).append(item)
    results = (await session.scalars(select(RankingResult).where(RankingResult.round_id == round_.id))).all()
    previous_w: dict[int, float | None] = {}
    changes: dict[int, tuple[PanellistChange, ...]] = {}
    before = await session.scalar(
        select(Round).where(
            Round.panel_id == round_.panel_id,
            Round.number == round_.number - 1,
            Round.status == RoundStatus.CLOSED,
        )
    )
    if before is not None:
        asked_before = set(
            (
                await session.scalars(
                    select(RoundRanking.question_id).where(
                        RoundRanking.round_id == before.id, RoundRanking.question_id.in_(qids)
                    )
                )
            ).all()
        )
        pooled_before = {
            r.question_id: _number(r.w)
            for r in (
                await session.scalars(
                    select(RankingResult).where(
                        RankingResult.round_id == before.id, RankingResult.scope == POOLED_SCOPE
                    )
                )
            ).all()
        }
        previous_w = {q: pooled_before.get(q) for q in asked_before}
        compared = sorted(asked_before)
        then = await _answers(session, before.id, compared, population)
        now = await _answers(session, round_.id, compared, population)
        names = {g.id: g.name for g in groups}
        people = {p: (s, names.get(g, "") if g is not None else "") for _, p, _, s, g in then + now}
        for q in compared:
            changes[q] = correlations(
                {p: r for qq, p, r, _, _ in then if qq == q},
                {p: r for qq, p, r, _, _ in now if qq == q},
                items.get(q, []),
                people,
            )
    questions = assemble(links, items, results, groups, panel.k_min, previous_w=previous_w, changes=changes)
    return RoundRankings(round_.number, population, w_min, rule, tuple(questions))


# --- the report ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RankingRound:
    """A ranking question in one closed round, as the report lists it: pooled ``n``, ``w`` (None: undefined),
    p-value, verdict, and ``w_change`` from the round before (None for its first round)."""

    round: int
    n: int | None
    n_unable: int | None
    w: float | None
    pvalue: float | None
    verdict: str
    w_change: float | None
    median_rho: float | None


@dataclass(frozen=True, slots=True)
class RankingLine:
    """One ranking question across the closed rounds: its rounds (oldest first) and the final order (the pooled
    consensus order of the last closed round that asked it, with its mean ranks)."""

    question_id: int
    text: str
    rounds: tuple[RankingRound, ...]
    final_round: int | None
    final_order: tuple[ItemFigures, ...]


@dataclass(frozen=True, slots=True)
class RankingReport:
    """The report's ranking section: the rule in words, its threshold, whether it (or the consensus rule) changed
    after round 1 opened, the analysis population, and one line per ranking question asked in a closed round."""

    rule: str
    w_min: float
    changed_after_lock: bool
    population: AnalysisPopulation
    questions: tuple[RankingLine, ...]


def ranking_changed_after_lock(panel: Panel, events: Iterable[AuditEvent]) -> bool:
    """True when the panel's rule was flagged as changed after it was fixed, or a settings change after round 1
    opened changed ``ranking_w_min`` (pure; ``events`` the panel's ``panel.updated`` events)."""
    if panel.rule_changed_after_lock:
        return True
    locked: datetime | None = panel.rule_locked_at
    if locked is None:
        return False
    return any(
        e.created_at >= locked and "ranking_w_min" in (e.detail or {}).get("fields", []) for e in events
    )


async def report_section(session: AsyncSession, frame: Frame) -> RankingReport:
    """The report's ranking section from every closed round's frozen ranking figures (a query per closed round
    that asked a ranking question, plus one for the audit trail)."""
    panel = frame.panel
    events = (
        await session.scalars(
            select(AuditEvent).where(AuditEvent.panel_id == panel.id, AuditEvent.action == "panel.updated")
        )
    ).all()
    per_question: dict[int, list[tuple[int, QuestionRanking]]] = {}
    texts: dict[int, tuple[int, str]] = {}
    for r in frame.closed_rounds:
        for q in (await load_round_rankings(session, panel, r, frame.groups)).questions:
            per_question.setdefault(q.question_id, []).append((r.number, q))
            texts.setdefault(q.question_id, (q.position, q.text))
    lines = []
    for qid, seen in sorted(per_question.items(), key=lambda kv: (texts[kv[0]][0], kv[0])):
        last_number, last = seen[-1]
        lines.append(
            RankingLine(
                question_id=qid,
                text=texts[qid][1],
                rounds=tuple(
                    RankingRound(
                        n,
                        q.pooled.n if q.pooled else None,
                        q.pooled.n_unable if q.pooled else None,
                        q.pooled.w if q.pooled else None,
                        q.pooled.pvalue if q.pooled else None,
                        q.verdict,
                        q.w_change,
                        q.median_rho,
                    )
                    for n, q in seen
                ),
                final_round=last_number,
                final_order=last.pooled.items if last.pooled else (),
            )
        )
    return RankingReport(
        rule=rule_text(float(panel.ranking_w_min), panel.k_min),
        w_min=float(panel.ranking_w_min),
        changed_after_lock=ranking_changed_after_lock(panel, events),
        population=AnalysisPopulation(panel.analysis_population),
        questions=tuple(lines),
    )
