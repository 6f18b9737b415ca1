"""Consensus rules as data: frozen, serialisable, described in plain English, applied vectorised.

A :class:`ConsensusRule` is a *criterion* (percent agreement, median/IQR, RAND/UCLA, or a combination)
plus the scale bands it reads, the scope it applies to and the minimum number of ratings for a verdict.
Rules are locked when a panel's first round opens, so they round-trip through :meth:`ConsensusRule.to_dict`
and :meth:`ConsensusRule.from_dict` and are stored with every result.

Comparisons of percentages and ranges with thresholds allow 1e-9 for floating-point rounding, so 14 of 20
(70%) meets "at least 70%" and 3 of 20 (15%) fails "fewer than 15%", exactly as the COMET rule reads.

References
----------
.. [1] Williamson, P. R. et al. (2017). The COMET Handbook: version 1.0. *Trials* 18(Suppl 3), 280
       (70% rating 7-9 and fewer than 15% rating 1-3 on the GRADE 1-9 scale).
.. [2] Diamond, I. R. et al. (2014). Defining consensus: a systematic review recommends methodologic
       criteria for reporting of Delphi studies. *J Clin Epidemiol* 67(4), 401-409 (75% median agreement).
.. [3] Fitch, K. et al. (2001). *The RAND/UCLA Appropriateness Method User's Manual*. RAND.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from delphi.stats.describe import EPS, ScopeStats
from delphi.stats.settings import AnalysisSettings
from delphi.stats.verdicts import Verdict

__all__ = [
    "RULE_NAMES",
    "SCOPES",
    "SENSITIVITY_RULE_NAMES",
    "AllOf",
    "AnyOf",
    "ConsensusRule",
    "Criterion",
    "MedianIQR",
    "PercentAgreement",
    "RandUcla",
    "combine_groups",
    "rule_by_name",
    "rule_problems",
]

#: ``pooled``: everyone together; ``every_group``: the rule must hold in every group;
#: ``balanced``: pooled with each group weighing the same
#: (see :func:`delphi.stats.describe.describe_balanced`).
SCOPES: tuple[str, ...] = ("pooled", "every_group", "balanced")

_IN, _OUT, _NONE, _INSUFFICIENT = (
    np.int8(v) for v in (Verdict.IN, Verdict.OUT, Verdict.NONE, Verdict.INSUFFICIENT)
)


def _dash(band: tuple[int, int]) -> str:
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
    return np.where(in_ & ~out, _IN, np.where(out & ~in_, _OUT, _NONE)).astype(np.int8)


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

    def classify(self, stats: ScopeStats, rule: ConsensusRule) -> NDArray[np.int8]:
        """Verdict codes, shape (S,), before the minimum-ratings check."""
        return _verdicts(
            self._meets(stats.pct_agree, stats.pct_disagree), self._meets(stats.pct_disagree, stats.pct_agree)
        )

    def describe(self, rule: ConsensusRule) -> str:
        head = "At least" if self.inclusive else "More than"
        text = f"{head} {_num(self.threshold)}% rate {_dash(rule.agree)}"
        if self.max_opposite is not None:
            cap = "at most" if self.max_opposite_inclusive else "fewer than"
            text += f" and {cap} {_num(self.max_opposite)}% rate {_dash(rule.disagree)}"
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

    def classify(self, stats: ScopeStats, rule: ConsensusRule) -> NDArray[np.int8]:
        narrow = stats.iqr <= self.max_iqr + EPS
        return _verdicts(
            _in_band(stats.median, rule.agree) & narrow, _in_band(stats.median, rule.disagree) & narrow
        )

    def describe(self, rule: ConsensusRule) -> str:
        return (
            f"Median rating of {_dash(rule.agree)} and an interquartile range of at most {_num(self.max_iqr)}"
        )

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

    def classify(self, stats: ScopeStats, rule: ConsensusRule) -> NDArray[np.int8]:
        if self.disagreement == "ipras":
            agreed = ~stats.disagreement
        else:
            agreed = ~stats.disagreement_classic
        verdict = _verdicts(
            _in_band(stats.median, rule.agree) & agreed, _in_band(stats.median, rule.disagree) & agreed
        )
        if self.disagreement == "classic":
            verdict = np.where(stats.classic_k > 0, verdict, _INSUFFICIENT).astype(np.int8)
        return verdict

    def describe(self, rule: ConsensusRule) -> str:
        how = (
            "interpercentile range no wider than the IPRAS"
            if self.disagreement == "ipras"
            else "classic rule for panels of 8–16"
        )
        return f"Median rating of {_dash(rule.agree)} without disagreement (RAND/UCLA, {how})"

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "disagreement": self.disagreement}


def _combine(codes: list[NDArray[np.int8]], every: bool) -> NDArray[np.int8]:
    stack = np.stack(codes)
    insufficient = (stack == _INSUFFICIENT).any(axis=0)
    if every:
        result = _verdicts((stack == _IN).all(axis=0), (stack == _OUT).all(axis=0))
    else:
        result = _verdicts((stack == _IN).any(axis=0), (stack == _OUT).any(axis=0))
    return np.where(insufficient, _INSUFFICIENT, result).astype(np.int8)


@dataclass(frozen=True, slots=True)
class AllOf:
    """Every criterion must agree: in if all say in, out if all say out, else none.

    "Insufficient" from any criterion makes the combination insufficient.
    """

    kind: ClassVar[str] = "all_of"
    criteria: tuple[Criterion, ...] = ()

    def __post_init__(self) -> None:
        _check_criteria(self.criteria)

    def classify(self, stats: ScopeStats, rule: ConsensusRule) -> NDArray[np.int8]:
        return _combine([c.classify(stats, rule) for c in self.criteria], every=True)

    def describe(self, rule: ConsensusRule) -> str:
        return _join(self.criteria, rule, " and ")

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "criteria": [c.to_dict() for c in self.criteria]}


@dataclass(frozen=True, slots=True)
class AnyOf:
    """Any criterion suffices: in if some say in and none out, out if some say out and none in, else none.

    "Insufficient" from any criterion makes the combination insufficient.
    """

    kind: ClassVar[str] = "any_of"
    criteria: tuple[Criterion, ...] = ()

    def __post_init__(self) -> None:
        _check_criteria(self.criteria)

    def classify(self, stats: ScopeStats, rule: ConsensusRule) -> NDArray[np.int8]:
        return _combine([c.classify(stats, rule) for c in self.criteria], every=False)

    def describe(self, rule: ConsensusRule) -> str:
        return _join(self.criteria, rule, " or ")

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "criteria": [c.to_dict() for c in self.criteria]}


Criterion = PercentAgreement | MedianIQR | RandUcla | AllOf | AnyOf
_KINDS: dict[str, type] = {c.kind: c for c in (PercentAgreement, MedianIQR, RandUcla, AllOf, AnyOf)}


def _check_criteria(criteria: Any) -> None:
    if not isinstance(criteria, tuple) or not criteria:
        raise ValueError("a combination needs a non-empty tuple of criteria")
    for c in criteria:
        if not isinstance(c, tuple(_KINDS.values())):
            raise ValueError(f"not a criterion: {c!r}")


def _join(criteria: tuple[Criterion, ...], rule: ConsensusRule, sep: str) -> str:
    parts = []
    for i, criterion in enumerate(criteria):
        text = criterion.describe(rule)
        if i:
            text = text[0].lower() + text[1:]
        if isinstance(criterion, AllOf | AnyOf):
            text = f"({text})"
        parts.append(text)
    return sep.join(parts)


def _criterion_from_dict(data: Any, where: str = "criterion") -> Criterion:
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
    if cls in (AllOf, AnyOf):
        items = fields.get("criteria")
        if not isinstance(items, list | tuple):
            raise ValueError(f"{where} ({kind}): criteria must be a list")
        fields["criteria"] = tuple(
            _criterion_from_dict(item, f"{where}.criteria[{i}]") for i, item in enumerate(items)
        )
    try:
        return cls(**fields)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{where} ({kind}): {exc}") from None


def _check_band(name: str, band: Any) -> tuple[int, int]:
    if (
        not isinstance(band, tuple | list)
        or len(band) != 2
        or any(isinstance(v, bool) or not isinstance(v, int) for v in band)
        or band[0] > band[1]
    ):
        raise ValueError(f"{name} band must be two whole numbers LO <= HI, not {band!r}")
    return (band[0], band[1])


@dataclass(frozen=True, slots=True)
class ConsensusRule:
    """A consensus rule: criterion, bands, scope and the minimum number of ratings for a verdict.

    Parameters
    ----------
    criterion : PercentAgreement | MedianIQR | RandUcla | AllOf | AnyOf
        What must hold for "in" (and, mirrored on the disagree band, for "out").
    agree, disagree : tuple of int
        Inclusive bands on the scale, e.g. ``(7, 9)`` and ``(1, 3)``; they must not overlap.
    scope : {"pooled", "every_group", "balanced"}
        Where the criterion is applied. ``every_group``: in if in for every group that has panellists,
        out if out for all, insufficient if any such group is insufficient, else none.
    min_ratings : int
        Fewer ratings than this (per group under ``every_group``) gives "insufficient". At least 1;
        default 2, so one rating never makes consensus.
    name : str
        Label of a preset (``"comet"``...) or ``"custom"``; it does not change the classification.

    Raises
    ------
    ValueError
        On any invalid field.

    Examples
    --------
    >>> rule_by_name("comet").describe()
    'At least 70% rate 7–9 and fewer than 15% rate 1–3'
    >>> ConsensusRule.from_dict(rule_by_name("comet").to_dict()) == rule_by_name("comet")
    True
    """

    criterion: Criterion = dataclasses.field(default_factory=PercentAgreement)
    agree: tuple[int, int] = (7, 9)
    disagree: tuple[int, int] = (1, 3)
    scope: str = "pooled"
    min_ratings: int = 2
    name: str = "custom"

    def __post_init__(self) -> None:
        if not isinstance(self.criterion, tuple(_KINDS.values())):
            raise ValueError(f"not a criterion: {self.criterion!r}")
        agree = _check_band("agree", self.agree)
        disagree = _check_band("disagree", self.disagree)
        if agree[0] <= disagree[1] and disagree[0] <= agree[1]:
            raise ValueError(f"the agree band {_dash(agree)} overlaps the disagree band {_dash(disagree)}")
        object.__setattr__(self, "agree", agree)
        object.__setattr__(self, "disagree", disagree)
        if self.scope not in SCOPES:
            raise ValueError(f"unknown scope {self.scope!r}: use one of {', '.join(SCOPES)}")
        if (
            isinstance(self.min_ratings, bool)
            or not isinstance(self.min_ratings, int)
            or self.min_ratings < 1
        ):
            raise ValueError(f"min_ratings must be a whole number of at least 1, not {self.min_ratings!r}")
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"name must be a non-empty string, not {self.name!r}")

    # -- serialisation -------------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict; :meth:`from_dict` reads it back to an equal rule."""
        return {
            "name": self.name,
            "criterion": self.criterion.to_dict(),
            "agree": list(self.agree),
            "disagree": list(self.disagree),
            "scope": self.scope,
            "min_ratings": self.min_ratings,
        }

    @classmethod
    def from_dict(cls, data: Any) -> ConsensusRule:
        """Build a rule from :meth:`to_dict` output.

        Raises
        ------
        ValueError
            Naming the field at fault, for a non-mapping, an unknown or missing field, or a bad value.
        """
        if not isinstance(data, dict):
            raise ValueError(f"a consensus rule must be a mapping, not {type(data).__name__}")
        allowed = {"name", "criterion", "agree", "disagree", "scope", "min_ratings"}
        unknown = set(data) - allowed
        if unknown:
            raise ValueError(f"consensus rule: unknown field(s) {', '.join(sorted(map(str, unknown)))}")
        if "criterion" not in data:
            raise ValueError("consensus rule: missing field 'criterion'")
        fields = dict(data)
        fields["criterion"] = _criterion_from_dict(data["criterion"])
        for band in ("agree", "disagree"):
            if band in fields:
                fields[band] = _check_band(band, fields[band])
        return cls(**fields)

    # -- words ---------------------------------------------------------------------------------------------
    def describe(self) -> str:
        """One plain-English sentence for reports, e.g. "At least 70% rate 7–9 and fewer than 15% rate 1–3".

        The scope is added when it is not pooled and the minimum when it is not the default of 2.
        """
        text = self.criterion.describe(self)
        if self.scope == "every_group":
            text += ", in every group"
        elif self.scope == "balanced":
            text += ", with each group weighted equally"
        if self.min_ratings != 2:
            text += f", from at least {self.min_ratings} ratings"
        return text

    # -- application ---------------------------------------------------------------------------------------
    def check_scale(self, settings: AnalysisSettings) -> None:
        """Raise ValueError, naming every conflict, when :func:`rule_problems` finds the rule off the scale."""
        problems = rule_problems(self, settings.scale_min, settings.scale_max)
        if problems:
            raise ValueError(" ".join(problems))

    def classify(self, stats: ScopeStats) -> NDArray[np.int8]:
        """Verdict codes, shape (S,), of the criterion on one scope, with the minimum-ratings check.

        The scope field is not used here; see :func:`combine_groups` and :func:`delphi.stats.analyse_round`.
        """
        verdict = self.criterion.classify(stats, self)
        return np.where(stats.n >= self.min_ratings, verdict, _INSUFFICIENT).astype(np.int8)


