"""Stability between rounds: signed-rank test vs scipy and brute force, category changes, IQR change."""

import itertools

import numpy as np
import pytest
from scipy import stats as ss

from delphi.stats import AnalysisSettings, rule_by_name, stability, wilcoxon_signed_rank

pytestmark = pytest.mark.filterwarnings("error")

R1 = [5, 6, 7, 7, 8, 8, 6, 5, 9, 7, 4, 6]
R2 = [6, 7, 7, 8, 8, 8, 7, 6, 9, 7, 6, 7]


def test_wilcoxon_vector_exact_p():
    result = wilcoxon_signed_rank([R1], [R2])
    assert result.pvalue[0] == 0.015625
    assert result.exact[0]
    assert result.n[0] == 7  # five zero differences dropped
    assert result.statistic[0] == ss.wilcoxon(R1, R2).statistic


def brute_force_p(d):
    """Exact two-sided p by enumerating every sign pattern of the non-zero differences (mid-ranks)."""
    d = np.asarray(d, dtype=float)
    d = d[d != 0]
    ranks = ss.rankdata(np.abs(d))
    observed = ranks[d > 0].sum()
    totals = np.array([np.dot(ranks, signs) for signs in itertools.product([0, 1], repeat=d.size)])
    return min(1.0, 2 * min(np.mean(totals <= observed + 1e-9), np.mean(totals >= observed - 1e-9)))


def test_exact_p_with_ties_and_zeros_matches_enumeration():
    rng = np.random.default_rng(3)
    for _ in range(60):
        n = rng.integers(1, 13)
        x = rng.integers(1, 10, size=n)
        y = np.clip(x + rng.integers(-3, 4, size=n), 1, 9)
        result = wilcoxon_signed_rank([x], [y])
        if np.all(x == y):
            assert np.isnan(result.pvalue[0])
            continue
        assert result.pvalue[0] == pytest.approx(brute_force_p(x - y), abs=1e-12)


def test_exact_p_without_ties_matches_scipy_exact():
    rng = np.random.default_rng(4)
    for n in (1, 2, 5, 10, 20, 35, 50):
        d = rng.permutation(np.arange(1, n + 1)) * rng.choice([-1, 1], size=n)
        result = wilcoxon_signed_rank([d.astype(float)], [np.zeros(n)])
        expected = ss.wilcoxon(d, method="exact")
        assert result.pvalue[0] == pytest.approx(expected.pvalue, rel=1e-9)
        assert result.statistic[0] == expected.statistic


def test_large_samples_use_the_tie_corrected_normal_approximation():
    rng = np.random.default_rng(5)
    x = rng.integers(1, 10, size=(20, 200)).astype(float)
    y = np.clip(x + rng.integers(-2, 3, size=x.shape), 1, 9)
    result = wilcoxon_signed_rank(x, y)
    for i in range(x.shape[0]):
        expected = ss.wilcoxon(x[i], y[i], method="asymptotic")
        assert not result.exact[i]
        assert result.pvalue[i] == pytest.approx(expected.pvalue, rel=1e-9)
        assert result.statistic[i] == expected.statistic


def test_pairs_with_a_missing_side_are_dropped():
    x = np.array([[5.0, 6, np.nan, 7, 8]])
    y = np.array([[6.0, np.nan, 9, 8, 9]])
    got = wilcoxon_signed_rank(x, y)
    assert got.n[0] == 3
    assert got.pvalue[0] == ss.wilcoxon([5, 7, 8], [6, 8, 9]).pvalue


def test_rows_are_independent():
    rng = np.random.default_rng(6)
    x = rng.integers(1, 10, size=(30, 25)).astype(float)
    y = np.clip(x + rng.integers(-2, 3, size=x.shape), 1, 9)
    x[rng.random(x.shape) < 0.2] = np.nan
    whole = wilcoxon_signed_rank(x, y)
    for i in range(0, 30, 7):
        one = wilcoxon_signed_rank(x[i : i + 1], y[i : i + 1])
        np.testing.assert_array_equal(one.pvalue, whole.pvalue[i : i + 1])


def test_stability_counts_category_changes_and_iqr_change():
    prev = np.array([[1, 5, 7, 8, 9, np.nan], [7, 7, 7, 7, 7, 7]], dtype=float)
    cur = np.array([[2, 7, 7, 5, 9, 9], [7, 7, 7, 7, 7, 7]], dtype=float)
    result = stability(prev, cur, None, None, AnalysisSettings(), rule_by_name("comet"))
    assert result.n_paired.tolist() == [5, 6]
    # 5 -> 7 (middle to agree) and 8 -> 5 (agree to middle) change category; 1 -> 2 does not
    assert result.pct_changed_category[0] == 40.0
    assert result.pct_changed_category[1] == 0.0
    assert np.isnan(result.wilcoxon_p[1])  # nobody moved
    assert result.iqr_prev[0] == np.quantile([1, 5, 7, 8, 9], 0.75) - np.quantile([1, 5, 7, 8, 9], 0.25)
    assert result.delta_iqr[0] == pytest.approx(result.iqr_cur[0] - result.iqr_prev[0])


def test_stability_leaves_unable_out_of_the_pairs():
    prev = np.array([[7.0, 8, 9]])
    cur = np.array([[7.0, np.nan, 9]])
    unable = np.array([[False, True, False]])
    result = stability(prev, cur, None, unable, AnalysisSettings(), rule_by_name("comet"))
    assert result.n_paired[0] == 2


def test_stability_with_nobody_paired_gives_nan():
    prev = np.array([[7.0, np.nan]])
    cur = np.array([[np.nan, 8.0]])
    result = stability(prev, cur, None, None, AnalysisSettings(), rule_by_name("comet"))
    assert result.n_paired[0] == 0
    assert np.isnan(result.pct_changed_category[0]) and np.isnan(result.wilcoxon_p[0])


def test_stability_refuses_rounds_of_different_shape():
    with pytest.raises(ValueError, match="same shape"):
        stability(np.ones((2, 3)), np.ones((2, 4)), None, None, AnalysisSettings(), rule_by_name("comet"))
