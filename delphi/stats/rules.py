"""Consensus rules as data: frozen, serialisable, described in plain English, applied vectorised.

A :class:`ConsensusRule` is a *criterion* (:mod:`delphi.stats.criteria`: percent agreement, median/IQR,
RAND/UCLA, or a combination) plus the scale bands it reads, the scope it applies to and the minimum number of
ratings for a verdict. Rules are locked when a panel's first round opens, so they round-trip through
:meth:`ConsensusRule.to_dict` and :meth:`ConsensusRule.from_dict` and are stored with every result. The named
presets (``comet``...) are in :mod:`delphi.stats.presets`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from delphi.stats.criteria import (
    INSUFFICIENT,
    Criterion,
    PercentAgreement,
    band_text,
    combine,
    criterion_from_dict,
    is_criterion,
    uses_rand,
)
from delphi.stats.describe import ScopeStats
from delphi.stats.settings import AnalysisSettings

__all__ = ["RAND_UCLA_SCALE", "SCOPES", "ConsensusRule", "combine_groups", "rule_problems"]

#: ``pooled``: everyone together; ``every_group``: the rule must hold in every group;
#: ``balanced``: pooled with each group weighing the same
#: (see :func:`delphi.stats.describe.describe_balanced`).
SCOPES: tuple[str, ...] = ("pooled", "every_group", "balanced")


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
    With :func:`delphi.stats.presets.rule_by_name`:

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
        if not is_criterion(self.criterion):
            raise ValueError(f"not a criterion: {self.criterion!r}")
        agree = _check_band("agree", self.agree)
        disagree = _check_band("disagree", self.disagree)
        if agree[0] <= disagree[1] and disagree[0] <= agree[1]:
            raise ValueError(
                f"the agree band {band_text(agree)} overlaps the disagree band {band_text(disagree)}"
            )
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
        fields["criterion"] = criterion_from_dict(data["criterion"])
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
        return np.where(stats.n >= self.min_ratings, verdict, INSUFFICIENT).astype(np.int8)


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
    scale = band_text((scale_min, scale_max))
    for label, band in (("agree", rule.agree), ("disagree", rule.disagree)):
        if not scale_min <= band[0] <= band[1] <= scale_max:
            problems.append(f"The {label} band {band_text(band)} is not on the scale {scale}.")
    if uses_rand(rule.criterion) and (scale_min, scale_max) != RAND_UCLA_SCALE:
        problems.append(
            f"The RAND/UCLA method is defined on the {band_text(RAND_UCLA_SCALE)} scale only, not on {scale}: "
            "choose another rule for this scale."
        )
    return problems


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
        return np.full(v.shape[0], INSUFFICIENT, dtype=np.int8)
    return combine(list(v.T), every=True)