#: The only scale the RAND/UCLA method is defined on: its IPRAS constants are calibrated on 1-9 (centre 5).
RAND_UCLA_SCALE: tuple[int, int] = (1, 9)


def rule_problems(rule: ConsensusRule, scale_min: int, scale_max: int) -> list[str]:
    """Every reason ``rule`` cannot be applied to ratings on the scale ``scale_min``-``scale_max``.

    The one check of a rule against a scale, shared by the panel settings (form and panel creation), the
    open-round preconditions, the close and ``delphi analyse``.

    Parameters
    ----------
    rule : ConsensusRule
        A rule that is valid on its own (its fields were checked when it was built).
    scale_min, scale_max : int
        The inclusive ends of the rating scale.

    Returns
    -------
    list of str
        One complete sentence per conflict, in a fixed order: the agree band off the scale, the disagree band
        off the scale, a RAND/UCLA criterion (alone or inside a combination) on a scale other than 1-9.
        Empty when the rule fits, which is exactly when :meth:`ConsensusRule.check_scale` and the round
        analysis accept it.

    Examples
    --------
    >>> rule_problems(rule_by_name("comet"), 1, 9)
    []
    >>> rule_problems(rule_by_name("rand_ucla", agree=(4, 5), disagree=(1, 2)), 1, 5)
    ['The RAND/UCLA method is defined on the 1–9 scale only, not on 1–5: choose another rule for this scale.']
    """
    problems = []
    scale = _dash((scale_min, scale_max))
    for label, band in (("agree", rule.agree), ("disagree", rule.disagree)):
        if not scale_min <= band[0] <= band[1] <= scale_max:
            problems.append(f"The {label} band {_dash(band)} is not on the scale {scale}.")
    if _uses_rand(rule.criterion) and (scale_min, scale_max) != RAND_UCLA_SCALE:
        problems.append(
            f"The RAND/UCLA method is defined on the {_dash(RAND_UCLA_SCALE)} scale only, not on {scale}: "
            "choose another rule for this scale."
        )
    return problems


