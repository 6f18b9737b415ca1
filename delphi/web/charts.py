"""Inline SVG bar charts of a rating distribution, with a text alternative.

Pure functions: counts in, a string out.  The SVG needs no script and no ``style`` attribute (so it passes a
CSP without ``'unsafe-inline'``); colours are presentation attributes and classes that ``panellist.css`` (or a
facilitator stylesheet) may refine.  Every chart is ``role="img"`` named by its ``<title>`` and described by
its ``<desc>``, which holds the full text alternative (every count, and the highlighted rating).

Words go through the optional ``gettext``/``ngettext`` callables (English when omitted), so the alternative
text follows the reader's language.  A scale is not mirrored on a right-to-left page: the chart keeps its
left-to-right axis (``direction="ltr"``), lowest point on the left, as the rating tiles do.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from markupsafe import Markup, escape

__all__ = ["distribution_svg", "distribution_text"]

Gettext = Callable[[str], str]
Ngettext = Callable[[str, str, int], str]

#: Colours with at least 3:1 contrast against white (WCAG 1.4.11) and between the two bar kinds.
BAR = "#1d70b8"
HIGHLIGHT = "#0b0c0c"
BAND = "#e5f0e8"
AXIS = "#505a5f"
TEXT = "#0b0c0c"


def _gettext(msg: str) -> str:
    return msg


def _ngettext(singular: str, plural: str, n: int) -> str:
    return singular if n == 1 else plural


def distribution_text(
    counts: Sequence[int],
    scale_min: int,
    *,
    highlight: int | None = None,
    highlight_label: str | None = None,
    gettext: Gettext | None = None,
    ngettext: Ngettext | None = None,
) -> str:
    """The text alternative of a distribution, e.g.

    ``"Ratings from 1 to 9. 1: 0 people. 2: 1 person. ... 9: 4 people. Your rating: 7."``

    ``counts`` per scale point from ``scale_min``; ``highlight`` a point to name at the end with
    ``highlight_label`` (default "Your rating").  An all-zero or empty ``counts`` reads "Nobody rated this.".
    """
    _ = gettext or _gettext
    ngettext = ngettext or _ngettext
    total = sum(int(c) for c in counts)
    if not counts or total == 0:
        text = _("Nobody rated this.")
    else:
        hi = scale_min + len(counts) - 1
        parts = [_("Ratings from %(lo)s to %(hi)s.") % {"lo": scale_min, "hi": hi}]
        for i, c in enumerate(counts):
            c = int(c)
            parts.append(
                ngettext("%(point)s: %(num)s person.", "%(point)s: %(num)s people.", c)
                % {"point": scale_min + i, "num": c}
            )
        text = " ".join(parts)
    if highlight is not None:
        label = highlight_label or _("Your rating")
        text += " " + _("%(label)s: %(value)s.") % {"label": label, "value": highlight}
    return text


def distribution_svg(
    counts: Sequence[int],
    scale_min: int,
    *,
    chart_id: str,
    title: str,
    highlight: int | None = None,
    highlight_label: str | None = None,
    band: tuple[int, int] | None = None,
    width: int = 320,
    height: int = 150,
    gettext: Gettext | None = None,
    ngettext: Ngettext | None = None,
) -> Markup:
    """An inline ``<svg>`` bar chart of ``counts`` (one bar per scale point, ``scale_min`` first).

    Parameters
    ----------
    counts
        Ratings per scale point; an empty sequence draws an empty axis.
    scale_min
        Value of the first point.
    chart_id
        Unique on the page (letters, digits, ``-``, ``_``): prefixes the ids of ``<title>`` and ``<desc>``.
    title
        Accessible name, e.g. "How the whole panel rated this in round 1".
    highlight
        A point drawn darker and marked with ``highlight_label`` (default "You") under the axis, e.g. the
        reader's own previous rating; ignored when off the scale.
    band
        Inclusive points shaded behind the bars (e.g. the agree band 7-9); None for no shading.
    width, height
        The ``viewBox``; the chart scales to its container's width (``width="100%"``).

    Returns
    -------
    markupsafe.Markup
        Safe to insert as is: every text is escaped.
    """
    _ = gettext or _gettext
    safe_id = "".join(ch for ch in chart_id if ch.isalnum() or ch in "-_") or "chart"
    values = [max(0, int(c)) for c in counts]
    k = max(1, len(values))
    top, bottom, side = 18, 34, 4
    plot_h = height - top - bottom
    slot = (width - 2 * side) / k
    bar_w = slot * 0.72
    peak = max(values) if values and max(values) > 0 else 1
    hi_value = highlight if highlight is not None and 0 <= highlight - scale_min < len(values) else None
    desc = distribution_text(
        values,
        scale_min,
        highlight=hi_value,
        highlight_label=highlight_label if highlight_label else None,
        gettext=gettext,
        ngettext=ngettext,
    )
    parts: list[str] = [
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" '
        f'role="img" aria-labelledby="{safe_id}-title {safe_id}-desc" focusable="false" direction="ltr">',
        f'<title id="{safe_id}-title">{escape(title)}</title>',
        f'<desc id="{safe_id}-desc">{escape(desc)}</desc>',
    ]
    if band is not None and values:
        parts.extend(_band_rect(band, scale_min, len(values), side=side, slot=slot, top=top, plot_h=plot_h))
    baseline = top + plot_h
    for i, c in enumerate(values):
        point = scale_min + i
        x = side + i * slot + (slot - bar_w) / 2
        h = plot_h * c / peak
        own = point == hi_value
        cls = "chart-bar chart-bar--own" if own else "chart-bar"
        if c > 0:
            parts.append(
                f'<rect class="{cls}" x="{x:.1f}" y="{baseline - h:.1f}" width="{bar_w:.1f}" '
                f'height="{h:.1f}" fill="{HIGHLIGHT if own else BAR}"/>'
            )
        cx = x + bar_w / 2
        parts.append(
            f'<text class="chart-count" x="{cx:.1f}" y="{baseline - h - 4:.1f}" text-anchor="middle" '
            f'font-size="12" fill="{TEXT}">{c}</text>'
        )
        parts.append(
            f'<text class="chart-point" x="{cx:.1f}" y="{baseline + 15:.1f}" text-anchor="middle" '
            f'font-size="12" font-weight="{"700" if own else "400"}" fill="{TEXT}">{point}</text>'
        )
        if own:
            parts.append(
                f'<text class="chart-you" x="{cx:.1f}" y="{baseline + 30:.1f}" text-anchor="middle" '
                f'font-size="11" font-weight="700" fill="{TEXT}">{escape(highlight_label or _("You"))}</text>'
            )
    parts.append(
        f'<line x1="{side}" y1="{baseline + 0.5:.1f}" x2="{width - side}" y2="{baseline + 0.5:.1f}" '
        f'stroke="{AXIS}" stroke-width="1"/>'
    )
    parts.append("</svg>")
    return Markup("".join(parts))


def _band_rect(
    band: tuple[int, int], scale_min: int, n: int, *, side: float, slot: float, top: int, plot_h: float
) -> list[str]:
    """The shaded ``<rect>`` behind the points of ``band`` (inclusive) on a scale of ``n`` points from
    ``scale_min``; [] when the band misses the scale."""
    lo_i = max(0, band[0] - scale_min)
    hi_i = min(n - 1, band[1] - scale_min)
    if lo_i > hi_i:
        return []
    x = side + lo_i * slot
    return [
        f'<rect class="chart-band" x="{x:.1f}" y="{top - 14}" width="{(hi_i - lo_i + 1) * slot:.1f}" '
        f'height="{plot_h + 14}" fill="{BAND}"/>'
    ]
