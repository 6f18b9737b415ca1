"""Ranking questions: per-item rank figures, Kendall's W, the ranking verdict and change between rounds."""

import numpy as np
import pytest
from scipy import stats as ss

from delphi.stats import (
    consensus_order,
    rank_correlations,
    ranking_verdict,
    summarise_ranking,
    w_change,
)

pytestmark = pytest.mark.filterwarnings("error")

# Siegel & Castellan (1988) section 9.4 style: 4 raters, 5 items, no ties. Rank sums R_j = 5, 8, 12, 16, 19,
# mean 12, S = 49 + 16 + 0 + 16 + 49 = 130, W = 12 S / (m^2 (n^3 - n)) = 1560 / 1920 = 0.8125,
# chi2 = m (n - 1) W = 13.0 on 4 df.
RANKS = [[1, 2, 3, 4, 5], [2, 1, 3, 5, 4], [1, 3, 2, 4, 5], [1, 2, 4, 3, 5]]

# A tie: the second rater puts items 0 and 1 both first, which become mid-ranks 1.5, 1.5 (T = 2^3 - 2 = 6).
# Rank sums 3.5, 6.5, 8, 12 (mean 7.5), S = 16 + 1 + 0.25 + 20.25 = 37.5;
# W = 12 S / (m^2 (n^3 - n) - m sum T) = 450 / (540 - 18) = 25/29 = 0.86207 (0.83333 without the correction);
# chi2 = m (n - 1) W = 225/29 = 7.75862 on 3 df. Computed by hand; scipy.stats.friedmanchisquare, which applies
# the same tie correction, gives the same chi2 (pinned below).
TIED = [[1, 2, 3, 4], [1, 1, 3, 4], [1, 3, 2, 4]]


def test_siegel_castellan_vector_gives_w_chi2_df_and_mean_ranks():
    s = summarise_ranking(RANKS)
    assert (s.n_raters, s.n_unable, s.n_incomplete, s.ties) == (4, 0, 0, False)
    assert s.kendall.w == pytest.approx(0.8125, abs=1e-12)
    assert s.kendall.chi2 == pytest.approx(13.0, abs=1e-12)
    assert s.kendall.df == 4
    assert s.kendall.pvalue == pytest.approx(ss.chi2.sf(13.0, 4), rel=1e-12)
    # Mean ranks by hand: (1+2+1+1)/4, (2+1+3+2)/4, (3+3+2+4)/4, (4+5+4+3)/4, (5+4+5+5)/4.
    np.testing.assert_allclose(s.mean_rank, [1.25, 2.0, 3.0, 4.0, 4.75])
    np.testing.assert_allclose(s.median_rank, [1.0, 2.0, 3.0, 4.0, 5.0])
    np.testing.assert_allclose(s.rank_sum, [5, 8, 12, 16, 19])


def test_tied_ranks_get_mid_ranks_and_the_tie_corrected_w():
    s = summarise_ranking(TIED)
    assert s.ties is True
    assert s.kendall.w == pytest.approx(25 / 29, rel=1e-12)
    assert s.kendall.chi2 == pytest.approx(225 / 29, rel=1e-12)
    assert s.kendall.df == 3
    friedman = ss.friedmanchisquare(*np.asarray(TIED, dtype=float).T)
    assert s.kendall.chi2 == pytest.approx(friedman.statistic, rel=1e-12)
    assert s.kendall.pvalue == pytest.approx(friedman.pvalue, rel=1e-12)
    np.testing.assert_allclose(s.rank_sum, [3.5, 6.5, 8.0, 12.0])
    np.testing.assert_allclose(s.mean_rank, [3.5 / 3, 6.5 / 3, 8 / 3, 4.0])
    np.testing.assert_allclose(s.median_rank, [1.0, 2.0, 3.0, 4.0])


def test_scores_are_reranked_within_each_row():
    s = summarise_ranking([[10, 20, 30], [2, 5, 9]])
    np.testing.assert_allclose(s.mean_rank, [1, 2, 3])
    assert s.kendall.w == pytest.approx(1.0)


def test_unable_rows_are_counted_and_ignored_whatever_they_hold():
    ranks = [*RANKS, [5, 4, 3, 2, 1], [np.nan] * 5]
    s = summarise_ranking(ranks, unable=[False, False, False, False, True, True])
    assert (s.n_raters, s.n_unable, s.n_incomplete) == (4, 2, 0)
    assert s.kendall.w == pytest.approx(0.8125)
    np.testing.assert_allclose(s.mean_rank, [1.25, 2.0, 3.0, 4.0, 4.75])


