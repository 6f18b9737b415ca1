"""Consensus statistics for Delphi rounds: pure numpy (scipy for p-values), vectorised over statements.

No I/O, no async, no database or web imports. Inputs are a ratings matrix ``(statements, panellists)`` of
floats with NaN for "no answer", a boolean "unable to rate" mask of the same shape and integer group labels
per panellist. Degenerate input gives NaN and the verdict "insufficient", never a warning or an exception.

The engine calls :func:`analyse_round` at round close and :func:`stability` between rounds; rules are
:class:`ConsensusRule` values (:func:`rule_by_name` for the presets in :data:`PRESETS`). See
``docs/statistics.md`` for every formula, with references and worked examples.
"""

from delphi.stats.analysis import Divergence, RoundAnalysis, analyse_round, analyse_tabulation
from delphi.stats.between import (
    GROUP_TESTS,
    GroupTest,
    group_test,
    kruskal_wallis_from_counts,
    mann_whitney_from_counts,
)
from delphi.stats.criteria import AllOf, AnyOf, Criterion, MedianIQR, PercentAgreement, RandUcla
from delphi.stats.describe import ScopeStats, describe_balanced, describe_counts
from delphi.stats.kendall import KendallW, kendalls_w
from delphi.stats.presets import PRESETS, RULE_NAMES, SENSITIVITY_RULE_NAMES, Preset, preset_of, rule_by_name
from delphi.stats.quantiles import quantile_from_counts, quantile_sorted, weighted_quantile_from_counts
from delphi.stats.rand_ucla import classic_k, ipras
from delphi.stats.ranking import (
    RANKING_VERDICTS,
    RankingSummary,
    consensus_order,
    rank_correlations,
    ranking_verdict,
    summarise_ranking,
    w_change,
)
from delphi.stats.rules import SCOPES, ConsensusRule, rule_problems
from delphi.stats.settings import QUANTILE_METHODS, UNABLE_POLICIES, AnalysisSettings
from delphi.stats.stability import Stability, WilcoxonResult, stability, wilcoxon_signed_rank
from delphi.stats.stopping import ListAdvice, StatementAdvice, list_advice, statement_advice
from delphi.stats.summary import plain_summary
from delphi.stats.tabulate import Tabulation, tabulate
from delphi.stats.verdicts import VERDICT_LABELS, Verdict, verdict_labels

__all__ = [
    "GROUP_TESTS",
    "PRESETS",
    "QUANTILE_METHODS",
    "RANKING_VERDICTS",
    "RULE_NAMES",
    "SCOPES",
    "SENSITIVITY_RULE_NAMES",
    "UNABLE_POLICIES",
    "VERDICT_LABELS",
    "AllOf",
    "AnalysisSettings",
    "AnyOf",
    "ConsensusRule",
    "Criterion",
    "Divergence",
    "GroupTest",
    "KendallW",
    "ListAdvice",
    "MedianIQR",
    "PercentAgreement",
    "Preset",
    "RandUcla",
    "RankingSummary",
    "RoundAnalysis",
    "ScopeStats",
    "Stability",
    "StatementAdvice",
    "Tabulation",
    "Verdict",
    "WilcoxonResult",
    "analyse_round",
    "analyse_tabulation",
    "classic_k",
    "consensus_order",
    "describe_balanced",
    "describe_counts",
    "group_test",
    "ipras",
    "kendalls_w",
    "kruskal_wallis_from_counts",
    "list_advice",
    "mann_whitney_from_counts",
    "plain_summary",
    "preset_of",
    "quantile_from_counts",
    "quantile_sorted",
    "rank_correlations",
    "ranking_verdict",
    "rule_by_name",
    "rule_problems",
    "stability",
    "statement_advice",
    "summarise_ranking",
    "tabulate",
    "verdict_labels",
    "w_change",
    "weighted_quantile_from_counts",
    "wilcoxon_signed_rank",
]
