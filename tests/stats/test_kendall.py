"""Kendall's W with the tie correction."""

import numpy as np
import pytest
from scipy import stats as ss

from delphi.stats import kendalls_w

pytestmark = pytest.mark.filterwarnings("error")

RANKS = [[1, 2, 3, 4, 5], [2, 1, 3, 5, 4], [1, 3, 2, 4, 5], [1, 2, 4, 3, 5]]


def test_brief_vector():
    result = kendalls_w(RANKS)
    assert result.w == pytest.approx(0.8125, abs=1e-12)
    assert result.chi2 == pytest.approx(13.0, abs=1e-12)
    assert result.df == 4
    assert result.pvalue == pytest.approx(ss.chi2.sf(13.0, 4), rel=1e-12)
    assert (result.n_raters, result.n_items) == (4, 5)


def test_chi_squared_equals_friedman_with_ties():
    rng = np.random.default_rng(8)
    for _ in range(50):
        scores = rng.integers(1, 5, size=(rng.integers(3, 8), rng.integers(3, 7))).astype(float)
        result = kendalls_w(scores)
        if np.isnan(result.w):
            continue
        friedman = ss.friedmanchisquare(*scores.T)
        assert result.chi2 == pytest.approx(friedman.statistic, rel=1e-9)
        assert result.pvalue == pytest.approx(friedman.pvalue, rel=1e-9)


def test_perfect_agreement_is_one_and_scores_are_reranked():
    assert kendalls_w([[10, 20, 30], [1, 2, 3], [5, 6, 7]]).w == pytest.approx(1.0)


def test_raters_with_missing_ranks_are_left_out():
    result = kendalls_w([*RANKS, [1, np.nan, 2, 3, 4]])
    assert result.n_raters == 4
    assert result.w == pytest.approx(0.8125)


@pytest.mark.parametrize("ranks", [[[1, 2, 3]], [[1], [1]], [[2, 2, 2], [1, 1, 1]], np.zeros((0, 3))])
def test_degenerate_input_gives_nan(ranks):
    result = kendalls_w(ranks)
    assert np.isnan(result.w) and np.isnan(result.chi2) and np.isnan(result.pvalue)


def test_one_dimensional_input_is_refused():
    with pytest.raises(ValueError, match="2-D"):
        kendalls_w([1, 2, 3])
