"""Descriptive statistics: shares and their denominators, moments, RAND/UCLA quantities, balanced scope."""

from fractions import Fraction

import numpy as np
import pytest

from delphi.stats import AnalysisSettings, analyse_round, classic_k, describe_balanced, describe_counts, ipras

pytestmark = pytest.mark.filterwarnings("error")

SETTINGS = AnalysisSettings()
U = -1  # unable, in the vectors below


def pooled(values, settings=SETTINGS):
    ratings = np.array([[np.nan if v == U else v for v in values]], dtype=float)
    unable = np.array([[v == U for v in values]])
    return analyse_round(ratings, unable, settings=settings).pooled


def test_comet_vector_in_seventy_ten():
    s = pooled([9, 9, 8, 8, 8, 7, 7, 7, 6, 6, 5, 2, 3, 7, 8, 9, 9, 8, 7, 4])
    assert (s.n[0], s.n_agree[0], s.n_disagree[0]) == (20, 14, 2)
    assert (s.pct_agree[0], s.pct_disagree[0]) == (70.0, 10.0)


def test_comet_vector_seventy_five_fifteen():
    s = pooled([9, 8, 7, 7, 7, 7, 7, 8, 9, 6, 5, 2, 1, 3, 7, 8, 9, 8, 7, 7])
    assert (s.pct_agree[0], s.pct_disagree[0]) == (75.0, 15.0)


def test_unable_excluded_from_the_denominator_by_default():
    s = pooled([7, 7, 8, 9, 9, 7, 8, 5, U, U])
    assert (s.n[0], s.n_unable[0]) == (8, 2)
    assert s.pct_agree[0] == 87.5
    assert s.pct_unable[0] == 20.0


def test_unable_included_in_the_denominator_when_asked():
    s = pooled([7, 7, 8, 9, 9, 7, 8, 5, U, U], AnalysisSettings(unable_policy="include"))
    assert (s.n[0], s.n_unable[0]) == (8, 2)
    assert s.pct_agree[0] == 70.0
    assert s.pct_unable[0] == 20.0


def test_pct_unable_counts_everyone_who_answered_not_non_responders():
    ratings = np.array([[7, 8, np.nan, np.nan]])
    unable = np.array([[False, False, True, False]])
    s = analyse_round(ratings, unable).pooled
    assert s.pct_unable[0] == pytest.approx(100 / 3)


def test_mean_sd_cv_match_numpy():
    rng = np.random.default_rng(2)
    x = rng.integers(1, 10, size=(50, 30)).astype(float)
    s = analyse_round(x).pooled
    np.testing.assert_allclose(s.mean, x.mean(axis=1), rtol=1e-12)
    np.testing.assert_allclose(s.sd, x.std(axis=1, ddof=1), rtol=1e-12)
    np.testing.assert_allclose(s.cv, x.std(axis=1, ddof=1) / x.mean(axis=1), rtol=1e-12)


def test_counts_per_scale_point_start_at_scale_min():
    s = pooled([1, 1, 9, 5])
    assert s.counts[0].tolist() == [2, 0, 0, 0, 1, 0, 0, 0, 1]


def test_rand_ucla_bmj_open_vector_is_appropriate():
    values = [4, 5, 6] + [7] * 5 + [8] * 5 + [9] * 2
    s = pooled(values)
    assert (s.median[0], s.p30[0], s.p70[0], s.ipr[0]) == (7.0, 7.0, 8.0, 1.0)
    assert s.asymmetry_index[0] == 2.5
    assert s.ipras[0] == pytest.approx(6.10)
    assert not s.disagreement[0]


def test_rand_ucla_polarised_vector_shows_disagreement_despite_median_seven():
    s = pooled([1, 2, 2, 3, 7, 7, 8, 8, 9])
    assert s.median[0] == 7.0
    assert s.ipr[0] == pytest.approx(5.2)
    assert s.ipras[0] == pytest.approx(2.35)
    assert s.disagreement[0]
    assert s.disagreement_index[0] == pytest.approx(5.2 / 2.35)


def test_rand_ucla_second_disagreement_vector():
    s = pooled([2, 3, 3, 5, 5, 6, 7, 7, 8])
    assert s.ipr[0] == pytest.approx(2.8)
    assert s.ipras[0] == pytest.approx(2.65)
    assert s.disagreement[0]


def test_ipras_function_vector():
    ipr, ai, ipras_ = ipras(7.0, 8.0)
    assert (float(ipr), float(ai)) == (1.0, 2.5)
    assert float(ipras_) == pytest.approx(6.1)


