"""How numbers are written for people: the one source for percent rounding and for money.

Pure (Decimal and Babel's locale data, no I/O), so pages, mails, exports and :mod:`delphi.stats` can all use it.

Rounding rule: **halves round up** (away from zero), as people expect: 62.5% is "63%", 87.5% is "88%".  Python's
``round``, ``"%.0f"`` and f-strings round half to even on the binary value (62.5 → "62"), which is why no
surface formats a percentage by itself.  Each surface keeps its documented precision (whole percent on the
results pages and the rating page; whole-when-exact-else-one-decimal in :func:`delphi.stats.plain_summary`,
docs/statistics.md §9), but all of them round with :func:`round_half_up`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from babel import Locale, UnknownLocaleError
from babel.dates import format_date as babel_format_date
from babel.dates import format_time as babel_format_time
from babel.numbers import format_currency, format_decimal, get_currency_precision

__all__ = [
    "format_date",
    "format_datetime",
    "format_money",
    "format_number",
    "major_amount",
    "minor_per_major",
    "percent_text",
    "round_half_up",
]

#: Shown for a missing value in tables.
MISSING = "–"


def round_half_up(value: float | int | Decimal, decimals: int = 0) -> Decimal:
    """``value`` rounded to ``decimals`` places, halves away from zero: 62.5 → 63, 62.25 → 62.3 (1 place).

    A float is read by its shortest repr (``str``), so a ratio such as 100 × 5 / 8 = 62.5, or 12.35 (not exact
    in binary), rounds as it is written rather than by its binary expansion.
    """
    exact = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    return exact.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


def percent_text(pct: float | None, decimals: int = 0, missing: str = MISSING, locale: str = "en") -> str:
    """A percentage (0-100) as text in ``locale``'s way: ``"63%"`` for 62.5 (``"63 %"`` in Spanish); ``missing``
    for None.

    With ``decimals > 0`` a whole value is still written whole ("70%") and any other keeps ``decimals`` places
    ("69.6%", "87.5%"; "87,5 %" in Spanish), so a value just under a threshold is never shown as the threshold.
    """
    if pct is None:
        return missing
    if decimals > 0 and abs(pct - round(pct)) < 1e-9:
        decimals = 0
    value = round_half_up(pct, decimals)
    loc = _locale(locale)
    if loc is None or loc.language == "en":
        return f"{value}%"
    number = format_decimal(value, format="#,##0." + "0" * decimals if decimals else "#,##0", locale=loc)
    pattern = loc.percent_formats[None].pattern.split(";")[0]
    start, end = pattern.find("#"), pattern.rfind("0") + 1
    sign = loc.number_symbols.get("latn", {}).get("percentSign", "%")
    return (pattern[:start] + "\x00" + pattern[end:]).replace("%", sign).replace("\x00", number)


def format_number(x: float | None, locale: str = "en") -> str:
    """A statistic as people write it in ``locale``: 6.0 → "6", 6.25 → "6.25" ("6,25" in Spanish and Welsh
    is "6.25"), 6.333 → "6.33"; "" for None.  At most two decimals, halves rounded up."""
    if x is None:
        return ""
    value = round_half_up(float(x), 2).normalize()
    if value == 0:
        return "0"
    loc = _locale(locale)
    if loc is None or loc.language == "en":
        return f"{value:f}"
    return format_decimal(value, format="#,##0.##", locale=loc)


@lru_cache(maxsize=256)
def _locale(language: str | None) -> Locale | None:
    """Babel's locale for a language value (``"pt-BR"``, ``"cy"``); None when Babel does not know it."""
    try:
        return Locale.parse((language or "en").replace("-", "_"))
    except (ValueError, LookupError, UnknownLocaleError):
        return None


def minor_per_major(currency: str) -> int:
    """Minor units in one unit of ``currency`` by ISO 4217 (Babel's data): 100 for GBP, 1 for JPY; 100 if unknown.

    The one definition of what ``honorarium_minor`` counts, shared by the panel form, the exports and
    :func:`format_money`.
    """
    return int(10 ** get_currency_precision(currency))


def major_amount(minor: int, currency: str) -> Decimal:
    """An amount in minor units as an exact amount in major units: ``1500, "GBP"`` → ``Decimal("15.00")``."""
    return Decimal(minor).scaleb(-get_currency_precision(currency))


@lru_cache(maxsize=256)
def format_money(
    minor: int, currency: str, locale: str = "en", *, whole_without_decimals: bool = False
) -> str:
    """An amount in minor units as money in the reader's language: ``1500, "GBP"`` → ``"£15.00"``.

    The number of minor units comes from Babel's currency data (``1500, "JPY"`` → ``"¥1,500"``).
    ``whole_without_decimals`` (the mails' style) drops a zero fraction: ``"£15"``, but ``"£15.50"``.  An
    unknown locale falls back to English; an unknown currency to plain ``"15.00 XXQ"``.
    """
    try:
        amount = major_amount(minor, currency)
        for name in (locale.replace("-", "_") or "en", "en"):
            try:
                loc = Locale.parse(name)
            except (ValueError, LookupError, UnknownLocaleError):  # unknown locale: try English
                continue
            if whole_without_decimals and minor % minor_per_major(currency) == 0:
                # The locale's own pattern ("¤#,##0.00", "#,##0.00 ¤"), without its fraction.
                pattern = loc.currency_formats["standard"].pattern.split(";")[0].replace(".00", "")
                return format_currency(amount, currency, format=pattern, locale=loc, currency_digits=False)
            return format_currency(amount, currency, locale=loc)
    except Exception:  # unknown currency: plain and still correct
        pass
    return f"{Decimal(minor).scaleb(-2):.2f} {currency}"


def format_datetime(value: datetime | None, locale: str = "en") -> str:
    """A UTC timestamp in plain words in ``locale``: "3 March 2026, 17:00 UTC" ("3 Mawrth 2026, 17:00 UTC" in
    Welsh, "3 de marzo de 2026, 17:00 UTC" in Spanish); "" for None."""
    if not value:
        return ""
    return f"{format_date(value, locale)}, {babel_format_time(value, 'HH:mm', tzinfo=UTC, locale=_date_locale(locale))} UTC"


def format_date(value: datetime | date | None, locale: str = "en") -> str:
    """A date in plain words in ``locale``: "3 March 2026" (British order for English), "3 Mawrth 2026",
    "3 de marzo de 2026"; "" for None.  An unknown locale is written in English."""
    if not value:
        return ""
    day = value.astimezone(UTC).date() if isinstance(value, datetime) and value.tzinfo else value
    return babel_format_date(day, "long", locale=_date_locale(locale))


def _date_locale(language: str | None) -> Locale:
    """The locale dates are written in: English is British ("3 March 2026", not "March 3, 2026")."""
    loc = _locale(language)
    if loc is None or (loc.language == "en" and not loc.territory):
        return Locale.parse("en_GB")
    return loc


def shorten(text: str, limit: int = 80) -> str:
    """``text`` on one line (runs of whitespace made one space), cut to at most ``limit`` characters with "…" at
    the end when longer: for quoting a statement or question inside a message or a chart label."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
