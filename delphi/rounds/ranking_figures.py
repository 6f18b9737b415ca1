"""What panellists may be shown of a ranking question's frozen results: the release decision for rankings.

A ranking question's close writes one :class:`~delphi.db.models.RankingResult` row per scope (``"all"`` and
``"group:<id>"``), each with ``n`` complete rankings, ``n_unable`` "unable to rank" answers and per item the mean
and median rank.  The figures panellists read from round 2 (the group's order by mean rank) are released by the
same rules as a statement's (:func:`delphi.stats.disclosure.decide`, as :mod:`delphi.rounds.released` applies
them): nothing unless at least k people ranked (pooled ``n >= k``); no group with fewer than k rankings; and no
group whose figures, subtracted from the pooled ones with the other groups shown, would give a hidden group's
away (complementary suppression over ``n`` and ``n + n_unable``).

:func:`release_ranking` is pure (rows in, figures out); :func:`load_ranking_release` reads the rows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import Panel, RankingResult, StakeholderGroup
from delphi.domain import POOLED_SCOPE, group_scope
from delphi.rounds.released import load_groups
from delphi.stats.disclosure import Release, ScopeCounts, decide

__all__ = [
    "GroupRanking",
    "RankedItem",
    "RankingFigures",
    "RankingRelease",
    "load_ranking_release",
    "order_items",
    "ranking_counts",
    "release_ranking",
]


def ranking_counts(row: RankingResult) -> ScopeCounts:
    """One frozen ranking row's counts as :func:`~delphi.stats.disclosure.decide` reads them: ``n`` complete
    rankings, ``n_unable`` "unable to rank" answers (no per-point counts: a ranking has none)."""
    return ScopeCounts(int(row.n or 0), int(row.n_unable or 0))


@dataclass(frozen=True, slots=True)
class RankedItem:
    """One item in a released order: ``place`` 1 = ranked first on average (items with equal mean ranks share
    no place: the question's item order breaks the tie), ``mean_rank`` and ``median_rank`` on 1..number of
    items (mid-ranks for ties)."""

    item_id: int
    text: str
    place: int
    mean_rank: float
    median_rank: float | None


@dataclass(frozen=True, slots=True)
class RankingFigures:
    """One scope's released figures: ``n`` complete rankings, ``n_unable`` "unable to rank", and the items by
    mean rank, best first."""

    n: int
    n_unable: int
    items: tuple[RankedItem, ...]


@dataclass(frozen=True, slots=True)
class GroupRanking:
    """A stakeholder group's figures, or None when hidden (under k, or hidden to protect another group: the
    page must say the same for both)."""

    group_id: int
    name: str
    figures: RankingFigures | None


@dataclass(frozen=True, slots=True)
class RankingRelease:
    """What panellists may see of one (round, ranking question).

    ``pooled`` is None when fewer than k people ranked; then ``groups`` is empty too.  ``groups`` lists every
    group that has a row, in display order, each released or hidden.  ``release`` is the decision itself (for
    tests; pages read ``pooled`` and ``groups``).
    """

    round_id: int
    question_id: int
    pooled: RankingFigures | None
    groups: tuple[GroupRanking, ...]
    release: Release


def order_items(items: Sequence[Mapping[str, object]], texts: Mapping[int, str]) -> tuple[RankedItem, ...]:
    """A frozen row's ``items`` (dicts with ``item_id``, ``mean_rank``, ``median_rank``, in the question's
    order) sorted by mean rank, best first; ties keep the question's order.

    Items without a mean rank, with an id that is not a number, or no longer among ``texts`` (item id -> text,
    the question's items now) are left out.
    """
    usable: list[tuple[float, int, int, float | None]] = []
    for index, entry in enumerate(items):
        raw_id, mean, median = entry.get("item_id"), entry.get("mean_rank"), entry.get("median_rank")
        if isinstance(raw_id, bool) or not isinstance(raw_id, int | str):
            continue
        try:
            item_id = int(raw_id)
        except ValueError:
            continue
        if item_id not in texts or not isinstance(mean, int | float) or isinstance(mean, bool):
            continue
        med = float(median) if isinstance(median, int | float) and not isinstance(median, bool) else None
        usable.append((float(mean), index, item_id, med))
    usable.sort()
    return tuple(
        RankedItem(item_id, texts[item_id], place, mean, med)
        for place, (mean, _, item_id, med) in enumerate(usable, start=1)
    )


def _figures(row: RankingResult, texts: Mapping[int, str]) -> RankingFigures:
    return RankingFigures(int(row.n or 0), int(row.n_unable or 0), order_items(row.items or [], texts))


def release_ranking(
    scopes: Mapping[str, RankingResult],
    groups: Sequence[StakeholderGroup],
    k: int,
    texts: Mapping[int, str],
) -> RankingRelease | None:
    """Apply disclosure control to one (round, question)'s frozen rows.  Pure.

    ``scopes`` maps ``"all"`` and ``"group:<id>"`` to the rows; ``groups`` are the panel's groups in display
    order (a group without a row is skipped: its people stay in the hidden remainder); ``k`` is
    ``Panel.k_min``; ``texts`` the question's item texts by id.  None without a pooled row.
    """
    pooled = scopes.get(POOLED_SCOPE)
    if pooled is None:
        return None
    pairs = [(g, row) for g in groups if (row := scopes.get(group_scope(g.id))) is not None]
    release = decide(ranking_counts(pooled), [ranking_counts(row) for _, row in pairs], k)
    if not release.pooled:
        return RankingRelease(pooled.round_id, pooled.question_id, None, (), release)
    shown = tuple(
        GroupRanking(g.id, g.name, _figures(row, texts) if ok else None)
        for (g, row), ok in zip(pairs, release.groups, strict=True)
    )
    return RankingRelease(pooled.round_id, pooled.question_id, _figures(pooled, texts), shown, release)


async def load_ranking_release(
    session: AsyncSession, panel: Panel, round_id: int, question_id: int, texts: Mapping[int, str]
) -> RankingRelease | None:
    """The released figures of ``question_id`` in round ``round_id`` (a round of ``panel``); None when the
    round froze no pooled row for it.  Two queries (groups, rows)."""
    rows = (
        await session.scalars(
            select(RankingResult).where(
                RankingResult.round_id == round_id, RankingResult.question_id == question_id
            )
        )
    ).all()
    if not rows:
        return None
    scopes = {row.scope: row for row in rows}
    return release_ranking(scopes, await load_groups(session, panel.id), panel.k_min, texts)