def test_incomplete_rows_are_counted_and_left_out_of_every_figure():
    s = summarise_ranking([*RANKS, [1, np.nan, 2, 3, 4], [np.nan] * 5])
    assert (s.n_raters, s.n_unable, s.n_incomplete) == (4, 0, 2)
    assert s.kendall.n_raters == 4
    assert s.kendall.w == pytest.approx(0.8125)
    np.testing.assert_allclose(s.mean_rank, [1.25, 2.0, 3.0, 4.0, 4.75])


def test_no_complete_row_gives_nan_figures_and_zero_rank_sums():
    s = summarise_ranking([[1, np.nan, 2], [3, 2, 1]], unable=[False, True])
    assert (s.n_raters, s.n_unable, s.n_incomplete, s.ties) == (0, 1, 1, False)
    assert np.isnan(s.mean_rank).all() and np.isnan(s.median_rank).all()
    np.testing.assert_array_equal(s.rank_sum, [0.0, 0.0, 0.0])
    assert np.isnan(s.kendall.w)


def test_one_complete_row_gives_its_ranks_and_nan_w():
    s = summarise_ranking([[2, 1, 3]])
    np.testing.assert_allclose(s.mean_rank, [2, 1, 3])
    assert s.n_raters == 1 and np.isnan(s.kendall.w)


def test_bad_shapes_are_refused():
    with pytest.raises(ValueError, match="2-D"):
        summarise_ranking([1, 2, 3])
    with pytest.raises(ValueError, match="one entry per row"):
        summarise_ranking(RANKS, unable=[True, False])


@pytest.mark.parametrize(
    ("w", "n_raters", "expected"),
    [
        (0.7, 5, "in"),  # exactly at the threshold counts
        (0.7 - 1e-12, 5, "in"),  # floating-point rounding below the threshold still counts
        (0.6999, 5, "none"),
        (0.95, 4, "insufficient"),  # fewer raters than k_min = 5
        (0.95, 5, "in"),  # exactly k_min raters is enough
        (float("nan"), 10, "insufficient"),
    ],
)
def test_ranking_verdict_edges(w, n_raters, expected):
    assert ranking_verdict(w, n_raters, w_min=0.7, k_min=5) == expected


def test_ranking_verdict_needs_two_raters_even_when_k_min_is_one():
    assert ranking_verdict(1.0, 1, w_min=0.7, k_min=1) == "insufficient"
    assert ranking_verdict(1.0, 2, w_min=0.7, k_min=1) == "in"


def test_w_change_is_current_minus_previous_and_nan_if_either_is_nan():
    assert w_change(0.5, 0.8125) == pytest.approx(0.3125)
    assert np.isnan(w_change(float("nan"), 0.8))
    assert np.isnan(w_change(0.8, float("nan")))


def test_rank_correlations_match_scipy_spearmanr_row_by_row():
    rng = np.random.default_rng(15)
    previous = rng.integers(1, 6, size=(20, 6)).astype(float)  # with ties
    current = rng.integers(1, 6, size=(20, 6)).astype(float)
    rho = rank_correlations(previous, current)
    assert rho.shape == (20,)
    for i in range(20):
        if np.ptp(previous[i]) == 0 or np.ptp(current[i]) == 0:
            assert np.isnan(rho[i])
        else:
            assert rho[i] == pytest.approx(ss.spearmanr(previous[i], current[i]).statistic, abs=1e-12)


def test_rank_correlations_by_hand():
    # Siegel & Castellan (1988) section 9.5: r_s = 1 - 6 sum d^2 / (n^3 - n); d = (1, -1, 0, 1, -1) gives
    # 1 - 6 * 4 / 120 = 0.8; a reversed ranking gives -1.
    rho = rank_correlations([[1, 2, 3, 4, 5], [1, 2, 3, 4, 5]], [[2, 1, 3, 5, 4], [5, 4, 3, 2, 1]])
    np.testing.assert_allclose(rho, [0.8, -1.0])


def test_rank_correlations_are_nan_for_incomplete_or_constant_rows():
    previous = [[1, 2, 3], [1, np.nan, 3], [2, 2, 2], [1, 2, 3]]
    current = [[1, 2, 3], [1, 2, 3], [1, 2, 3], [np.nan, 2, 3]]
    rho = rank_correlations(previous, current)
    assert rho[0] == pytest.approx(1.0)
    assert np.isnan(rho[1:]).all()


def test_rank_correlations_refuse_different_shapes():
    with pytest.raises(ValueError, match="same shape"):
        rank_correlations([[1, 2, 3]], [[1, 2]])


def test_consensus_order_lowest_mean_first_ties_stable_nan_last():
    assert consensus_order([1.25, 2.0, 3.0, 4.0, 4.75]) == [0, 1, 2, 3, 4]
    assert consensus_order([3.0, np.nan, 1.0, 3.0, 2.0]) == [2, 4, 0, 3, 1]
    assert consensus_order([]) == []
