"""How numbers are written for people: the one source for percent rounding and for money.

Pure (Decimal and Babel's locale data, no I/O), so pages, mails, exports and :mod:`delphi.stats` can all use it.

Rounding rule: **halves round up** (away from zero), as people expect: 62.5% is "63%", 87.5% is "88%".  Python's
``round``, ``"%.0f"`` and f-strings round half to even on the binary value (62.5 → "62"), which is why no
surface formats a percentage by itself.  Each surface keeps its documented precision (whole percent on the
results pages and the rating page; whole-when-exact-else-one-decimal in :func:`delphi.stats.plain_summary`,
docs/statistics.md §9), but all of them round with :func:`round_half_up`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.numbers import format_currency, get_currency_precision

__all__ = [
    "JINJA_FILTERS",
    "format_date",
    "format_datetime",
    "format_money",
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


def percent_text(pct: float | None, decimals: int = 0, missing: str = MISSING) -> str:
    """A percentage (0-100) as text: ``"63%"`` for 62.5; ``missing`` for None.

    With ``decimals > 0`` a whole value is still written whole ("70%") and any other keeps ``decimals`` places
    ("69.6%", "87.5%"), so a value just under a threshold is never shown as the threshold.
    """
    if pct is None:
        return missing
    if decimals > 0 and abs(pct - round(pct)) < 1e-9:
        decimals = 0
    return f"{round_half_up(pct, decimals)}%"


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


def format_datetime(value: datetime | None, fmt: str = "%-d %B %Y, %H:%M UTC") -> str:
    """A UTC timestamp in plain words ("3 March 2026, 17:00 UTC"); "" for None."""
    return value.strftime(fmt) if value else ""


def format_date(value: datetime | None) -> str:
    """A date in plain words ("3 March 2026"); "" for None."""
    return value.strftime("%-d %B %Y") if value else ""


def shorten(text: str, limit: int = 80) -> str:
    """``text`` on one line (runs of whitespace made one space), cut to at most ``limit`` characters with "…" at
    the end when longer: for quoting a statement or question inside a message or a chart label."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


#: Filters every Jinja environment (pages and mails) installs, so a template writes ``{{ x | percent }}``,
#: ``{{ when | datetime }}`` or ``{{ when | date }}``.
JINJA_FILTERS: dict[str, Callable[..., Any]] = {
    "percent": percent_text,
    "datetime": format_datetime,
    "date": format_date,
}
