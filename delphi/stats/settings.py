"""Analysis settings: the rating scale, the quantile method and the "unable to rate" policy.

These are choices a researcher makes once per study and records in every export, so they live in one
frozen, serialisable object rather than as keyword arguments scattered over the statistics functions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["QUANTILE_METHODS", "UNABLE_POLICIES", "AnalysisSettings"]

#: Quantile methods: ``linear`` is Hyndman & Fan type 7 (numpy's default, R's default, Excel QUARTILE.INC),
#: ``weibull`` is type 6 (SPSS FREQUENCIES, Minitab), ``hinges`` is Tukey's hinges (R's ``fivenum``).
QUANTILE_METHODS: tuple[str, ...] = ("linear", "weibull", "hinges")

#: ``exclude``: "unable to rate" answers are left out of the denominator of the agreement shares (default);
#: ``include``: they count in the denominator (as neither agreeing nor disagreeing).
UNABLE_POLICIES: tuple[str, ...] = ("exclude", "include")

#: Largest number of points a scale may have. Ratings are tabulated per scale point, so this bounds memory.
MAX_SCALE_POINTS = 101

#: Largest magnitude of a scale end (ratings are tabulated as 32-bit integers).
MAX_SCALE_VALUE = 1_000_000


@dataclass(frozen=True, slots=True)
class AnalysisSettings:
    """How a round's ratings are summarised.

    Parameters
    ----------
    scale_min, scale_max : int
        The lowest and highest point of the rating scale (inclusive). Ratings are whole numbers in
        ``scale_min..scale_max``. Default 1-9, the GRADE/COMET and RAND/UCLA scale.
    quantile_method : {"linear", "weibull", "hinges"}
        How quartiles are computed; see :mod:`delphi.stats.quantiles`. Default ``"linear"`` (type 7).
    unable_policy : {"exclude", "include"}
        Whether "unable to rate" answers count in the denominator of ``pct_agree`` and ``pct_disagree``.

    Raises
    ------
    ValueError
        If the scale has fewer than 2 or more than 101 points or ends beyond ±1,000,000, or a method or
        policy is unknown.
    """

    scale_min: int = 1
    scale_max: int = 9
    quantile_method: str = "linear"
    unable_policy: str = "exclude"

    def __post_init__(self) -> None:
        for name in ("scale_min", "scale_max"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"{name} must be a whole number, not {value!r}")
            if abs(value) > MAX_SCALE_VALUE:
                raise ValueError(f"{name} must lie within ±{MAX_SCALE_VALUE:,}, not {value}")
        if self.scale_max <= self.scale_min:
            raise ValueError(
                f"the scale must have at least two points: got {self.scale_min}-{self.scale_max}"
            )
        if self.n_points > MAX_SCALE_POINTS:
            raise ValueError(f"the scale may have at most {MAX_SCALE_POINTS} points, not {self.n_points}")
        if self.quantile_method not in QUANTILE_METHODS:
            raise ValueError(
                f"unknown quantile method {self.quantile_method!r}: use one of {', '.join(QUANTILE_METHODS)}"
            )
        if self.unable_policy not in UNABLE_POLICIES:
            raise ValueError(
                f"unknown unable policy {self.unable_policy!r}: use one of {', '.join(UNABLE_POLICIES)}"
            )

    @property
    def n_points(self) -> int:
        """Number of points on the scale, ``scale_max - scale_min + 1``."""
        return self.scale_max - self.scale_min + 1

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-able dict; :meth:`from_dict` reads it back."""
        return {
            "scale_min": self.scale_min,
            "scale_max": self.scale_max,
            "quantile_method": self.quantile_method,
            "unable_policy": self.unable_policy,
        }

    @classmethod
    def from_dict(cls, data: Any) -> AnalysisSettings:
        """Build settings from a dict written by :meth:`to_dict`.

        Raises
        ------
        ValueError
            If ``data`` is not a dict, has unknown keys or invalid values.
        """
        if not isinstance(data, dict):
            raise ValueError(f"analysis settings must be a mapping, not {type(data).__name__}")
        unknown = set(data) - {"scale_min", "scale_max", "quantile_method", "unable_policy"}
        if unknown:
            raise ValueError(f"unknown analysis setting(s): {', '.join(sorted(map(str, unknown)))}")
        return cls(**data)
