"""Pure rules of taking part (no database): answers, pages, plain-word figures, money."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from delphi.errors import InvalidInput
from delphi.formatting import format_money, format_number
from delphi.participation import checks, issues, paging
from delphi.rounds import figures

NINE = checks.Scale(1, 9, ("Strongly disagree", "", "", "", "", "", "", "", "Strongly agree"))
NOW = datetime(2026, 3, 3, 12, tzinfo=UTC)


@pytest.mark.parametrize("raw", [1, 9, "5", " 7 ", "09"])
def test_a_whole_number_on_the_scale_is_an_answer(raw: object) -> None:
    answer = checks.parse_answer(raw, NINE)
    assert isinstance(answer, checks.Answer) and answer.value == int(str(raw).strip()) and not answer.unable


@pytest.mark.parametrize("raw", [0, 10, -1, "10", "5.5", 5.5, True, False, "seven", "", None, [5]])
def test_anything_else_is_an_issue_naming_the_scale(raw: object) -> None:
    issue = checks.parse_answer(raw, NINE, field="s3")
    assert isinstance(issue, issues.Issue) and issue.field == "s3"
    assert issue.text() == "Choose a number from 1 to 9."


def test_unable_is_an_answer_only_where_offered() -> None:
    assert checks.parse_answer("unable", NINE) == checks.Answer(None, True)
    assert checks.parse_answer("UNABLE", NINE) == checks.Answer(None, True)
    closed = checks.Scale(1, 5, allow_unable=False)
    issue = checks.parse_answer("unable", closed)
    assert isinstance(issue, issues.Issue) and "does not offer" in issue.text()


def test_issue_text_is_translated_before_the_parameters_are_filled_in() -> None:
    issue = issues.Issue("s1", "Choose a number from %(lo)s to %(hi)s.", {"lo": 1, "hi": 9})
    assert issue.text(lambda m: m.replace("Choose a number", "Dewiswch rif")) == "Dewiswch rif from 1 to 9."


def test_fail_builds_an_error_that_carries_its_issues() -> None:
    exc = issues.fail(InvalidInput, "Choose a number from %(lo)s to %(hi)s.", field="s4", lo=1, hi=5)
    assert exc.message == "Choose a number from 1 to 5." and exc.status_code == 422
    assert exc.errors == [("s4", "Choose a number from 1 to 5.")]
    assert exc.issues[0].msgid.startswith("Choose a number from %(lo)s")


def test_text_is_stripped_and_bounded() -> None:
    assert checks.clean_text("  fine\r\nwords \x00", 100, "c1") == "fine\nwords"
    assert checks.clean_text(None, 10, "c1") == ""
    too_long = checks.clean_text("x" * 11, 10, "c1")
    assert isinstance(too_long, issues.Issue) and "11 characters" in too_long.text()
    assert isinstance(checks.clean_text(5, 10, "c1"), issues.Issue)


def test_a_round_takes_answers_while_open_and_before_its_closing_time() -> None:
    assert checks.round_accepts_answers("open", NOW + timedelta(seconds=1), NOW)
    assert checks.round_accepts_answers("open", None, NOW)
    assert not checks.round_accepts_answers("open", NOW, NOW)
    assert not checks.round_accepts_answers("closed", NOW + timedelta(days=1), NOW)
    assert not checks.round_accepts_answers("draft", None, NOW)


def test_links_stop_for_withdrawn_or_erased_people() -> None:
    assert checks.link_usable("invited", False) and checks.link_usable("bounced", False)
    assert not checks.link_usable("withdrawn", False) and not checks.link_usable("active", True)


def test_suggestions_are_open_in_round_one_or_when_the_panel_allows_later() -> None:
    assert checks.suggestions_allowed(1, False)
    assert not checks.suggestions_allowed(2, False)
    assert checks.suggestions_allowed(3, True)


def test_outside_iqr_counts_the_bounds_as_inside() -> None:
    assert not figures.outside_iqr(6, 6.0, 8.0) and not figures.outside_iqr(8, 6.0, 8.0)
    assert figures.outside_iqr(5, 6.0, 8.0) and figures.outside_iqr(9, 6.0, 8.0)
    assert figures.outside_iqr(7, 6.25, 6.75)
    assert not figures.outside_iqr(None, 6.0, 8.0) and not figures.outside_iqr(3, None, None)


def test_pages_follow_sections_and_split_long_ones() -> None:
    pairs = [(1, "A"), (2, "A"), (3, "B"), (4, "B"), (5, "B"), (6, "B"), (7, "C"), (8, "A")]
    pages = paging.paginate(pairs, per_page=3)
    assert [(p.number, p.section, p.statement_ids, p.part, p.parts) for p in pages] == [
        (1, "A", (1, 2), 1, 1),
        (2, "B", (3, 4, 5), 1, 2),
        (3, "B", (6,), 2, 2),
        (4, "C", (7,), 1, 1),
        (5, "A", (8,), 1, 1),
    ]
    assert paging.paginate([]) == []
    assert paging.page_of(pages, 6) == 3 and paging.page_of(pages, 99) is None
    with pytest.raises(ValueError):
        paging.paginate(pairs, per_page=0)


def test_resume_on_the_first_page_with_a_gap() -> None:
    pages = paging.paginate([(1, "A"), (2, "A"), (3, "B")], per_page=5)
    assert paging.resume_page(pages, set()) == 1
    assert paging.resume_page(pages, {1, 2}) == 2
    assert paging.resume_page(pages, {1, 2, 3}) == 2  # all done: the last page
    assert paging.resume_page([], set()) == 1
    assert paging.unanswered([3, 1, 2], {1}) == [3, 2]


def test_the_agree_band_comes_from_the_rule_or_the_top_third_of_the_scale() -> None:
    assert figures.agree_band({"agree": [7, 9]}, 1, 9) == (7, 9)
    assert figures.agree_band({"agree": [4, 5]}, 1, 5) == (4, 5)
    assert figures.agree_band({}, 1, 9) == (7, 9)
    assert figures.agree_band(None, 1, 5) == (5, 5)
    assert figures.agree_band({"agree": [8, 12]}, 1, 9) == (7, 9)  # off the scale: ignored
    assert figures.agree_band({"agree": [True, 9]}, 1, 9) == (7, 9)


def test_plain_word_figures() -> None:
    counts = [0, 0, 1, 1, 1, 3, 6, 5, 3]
    assert figures.count_in_band(counts, 1, (7, 9)) == 14
    assert figures.percent(14, 20) == 70
    assert figures.percent(7, 8) == 88  # 87.5 rounds half up
    assert figures.percent(1, 0) is None
    assert figures.band_text((7, 9)) == "7–9" and figures.band_text((9, 9)) == "9"
    assert [format_number(x) for x in (6.0, 6.25, 6.333, 7.5, None)] == ["6", "6.25", "6.33", "7.5", ""]


def test_money_follows_the_currency_and_language() -> None:
    # the pages' money is delphi.formatting.format_money (it was participation_rules.money_text)
    assert format_money(1500, "GBP") == "£15.00"
    assert format_money(1500, "JPY") == "¥1,500"
    assert format_money(1550, "EUR", "de") == "15,50\xa0€"
    assert format_money(1500, "XXQ") == "15.00 XXQ" or "XXQ" in format_money(1500, "XXQ")
