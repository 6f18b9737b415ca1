"""Disclosure control (delphi.stats.disclosure) and what panellists are shown through it.

The rule is cell suppression for the table "pooled = sum of groups": a threshold on the total, primary
suppression of cells under k and complementary (secondary) suppression so that no suppressed cell can be worked
out by differencing the total and the cells shown (Hundepool et al., *Statistical Disclosure Control*, Wiley
2012, ch. 4).  k = 3 is the panels' default (``Panel.k_min``).

The property test runs random panels through the code the pages use (``analyse_round`` as a round close does,
frozen ``RoundResult`` rows, :func:`delphi.rounds.released.release_scopes`, then
:func:`delphi.rounds.released.feedback_figures` for the rating page and
:func:`delphi.rounds.final_shown.shown_statement` for the final results page) and checks what comes out.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from delphi.db.models import RoundResult, StakeholderGroup
from delphi.domain import POOLED_SCOPE, group_scope
from delphi.rounds.final import FinalFigures, FinalStatement
from delphi.rounds.final_shown import WITHHELD, shown_statement
from delphi.rounds.released import Distribution, feedback_figures, release_scopes
from delphi.stats import AnalysisSettings, analyse_round, rule_by_name
from delphi.stats.disclosure import ScopeCounts, decide, remainder, safe_total

# --- the rule on worked examples ----------------------------------------------------------------------------


def test_the_issues_panel_of_4_4_and_1_hides_the_one_and_the_first_four() -> None:
    # issue 11: pooled 9 minus the two groups of 4 gave the hidden person's rating
    groups = [ScopeCounts(4), ScopeCounts(4), ScopeCounts(1)]
    release = decide(ScopeCounts(9), groups, 3)
    assert release.pooled is True
    assert release.groups == (False, True, False)  # the 1, then the smaller of the rest (tie: display order)
    assert release.primary == (False, False, True)
    left = remainder(ScopeCounts(9), groups, release.groups)
    assert left is not None and (left.n, left.people) == (5, 5)


def test_nothing_is_released_when_fewer_than_k_rated() -> None:
    release = decide(ScopeCounts(2, n_unable=4), [ScopeCounts(2, 4)], 3)
    assert release.pooled is False and release.groups == (False,)
    assert not release.verdict_released("pooled")


def test_groups_of_at_least_k_that_add_up_are_all_shown() -> None:
    release = decide(ScopeCounts(9, 1), [ScopeCounts(3), ScopeCounts(6, 1)], 3)
    assert release.pooled and release.groups == (True, True) and release.hidden == ()


def test_hidden_groups_that_already_hold_k_between_them_need_no_complement() -> None:
    release = decide(ScopeCounts(14), [ScopeCounts(2), ScopeCounts(2), ScopeCounts(10)], 3)
    assert release.groups == (False, False, True)


def test_unable_answers_count_as_people_in_the_remainder() -> None:
    # the small group gave no rating, but one "unable": shown, the others would say one person was unable
    release = decide(ScopeCounts(9, 1), [ScopeCounts(0, 1), ScopeCounts(4), ScopeCounts(5)], 3)
    assert release.groups == (False, False, True)
    # an empty group hides nothing else: the remainder is 0
    assert decide(ScopeCounts(9), [ScopeCounts(0), ScopeCounts(4), ScopeCounts(5)], 3).groups == (
        False,
        True,
        True,
    )


def test_ratings_under_k_hide_a_group_even_with_enough_people() -> None:
    release = decide(ScopeCounts(12, 5), [ScopeCounts(2, 5), ScopeCounts(10)], 3)
    assert release.primary == (True, False) and release.groups == (False, False)


def test_a_remainder_that_cannot_be_made_safe_hides_every_group() -> None:
    # hiding the 5 makes the remainder 6: only the pooled figures are left
    assert decide(ScopeCounts(6), [ScopeCounts(1), ScopeCounts(5)], 3).groups == (False, False)
    # groups that add up to more than the pooled total: inconsistent, so nothing about groups
    assert decide(ScopeCounts(5), [ScopeCounts(4), ScopeCounts(4)], 3).groups == (False, False)


def test_smallest_group_goes_first_then_display_order() -> None:
    groups = [ScopeCounts(8), ScopeCounts(5), ScopeCounts(1), ScopeCounts(5)]
    assert decide(ScopeCounts(19), groups, 3).groups == (True, False, False, True)
    assert decide(ScopeCounts(19), groups, 3) == decide(ScopeCounts(19), list(groups), 3)  # deterministic


def test_k_below_one_counts_as_one() -> None:
    release = decide(ScopeCounts(2), [ScopeCounts(1), ScopeCounts(1)], 0)
    assert release.k == 1 and release.groups == (True, True)
    assert safe_total(0, 3) and safe_total(3, 3) and not safe_total(2, 3) and not safe_total(-1, 3)


def test_counts_must_be_whole_and_not_negative() -> None:
    for bad in (-1, 1.5, True, "3"):
        with pytest.raises(ValueError, match="whole number"):
            ScopeCounts(bad)  # type: ignore[arg-type]


def test_verdicts_of_per_group_rules_are_withheld_when_a_group_is_small() -> None:
    release = decide(ScopeCounts(12), [ScopeCounts(2), ScopeCounts(10)], 3)
    assert release.small_groups
    assert release.verdict_released("pooled")
    assert not release.verdict_released("every_group") and not release.verdict_released("balanced")
    big = decide(ScopeCounts(13), [ScopeCounts(3), ScopeCounts(10)], 3)
    assert big.verdict_released("every_group") and big.verdict_released("balanced")


def test_the_remainder_subtracts_counts_point_by_point() -> None:
    pooled = ScopeCounts(5, 1, (1, 2, 2))
    groups = [ScopeCounts(3, 0, (1, 1, 1)), ScopeCounts(2, 1, (0, 1, 1))]
    left = remainder(pooled, groups, (True, False))
    assert left == ScopeCounts(2, 1, (0, 1, 1))
    assert remainder(pooled, groups, (True, True)) == ScopeCounts(0, 0, (0, 0, 0))
    assert remainder(ScopeCounts(1), groups, (True, False)) is None  # more subtracted than there is


# --- the property: nothing a panellist is shown covers 1..k-1 people -----------------------------------------

SCALE = (1, 9)
AGREE = (7, 9)


@st.composite
def panels(draw):
    """Random panels: 1-5 groups of 0-12 people, 1-3 statements, k 2-6, ratings 1-9, some "unable", some
    unanswered.  Codes per answer: 0 no answer, 10 unable, else the rating."""
    group_sizes = draw(st.lists(st.integers(0, 12), min_size=1, max_size=5))
    k = draw(st.integers(2, 6))
    n_statements = draw(st.integers(1, 3))
    people = sum(group_sizes)
    codes = np.array(
        draw(st.lists(st.integers(0, 10), min_size=n_statements * people, max_size=n_statements * people)),
        dtype=int,
    ).reshape(n_statements, people)
    labels = np.repeat(np.arange(len(group_sizes)), group_sizes)
    scope = draw(st.sampled_from(["pooled", "every_group", "balanced"]))
    policy = draw(st.sampled_from(["exclude", "include"]))
    return group_sizes, k, codes, labels, scope, policy


def frozen_rows(codes, labels, n_groups, scope, policy):
    """What a round close stores: RoundResult rows per statement (pooled and each group), and the verdicts."""
    ratings = np.where((codes == 0) | (codes == 10), np.nan, codes).astype(float)
    analysis = analyse_round(
        ratings,
        codes == 10,
        labels,
        n_groups,
        rule_by_name("comet", scope=scope),
        AnalysisSettings(scale_min=SCALE[0], scale_max=SCALE[1], unable_policy=policy),
    )
    rows: dict[int, dict[str, RoundResult]] = {}
    for rec in analysis.records():
        gi = rec["group_index"]
        key = POOLED_SCOPE if gi is None else group_scope(gi + 1)
        rows.setdefault(rec["statement_index"], {})[key] = RoundResult(
            round_id=1,
            statement_id=rec["statement_index"] + 1,
            scope=key,
            group_id=None if gi is None else gi + 1,
            n=rec["n"],
            n_unable=rec["n_unable"],
            median=rec["median"],
            q1=rec["q1"],
            q3=rec["q3"],
            iqr=rec["iqr"],
            pct_agree=rec["pct_agree"],
            pct_disagree=rec["pct_disagree"],
            verdict=rec["verdict"],
            counts=rec["counts"],
        )
    verdicts = [r["verdict"] for r in analysis.statement_records()]
    return rows, verdicts


def assert_covers_none_or_k(total: int, k: int, what: str) -> None:
    assert total == 0 or total >= k, f"{what} covers {total} people, fewer than k = {k}"


def released_figures(pooled: Distribution | None, groups) -> list[Distribution]:
    return ([pooled] if pooled is not None else []) + [g.distribution for g in groups if g.distribution]


@settings(max_examples=300, deadline=None)
@given(panels())
def test_no_difference_of_released_figures_covers_fewer_than_k_people(panel) -> None:
    group_sizes, k, codes, labels, scope, policy = panel
    groups = [StakeholderGroup(id=i + 1, name=f"Group {i + 1}", position=i) for i in range(len(group_sizes))]
    rows, verdicts = frozen_rows(codes, labels, len(groups), scope, policy)
    for si, scopes in rows.items():
        released = release_scopes(scopes, groups, k)
        assert released is not None
        # the same frozen figures give the same release, on any surface and at any time
        assert release_scopes(scopes, groups, k) == released
        pooled, shown_groups = feedback_figures(released, AGREE, SCALE[0], policy == "include")
        truth = scopes[POOLED_SCOPE]

        if truth.n < k:
            assert pooled is None and shown_groups == ()  # nothing at all for the statement
        else:
            assert pooled is not None
        for d in released_figures(pooled, shown_groups):
            assert d.n >= k  # every released scope has at least k ratings
            assert sum(d.counts) == d.n  # the chart and the sentence cover the same people
            assert d.denominator in (d.n, d.n + d.n_unable)
            assert 0 <= d.n_agree <= d.n
        if pooled is not None:
            visible = [g.distribution for g in shown_groups if g.distribution is not None]
            # pooled minus any set of released groups: every difference covers 0 or >= k ratings and people
            for size in range(len(visible) + 1):
                for subset in itertools.combinations(visible, size):
                    diff = [p - sum(d.counts[i] for d in subset) for i, p in enumerate(pooled.counts)]
                    assert min(diff) >= 0
                    n = sum(diff)
                    assert n == pooled.n - sum(d.n for d in subset)
                    unable = pooled.n_unable - sum(d.n_unable for d in subset)
                    agree = pooled.n_agree - sum(d.n_agree for d in subset)
                    assert 0 <= agree <= n and unable >= 0
                    assert_covers_none_or_k(n, k, "a difference of ratings")
                    assert_covers_none_or_k(n + unable, k, "a difference of people who answered")
            # groups the page names as hidden say nothing else (no figures at all)
            assert all(g.distribution is None or g.distribution.n >= k for g in shown_groups)

        # the final results page: figures and the decision from the same release
        figures = FinalFigures(
            1, truth.n, truth.n_unable, truth.median, truth.q1, truth.q3, truth.iqr, truth.pct_agree,
            truth.pct_disagree, tuple(truth.counts),
        )  # fmt: skip
        statement = FinalStatement(
            si + 1, "", "", si, "active", "facilitator", None, verdicts[si], 1,
            1 if verdicts[si] in ("in", "out") else None, (1,), (), figures,
        )  # fmt: skip
        shown = shown_statement(statement, {1: released}, scope)
        assert (shown.figures is not None) == (truth.n >= k)
        if shown.verdict != WITHHELD:
            assert truth.n >= k
            if scope != "pooled":  # a per-group verdict never speaks for 1..k-1 people
                for gid in range(1, len(groups) + 1):
                    row = scopes[group_scope(gid)]
                    assert_covers_none_or_k(row.n, k, "a group's verdict")
                    assert_covers_none_or_k(row.n + row.n_unable, k, "a group's verdict")
        else:
            assert shown.consensus_round is None


def test_a_consensus_round_never_reports_a_withheld_rounds_verdict() -> None:
    group = StakeholderGroup(id=1, name="Everyone", position=0)

    def scopes(n: int):
        row = RoundResult(scope=POOLED_SCOPE, n=n, n_unable=0, counts=[0] * 6 + [n, 0, 0])
        grow = RoundResult(scope=group_scope(1), n=n, n_unable=0, counts=[0] * 6 + [n, 0, 0])
        return release_scopes({POOLED_SCOPE: row, group_scope(1): grow}, [group], 3)

    agreed = FinalStatement(1, "", "", 1, "active", "facilitator", None, "in", 3, 2, (1, 2, 3), (), None)
    shown = shown_statement(agreed, {1: scopes(9), 2: scopes(2), 3: scopes(9)}, "pooled")
    assert shown.verdict == "in" and shown.consensus_round == 3  # round 2 (2 people) is not vouched for
    assert shown_statement(agreed, {1: scopes(9), 2: scopes(9), 3: scopes(9)}, "pooled").consensus_round == 2
    too_few = shown_statement(agreed, {3: scopes(2)}, "pooled")
    assert too_few.verdict == WITHHELD and too_few.consensus_round is None and too_few.figures is None
