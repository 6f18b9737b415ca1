"""Ranking questions: per-item rank figures, Kendall's W, the ranking verdict and change between rounds.

Pure numpy/scipy; no I/O. A ranking question asks each of m panellists to order the same n items (1 = first).
The input is a ``(m, n)`` float matrix, one row per panellist, NaN where an item was not ranked, and an
optional ``(m,)`` boolean mask of "unable to rank" answers.

Rows are sorted into three kinds, and only complete rows enter any figure (W, mean and median ranks):

* **unable** -- the panellist answered "unable to rank": counted in ``n_unable``, otherwise ignored;
* **incomplete** -- at least one item has no rank (NaN) and the row is not marked unable: counted in
  ``n_incomplete``, left out (a partial ranking cannot be compared with full ones without imputation);
* **complete** -- every item ranked: re-ranked within the row (ties get mid-ranks, so ``[1, 1, 3]`` becomes
  ``[1.5, 1.5, 3]`` and ``[2, 5, 9]`` becomes ``[1, 2, 3]``) and used.

References
----------
.. [1] Kendall, M. G. and Babington Smith, B. (1939). The problem of m rankings. *Ann. Math. Statist.*
       10(3), 275-287.
.. [2] Schmidt, R. C. (1997). Managing Delphi surveys using nonparametric statistical techniques.
       *Decision Sciences* 28(3), 763-774 (W as the Delphi stopping criterion; W >= 0.7 "strong agreement").
.. [3] Siegel, S. and Castellan, N. J. (1988). *Nonparametric Statistics for the Behavioral Sciences*,
       2nd ed., section 9.4 (tie correction, chi-squared approximation) and section 9.5 (Spearman's r_s).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from delphi.stats.kendall import KendallW, kendalls_w
from delphi.stats.ranks import rank_rows

__all__ = [
    "RANKING_VERDICTS",
    "RankingSummary",
    "consensus_order",
    "rank_correlations",
    "ranking_verdict",
    "summarise_ranking",
    "w_change",
]

#: The verdicts :func:`ranking_verdict` returns.
RANKING_VERDICTS = ("in", "none", "insufficient")

#: Allowance for floating-point rounding when W is compared with its threshold (as in ``criteria.py``).
_EPS = 1e-9


@dataclass(frozen=True, slots=True)
class RankingSummary:
    """Result of :func:`summarise_ranking` for one ranking question in one scope.

    Attributes
    ----------
    n_raters : int
        Complete rankings used.
    n_unable : int
        "Unable to rank" answers (counted, otherwise ignored).
    n_incomplete : int
        Rows with at least one missing rank, not marked unable (left out of every figure).
    mean_rank, median_rank : ndarray of float64, shape (n_items,)
        Mean and median of the within-row mid-ranks of each item over the complete rows; NaN when
        ``n_raters == 0``. Lower is nearer the top.
    rank_sum : ndarray of float64, shape (n_items,)
        Sum of the within-row mid-ranks (``R_j`` of Siegel & Castellan); 0 when ``n_raters == 0``.
    ties : bool
        Whether any complete row had tied ranks.
    kendall : KendallW
        Kendall's W on the complete rows, tie-corrected, with Friedman's chi-squared and its p-value.
    """

    n_raters: int
    n_unable: int
    n_incomplete: int
    mean_rank: NDArray[np.float64]
    median_rank: NDArray[np.float64]
    rank_sum: NDArray[np.float64]
    ties: bool
    kendall: KendallW


def _matrix(x: ArrayLike, what: str) -> NDArray[np.float64]:
    a = np.asarray(x, dtype=np.float64)
    if a.ndim != 2:
        raise ValueError(f"{what} must be a 2-D (panellists, items) matrix, not {a.ndim}-D")
    return a


def summarise_ranking(ranks: ArrayLike, unable: ArrayLike | None = None) -> RankingSummary:
    """Per-item rank figures and Kendall's W for one ranking question.

    Parameters
    ----------
    ranks : array_like of float, shape (m, n)
        One row per panellist, one column per item: the rank given (1 = first; any increasing scores work,
        as they are re-ranked within the row). NaN = item not ranked.
    unable : array_like of bool, shape (m,), optional
        True where the panellist answered "unable to rank"; those rows are counted in ``n_unable`` and
        ignored otherwise, whatever their ranks hold.

    Returns
    -------
    RankingSummary
        Rows with any NaN (and not unable) are counted in ``n_incomplete`` and left out of every figure.
        With no complete row the per-item means and medians are NaN and W is NaN; with one complete row the
        per-item figures are that row's ranks and W is NaN (see :func:`delphi.stats.kendall.kendalls_w`).

    Raises
    ------
    ValueError
        When ``ranks`` is not 2-D or ``unable`` does not have one entry per row.

    Examples
    --------
    >>> s = summarise_ranking([[1, 2, 3, 4, 5], [2, 1, 3, 5, 4], [1, 3, 2, 4, 5], [1, 2, 4, 3, 5]])
    >>> s.mean_rank.tolist(), round(s.kendall.w, 4)
    ([1.25, 2.0, 3.0, 4.0, 4.75], 0.8125)
    """
    x = _matrix(ranks, "ranks")
    m, n = x.shape
    if unable is None:
        unable_mask = np.zeros(m, dtype=bool)
    else:
        unable_mask = np.asarray(unable, dtype=bool)
        if unable_mask.shape != (m,):
            raise ValueError(f"unable must have one entry per row ({m}), not shape {unable_mask.shape}")
    incomplete = ~unable_mask & np.isnan(x).any(axis=1)
    complete = ~unable_mask & ~incomplete
    used = x[complete]
    n_raters = int(complete.sum())
    kendall = kendalls_w(used)
    if n_raters == 0:
        nan = np.full(n, np.nan)
        return RankingSummary(
            0, int(unable_mask.sum()), int(incomplete.sum()), nan, nan.copy(), np.zeros(n), False, kendall
        )
    r, tie_term = rank_rows(used)
    return RankingSummary(
        n_raters=n_raters,
        n_unable=int(unable_mask.sum()),
        n_incomplete=int(incomplete.sum()),
        mean_rank=r.mean(axis=0),
        median_rank=np.median(r, axis=0),
        rank_sum=r.sum(axis=0),
        ties=bool((tie_term > 0).any()),
        kendall=kendall,
    )


def ranking_verdict(w: float, n_raters: int, *, w_min: float, k_min: int) -> str:
    """The ranking rule: agreement on the order when Kendall's W reaches a threshold fixed a priori.

    Parameters
    ----------
    w : float
        Kendall's W in [0, 1] (NaN when undefined).
    n_raters : int
        Complete rankings W was computed on.
    w_min : float
        Threshold, e.g. 0.7 (Schmidt 1997: "strong agreement").
    k_min : int
        The panel's minimum group size for releasing figures; W needs at least 2 raters in any case.

    Returns
    -------
    str
        ``"insufficient"`` when ``n_raters < max(k_min, 2)`` or ``w`` is NaN; otherwise ``"in"`` when
        ``w >= w_min`` (1e-9 allowed for rounding), else ``"none"``.
    """
    if n_raters < max(k_min, 2) or np.isnan(w):
        return "insufficient"
    return "in" if w >= w_min - _EPS else "none"


def w_change(previous: float, current: float) -> float:
    """Change in Kendall's W between two rounds: ``current - previous``; NaN if either is NaN."""
    if np.isnan(previous) or np.isnan(current):
        return float("nan")
    return float(current) - float(previous)


