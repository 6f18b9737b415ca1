"""The named consensus rules (presets): their criteria, short labels and plain-language descriptions.

Each :class:`Preset` is the one source of its wording: the panel form offers ``description``, the round results
page lists the sensitivity verdicts under ``label``, the report names the panel's preset with both, and
``delphi analyse --help`` lists them. A rule's own sentence, with its actual bands, is
:meth:`delphi.stats.rules.ConsensusRule.describe`.

References
----------
.. [1] Williamson, P. R. et al. (2017). The COMET Handbook: version 1.0. *Trials* 18(Suppl 3), 280
       (70% rating 7-9 and fewer than 15% rating 1-3 on the GRADE 1-9 scale).
.. [2] Diamond, I. R. et al. (2014). Defining consensus: a systematic review recommends methodologic
       criteria for reporting of Delphi studies. *J Clin Epidemiol* 67(4), 401-409 (75% median agreement).
.. [3] Fitch, K. et al. (2001). *The RAND/UCLA Appropriateness Method User's Manual*. RAND.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from delphi.stats.criteria import Criterion, MedianIQR, PercentAgreement, RandUcla
from delphi.stats.rules import RAND_UCLA_SCALE, ConsensusRule

__all__ = [
    "PRESETS",
    "RULE_NAMES",
    "SENSITIVITY_RULE_NAMES",
    "Preset",
    "preset_of",
    "rule_by_name",
    "sensitivity_names",
]


@dataclass(frozen=True, slots=True)
class Preset:
    """A named rule: ``criterion`` on the bands the panel sets.

    ``label`` is a few words for lists ("≥75% agree"); ``description`` one plain sentence that speaks of "the
    agree band" rather than numbers, as the bands are set separately.
    """

    name: str
    label: str
    description: str
    criterion: Criterion


#: Every preset by name, in the order forms and help list them.
PRESETS: Mapping[str, Preset] = MappingProxyType(
    {
        p.name: p
        for p in (
            Preset(
                "comet",
                "COMET (≥70% agree, <15% disagree)",
                "COMET/GRADE: at least 70% rate in the agree band and fewer than 15% in the disagree band",
                PercentAgreement(70.0, True, 15.0, False),
            ),
            Preset(
                "agree75",
                "≥75% agree",
                "At least 75% rate in the agree band",
                PercentAgreement(75.0, True, None),
            ),
            Preset(
                "agree80",
                "≥80% agree",
                "At least 80% rate in the agree band",
                PercentAgreement(80.0, True, None),
            ),
            Preset(
                "median_iqr",
                "Median in band, narrow IQR",
                "Median in the agree band and interquartile range at most 2 (1 on 5- to 7-point scales)",
                MedianIQR(2.0),
            ),
            Preset(
                "rand_ucla",
                "RAND/UCLA",
                "RAND/UCLA appropriateness (1–9 scale): median and disagreement index",
                RandUcla("ipras"),
            ),
            Preset(
                "rand_ucla_classic",
                "RAND/UCLA, classic rule",
                "RAND/UCLA appropriateness (1–9 scale): median and the classic disagreement rule for panels of 8–16",
                RandUcla("classic"),
            ),
        )
    }
)

#: Names accepted by :func:`rule_by_name`.
RULE_NAMES: tuple[str, ...] = tuple(PRESETS)

#: The rules analysts compare a result against (the sensitivity analysis).
SENSITIVITY_RULE_NAMES: tuple[str, ...] = ("comet", "agree75", "agree80", "median_iqr", "rand_ucla")


def sensitivity_names(scale_min: int, scale_max: int) -> list[str]:
    """The alternatives reported on the scale ``scale_min``-``scale_max``: :data:`SENSITIVITY_RULE_NAMES`, less
    the RAND/UCLA ones off the 1-9 scale (the only scale that method is defined on)."""
    nine = (scale_min, scale_max) == RAND_UCLA_SCALE
    return [n for n in SENSITIVITY_RULE_NAMES if nine or not n.startswith("rand")]


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
        One of :data:`RULE_NAMES` (see :data:`PRESETS` for what each means); ``median_iqr`` allows an IQR of
        at most 1 instead of 2 when ``scale_points`` < 8.
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
    if name not in PRESETS:
        raise ValueError(f"unknown rule {name!r}: use one of {', '.join(RULE_NAMES)}")
    criterion = PRESETS[name].criterion
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


def preset_of(rule: ConsensusRule, scale_points: int) -> Preset | None:
    """The preset ``rule`` is (its name and the criterion that name gives on this scale), else None.

    A rule stored under a preset's name with another criterion is not that preset.
    """
    if rule.name not in PRESETS:
        return None
    if rule_by_name(rule.name, scale_points=scale_points).criterion != rule.criterion:
        return None
    return PRESETS[rule.name]
