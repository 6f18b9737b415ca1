"""Descriptive statistics per statement from counts per scale point.

:class:`ScopeStats` is a struct of arrays, one entry per statement, for one scope (pooled, one group, or
group-balanced pooled). :func:`describe_counts` fills it from a ``(..., K)`` table of counts; the leading axes
may be ``(S,)`` or ``(S, G)``, so all groups are described in one vectorised call.

Definitions (K scale points valued ``scale_min..scale_max``; n ratings; u "unable" answers):

* quartiles and median: the settings' quantile method (:mod:`delphi.stats.quantiles`); ``IQR = Q3 - Q1``;
* ``mean``; ``sd`` with ``n - 1`` in the denominator (NaN for n < 2); ``cv = sd / mean`` (NaN if mean is 0);
* ``pct_agree``, ``pct_disagree``: 100 x ratings in the band / n (``unable_policy="exclude"``) or / (n + u)
  (``"include"``);
* ``pct_unable``: 100 x u / (n + u), whatever the policy;
* RAND/UCLA: P30 and P70 (type 6 under ``weibull``, type 7 otherwise: hinges define no other percentiles),
  IPR, asymmetry index, IPRAS, disagreement index ``IPR / IPRAS``, ``disagreement`` (IPR > IPRAS) and the
  classic rule ``disagreement_classic`` (at least k raters in each extreme band, k from
  :func:`delphi.stats.rand_ucla.classic_k`).

Degenerate input never warns: statistics that need more ratings than there are are NaN.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from delphi.stats.quantiles import quantile_from_counts, weighted_quantile_from_counts
from delphi.stats.rand_ucla import classic_k, ipras
from delphi.stats.settings import AnalysisSettings
from delphi.stats.verdicts import Verdict

__all__ = ["FLOAT_FIELDS", "INT_FIELDS", "ScopeStats", "describe_balanced", "describe_counts"]

Band = tuple[int, int]

#: Tolerance for comparisons of computed percentages and ranges with rule thresholds.
EPS = 1e-9

FLOAT_FIELDS: tuple[str, ...] = (
    "median",
    "q1",
    "q3",
    "iqr",
    "mean",
    "sd",
    "cv",
    "pct_agree",
    "pct_disagree",
    "pct_unable",
    "p30",
    "p70",
    "ipr",
    "asymmetry_index",
    "ipras",
    "disagreement_index",
)
INT_FIELDS: tuple[str, ...] = ("n", "n_unable", "n_agree", "n_disagree", "classic_k")
BOOL_FIELDS: tuple[str, ...] = ("disagreement", "disagreement_classic")


@dataclass(frozen=True, slots=True)
class ScopeStats:
    """Statistics of one scope (pooled, a group, or group-balanced), one entry per statement.

    Every array has shape (S,) except ``counts``, (S, K). Arrays are read-only.

    Attributes
    ----------
    n, n_unable : int64
        Ratings given and "unable to rate" answers. Panellists who did not answer count in neither.
    n_agree, n_disagree : int64
        Ratings in the agree and the disagree band.
    counts : int64, shape (S, K)
        Ratings on each scale point, ``scale_min`` first.
    median, q1, q3, iqr, mean, sd, cv : float64
        See the module docstring; NaN when undefined.
    pct_agree, pct_disagree, pct_unable : float64
        Percentages, 0-100.
    p30, p70, ipr, asymmetry_index, ipras, disagreement_index : float64
        RAND/UCLA quantities.
    disagreement, disagreement_classic : bool
        RAND/UCLA disagreement by IPR > IPRAS, and by the classic panel-size rule (false where undefined).
    classic_k : int64
        Raters needed in each extreme band for the classic rule; 0 outside panels of 8-16.
    verdict : int8
        Verdict of the consensus rule on this scope alone (:class:`delphi.stats.verdicts.Verdict` codes);
        all "insufficient" until a rule is applied.
    balanced : bool
        True for the group-balanced scope, whose shares are means of group shares and whose quantiles are
        weighted inverted-CDF quantiles (each group weighs the same).
    """

    n: NDArray[np.int64]
    n_unable: NDArray[np.int64]
    n_agree: NDArray[np.int64]
    n_disagree: NDArray[np.int64]
    counts: NDArray[np.int64]
    median: NDArray[np.float64]
    q1: NDArray[np.float64]
    q3: NDArray[np.float64]
    iqr: NDArray[np.float64]
    mean: NDArray[np.float64]
    sd: NDArray[np.float64]
    cv: NDArray[np.float64]
    pct_agree: NDArray[np.float64]
    pct_disagree: NDArray[np.float64]
    pct_unable: NDArray[np.float64]
    p30: NDArray[np.float64]
    p70: NDArray[np.float64]
    ipr: NDArray[np.float64]
    asymmetry_index: NDArray[np.float64]
    ipras: NDArray[np.float64]
    disagreement_index: NDArray[np.float64]
    disagreement: NDArray[np.bool_]
    classic_k: NDArray[np.int64]
    disagreement_classic: NDArray[np.bool_]
    verdict: NDArray[np.int8]
    balanced: bool = False

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if isinstance(value, np.ndarray):
                value.flags.writeable = False

    def __len__(self) -> int:
        return int(self.n.shape[0])

    def select(self, index: int | tuple[slice, int]) -> ScopeStats:
        """Return the scope obtained by indexing every array (used to split ``(S, G)`` into groups)."""
        values = {}
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            values[field.name] = (
                np.ascontiguousarray(value[index]) if isinstance(value, np.ndarray) else value
            )
        return ScopeStats(**values)

    def with_verdict(self, verdict: NDArray[np.int8]) -> ScopeStats:
        """Return a copy carrying ``verdict``."""
        return dataclasses.replace(self, verdict=np.asarray(verdict, dtype=np.int8))


def _divide(num: NDArray, den: NDArray) -> NDArray[np.float64]:
    """num / den as float64, NaN where den is 0 (no warning)."""
    num = np.asarray(num, dtype=np.float64)
    den = np.asarray(den, dtype=np.float64)
    out = np.full(np.broadcast_shapes(num.shape, den.shape), np.nan)
    return np.divide(num, den, out=out, where=den != 0)


def _band_slice(band: Band, settings: AnalysisSettings) -> slice:
    lo, hi = band
    if not settings.scale_min <= lo <= hi <= settings.scale_max:
        raise ValueError(
            f"band {lo}-{hi} does not lie on the scale {settings.scale_min}-{settings.scale_max}"
        )
    return slice(lo - settings.scale_min, hi - settings.scale_min + 1)


def _percentile_method(settings: AnalysisSettings) -> str:
    return "weibull" if settings.quantile_method == "weibull" else "linear"


def _rand_fields(
    p30: NDArray, p70: NDArray, n: NDArray, n_agree: NDArray, n_disagree: NDArray, settings: AnalysisSettings
) -> dict[str, NDArray]:
    centre = (settings.scale_min + settings.scale_max) / 2.0
    ipr, ai, ipras_ = ipras(p30, p70, centre)
    k = classic_k(n)
    return {
        "p30": p30,
        "p70": p70,
        "ipr": ipr,
        "asymmetry_index": ai,
        "ipras": ipras_,
        "disagreement_index": _divide(ipr, ipras_),
        "disagreement": ~np.isnan(ipr) & (ipr > ipras_ + EPS),
        "classic_k": k,
        "disagreement_classic": (k > 0) & (n_agree >= k) & (n_disagree >= k),
    }


def describe_counts(
    counts: NDArray[np.int64],
    n_unable: NDArray[np.int64],
    settings: AnalysisSettings,
    agree: Band = (7, 9),
    disagree: Band = (1, 3),
) -> ScopeStats:
    """Describe each row of a table of counts per scale point.

    Parameters
    ----------
    counts : ndarray of int, shape (..., K)
        Ratings per scale point, ``K = settings.n_points``.
    n_unable : ndarray of int, shape (...)
        "Unable to rate" answers.
    settings : AnalysisSettings
        Scale, quantile method and unable policy.
    agree, disagree : tuple of int
        Inclusive bands on the scale, e.g. ``(7, 9)`` and ``(1, 3)``.

    Returns
    -------
    ScopeStats
        With arrays of shape ``(...)`` (and ``counts`` ``(..., K)``); ``verdict`` all "insufficient".

    Raises
    ------
    ValueError
        If ``counts`` has the wrong number of scale points or a band is off the scale.
    """
    counts = np.asarray(counts, dtype=np.int64)
    n_unable = np.asarray(n_unable, dtype=np.int64)
    k = settings.n_points
    if counts.shape[-1:] != (k,) or n_unable.shape != counts.shape[:-1]:
        raise ValueError(f"counts must have shape (..., {k}) and n_unable shape (...); got {counts.shape}")
    agree_sl, disagree_sl = _band_slice(agree, settings), _band_slice(disagree, settings)
    values = np.arange(settings.scale_min, settings.scale_max + 1, dtype=np.float64)
    method = settings.quantile_method
    n = counts.sum(axis=-1)
    n_agree = counts[..., agree_sl].sum(axis=-1)
    n_disagree = counts[..., disagree_sl].sum(axis=-1)
    answered = n + n_unable
    den = answered if settings.unable_policy == "include" else n

    mean = _divide((counts * values).sum(axis=-1), n)
    centred = np.where(n[..., None] > 0, values - np.nan_to_num(mean)[..., None], 0.0)
    sd = np.sqrt(_divide((counts * centred**2).sum(axis=-1), n - 1))
    sd = np.where(n >= 2, sd, np.nan)
    median = quantile_from_counts(counts, 0.5, method, values)
    q1 = quantile_from_counts(counts, 0.25, method, values)
    q3 = quantile_from_counts(counts, 0.75, method, values)
    p30 = quantile_from_counts(counts, 0.3, _percentile_method(settings), values)
    p70 = quantile_from_counts(counts, 0.7, _percentile_method(settings), values)
    return ScopeStats(
        n=n,
        n_unable=n_unable,
        n_agree=n_agree,
        n_disagree=n_disagree,
        counts=counts,
        median=median,
        q1=q1,
        q3=q3,
        iqr=q3 - q1,
        mean=mean,
        sd=sd,
        cv=_divide(sd, mean),
        pct_agree=_divide(100 * n_agree, den),
        pct_disagree=_divide(100 * n_disagree, den),
        pct_unable=_divide(100 * n_unable, answered),
        verdict=np.full(n.shape, Verdict.INSUFFICIENT, dtype=np.int8),
        **_rand_fields(p30, p70, n, n_agree, n_disagree, settings),
    )


def _weighted_mean_sd(
    weights: NDArray[np.float64],
    values: NDArray[np.float64],
    n_g: NDArray[np.int64],
    g_rated: NDArray[np.int64],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Mean and SD, shape (S,), of the scale ``values`` (K,) under ``weights`` (S, K) in which each rating of
    group g weighs ``1 / (G' n_g)`` (``n_g`` (S, G) ratings per group, ``g_rated`` (S,) groups that rated).

    The SD has the reliability-weights correction ``1 / (1 - sum w_i^2)``; NaN where nobody rated or the
    correction vanishes (a single rating).
    """
    rated = n_g > 0
    mean = (weights * values).sum(axis=-1)
    mean = np.where(g_rated > 0, mean, np.nan)
    dev2 = (weights * (values - np.nan_to_num(mean)[:, None]) ** 2).sum(axis=-1)
    sum_w2 = _divide(np.ones_like(n_g, dtype=np.float64), n_g * (g_rated[:, None] ** 2))
    sum_w2 = np.where(rated, sum_w2, 0.0).sum(axis=1)
    corr = 1.0 - sum_w2
    sd = np.sqrt(np.where(corr > EPS, _divide(dev2, np.where(corr > EPS, corr, 1.0)), np.nan))
    return mean, np.where(g_rated > 0, sd, np.nan)


