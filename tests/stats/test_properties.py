"""Properties of analyse_round on arbitrary panels (hypothesis)."""

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from delphi.stats import QUANTILE_METHODS, AnalysisSettings, Verdict, analyse_round, rule_by_name

pytestmark = pytest.mark.filterwarnings("error")

N_GROUPS = 3


@st.composite
def panels(draw, max_statements=6, max_panellists=24):
    s = draw(st.integers(1, max_statements))
    p = draw(st.integers(0, max_panellists))
    cells = draw(st.lists(st.integers(0, 10), min_size=s * p, max_size=s * p))
    codes = np.array(cells, dtype=int).reshape(s, p)  # 0: no answer, 10: unable, else the rating
    ratings = np.where((codes == 0) | (codes == 10), np.nan, codes).astype(float)
    unable = codes == 10
    groups = np.array(draw(st.lists(st.integers(0, N_GROUPS - 1), min_size=p, max_size=p)), dtype=int)
    method = draw(st.sampled_from(QUANTILE_METHODS))
    policy = draw(st.sampled_from(["exclude", "include"]))
    rule = rule_by_name(
        draw(st.sampled_from(["comet", "agree75", "median_iqr", "rand_ucla"])),
        scope=draw(st.sampled_from(["pooled", "every_group", "balanced"])),
    )
    return ratings, unable, groups, rule, AnalysisSettings(quantile_method=method, unable_policy=policy)


def scopes(result):
    yield result.pooled
    yield from result.groups
    if result.balanced is not None:
        yield result.balanced


def assert_same_scope(a, b):
    for field in dataclasses.fields(a):
        np.testing.assert_array_equal(getattr(a, field.name), getattr(b, field.name), err_msg=field.name)


@settings(max_examples=60, deadline=None)
@given(panels(), st.randoms(use_true_random=False))
def test_results_do_not_depend_on_panellist_order(panel, random):
    ratings, unable, groups, rule, config = panel
    order = list(range(ratings.shape[1]))
    random.shuffle(order)
    a = analyse_round(ratings, unable, groups, N_GROUPS, rule, config)
    b = analyse_round(ratings[:, order], unable[:, order], groups[order], N_GROUPS, rule, config)
    for x, y in zip(scopes(a), scopes(b), strict=True):
        assert_same_scope(x, y)
    np.testing.assert_array_equal(a.verdict, b.verdict)
    np.testing.assert_array_equal(a.divergence.pvalue, b.divergence.pvalue)
    np.testing.assert_array_equal(a.divergence.split, b.divergence.split)
    for name in a.sensitivity:
        np.testing.assert_array_equal(a.sensitivity[name], b.sensitivity[name])


@settings(max_examples=60, deadline=None)
@given(panels())
def test_median_lies_within_the_ratings_and_quartiles_are_ordered(panel):
    ratings, unable, groups, rule, config = panel
    result = analyse_round(ratings, unable, groups, N_GROUPS, rule, config)
    columns = [np.ones(len(groups), dtype=bool)] + [groups == g for g in range(N_GROUPS)]
    for stats, cols in zip(scopes(result), columns, strict=False):
        for i in range(len(stats)):
            rated = ratings[i, cols][~np.isnan(ratings[i, cols])]
            if rated.size == 0:
                assert np.isnan(stats.median[i]) and np.isnan(stats.iqr[i])
                continue
            assert rated.min() <= stats.median[i] <= rated.max()
            assert stats.q1[i] <= stats.median[i] <= stats.q3[i]
            assert stats.iqr[i] >= 0


@settings(max_examples=60, deadline=None)
@given(panels())
def test_counts_and_shares_add_up(panel):
    ratings, unable, groups, rule, config = panel
    result = analyse_round(ratings, unable, groups, N_GROUPS, rule, config)
    p = result.pooled
    assert np.array_equal(p.counts.sum(axis=1), p.n)
    assert np.array_equal(sum(g.n for g in result.groups), p.n)
    assert np.array_equal(sum(g.counts for g in result.groups), p.counts)
    no_answer = (np.isnan(ratings) & ~unable).sum(axis=1)
    assert np.array_equal(p.n + p.n_unable + no_answer, np.full(len(p), ratings.shape[1]))
    for stats in (p, *result.groups):
        answered = stats.n + stats.n_unable
        middle = stats.n - stats.n_agree - stats.n_disagree
        assert np.all(middle >= 0)
        den = answered if config.unable_policy == "include" else stats.n
        total = (
            stats.pct_agree + stats.pct_disagree + np.where(den > 0, 100.0 * middle / np.maximum(den, 1), 0)
        )
        if config.unable_policy == "include":
            total = total + stats.pct_unable
        np.testing.assert_allclose(total[den > 0], 100.0, rtol=1e-12)
        assert np.all(np.isnan(stats.pct_agree[den == 0]))


@settings(max_examples=40, deadline=None)
@given(panels())
def test_each_statement_is_analysed_independently(panel):
    ratings, unable, groups, rule, config = panel
    whole = analyse_round(ratings, unable, groups, N_GROUPS, rule, config)
    i = ratings.shape[0] - 1
    one = analyse_round(ratings[i:], unable[i:], groups, N_GROUPS, rule, config)
    assert_same_scope(whole.pooled.select(slice(i, None)), one.pooled)
    assert whole.verdict[i] == one.verdict[0]


DEGENERATE = {
    "empty": ([np.nan] * 5, [False] * 5),
    "one rater": ([8.0] + [np.nan] * 4, [False] * 5),
    "all unable": ([np.nan] * 5, [True] * 5),
    "no panellists": ([], []),
}


@pytest.mark.parametrize("case", DEGENERATE)
@pytest.mark.parametrize(
    "rule_name", ["comet", "agree75", "agree80", "median_iqr", "rand_ucla", "rand_ucla_classic"]
)
@pytest.mark.parametrize("scope", ["pooled", "every_group", "balanced"])
@pytest.mark.parametrize("method", QUANTILE_METHODS)
def test_degenerate_statements_give_nan_and_insufficient(case, rule_name, scope, method):
    values, unable = DEGENERATE[case]
    ratings = np.array([values], dtype=float).reshape(1, len(values))
    mask = np.array([unable], dtype=bool).reshape(1, len(values))
    groups = np.arange(len(values)) % 2
    config = AnalysisSettings(quantile_method=method)
    result = analyse_round(ratings, mask, groups, 2, rule_by_name(rule_name, scope=scope), config)
    assert result.verdict[0] == Verdict.INSUFFICIENT
    assert all(v[0] == Verdict.INSUFFICIENT for v in result.sensitivity.values())
    for stats in scopes(result):
        assert np.isnan(stats.sd[0]) and np.isnan(stats.cv[0])
        assert stats.verdict[0] == Verdict.INSUFFICIENT
        if stats.n[0] == 0:
            assert np.isnan(stats.median[0]) and np.isnan(stats.iqr[0]) and np.isnan(stats.pct_agree[0])
            assert np.isnan(stats.ipr[0]) and not stats.disagreement[0]
    assert np.isnan(result.divergence.pvalue[0])
    if case == "all unable":
        assert result.pooled.pct_unable[0] == 100.0
    if case == "one rater":
        assert (result.pooled.median[0], result.pooled.iqr[0]) == (8.0, 0.0)
