"""Rank tests between groups, vectorised over statements and computed from counts per scale point.

On a whole-number scale every tied value shares one mid-rank, so each group's rank sum is
``sum_k counts[g, k] x midrank[k]`` and no ratings need sorting. P-values are asymptotic and match
``scipy.stats.mannwhitneyu(method="asymptotic")`` (tie-corrected, continuity-corrected) and
``scipy.stats.kruskal`` (tie-corrected); Likert data are almost always tied, which is where exact
Mann-Whitney p-values stop being exact anyway.

References
----------
.. [1] Mann, H. B. and Whitney, D. R. (1947). On a test of whether one of two random variables is
       stochastically larger than the other. *Ann. Math. Statist.* 18(1), 50-60.
.. [2] Kruskal, W. H. and Wallis, W. A. (1952). Use of ranks in one-criterion variance analysis.
       *J. Amer. Statist. Assoc.* 47(260), 583-621.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special

__all__ = [
    "GROUP_TESTS",
    "GroupTest",
    "group_test",
    "kruskal_wallis_from_counts",
    "mann_whitney_from_counts",
]

#: Names of the tests in :attr:`GroupTest.test`, indexed by code.
GROUP_TESTS: tuple[str, ...] = ("", "mann_whitney", "kruskal_wallis")


def _midranks(pooled: NDArray[np.int64]) -> NDArray[np.float64]:
    """Mid-rank of each scale point, shape (S, K), from pooled counts (S, K)."""
    before = np.cumsum(pooled, axis=-1) - pooled
    return before + (pooled + 1) / 2.0


def _tie_term(pooled: NDArray[np.int64]) -> NDArray[np.float64]:
    t = pooled.astype(np.float64)
    return (t**3 - t).sum(axis=-1)


def _safe_div(num: NDArray, den: NDArray) -> NDArray[np.float64]:
    num = np.asarray(num, dtype=np.float64)
    den = np.asarray(den, dtype=np.float64)
    out = np.full(np.broadcast_shapes(num.shape, den.shape), np.nan)
    return np.divide(num, den, out=out, where=den != 0)


def mann_whitney_from_counts(
    counts_a: ArrayLike, counts_b: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Mann-Whitney U test per statement, two-sided, from counts per scale point.

    Parameters
    ----------
    counts_a, counts_b : array_like of int, shape (S, K)
        Ratings per scale point in the two samples.

    Returns
    -------
    u : ndarray of float64, shape (S,)
        U of sample a (as ``scipy.stats.mannwhitneyu(a, b).statistic``); NaN if a sample is empty.
    pvalue : ndarray of float64, shape (S,)
        Normal approximation with tie and continuity correction; NaN if a sample is empty or all ratings are
        equal.

    Examples
    --------
    >>> a = np.bincount([7, 8, 9, 9, 7, 8, 6, 7, 8, 9], minlength=10)[None, 1:]
    >>> b = np.bincount([7, 7, 8, 5, 6, 9, 9, 7, 4, 8], minlength=10)[None, 1:]
    >>> float(mann_whitney_from_counts(a, b)[0][0])
    64.0
    """
    a = np.asarray(counts_a, dtype=np.int64)
    b = np.asarray(counts_b, dtype=np.int64)
    if a.shape != b.shape or a.ndim != 2:
        raise ValueError(f"counts must both have shape (S, K); got {a.shape} and {b.shape}")
    pooled = a + b
    ranks = _midranks(pooled)
    n1 = a.sum(axis=-1).astype(np.float64)
    n2 = b.sum(axis=-1).astype(np.float64)
    n = n1 + n2
    u1 = (a * ranks).sum(axis=-1) - n1 * (n1 + 1) / 2.0
    both = (n1 > 0) & (n2 > 0)
    u1 = np.where(both, u1, np.nan)
    u_big = np.maximum(u1, n1 * n2 - u1)
    mu = n1 * n2 / 2.0
    var = n1 * n2 / 12.0 * ((n + 1) - _safe_div(_tie_term(pooled), n * (n - 1)))
    sd = np.sqrt(np.where(both & (var > 0), var, 0.0))
    z = _safe_div(u_big - mu - 0.5, np.where(both, sd, 0.0))
    p = np.clip(2.0 * special.ndtr(-z), 0.0, 1.0)
    return u1, np.where(np.isnan(z), np.nan, p)


