"""What panellists may be shown of frozen round results: the one place that applies disclosure control.

Every panellist surface (the rating page's feedback, the final results page, the "round N is open" and "final
results" e-mails, and the JSON answer to a save) goes through :func:`release_scopes` on the frozen
``RoundResult`` rows, so they all release the same figures (:mod:`delphi.stats.disclosure` decides which).
:func:`feedback_figures` turns a release into the figures panellists read (:class:`Distribution` per scope), which
the open data package exports as "feedback shown".  Facilitator and researcher views do not come here: they
show every group, with small ones flagged.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import Panel, RoundResult, StakeholderGroup
from delphi.domain import POOLED_SCOPE, group_scope
from delphi.rounds import figures
from delphi.stats.disclosure import Release, ScopeCounts, decide

__all__ = [
    "Distribution",
    "GroupFeedback",
    "ReleasedScopes",
    "feedback_figures",
    "load_groups",
    "load_released",
    "release_scopes",
    "rule_scope",
    "scope_counts",
]


def scope_counts(row: RoundResult) -> ScopeCounts:
    """The counts of one frozen result row, as :func:`delphi.stats.disclosure.decide` reads them."""
    return ScopeCounts(
        int(row.n or 0), int(row.n_unable or 0), tuple(int(c or 0) for c in (row.counts or []))
    )


def rule_scope(panel: Panel) -> str:
    """The scope of the panel's stored rule (``"pooled"`` when the rule does not say)."""
    scope = (panel.rule or {}).get("scope") if isinstance(panel.rule, dict) else None
    return scope if isinstance(scope, str) and scope else "pooled"


@dataclass(frozen=True, slots=True)
class ReleasedScopes:
    """One (round, statement)'s frozen rows and what of them panellists may see.

    ``pooled`` is the pooled row and ``groups`` the ``(group, row)`` pairs of the groups that have a row, in
    display order; ``release.groups`` lines up with ``groups``.  Read figures through :attr:`pooled_shown` and
    :meth:`groups_shown`, which return only what may be released.
    """

    pooled: RoundResult
    groups: tuple[tuple[StakeholderGroup, RoundResult], ...]
    release: Release

    @property
    def pooled_shown(self) -> RoundResult | None:
        """The pooled row, or None when too few people rated to show anything."""
        return self.pooled if self.release.pooled else None

    def groups_shown(self) -> list[tuple[StakeholderGroup, RoundResult | None]]:
        """Every group with a row, in display order, with its row or None when hidden.

        Empty when the pooled figures are withheld (then nothing is said about groups either).
        """
        if not self.release.pooled:
            return []
        return [
            (group, row if shown else None)
            for (group, row), shown in zip(self.groups, self.release.groups, strict=True)
        ]

    def verdict_released(self, scope: str) -> bool:
        """Whether the verdict under a rule of ``scope`` may be shown; see :meth:`Release.verdict_released`."""
        return self.release.verdict_released(scope)


def release_scopes(
    scopes: Mapping[str, RoundResult], groups: Sequence[StakeholderGroup], k: int
) -> ReleasedScopes | None:
    """Apply disclosure control to one (round, statement)'s rows.

    ``scopes`` maps a scope key (``"all"``, ``"group:<id>"``) to its row; ``groups`` are the panel's groups in
    display order (groups without a row are skipped).  None when there is no pooled row.
    """
    pooled = scopes.get(POOLED_SCOPE)
    if pooled is None:
        return None
    pairs = tuple((g, row) for g in groups if (row := scopes.get(group_scope(g.id))) is not None)
    release = decide(scope_counts(pooled), [scope_counts(row) for _, row in pairs], k)
    return ReleasedScopes(pooled, pairs, release)


async def load_groups(session: AsyncSession, panel_id: int) -> list[StakeholderGroup]:
    """The panel's groups in display order (position, then id)."""
    return list(
        (
            await session.scalars(
                select(StakeholderGroup)
                .where(StakeholderGroup.panel_id == panel_id)
                .order_by(StakeholderGroup.position, StakeholderGroup.id)
            )
        ).all()
    )


async def load_released(
    session: AsyncSession, panel: Panel, round_ids: Iterable[int]
) -> dict[tuple[int, int], ReleasedScopes]:
    """Every frozen result of ``round_ids`` (rounds of ``panel``), per ``(round id, statement id)``, released.

    Two queries (groups, results).  Pairs without a pooled row are absent.
    """
    ids = list(set(round_ids))
    if not ids:
        return {}
    groups = await load_groups(session, panel.id)
    by_key: dict[tuple[int, int], dict[str, RoundResult]] = {}
    for row in (await session.scalars(select(RoundResult).where(RoundResult.round_id.in_(ids)))).all():
        by_key.setdefault((row.round_id, row.statement_id), {})[row.scope] = row
    out: dict[tuple[int, int], ReleasedScopes] = {}
    for key, scopes in by_key.items():
        released = release_scopes(scopes, groups, panel.k_min)
        if released is not None:
            out[key] = released
    return out


@dataclass(frozen=True, slots=True)
class Distribution:
    """Last round's figures for one scope, as panellists see them.

    ``counts`` per scale point from ``scale_min``; ``n`` ratings (without "unable"), ``n_unable`` "unable"
    answers; ``n_agree`` ratings in the agree band of ``pct_agree`` percent of ``denominator`` (``n``, or
    ``n + n_unable`` when the panel counts "unable" in); quartiles may be None when too few rated.
    """

    n: int
    n_unable: int
    counts: tuple[int, ...]
    median: float | None
    q1: float | None
    q3: float | None
    n_agree: int
    denominator: int
    pct_agree: int | None


@dataclass(frozen=True, slots=True)
class GroupFeedback:
    """A stakeholder group's distribution, or None when it is hidden (disclosure control).

    Hidden covers both a group under k and a group hidden so that the others cannot be worked out; the page
    says the same for both, without a number.
    """

    group_id: int
    name: str
    distribution: Distribution | None


def _distribution(
    row: RoundResult, band: tuple[int, int], scale_min: int, include_unable: bool
) -> Distribution:
    counts = tuple(int(c or 0) for c in (row.counts or []))
    n_agree = figures.count_in_band(counts, scale_min, band)
    den = row.n + (row.n_unable if include_unable else 0)
    return Distribution(
        n=row.n,
        n_unable=row.n_unable,
        counts=counts,
        median=row.median,
        q1=row.q1,
        q3=row.q3,
        n_agree=n_agree,
        denominator=den,
        pct_agree=figures.percent(n_agree, den),
    )


def feedback_figures(
    released: ReleasedScopes, band: tuple[int, int], scale_min: int, include_unable: bool
) -> tuple[Distribution | None, tuple[GroupFeedback, ...]]:
    """The figures a panellist is shown for one statement: the pooled distribution (None when withheld) and
    each group's (``distribution`` None when hidden), in display order.  Pure: reads the released rows only.

    ``band`` is the agree band; ``include_unable`` whether "unable" answers count in the percentage's
    denominator (``panel.unable_policy == "include"``).
    """
    pooled = released.pooled_shown
    if pooled is None:
        return None, ()
    groups = tuple(
        GroupFeedback(
            g.id,
            g.name,
            _distribution(row, band, scale_min, include_unable) if row is not None else None,
        )
        for g, row in released.groups_shown()
    )
    return _distribution(pooled, band, scale_min, include_unable), groups