def rank_correlations(previous: ArrayLike, current: ArrayLike) -> NDArray[np.float64]:
    """Spearman's rho per panellist between their ranking in two rounds.

    Parameters
    ----------
    previous, current : array_like of float, shape (m, n)
        Rank matrices of the same panellists (rows, same order) and items (columns, same order). Each row is
        re-ranked with mid-ranks for ties, so rho is Pearson's r of the mid-ranks (as ``scipy.stats.spearmanr``).

    Returns
    -------
    ndarray of float64, shape (m,)
        rho in [-1, 1]; NaN where either row has a NaN or is constant (all items tied), or with fewer than
        2 items.

    Raises
    ------
    ValueError
        When the two matrices are not 2-D or differ in shape.
    """
    a = _matrix(previous, "previous")
    b = _matrix(current, "current")
    if a.shape != b.shape:
        raise ValueError(f"previous and current must have the same shape, not {a.shape} and {b.shape}")
    m, n = a.shape
    if n < 2:
        return np.full(m, np.nan)
    ra, _ = rank_rows(a)
    rb, _ = rank_rows(b)
    da = ra - ra.mean(axis=1, keepdims=True)
    db = rb - rb.mean(axis=1, keepdims=True)
    saa = (da * da).sum(axis=1)
    sbb = (db * db).sum(axis=1)
    sab = (da * db).sum(axis=1)
    ok = ~np.isnan(saa) & ~np.isnan(sbb) & (saa > 0) & (sbb > 0)
    rho = np.full(m, np.nan)
    rho[ok] = np.clip(sab[ok] / np.sqrt(saa[ok] * sbb[ok]), -1.0, 1.0)
    return rho


def consensus_order(mean_rank: ArrayLike) -> list[int]:
    """Item indices from first (lowest mean rank) to last; equal means keep the given order; NaN last.

    >>> consensus_order([2.5, 1.0, float("nan"), 2.5])
    [1, 0, 3, 2]
    """
    v = np.asarray(mean_rank, dtype=np.float64).ravel()
    return [int(i) for i in np.argsort(v, kind="stable")]
