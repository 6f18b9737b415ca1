"""Consensus rules: COMET boundaries, median/IQR, RAND/UCLA, combinations, scopes, serialisation, wording."""

import json

import numpy as np
import pytest

from delphi.stats import (
    RULE_NAMES,
    AllOf,
    AnalysisSettings,
    AnyOf,
    ConsensusRule,
    MedianIQR,
    PercentAgreement,
    RandUcla,
    Verdict,
    analyse_round,
    rule_by_name,
)
from delphi.stats.criteria import combine

pytestmark = pytest.mark.filterwarnings("error")

U = -1


def verdict(values, rule=None, settings=None):
    ratings = np.array([[np.nan if v == U else v for v in values]], dtype=float)
    unable = np.array([[v == U for v in values]])
    return analyse_round(ratings, unable, rule=rule, settings=settings).verdict_labels()[0]


COMET_IN = [9, 9, 8, 8, 8, 7, 7, 7, 6, 6, 5, 2, 3, 7, 8, 9, 9, 8, 7, 4]
COMET_FIFTEEN = [9, 8, 7, 7, 7, 7, 7, 8, 9, 6, 5, 2, 1, 3, 7, 8, 9, 8, 7, 7]
WITH_UNABLE = [7, 7, 8, 9, 9, 7, 8, 5, U, U]


def test_comet_seventy_percent_is_inclusive():
    assert verdict(COMET_IN) == "in"


def test_comet_fifteen_percent_disagreement_is_too_many():
    assert verdict(COMET_FIFTEEN) == "none"


def test_comet_with_unable_excluded_and_included():
    assert verdict(WITH_UNABLE) == "in"  # 87.5%
    # included: 7 of 10 = 70.0%, still inclusive, and no rating in 1-3
    assert verdict(WITH_UNABLE, settings=AnalysisSettings(unable_policy="include")) == "in"


def test_comet_just_under_seventy_is_none():
    assert verdict([9] * 13 + [5] * 7) == "none"  # 65%


def test_comet_out_mirrors_in():
    assert verdict([1] * 14 + [5] * 4 + [9] * 2) == "out"  # 70% rate 1-3, 10% rate 7-9
    assert verdict([1] * 14 + [5] * 3 + [9] * 3) == "none"  # 15% rate 7-9


def test_percent_thresholds_can_be_strict_and_caps_inclusive():
    strict = ConsensusRule(
        PercentAgreement(70, inclusive=False, max_opposite=15, max_opposite_inclusive=True)
    )
    assert verdict(COMET_IN, strict) == "none"  # 70% is not more than 70%
    assert verdict([9] * 15 + [1] * 3 + [5] * 2, strict) == "in"  # 75%, and 15% allowed


def test_agree75_and_agree80_have_no_cap_on_disagreement():
    assert verdict(COMET_FIFTEEN, rule_by_name("agree75")) == "in"
    assert verdict(COMET_FIFTEEN, rule_by_name("agree80")) == "none"


def test_median_iqr_rule():
    rule = rule_by_name("median_iqr")
    assert verdict([3, 5, 6, 7, 7, 8, 8, 8, 9], rule) == "in"  # median 7, IQR 2.0 (type 7)
    weibull = AnalysisSettings(quantile_method="weibull")
    assert verdict([3, 5, 6, 7, 7, 8, 8, 8, 9], rule, weibull) == "none"  # IQR 2.5 (type 6)
    assert verdict([1, 1, 2, 2, 3, 3, 3, 4], rule) == "out"


def test_median_iqr_preset_is_tighter_on_short_scales():
    assert rule_by_name("median_iqr", scale_points=5).criterion == MedianIQR(1.0)
    assert rule_by_name("median_iqr", scale_points=9).criterion == MedianIQR(2.0)


def test_rand_ucla_classification_vectors():
    rule = rule_by_name("rand_ucla")
    assert verdict([4, 5, 6] + [7] * 5 + [8] * 5 + [9] * 2, rule) == "in"  # appropriate
    assert verdict([1, 2, 2, 3, 7, 7, 8, 8, 9], rule) == "none"  # disagreement: uncertain though median 7
    assert verdict([1, 1, 2, 2, 2, 3, 3, 4, 5], rule) == "out"  # inappropriate
    assert verdict([4, 5, 5, 5, 6, 6, 6, 5, 4], rule) == "none"  # median in the middle third


def test_rand_ucla_classic_rule_is_insufficient_outside_eight_to_sixteen():
    rule = rule_by_name("rand_ucla_classic")
    assert verdict([7, 8, 9, 9, 8, 7, 8], rule) == "insufficient"
    assert verdict([7, 8, 9, 9, 8, 7, 8, 8, 9], rule) == "in"
    assert verdict([1, 2, 3, 7, 7, 8, 8, 9, 9], rule) == "none"  # 3 low and 6 high with k = 3


def test_all_of_needs_every_criterion_and_any_of_one():
    both = ConsensusRule(AllOf((PercentAgreement(), MedianIQR(1.0))))
    either = ConsensusRule(AnyOf((PercentAgreement(), MedianIQR(1.0))))
    assert verdict(COMET_IN, both) == "none"  # IQR 2 > 1
    assert verdict(COMET_IN, either) == "in"


