"""Tabulation of a round (the one pass over the ratings matrix) and the analysis settings."""

import numpy as np
import pytest

from delphi.stats import AnalysisSettings, tabulate
from delphi.stats.tabulate import check_groups, check_matrix

pytestmark = pytest.mark.filterwarnings("error")


def naive(ratings, unable, groups, n_groups, settings):
    k = settings.n_points
    counts = np.zeros((ratings.shape[0], n_groups, k), dtype=int)
    n_unable = np.zeros((ratings.shape[0], n_groups), dtype=int)
    for s, p in np.ndindex(ratings.shape):
        if unable[s, p]:
            n_unable[s, groups[p]] += 1
        elif not np.isnan(ratings[s, p]):
            counts[s, groups[p], int(ratings[s, p]) - settings.scale_min] += 1
    return counts, n_unable


@pytest.mark.parametrize("shape", [(3, 7), (5, 40_000), (1, 0), (0, 4)])
@pytest.mark.parametrize("order", ["C", "F"])
def test_counts_match_a_cell_by_cell_count_across_chunks_and_layouts(shape, order):
    rng = np.random.default_rng(shape[1])
    settings = AnalysisSettings(-2, 4)
    ratings = rng.integers(-2, 5, size=shape).astype(float)
    ratings[rng.random(shape) < 0.1] = np.nan
    unable = rng.random(shape) < 0.1
    groups = rng.integers(0, 3, size=shape[1])
    tab = tabulate(np.asarray(ratings, order=order), np.asarray(unable, order=order), groups, 3, settings)
    if shape[1] < 100:
        counts, n_unable = naive(ratings, unable, groups, 3, settings)
        np.testing.assert_array_equal(tab.counts, counts)
        np.testing.assert_array_equal(tab.n_unable, n_unable)
    assert tab.counts.sum() == (~np.isnan(ratings) & ~unable).sum()
    assert tab.n_unable.sum() == unable.sum()
    assert tab.group_size.tolist() == np.bincount(groups, minlength=3).tolist()


def test_the_first_bad_cell_is_named_even_in_a_later_chunk():
    ratings = np.full((6, 40_000), 5.0)
    ratings[5, 123] = 9.5
    with pytest.raises(ValueError, match=r"rating 9\.5 \(statement 5, panellist 123\)"):
        tabulate(
            ratings,
            np.zeros(ratings.shape, dtype=bool),
            np.zeros(40_000, dtype=np.intp),
            1,
            AnalysisSettings(),
        )


@pytest.mark.parametrize("bad", [0.0, 10.0, -1e300, 1e300, 2.0**40, np.inf, -np.inf, 3.0000001])
def test_values_off_the_scale_or_not_whole_are_refused(bad):
    with pytest.raises(ValueError, match="not a whole number on the scale 1-9"):
        tabulate(
            np.array([[5.0, bad]]),
            np.zeros((1, 2), dtype=bool),
            np.zeros(2, dtype=np.intp),
            1,
            AnalysisSettings(),
        )


def test_a_value_under_unable_is_not_checked():
    tab = tabulate(
        np.array([[5.0, 99.0]]), np.array([[False, True]]), np.zeros(2, dtype=np.intp), 1, AnalysisSettings()
    )
    assert tab.n_unable.tolist() == [[1]]


def test_check_helpers_refuse_bad_shapes_and_labels():
    with pytest.raises(ValueError, match="2-D"):
        check_matrix(np.zeros(3), None)
    with pytest.raises(ValueError, match="whole numbers"):
        check_groups(np.array([0.5, 1.0]), 2, 2)
    assert check_groups(np.array([0.0, 1.0]), 2, 2).tolist() == [0, 1]
    assert check_groups(None, 5, 3).tolist() == [0, 0, 0]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"scale_min": 5, "scale_max": 5}, "at least two points"),
        ({"scale_min": 0, "scale_max": 200}, "at most 101 points"),
        ({"scale_min": 1.0}, "whole number"),
        ({"scale_min": 10**7, "scale_max": 10**7 + 5}, "±1,000,000"),
        ({"quantile_method": "nearest"}, "unknown quantile method"),
        ({"unable_policy": "ignore"}, "unknown unable policy"),
    ],
)
def test_settings_refuse_bad_values(kwargs, message):
    with pytest.raises(ValueError, match=message):
        AnalysisSettings(**kwargs)


def test_settings_round_trip_and_refuse_unknown_keys():
    settings = AnalysisSettings(0, 10, "weibull", "include")
    assert AnalysisSettings.from_dict(settings.to_dict()) == settings
    with pytest.raises(ValueError, match="unknown analysis setting"):
        AnalysisSettings.from_dict({"scale": 9})
    with pytest.raises(ValueError, match="mapping"):
        AnalysisSettings.from_dict([1, 9])
