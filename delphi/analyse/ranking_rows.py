"""The tables ``delphi analyse`` prints for ranking data; pure, on a :class:`RankingsTable`.

:func:`ranking_item_rows` gives one row per round x question x scope (``all``, then each group) x item: the
scope's Kendall's W, chi-squared, p-value and ranking verdict (repeated on each of its item rows) and the item's
mean and median rank, with the change in W since the previous round that asked the question.
:func:`rank_correlation_rows` gives, for every round after the first that asked a question, one row per
panellist who answered it then and before: Spearman's rho between their two rankings. Formulas and edge
cases are in :mod:`delphi.stats.ranking` and ``docs/statistics.md``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from delphi.analyse.rankings_file import RankingBlock, RankingsTable
from delphi.stats import (
    RankingSummary,
    consensus_order,
    rank_correlations,
    ranking_verdict,
    summarise_ranking,
    w_change,
)

__all__ = ["CORRELATION_COLUMNS", "ITEM_COLUMNS", "rank_correlation_rows", "ranking_item_rows"]

#: Every column of :func:`ranking_item_rows`; ``question`` only when the file has one, ``round`` and the
#: change columns (``previous_round``, ``w_previous``, ``w_change``) only with rounds.
ITEM_COLUMNS = (
    "question",
    "round",
    "group",
    "item",
    "position",
    "mean_rank",
    "median_rank",
    "rank_sum",
    "n_items",
    "n_raters",
    "n_unable",
    "n_incomplete",
    "ties",
    "w",
    "chi2",
    "df",
    "pvalue",
    "verdict",
    "previous_round",
    "w_previous",
    "w_change",
    "w_min",
    "k_min",
)
#: Every column of :func:`rank_correlation_rows` (``question`` only when the file has one).
CORRELATION_COLUMNS = ("question", "round", "previous_round", "panellist", "group", "n_items", "rho")
_CHANGE = ("previous_round", "w_previous", "w_change")


def _value(x: Any) -> Any:
    """A Python scalar for output: NaN to None, floats to 12 significant digits."""
    if isinstance(x, float | np.floating):
        return None if math.isnan(x) else float(f"{x:.12g}")
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, np.bool_):
        return bool(x)
    return x


def _scopes(table: RankingsTable, block: RankingBlock) -> list[tuple[str, np.ndarray]]:
    """(label, row mask of the block) for ``all`` and each group."""
    out = [("all", np.ones(block.panellists.size, dtype=bool))]
    if table.groups is not None:
        g_of = table.panellist_group[block.panellists]
        out += [(label, g_of == g) for g, label in enumerate(table.groups)]
    return out


def _previous_blocks(table: RankingsTable) -> list[int | None]:
    """Per block, the index of the latest earlier block of the same question (None for its first round)."""
    last: dict[int, int] = {}
    out: list[int | None] = []
    for b, block in enumerate(table.blocks):
        out.append(last.get(block.question))
        last[block.question] = b
    return out


def _group_label(table: RankingsTable, p: int) -> str | None:
    g = int(table.panellist_group[p])
    return None if table.groups is None or g < 0 else table.groups[g]


def _round_label(table: RankingsTable, r: int) -> str | None:
    return None if table.rounds is None else table.rounds[r]


def ranking_item_rows(
    table: RankingsTable, *, w_min: float, k_min: int
) -> tuple[list[str], list[dict[str, Any]]]:
    """The item table: one row per round x question x scope x item the round asked.

    Parameters
    ----------
    table : RankingsTable
    w_min : float
        Threshold of the ranking rule (W >= w_min is "in").
    k_min : int
        Fewest complete rankings a scope needs for a verdict (never fewer than 2).

    Returns
    -------
    columns : list of str
        :data:`ITEM_COLUMNS` less those that do not apply (see there).
    rows : list of dict
        Python scalars; NaN and "not applicable" are None. ``position`` is the item's place (1 = first) in
        the scope's order by mean rank (None when nobody ranked completely); ``w_change`` is this round's W
        minus W of the same scope in the previous round that asked the question.
    """
    columns = [
        c
        for c in ITEM_COLUMNS
        if not (c == "question" and not table.has_questions)
        and not ((c == "round" or c in _CHANGE) and table.rounds is None)
    ]
    previous = _previous_blocks(table)
    w_by_block: list[list[float]] = []
    rows: list[dict[str, Any]] = []
    for b, block in enumerate(table.blocks):
        labels = table.items[block.question]
        w_here: list[float] = []
        for k, (scope, mask) in enumerate(_scopes(table, block)):
            s = summarise_ranking(block.ranks[mask], block.unable[mask])
            w_here.append(s.kendall.w)
            change: dict[str, Any] = {}
            pb = previous[b]
            if pb is not None:
                w_prev = w_by_block[pb][k]
                change = {
                    "previous_round": _round_label(table, table.blocks[pb].round),
                    "w_previous": w_prev,
                    "w_change": w_change(w_prev, s.kendall.w),
                }
            head = {
                "question": table.questions[block.question],
                "round": _round_label(table, block.round),
                "group": scope,
            }
            rows += _item_rows(s, [labels[i] for i in block.items], head, change, w_min, k_min)
        w_by_block.append(w_here)
    return columns, [{c: _value(row.get(c)) for c in columns} for row in rows]


def _item_rows(
    s: RankingSummary,
    items: list[str],
    head: dict[str, Any],
    change: dict[str, Any],
    w_min: float,
    k_min: int,
) -> list[dict[str, Any]]:
    kw = s.kendall
    scope = {
        "n_items": len(items),
        "n_raters": s.n_raters,
        "n_unable": s.n_unable,
        "n_incomplete": s.n_incomplete,
        "ties": s.ties,
        "w": kw.w,
        "chi2": kw.chi2,
        "df": kw.df,
        "pvalue": kw.pvalue,
        "verdict": ranking_verdict(kw.w, s.n_raters, w_min=w_min, k_min=k_min),
        "w_min": w_min,
        "k_min": k_min,
        **change,
    }
    position: list[int | None] = [None] * len(items)
    if s.n_raters:
        for place, i in enumerate(consensus_order(s.mean_rank), start=1):
            position[i] = place
    return [
        {
            **head,
            "item": item,
            "position": position[i],
            "mean_rank": s.mean_rank[i],
            "median_rank": s.median_rank[i],
            "rank_sum": s.rank_sum[i],
            **scope,
        }
        for i, item in enumerate(items)
    ]


def rank_correlation_rows(table: RankingsTable) -> tuple[list[str], list[dict[str, Any]]]:
    """The correlation table: Spearman's rho of each panellist's ranking with their previous one.

    For every block with an earlier round of the same question, one row per panellist who answered both
    (in the current block's order), on the items both rounds asked (re-ranked within those items).

    Returns
    -------
    columns : list of str
        :data:`CORRELATION_COLUMNS` (``question`` only when the file has one); empty rows without rounds.
    rows : list of dict
        ``group`` is the panellist's group (None without groups); ``rho`` is None when either ranking is
        incomplete, "unable" or all ties, or fewer than 2 items are common to both rounds.
    """
    columns = [c for c in CORRELATION_COLUMNS if not (c == "question" and not table.has_questions)]
    rows: list[dict[str, Any]] = []
    for b, pb in enumerate(_previous_blocks(table)):
        if pb is None:
            continue
        cur, prev = table.blocks[b], table.blocks[pb]
        common_items = [i for i in cur.items.tolist() if i in set(prev.items.tolist())]
        prev_row = {p: k for k, p in enumerate(prev.panellists.tolist())}
        both = [(k, prev_row[p]) for k, p in enumerate(cur.panellists.tolist()) if p in prev_row]
        if not both:
            continue
        cur_col = {i: j for j, i in enumerate(cur.items.tolist())}
        prev_col = {i: j for j, i in enumerate(prev.items.tolist())}
        k_cur = np.asarray([k for k, _ in both], dtype=np.intp)
        k_prev = np.asarray([k for _, k in both], dtype=np.intp)
        a = prev.ranks[np.ix_(k_prev, [prev_col[i] for i in common_items])]
        c = cur.ranks[np.ix_(k_cur, [cur_col[i] for i in common_items])]
        rho = rank_correlations(a, c)
        for (k, _), r in zip(both, rho.tolist(), strict=True):
            p = int(cur.panellists[k])
            rows.append(
                {
                    "question": table.questions[cur.question],
                    "round": _round_label(table, cur.round),
                    "previous_round": _round_label(table, prev.round),
                    "panellist": table.panellists[p],
                    "group": _group_label(table, p),
                    "n_items": len(common_items),
                    "rho": r,
                }
            )
    return columns, [{c: _value(row.get(c)) for c in columns} for row in rows]
