"""Round summaries: the frozen statistics of every closed round, one row per round, statement and scope.

The columns are those of ``delphi analyse`` (same names, same order, same coding), followed by
``statement_version``, ``section`` and ``suppressed``, so a researcher can put the engine's results and their
own re-analysis of the tidy ratings side by side. ``group`` is ``all`` for the pooled panel; on ``all`` rows
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
from delphi.results.round_results import shown_to_panellists
from delphi.results.tables import Column, Table
from delphi.stats.rules import SENSITIVITY_RULE_NAMES

NAME = "round-summaries"

PCT = "percent, 0-100"
_STATS: tuple[tuple[str, str, str, str], ...] = (
    (
        "n",
        "Ratings given by panellists in the analysis population (see population); 'unable' answers and "
        "panellists who did not answer are not counted.",
        "integer",
        "",
    ),
    ("n_unable", "'Unable to rate' answers.", "integer", ""),
    ("median", "Median rating (the panel's quantile method).", "number", "scale points"),
    ("q1", "First quartile (the panel's quantile method).", "number", "scale points"),
    ("q3", "Third quartile (the panel's quantile method).", "number", "scale points"),
    ("iqr", "Interquartile range, q3 - q1.", "number", "scale points"),
    ("pct_agree", "Share of ratings in the agree band (denominator: see unable_policy).", "number", PCT),
    (
        "pct_disagree",
        "Share of ratings in the disagree band (denominator: see unable_policy).",
        "number",
        PCT,
    ),
    ("pct_unable", "'Unable to rate' answers among all answers.", "number", PCT),
    (
        "verdict",
        "in, out, none (no consensus) or insufficient (too few ratings); see the file description.",
        "text",
        "",
    ),
    ("mean", "Mean rating.", "number", "scale points"),
    ("sd", "Standard deviation (n - 1 denominator).", "number", "scale points"),
    ("cv", "Coefficient of variation, sd / mean.", "number", "ratio"),
    ("n_agree", "Ratings in the agree band.", "integer", ""),
    ("n_disagree", "Ratings in the disagree band.", "integer", ""),
    ("p30", "30th percentile (RAND/UCLA).", "number", "scale points"),
    ("p70", "70th percentile (RAND/UCLA).", "number", "scale points"),
    ("ipr", "Interpercentile range p70 - p30 (RAND/UCLA).", "number", "scale points"),
    ("asymmetry_index", "|centre of scale - (p30 + p70) / 2| (RAND/UCLA).", "number", "scale points"),
    (
        "ipras",
        "IPR adjusted for symmetry, 2.35 + 1.5 x asymmetry index (RAND/UCLA).",
        "number",
        "scale points",
    ),
    ("disagreement_index", "ipr / ipras; above 1 means disagreement (RAND/UCLA).", "number", "ratio"),
    ("disagreement", "1 if ipr > ipras (RAND/UCLA disagreement).", "boolean", "1 = yes, 0 = no"),
    (
        "classic_k",
        "Raters needed in each extreme band for the classic RAND rule (0 outside 8-16 raters).",
        "integer",
        "",
    ),
    (
        "disagreement_classic",
        "1 if the classic RAND/UCLA rule finds disagreement.",
        "boolean",
        "1 = yes, 0 = no",
    ),
)
_DIVERGENCE: tuple[tuple[str, str, str, str], ...] = (
    (
        "divergence_test",
        "Test between groups: mann_whitney (2 groups rated) or kruskal_wallis (3 or more).",
        "text",
        "",
    ),
    ("divergence_statistic", "U of the first group (Mann-Whitney) or H (Kruskal-Wallis).", "number", ""),
    ("divergence_p", "Asymptotic two-sided p-value of the test between groups.", "number", "probability"),
    ("split", "1 if the rule is met in one group and not in another.", "boolean", "1 = yes, 0 = no"),
)
_STABILITY: tuple[tuple[str, str, str, str], ...] = (
    (
        "n_paired",
        "Panellists who rated the statement (or the version it rewords) in both rounds.",
        "integer",
        "",
    ),
    (
        "wilcoxon_p",
        "Wilcoxon signed-rank p-value, this round against the previous one.",
        "number",
        "probability",
    ),
    (
        "pct_changed_category",
        "Paired panellists whose rating moved between agree/neutral/disagree.",
        "number",
        PCT,
    ),
    ("delta_iqr", "IQR this round minus IQR in the previous round.", "number", "scale points"),
)


def sensitivity_names(frame: Frame) -> list[str]:
    """Alternative definitions reported: all of them on a 1-9 scale, RAND/UCLA left out on other scales."""
    nine = (frame.panel.scale_min, frame.panel.scale_max) == (1, 9)
    return [n for n in SENSITIVITY_RULE_NAMES if nine or not n.startswith("rand")]


def columns(frame: Frame) -> tuple[Column, ...]:
    p = frame.panel
    cols = [
        Column("statement", "Statement id.", "integer"),
        Column("group", "'all' for the whole panel, else the stakeholder group.", "text"),
        Column("round", "Round number.", "integer"),
    ]
    cols += [Column(*spec) for spec in _STATS]
    cols += [Column(f"count_{v}", f"Ratings of {v}.", "integer") for v in range(p.scale_min, p.scale_max + 1)]
    cols += [Column(*spec) for spec in _DIVERGENCE]
    cols += [
        Column(f"verdict_{name}", f"Verdict under the alternative definition '{name}' (sensitivity).", "text")
        for name in sensitivity_names(frame)
    ]
    cols += [Column(*spec) for spec in _STABILITY]
    cols += [
        Column(
            "population",
            "Which answers the round's results count: submitted (only panellists who sent the round) or all "
            f"(every saved answer). This panel: {p.analysis_population}.",
            "text",
        ),
        Column("quantile_method", "Quantile method: linear (type 7), weibull (type 6) or hinges.", "text"),
        Column(
            "unable_policy", "exclude: 'unable' is left out of the denominators; include: counted.", "text"
        ),
        Column("rule", "Name of the consensus rule (see the codebook for its definition).", "text"),
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
    sens = sensitivity_names(frame)
    out = []
    for r in frame.closed_rounds:
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
    v: dict[str, Any] = {name: stats.get(name) for name, *_ in _STATS}
    v.update(
        statement=row.statement_id,
        group=label,
        round=number,
        n=row.n,
        n_unable=row.n_unable,
        median=row.median,
        q1=row.q1,
        q3=row.q3,
        iqr=row.iqr,
        pct_agree=row.pct_agree,
        pct_disagree=row.pct_disagree,
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
            v.update(
                divergence_test=outcome.get("divergence_test") or None,
                divergence_statistic=outcome.get("divergence_statistic"),
                divergence_p=outcome.get("divergence_p"),
                split=outcome.get("split"),
            )
        sensitivity = outcome.get("sensitivity") or {}
        v.update({f"verdict_{name}": sensitivity.get(name) for name in sens})
        stability = outcome.get("stability") or {}
        v.update({name: stability.get(name) for name, *_ in _STABILITY})
    return v


async def summaries_table(session: AsyncSession, frame: Frame) -> Table:
    rows = summary_rows(frame, await load_results(session, frame.panel.id))
    return Table(
        NAME, "Round summaries: frozen statistics per round, statement and group", columns(frame), rows
    )