def kruskal_wallis_from_counts(
    counts: ArrayLike,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.int64]]:
    """Kruskal-Wallis H test per statement from counts per group and scale point.

    Parameters
    ----------
    counts : array_like of int, shape (S, G, K)
        Ratings per statement, group and scale point. Groups without ratings for a statement are left out of
        that statement's test.

    Returns
    -------
    h : ndarray of float64, shape (S,)
        Tie-corrected H; NaN with fewer than two groups rated or when all ratings are equal.
    pvalue : ndarray of float64, shape (S,)
        Upper tail of chi-squared with ``df`` degrees of freedom.
    df : ndarray of int64, shape (S,)
        Groups with ratings minus one (0 when untestable).
    """
    c = np.asarray(counts, dtype=np.int64)
    if c.ndim != 3:
        raise ValueError(f"counts must have shape (S, G, K), not {c.shape}")
    pooled = c.sum(axis=1)
    ranks = _midranks(pooled)
    n_g = c.sum(axis=-1).astype(np.float64)  # (S, G)
    r_g = (c * ranks[:, None, :]).sum(axis=-1)  # (S, G)
    n = n_g.sum(axis=1)
    rated = n_g > 0
    df = np.maximum(rated.sum(axis=1) - 1, 0).astype(np.int64)
    term = np.where(rated, _safe_div(r_g**2, np.where(rated, n_g, 1.0)), 0.0).sum(axis=1)
    h0 = _safe_div(12.0 * term, n * (n + 1)) - 3.0 * (n + 1)
    correction = 1.0 - _safe_div(_tie_term(pooled), n**3 - n)
    h = _safe_div(h0, np.where((df > 0) & (correction > 1e-12), correction, 0.0))
    h = np.where(np.isnan(h), np.nan, np.maximum(h, 0.0))
    p = np.where(np.isnan(h), np.nan, special.chdtrc(np.maximum(df, 1), np.nan_to_num(h)))
    return h, p, df


@dataclass(frozen=True, slots=True)
class GroupTest:
    """Divergence test between groups, per statement.

    Attributes
    ----------
    test : ndarray of int8, shape (S,)
        Index into :data:`GROUP_TESTS`: 0 none (fewer than two groups rated), 1 Mann-Whitney (two groups
        rated), 2 Kruskal-Wallis (three or more).
    statistic : ndarray of float64, shape (S,)
        U of the lower-numbered group, or H.
    pvalue : ndarray of float64, shape (S,)
        NaN where untestable.
    """

    test: NDArray[np.int8]
    statistic: NDArray[np.float64]
    pvalue: NDArray[np.float64]

    def test_names(self) -> list[str]:
        """Test name per statement (empty string where none was run)."""
        return [GROUP_TESTS[int(t)] for t in self.test]


def group_test(counts: ArrayLike) -> GroupTest:
    """Mann-Whitney U when two groups rated a statement, Kruskal-Wallis H when three or more.

    Parameters
    ----------
    counts : array_like of int, shape (S, G, K)
        Ratings per statement, group and scale point.

    Returns
    -------
    GroupTest
    """
    c = np.asarray(counts, dtype=np.int64)
    h, p_kw, _ = kruskal_wallis_from_counts(c)
    rated = c.sum(axis=-1) > 0
    n_rated = rated.sum(axis=1)
    g = c.shape[1]
    first = np.argmax(rated, axis=1)
    last = g - 1 - np.argmax(rated[:, ::-1], axis=1)
    rows = np.arange(c.shape[0])
    u, p_mw = mann_whitney_from_counts(c[rows, first], c[rows, last])
    two = n_rated == 2
    many = n_rated >= 3
    test = np.where(two, 1, np.where(many, 2, 0)).astype(np.int8)
    statistic = np.where(two, u, np.where(many, h, np.nan))
    pvalue = np.where(two, p_mw, np.where(many, p_kw, np.nan))
    return GroupTest(test=test, statistic=statistic, pvalue=pvalue)
