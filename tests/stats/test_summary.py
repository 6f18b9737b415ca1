"""Plain-words summaries for panellists."""

import numpy as np
import pytest

from delphi.stats import AnalysisSettings, analyse_round, plain_summary
from delphi.stats.summary import format_number, format_percent

pytestmark = pytest.mark.filterwarnings("error")


def summary(values, unable=None, settings=None):
    ratings = np.array([values], dtype=float)
    mask = None if unable is None else np.array([unable])
    result = analyse_round(ratings, mask, settings=settings)
    return result.plain_summary()[0]


def test_summary_names_count_share_band_and_middle_half():
    assert summary([7, 8, 9, 8, 4, 6, 7, 8]) == (
        "6 of 8 people (75%) rated this 7–9; the middle half of ratings lay between 6.75 and 8."
    )


def test_summary_mentions_people_unable_to_rate():
    text = summary([9, 9, 8, np.nan], [False, False, False, True])
    assert (
        text == "3 of 3 people (100%) rated this 7–9; the middle half of ratings lay between 8.5 and 9. "
        "1 more person was unable to rate it."
    )
    included = summary(
        [9, 9, 8, np.nan], [False, False, False, True], AnalysisSettings(unable_policy="include")
    )
    assert included.startswith("3 of 4 people (75%)") and included.endswith("1 person was unable to rate it.")


def test_summary_of_identical_ratings_and_of_one_rating():
    assert summary([8, 8, 8]).endswith("the middle half of ratings were all 8.")
    assert summary([8]) == "1 of 1 person (100%) rated this 7–9."


def test_summary_of_a_statement_nobody_rated():
    assert summary([np.nan, np.nan]) == "Nobody rated this."
    assert summary([np.nan, np.nan], [True, True]) == "Nobody rated this: 2 people said they were unable to."


def test_summary_of_the_balanced_scope_gives_the_mean_share():
    ratings = np.array([[9, 9, 9, 1]], dtype=float)
    result = analyse_round(ratings, None, [0, 0, 0, 1], 2)
    assert result.balanced is not None
    assert plain_summary(result.balanced)[0].startswith("On average across groups, 50% rated this 7–9")


def test_percentages_never_round_across_a_threshold():
    assert format_percent(70.0) == "70%"
    assert format_percent(69.6) == "69.6%"
    assert format_percent(200 / 3) == "66.7%"
    assert format_number(6.0) == "6" and format_number(6.25) == "6.25" and format_number(7.5) == "7.5"
