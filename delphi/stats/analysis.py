"""One round, analysed: statistics pooled, per group and group-balanced; verdicts; sensitivity; divergence.

:func:`analyse_round` is the engine's single entry point at round close. It tabulates the ratings once
(:func:`delphi.stats.tabulate.tabulate`) and derives everything else from the counts, so its cost is one pass
over the ``(statements, panellists)`` matrix whatever the number of groups.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from delphi.stats.between import GROUP_TESTS, group_test
from delphi.stats.describe import (
    BOOL_FIELDS,
    FLOAT_FIELDS,
    INT_FIELDS,
    ScopeStats,
    describe_balanced,
    describe_counts,
)
from delphi.stats.presets import rule_by_name, sensitivity_names
from delphi.stats.rules import ConsensusRule, combine_groups
from delphi.stats.settings import AnalysisSettings
from delphi.stats.summary import plain_summary
from delphi.stats.tabulate import Tabulation, check_groups, check_matrix, tabulate
from delphi.stats.verdicts import VERDICT_LABELS, Verdict

__all__ = ["Divergence", "RoundAnalysis", "analyse_round", "analyse_tabulation"]


@dataclass(frozen=True, slots=True)
class Divergence:
    """How the groups differ on each statement. All arrays have shape (S,).

    Attributes
    ----------
    test : int8
        Index into :data:`delphi.stats.between.GROUP_TESTS`: 0 none, 1 Mann-Whitney U (two groups rated),
        2 Kruskal-Wallis H (three or more).
    statistic, pvalue : float64
        U (of the lower-numbered group) or H, and its asymptotic p-value; NaN where untestable.
    split : bool
        The rule is met ("in") in at least one group and not met in another; groups whose verdict is
        "insufficient" are ignored.
    """

    test: NDArray[np.int8]
    statistic: NDArray[np.float64]
    pvalue: NDArray[np.float64]
    split: NDArray[np.bool_]


def _py(value: Any) -> Any:
    """NaN to None; numpy scalars are already Python values after ``tolist``."""
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


@dataclass(frozen=True, slots=True)
class RoundAnalysis:
    """Everything computed for one round. S statements, G groups.

    Attributes
    ----------
    settings : AnalysisSettings
    rule : ConsensusRule
    pooled : ScopeStats
        Everyone together; ``pooled.verdict`` is the rule applied to the pooled ratings.
    groups : tuple of ScopeStats
        One per group label ``0..G-1`` (empty when no groups were given); each carries its own verdict.
    balanced : ScopeStats or None
        Group-balanced pooled statistics (None when no groups were given).
    group_size : ndarray of int64, shape (G,)
        Panellists in each group.
    verdict : ndarray of int8, shape (S,)
        The rule's verdict under its scope: :class:`delphi.stats.Verdict` codes.
    sensitivity : Mapping[str, ndarray of int8, shape (S,)]
        Verdicts under the standard alternatives (:data:`delphi.stats.presets.SENSITIVITY_RULE_NAMES`), read on
        the same bands, scope and minimum ratings as ``rule``. ``rand_ucla`` is left out off the 1-9 scale.
    divergence : Divergence
    """

    settings: AnalysisSettings
    rule: ConsensusRule
    pooled: ScopeStats
    groups: tuple[ScopeStats, ...]
    balanced: ScopeStats | None
    group_size: NDArray[np.int64]
    verdict: NDArray[np.int8]
    sensitivity: Mapping[str, NDArray[np.int8]]
    divergence: Divergence

    @property
    def n_statements(self) -> int:
        """S."""
        return len(self.pooled)

    def scope(self, group_index: int | None = None) -> ScopeStats:
        """The pooled statistics (``None``) or those of group ``group_index``."""
        return self.pooled if group_index is None else self.groups[group_index]

    def verdict_labels(self) -> list[str]:
        """Final verdict per statement as ``"in"``, ``"out"``, ``"none"`` or ``"insufficient"``."""
        return [VERDICT_LABELS[int(v)] for v in self.verdict]

    def plain_summary(self, group_index: int | None = None) -> list[str]:
        """One plain-words sentence per statement for panellists; see :func:`delphi.stats.plain_summary`."""
        return plain_summary(self.scope(group_index), self.rule.agree, self.settings.unable_policy)

    def records(self, include_balanced: bool = False) -> list[dict[str, Any]]:
        """Plain dicts, one per statement and scope, ready to store as frozen result rows.

        Rows come statement by statement: pooled first (``group_index`` None, ``scope`` "pooled"), then each
        group (``scope`` "group"), then, if asked, the balanced scope (``group_index`` None, ``scope``
        "balanced"). Values are Python ``int``, ``float``, ``bool``, ``str`` or ``list[int]`` (``counts``,
        ``scale_min`` first); **NaN is given as None**. ``verdict`` is the label of that scope's own verdict;
        the final verdict under the rule's scope is in :meth:`statement_records`.
        """
        scopes: list[tuple[int | None, str, ScopeStats]] = [(None, "pooled", self.pooled)]
        scopes += [(g, "group", s) for g, s in enumerate(self.groups)]
        if include_balanced and self.balanced is not None:
            scopes.append((None, "balanced", self.balanced))
        columns = []
        for group_index, scope_name, stats in scopes:
            cols: dict[str, list[Any]] = {
                name: getattr(stats, name).tolist() for name in (*INT_FIELDS, *FLOAT_FIELDS, *BOOL_FIELDS)
            }
            cols["counts"] = stats.counts.tolist()
            cols["verdict"] = [VERDICT_LABELS[v] for v in stats.verdict.tolist()]
            columns.append((group_index, scope_name, cols))
        rows = []
        for i in range(self.n_statements):
            for group_index, scope_name, cols in columns:
                row: dict[str, Any] = {"statement_index": i, "group_index": group_index, "scope": scope_name}
                row.update({name: _py(values[i]) for name, values in cols.items()})
                rows.append(row)
        return rows

    def statement_records(self) -> list[dict[str, Any]]:
        """One plain dict per statement: final verdict, sensitivity verdicts and divergence (NaN as None).

        Keys: ``statement_index``, ``verdict``, ``scope``, ``sensitivity`` (name to label),
        ``divergence_test`` (``""``, ``"mann_whitney"`` or ``"kruskal_wallis"``), ``divergence_statistic``,
        ``divergence_p``, ``split``.
        """
        sens = {name: v.tolist() for name, v in self.sensitivity.items()}
        d = self.divergence
        tests, stats, ps, splits = d.test.tolist(), d.statistic.tolist(), d.pvalue.tolist(), d.split.tolist()
        verdicts = self.verdict.tolist()
        return [
            {
                "statement_index": i,
                "verdict": VERDICT_LABELS[verdicts[i]],
                "scope": self.rule.scope,
                "sensitivity": {name: VERDICT_LABELS[v[i]] for name, v in sens.items()},
                "divergence_test": GROUP_TESTS[tests[i]],
                "divergence_statistic": _py(stats[i]),
                "divergence_p": _py(ps[i]),
                "split": splits[i],
            }
            for i in range(self.n_statements)
        ]


def _final_verdict(
    rule: ConsensusRule,
    pooled: ScopeStats,
    groups: ScopeStats | None,
    balanced: ScopeStats | None,
    present: NDArray[np.bool_],
) -> tuple[NDArray[np.int8], NDArray[np.int8] | None]:
    """The rule's verdict under its scope, and the per-group verdicts (S, G) it used or None."""
    group_verdicts = None if groups is None else rule.classify(groups)
    if rule.scope == "every_group" and group_verdicts is not None:
        return combine_groups(group_verdicts, present), group_verdicts
    if rule.scope == "balanced" and balanced is not None:
        return rule.classify(balanced), group_verdicts
    return rule.classify(pooled), group_verdicts


