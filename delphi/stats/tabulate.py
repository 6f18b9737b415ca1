"""Validate a round's ratings and count them per statement, group and scale point in one pass.

Every statistic of a round on a whole-number scale is a function of these counts, so the hot path touches
the ``(statements, panellists)`` matrix once, here, and everything after works on a table a few hundred
times smaller.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from delphi.stats.settings import AnalysisSettings

__all__ = ["Tabulation", "check_groups", "check_matrix", "tabulate"]

#: Cells per chunk of rows: about 1.3 MB of float64, so a chunk and its temporaries stay in cache.
_CHUNK_CELLS = 160_000
_INT32_LIMIT = 2**31 - 1


@dataclass(frozen=True, slots=True)
class Tabulation:
    """Counts of one round.

    Attributes
    ----------
    counts : ndarray of int64, shape (S, G, K)
        Ratings per statement, group and scale point (``K = scale_max - scale_min + 1``).
    n_unable : ndarray of int64, shape (S, G)
        "Unable to rate" answers per statement and group.
    group_size : ndarray of int64, shape (G,)
        Panellists (columns) in each group, whether or not they answered.
    """

    counts: NDArray[np.int64]
    n_unable: NDArray[np.int64]
    group_size: NDArray[np.int64]


def check_matrix(
    ratings: ArrayLike, unable: ArrayLike | None, name: str = "ratings"
) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """Coerce ratings to float64 ``(S, P)`` and the unable mask to bool of the same shape.

    Raises
    ------
    ValueError
        If ``ratings`` is not 2-D or ``unable`` does not have its shape.
    """
    x = np.asarray(ratings, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"{name} must be a 2-D (statements, panellists) matrix, not {x.ndim}-D")
    if unable is None:
        u = np.zeros(x.shape, dtype=bool)
    else:
        u = np.asarray(unable)
        if u.shape != x.shape:
            raise ValueError(f"the unable mask has shape {u.shape} but {name} have shape {x.shape}")
        u = u.astype(bool, copy=False)
    return x, u


def check_groups(groups: ArrayLike | None, n_groups: int, n_panellists: int) -> NDArray[np.intp]:
    """Coerce group labels to intp in ``0..n_groups - 1``; ``None`` puts everyone in group 0.

    Raises
    ------
    ValueError
        If the labels have the wrong length, are not whole numbers or lie outside ``0..n_groups - 1``.
    """
    if groups is None:
        return np.zeros(n_panellists, dtype=np.intp)
    if isinstance(n_groups, bool) or not isinstance(n_groups, int | np.integer) or n_groups < 1:
        raise ValueError(f"n_groups must be a positive whole number, not {n_groups!r}")
    g = np.asarray(groups)
    if g.shape != (n_panellists,):
        raise ValueError(f"groups must have one label per panellist, shape ({n_panellists},), not {g.shape}")
    if g.size and not np.issubdtype(g.dtype, np.integer):
        if not np.issubdtype(g.dtype, np.floating) or not np.all(np.isfinite(g) & (g == np.round(g))):
            raise ValueError("group labels must be whole numbers 0..n_groups - 1")
    g = g.astype(np.intp)
    if g.size and (g.min() < 0 or g.max() >= n_groups):
        raise ValueError(f"group labels must lie in 0..{n_groups - 1}; found {g.min()}..{g.max()}")
    return g


def tabulate(
    ratings: NDArray[np.float64],
    unable: NDArray[np.bool_],
    groups: NDArray[np.intp],
    n_groups: int,
    settings: AnalysisSettings,
) -> Tabulation:
    """Count ratings per statement, group and scale point, checking that each is on the scale.

    Parameters
    ----------
    ratings : ndarray of float64, shape (S, P)
        Ratings, NaN for "no answer". Where ``unable`` is true the value is ignored.
    unable : ndarray of bool, shape (S, P)
        "Unable to rate" answers.
    groups : ndarray of intp, shape (P,)
        Group label of each panellist, in ``0..n_groups - 1``.
    n_groups : int
        Number of groups G (at least 1).
    settings : AnalysisSettings
        Supplies the scale.

    Returns
    -------
    Tabulation

    Raises
    ------
    ValueError
        If a rating is not a whole number on the scale; the message names the first offending cell.
    """
    n_s, n_p = ratings.shape
    k = settings.n_points
    smin, smax = settings.scale_min, settings.scale_max
    width = k + 2  # scale points, then "unable", then "no answer"
    block = n_groups * width
    table = np.empty((n_s, n_groups, width), dtype=np.int64)
    col_offset = (groups * width).astype(np.int32)
    rows_per_chunk = max(1, min(n_s, _CHUNK_CELLS // max(n_p, 1), _INT32_LIMIT // max(block, 1)))
    row_offset = (np.arange(rows_per_chunk, dtype=np.int32) * block)[:, None]
    # Work in chunks of rows small enough to stay in cache: each pass below is then nearly free, and the
    # masks are applied by arithmetic (multiplying by 0/1), which is several times faster than masked stores.
    for start in range(0, n_s, rows_per_chunk):
        stop = min(start + rows_per_chunk, n_s)
        x = ratings[start:stop]
        unable_x = unable[start:stop]
        with np.errstate(invalid="ignore"):  # NaN and huge values cast to garbage; they are checked below
            whole = x.astype(np.int32)
        missing = np.isnan(x)
        skip = missing | unable_x
        bad = (whole != x) | (whole < smin) | (whole > smax)
        bad &= ~skip
        if bad.any():
            s, p = np.argwhere(bad)[0]
            raise ValueError(
                f"rating {float(x[s, p]):g} (statement {start + s}, panellist {p}) is not a whole number "
                f"on the scale {smin}-{smax}"
            )
        code = np.multiply(whole - smin, ~skip, dtype=np.int32)
        code += np.multiply(unable_x, k, dtype=np.int32)
        code += np.multiply(missing & ~unable_x, k + 1, dtype=np.int32)
        code += col_offset
        code += row_offset[: stop - start]
        m = stop - start
        table[start:stop] = np.bincount(code.ravel(), minlength=m * block).reshape(m, n_groups, width)
    group_size = np.bincount(groups, minlength=n_groups).astype(np.int64)
    return Tabulation(
        counts=np.ascontiguousarray(table[:, :, :k]),
        n_unable=np.ascontiguousarray(table[:, :, k]),
        group_size=group_size,
    )
