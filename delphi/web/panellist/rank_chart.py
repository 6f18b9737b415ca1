"""Last round's ranking result in words and as an inline SVG chart of horizontal bars, with a text alternative.

Pure functions: released figures in, strings out.  Like :mod:`delphi.web.charts`: no script, no ``style``
attribute (a CSP without ``'unsafe-inline'`` passes), ``role="img"`` named by the ``<title>`` and described by
the ``<desc>``, which holds every figure the bars show.  The page shows the same figures as a list of words
too, so nothing is only in the picture.

A bar's length is the item's *standing*: ``n_items + 1 - mean rank``, so the item ranked first on average has
the longest bar; the number written at the end of each bar is the average rank itself (1 = first).

Words go through the ``gettext`` callable (English when omitted), so the text follows the reader's language;
the items' own texts through ``item_text`` (``(item id, primary text) -> text``, e.g.
:meth:`delphi.panels.translations.Wording.item`) and the average ranks through ``number`` (e.g.
:func:`delphi.formatting.format_number` in the reader's language).  The bars always run left to right
(``direction="ltr"``), on a right-to-left page too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from markupsafe import Markup, escape

from delphi.formatting import format_number, shorten
from delphi.participation.issues import N_
from delphi.rounds.ranking_figures import RankedItem

__all__ = ["ordinal", "place_text", "rank_bars_svg", "rank_bars_text"]

Gettext = Callable[[str], str]
ItemText = Callable[[int, str], str]
Number = Callable[[float], str]

#: Colours as in :mod:`delphi.web.charts` (at least 3:1 against white, WCAG 1.4.11).
BAR = "#1d70b8"
OWN = "#0b0c0c"
TEXT = "#0b0c0c"
TRACK = "#f3f2f1"


def _same(msg: str) -> str:
    return msg


def ordinal(n: int, gettext: Gettext | None = None) -> str:
    """``n`` as a place: "1st", "2nd", "3rd", "4th", "11th", "21st" (English suffixes; a translation may
    render all four forms as, say, "%(n)s.")."""
    _ = gettext or _same
    if 10 <= n % 100 <= 20 or n % 10 not in (1, 2, 3):
        template = N_("%(n)sth")
    else:
        template = {1: N_("%(n)sst"), 2: N_("%(n)snd"), 3: N_("%(n)srd")}[n % 10]
    return _(template) % {"n": n}


def _item_text(item: RankedItem, item_text: ItemText | None) -> str:
    return item_text(item.item_id, item.text) if item_text else item.text


def place_text(
    item: RankedItem,
    gettext: Gettext | None = None,
    *,
    item_text: ItemText | None = None,
    number: Number | None = None,
) -> str:
    """One item of the group's order in words: "1st: Being listened to (average rank 1.4)"."""
    _ = gettext or _same
    return _("%(place)s: %(text)s (average rank %(mean)s)") % {
        "place": ordinal(item.place, gettext),
        "text": _item_text(item, item_text),
        "mean": (number or format_number)(item.mean_rank),
    }


def rank_bars_text(
    items: Sequence[RankedItem],
    own: Mapping[int, int] | None = None,
    gettext: Gettext | None = None,
    *,
    item_text: ItemText | None = None,
    number: Number | None = None,
) -> str:
    """The chart's text alternative: every item in the group's order with its average rank, then the reader's
    own rank of it when ``own`` (item id -> rank) has one.  "Nobody ranked this." without items."""
    _ = gettext or _same
    if not items:
        return _("Nobody ranked this.")
    parts = [_("Average rank of each item, 1 = first.")]
    for item in items:
        text = place_text(item, gettext, item_text=item_text, number=number) + "."
        if own and item.item_id in own:
            text += " " + _("You ranked it %(place)s.") % {"place": ordinal(own[item.item_id], gettext)}
        parts.append(text)
    return " ".join(parts)


def rank_bars_svg(
    items: Sequence[RankedItem],
    n_items: int,
    *,
    chart_id: str,
    title: str,
    own: Mapping[int, int] | None = None,
    width: int = 320,
    gettext: Gettext | None = None,
    item_text: ItemText | None = None,
    number: Number | None = None,
) -> Markup:
    """An inline ``<svg>`` with one horizontal bar per item of ``items`` (best first, as released).

    Parameters
    ----------
    items
        The released order (:class:`~delphi.rounds.ranking_figures.RankedItem`, best first).
    n_items
        Items of the question (the longest possible average rank); at least the number of ``items``.
    chart_id
        Unique on the page (letters, digits, ``-``, ``_``): prefixes the ids of ``<title>`` and ``<desc>``.
    title
        Accessible name, e.g. "The panel's order in round 1".
    own
        The reader's own ranks last round (item id -> rank), marked with a dark tick and named in the text.
    width
        The ``viewBox`` width; the chart scales to its container (``width="100%"``).
    item_text, number
        The items' texts and the average ranks in the reader's language (see the module docstring).

    Returns
    -------
    markupsafe.Markup
        Safe to insert as is: every text is escaped.
    """
    _ = gettext or _same
    safe_id = "".join(ch for ch in chart_id if ch.isalnum() or ch in "-_") or "chart"
    n = max(n_items, len(items), 1)
    row_h, label_h, bar_h, side, top = 40, 15, 16, 4, 4
    height = top + row_h * max(1, len(items)) + 4
    plot_w = width - 2 * side - 40  # room for the average rank after the longest bar
    desc = rank_bars_text(items, own, gettext, item_text=item_text, number=number)
    written = number or format_number
    parts = [
        f'<svg class="chart chart--ranks" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="100%" role="img" aria-labelledby="{safe_id}-title {safe_id}-desc" focusable="false" '
        'direction="ltr">',
        f'<title id="{safe_id}-title">{escape(title)}</title>',
        f'<desc id="{safe_id}-desc">{escape(desc)}</desc>',
    ]
    for row, item in enumerate(items):
        y = top + row * row_h
        standing = max(0.0, min(float(n), n + 1 - item.mean_rank))
        bar_w = max(2.0, plot_w * standing / n)
        parts.append(
            f'<text class="chart-label" x="{side}" y="{y + label_h - 3}" font-size="12" fill="{TEXT}">'
            f"{escape(ordinal(item.place, gettext))} {escape(shorten(_item_text(item, item_text), 38))}</text>"
        )
        bar_y = y + label_h
        parts.append(
            f'<rect class="chart-track" x="{side}" y="{bar_y}" width="{plot_w:.1f}" height="{bar_h}" fill="{TRACK}"/>'
        )
        parts.append(
            f'<rect class="chart-bar" x="{side}" y="{bar_y}" width="{bar_w:.1f}" height="{bar_h}" fill="{BAR}"/>'
        )
        parts.append(
            f'<text class="chart-count" x="{side + bar_w + 4:.1f}" y="{bar_y + bar_h - 3}" font-size="12" '
            f'fill="{TEXT}">{escape(written(item.mean_rank))}</text>'
        )
        if own and item.item_id in own:
            mine = max(0.0, min(float(n), n + 1 - own[item.item_id]))
            x = side + max(2.0, plot_w * mine / n)
            parts.append(
                f'<rect class="chart-own" x="{x - 2:.1f}" y="{bar_y - 3}" width="4" height="{bar_h + 6}" '
                f'fill="{OWN}"/>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))
