"""Between-group tests from counts against scipy.stats and R.

R: ``wilcox.test(A, B, exact = FALSE, correct = FALSE)`` gives W = 64; ``kruskal.test(list(A, B, C))`` gives
Kruskal-Wallis chi-squared = 11.431 on 2 df (with the tie correction of Kruskal & Wallis, JASA 1952;47:583-621).
"""

import numpy as np
import pytest
from scipy import stats as ss

from delphi.stats import group_test, kruskal_wallis_from_counts, mann_whitney_from_counts

pytestmark = pytest.mark.filterwarnings("error")

A = [7, 8, 9, 9, 7, 8, 6, 7, 8, 9]
B = [7, 7, 8, 5, 6, 9, 9, 7, 4, 8]
C = [3, 5, 6, 5, 4, 7, 6, 5]


def counts(values):
    return np.bincount(np.asarray(values) - 1, minlength=9)


def test_mann_whitney_vector_u_is_64():
    u, p = mann_whitney_from_counts(counts(A)[None], counts(B)[None])
    assert u[0] == 64.0
    assert p[0] == pytest.approx(ss.mannwhitneyu(A, B, method="asymptotic").pvalue, rel=1e-12)


def test_kruskal_wallis_vector_h_is_11_4313():
    h, p, df = kruskal_wallis_from_counts(np.stack([counts(A), counts(B), counts(C)])[None])
    assert h[0] == pytest.approx(11.4313, abs=5e-5)
    expected = ss.kruskal(A, B, C)
    assert h[0] == pytest.approx(expected.statistic, rel=1e-12)
    assert p[0] == pytest.approx(expected.pvalue, rel=1e-12)
    assert df[0] == 2


def test_mann_whitney_matches_scipy_on_random_tied_data():
    rng = np.random.default_rng(1)
    for _ in range(200):
        a = rng.integers(1, 10, size=rng.integers(1, 30))
        b = rng.integers(1, 10, size=rng.integers(1, 30))
        u, p = mann_whitney_from_counts(counts(a)[None], counts(b)[None])
        if np.unique(np.concatenate([a, b])).size == 1:
            assert np.isnan(p[0])
            continue
        expected = ss.mannwhitneyu(a, b, method="asymptotic")
        assert u[0] == expected.statistic
        assert p[0] == pytest.approx(expected.pvalue, rel=1e-9, abs=1e-15)


def test_kruskal_wallis_matches_scipy_on_random_tied_data():
    rng = np.random.default_rng(2)
    for _ in range(200):
        samples = [rng.integers(1, 10, size=rng.integers(1, 20)) for _ in range(rng.integers(2, 6))]
        h, p, _ = kruskal_wallis_from_counts(np.stack([counts(s) for s in samples])[None])
        if np.unique(np.concatenate(samples)).size == 1:
            assert np.isnan(h[0])
            continue
        expected = ss.kruskal(*samples)
        assert h[0] == pytest.approx(expected.statistic, rel=1e-9, abs=1e-12)
        assert p[0] == pytest.approx(expected.pvalue, rel=1e-9, abs=1e-15)


def test_group_test_picks_mann_whitney_for_two_rated_groups_and_kruskal_for_more():
    table = np.zeros((3, 3, 9), dtype=int)
    table[0] = [counts(A), counts(B), counts(C)]
    table[1] = [counts(A), np.zeros(9, dtype=int), counts(C)]  # group 1 did not rate statement 1
    table[2, 0] = counts(A)  # only one group rated statement 2
    result = group_test(table)
    assert result.test_names() == ["kruskal_wallis", "mann_whitney", ""]
    assert result.statistic[1] == ss.mannwhitneyu(A, C).statistic
    assert np.isnan(result.statistic[2]) and np.isnan(result.pvalue[2])


def test_all_equal_ratings_give_nan_not_a_warning():
    same = counts([7, 7, 7])[None]
    u, p = mann_whitney_from_counts(same, same)
    assert u[0] == 4.5
    assert np.isnan(p[0])
    h, p, _ = kruskal_wallis_from_counts(np.stack([same, same, same], axis=1))
    assert np.isnan(h[0]) and np.isnan(p[0])


def test_empty_samples_give_nan():
    empty = np.zeros((1, 9), dtype=int)
    u, p = mann_whitney_from_counts(empty, counts([7])[None])
    assert np.isnan(u[0]) and np.isnan(p[0])