def _uses_rand(criterion: Criterion) -> bool:
    if isinstance(criterion, RandUcla):
        return True
    if isinstance(criterion, AllOf | AnyOf):
        return any(_uses_rand(c) for c in criterion.criteria)
    return False


def combine_groups(group_verdicts: NDArray[np.int8], present: NDArray[np.bool_]) -> NDArray[np.int8]:
    """Verdict of the ``every_group`` scope from per-group verdicts.

    Parameters
    ----------
    group_verdicts : ndarray of int8, shape (S, G)
        Each group's verdict.
    present : ndarray of bool, shape (G,)
        Groups that have at least one panellist; the others are ignored.

    Returns
    -------
    ndarray of int8, shape (S,)
        Insufficient if any present group is; in if all present groups are in; out if all are out; else
        none. All insufficient when no group is present.
    """
    v = np.asarray(group_verdicts)[:, np.asarray(present, dtype=bool)]
    if v.shape[1] == 0:
        return np.full(v.shape[0], _INSUFFICIENT, dtype=np.int8)
    return _combine(list(v.T), every=True)


#: The rules analysts compare a result against (the sensitivity analysis).
SENSITIVITY_RULE_NAMES: tuple[str, ...] = ("comet", "agree75", "agree80", "median_iqr", "rand_ucla")

