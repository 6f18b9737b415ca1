"""Quantiles against R and numpy, and Tukey's hinges by definition.

The vectors are R's: ``quantile(1:8, c(.25, .75), type = 7)`` is 2.75, 6.25 ("linear"), ``type = 6`` is 2.25, 6.75
("weibull"; Hyndman & Fan, *Sample quantiles in statistical packages*, Am. Stat. 1996;50:361-5), ``fivenum(1:8)``
has hinges 2.5 and 6.5 (Tukey, *Exploratory Data Analysis*, 1977), and
``quantile(c(4, 5, 6, 7, 7, 7, 8, 8, 9, 9), c(.25, .75), type = 7)`` is 6.25, 8.
"""

import numpy as np
import pytest

from delphi.stats.quantiles import (
    order_statistic_positions,
    quantile_from_counts,
    quantile_sorted,
    weighted_quantile_from_counts,
)

pytestmark = pytest.mark.filterwarnings("error")

SCALE = np.arange(1, 10, dtype=float)


def counts_of(values, k=9, lo=1):
    return np.bincount(np.asarray(values) - lo, minlength=k)


def quartiles(values, method):
    c = counts_of(values)
    return tuple(float(quantile_from_counts(c, p, method, SCALE)) for p in (0.25, 0.75))


@pytest.mark.parametrize(
    ("values", "method", "q1", "q3"),
    [
        (range(1, 9), "linear", 2.75, 6.25),
        (range(1, 9), "weibull", 2.25, 6.75),
        (range(1, 9), "hinges", 2.5, 6.5),
        ([4, 5, 6, 7, 7, 7, 8, 8, 9, 9], "linear", 6.25, 8.0),
    ],
)
def test_quartiles_match_r_quantile_types_and_fivenum(values, method, q1, q3):
    assert quartiles(list(values), method) == (q1, q3)


@pytest.mark.parametrize(
    ("values", "method", "iqr"),
    [
        (range(1, 9), "linear", 3.5),
        (range(1, 9), "weibull", 4.5),
        (range(1, 9), "hinges", 4.0),
        ([3, 5, 6, 7, 7, 8, 8, 8, 9], "linear", 2.0),
        ([3, 5, 6, 7, 7, 8, 8, 8, 9], "weibull", 2.5),
        ([4, 5, 6, 7, 7, 7, 8, 8, 9, 9], "linear", 1.75),
    ],
)
def test_brief_iqr_vectors(values, method, iqr):
    q1, q3 = quartiles(list(values), method)
    assert q3 - q1 == iqr


@pytest.mark.parametrize("method", ["linear", "weibull"])
@pytest.mark.parametrize("p", [0.0, 0.1, 0.25, 0.3, 0.5, 0.7, 0.75, 0.9, 1.0])
def test_counts_and_sorted_match_numpy_bit_for_bit_on_integer_ratings(method, p):
    rng = np.random.default_rng(7)
    x = rng.integers(1, 10, size=(300, 40)).astype(float)
    n = rng.integers(0, 41, size=300)  # ragged rows: the first n values are rated
    x[np.arange(40)[None, :] >= n[:, None]] = np.nan
    counts = np.stack([counts_of(row[~np.isnan(row)].astype(int)) for row in x])
    from_counts = quantile_from_counts(counts, p, method, SCALE)
    from_sorted = quantile_sorted(np.sort(x, axis=1), p, method)
    for i, row in enumerate(x):
        rated = row[~np.isnan(row)]
        expected = np.quantile(rated, p, method=method) if rated.size else np.nan
        np.testing.assert_array_equal(from_counts[i], expected)
        np.testing.assert_array_equal(from_sorted[i], expected)


@pytest.mark.parametrize("method", ["linear", "weibull"])
def test_sorted_matches_numpy_on_real_valued_data(method):
    rng = np.random.default_rng(3)
    x = rng.normal(size=(200, 25))
    x[rng.random(x.shape) < 0.2] = np.nan
    s = np.sort(x, axis=1)
    for p in (0.25, 0.3, 0.5, 0.7, 0.75):
        got = quantile_sorted(s, p, method)
        for i, row in enumerate(x):
            rated = row[~np.isnan(row)]
            if rated.size:
                assert got[i] == pytest.approx(np.quantile(rated, p, method=method), abs=1e-12)
            else:
                assert np.isnan(got[i])


def tukey_hinges(values):
    """Hinges by definition: medians of the lower and upper halves, each including the median if n is odd."""
    v = np.sort(np.asarray(values, dtype=float))
    half = (v.size + 1) // 2
    return np.median(v[:half]), np.median(v), np.median(v[v.size - half :])


def test_hinges_equal_medians_of_the_halves_for_every_panel_size():
    rng = np.random.default_rng(11)
    for n in range(1, 60):
        values = rng.integers(1, 10, size=n)
        c = counts_of(values)
        got = tuple(float(quantile_from_counts(c, p, "hinges", SCALE)) for p in (0.25, 0.5, 0.75))
        assert got == tukey_hinges(values), n


def test_hinges_define_only_quartiles():
    with pytest.raises(ValueError, match="hinges"):
        order_statistic_positions([5], 0.3, "hinges")


@pytest.mark.parametrize("p", [-0.1, 1.5])
def test_probability_outside_unit_interval_is_refused(p):
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        quantile_from_counts([1, 2, 3], p)


def test_unknown_method_is_refused():
    with pytest.raises(ValueError, match="unknown quantile method"):
        quantile_from_counts([1, 2, 3], 0.5, "nearest")


def test_rows_without_ratings_give_nan_without_warning():
    out = quantile_from_counts(np.zeros((3, 9), dtype=int), 0.5, "linear", SCALE)
    assert np.isnan(out).all()
    out = quantile_sorted(np.full((2, 4), np.nan), 0.25, "hinges")
    assert np.isnan(out).all()


def test_one_rating_is_its_own_quantile_for_every_method():
    for method in ("linear", "weibull", "hinges"):
        assert float(quantile_from_counts(counts_of([6]), 0.25, method, SCALE)) == 6.0


def test_counts_keep_leading_shape():
    c = np.ones((4, 3, 9), dtype=int)
    assert quantile_from_counts(c, 0.5, "linear", SCALE).shape == (4, 3)


def test_weighted_quantile_matches_numpy_inverted_cdf():
    rng = np.random.default_rng(5)
    for _ in range(200):
        n = rng.integers(1, 15)
        values = rng.integers(1, 10, size=n)
        weights = rng.integers(1, 6, size=n).astype(float)
        per_point = np.bincount(values - 1, weights=weights, minlength=9)
        for p in (0.25, 0.3, 0.5, 0.7, 0.75):
            expected = np.quantile(values, p, weights=weights, method="inverted_cdf")
            assert weighted_quantile_from_counts(per_point, p, SCALE) == expected


def test_weighted_quantile_of_no_weight_is_nan():
    assert np.isnan(weighted_quantile_from_counts(np.zeros(9), 0.5, SCALE))
