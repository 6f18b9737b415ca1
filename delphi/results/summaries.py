"""Round summaries: the frozen statistics of every closed round, one row per round, statement and scope.

The columns are the per-scope row of :mod:`delphi.results.scope_row`, which ``delphi analyse`` writes too (same
names, same order, same coding), followed by ``statement_version``, ``section``, ``suppressed`` and
``shown_to_panellists``, so a researcher can put the engine's results and their
own re-analysis of the tidy ratings side by side; then ``statement_label`` (:mod:`delphi.panels.numbering`),
the stopping state against the previous round (:data:`~delphi.results.scope_row.STOPPING`) and, under a
balanced rule, the group-balanced figures that decided the verdict (:data:`~delphi.results.scope_row.BALANCED`). ``group`` is ``all`` for the pooled panel; on ``all`` rows
``verdict`` is the rule's verdict under its scope, on group rows the group's own verdict. Statement-level
columns (divergence, verdicts under the alternative definitions, stability against the previous round) are
filled on ``all`` rows only.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import Round, RoundResult, RoundStatement
from delphi.domain import POOLED_SCOPE, RoundStatus
from delphi.results.frame import Frame
from delphi.results.qualitative import frame_labels
from delphi.results.round_results import shown_to_panellists
from delphi.results.scope_row import (
    BALANCED,
    DIVERGENCE,
    FROZEN_FIGURES,
    STABILITY,
    STATISTICS,
    STOPPING,
    row_columns,
)
from delphi.results.tables import Column, Table
from delphi.stats.presets import sensitivity_names
from delphi.stats.stopping import statement_advice

NAME = "round-summaries"


def columns(frame: Frame) -> tuple[Column, ...]:
    """The per-scope row of :func:`delphi.results.scope_row.row_columns`, then the engine's own columns."""
    p = frame.panel
    cols = row_columns(p.scale_min, p.scale_max, p.analysis_population)
    cols += [
        Column(
            "statement_label", "The statement's number as pages and the report show it (S4, S4.2).", "text"
        ),
        *STOPPING,
        *BALANCED,
        Column("statement_version", "1 for an original statement, +1 for each rewording.", "integer"),
        Column("section", "The statement's section.", "text"),
        Column(
            "suppressed",
            f"1 for a group with fewer than k = {p.k_min} ratings (hidden from panellists).",
            "boolean",
            "1 = yes, 0 = no",
        ),
        Column(
            "shown_to_panellists",
            "1 if panellists were shown these figures; 0 for a group under k, a group hidden so that a "
            "smaller group's ratings cannot be worked out by subtraction, or a statement fewer than k rated.",
            "boolean",
            "1 = yes, 0 = no",
        ),
    ]
    return tuple(cols)


async def load_results(session: AsyncSession, panel_id: int) -> list[tuple[int, RoundResult]]:
    """``(round number, RoundResult)`` for every closed round of the panel (one query)."""
    rows = await session.execute(
        select(Round.number, RoundResult)
        .join(Round, Round.id == RoundResult.round_id)
        .where(Round.panel_id == panel_id, Round.status == RoundStatus.CLOSED)
    )
    return [(int(n), r) for n, r in rows.all()]


