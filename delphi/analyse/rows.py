"""The table ``delphi analyse`` prints: one row per round x statement x scope (``all``, then each group).

Columns are the per-scope row of :mod:`delphi.results.scope_row`, which the engine's round summaries export
writes too; :func:`result_rows` is pure, so the export -> analyse round trip can reuse it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from delphi.analyse.ratings_file import RatingsTable
from delphi.results.scope_row import (
    DIVERGENCE,
    STABILITY,
    STATISTICS,
    row_columns,
)
from delphi.stats import (
    GROUP_TESTS,
    VERDICT_LABELS,
    AnalysisSettings,
    ConsensusRule,
    RoundAnalysis,
    Stability,
    analyse_round,
    stability,
)
from delphi.stats.presets import sensitivity_names

__all__ = ["result_rows"]

#: The statistics read off each scope's :class:`delphi.stats.ScopeStats` (its verdict is labelled apart).
_STAT_NAMES = tuple(c.name for c in STATISTICS if c.name != "verdict")
#: Divergence columns and the :class:`delphi.stats.Divergence` attribute each reads.
_DIVERGENCE_FIELDS = dict(
    zip((c.name for c in DIVERGENCE), ("test", "statistic", "pvalue", "split"), strict=True)
)

_Round = tuple[NDArray[np.float64], NDArray[np.bool_]]


def _value(x: Any) -> Any:
    """A Python scalar for output: NaN to None, floats to 12 significant digits (0.8, not 0.800000000007)."""
    if isinstance(x, float | np.floating):
        return None if math.isnan(x) else float(f"{x:.12g}")
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, np.bool_):
        return bool(x)
    return x


def result_rows(
    table: RatingsTable, rule: ConsensusRule, settings: AnalysisSettings, population: str = "all"
) -> tuple[list[str], list[dict[str, Any]]]:
    """The output table: one row per round x statement x (``all`` + each group).

    Parameters
    ----------
    table : RatingsTable
    rule : ConsensusRule
    settings : AnalysisSettings
    population : {"all", "submitted"}
        The population ``table`` was read with; repeated in every row's ``population`` column.

    Returns
    -------
    columns : list of str
        :func:`delphi.results.scope_row.row_columns` on the settings' scale: :data:`~delphi.results.scope_row.FIRST_COLUMNS` (``round``
        only with rounds), then more statistics, counts per scale point, statement-level columns (divergence,
        sensitivity verdicts; on ``all`` rows only), stability against the previous round (with rounds; filled
        in rounds after the first), and the settings (population, quantile method, unable policy, rule).
    rows : list of dict
        Values are Python scalars; NaN and "not applicable" are None. On ``all`` rows ``verdict`` is the
        rule's verdict under its scope; on group rows it is the group's own verdict.
    """
    has_rounds = table.rounds is not None
    columns = [c.name for c in row_columns(settings.scale_min, settings.scale_max, rounds=has_rounds)]
    sens_names = sensitivity_names(settings.scale_min, settings.scale_max)
    n_groups = len(table.groups) if table.groups is not None else 0
    groups = table.panellist_group if table.groups is not None else None
    rows: list[dict[str, Any]] = []
    previous: _Round | None = None
    for r in range(table.ratings.shape[0]):
        ratings, unable = table.ratings[r], table.unable[r]
        result = analyse_round(ratings, unable, groups, n_groups, rule, settings)
        stab = _stability_by_scope(previous, (ratings, unable), table, rule, settings) if previous else None
        previous = (ratings, unable)
        rows += _round_rows(result, table, r, table.groups or (), sens_names, stab)
    for row in rows:
        row.update(
            population=population,
            quantile_method=settings.quantile_method,
            unable_policy=settings.unable_policy,
            rule=rule.name,
        )
    return columns, [{c: _value(row.get(c)) for c in columns} for row in rows]


def _stability_by_scope(
    prev: _Round, cur: _Round, table: RatingsTable, rule: ConsensusRule, settings: AnalysisSettings
) -> list[Stability]:
    """Stability pooled, then per group (columns of that group)."""
    out = [stability(prev[0], cur[0], prev[1], cur[1], settings, rule)]
    for g in range(len(table.groups or ())):
        cols = table.panellist_group == g
        out.append(
            stability(prev[0][:, cols], cur[0][:, cols], prev[1][:, cols], cur[1][:, cols], settings, rule)
        )
    return out


def _scope_columns(
    result: RoundAnalysis, n_groups: int, stab: list[Stability] | None
) -> list[tuple[dict[str, list[Any]], list[list[int]]]]:
    """Per scope (pooled, then each group): its statistics as lists over statements, and its counts."""
    scopes = [(result.pooled, result.verdict)]
    scopes += [(result.groups[g], result.groups[g].verdict) for g in range(n_groups)]
    out = []
    for k, (stats, verdict) in enumerate(scopes):
        cols = {name: getattr(stats, name).tolist() for name in _STAT_NAMES}
        cols["verdict"] = [VERDICT_LABELS[v] for v in verdict.tolist()]
        if stab is not None:
            cols.update({c.name: getattr(stab[k], c.name).tolist() for c in STABILITY})
        out.append((cols, stats.counts.tolist()))
    return out


def _round_rows(
    result: RoundAnalysis,
    table: RatingsTable,
    r: int,
    group_labels: Sequence[str],
    sens_names: list[str],
    stab: list[Stability] | None,
) -> list[dict[str, Any]]:
    """The rows of round ``r``: per statement the round asked, ``all`` then each group."""
    scopes = _scope_columns(result, len(group_labels), stab)
    labels = ["all", *group_labels]
    d = result.divergence
    divergence = {name: getattr(d, attr).tolist() for name, attr in _DIVERGENCE_FIELDS.items()}
    divergence["divergence_test"] = [GROUP_TESTS[t] or None for t in divergence["divergence_test"]]
    sens = {name: result.sensitivity[name].tolist() for name in sens_names}
    points = range(result.settings.scale_min, result.settings.scale_max + 1)
    rows = []
    for i, statement in enumerate(table.statements):
        if not table.asked[r, i]:
            continue
        for k, (cols, counts) in enumerate(scopes):
            row: dict[str, Any] = {"statement": statement, "group": labels[k]}
            if table.rounds is not None:
                row["round"] = table.rounds[r]
            row.update({name: values[i] for name, values in cols.items()})
            row.update({f"count_{v}": c for v, c in zip(points, counts[i], strict=True)})
            if k == 0:
                if group_labels:
                    row.update({name: values[i] for name, values in divergence.items()})
                row.update({f"verdict_{name}": VERDICT_LABELS[v[i]] for name, v in sens.items()})
            rows.append(row)
    return rows
