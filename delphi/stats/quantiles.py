"""Quantiles vectorised over statements: type 7, type 6 and Tukey's hinges.

Two entry points share one definition of *which order statistics, with which weight*:

* :func:`quantile_sorted` reads order statistics from a matrix whose rows are sorted with NaN at the end
  (what ``numpy.sort(x, axis=1)`` gives); it works for any real-valued data.
* :func:`quantile_from_counts` reads them from counts per scale point; ratings on a Likert scale are whole
  numbers, so a round is fully described by a ``(statements, points)`` table of counts and no sort is needed.

Both agree with ``numpy.quantile(x, p, method="linear" | "weibull")`` to the last bit on integer data (the
interpolation uses numpy's own ``lerp`` formula). :func:`weighted_quantile_from_counts` is the weighted
inverted-CDF quantile, numpy's only weighted method, used for the group-balanced scope.

References
----------
.. [1] Hyndman, R. J. and Fan, Y. (1996). Sample quantiles in statistical packages. *The American
       Statistician* 50(4), 361-365. Type 7 (``linear``) and type 6 (``weibull``).
.. [2] Tukey, J. W. (1977). *Exploratory Data Analysis*. Addison-Wesley. Hinges, as in R's ``fivenum``:
       the medians of the lower and upper halves, each half including the median when n is odd.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "order_statistic_positions",
    "quantile_from_counts",
    "quantile_sorted",
    "weighted_quantile_from_counts",
]

_HINGE_P = (0.25, 0.5, 0.75)


def _check_p(p: float, method: str) -> float:
    p = float(p)
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"quantile probability must lie in [0, 1], not {p}")
    if method == "hinges" and p not in _HINGE_P:
        raise ValueError(
            f"Tukey's hinges define only the quartiles and the median (p in {_HINGE_P}), not {p}"
        )
    if method not in ("linear", "weibull", "hinges"):
        raise ValueError(f"unknown quantile method {method!r}: use linear, weibull or hinges")
    return p


def order_statistic_positions(
    n: ArrayLike, p: float, method: str = "linear"
) -> tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.float64]]:
    """Which two order statistics a quantile interpolates between, and with what weight.

    Parameters
    ----------
    n : array_like of int, shape (S,)
        Number of observations per row (statement). Rows with ``n == 0`` get positions 0 (callers mask them).
    p : float
        Probability in [0, 1]. With ``method="hinges"`` only 0.25, 0.5 and 0.75 are defined.
    method : {"linear", "weibull", "hinges"}
        Hyndman-Fan type 7, type 6, or Tukey's hinges.

    Returns
    -------
    lo, hi : ndarray of intp, shape (S,)
        0-based ranks of the lower and upper order statistic, clipped to ``[0, n - 1]``.
    gamma : ndarray of float64, shape (S,)
        Interpolation weight: the quantile is ``lerp(x[lo], x[hi], gamma)``.

    Notes
    -----
    Type 7: virtual index ``h = (n - 1) p``. Type 6: ``h = (n + 1) p - 1`` (0-based), clipped to the data.
    Hinges: with ``m = floor((n + 3) / 2) / 2`` (1-based), the lower hinge averages ranks ``floor(m)`` and
    ``ceil(m)``, the upper hinge ranks ``n + 1 - m``; the median is the usual middle value.
    """
    p = _check_p(p, method)
    n = np.asarray(n, dtype=np.int64)
    last = np.maximum(n - 1, 0)
    if method == "hinges":
        if p == 0.5:
            pos = (n + 1) / 2.0
        else:
            m = np.floor((n + 3) / 2.0) / 2.0
            pos = m if p == 0.25 else (n + 1) - m
        lo = np.floor(pos).astype(np.intp) - 1
        hi = np.ceil(pos).astype(np.intp) - 1
        lo = np.clip(lo, 0, last)
        hi = np.clip(hi, 0, last)
        gamma = np.where(lo == hi, 0.0, 0.5)
        return lo, hi, gamma
    if method == "linear":
        h = (n - 1) * p
    else:  # weibull, written as numpy writes it so the floats agree
        h = n * p + p - 1
    h = np.asarray(h, dtype=np.float64)
    lo_f = np.floor(h)
    gamma = h - lo_f
    lo = lo_f.astype(np.intp)
    hi = lo + 1
    below = h < 0
    above = h >= last
    lo = np.where(below, 0, np.where(above, last, lo))
    hi = np.where(below, 0, np.where(above, last, hi))
    return lo.astype(np.intp), hi.astype(np.intp), gamma


def _lerp(a: NDArray[np.float64], b: NDArray[np.float64], t: NDArray[np.float64]) -> NDArray[np.float64]:
    """numpy's quantile interpolation, reproduced so results match bit for bit."""
    diff = b - a
    out = a + diff * t
    return np.where(t >= 0.5, b - diff * (1 - t), out)


def _quantile(
    n: NDArray[np.int64],
    p: float,
    method: str,
    take: Callable[[NDArray[np.intp]], NDArray[np.float64]],
) -> NDArray[np.float64]:
    lo, hi, gamma = order_statistic_positions(n, p, method)
    result = _lerp(take(lo), take(hi), gamma)
    return np.where(n > 0, result, np.nan)