_PRESETS: dict[str, Criterion] = {
    "comet": PercentAgreement(70.0, True, 15.0, False),
    "agree75": PercentAgreement(75.0, True, None),
    "agree80": PercentAgreement(80.0, True, None),
    "median_iqr": MedianIQR(2.0),
    "rand_ucla": RandUcla("ipras"),
    "rand_ucla_classic": RandUcla("classic"),
}

#: Names accepted by :func:`rule_by_name`.
RULE_NAMES: tuple[str, ...] = tuple(_PRESETS)


def rule_by_name(
    name: str,
    *,
    agree: tuple[int, int] | None = None,
    disagree: tuple[int, int] | None = None,
    scope: str = "pooled",
    min_ratings: int = 2,
    scale_points: int = 9,
) -> ConsensusRule:
    """A named preset rule.

    Parameters
    ----------
    name : str
        One of :data:`RULE_NAMES`:

        * ``comet``: at least 70% rate 7-9 and fewer than 15% rate 1-3 (out: mirrored);
        * ``agree75``, ``agree80``: at least 75% / 80% rate 7-9 (out: 1-3), no cap on the other band;
        * ``median_iqr``: median 7-9 and IQR at most 2 (at most 1 when ``scale_points`` < 8);
        * ``rand_ucla``: RAND/UCLA with IPR > IPRAS for disagreement;
        * ``rand_ucla_classic``: RAND/UCLA with the classic panel-size rule (8-16 raters).
    agree, disagree : tuple of int, optional
        Bands; default 7-9 and 1-3.
    scope : str
        See :class:`ConsensusRule`.
    min_ratings : int
        See :class:`ConsensusRule`.
    scale_points : int
        Points on the scale; only ``median_iqr`` uses it.

    Raises
    ------
    ValueError
        For an unknown name.
    """
    if name not in _PRESETS:
        raise ValueError(f"unknown rule {name!r}: use one of {', '.join(RULE_NAMES)}")
    criterion = _PRESETS[name]
    if name == "median_iqr" and scale_points < 8:
        criterion = MedianIQR(1.0)
    return ConsensusRule(
        criterion=criterion,
        agree=(7, 9) if agree is None else agree,
        disagree=(1, 3) if disagree is None else disagree,
        scope=scope,
        min_ratings=min_ratings,
        name=name,
    )
