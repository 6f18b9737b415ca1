"""RAND/UCLA appropriateness method: IPR, IPRAS, disagreement index and the classic panel-size rule.

References
----------
.. [1] Fitch, K., Bernstein, S. J., Aguilar, M. D., et al. (2001). *The RAND/UCLA Appropriateness Method
       User's Manual*. RAND, MR-1269-DG-XII/RE, chapter 8 (IPRAS, table 4 for the classic rule).
.. [2] Basger, B. J., Chen, T. F. and Moles, R. J. (2012). Validation of prescribing appropriateness criteria
       for older Australians using the RAND/UCLA appropriateness method. *BMJ Open* 2, e001431.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["IPRAS_BASE", "IPRAS_SLOPE", "classic_k", "ipras"]

#: IPRAS = IPRAS_BASE + IPRAS_SLOPE x asymmetry index (manual, chapter 8).
IPRAS_BASE = 2.35
IPRAS_SLOPE = 1.5


def ipras(
    p30: ArrayLike, p70: ArrayLike, centre: float = 5.0
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Interpercentile range, asymmetry index and IPRAS.

    Parameters
    ----------
    p30, p70 : array_like of float, shape (S,)
        30th and 70th percentiles of the ratings.
    centre : float
        Centre of the scale, 5 on the 1-9 scale the method was calibrated on.

    Returns
    -------
    ipr, ai, ipras : ndarray of float64, shape (S,)
        ``IPR = P70 - P30``; ``AI = |centre - (P30 + P70) / 2|``; ``IPRAS = 2.35 + 1.5 AI``. NaN where the
        percentiles are NaN. Disagreement is ``IPR > IPRAS``; the disagreement index is ``IPR / IPRAS``.

    Examples
    --------
    >>> [round(float(v), 2) for v in ipras(7.0, 8.0)]
    [1.0, 2.5, 6.1]
    """
    lo = np.asarray(p30, dtype=np.float64)
    hi = np.asarray(p70, dtype=np.float64)
    ai = np.abs(centre - (lo + hi) / 2.0)
    return hi - lo, ai, IPRAS_BASE + IPRAS_SLOPE * ai


def classic_k(n: ArrayLike) -> NDArray[np.int64]:
    """Raters needed in *each* extreme third for disagreement under the classic rule.

    Parameters
    ----------
    n : array_like of int, shape (S,)
        Panel size (ratings given).

    Returns
    -------
    ndarray of int64, shape (S,)
        3 for 8-10 raters, 4 for 11-13, 5 for 14-16 (manual, table 4); 0 where the rule is not defined
        (fewer than 8 or more than 16 raters).

    Examples
    --------
    >>> classic_k([7, 8, 9, 10, 11, 13, 14, 16, 17]).tolist()
    [0, 3, 3, 3, 4, 4, 5, 5, 0]
    """
    n = np.asarray(n, dtype=np.int64)
    return np.where((n >= 8) & (n <= 16), (n + 1) // 3, 0)
