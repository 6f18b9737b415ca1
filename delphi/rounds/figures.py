"""Last round's figures in plain words: the agree band, percentages, numbers as people write them, and whether
a rating lies outside the middle half.

Pure: no SQLAlchemy, no Litestar, no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from delphi.formatting import round_half_up


def agree_band(rule: Mapping[str, Any] | None, lo: int, hi: int) -> tuple[int, int]:
    """The agree band of a panel's stored rule (``{"agree": [7, 9], ...}``).

    Falls back to the top third of the scale (7-9 on 1-9, 4-5 on 1-5) when the rule is empty or malformed, so
    feedback still reads sensibly for a panel whose rule was never set.
    """
    band = (rule or {}).get("agree")
    if (
        isinstance(band, list | tuple)
        and len(band) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) for v in band)
        and lo <= band[0] <= band[1] <= hi
    ):
        return int(band[0]), int(band[1])
    width = max(1, (hi - lo + 1) // 3)
    return hi - width + 1, hi


def count_in_band(counts: Sequence[int], scale_min: int, band: tuple[int, int]) -> int:
    """Ratings in an inclusive band, from counts per scale point (``scale_min`` first)."""
    return sum(int(c) for i, c in enumerate(counts) if band[0] <= scale_min + i <= band[1])


def percent(part: int, whole: int) -> int | None:
    """Whole percentage, halves rounded up (7 of 8 → 88) by :func:`delphi.formatting.round_half_up`, the rule
    of every surface; None when ``whole`` is 0."""
    if whole <= 0:
        return None
    return int(round_half_up(Decimal(100 * part) / Decimal(whole)))


def band_text(band: tuple[int, int]) -> str:
    """``"7–9"``, or ``"9"`` for a one-point band."""
    return str(band[0]) if band[0] == band[1] else f"{band[0]}–{band[1]}"


def outside_iqr(value: int | None, q1: float | None, q3: float | None) -> bool:
    """True when a rating lies outside last round's interquartile range ``[q1, q3]`` (bounds inclusive).

    False when there is no rating or no range to compare with.
    """
    if value is None or q1 is None or q3 is None:
        return False
    return value < q1 or value > q3
