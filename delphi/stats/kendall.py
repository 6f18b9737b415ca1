"""Kendall's coefficient of concordance W, with the correction for ties, for ranking questions.

References
----------
.. [1] Kendall, M. G. and Babington Smith, B. (1939). The problem of m rankings. *Ann. Math. Statist.*
       10(3), 275-287.
.. [2] Schmidt, R. C. (1997). Managing Delphi surveys using nonparametric statistical techniques.
       *Decision Sciences* 28(3), 763-774 (W as the Delphi stopping criterion).
.. [3] Siegel, S. and Castellan, N. J. (1988). *Nonparametric Statistics for the Behavioral Sciences*,
       2nd ed., section 9.4 (tie correction, chi-squared approximation).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy import special

from delphi.stats.ranks import rank_rows

__all__ = ["KendallW", "kendalls_w"]


@dataclass(frozen=True, slots=True)
class KendallW:
    """Result of :func:`kendalls_w`.

    Attributes
    ----------
    w : float
        Kendall's W in [0, 1], tie-corrected; NaN when undefined.
    chi2 : float
        Friedman's chi-squared, ``m (n - 1) W``.
    df : int
        ``n - 1``.
    pvalue : float
        Upper tail of chi-squared with ``df`` degrees of freedom (large-sample approximation).
    n_raters, n_items : int
        Raters used (complete rankings only) and items ranked.
    """

    w: float
    chi2: float
    df: int
    pvalue: float
    n_raters: int
    n_items: int


def kendalls_w(ranks: ArrayLike) -> KendallW:
    """Kendall's W for m raters ranking the same n items.

    Parameters
    ----------
    ranks : array_like of float, shape (m, n)
        One row per rater: ranks (1 = first) or any scores, which are re-ranked within the row with ties
        given mid-ranks. Raters with a missing value (NaN) are left out.

    Returns
    -------
    KendallW
        NaN for ``w``, ``chi2`` and ``pvalue`` with fewer than 2 complete raters or 2 items, or when every
        rater ties every item.

    Notes
    -----
    ``W = 12 S / (m^2 (n^3 - n) - m sum T)``, where ``S`` is the sum of squared deviations of the item rank
    sums from their mean and ``T = sum(t^3 - t)`` over each rater's groups of t tied items.

    Examples
    --------
    >>> r = kendalls_w([[1, 2, 3, 4, 5], [2, 1, 3, 5, 4], [1, 3, 2, 4, 5], [1, 2, 4, 3, 5]])
    >>> round(r.w, 4), round(r.chi2, 4), r.df
    (0.8125, 13.0, 4)
    """
    x = np.asarray(ranks, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"ranks must be a 2-D (raters, items) matrix, not {x.ndim}-D")
    x = x[~np.isnan(x).any(axis=1)]
    m, n = x.shape
    df = max(n - 1, 0)
    if m < 2 or n < 2:
        return KendallW(np.nan, np.nan, df, np.nan, m, n)
    r, tie_term = rank_rows(x)
    sums = r.sum(axis=0)
    s = float(((sums - sums.mean()) ** 2).sum())
    denominator = m**2 * (n**3 - n) - m * float(tie_term.sum())
    if denominator <= 0:
        return KendallW(np.nan, np.nan, df, np.nan, m, n)
    w = 12.0 * s / denominator
    chi2 = m * (n - 1) * w
    return KendallW(float(w), float(chi2), df, float(special.chdtrc(df, chi2)), m, n)
