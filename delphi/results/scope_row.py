"""The columns of a per-scope statistics row: one declared list, read by every table of per-scope figures.

A row is one statement in one round for one scope (``all`` for the pooled panel, or a group). Its columns, in
order (:func:`row_columns`):

* :data:`KEY_COLUMNS`: ``statement``, ``group``, ``round``;
* :data:`STATISTICS`: n, n_unable, median, q1, q3, iqr, pct_agree, pct_disagree, pct_unable, verdict, then the
  other descriptive and RAND/UCLA statistics; percentages 0-100, NaN given as missing;
* ``count_<v>`` per scale point, lowest first;
* :data:`DIVERGENCE`, ``verdict_<preset>`` per :func:`delphi.stats.presets.sensitivity_names` and
  :data:`STABILITY`: statement-level, filled on ``all`` rows only;
* :data:`SETTING_NAMES`: the population, quantile method, unable policy and rule the figures were computed with.

The round summaries export (:mod:`delphi.results.summaries`) and ``delphi analyse`` (:mod:`delphi.analyse`)
write these columns with the same names, order and coding; :data:`FROZEN_FIGURES` are the figures a closed
round stores as columns of its result rows, which :class:`delphi.results.round_results.ScopeFigures` and the
JSON API carry by the same names.
"""

from __future__ import annotations

from delphi.results.tables import Column
from delphi.stats.presets import sensitivity_names

__all__ = [
    "BALANCED",
    "DIVERGENCE",
    "FIRST_COLUMNS",
    "FROZEN_FIGURES",
    "KEY_COLUMNS",
    "SETTING_NAMES",
    "STABILITY",
    "STATISTICS",
    "STOPPING",
    "row_columns",
    "setting_columns",
]

#: Which row it is: statement, scope (``all`` or the group) and round.
KEY_COLUMNS: tuple[Column, ...] = (
    Column("statement", "Statement id.", "integer"),
    Column("group", "'all' for the whole panel, else the stakeholder group.", "text"),
    Column("round", "Round number.", "integer"),
)

PCT = "percent, 0-100"
#: The figures of one scope, in output order; the first ones, to ``verdict``, start every row (:data:`FIRST_COLUMNS`).
STATISTICS: tuple[Column, ...] = (
    Column(
        "n",
        "Ratings given by panellists in the analysis population (see population); 'unable' answers and "
        "panellists who did not answer are not counted.",
        "integer",
        "",
    ),
    Column("n_unable", "'Unable to rate' answers.", "integer", ""),
    Column("median", "Median rating (the panel's quantile method).", "number", "scale points"),
    Column("q1", "First quartile (the panel's quantile method).", "number", "scale points"),
    Column("q3", "Third quartile (the panel's quantile method).", "number", "scale points"),
    Column("iqr", "Interquartile range, q3 - q1.", "number", "scale points"),
    Column(
        "pct_agree", "Share of ratings in the agree band (denominator: see unable_policy).", "number", PCT
    ),
    Column(
        "pct_disagree",
        "Share of ratings in the disagree band (denominator: see unable_policy).",
        "number",
        PCT,
    ),
    Column("pct_unable", "'Unable to rate' answers among all answers.", "number", PCT),
    Column(
        "verdict",
        "in, out, none (no consensus) or insufficient (too few ratings); see the file description.",
        "text",
        "",
    ),
    Column("mean", "Mean rating.", "number", "scale points"),
    Column("sd", "Standard deviation (n - 1 denominator).", "number", "scale points"),
    Column("cv", "Coefficient of variation, sd / mean.", "number", "ratio"),
    Column("n_agree", "Ratings in the agree band.", "integer", ""),
    Column("n_disagree", "Ratings in the disagree band.", "integer", ""),
    Column("p30", "30th percentile (RAND/UCLA).", "number", "scale points"),
    Column("p70", "70th percentile (RAND/UCLA).", "number", "scale points"),
    Column("ipr", "Interpercentile range p70 - p30 (RAND/UCLA).", "number", "scale points"),
    Column("asymmetry_index", "|centre of scale - (p30 + p70) / 2| (RAND/UCLA).", "number", "scale points"),
    Column(
        "ipras",
        "IPR adjusted for symmetry, 2.35 + 1.5 x asymmetry index (RAND/UCLA).",
        "number",
        "scale points",
    ),
    Column("disagreement_index", "ipr / ipras; above 1 means disagreement (RAND/UCLA).", "number", "ratio"),
    Column("disagreement", "1 if ipr > ipras (RAND/UCLA disagreement).", "boolean", "1 = yes, 0 = no"),
    Column(
        "classic_k",
        "Raters needed in each extreme band for the classic RAND rule (0 outside 8-16 raters).",
        "integer",
        "",
    ),
    Column(
        "disagreement_classic",
        "1 if the classic RAND/UCLA rule finds disagreement.",
        "boolean",
        "1 = yes, 0 = no",
    ),
)
#: How the groups differ on a statement (pooled rows only, and only when there are groups).
DIVERGENCE: tuple[Column, ...] = (
    Column(
        "divergence_test",
        "Test between groups: mann_whitney (2 groups rated) or kruskal_wallis (3 or more).",
        "text",
        "",
    ),
    Column(
        "divergence_statistic", "U of the first group (Mann-Whitney) or H (Kruskal-Wallis).", "number", ""
    ),
    Column(
        "divergence_p", "Asymptotic two-sided p-value of the test between groups.", "number", "probability"
    ),
    Column("split", "1 if the rule is met in one group and not in another.", "boolean", "1 = yes, 0 = no"),
)
#: Stability against the previous round (pooled rows of rounds after the first).
STABILITY: tuple[Column, ...] = (
    Column(
        "n_paired",
        "Panellists who rated the statement (or the version it rewords) in both rounds.",
        "integer",
        "",
    ),
    Column(
        "wilcoxon_p",
        "Wilcoxon signed-rank p-value, this round against the previous one.",
        "number",
        "probability",
    ),
    Column(
        "pct_changed_category",
        "Paired panellists whose rating moved between agree/neutral/disagree.",
        "number",
        PCT,
    ),
    Column("delta_iqr", "IQR this round minus IQR in the previous round.", "number", "scale points"),
)

