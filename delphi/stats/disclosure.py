"""Disclosure control: which of one statement's frozen figures panellists may be shown.

A statement's result is a *pooled* scope (everyone) and one scope per stakeholder group; the groups partition the
pooled panel.  Hiding a group under k is not enough: pooled minus the groups that are shown is the hidden groups
together, exactly (BRIEF §7).  :func:`decide` therefore applies the cell-suppression rules of statistical disclosure
control [1]_ to the one-dimensional table "pooled = sum of groups":

1. **Pooled threshold.**  No figures at all unless at least ``k`` people rated (``n >= k``).
2. **Primary suppression.**  A group with fewer than ``k`` ratings is hidden.
3. **Complementary suppression.**  The *hidden remainder*, pooled minus the groups shown, must cover 0 or at least
   ``k`` ratings (``n``) and 0 or at least ``k`` people who answered (``n + n_unable``); while it does not, the
   smallest group still shown (fewest ratings, ties by display order) is hidden too.  Every group shown has at
   least ``k`` ratings, so one extra group is always enough; hiding every group (the remainder is then the
   pooled scope, which passes rule 1) is the end point.

What this guarantees, for one statement's result: every released scope, and pooled minus *any* set of released
groups, covers 0 or at least ``k`` ratings and 0 or at least ``k`` people; so do the counts per scale point,
"unable" counts and agree counts derived from them, since they count within those scopes.  Results of different
statements are decided independently (see ``docs/statistics.md`` on linking them).  Every surface (rating page, final results page,
e-mails, JSON) applies this one function to the same frozen figures, so two releases of one result agree.

Verdicts read figures too: :meth:`Release.verdict_released` withholds the verdict with the pooled figures, and,
for rules applied per group (``every_group``, ``balanced``), whenever a group has 1 to ``k - 1`` ratings or
people, because its verdict would then say how those few answered.

Pure Python: no I/O, no numpy needed.

References
----------
.. [1] Hundepool, A., Domingo-Ferrer, J., Franconi, L., Giessing, S., Schulte Nordholt, E., Spicer, K. and de
       Wolf, P.-P. (2012). *Statistical Disclosure Control*. Wiley. Chapter 4 (magnitude and frequency tables:
       threshold rule, primary and secondary (complementary) cell suppression, and the disclosure by
       differencing a total and its visible cells).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["GROUP_SCOPES", "Release", "ScopeCounts", "decide", "remainder", "safe_total"]

#: Rule scopes whose verdict reads every group's own figures (see :data:`delphi.stats.rules.SCOPES`).
GROUP_SCOPES: frozenset[str] = frozenset({"every_group", "balanced"})


def safe_total(total: int, k: int) -> bool:
    """True when a figure covering ``total`` people may be derived: ``total`` is 0 or at least ``k``.

    A negative ``total`` (pooled smaller than its groups: inconsistent input) is not safe.  ``k`` below 1 counts as
    1, so every non-negative total is then safe.
    """
    return total == 0 or total >= max(1, k)


@dataclass(frozen=True, slots=True)
class ScopeCounts:
    """One scope's frozen counts, the input of :func:`decide`.

    Attributes
    ----------
    n : int
        Ratings on the scale (people who gave a number), ``>= 0``.
    n_unable : int
        "Unable to rate" answers, ``>= 0``.
    counts : tuple of int
        Ratings per scale point, lowest point first; sums to ``n`` when given.  Not read by :func:`decide`,
        which depends on ``n`` and ``n_unable`` only; carried so that :func:`remainder` can subtract it.
    """

    n: int
    n_unable: int = 0
    counts: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        for name in ("n", "n_unable"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be a whole number of at least 0, not {value!r}")

    @property
    def people(self) -> int:
        """People who answered: ``n + n_unable``."""
        return self.n + self.n_unable


@dataclass(frozen=True, slots=True)
class Release:
    """What of one statement's figures panellists may be shown (the result of :func:`decide`).

    Attributes
    ----------
    k : int
        The threshold applied (at least 1).
    pooled : bool
        The pooled figures may be shown.  False means nothing at all is shown for the statement: no figures,
        no group, no verdict.
    groups : tuple of bool, shape (G,)
        Per group, in the display order given to :func:`decide`: its figures may be shown.  All False when
        ``pooled`` is False.
    primary : tuple of bool, shape (G,)
        Groups hidden because they have fewer than ``k`` ratings (rule 2).  The others hidden were hidden to
        protect them (rule 3).  For tests and documentation only: a panellist page must not tell the two apart,
        or it would say which group is small.
    small_groups : bool
        Some group has 1 to ``k - 1`` ratings, or 1 to ``k - 1`` people who answered.
    """

    k: int
    pooled: bool
    groups: tuple[bool, ...]
    primary: tuple[bool, ...]
    small_groups: bool

    @property
    def hidden(self) -> tuple[int, ...]:
        """Indices of the groups not shown, ascending."""
        return tuple(i for i, shown in enumerate(self.groups) if not shown)

    def verdict_released(self, scope: str) -> bool:
        """Whether the verdict under a rule of ``scope`` (``"pooled"``, ``"every_group"``, ``"balanced"``) may
        be shown.

        Never without the pooled figures.  For the per-group scopes (and any unknown scope) also not when
        ``small_groups``: "every group agreed" would say how a group of one or two rated.
        """
        if not self.pooled:
            return False
        return scope == "pooled" or not self.small_groups


def _remaining(pooled: ScopeCounts, groups: Sequence[ScopeCounts], shown: Sequence[bool]) -> tuple[int, int]:
    n = pooled.n - sum(g.n for g, s in zip(groups, shown, strict=True) if s)
    people = pooled.people - sum(g.people for g, s in zip(groups, shown, strict=True) if s)
    return n, people


def decide(pooled: ScopeCounts, groups: Sequence[ScopeCounts], k: int) -> Release:
    """Decide which of one statement's scopes panellists may be shown.

    Parameters
    ----------
    pooled : ScopeCounts
        The whole panel's figures for the statement.
    groups : sequence of ScopeCounts, length G
        Each group's figures, in display order (the order breaks ties, so the result is deterministic).  Groups
        without figures may be left out; their people stay in the hidden remainder.  G may be 0.
    k : int
        Smallest number of people a released figure may cover (``panel.k_min``); below 1 counts as 1.

    Returns
    -------
    Release
        ``pooled`` is True iff ``pooled.n >= k``.  Then the groups shown all have ``n >= k``, and pooled minus
        the groups shown covers 0 or ``>= k`` ratings and 0 or ``>= k`` people; otherwise nothing is shown.

    Notes
    -----
    With groups of 4, 4 and 1 ratings and k = 3, the group of 1 is hidden (primary); the remainder, 1, would be
    that person's rating, so the smaller of the others is hidden too (the first of the two 4s, by display
    order); the remainder is then 5 people.  Pooled figures (9) and the second group of 4 are shown.

    Inconsistent input (groups summing to more than pooled) hides every group.
    """
    k = max(1, int(k))
    g = len(groups)
    primary = tuple(s.n < k for s in groups)
    small = any(0 < s.n < k or 0 < s.people < k for s in groups)
    if pooled.n < k:
        return Release(k, False, (False,) * g, primary, small)
    shown = [not p for p in primary]
    order = sorted(range(g), key=lambda i: (groups[i].n, i))
    while True:
        n, people = _remaining(pooled, groups, shown)
        if safe_total(n, k) and safe_total(people, k):
            break
        nxt = next((i for i in order if shown[i]), None)
        if nxt is None:  # every group hidden and still unsafe: only inconsistent input gets here
            break
        shown[nxt] = False
    return Release(k, True, tuple(shown), primary, small)


def remainder(
    pooled: ScopeCounts, groups: Sequence[ScopeCounts], shown: Sequence[bool]
) -> ScopeCounts | None:
    """Pooled minus the groups marked ``shown``: what a reader can work out about everyone else.

    Returns None when the input is inconsistent (a count would fall below 0, or the ``counts`` lengths differ).
    ``counts`` is subtracted point by point when every scope carries it; else left empty.
    """
    n, people = _remaining(pooled, groups, shown)
    if n < 0 or people < n:
        return None
    subtracted = [s for s, on in zip(groups, shown, strict=True) if on]
    counts: tuple[int, ...] = ()
    if pooled.counts and all(len(s.counts) == len(pooled.counts) for s in subtracted):
        counts = tuple(c - sum(s.counts[i] for s in subtracted) for i, c in enumerate(pooled.counts))
        if any(c < 0 for c in counts):
            return None
    return ScopeCounts(n, people - n, counts)
