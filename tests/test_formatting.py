"""The one source for percent rounding and money (delphi.formatting): halves up, each surface's precision."""

from __future__ import annotations

from decimal import Decimal

import pytest

from delphi.formatting import (
    format_money,
    major_amount,
    minor_per_major,
    percent_text,
    round_half_up,
    shorten,
)
from delphi.mail.render import MailRenderer
from delphi.web.templating import make_environment


@pytest.mark.parametrize(
    ("value", "decimals", "expected"),
    [
        (62.5, 0, "63"),  # Python's round() and "%.0f" give 62 (half to even)
        (87.5, 0, "88"),
        (0.5, 0, "1"),
        (62.4999, 0, "62"),
        (62.25, 1, "62.3"),  # f"{62.25:.1f}" gives 62.2
        (12.35, 1, "12.4"),  # not exact in binary; rounded as written
        (100 * 5 / 8, 0, "63"),
        (Decimal(125) / Decimal(2), 0, "63"),
        (7, 0, "7"),
    ],
)
def test_round_half_up_rounds_halves_up_as_written(value, decimals, expected) -> None:
    assert str(round_half_up(value, decimals)) == expected


def test_percent_text_is_whole_by_default_and_keeps_a_decimal_unless_exact_when_asked() -> None:
    assert percent_text(62.5) == "63%"
    assert percent_text(71.43) == "71%"
    assert percent_text(None) == "–"
    assert percent_text(None, missing="") == ""
    # the precision of plain_summary (docs/statistics.md §9): whole when exact, else one decimal
    assert percent_text(70.0, 1) == "70%"
    assert percent_text(69.6, 1) == "69.6%"
    assert percent_text(87.5, 1) == "87.5%"
    assert percent_text(62.25, 1) == "62.3%"
    assert percent_text(200 / 3, 1) == "66.7%"


def test_pages_and_mails_have_the_percent_filter() -> None:
    assert make_environment().from_string("{{ 62.5 | percent }}").render() == "63%"
    env = MailRenderer().environment("en")
    assert env.from_string("{{ 62.5 | percent }}").render() == "63%"


def test_minor_units_follow_the_currency() -> None:
    assert minor_per_major("GBP") == 100 and minor_per_major("JPY") == 1
    assert major_amount(1500, "GBP") == Decimal("15.00") and str(major_amount(1550, "EUR")) == "15.50"
    assert major_amount(1500, "JPY") == Decimal(1500)


def test_money_in_the_readers_language_with_or_without_a_zero_fraction() -> None:
    assert format_money(1500, "GBP") == "£15.00"
    assert format_money(1500, "GBP", whole_without_decimals=True) == "£15"
    assert format_money(1550, "GBP", whole_without_decimals=True) == "£15.50"
    assert format_money(1500, "EUR", "de", whole_without_decimals=True) == "15\xa0€"
    assert format_money(1500, "JPY", whole_without_decimals=True) == "¥1,500"
    assert format_money(1500, "GBP", "en-GB") == "£15.00"
    assert format_money(1500, "GBP", "xx") == "£15.00"  # unknown locale: English


def test_shorten_puts_text_on_one_line_and_cuts_it_with_an_ellipsis_at_the_limit() -> None:
    assert shorten("  Waiting\n times ") == "Waiting times"
    assert shorten("a" * 80) == "a" * 80
    assert shorten("word " * 20, limit=12) == "word word w…"  # 11 characters kept, then the ellipsis
    assert shorten("word " * 20, limit=11) == "word word…"  # a cut after a space drops the space


@pytest.mark.parametrize(
    ("locale", "date_text", "datetime_text"),
    [
        # British order for English, as the product wrote dates before it had languages.
        ("en", "3 March 2026", "3 March 2026, 17:00 UTC"),
        # CLDR long date patterns through Babel: babel.dates.format_date(d, "long", locale="cy"/"es").
        ("cy", "3 Mawrth 2026", "3 Mawrth 2026, 17:00 UTC"),
        ("es", "3 de marzo de 2026", "3 de marzo de 2026, 17:00 UTC"),
        ("xx-unknown", "3 March 2026", "3 March 2026, 17:00 UTC"),
    ],
)
def test_dates_are_written_in_the_readers_language(locale, date_text, datetime_text) -> None:
    from datetime import UTC, datetime

    from delphi.formatting import format_date, format_datetime

    when = datetime(2026, 3, 3, 17, 0, tzinfo=UTC)
    assert format_date(when, locale) == date_text
    assert format_datetime(when, locale) == datetime_text
    assert format_date(None, locale) == format_datetime(None, locale) == ""


@pytest.mark.parametrize(
    ("locale", "number", "percent", "percent_1"),
    [
        ("en", "6.25", "63%", "87.5%"),
        ("cy", "6.25", "63%", "87.5%"),
        # CLDR's Spanish decimal comma and "#,##0 %" percent pattern (a no-break space before the sign).
        ("es", "6,25", "63\xa0%", "87,5\xa0%"),
    ],
)
def test_numbers_and_percentages_follow_the_readers_language_and_still_round_halves_up(
    locale, number, percent, percent_1
) -> None:
    from delphi.formatting import format_number

    assert format_number(6.25, locale) == number
    assert format_number(6.0, locale) == "6"
    assert format_number(None, locale) == ""
    assert percent_text(62.5, locale=locale) == percent
    assert percent_text(87.5, 1, locale=locale) == percent_1
    assert percent_text(70.0, 1, locale=locale).startswith("70")


def test_template_filters_write_in_the_context_language() -> None:
    from datetime import UTC, datetime

    env = make_environment()
    template = env.from_string("{{ when | date }} {{ x | number }} {{ p | percent }}")
    when = datetime(2026, 3, 3, tzinfo=UTC)
    assert template.render(when=when, x=6.5, p=62.5) == "3 March 2026 6.5 63%"
    assert template.render(when=when, x=6.5, p=62.5, lang="es") == "3 de marzo de 2026 6,5 63\xa0%"
    assert template.render(when=when, x=6.5, p=62.5, language="cy") == "3 Mawrth 2026 6.5 63%"
