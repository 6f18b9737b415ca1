"""Cell suppression for a frequency table with published margins: which counts of a table may be shown.

:mod:`delphi.stats.disclosure` protects a one-dimensional table (pooled = sum of groups).  A table of
characteristics is two-dimensional: answers (rows) by stakeholder groups (columns), with a "Total" column (each
row's sum over the groups) and, for a table whose answers partition the people (a single-choice question), each
group's number of people as its column total and the grand total.  A reader can subtract along every row and
every column, and combine several rows and columns at once.  :func:`suppress_table` applies the rules of
statistical disclosure control for frequency tables [1]_:

1. **Primary suppression.**  A count of 1 to ``k - 1`` people is hidden (the threshold rule), and so is any
   cell the caller marks as sensitive (for a multiple-choice question, a choice that all but 1 to ``k - 1`` of
   the group's answerers made: the few who did not would be disclosed by subtraction).
2. **Complementary (secondary) suppression along lines.**  In every row, and every column whose total is shown,
   the hidden cells are none, or at least two that together cover 0 or at least ``k`` people
   (:func:`delphi.stats.disclosure.safe_total`), or every cell of the line.  A single hidden cell would be the
   total minus the visible ones; two hidden cells of 1 and 1 would tell that two people gave one of two answers.
   While a line breaks this, its smallest visible cell (fewest people; ties by position; a 0 only when no other
   is left) is hidden too; a row with nothing left to hide loses its total.
3. **Audit of the whole table.**  Subtracting lines one at a time is not the only attack: sums and differences of
   several rows and columns can pin down a cell (a hidden cell that is a "bridge" between two blocks of hidden
   cells is exact).  For every hidden cell the smallest and largest value consistent with everything shown and
   with counts being at least 0 are found by linear programming (the "protection interval" of [1]_, §4.3); the
   cell is protected when that interval reaches 0 or ``k`` (a reader cannot rule out that nobody, or that ``k``
   or more people, are in it) and is not a single value.  An unprotected cell gets one more cell of its row
   (else its column) hidden, and rules 2 and 3 are applied again.  Each pass hides at least one more cell, so
   this ends; hiding every cell and every row total is the end point.

Every hidden cell is reported alike (never "fewer than k" for one and "hidden" for another), so a reader
cannot tell a primary cell from a complementary one.

Pure: numpy and scipy's ``linprog``, no I/O.

References
----------
.. [1] Hundepool, A., Domingo-Ferrer, J., Franconi, L., Giessing, S., Schulte Nordholt, E., Spicer, K. and de
       Wolf, P.-P. (2012). *Statistical Disclosure Control*. Wiley. Chapter 4 (frequency tables: the threshold
       rule, primary and secondary cell suppression, disclosure by differencing margins, and auditing a
       suppression pattern by linear programming over the protection interval of each cell).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linprog

from delphi.stats.disclosure import safe_total

__all__ = ["TableRelease", "protection_intervals", "suppress_table"]


@dataclass(frozen=True, slots=True)
class TableRelease:
    """What of a table :func:`suppress_table` lets be shown.

    Attributes
    ----------
    k : int
        The threshold applied (at least 1).
    cells : tuple of tuple of bool, shape (R, G)
        Per answer row and group: the count may be shown.
    totals : tuple of bool, shape (R,)
        Per row: its total over the groups may be shown.
    primary : tuple of tuple of bool, shape (R, G)
        Cells hidden by rule 1 (for tests; a page must not tell them apart from the others).
    """

    k: int
    cells: tuple[tuple[bool, ...], ...]
    totals: tuple[bool, ...]
    primary: tuple[tuple[bool, ...], ...]

    @property
    def hidden_count(self) -> int:
        """Cells and row totals hidden."""
        return sum(not c for row in self.cells for c in row) + sum(not t for t in self.totals)


def _check(cells: Sequence[Sequence[int]]) -> np.ndarray:
    table = np.asarray(cells, dtype=np.int64)
    if table.ndim != 2:
        raise ValueError("cells must be a table: one sequence of counts per row, each as long as the others")
    if (table < 0).any():
        raise ValueError("counts must be at least 0")
    return table


def protection_intervals(
    cells: Sequence[Sequence[int]],
    hidden: np.ndarray,
    hidden_totals: np.ndarray,
    *,
    column_totals: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """The smallest and largest value of each hidden cell that a reader can work out from what is shown.

    Parameters
    ----------
    cells : R x G counts (at least 0).
    hidden : bool array (R, G), True where a cell is hidden.
    hidden_totals : bool array (R,), True where a row's total is hidden.
    column_totals : whether each column's total and the grand total are shown (a table whose rows partition
        the people); row totals that are shown are always used.

    Returns
    -------
    (lo, hi) : float arrays of shape (R, G + 1); column G holds the row totals.  NaN where the figure is shown.
        ``hi`` is ``inf`` when nothing bounds the cell from above (a row without a shown total and no column
        totals).
    """
    table = _check(cells)
    r, g = table.shape
    full = np.concatenate([table, table.sum(axis=1, keepdims=True)], axis=1).astype(float)
    mask = np.concatenate([np.asarray(hidden, bool), np.asarray(hidden_totals, bool)[:, None]], axis=1)
    lo = np.full(full.shape, np.nan)
    hi = np.full(full.shape, np.nan)
    unknown = [(i, j) for i in range(r) for j in range(g + 1) if mask[i, j]]
    if not unknown:
        return lo, hi
    index = {cell: n for n, cell in enumerate(unknown)}
    rows_eq: list[np.ndarray] = []
    rhs: list[float] = []

    def line(members: list[tuple[int, int]], total: tuple[int, int]) -> None:
        # sum(members) - total = 0, with the shown figures moved to the right-hand side
        coef = np.zeros(len(unknown))
        known = 0.0
        for cell, sign in [*((m, 1.0) for m in members), (total, -1.0)]:
            if cell in index:
                coef[index[cell]] += sign
            else:
                known += sign * full[cell]
        if coef.any():
            rows_eq.append(coef)
            rhs.append(-known)

    for i in range(r):
        line([(i, j) for j in range(g)], (i, g))
    if column_totals:
        col_totals = full.sum(axis=0)
        for j in range(g + 1):
            coef = np.zeros(len(unknown))
            known = 0.0
            for i in range(r):
                if (i, j) in index:
                    coef[index[(i, j)]] = 1.0
                else:
                    known += full[i, j]
            if coef.any():
                rows_eq.append(coef)
                rhs.append(col_totals[j] - known)
    a_eq = np.array(rows_eq) if rows_eq else None
    b_eq = np.array(rhs) if rhs else None
    for cell, n in index.items():
        objective = np.zeros(len(unknown))
        objective[n] = 1.0
        low = linprog(objective, A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs")
        high = linprog(-objective, A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs")
        lo[cell] = low.fun if low.status == 0 else 0.0
        hi[cell] = -high.fun if high.status == 0 else np.inf
    return lo, hi


def _smallest_visible(values: list[tuple[int, int]], hidden: set[int]) -> int | None:
    """Index of the visible value with the fewest people, a non-zero one first; None when all are hidden."""
    visible = [(v == 0, v, i) for i, v in values if i not in hidden]
    return min(visible)[2] if visible else None


def suppress_table(
    cells: Sequence[Sequence[int]],
    k: int,
    *,
    column_totals: bool = True,
    sensitive: Sequence[Sequence[bool]] | None = None,
    sensitive_totals: Sequence[bool] | None = None,
) -> TableRelease:
    """Decide which counts of an answers-by-groups table may be shown (rules 1-3 of the module docstring).

    Parameters
    ----------
    cells : sequence of R sequences of G whole numbers >= 0
        People per answer (row) and group (column).
    k : int
        The smallest number of people a shown or derivable count may cover (``Panel.k_min``); below 1 counts as 1.
    column_totals : bool
        True when the rows partition each group's people, so that each group's total (its number of people) and
        the grand total are shown and can be subtracted from; False for a table where one person can be in
        several rows (a multiple-choice question), where only row totals add up.
    sensitive : optional R x G booleans
        Cells to hide whatever their count (primary suppression decided by the caller).
    sensitive_totals : optional R booleans
        Row totals to hide whatever their count.

    Returns
    -------
    TableRelease
        Every shown line with hidden cells hides at least two, together covering 0 or at least ``k`` people (or
        the whole line), and every hidden cell's protection interval reaches 0 or ``k`` and is not one value.

    Notes
    -----
    Groups of 5 and 4 people and k = 3 answering "yes" 4 and 3, "no" 1 and 1: both "no" cells are 1 (primary);
    each column then hides one cell only, so each column's smallest visible cell, "yes", is hidden too.  The
    "yes" and "no" totals, 7 and 2: the 2 is hidden (primary) and with it, as the Total column's complement,
    the 7.  Nothing of the answers is left to derive; each group's n (5, 4) and the grand total (9) are shown.
    """
    k = max(1, int(k))
    table = _check(cells)
    r, g = table.shape
    totals = table.sum(axis=1)
    primary = (table > 0) & (table < k)
    if sensitive is not None:
        primary |= np.asarray(sensitive, dtype=bool).reshape(r, g)
    hidden = primary.copy()
    hidden_totals = (totals > 0) & (totals < k)
    if sensitive_totals is not None:
        hidden_totals |= np.asarray(sensitive_totals, dtype=bool).reshape(r)

    def line_unsafe(values: list[int], flags: list[bool]) -> bool:
        hid = [v for v, f in zip(values, flags, strict=True) if f]
        if not hid or len(hid) == len(values):
            return False
        return len(hid) == 1 or not safe_total(sum(hid), k)

    while True:
        changed = True
        while changed:
            changed = False
            for i in range(r):
                if hidden_totals[i]:
                    continue  # no total to subtract from
                if line_unsafe(list(table[i]), list(hidden[i])):
                    j = _smallest_visible(
                        [(j, int(table[i, j])) for j in range(g)], set(np.flatnonzero(hidden[i]))
                    )
                    if j is None:
                        hidden_totals[i] = True
                    else:
                        hidden[i, j] = True
                    changed = True
            if column_totals:
                for j in range(g):
                    if line_unsafe(list(table[:, j]), list(hidden[:, j])):
                        i = _smallest_visible(
                            [(i, int(table[i, j])) for i in range(r)], set(np.flatnonzero(hidden[:, j]))
                        )
                        if i is not None:
                            hidden[i, j] = True
                            changed = True
                if line_unsafe(list(totals), list(hidden_totals)):
                    i = _smallest_visible(
                        [(i, int(t)) for i, t in enumerate(totals)], set(np.flatnonzero(hidden_totals))
                    )
                    if i is not None:
                        hidden_totals[i] = True
                        changed = True
        lo, hi = protection_intervals(table, hidden, hidden_totals, column_totals=column_totals)
        exposed = [
            (i, j)
            for i in range(r)
            for j in range(g + 1)
            if not np.isnan(lo[i, j])
            and (hi[i, j] - lo[i, j] < 0.5 or (lo[i, j] >= 0.5 and hi[i, j] < k - 0.5))
        ]
        if not exposed:
            break
        if not _hide_one_more(table, hidden, hidden_totals, exposed[0]):
            break  # everything is hidden already
    return TableRelease(
        k=k,
        cells=tuple(tuple(bool(not h) for h in row) for row in hidden),
        totals=tuple(bool(not h) for h in hidden_totals),
        primary=tuple(tuple(bool(p) for p in row) for row in primary),
    )


def _hide_one_more(
    table: np.ndarray, hidden: np.ndarray, hidden_totals: np.ndarray, at: tuple[int, int]
) -> bool:
    """Hide one more figure next to the exposed cell ``at`` (its row, else its column, else any); False when
    every figure is hidden already."""
    i, j = at
    r, g = table.shape
    candidates = [
        [(i, c) for c in range(g)],
        [(row, j) for row in range(r)] if j < g else [],
        [(row, col) for row in range(r) for col in range(g)],
    ]
    for group in candidates:
        visible = [(table[c] == 0, int(table[c]), c) for c in group if not hidden[c]]
        if visible:
            hidden[min(visible)[2]] = True
            return True
    if not hidden_totals.all():
        hidden_totals[int(np.flatnonzero(~hidden_totals)[0])] = True
        return True
    return False