def analyse_round(
    ratings: ArrayLike,
    unable: ArrayLike | None = None,
    groups: ArrayLike | None = None,
    n_groups: int = 0,
    rule: ConsensusRule | None = None,
    settings: AnalysisSettings | None = None,
) -> RoundAnalysis:
    """Analyse one round's ratings.

    Parameters
    ----------
    ratings : array_like of float, shape (S, P)
        Statement x panellist ratings, whole numbers on the scale, NaN for "no answer". Where ``unable`` is
        true the value is ignored.
    unable : array_like of bool, shape (S, P), optional
        "Unable to rate" answers. None: nobody was unable.
    groups : array_like of int, shape (P,), optional
        Group label of each panellist in ``0..n_groups - 1``. None: no groups (``groups`` in the result is
        empty, ``balanced`` is None and the ``every_group`` and ``balanced`` scopes fall back to pooled).
    n_groups : int
        Number of groups G; groups without panellists get all-NaN statistics and are ignored by the
        ``every_group`` scope. Ignored when ``groups`` is None.
    rule : ConsensusRule, optional
        Default: the COMET rule (:func:`delphi.stats.rule_by_name` ``("comet")``).
    settings : AnalysisSettings, optional
        Default: scale 1-9, type 7 quantiles, "unable" excluded from the denominators.

    Returns
    -------
    RoundAnalysis

    Raises
    ------
    ValueError
        If shapes disagree, a group label is out of range, a rating is not a whole number on the scale, or the
        rule's bands are off the scale.

    Notes
    -----
    Degenerate statements (no ratings, one rating, all "unable") give NaN statistics and, through the rule's
    ``min_ratings`` (at least 1, default 2), the verdict "insufficient"; nothing warns or raises.

    Examples
    --------
    >>> r = analyse_round([[9, 9, 8, 8, 8, 7, 7, 7, 6, 6, 5, 2, 3, 7, 8, 9, 9, 8, 7, 4]])
    >>> r.pooled.pct_agree.tolist(), r.pooled.pct_disagree.tolist(), r.verdict_labels()
    ([70.0], [10.0], ['in'])
    """
    rule = rule_by_name("comet") if rule is None else rule
    settings = AnalysisSettings() if settings is None else settings
    if not isinstance(rule, ConsensusRule):
        raise ValueError(f"rule must be a ConsensusRule, not {type(rule).__name__}")
    if not isinstance(settings, AnalysisSettings):
        raise ValueError(f"settings must be AnalysisSettings, not {type(settings).__name__}")
    rule.check_scale(settings)
    x, u = check_matrix(ratings, unable)
    has_groups = groups is not None
    g_count = n_groups if has_groups else 1
    labels = check_groups(groups, g_count, x.shape[1])
    return analyse_tabulation(
        tabulate(x, u, labels, g_count, settings), rule, settings, has_groups=has_groups
    )


