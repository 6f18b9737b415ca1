"""Mid-ranks of row-sorted matrices, vectorised: used by the signed-rank test and Kendall's W."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["midranks_sorted", "rank_rows"]


def midranks_sorted(sorted_x: NDArray[np.float64]) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Doubled mid-ranks of each row of a row-sorted matrix, and the tie term of each row.

    Parameters
    ----------
    sorted_x : ndarray of float64, shape (S, N)
        Rows sorted ascending with NaN last.

    Returns
    -------
    ranks2 : ndarray of int64, shape (S, N)
        Twice the 1-based mid-rank of each value (an integer, so exact arithmetic stays possible); 0 at NaN.
    tie_term : ndarray of float64, shape (S,)
        ``sum(t**3 - t)`` over the groups of tied values in the row.
    """
    x = np.asarray(sorted_x, dtype=np.float64)
    s, n = x.shape
    if n == 0:
        return np.zeros((s, 0), dtype=np.int64), np.zeros(s)
    j = np.arange(n)
    valid = ~np.isnan(x)
    same_as_next = np.zeros(x.shape, dtype=bool)
    same_as_next[:, :-1] = (x[:, 1:] == x[:, :-1]) & valid[:, 1:]
    starts = np.ones(x.shape, dtype=bool)
    starts[:, 1:] = ~same_as_next[:, :-1]
    run_start = np.maximum.accumulate(np.where(starts, j, 0), axis=1)
    ends = ~same_as_next
    run_end = np.minimum.accumulate(np.where(ends, j, n)[:, ::-1], axis=1)[:, ::-1]
    ranks2 = np.where(valid, run_start + run_end + 2, 0).astype(np.int64)
    t = (run_end - run_start + 1).astype(np.float64)
    tie_term = np.where(starts & valid, t**3 - t, 0.0).sum(axis=1)
    return ranks2, tie_term


def rank_rows(x: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Mid-ranks (1-based, ties averaged) within each row, in the original column order.

    Parameters
    ----------
    x : ndarray of float64, shape (S, N)
        Values; NaN gets rank NaN and is not counted.

    Returns
    -------
    ranks : ndarray of float64, shape (S, N)
    tie_term : ndarray of float64, shape (S,)
        ``sum(t**3 - t)`` over tied groups per row.
    """
    x = np.asarray(x, dtype=np.float64)
    order = np.argsort(x, axis=1, kind="stable")
    ranks2, tie_term = midranks_sorted(np.take_along_axis(x, order, axis=1))
    ranks = np.empty(x.shape)
    np.put_along_axis(ranks, order, ranks2 / 2.0, axis=1)
    return np.where(np.isnan(x), np.nan, ranks), tie_term