def quantile_sorted(
    sorted_x: ArrayLike, p: float, method: str = "linear", n: ArrayLike | None = None
) -> NDArray[np.float64]:
    """Quantile of each row of a row-sorted matrix with NaN at the end of each row.

    Parameters
    ----------
    sorted_x : array_like of float, shape (S, P)
        Each row sorted ascending with missing values (NaN) last, as ``numpy.sort(x, axis=1)`` returns.
    p : float
        Probability in [0, 1] (0.25, 0.5 or 0.75 for ``"hinges"``).
    method : {"linear", "weibull", "hinges"}
        See :func:`order_statistic_positions`.
    n : array_like of int, shape (S,), optional
        Number of non-NaN values per row; counted if not given.

    Returns
    -------
    ndarray of float64, shape (S,)
        The quantile per row; NaN for rows without values.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.sort(np.array([[1.0, 2, 3, 4, 5, 6, 7, 8], [2, 1, np.nan, 3, 4, 5, np.nan, 6]]), axis=1)
    >>> quantile_sorted(x, 0.25).tolist(), quantile_sorted(x, 0.25, "hinges").tolist()
    ([2.75, 2.25], [2.5, 2.0])
    """
    x = np.asarray(sorted_x, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"sorted_x must be 2-D (statements, values), not {x.ndim}-D")
    counts = (~np.isnan(x)).sum(axis=1) if n is None else np.asarray(n, dtype=np.int64)
    if counts.shape != (x.shape[0],):
        raise ValueError(f"n must have shape ({x.shape[0]},), not {counts.shape}")
    if x.shape[1] == 0:
        return np.full(x.shape[0], np.nan)

    def take(idx: NDArray[np.intp]) -> NDArray[np.float64]:
        return np.take_along_axis(x, idx[:, None], axis=1)[:, 0]

    return _quantile(counts, p, method, take)


def quantile_from_counts(
    counts: ArrayLike, p: float, method: str = "linear", values: ArrayLike | None = None
) -> NDArray[np.float64]:
    """Quantile of each row of a table of counts per scale point.

    Parameters
    ----------
    counts : array_like of int, shape (..., K)
        How many ratings fell on each of the K scale points, per statement (and group).
    p : float
        Probability in [0, 1] (0.25, 0.5 or 0.75 for ``"hinges"``).
    method : {"linear", "weibull", "hinges"}
        See :func:`order_statistic_positions`.
    values : array_like of float, shape (K,), optional
        The value of each scale point, ascending; default ``0, 1, ..., K - 1``.

    Returns
    -------
    ndarray of float64, shape (...)
        The quantile, identical to the quantile of the expanded ratings; NaN where a row has no ratings.

    Examples
    --------
    >>> quantile_from_counts([1, 1, 1, 1, 1, 1, 1, 1, 0], 0.75, values=range(1, 10)).item()
    6.25
    """
    c = np.asarray(counts)
    if c.ndim == 0:
        raise ValueError("counts must have a last axis of scale points")
    k = c.shape[-1]
    vals = np.arange(k, dtype=np.float64) if values is None else np.asarray(values, dtype=np.float64)
    if vals.shape != (k,):
        raise ValueError(f"values must have shape ({k},), not {vals.shape}")
    lead = c.shape[:-1]
    cum = np.cumsum(c.reshape(-1, k), axis=1)
    n = cum[:, -1] if k else np.zeros(cum.shape[0], dtype=np.int64)

    def take(idx: NDArray[np.intp]) -> NDArray[np.float64]:
        # the idx-th order statistic is the first scale point whose cumulative count exceeds idx
        point = (cum <= idx[:, None]).sum(axis=1)
        return vals[np.minimum(point, k - 1)]

    if k == 0:
        return np.full(lead, np.nan)
    return _quantile(n, p, method, take).reshape(lead)


def weighted_quantile_from_counts(
    weights: ArrayLike, p: float, values: ArrayLike | None = None
) -> NDArray[np.float64]:
    """Weighted inverted-CDF quantile (Hyndman-Fan type 1) of each row of weights per scale point.

    The smallest scale value whose cumulative share of the weight reaches ``p``. This is
    ``numpy.quantile(x, p, weights=w, method="inverted_cdf")``, the only weighted quantile numpy defines;
    it is used for the group-balanced scope, where each rating weighs ``1 / (groups x group size)``.

    Parameters
    ----------
    weights : array_like of float, shape (..., K)
        Non-negative total weight on each scale point.
    p : float
        Probability in [0, 1].
    values : array_like of float, shape (K,), optional
        Value of each scale point, ascending; default ``0, 1, ..., K - 1``.

    Returns
    -------
    ndarray of float64, shape (...)
        NaN where a row has no weight. Cumulative shares within 1e-13 of ``p`` count as reaching it, so
        rounding in the weights does not move the quantile across a scale point.
    """
    w = np.asarray(weights, dtype=np.float64)
    p = _check_p(p, "linear")
    k = w.shape[-1]
    vals = np.arange(k, dtype=np.float64) if values is None else np.asarray(values, dtype=np.float64)
    cum = np.cumsum(w, axis=-1)
    total = cum[..., -1:]
    share = np.divide(cum, total, out=np.zeros_like(cum), where=total > 0)
    # numpy ignores leading zero-weight points: a point is eligible only once some weight has accumulated
    reached = (share >= p - 1e-13) & (cum > 0)
    point = np.argmax(reached, axis=-1)
    return np.where(total[..., 0] > 0, vals[point], np.nan)