#: Stopping advice against the previous round (pooled rows), :mod:`delphi.stats.stopping`.
STOPPING: tuple[Column, ...] = (
    Column(
        "stability",
        "stable (under 15% changed side, Wilcoxon p >= 0.05, IQR changed by under 1 point, same verdict), "
        "moving (still moving) or no_comparison (round 1 or first asked this round); see docs/statistics.md 7.",
        "text",
        "",
    ),
)
#: Under a balanced rule, the group-balanced figures that decided the verdict (pooled rows); the unweighted
#: pooled figures stay in median, q1, q3, iqr, pct_agree and pct_disagree.
BALANCED: tuple[Column, ...] = (
    Column(
        "decided_by",
        "Which figures decided the verdict on this row: pooled (unweighted), balanced (each group weighs the "
        "same: the balanced_* columns) or every_group (each group's own verdict).",
        "text",
        "",
    ),
    Column(
        "balanced_median",
        "Median, each group weighing the same (weighted inverted-CDF).",
        "number",
        "scale points",
    ),
    Column("balanced_q1", "First quartile, each group weighing the same.", "number", "scale points"),
    Column("balanced_q3", "Third quartile, each group weighing the same.", "number", "scale points"),
    Column("balanced_iqr", "balanced_q3 - balanced_q1.", "number", "scale points"),
    Column("balanced_pct_agree", "Mean of the groups' shares in the agree band.", "number", PCT),
    Column("balanced_pct_disagree", "Mean of the groups' shares in the disagree band.", "number", PCT),
)

_NAMES = [c.name for c in STATISTICS]
#: The names every row starts with: the key, then the statistics up to ``verdict``.
FIRST_COLUMNS: tuple[str, ...] = (*(c.name for c in KEY_COLUMNS), *_NAMES[: _NAMES.index("verdict") + 1])

#: Figures stored as columns of a frozen result row (the other statistics are in its ``stats`` mapping).
FROZEN_FIGURES: tuple[str, ...] = (
    "n",
    "n_unable",
    "median",
    "q1",
    "q3",
    "iqr",
    "pct_agree",
    "pct_disagree",
    "verdict",
)


def setting_columns(population: str = "") -> list[Column]:
    """The settings every row ends with; ``population`` ends the population column's description
    ("This panel: submitted."), empty to leave that out."""
    note = f" This panel: {population}." if population else ""
    return [
        Column(
            "population",
            "Which answers the round's results count: submitted (only panellists who sent the round) or all "
            f"(every saved answer).{note}",
            "text",
        ),
        Column("quantile_method", "Quantile method: linear (type 7), weibull (type 6) or hinges.", "text"),
        Column(
            "unable_policy", "exclude: 'unable' is left out of the denominators; include: counted.", "text"
        ),
        Column("rule", "Name of the consensus rule (see the codebook for its definition).", "text"),
    ]


#: The names of :func:`setting_columns`.
SETTING_NAMES: tuple[str, ...] = tuple(c.name for c in setting_columns())


def row_columns(scale_min: int, scale_max: int, population: str = "", *, rounds: bool = True) -> list[Column]:
    """Every column of a row on the scale ``scale_min``-``scale_max``, in order (see the module docstring).

    ``population`` goes to :func:`setting_columns`. Without ``rounds`` (a file with no round column) there is
    no ``round`` column and no stability.
    """
    cols = [c for c in KEY_COLUMNS if rounds or c.name != "round"]
    cols += STATISTICS
    cols += [Column(f"count_{v}", f"Ratings of {v}.", "integer") for v in range(scale_min, scale_max + 1)]
    cols += DIVERGENCE
    cols += [
        Column(f"verdict_{name}", f"Verdict under the alternative definition '{name}' (sensitivity).", "text")
        for name in sensitivity_names(scale_min, scale_max)
    ]
    if rounds:
        cols += STABILITY
    return cols + setting_columns(population)
