"""Stopping advice: after a round closes, is another round likely to change anything?

Pure functions over the stability figures frozen at close (:func:`delphi.stats.stability.stability`, stored per
statement as ``RoundStatement.outcome["stability"]``) and the verdicts of this round and the previous one.

The criterion (docs/statistics.md §7, "Stopping advice")
--------------------------------------------------------
A statement compared with the previous round is **stable** when all of these hold:

1. fewer than :data:`MAX_PCT_CHANGED` = 15% of the panellists who rated it in both rounds moved between the
   disagree band, the middle and the agree band (Scheibe, Skutsch & Schofer 1975 [1]_: a change of less than
   15% counts as stability);
2. the Wilcoxon signed-rank test finds no shift between the rounds at :data:`ALPHA` = 0.05 (a p-value of None,
   when no rating changed, counts as no shift) [2]_;
3. the interquartile range changed by less than :data:`MAX_DELTA_IQR` = 1 scale point either way [2]_;
4. the verdict under the rule is the same as in the previous round.

Otherwise it is **still moving**. A statement with no comparison (round 1, a statement first asked in this
round, or nobody rated it in both rounds) is "no comparison".

The whole list: another round is **unlikely to change anything** when every statement another round would ask
again (verdict ``none`` or ``insufficient``) is stable. Stability comes before consensus: a statement still
moving may yet settle, a stable one without consensus will most likely stay without it, so further rounds add
burden and attrition rather than agreement (Dajani, Sincoff & Talley 1979 [3]_; von der Gracht 2012 [4]_).

References
----------
.. [1] Scheibe, M., Skutsch, M. and Schofer, J. (1975). Experiments in Delphi methodology. In Linstone, H. A.
       and Turoff, M. (eds), *The Delphi Method: Techniques and Applications*, Addison-Wesley, 262-287.
.. [2] Kalaian, S. A. and Kasim, R. M. (2012). Terminating sequential Delphi survey data collection.
       *Practical Assessment, Research & Evaluation* 17(5) (Wilcoxon test and change of spread between rounds).
.. [3] Dajani, J. S., Sincoff, M. Z. and Talley, W. K. (1979). Stability and agreement criteria for the
       termination of Delphi studies. *Technol. Forecast. Soc. Change* 13(1), 83-90.
.. [4] von der Gracht, H. A. (2012). Consensus measurement in Delphi studies. *Technol. Forecast. Soc.
       Change* 79(8), 1525-1536.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "ALPHA",
    "MAX_DELTA_IQR",
    "MAX_PCT_CHANGED",
    "ListAdvice",
    "StatementAdvice",
    "list_advice",
    "statement_advice",
]

#: Category change below which a statement counts as stable, percent of paired panellists [Scheibe 1975].
MAX_PCT_CHANGED = 15.0
#: Significance level of the Wilcoxon signed-rank test between rounds.
ALPHA = 0.05
#: Change of IQR (either way, scale points) below which the spread counts as unchanged.
MAX_DELTA_IQR = 1.0

STABLE = "stable"
MOVING = "moving"
NO_COMPARISON = "no_comparison"
#: Per-statement states and their plain words.
STATES: dict[str, str] = {
    STABLE: "stable",
    MOVING: "still moving",
    NO_COMPARISON: "first round: no comparison",
}
#: Verdicts after which a statement is asked again in another round.
OPEN_VERDICTS = frozenset({"none", "insufficient"})


@dataclass(frozen=True, slots=True)
class StatementAdvice:
    """One statement's state: ``state`` one of :data:`STATES`; ``reasons`` says in plain words why a statement
    is still moving (empty when stable or without comparison)."""

    statement_id: int
    state: str
    reasons: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return STATES[self.state]


@dataclass(frozen=True, slots=True)
class ListAdvice:
    """The advice for the whole list after a round.

    ``open`` counts statements another round would ask again (verdict none or insufficient), of which
    ``open_stable`` are stable, ``open_moving`` still moving and ``open_uncompared`` without comparison;
    ``more_rounds_useful`` is None when there is nothing to tell (no open statement compared), else whether
    another round is likely to change anything; ``text`` the sentence shown.
    """

    statements: tuple[StatementAdvice, ...]
    open: int
    open_stable: int
    open_moving: int
    open_uncompared: int
    more_rounds_useful: bool | None
    text: str


def statement_advice(
    statement_id: int,
    stability: Mapping[str, Any] | None,
    verdict: str,
    previous_verdict: str | None,
) -> StatementAdvice:
    """Apply the criterion of the module docstring to one statement.

    ``stability`` is the frozen record (``n_paired``, ``pct_changed_category`` in percent, ``wilcoxon_p``,
    ``delta_iqr`` in scale points; missing values None), None without a previous round; ``previous_verdict``
    the verdict of the statement (or the version it rewords) in the previous round, None if not asked there.
    """
    if not stability or not stability.get("n_paired") or stability.get("pct_changed_category") is None:
        return StatementAdvice(statement_id, NO_COMPARISON)
    reasons = []
    pct = float(stability["pct_changed_category"])
    if pct >= MAX_PCT_CHANGED:
        reasons.append(f"{pct:.0f}% of people changed their answer's side (limit {MAX_PCT_CHANGED:.0f}%)")
    p = stability.get("wilcoxon_p")
    if p is not None and float(p) < ALPHA:
        reasons.append(f"ratings shifted (Wilcoxon p = {float(p):.3g} < {ALPHA})")
    d = stability.get("delta_iqr")
    if d is not None and abs(float(d)) >= MAX_DELTA_IQR:
        reasons.append(f"the spread changed by {float(d):+g} points")
    if previous_verdict is not None and previous_verdict != verdict:
        reasons.append(f"the verdict changed from {previous_verdict} to {verdict}")
    return StatementAdvice(statement_id, MOVING if reasons else STABLE, tuple(reasons))


def list_advice(items: Iterable[tuple[StatementAdvice, str]]) -> ListAdvice:
    """The whole list's advice from ``(statement advice, verdict this round)`` pairs (see module docstring).

    Edge cases: no statement left open gives "nothing left to ask"; open statements none of which could be
    compared (round 1) give ``more_rounds_useful`` None.
    """
    pairs = list(items)
    still_open = [a for a, v in pairs if v in OPEN_VERDICTS]
    stable = sum(a.state == STABLE for a in still_open)
    moving = sum(a.state == MOVING for a in still_open)
    uncompared = len(still_open) - stable - moving
    useful: bool | None
    if not still_open:
        useful = False
        text = "Every statement has settled: there is nothing left to ask in another round."
    elif moving:
        useful = True
        text = (
            f"{moving} of the {len(still_open)} statements without consensus {'is' if moving == 1 else 'are'} "
            "still moving: another round may change the result."
        )
    elif uncompared:
        useful = None
        text = (
            f"{uncompared} of the {len(still_open)} statements without consensus cannot be compared with a "
            "previous round yet: another round will show whether they are stable."
        )
    else:
        useful = False
        text = (
            f"All {len(still_open)} statements without consensus are stable: another round is unlikely to "
            "change the result. Consider finishing the panel."
        )
    return ListAdvice(tuple(a for a, _ in pairs), len(still_open), stable, moving, uncompared, useful, text)
