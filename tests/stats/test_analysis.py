"""analyse_round: groups and scopes, final verdicts, sensitivity, divergence, records, input validation."""

import json
import math

import numpy as np
import pytest

from delphi.stats import (
    SENSITIVITY_RULE_NAMES,
    AnalysisSettings,
    Verdict,
    analyse_round,
    rule_by_name,
)

pytestmark = pytest.mark.filterwarnings("error")


def panel():
    """Two statements, six panellists: users (group 0) x3, professionals (group 1) x3."""
    ratings = np.array(
        [
            [8, 9, 7, 2, 3, 5],  # users agree, professionals do not
            [8, 9, 7, 9, 8, 7],  # everyone agrees
        ],
        dtype=float,
    )
    groups = np.array([0, 0, 0, 1, 1, 1])
    return ratings, groups


def test_group_scopes_are_computed_for_each_label():
    ratings, groups = panel()
    result = analyse_round(ratings, None, groups, 2)
    assert len(result.groups) == 2
    assert result.groups[0].n.tolist() == [3, 3]
    assert result.groups[0].pct_agree.tolist() == [100.0, 100.0]
    assert result.groups[1].pct_agree.tolist() == [0.0, 100.0]
    assert result.group_size.tolist() == [3, 3]
    assert result.pooled.n.tolist() == [6, 6]


def test_every_group_scope_needs_the_rule_in_every_group():
    ratings, groups = panel()
    pooled = analyse_round(ratings, None, groups, 2, rule_by_name("agree75"))
    every = analyse_round(ratings, None, groups, 2, rule_by_name("agree75", scope="every_group"))
    assert pooled.verdict_labels() == ["none", "in"]
    assert every.verdict_labels() == ["none", "in"]
    lenient = analyse_round(ratings, None, groups, 2, rule_by_name("agree75", min_ratings=1))
    assert lenient.groups[0].verdict.tolist() == [Verdict.IN, Verdict.IN]


def test_balanced_scope_weighs_a_small_group_as_much_as_a_large_one():
    # 8 professionals all agree; 2 users both disagree. Pooled: 80% agree; balanced: 50%.
    ratings = np.array([[9] * 8 + [1, 1]], dtype=float)
    groups = np.array([1] * 8 + [0, 0])
    pooled = analyse_round(ratings, None, groups, 2, rule_by_name("comet", disagree=(1, 3)))
    balanced = analyse_round(ratings, None, groups, 2, rule_by_name("agree75", scope="balanced"))
    assert pooled.pooled.pct_agree[0] == 80.0
    assert balanced.balanced is not None
    assert balanced.balanced.pct_agree[0] == 50.0
    assert balanced.verdict_labels() == ["none"]
    assert analyse_round(ratings, None, groups, 2, rule_by_name("agree75")).verdict_labels() == ["in"]


def test_every_group_is_insufficient_when_a_group_has_too_few_ratings():
    ratings = np.array([[9, 9, 9, np.nan]], dtype=float)
    groups = np.array([0, 0, 0, 1])
    result = analyse_round(ratings, None, groups, 2, rule_by_name("comet", scope="every_group"))
    assert result.verdict_labels() == ["insufficient"]


def test_groups_without_panellists_are_ignored_by_every_group():
    ratings, groups = panel()
    result = analyse_round(
        ratings, None, groups, 3, rule_by_name("comet", scope="every_group", min_ratings=1)
    )
    assert result.group_size.tolist() == [3, 3, 0]
    assert np.isnan(result.groups[2].median).all()
    assert result.verdict_labels()[1] == "in"


def test_split_flags_a_rule_met_in_one_group_only():
    ratings, groups = panel()
    result = analyse_round(ratings, None, groups, 2, rule_by_name("comet", min_ratings=3))
    assert result.divergence.split.tolist() == [True, False]
    assert result.divergence.test.tolist() == [1, 1]  # Mann-Whitney: two groups
    assert result.divergence.pvalue[0] < result.divergence.pvalue[1]


def test_without_groups_there_is_no_divergence_and_no_group_scope():
    ratings, _ = panel()
    result = analyse_round(ratings)
    assert result.groups == ()
    assert result.balanced is None
    assert np.isnan(result.divergence.pvalue).all()
    assert not result.divergence.split.any()


