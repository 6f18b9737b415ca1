"""The three steps of closing a round, which :func:`delphi.rounds.transitions.close_round` takes in order:

1. :func:`freeze`: take the round's answers in the panel's analysis population into frozen results;
2. :func:`classify`: apply the consensus rule: each statement's verdict and outcome, settled ones retired;
3. :func:`draft_next`: draft the next round with the statements asked again (unless the panel finishes).

Each changes rows in the caller's session and commits nothing; the caller holds the round's lock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import Panel, Round, RoundResult, RoundStatement, StakeholderGroup, Statement
from delphi.db.queries import count_round_ratings, load_rating_matrix
from delphi.domain import POOLED_SCOPE, AnalysisPopulation, RoundStatus, StatementStatus, group_scope
from delphi.rounds.lookup import analysis_settings, panel_rule
from delphi.stats import (
    AnalysisSettings,
    ConsensusRule,
    RoundAnalysis,
    Stability,
    analyse_tabulation,
    stability,
)


@dataclass(frozen=True, slots=True)
class Frozen:
    """What :func:`freeze` computed, for :func:`classify`.

    ``statement_ids`` (S) and ``group_ids`` (G) give the axes of ``analysis``; ``stability`` is
    :func:`_stability`'s ``(row_of_statement, Stability or None)``, None for round 1; ``respondents`` counts
    the panellists in the analysis population with any saved answer.
    """

    statement_ids: list[int]
    group_ids: list[int]
    analysis: RoundAnalysis
    stability: tuple[np.ndarray, Stability | None] | None
    respondents: int


async def freeze(session: AsyncSession, panel: Panel, round_: Round, *, now: datetime) -> Frozen:
    """Freeze the results of ``round_``.

    Reads the round's ratings in the panel's analysis population (counted in SQL, never loaded), the panel's
    rule and analysis settings, and the paired answers of the previous round for stability.  Writes one
    RoundResult per statement and scope (pooled, and each group) with ``computed_at`` = ``now``.
    """
    rule, stats_settings = panel_rule(panel), analysis_settings(panel)
    population = AnalysisPopulation(panel.analysis_population)
    tally = await count_round_ratings(
        session, panel.id, round_.id, panel.scale_min, panel.scale_max, population=population
    )
    analysis = analyse_tabulation(tally.tabulation, rule, stats_settings)
    stab = await _stability(session, panel, round_, tally.statement_ids, rule, stats_settings, population)
    sids = tally.statement_ids.tolist()
    gids = tally.group_ids.tolist()
    result_rows: list[dict[str, Any]] = []
    for rec in analysis.records():
        gi = rec.pop("group_index")
        i = rec.pop("statement_index")
        rec.pop("scope")
        result_rows.append(
            {
                "round_id": round_.id,
                "statement_id": sids[i],
                "scope": POOLED_SCOPE if gi is None else group_scope(gids[gi]),
                "group_id": None if gi is None else gids[gi],
                "n": rec["n"],
                "n_unable": rec["n_unable"],
                "median": rec["median"],
                "q1": rec["q1"],
                "q3": rec["q3"],
                "iqr": rec["iqr"],
                "pct_agree": rec["pct_agree"],
                "pct_disagree": rec["pct_disagree"],
                "verdict": rec["verdict"],
                "counts": rec.pop("counts"),
                "stats": rec,
                "computed_at": now,
            }
        )
    if result_rows:
        await session.execute(insert(RoundResult), result_rows)
    return Frozen(sids, gids, analysis, stab, int(tally.tabulation.group_size.sum()))


async def classify(session: AsyncSession, panel: Panel, round_: Round, frozen: Frozen) -> dict[int, str]:
    """Apply the consensus rule to each statement of ``round_``; returns ``{statement_id: verdict}`` in the
    round's order, verdicts ``"in"``, ``"out"``, ``"none"`` or ``"insufficient"``.

    Reads the round's RoundStatement links and the panel's lived-experience groups.  Writes each link's
    ``verdict`` and ``outcome`` (sensitivity, divergence test, split, the groups under ``panel.k_min``
    suppressed, lived-experience split, stability, and under a balanced rule the group-balanced figures that
    decided the verdict), and retires each statement settled ``in`` or ``out``
    (``Statement.status`` retired_in / retired_out, ``status_round`` = this round's number).
    """
    analysis, sids, gids = frozen.analysis, frozen.statement_ids, frozen.group_ids
    k = panel.k_min
    group_n = [[int(x) for x in g.n.tolist()] for g in analysis.groups]
    lived = set(
        (
            await session.scalars(
                select(StakeholderGroup.id).where(
                    StakeholderGroup.panel_id == panel.id, StakeholderGroup.is_lived_experience.is_(True)
                )
            )
        ).all()
    )
    links = {
        rs.statement_id: rs
        for rs in (
            await session.scalars(select(RoundStatement).where(RoundStatement.round_id == round_.id))
        ).all()
    }
    balanced = _balanced_records(analysis)
    verdicts: dict[int, str] = {}
    for rec in analysis.statement_records():
        i = rec["statement_index"]
        sid = sids[i]
        verdict = rec["verdict"]
        verdicts[sid] = verdict
        link = links[sid]
        link.verdict = verdict
        link.outcome = {
            "sensitivity": rec["sensitivity"],
            "sensitive": any(v != verdict for v in rec["sensitivity"].values()),
            "divergence_test": rec["divergence_test"],
            "divergence_statistic": rec["divergence_statistic"],
            "divergence_p": rec["divergence_p"],
            "split": rec["split"],
            "suppressed_groups": [gids[g] for g in range(len(gids)) if group_n[g][i] < k],
            "lived_experience_split": bool(rec["split"] and lived),
            "stability": _stability_record(frozen.stability, i),
        }
        if balanced:
            link.outcome["balanced"] = balanced[i]
    for sid, verdict in verdicts.items():
        if verdict in ("in", "out"):
            await session.execute(
                update(Statement)
                .where(Statement.id == sid)
                .values(
                    status=StatementStatus.RETIRED_IN if verdict == "in" else StatementStatus.RETIRED_OUT,
                    status_round=round_.number,
                )
            )
    return verdicts


async def draft_next(session: AsyncSession, panel: Panel, round_: Round, carried: list[int]) -> Round:
    """Draft round ``round_.number + 1`` asking the ``carried`` statements again; returns it (flushed).

    Reads the positions the carried statements had in ``round_``.  Writes the draft Round (no dates, the same
    reminder offsets as ``round_``) and one RoundStatement per carried statement at its old position, with an
    empty outcome.
    """
    nxt = Round(
        panel_id=panel.id,
        number=round_.number + 1,
        status=RoundStatus.DRAFT,
        reminder_offsets_hours=list(round_.reminder_offsets_hours),
    )
    session.add(nxt)
    await session.flush()
    if carried:
        position = dict(
            (
                await session.execute(
                    select(RoundStatement.statement_id, RoundStatement.position).where(
                        RoundStatement.round_id == round_.id
                    )
                )
            ).all()
        )
        await session.execute(
            insert(RoundStatement),
            [
                {"round_id": nxt.id, "statement_id": sid, "position": position[sid], "outcome": {}}
                for sid in carried
            ],
        )
    return nxt


#: The group-balanced figures frozen in ``RoundStatement.outcome["balanced"]`` when the rule's scope is balanced.
BALANCED_FIGURES: tuple[str, ...] = ("median", "q1", "q3", "iqr", "pct_agree", "pct_disagree", "verdict")


def _balanced_records(analysis: RoundAnalysis) -> dict[int, dict[str, Any]]:
    """``{statement index: balanced figures}`` (:data:`BALANCED_FIGURES`, NaN as None; percentages 0-100,
    quartiles in scale points) when the rule weighs groups equally and there are groups; else ``{}``."""
    if analysis.rule.scope != "balanced" or analysis.balanced is None:
        return {}
    return {
        rec["statement_index"]: {name: rec[name] for name in BALANCED_FIGURES}
        for rec in analysis.records(include_balanced=True)
        if rec["scope"] == "balanced"
    }


def _stability_record(stab: tuple[np.ndarray, Stability | None] | None, i: int) -> dict[str, Any] | None:
    """Statement ``i``'s stability figures as a JSON-able dict (NaN as None); None when it has none."""
    if stab is None:
        return None
    rows, st = stab
    j = rows[i]
    if j < 0 or st is None:
        return None

    def val(a: np.ndarray) -> Any:
        x = a[j].item()
        return None if isinstance(x, float) and np.isnan(x) else x

    return {
        "n_paired": val(st.n_paired),
        "wilcoxon_p": val(st.wilcoxon_p),
        "wilcoxon_exact": val(st.wilcoxon_exact),
        "pct_changed_category": val(st.pct_changed_category),
        "iqr_prev": val(st.iqr_prev),
        "iqr_cur": val(st.iqr_cur),
        "delta_iqr": val(st.delta_iqr),
    }


async def _stability(
    session: AsyncSession,
    panel: Panel,
    round_: Round,
    statement_ids: np.ndarray,
    rule: ConsensusRule,
    settings: AnalysisSettings,
    population: AnalysisPopulation,
) -> tuple[np.ndarray, Stability | None] | None:
    """Stability of each statement against its previous round (the same statement, or the one it rewords).

    Only the statements asked in both rounds are loaded, as paired matrices, each round's answers restricted to
    the panel's analysis ``population`` (the answers its frozen results counted).  Returns ``(row_of_statement,
    Stability)`` where ``row_of_statement[i]`` is the row in the Stability arrays of statement ``i`` of this round,
    or -1 when neither it nor the statement it rewords was asked in the previous round; the Stability is None
    when no statement pairs up (every row -1).  Returns None for round 1.
    """
    if round_.number == 1:
        return None
    prev_round = await session.scalar(
        select(Round).where(Round.panel_id == panel.id, Round.number == round_.number - 1)
    )
    if prev_round is None:
        return None
    asked_before = set(
        (
            await session.scalars(
                select(RoundStatement.statement_id).where(RoundStatement.round_id == prev_round.id)
            )
        ).all()
    )
    parents = dict(
        (
            await session.execute(
                select(Statement.id, Statement.parent_id).where(Statement.id.in_(statement_ids.tolist()))
            )
        ).all()
    )
    source_of = {}
    for sid in statement_ids.tolist():
        source = sid if sid in asked_before else parents.get(sid)
        if source in asked_before:
            source_of[sid] = source
    rows = np.full(len(statement_ids), -1, np.int64)
    if not source_of:
        return rows, None
    cur = await load_rating_matrix(session, panel.id, round_.id, only=list(source_of), population=population)
    prev = await load_rating_matrix(
        session, panel.id, prev_round.id, only=list(set(source_of.values())), population=population
    )
    prev_row = {sid: r for r, sid in enumerate(prev.statement_ids.tolist())}
    cur_row = {sid: r for r, sid in enumerate(cur.statement_ids.tolist())}
    position = {sid: i for i, sid in enumerate(statement_ids.tolist())}
    pairs = [
        (position[sid], cur_row[sid], prev_row[src])
        for sid, src in source_of.items()
        if sid in cur_row and src in prev_row
    ]
    if not pairs:
        return rows, None
    people = np.union1d(cur.panellist_ids, prev.panellist_ids)
    ci = np.searchsorted(people, cur.panellist_ids)
    pi = np.searchsorted(people, prev.panellist_ids)
    cur_rows = np.array([c for _, c, _ in pairs])
    prev_rows = np.array([p for _, _, p in pairs])
    a = np.full((len(pairs), len(people)), np.nan)
    au = np.zeros_like(a, dtype=bool)
    b = np.full_like(a, np.nan)
    bu = np.zeros_like(au)
    a[:, pi] = prev.values[prev_rows]
    au[:, pi] = prev.unable[prev_rows]
    b[:, ci] = cur.values[cur_rows]
    bu[:, ci] = cur.unable[cur_rows]
    st = stability(a, b, au, bu, settings, rule)
    rows[[i for i, _, _ in pairs]] = np.arange(len(pairs))
    return rows, st