def test_classic_rule_k_follows_the_manual_table():
    assert classic_k(range(6, 19)).tolist() == [0, 0, 3, 3, 3, 4, 4, 4, 5, 5, 5, 0, 0]


def test_classic_rule_needs_k_in_both_extreme_bands():
    nine_polarised = pooled([1, 2, 3, 5, 5, 5, 7, 8, 9])  # 3 low, 3 high, n = 9 -> k = 3
    assert nine_polarised.disagreement_classic[0]
    nine_lopsided = pooled([1, 2, 5, 5, 5, 7, 8, 9, 9])  # only 2 low
    assert not nine_lopsided.disagreement_classic[0]
    seven = pooled([1, 2, 3, 5, 7, 8, 9])  # outside 8-16: undefined, reported as false with k = 0
    assert (seven.classic_k[0], seven.disagreement_classic[0]) == (0, False)


def test_p30_p70_follow_weibull_under_type_6_and_linear_under_hinges():
    values = np.array([1, 2, 2, 3, 7, 7, 8, 8, 9])
    for method, percentile_method in (("weibull", "weibull"), ("hinges", "linear"), ("linear", "linear")):
        s = pooled(values.tolist(), AnalysisSettings(quantile_method=method))
        assert s.p30[0] == np.quantile(values, 0.3, method=percentile_method)
        assert s.p70[0] == np.quantile(values, 0.7, method=percentile_method)


def test_describe_counts_refuses_a_band_off_the_scale():
    with pytest.raises(ValueError, match="does not lie on the scale"):
        describe_counts(np.ones((1, 9), dtype=int), np.zeros(1, dtype=int), SETTINGS, agree=(8, 10))


def test_balanced_shares_are_means_of_group_shares():
    # group 0: 4 of 4 agree; group 1: 1 of 2 agree -> pooled 5/6, balanced (100 + 50) / 2
    counts = np.zeros((1, 2, 9), dtype=int)
    counts[0, 0, 8] = 4
    counts[0, 1, [0, 8]] = 1
    s = describe_balanced(counts, np.zeros((1, 2), dtype=int), SETTINGS)
    assert s.balanced
    assert s.pct_agree[0] == 75.0
    assert s.pct_disagree[0] == 25.0
    assert s.n[0] == 6


def exact_weighted_quantile(values, weights, p):
    """Inverted-CDF quantile in exact fractions: the smallest value whose cumulative weight reaches p."""
    total = sum(weights)
    cumulative = Fraction(0)
    for i in np.argsort(values, kind="stable"):
        cumulative += weights[i]
        if cumulative / total >= p:
            return float(values[i])
    raise AssertionError("unreachable")


def test_balanced_quantiles_weight_each_group_equally():
    # Reference in exact fractions: numpy's weighted inverted_cdf sums float weights and can miss an exact
    # boundary (e.g. groups of 3, 3 and 2: cumulative 1/2 comes out as 0.4999...), the stats code does not.
    rng = np.random.default_rng(9)
    for _ in range(50):
        sizes = rng.integers(1, 12, size=3)
        ratings = [rng.integers(1, 10, size=k) for k in sizes]
        counts = np.stack([np.bincount(r - 1, minlength=9) for r in ratings])[None]
        s = describe_balanced(counts, np.zeros((1, 3), dtype=int), SETTINGS)
        values = np.concatenate(ratings)
        weights = [Fraction(1, int(k)) for k in sizes for _ in range(k)]
        for name, p in (("median", "1/2"), ("q1", "1/4"), ("q3", "3/4"), ("p30", "3/10"), ("p70", "7/10")):
            assert getattr(s, name)[0] == exact_weighted_quantile(values, weights, Fraction(p)), name
        assert s.mean[0] == pytest.approx(np.mean([r.mean() for r in ratings]))


def test_balanced_sd_is_the_ordinary_sd_when_groups_are_the_same_size():
    rng = np.random.default_rng(4)
    ratings = rng.integers(1, 10, size=(2, 6))
    counts = np.stack([np.bincount(r - 1, minlength=9) for r in ratings])[None]
    s = describe_balanced(counts, np.zeros((1, 2), dtype=int), SETTINGS)
    assert s.sd[0] == pytest.approx(ratings.ravel().std(ddof=1))


def test_balanced_ignores_groups_without_ratings():
    counts = np.zeros((1, 3, 9), dtype=int)
    counts[0, 0, 8] = 3
    s = describe_balanced(counts, np.zeros((1, 3), dtype=int), SETTINGS)
    assert (s.pct_agree[0], s.median[0]) == (100.0, 9.0)


def test_scope_arrays_are_read_only():
    s = pooled([7, 8, 9])
    with pytest.raises(ValueError, match="read-only"):
        s.median[0] = 1.0
