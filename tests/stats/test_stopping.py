"""Stopping advice (delphi.stats.stopping): the criterion of Scheibe, Skutsch & Schofer (1975) — fewer than 15%
of paired panellists changing category counts as stable — with no Wilcoxon shift at 0.05, an IQR change under one
scale point and an unchanged verdict; hand-worked vectors."""

from __future__ import annotations

from delphi.stats.stopping import list_advice, statement_advice


def rec(pct: float | None, p: float | None = 0.5, d: float | None = 0.0, n: int = 20) -> dict[str, object]:
    return {"n_paired": n, "pct_changed_category": pct, "wilcoxon_p": p, "delta_iqr": d}


def test_two_of_twenty_changing_category_is_stable():
    """2 of 20 paired panellists changed side: 10% < 15%, p = 0.5, IQR unchanged, verdict none both times."""
    a = statement_advice(1, rec(10.0), "none", "none")
    assert a.state == "stable"
    assert a.reasons == ()


def test_three_of_twenty_is_exactly_the_limit_and_still_moving():
    """3 of 20 = 15%, not less than 15%: still moving, with the reason named."""
    a = statement_advice(1, rec(15.0), "none", "none")
    assert a.state == "moving"
    assert "15%" in a.reasons[0]


def test_a_significant_shift_a_wider_spread_or_a_new_verdict_each_mean_still_moving():
    assert statement_advice(1, rec(5.0, p=0.015625), "none", "none").state == "moving"
    assert statement_advice(1, rec(5.0, d=-1.0), "none", "none").state == "moving"
    assert statement_advice(1, rec(5.0), "in", "none").state == "moving"
    assert statement_advice(1, rec(5.0, p=None, d=0.5), "none", "none").state == "stable"


def test_without_a_previous_round_there_is_no_comparison():
    assert statement_advice(1, None, "none", None).label == "first round: no comparison"
    assert statement_advice(1, rec(None, n=0), "none", "none").state == "no_comparison"


def test_the_list_is_stable_when_every_open_statement_is_stable():
    """Three statements: S1 in (settled; moving is irrelevant), S2 and S3 without consensus and stable."""
    items = [
        (statement_advice(1, rec(40.0), "in", "none"), "in"),
        (statement_advice(2, rec(10.0), "none", "none"), "none"),
        (statement_advice(3, rec(0.0, p=None), "none", "none"), "none"),
    ]
    advice = list_advice(items)
    assert (advice.open, advice.open_stable, advice.open_moving) == (2, 2, 0)
    assert advice.more_rounds_useful is False
    assert "unlikely to change" in advice.text


def test_one_open_statement_still_moving_makes_another_round_useful():
    items = [
        (statement_advice(2, rec(10.0), "none", "none"), "none"),
        (statement_advice(3, rec(25.0), "none", "none"), "none"),
    ]
    advice = list_advice(items)
    assert advice.more_rounds_useful is True
    assert advice.text.startswith("1 of the 2 statements")


def test_round_one_cannot_tell_and_a_settled_list_has_nothing_left():
    first = list_advice([(statement_advice(1, None, "none", None), "none")])
    assert first.more_rounds_useful is None
    assert first.open_uncompared == 1
    done = list_advice([(statement_advice(1, None, "in", None), "in")])
    assert done.open == 0
    assert "nothing left" in done.text
