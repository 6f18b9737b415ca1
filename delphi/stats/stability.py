"""Stability between rounds: Wilcoxon signed-rank test, category changes and change in IQR.

The same panellists (columns) rate the same statements (rows) in two rounds. Only panellists with a rating in
both rounds are paired; "unable" or no answer in either round leaves a panellist out of the paired statistics.

References
----------
.. [1] Wilcoxon, F. (1945). Individual comparisons by ranking methods. *Biometrics Bulletin* 1(6), 80-83.
.. [2] Hollander, M., Wolfe, D. A. and Chicken, E. (2014). *Nonparametric Statistical Methods*, 3rd ed.,
       Wiley, section 3.1 (zeros dropped, mid-ranks for ties, exact conditional null distribution).
.. [3] von der Gracht, H. A. (2012). Consensus measurement in Delphi studies: review and implications for
       future quality assurance. *Technol. Forecast. Soc. Change* 79(8), 1525-1536 (stability measures).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special

from delphi.stats.quantiles import quantile_from_counts
from delphi.stats.ranks import midranks_sorted
from delphi.stats.rules import ConsensusRule
from delphi.stats.settings import AnalysisSettings
from delphi.stats.tabulate import check_groups, check_matrix, tabulate

__all__ = ["Stability", "WilcoxonResult", "stability", "wilcoxon_signed_rank"]

#: Largest number of non-zero differences for which the exact null distribution is computed.
EXACT_MAX_N = 50


@dataclass(frozen=True, slots=True)
class WilcoxonResult:
    """Wilcoxon signed-rank test per statement.

    Attributes
    ----------
    statistic : ndarray of float64, shape (S,)
        ``min(T+, T-)``, the sums of ranks of positive and negative differences (scipy's two-sided statistic).
    pvalue : ndarray of float64, shape (S,)
        Two-sided; NaN with no non-zero difference.
    n : ndarray of int64, shape (S,)
        Non-zero differences used.
    exact : ndarray of bool, shape (S,)
        Whether the p-value is exact (``1 <= n <= 50``) rather than the normal approximation.
    """

    statistic: NDArray[np.float64]
    pvalue: NDArray[np.float64]
    n: NDArray[np.int64]
    exact: NDArray[np.bool_]


def _exact_p(ranks2: NDArray[np.int64], n: NDArray[np.int64], t2: NDArray[np.int64]) -> NDArray[np.float64]:
    """Two-sided exact p of doubled T+ under random signs, given the doubled mid-ranks of each row."""
    rows = ranks2.shape[0]
    if rows == 0:
        return np.zeros(0)
    width = int((n * (n + 1)).max()) + 1
    dist = np.zeros((rows, width))
    dist[:, 0] = 1.0
    cols = np.arange(width)
    for j in range(int(n.max())):
        active = j < n
        src = cols[None, :] - np.where(active, ranks2[:, j], 0)[:, None]
        shifted = np.where(src >= 0, np.take_along_axis(dist, np.maximum(src, 0), axis=1), 0.0)
        dist = np.where(active[:, None], 0.5 * (dist + shifted), dist)
    rows_idx = np.arange(rows)
    p_le = np.cumsum(dist, axis=1)[rows_idx, t2]
    p_ge = np.cumsum(dist[:, ::-1], axis=1)[:, ::-1][rows_idx, t2]
    return np.clip(2.0 * np.minimum(p_le, p_ge), 0.0, 1.0)


def wilcoxon_signed_rank(x: ArrayLike, y: ArrayLike) -> WilcoxonResult:
    """Two-sided Wilcoxon signed-rank test of paired rows, vectorised over statements.

    Parameters
    ----------
    x, y : array_like of float, shape (S, P)
        Paired observations (e.g. round 1 and round 2 ratings of the same panellists); a pair with NaN on
        either side is dropped.

    Returns
    -------
    WilcoxonResult

    Notes
    -----
    Differences of zero are dropped (Wilcoxon's method, scipy's default ``zero_method="wilcox"``); tied
    absolute differences get mid-ranks. For 1-50 non-zero differences the p-value is exact under the
    conditional null distribution of T+ given the mid-ranks (all sign patterns equally likely), computed by
    dynamic programming on doubled ranks; without ties it equals ``scipy.stats.wilcoxon(method="exact")`` and
    with ties it equals scipy's exhaustive permutation test. Above 50 it is the normal approximation with the
    tie correction and no continuity correction (``method="asymptotic"``).

    Examples
    --------
    >>> r1 = [[5, 6, 7, 7, 8, 8, 6, 5, 9, 7, 4, 6]]
    >>> r2 = [[6, 7, 7, 8, 8, 8, 7, 6, 9, 7, 6, 7]]
    >>> float(wilcoxon_signed_rank(r1, r2).pvalue[0])
    0.015625
    """
    a = np.asarray(x, dtype=np.float64)
    b = np.asarray(y, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 2:
        raise ValueError(f"x and y must both have shape (S, P); got {a.shape} and {b.shape}")
    with np.errstate(invalid="ignore"):
        d = a - b  # inf - inf gives NaN, which is dropped like a missing pair
    d = np.where(d == 0, np.nan, d)
    order = np.argsort(np.abs(d), axis=1)
    d_sorted = np.take_along_axis(d, order, axis=1)
    abs_sorted = np.abs(d_sorted)
    ranks2, tie_term = midranks_sorted(abs_sorted)
    n = (~np.isnan(d_sorted)).sum(axis=1).astype(np.int64)
    t2_plus = np.where(d_sorted > 0, ranks2, 0).sum(axis=1)
    total2 = n * (n + 1)
    t_plus = t2_plus / 2.0
    t_minus = (total2 - t2_plus) / 2.0
    has = n > 0
    statistic = np.where(has, np.minimum(t_plus, t_minus), np.nan)

    nf = n.astype(np.float64)
    var = nf * (nf + 1) * (2 * nf + 1) / 24.0 - tie_term / 48.0
    sd = np.sqrt(np.where(var > 0, var, 1.0))
    z = np.where(var > 0, (t_plus - nf * (nf + 1) / 4.0) / sd, 0.0)
    pvalue = np.where(has & (var > 0), np.minimum(1.0, 2.0 * special.ndtr(-np.abs(z))), np.nan)

    exact = has & (n <= EXACT_MAX_N)
    if exact.any():
        width = int(n[exact].max())
        pvalue[exact] = _exact_p(ranks2[exact, :width], n[exact], t2_plus[exact])
    return WilcoxonResult(statistic=statistic, pvalue=pvalue, n=n, exact=exact)


@dataclass(frozen=True, slots=True)
class Stability:
    """Change between two rounds, per statement. All arrays have shape (S,).

    Attributes
    ----------
    n_paired : int64
        Panellists with a rating in both rounds.
    wilcoxon_statistic, wilcoxon_p : float64
        Signed-rank test on the paired ratings (see :func:`wilcoxon_signed_rank`); NaN if no rating changed.
    wilcoxon_exact : bool
        Whether the p-value is exact.
    pct_changed_category : float64
        Percentage (0-100) of paired panellists whose rating moved between the disagree band, the middle and
        the agree band of the rule; NaN with no pairs.
    iqr_prev, iqr_cur, delta_iqr : float64
        IQR of all ratings in each round (settings' quantile method) and ``iqr_cur - iqr_prev``.
    """

    n_paired: NDArray[np.int64]
    wilcoxon_statistic: NDArray[np.float64]
    wilcoxon_p: NDArray[np.float64]
    wilcoxon_exact: NDArray[np.bool_]
    pct_changed_category: NDArray[np.float64]
    iqr_prev: NDArray[np.float64]
    iqr_cur: NDArray[np.float64]
    delta_iqr: NDArray[np.float64]


def _category(x: NDArray[np.float64], rule: ConsensusRule) -> NDArray[np.int8]:
    agree = (x >= rule.agree[0]) & (x <= rule.agree[1])
    disagree = (x >= rule.disagree[0]) & (x <= rule.disagree[1])
    return np.where(agree, 2, np.where(disagree, 0, 1)).astype(np.int8)


def _iqr(ratings: NDArray, unable: NDArray, settings: AnalysisSettings) -> NDArray[np.float64]:
    groups = check_groups(None, 1, ratings.shape[1])
    counts = tabulate(ratings, unable, groups, 1, settings).counts[:, 0, :]
    values = np.arange(settings.scale_min, settings.scale_max + 1, dtype=np.float64)
    q1 = quantile_from_counts(counts, 0.25, settings.quantile_method, values)
    q3 = quantile_from_counts(counts, 0.75, settings.quantile_method, values)
    return q3 - q1


def stability(
    prev_ratings: ArrayLike,
    cur_ratings: ArrayLike,
    prev_unable: ArrayLike | None,
    cur_unable: ArrayLike | None,
    settings: AnalysisSettings,
    rule: ConsensusRule,
) -> Stability:
    """Compare two rounds of the same statements and panellists.

    Parameters
    ----------
    prev_ratings, cur_ratings : array_like of float, shape (S, P)
        Ratings in the earlier and the later round, NaN for no answer; row i and column j must be the same
        statement and panellist in both.
    prev_unable, cur_unable : array_like of bool, shape (S, P), or None
        "Unable to rate" answers (None: none).
    settings : AnalysisSettings
        Scale and quantile method.
    rule : ConsensusRule
        Supplies the agree and disagree bands that define the categories.

    Returns
    -------
    Stability

    Raises
    ------
    ValueError
        If shapes differ or a rating is not a whole number on the scale.
    """
    prev, pu = check_matrix(prev_ratings, prev_unable, "prev_ratings")
    cur, cu = check_matrix(cur_ratings, cur_unable, "cur_ratings")
    if prev.shape != cur.shape:
        raise ValueError(f"the two rounds must have the same shape; got {prev.shape} and {cur.shape}")
    rule.check_scale(settings)
    iqr_prev = _iqr(prev, pu, settings)
    iqr_cur = _iqr(cur, cu, settings)
    paired = ~(np.isnan(prev) | np.isnan(cur) | pu | cu)
    a = np.where(paired, prev, np.nan)
    b = np.where(paired, cur, np.nan)
    test = wilcoxon_signed_rank(b, a)
    n_paired = paired.sum(axis=1).astype(np.int64)
    changed = (paired & (_category(a, rule) != _category(b, rule))).sum(axis=1)
    pct = np.full(n_paired.shape, np.nan)
    np.divide(100.0 * changed, n_paired, out=pct, where=n_paired > 0)
    return Stability(
        n_paired=n_paired,
        wilcoxon_statistic=test.statistic,
        wilcoxon_p=test.pvalue,
        wilcoxon_exact=test.exact,
        pct_changed_category=pct,
        iqr_prev=iqr_prev,
        iqr_cur=iqr_cur,
        delta_iqr=iqr_cur - iqr_prev,
    )
