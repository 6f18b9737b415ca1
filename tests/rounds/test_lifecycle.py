"""The pure lifecycle rules: what blocks opening, due reminders, carry-forward, finishing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from delphi.rounds import lifecycle

NOW = datetime(2026, 11, 22, 12, tzinfo=UTC)


def facts(**changes: object) -> lifecycle.PanelFacts:
    base = dict(
        round_number=1,
        round_status="draft",
        n_groups=3,
        n_statements=10,
        n_invitable_panellists=30,
        rule_is_valid=True,
        previous_round_status=None,
        closes_at=NOW + timedelta(days=14),
        opens_at=None,
        max_rounds=3,
    )
    base.update(changes)
    return lifecycle.PanelFacts(**base)  # type: ignore[arg-type]


def test_a_ready_draft_round_has_no_blockers() -> None:
    assert lifecycle.open_blockers(facts(), NOW) == []


def test_every_missing_piece_is_listed_as_an_action() -> None:
    blockers = lifecycle.open_blockers(
        facts(n_groups=0, n_statements=0, n_invitable_panellists=0, closes_at=None, rule_is_valid=False), NOW
    )
    assert blockers == [
        "Choose a consensus rule in the panel settings.",
        "Add at least one stakeholder group.",
        "Add at least one statement or ranking question to round 1.",
        "Add at least one panellist who can be invited.",
        "Set a closing date for round 1.",
    ]


def test_closing_date_in_the_past_blocks_opening() -> None:
    assert lifecycle.open_blockers(facts(closes_at=NOW - timedelta(minutes=1)), NOW) == [
        "Set a closing date for round 1 that is in the future."
    ]


def test_round_two_waits_for_round_one_to_close() -> None:
    assert "Close round 1 first." in lifecycle.open_blockers(
        facts(round_number=2, previous_round_status="open"), NOW
    )


def test_only_a_draft_round_can_open() -> None:
    assert lifecycle.open_blockers(facts(round_status="open"), NOW) == [
        "Round 1 is open already; only a draft round can be opened."
    ]


def test_close_needs_an_open_round() -> None:
    assert lifecycle.close_blockers("open", 1) == []
    assert lifecycle.close_blockers("draft", 2) == [
        "Open round 2 first; a draft round has no answers to close."
    ]
    assert lifecycle.close_blockers("closed", 1) == ["Round 1 is closed already."]


@pytest.mark.parametrize(
    ("opens", "closes", "field"),
    [
        (None, NOW - timedelta(hours=1), "closes_at"),
        (NOW - timedelta(days=1), NOW + timedelta(days=1), "opens_at"),
        (NOW + timedelta(days=3), NOW + timedelta(days=2), "closes_at"),
        (None, NOW + timedelta(days=400), "closes_at"),
    ],
)
def test_bad_dates_are_refused_with_the_field_named(opens, closes, field) -> None:  # type: ignore[no-untyped-def]
    problems = lifecycle.schedule_problems(opens, closes, [], NOW)
    assert problems and problems[0][0] == field


def test_reminder_offsets_parse_days_and_hours() -> None:
    assert lifecycle.parse_reminder_hours("7d, 2d; 12h") == ([168, 48, 12], None)
    assert lifecycle.parse_reminder_hours("7, 2") == ([168, 48], None)
    hours, problem = lifecycle.parse_reminder_hours("soon")
    assert hours == [] and problem and "soon" in problem


def test_due_reminders_are_those_past_their_time_and_not_sent() -> None:
    closes = NOW + timedelta(hours=47)
    assert lifecycle.due_reminders(closes, [168, 48], [], NOW) == [168, 48]
    assert lifecycle.due_reminders(closes, [168, 48], [168], NOW) == [48]
    assert lifecycle.due_reminders(closes, [168, 48], [168, 48], NOW) == []
    assert lifecycle.due_reminders(NOW, [168], [], NOW) == []  # deadline reached: no reminder
    assert lifecycle.due_reminders(NOW + timedelta(days=30), [168], [], NOW) == []


def test_carry_forward_keeps_unsettled_statements_in_order() -> None:
    verdicts = {10: "in", 11: "none", 12: "out", 13: "insufficient", 14: "none"}
    assert lifecycle.carry_forward(verdicts) == [11, 13, 14]
    assert lifecycle.carry_forward(verdicts, "all") == [10, 11, 12, 13, 14]
    assert lifecycle.carry_forward(verdicts, "none") == []
    with pytest.raises(ValueError, match="unknown carry-forward policy"):
        lifecycle.carry_forward(verdicts, "some")


def test_panel_finishes_when_nothing_is_left_or_rounds_run_out() -> None:
    assert lifecycle.finished_after_close(1, 3, 0)
    assert lifecycle.finished_after_close(3, 3, 5)
    assert not lifecycle.finished_after_close(1, 3, 5)