def analyse_tabulation(
    tab: Tabulation, rule: ConsensusRule, settings: AnalysisSettings, *, has_groups: bool = True
) -> RoundAnalysis:
    """Analyse a round from its count table: the same result as :func:`analyse_round` on the ratings behind it.

    For callers that can count ratings where they are stored (a SQL ``GROUP BY`` over statement, group and
    value) instead of loading every rating.

    Parameters
    ----------
    tab : Tabulation
        ``counts`` (S, G, K) ratings per statement, group and scale point (scale_min first); ``n_unable`` (S, G);
        ``group_size`` (G,) panellists per group.  Counts must be non-negative.
    rule, settings
        As for :func:`analyse_round`; ``settings`` gives K.
    has_groups
        False when the single group stands for "no groups given".

    Raises
    ------
    ValueError
        If the table's shapes disagree with each other or with the scale.
    """
    rule.check_scale(settings)
    if not isinstance(tab, Tabulation):
        raise ValueError(f"tab must be a Tabulation, not {type(tab).__name__}")
    n_s, g_count, k = tab.counts.shape
    if k != settings.n_points or tab.n_unable.shape != (n_s, g_count) or tab.group_size.shape != (g_count,):
        raise ValueError(
            f"inconsistent tabulation: counts {tab.counts.shape}, n_unable {tab.n_unable.shape}, "
            f"group_size {tab.group_size.shape} for a {settings.n_points}-point scale"
        )
    pooled = describe_counts(
        tab.counts.sum(axis=1), tab.n_unable.sum(axis=1), settings, rule.agree, rule.disagree
    )
    by_group = (
        describe_counts(tab.counts, tab.n_unable, settings, rule.agree, rule.disagree) if has_groups else None
    )
    balanced = (
        describe_balanced(tab.counts, tab.n_unable, settings, rule.agree, rule.disagree)
        if has_groups
        else None
    )
    present = tab.group_size > 0

    verdict, group_verdicts = _final_verdict(rule, pooled, by_group, balanced, present)
    pooled = pooled.with_verdict(rule.classify(pooled))
    if balanced is not None:
        balanced = balanced.with_verdict(rule.classify(balanced))
    group_stats: tuple[ScopeStats, ...] = ()
    if by_group is not None and group_verdicts is not None:
        by_group = by_group.with_verdict(group_verdicts)
        group_stats = tuple(by_group.select((slice(None), g)) for g in range(g_count))

    sensitivity = _sensitivity(rule, settings, pooled, by_group, balanced, present)
    divergence = _divergence(tab, group_verdicts if has_groups else None)
    for array in (*sensitivity.values(), verdict, tab.group_size, *_arrays(divergence)):
        array.flags.writeable = False
    return RoundAnalysis(
        settings=settings,
        rule=rule,
        pooled=pooled,
        groups=group_stats,
        balanced=balanced,
        group_size=tab.group_size,
        verdict=verdict,
        sensitivity=MappingProxyType(sensitivity),
        divergence=divergence,
    )