def test_any_of_with_one_out_and_no_in_is_out():
    either = ConsensusRule(AnyOf((PercentAgreement(20, max_opposite=None), MedianIQR(2))))
    assert verdict([1, 1, 1, 5, 5, 5, 5, 5, 5, 5], either) == "out"  # 30% rate 1-3; the median says nothing


@pytest.mark.parametrize(
    ("codes", "every", "expected"),
    [
        ([Verdict.IN, Verdict.OUT], False, Verdict.NONE),  # any of: conflicting criteria give no verdict
        ([Verdict.IN, Verdict.NONE], False, Verdict.IN),
        ([Verdict.IN, Verdict.NONE], True, Verdict.NONE),
        ([Verdict.OUT, Verdict.OUT], True, Verdict.OUT),
        ([Verdict.IN, Verdict.INSUFFICIENT], False, Verdict.INSUFFICIENT),
    ],
)
def test_combination_semantics(codes, every, expected):
    arrays = [np.array([c], dtype=np.int8) for c in codes]
    assert combine(arrays, every=every)[0] == expected


def test_min_ratings_gives_insufficient():
    rule = ConsensusRule(min_ratings=5)
    assert verdict([9, 9, 9, 9], rule) == "insufficient"
    assert verdict([9, 9, 9, 9, 9], rule) == "in"


@pytest.mark.parametrize("name", RULE_NAMES)
def test_presets_round_trip_through_json(name):
    rule = rule_by_name(name, scope="every_group", min_ratings=4, agree=(6, 9), disagree=(1, 2))
    again = ConsensusRule.from_dict(json.loads(json.dumps(rule.to_dict())))
    assert again == rule
    assert hash(again) == hash(rule)


def test_nested_combination_round_trips():
    rule = ConsensusRule(
        AllOf((AnyOf((MedianIQR(), RandUcla("classic"))), PercentAgreement(80, max_opposite=None)))
    )
    assert ConsensusRule.from_dict(json.loads(json.dumps(rule.to_dict()))) == rule


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "mapping"),
        ({}, "missing field 'criterion'"),
        ({"criterion": {"kind": "percent"}, "colour": 1}, "unknown field"),
        ({"criterion": {"kind": "vote"}}, "unknown kind"),
        ({"criterion": {"kind": "percent", "threshold": 170}}, "threshold"),
        ({"criterion": {"kind": "percent", "threshold": "70"}}, "threshold"),
        ({"criterion": {"kind": "percent", "inclusive": 1}}, "inclusive"),
        ({"criterion": {"kind": "percent", "bogus": 1}}, "unknown field"),
        ({"criterion": {"kind": "median_iqr", "max_iqr": -1}}, "max_iqr"),
        ({"criterion": {"kind": "rand_ucla", "disagreement": "vote"}}, "disagreement"),
        ({"criterion": {"kind": "all_of", "criteria": []}}, "non-empty"),
        ({"criterion": {"kind": "all_of", "criteria": [{"kind": "x"}]}}, r"criteria\[0\]"),
        ({"criterion": {"kind": "percent"}, "agree": [9, 7]}, "agree band"),
        ({"criterion": {"kind": "percent"}, "agree": [2, 5]}, "overlaps"),
        ({"criterion": {"kind": "percent"}, "scope": "some"}, "scope"),
        ({"criterion": {"kind": "percent"}, "min_ratings": 0}, "min_ratings"),
        ({"criterion": {"kind": "percent"}, "min_ratings": True}, "min_ratings"),
    ],
)
def test_from_dict_refuses_bad_input_with_a_clear_message(data, message):
    with pytest.raises(ValueError, match=message):
        ConsensusRule.from_dict(data)


def test_rule_by_name_refuses_unknown_names():
    with pytest.raises(ValueError, match="unknown rule 'delphi'"):
        rule_by_name("delphi")


def test_descriptions_are_plain_sentences():
    assert rule_by_name("comet").describe() == "At least 70% rate 7–9 and fewer than 15% rate 1–3"
    assert rule_by_name("agree80").describe() == "At least 80% rate 7–9"
    assert (
        rule_by_name("median_iqr").describe()
        == "Median rating of 7–9 and an interquartile range of at most 2"
    )
    assert (
        rule_by_name("rand_ucla")
        .describe()
        .startswith("Median rating of 7–9 without disagreement (RAND/UCLA")
    )
    assert (
        rule_by_name("comet", scope="every_group", min_ratings=5).describe()
        == "At least 70% rate 7–9 and fewer than 15% rate 1–3, in every group, from at least 5 ratings"
    )
    both = ConsensusRule(AllOf((PercentAgreement(75, max_opposite=None), MedianIQR())))
    assert (
        both.describe()
        == "At least 75% rate 7–9 and median rating of 7–9 and an interquartile range of at most 2"
    )


def test_bands_must_lie_on_the_scale():
    with pytest.raises(ValueError, match="agree band 7–9 is not on the scale 1–5"):
        analyse_round([[1, 2, 3]], rule=rule_by_name("comet"), settings=AnalysisSettings(1, 5))


def test_rand_ucla_refuses_other_scales():
    rule = rule_by_name("rand_ucla", agree=(4, 5), disagree=(1, 2))
    with pytest.raises(ValueError, match="1–9 scale"):
        analyse_round([[1, 2, 3]], rule=rule, settings=AnalysisSettings(1, 5))


def test_rules_are_frozen():
    rule = rule_by_name("comet")
    with pytest.raises(AttributeError):
        rule.min_ratings = 3  # type: ignore[misc]