def test_sensitivity_classifies_under_every_standard_alternative():
    values = [9, 8, 7, 7, 7, 7, 7, 8, 9, 6, 5, 2, 1, 3, 7, 8, 9, 8, 7, 7]
    result = analyse_round(np.array([values], dtype=float))
    assert tuple(result.sensitivity) == SENSITIVITY_RULE_NAMES
    labels = {
        name: ["none", "in", "out", "insufficient"][int(v[0])] for name, v in result.sensitivity.items()
    }
    assert labels == {
        "comet": "none",
        "agree75": "in",
        "agree80": "none",
        "median_iqr": "in",
        "rand_ucla": "in",
    }


def test_sensitivity_leaves_out_rand_ucla_off_the_nine_point_scale():
    settings = AnalysisSettings(1, 5)
    rule = rule_by_name("comet", agree=(4, 5), disagree=(1, 2))
    result = analyse_round([[4, 5, 5, 4, 3]], rule=rule, settings=settings)
    assert "rand_ucla" not in result.sensitivity
    assert result.verdict_labels() == ["in"]


def test_records_are_plain_json_ready_dicts_with_none_for_nan():
    ratings, groups = panel()
    ratings[0, :] = np.nan
    result = analyse_round(ratings, None, groups, 2)
    rows = result.records()
    assert len(rows) == 2 * 3
    assert [(r["statement_index"], r["group_index"], r["scope"]) for r in rows[:3]] == [
        (0, None, "pooled"),
        (0, 0, "group"),
        (0, 1, "group"),
    ]
    assert rows[0]["median"] is None and rows[0]["verdict"] == "insufficient"
    assert rows[3]["counts"] == [0, 0, 0, 0, 0, 0, 2, 2, 2]
    json.dumps(rows)  # nothing numpy left
    for row in rows:
        for value in row.values():
            assert not isinstance(value, np.generic)
            assert not (isinstance(value, float) and math.isnan(value))
    assert len(result.records(include_balanced=True)) == 2 * 4


def test_statement_records_carry_final_verdict_sensitivity_and_divergence():
    ratings, groups = panel()
    rows = analyse_round(ratings, None, groups, 2).statement_records()
    assert rows[1]["verdict"] == "in"
    assert rows[1]["sensitivity"]["comet"] == "in"
    assert rows[0]["divergence_test"] == "mann_whitney"
    json.dumps(rows)


def test_result_arrays_are_read_only():
    result = analyse_round([[7, 8, 9]])
    with pytest.raises(ValueError, match="read-only"):
        result.verdict[0] = 0


def test_unable_overrides_any_value_in_the_cell():
    result = analyse_round([[7.0, 8.0, 1.0]], [[False, False, True]])
    assert (result.pooled.n[0], result.pooled.n_unable[0]) == (2, 1)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"ratings": [1, 2, 3]}, "2-D"),
        ({"ratings": [[1, 2, 3]], "unable": [[True]]}, "unable mask"),
        ({"ratings": [[1, 2, 3]], "groups": [0, 1], "n_groups": 2}, "one label per panellist"),
        ({"ratings": [[1, 2, 3]], "groups": [0, 1, 2], "n_groups": 2}, r"0\.\.1"),
        ({"ratings": [[1, 2, 3]], "groups": [0, 0, 0], "n_groups": 0}, "n_groups"),
        (
            {"ratings": [[1, 2, 10]]},
            r"rating 10 \(statement 0, panellist 2\) is not a whole number on the scale 1-9",
        ),
        ({"ratings": [[1, 2, 7.5]]}, "7.5"),
        ({"ratings": [[1, 2, np.inf]]}, "inf"),
        ({"ratings": [[1, 2, 3]], "rule": "comet"}, "ConsensusRule"),
    ],
)
def test_bad_input_raises_value_error(kwargs, message):
    with pytest.raises(ValueError, match=message):
        analyse_round(**kwargs)


def test_no_statements_and_no_panellists_are_fine():
    assert analyse_round(np.zeros((0, 5))).n_statements == 0
    empty = analyse_round(np.zeros((3, 0)))
    assert empty.verdict_labels() == ["insufficient"] * 3


def test_plain_summary_of_the_round():
    result = analyse_round([[9, 9, 8, 8, 8, 7, 7, 7, 6, 6, 5, 2, 3, 7, 8, 9, 9, 8, 7, 4]])
    assert result.plain_summary() == [
        "14 of 20 people (70%) rated this 7–9; the middle half of ratings lay between 6 and 8."
    ]