def _sensitivity(
    rule: ConsensusRule,
    settings: AnalysisSettings,
    pooled: ScopeStats,
    by_group: ScopeStats | None,
    balanced: ScopeStats | None,
    present: NDArray[np.bool_],
) -> dict[str, NDArray[np.int8]]:
    """Verdicts, shape (S,), of each alternative of :func:`sensitivity_names` on ``rule``'s bands and scope."""
    sensitivity = {}
    for name in sensitivity_names(settings.scale_min, settings.scale_max):
        alternative = rule_by_name(
            name,
            agree=rule.agree,
            disagree=rule.disagree,
            scope=rule.scope,
            min_ratings=rule.min_ratings,
            scale_points=settings.n_points,
        )
        sensitivity[name] = _final_verdict(alternative, pooled, by_group, balanced, present)[0]
    return sensitivity


def _divergence(tab: Tabulation, group_verdicts: NDArray[np.int8] | None) -> Divergence:
    """The test between groups and the split of per-group verdicts (S, G); nothing to test without groups."""
    n_s = tab.counts.shape[0]
    if group_verdicts is None:
        return Divergence(
            np.zeros(n_s, dtype=np.int8),
            np.full(n_s, np.nan),
            np.full(n_s, np.nan),
            np.zeros(n_s, dtype=bool),
        )
    test = group_test(tab.counts)
    counted = group_verdicts != Verdict.INSUFFICIENT
    met = (group_verdicts == Verdict.IN) & counted
    unmet = (group_verdicts != Verdict.IN) & counted
    return Divergence(test.test, test.statistic, test.pvalue, met.any(axis=1) & unmet.any(axis=1))


def _arrays(divergence: Divergence) -> tuple[np.ndarray, ...]:
    return (divergence.test, divergence.statistic, divergence.pvalue, divergence.split)