def describe_balanced(
    counts: NDArray[np.int64],
    n_unable: NDArray[np.int64],
    settings: AnalysisSettings,
    agree: Band = (7, 9),
    disagree: Band = (1, 3),
) -> ScopeStats:
    """Group-balanced pooled statistics: every group that answered weighs the same.

    Parameters
    ----------
    counts : ndarray of int, shape (S, G, K)
        Ratings per statement, group and scale point.
    n_unable : ndarray of int, shape (S, G)
        "Unable to rate" answers per statement and group.
    settings : AnalysisSettings
    agree, disagree : tuple of int
        Inclusive bands on the scale.

    Returns
    -------
    ScopeStats
        Shape (S,), ``balanced=True``. Per statement, with G' the groups that gave at least one rating:

        * ``pct_agree``, ``pct_disagree``, ``pct_unable``: unweighted means of the group percentages over
          the groups where that percentage is defined;
        * median, quartiles, P30, P70: weighted inverted-CDF quantiles (numpy's only weighted method), each
          rating weighing ``1 / (G' n_g)``; this ignores ``quantile_method``;
        * ``mean``: mean of the group means; ``sd``: weighted SD with the reliability-weights correction
          ``1 / (1 - sum w_i^2)``, which is the ordinary SD when groups are the same size;
        * ``n``, ``n_unable``, ``counts``, ``n_agree``, ``n_disagree`` and the classic rule: raw pooled.
    """
    counts = np.asarray(counts, dtype=np.int64)
    n_unable = np.asarray(n_unable, dtype=np.int64)
    if counts.ndim != 3:
        raise ValueError(f"counts must have shape (S, G, K), not {counts.shape}")
    groups = describe_counts(counts, n_unable, settings, agree, disagree)
    values = np.arange(settings.scale_min, settings.scale_max + 1, dtype=np.float64)
    n_g = counts.sum(axis=-1)  # (S, G)
    rated = n_g > 0
    g_rated = rated.sum(axis=1)
    weights = _divide(counts, (n_g * g_rated[:, None])[..., None])
    weights = np.where(rated[..., None], weights, 0.0).sum(axis=1)  # (S, K), sums to 1 where anyone rated

    def mean_over_groups(x: NDArray[np.float64]) -> NDArray[np.float64]:
        defined = ~np.isnan(x)
        return _divide(np.where(defined, x, 0.0).sum(axis=1), defined.sum(axis=1))

    mean, sd = _weighted_mean_sd(weights, values, n_g, g_rated)
    median, q1, q3, p30, p70 = (
        weighted_quantile_from_counts(weights, q, values) for q in (0.5, 0.25, 0.75, 0.3, 0.7)
    )
    pooled_counts = counts.sum(axis=1)
    n = pooled_counts.sum(axis=-1)
    n_agree = groups.n_agree.sum(axis=1)
    n_disagree = groups.n_disagree.sum(axis=1)
    rand = _rand_fields(p30, p70, n, n_agree, n_disagree, settings)
    return ScopeStats(
        n=n,
        n_unable=n_unable.sum(axis=1),
        n_agree=n_agree,
        n_disagree=n_disagree,
        counts=pooled_counts,
        median=median,
        q1=q1,
        q3=q3,
        iqr=q3 - q1,
        mean=mean,
        sd=sd,
        cv=_divide(sd, mean),
        pct_agree=mean_over_groups(groups.pct_agree),
        pct_disagree=mean_over_groups(groups.pct_disagree),
        pct_unable=mean_over_groups(groups.pct_unable),
        verdict=np.full(n.shape, Verdict.INSUFFICIENT, dtype=np.int8),
        balanced=True,
        **rand,
    )
