"""Plain-words summaries of a statement's ratings, for the feedback panellists read between rounds."""

from __future__ import annotations

import math

from delphi.formatting import percent_text
from delphi.stats.describe import ScopeStats

__all__ = ["format_number", "format_percent", "plain_summary"]


def format_number(x: float) -> str:
    """A rating-scale number in plain form: ``6`` for 6.0, ``6.25``, ``6.5``; at most two decimals."""
    if float(x).is_integer():
        return str(int(x))
    return f"{x:.2f}".rstrip("0").rstrip(".")


def format_percent(pct: float) -> str:
    """A percentage that never rounds across a threshold: ``70%``, ``87.5%``, ``69.6%`` (docs/statistics.md §9).

    Whole when exact, otherwise one decimal, halves rounded up like every other surface
    (:func:`delphi.formatting.percent_text`).
    """
    return percent_text(pct, decimals=1)


def _people(n: int) -> str:
    return "person" if n == 1 else "people"


def _band(band: tuple[int, int]) -> str:
    return str(band[0]) if band[0] == band[1] else f"{band[0]}–{band[1]}"


def plain_summary(
    stats: ScopeStats, agree: tuple[int, int] = (7, 9), unable_policy: str = "exclude"
) -> list[str]:
    """One sentence per statement: how many rated it in the agree band, and where the middle half lay.

    Parameters
    ----------
    stats : ScopeStats
        Pooled or group statistics (``S`` statements).
    agree : tuple of int
        The agree band the statistics were computed with.
    unable_policy : {"exclude", "include"}
        The denominator ``stats.pct_agree`` used, so the counts in the sentence match the percentage.

    Returns
    -------
    list of str, length S
        For example "14 of 20 people (70%) rated this 7–9; the middle half of ratings lay between 6 and 8."
        The middle half is left out below two ratings; "unable to rate" answers get their own sentence. For
        the group-balanced scope the sentence gives the mean percentage over groups instead of counts.
    """
    out = []
    band = _band(agree)
    include = unable_policy == "include"
    for i in range(len(stats)):
        n = int(stats.n[i])
        u = int(stats.n_unable[i])
        pct = float(stats.pct_agree[i])
        if n == 0:
            text = "Nobody rated this."
            if u:
                text = f"Nobody rated this: {u} {_people(u)} said they were unable to."
            out.append(text)
            continue
        if stats.balanced:
            text = f"On average across groups, {format_percent(pct)} rated this {band}"
        else:
            den = n + u if include else n
            a = int(stats.n_agree[i])
            text = f"{a} of {den} {_people(den)} ({format_percent(pct)}) rated this {band}"
        q1, q3 = float(stats.q1[i]), float(stats.q3[i])
        if n >= 2 and not (math.isnan(q1) or math.isnan(q3)):
            if q1 == q3:
                text += f"; the middle half of ratings were all {format_number(q1)}"
            else:
                text += (
                    f"; the middle half of ratings lay between {format_number(q1)} and {format_number(q3)}"
                )
        text += "."
        if u:
            verb = "was" if u == 1 else "were"
            text += f" {u} {'more ' if not include else ''}{_people(u)} {verb} unable to rate it."
        out.append(text)
    return out