def summary_rows(frame: Frame, results: Iterable[tuple[int, RoundResult]]) -> list[tuple[Any, ...]]:
    """Rows in round order, then the round's statement order, pooled first then groups in display order."""
    cols = columns(frame)
    names = [c.name for c in cols]
    by_key: dict[tuple[int, int], dict[str, RoundResult]] = {}
    for number, row in results:
        by_key.setdefault((number, row.statement_id), {})[row.scope] = row
    rule_name = (frame.rule.name if frame.rule else "") or ""
    p = frame.panel
    sens = sensitivity_names(p.scale_min, p.scale_max)
    labels = frame_labels(frame)
    scope = frame.rule.scope if frame.rule else "pooled"
    out = []
    for r in frame.closed_rounds:
        before = {x.statement_id: x.verdict for x in frame.links.get(r.number - 1, ()) if x.verdict}
        for link in frame.links.get(r.number, ()):
            scopes = by_key.get((r.number, link.statement_id), {})
            ordered: list[tuple[str, RoundResult]] = []
            if POOLED_SCOPE in scopes:
                ordered.append(("all", scopes[POOLED_SCOPE]))
            ordered += [(g.name, scopes[f"group:{g.id}"]) for g in frame.groups if f"group:{g.id}" in scopes]
            shown = shown_to_panellists(scopes, frame.groups, p.k_min)
            for label, row in ordered:
                values = _row_values(row, label, r.number, link, frame, sens, rule_name)
                values["shown_to_panellists"] = row.scope in shown
                values["statement_label"] = labels.get(link.statement_id, "")
                if label == "all":
                    values.update(_decisive(link, scope))
                    values["stability"] = _stability_state(link, frame, before)
                values.update(
                    population=p.analysis_population,
                    quantile_method=p.quantile_method,
                    unable_policy=p.unable_policy,
                )
                out.append(tuple(values.get(n) for n in names))
    return out


def _row_values(
    row: RoundResult,
    label: str,
    number: int,
    link: RoundStatement,
    frame: Frame,
    sens: Sequence[str],
    rule_name: str,
) -> dict[str, Any]:
    stats = dict(row.stats or {})
    statement = frame.statements.get(row.statement_id)
    pooled = label == "all"
    v: dict[str, Any] = {c.name: stats.get(c.name) for c in STATISTICS}
    v.update({name: getattr(row, name) for name in FROZEN_FIGURES})
    v.update(
        statement=row.statement_id,
        group=label,
        round=number,
        verdict=(link.verdict or row.verdict) if pooled else row.verdict,
        rule=rule_name,
        statement_version=statement.version if statement else None,
        section=statement.section if statement else "",
        suppressed=(not pooled) and row.n < frame.panel.k_min,
    )
    for value, count in zip(
        range(frame.panel.scale_min, frame.panel.scale_max + 1), row.counts or (), strict=False
    ):
        v[f"count_{value}"] = count
    if pooled:
        outcome = dict(link.outcome or {})
        if len(frame.groups) > 0:
            v.update({c.name: outcome.get(c.name) for c in DIVERGENCE})
            v["divergence_test"] = v["divergence_test"] or None
        sensitivity = outcome.get("sensitivity") or {}
        v.update({f"verdict_{name}": sensitivity.get(name) for name in sens})
        stability = outcome.get("stability") or {}
        v.update({c.name: stability.get(c.name) for c in STABILITY})
    return v


def _decisive(link: RoundStatement, scope: str) -> dict[str, Any]:
    """``decided_by`` and the frozen ``balanced_*`` figures of a pooled row (the latter under a balanced rule)."""
    balanced = (link.outcome or {}).get("balanced")
    if scope != "balanced" or not balanced:
        return {"decided_by": "every_group" if scope == "every_group" else "pooled"}
    values: dict[str, Any] = {"decided_by": "balanced"}
    values.update({f"balanced_{name}": balanced.get(name) for name in ("median", "q1", "q3", "iqr")})
    values.update({f"balanced_{name}": balanced.get(name) for name in ("pct_agree", "pct_disagree")})
    return values


def _stability_state(link: RoundStatement, frame: Frame, before: dict[int, str]) -> str:
    """The statement's stopping state (:func:`delphi.stats.stopping.statement_advice`) against ``before``."""
    sid = link.statement_id
    previous = before.get(sid)
    statement = frame.statements.get(sid)
    if previous is None and statement is not None and statement.parent_id is not None:
        previous = before.get(statement.parent_id)
    stability = (link.outcome or {}).get("stability")
    return statement_advice(sid, stability, link.verdict or "insufficient", previous).state


async def summaries_table(session: AsyncSession, frame: Frame) -> Table:
    rows = summary_rows(frame, await load_results(session, frame.panel.id))
    return Table(
        NAME, "Round summaries: frozen statistics per round, statement and group", columns(frame), rows
    )
