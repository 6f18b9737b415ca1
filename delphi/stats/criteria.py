"""Consensus criteria as data: what must hold on one scope's statistics for "in" (and, mirrored, "out").

A criterion is a frozen dataclass with ``classify(stats, bands)`` (verdict codes, shape (S,), vectorised over
statements), ``describe(bands)`` (a plain-English clause) and ``to_dict()``; :func:`criterion_from_dict` reads
that dict back. The bands come from the :class:`delphi.stats.rules.ConsensusRule` that holds the criterion
(anything with ``agree`` and ``disagree`` bands, :class:`Bands`), so criteria do not depend on the rule.

Comparisons of percentages and ranges with thresholds allow 1e-9 for floating-point rounding, so 14 of 20
(70%) meets "at least 70%" and 3 of 20 (15%) fails "fewer than 15%", exactly as the COMET rule reads.

References
----------
.. [1] Fitch, K. et al. (2001). *The RAND/UCLA Appropriateness Method User's Manual*. RAND.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

import numpy as np
from numpy.typing import NDArray

from delphi.stats.describe import EPS, ScopeStats
from delphi.stats.verdicts import Verdict

__all__ = [
    "AllOf",
    "AnyOf",
    "Bands",
    "Criterion",
    "MedianIQR",
    "PercentAgreement",
    "RandUcla",
    "band_text",
    "combine",
    "criterion_from_dict",
    "is_criterion",
    "uses_rand",
]

IN, OUT, NONE, INSUFFICIENT = (
    np.int8(v) for v in (Verdict.IN, Verdict.OUT, Verdict.NONE, Verdict.INSUFFICIENT)
)


class Bands(Protocol):
    """What a criterion reads of its rule: the inclusive ``agree`` and ``disagree`` bands, e.g. (7, 9), (1, 3)."""

    @property
    def agree(self) -> tuple[int, int]: ...

    @property
    def disagree(self) -> tuple[int, int]: ...


def band_text(band: tuple[int, int]) -> str:
    """``(7, 9)`` -> ``"7–9"`` (en dash); a one-point band is the point alone."""
    lo, hi = band
    return str(lo) if lo == hi else f"{lo}–{hi}"


def _num(x: float) -> str:
    return f"{x:g}"


def _check_number(name: str, value: Any, lo: float, hi: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not lo <= value <= hi:
        raise ValueError(f"{name} must be a number from {_num(lo)} to {_num(hi)}, not {value!r}")


def _check_bool(name: str, value: Any) -> None:
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be true or false, not {value!r}")


def _verdicts(in_: NDArray[np.bool_], out: NDArray[np.bool_]) -> NDArray[np.int8]:
    """IN where only ``in_`` holds, OUT where only ``out`` holds, NONE otherwise."""
    return np.where(in_ & ~out, IN, np.where(out & ~in_, OUT, NONE)).astype(np.int8)


def _in_band(x: NDArray[np.float64], band: tuple[int, int]) -> NDArray[np.bool_]:
    return (x >= band[0] - EPS) & (x <= band[1] + EPS)


@dataclass(frozen=True, slots=True)
class PercentAgreement:
    """Percent agreement: a share in the agree band, optionally capped in the disagree band.

    In: ``pct_agree >= threshold`` (``> threshold`` if not ``inclusive``) and, when ``max_opposite`` is set,
    ``pct_disagree < max_opposite`` (``<=`` if ``max_opposite_inclusive``). Out: the same with the bands
    swapped. COMET/GRADE is ``PercentAgreement(70, True, 15, False)`` on bands 7-9 and 1-3.

    Parameters
    ----------
    threshold : float
        Percentage (0-100) that must rate in the band.
    inclusive : bool
        Whether exactly ``threshold`` is enough (COMET: yes).
    max_opposite : float or None
        Percentage (0-100) of the other band that must not be reached; None for no cap.
    max_opposite_inclusive : bool
        Whether exactly ``max_opposite`` is still allowed (COMET: no, 15% is too many).
    """

    kind: ClassVar[str] = "percent"
    threshold: float = 70.0
    inclusive: bool = True
    max_opposite: float | None = 15.0
    max_opposite_inclusive: bool = False

    def __post_init__(self) -> None:
        _check_number("threshold", self.threshold, 0, 100)
        _check_bool("inclusive", self.inclusive)
        if self.max_opposite is not None:
            _check_number("max_opposite", self.max_opposite, 0, 100)
        _check_bool("max_opposite_inclusive", self.max_opposite_inclusive)

    def _meets(self, share: NDArray[np.float64], opposite: NDArray[np.float64]) -> NDArray[np.bool_]:
        ok = share >= self.threshold - EPS if self.inclusive else share > self.threshold + EPS
        if self.max_opposite is not None:
            cap = self.max_opposite
            ok &= opposite <= cap + EPS if self.max_opposite_inclusive else opposite < cap - EPS
        return ok

    def classify(self, stats: ScopeStats, bands: Bands) -> NDArray[np.int8]:
        """Verdict codes, shape (S,), before the minimum-ratings check."""
        return _verdicts(
            self._meets(stats.pct_agree, stats.pct_disagree), self._meets(stats.pct_disagree, stats.pct_agree)
        )

    def describe(self, bands: Bands) -> str:
        head = "At least" if self.inclusive else "More than"
        text = f"{head} {_num(self.threshold)}% rate {band_text(bands.agree)}"
        if self.max_opposite is not None:
            cap = "at most" if self.max_opposite_inclusive else "fewer than"
            text += f" and {cap} {_num(self.max_opposite)}% rate {band_text(bands.disagree)}"
        return text

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, **{f.name: getattr(self, f.name) for f in dataclasses.fields(self)}}


@dataclass(frozen=True, slots=True)
class MedianIQR:
    """Median in a band and a narrow interquartile range.

    In: median in the agree band and ``IQR <= max_iqr``; out: median in the disagree band and
    ``IQR <= max_iqr``. Common choices: ``max_iqr=2`` on a 9-point scale, 1 on 5- to 7-point scales.
    """

    kind: ClassVar[str] = "median_iqr"
    max_iqr: float = 2.0

    def __post_init__(self) -> None:
        _check_number("max_iqr", self.max_iqr, 0, 1000)

    def classify(self, stats: ScopeStats, bands: Bands) -> NDArray[np.int8]:
        narrow = stats.iqr <= self.max_iqr + EPS
        return _verdicts(
            _in_band(stats.median, bands.agree) & narrow, _in_band(stats.median, bands.disagree) & narrow
        )

    def describe(self, bands: Bands) -> str:
        return f"Median rating of {band_text(bands.agree)} and an interquartile range of at most {_num(self.max_iqr)}"

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "max_iqr": self.max_iqr}


@dataclass(frozen=True, slots=True)
class RandUcla:
    """RAND/UCLA classification: appropriate (in), inappropriate (out) or uncertain (none).

    In: median in the agree band without disagreement; out: median in the disagree band without
    disagreement; otherwise none. ``disagreement="ipras"`` uses IPR > IPRAS (any panel size);
    ``"classic"`` uses the panel-size rule, defined for 8-16 raters only (otherwise "insufficient").
    """

    kind: ClassVar[str] = "rand_ucla"
    disagreement: str = "ipras"

    def __post_init__(self) -> None:
        if self.disagreement not in ("ipras", "classic"):
            raise ValueError(f"disagreement must be 'ipras' or 'classic', not {self.disagreement!r}")

    def classify(self, stats: ScopeStats, bands: Bands) -> NDArray[np.int8]:
        if self.disagreement == "ipras":
            agreed = ~stats.disagreement
        else:
            agreed = ~stats.disagreement_classic
        verdict = _verdicts(
            _in_band(stats.median, bands.agree) & agreed, _in_band(stats.median, bands.disagree) & agreed
        )
        if self.disagreement == "classic":
            verdict = np.where(stats.classic_k > 0, verdict, INSUFFICIENT).astype(np.int8)
        return verdict

    def describe(self, bands: Bands) -> str:
        how = (
            "interpercentile range no wider than the IPRAS"
            if self.disagreement == "ipras"
            else "classic rule for panels of 8–16"
        )
        return f"Median rating of {band_text(bands.agree)} without disagreement (RAND/UCLA, {how})"

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "disagreement": self.disagreement}


def combine(codes: list[NDArray[np.int8]], every: bool) -> NDArray[np.int8]:
    """Verdict codes, shape (S,), of several verdicts of shape (S,) each: insufficient if any is; otherwise in if
    all (``every``) or some-and-none-out (not ``every``) are in, out likewise, else none."""
    stack = np.stack(codes)
    insufficient = (stack == INSUFFICIENT).any(axis=0)
    if every:
        result = _verdicts((stack == IN).all(axis=0), (stack == OUT).all(axis=0))
    else:
        result = _verdicts((stack == IN).any(axis=0), (stack == OUT).any(axis=0))
    return np.where(insufficient, INSUFFICIENT, result).astype(np.int8)


@dataclass(frozen=True, slots=True)
class _Combination:
    """Several criteria read as one (:class:`AllOf`, :class:`AnyOf`): their verdicts combined by :func:`combine`
    with ``every``, their descriptions joined by ``joiner``.

    "Insufficient" from any criterion makes the combination insufficient.
    """

    kind: ClassVar[str]
    every: ClassVar[bool]
    joiner: ClassVar[str]
    criteria: tuple[Criterion, ...] = ()

    def __post_init__(self) -> None:
        _check_criteria(self.criteria)

    def classify(self, stats: ScopeStats, bands: Bands) -> NDArray[np.int8]:
        return combine([c.classify(stats, bands) for c in self.criteria], every=self.every)

    def describe(self, bands: Bands) -> str:
        return _join(self.criteria, bands, self.joiner)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "criteria": [c.to_dict() for c in self.criteria]}


@dataclass(frozen=True, slots=True)
class AllOf(_Combination):
    """Every criterion must agree: in if all say in, out if all say out, else none."""

    kind: ClassVar[str] = "all_of"
    every: ClassVar[bool] = True
    joiner: ClassVar[str] = " and "


@dataclass(frozen=True, slots=True)
class AnyOf(_Combination):
    """Any criterion suffices: in if some say in and none out, out if some say out and none in, else none."""

    kind: ClassVar[str] = "any_of"
    every: ClassVar[bool] = False
    joiner: ClassVar[str] = " or "


Criterion = PercentAgreement | MedianIQR | RandUcla | AllOf | AnyOf
_KINDS: dict[str, type] = {c.kind: c for c in (PercentAgreement, MedianIQR, RandUcla, AllOf, AnyOf)}


def _check_criteria(criteria: Any) -> None:
    if not isinstance(criteria, tuple) or not criteria:
        raise ValueError("a combination needs a non-empty tuple of criteria")
    for c in criteria:
        if not is_criterion(c):
            raise ValueError(f"not a criterion: {c!r}")


def _join(criteria: tuple[Criterion, ...], bands: Bands, sep: str) -> str:
    parts = []
    for i, criterion in enumerate(criteria):
        text = criterion.describe(bands)
        if i:
            text = text[0].lower() + text[1:]
        if isinstance(criterion, _Combination):
            text = f"({text})"
        parts.append(text)
    return sep.join(parts)


def is_criterion(value: Any) -> bool:
    """Whether ``value`` is one of the criterion types of :data:`Criterion`."""
    return isinstance(value, tuple(_KINDS.values()))


def criterion_from_dict(data: Any, where: str = "criterion") -> Criterion:
    """The criterion of a ``to_dict()`` mapping; ValueError naming ``where`` and the field at fault."""
    if not isinstance(data, dict):
        raise ValueError(f"{where} must be a mapping, not {type(data).__name__}")
    kind = data.get("kind")
    if kind not in _KINDS:
        raise ValueError(f"{where}: unknown kind {kind!r}; use one of {', '.join(_KINDS)}")
    fields = {k: v for k, v in data.items() if k != "kind"}
    cls = _KINDS[kind]
    allowed = {f.name for f in dataclasses.fields(cls)}
    unknown = set(fields) - allowed
    if unknown:
        raise ValueError(f"{where} ({kind}): unknown field(s) {', '.join(sorted(map(str, unknown)))}")
    if issubclass(cls, _Combination):
        items = fields.get("criteria")
        if not isinstance(items, list | tuple):
            raise ValueError(f"{where} ({kind}): criteria must be a list")
        fields["criteria"] = tuple(
            criterion_from_dict(item, f"{where}.criteria[{i}]") for i, item in enumerate(items)
        )
    try:
        return cls(**fields)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{where} ({kind}): {exc}") from None


def uses_rand(criterion: Criterion) -> bool:
    """Whether the criterion, or any criterion inside a combination, is RAND/UCLA."""
    if isinstance(criterion, RandUcla):
        return True
    if isinstance(criterion, _Combination):
        return any(uses_rand(c) for c in criterion.criteria)
    return False
