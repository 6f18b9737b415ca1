"""Queries that load a round's ratings as numpy arrays, in one SQL statement each."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import chain

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import BigInteger, ColumnElement, case, cast, func, literal_column, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import Panellist, Rating, RoundStatement, StakeholderGroup, Submission
from delphi.domain import AnalysisPopulation
from delphi.stats import Tabulation

#: A rating row that answers its statement: a point on the scale or "unable to rate" (a row with neither is a
#: comment or reason saved alone).
ANSWERED = or_(Rating.value.is_not(None), Rating.unable.is_(True))

_STATEMENT_SHIFT = 2**32
_GROUP_SHIFT = 2**12

#: Statements whose ratings are fetched per query (10,000 panellists → 100,000 rows a query).
STATEMENTS_PER_QUERY = 10


@dataclass(frozen=True, slots=True)
class RatingMatrix:
    """A round's ratings, statements × panellists.

    Attributes
    ----------
    statement_ids : int64 (S,)   in the round's order
    panellist_ids : int64 (P,)   every panellist with at least one saved answer in the round, ascending
    group_index : int64 (P,)     index into ``group_ids`` of each panellist's group
    group_ids : int64 (G,)       the panel's groups in display order
    values : float64 (S, P)      rating on the scale; NaN for no answer and for "unable"
    unable : bool (S, P)         True where the panellist answered "unable to rate"
    """

    statement_ids: NDArray[np.int64]
    panellist_ids: NDArray[np.int64]
    group_index: NDArray[np.int64]
    group_ids: NDArray[np.int64]
    values: NDArray[np.float64]
    unable: NDArray[np.bool_]


async def round_statement_ids(session: AsyncSession, round_id: int) -> NDArray[np.int64]:
    """Ids of the statements a round asks, in the round's order."""
    rows = await session.scalars(
        select(RoundStatement.statement_id)
        .where(RoundStatement.round_id == round_id)
        .order_by(RoundStatement.position, RoundStatement.id)
    )
    return np.array(rows.all(), dtype=np.int64)


async def panel_group_ids(session: AsyncSession, panel_id: int) -> NDArray[np.int64]:
    """Ids of a panel's stakeholder groups, in display order."""
    rows = await session.scalars(
        select(StakeholderGroup.id)
        .where(StakeholderGroup.panel_id == panel_id)
        .order_by(StakeholderGroup.position, StakeholderGroup.id)
    )
    return np.array(rows.all(), dtype=np.int64)


def in_population(round_id: int | ColumnElement[int], population: AnalysisPopulation) -> ColumnElement[bool]:
    """The condition on a query over ``Rating`` joined to ``Panellist`` that keeps the answers a round's result
    counts: those of panellists who submitted round ``round_id`` (``submitted``), or every saved one (``all``).
    ``round_id`` may be a column (``Rating.round_id``) for a query over several rounds.
    """
    if population == AnalysisPopulation.ALL:
        return true()
    return (
        select(Submission.id)
        .where(Submission.round_id == round_id, Submission.panellist_id == Panellist.id)
        .exists()
    )


async def _rating_table(
    session: AsyncSession, round_id: int, statement_ids: np.ndarray, population: AnalysisPopulation
) -> np.ndarray:
    """The round's ratings of ``statement_ids`` in ``population`` as an int64 array of shape (n, 5): statement id,
    panellist id, value (-1 for none), unable (0/1), the panellist's group id; (0, 5) when there are none."""
    # Ratings are read a few statements at a time as plain integer rows (no ORM objects) and packed into numpy
    # at once, so two million of them load in seconds and never sit in memory as Python objects all together.
    parts = []
    conn = await session.connection()
    for start in range(0, len(statement_ids), STATEMENTS_PER_QUERY):
        chunk = statement_ids[start : start + STATEMENTS_PER_QUERY].tolist()
        rows = (
            await conn.execute(
                select(
                    Rating.statement_id,
                    Rating.panellist_id,
                    func.coalesce(Rating.value, -1),
                    Rating.unable,
                    Panellist.group_id,
                )
                .join(Panellist, Panellist.id == Rating.panellist_id)
                .where(
                    Rating.round_id == round_id,
                    Rating.statement_id.in_(chunk),
                    in_population(round_id, population),
                )
            )
        ).all()
        parts.append(
            np.fromiter(chain.from_iterable(rows), dtype=np.int64, count=5 * len(rows)).reshape(-1, 5)
        )
        del rows
    return np.concatenate(parts) if parts else np.zeros((0, 5), np.int64)


async def load_rating_matrix(
    session: AsyncSession,
    panel_id: int,
    round_id: int,
    only: Sequence[int] | None = None,
    *,
    population: AnalysisPopulation,
) -> RatingMatrix:
    """Load a round's saved ratings in the analysis ``population`` into a :class:`RatingMatrix`.

    ``only`` keeps the given statement ids (in the round's order); ``population`` ``submitted`` keeps the
    panellists who submitted the round, ``all`` every panellist with a saved answer.

    Three light queries (statements, groups, ratings joined to panellists' groups); the ratings are read as plain
    tuples and scattered into the matrix with numpy, so 2 million ratings load in seconds.
    """
    statement_ids = await round_statement_ids(session, round_id)
    if only is not None:
        statement_ids = statement_ids[np.isin(statement_ids, np.asarray(list(only), dtype=np.int64))]
    group_ids = await panel_group_ids(session, panel_id)
    table = await _rating_table(session, round_id, statement_ids, population)
    n = len(table)
    if n == 0:
        s = len(statement_ids)
        return RatingMatrix(
            statement_ids,
            np.zeros(0, np.int64),
            np.zeros(0, np.int64),
            group_ids,
            np.full((s, 0), np.nan),
            np.zeros((s, 0), bool),
        )
    sid, pid, raw, una, gid = (table[:, i] for i in range(5))
    una = una.astype(bool)
    val = np.where(raw < 0, np.nan, raw.astype(np.float64))
    del table
    panellist_ids, col = np.unique(pid, return_inverse=True)
    s_order = np.argsort(statement_ids)
    pos = np.searchsorted(statement_ids[s_order], sid)
    pos = np.clip(pos, 0, max(len(statement_ids) - 1, 0))
    known = (
        (len(statement_ids) > 0) & (statement_ids[s_order][pos] == sid)
        if len(statement_ids)
        else np.zeros(n, bool)
    )
    row = s_order[pos]
    values = np.full((len(statement_ids), len(panellist_ids)), np.nan)
    unable = np.zeros((len(statement_ids), len(panellist_ids)), bool)
    values[row[known], col[known]] = np.where(una[known], np.nan, val[known])
    unable[row[known], col[known]] = una[known]
    group_of_panellist = np.zeros(len(panellist_ids), np.int64)
    group_of_panellist[col] = gid
    g_order = np.argsort(group_ids)
    group_index = g_order[np.searchsorted(group_ids[g_order], group_of_panellist)]
    return RatingMatrix(statement_ids, panellist_ids, group_index.astype(np.int64), group_ids, values, unable)


@dataclass(frozen=True, slots=True)
class RoundCounts:
    """A round's ratings counted where they are stored: ``tabulation`` holds counts (S, G, K) per statement, group
    and scale point, "unable" answers (S, G) and panellists in the population with any saved answer per group
    (G,).
    ``statement_ids`` (S,) and ``group_ids`` (G,) give the order of the axes."""

    statement_ids: NDArray[np.int64]
    group_ids: NDArray[np.int64]
    tabulation: Tabulation


async def count_round_ratings(
    session: AsyncSession,
    panel_id: int,
    round_id: int,
    scale_min: int,
    scale_max: int,
    *,
    population: AnalysisPopulation,
) -> RoundCounts:
    """Count a round's ratings in the analysis ``population`` with two ``GROUP BY`` queries, so closing a round
    never loads its ratings.

    Gives the same table as :func:`delphi.stats.tabulate` on :func:`load_rating_matrix`'s matrix for the same
    population.  Raises
    ValueError if a stored rating lies off the scale (saves are validated, so this means a damaged database).
    """
    statement_ids = await round_statement_ids(session, round_id)
    group_ids = await panel_group_ids(session, panel_id)
    k = scale_max - scale_min + 1
    counts = np.zeros((len(statement_ids), len(group_ids), k), np.int64)
    n_unable = np.zeros((len(statement_ids), len(group_ids)), np.int64)
    group_size = np.zeros(len(group_ids), np.int64)
    s_index = {int(sid): i for i, sid in enumerate(statement_ids)}
    g_index = {int(gid): i for i, gid in enumerate(group_ids)}
    # One integer key per (statement, group, value, unable) makes the GROUP BY several times faster on SQLite
    # than grouping by four columns: statement id in the high 32 bits, group id in the next 20, then the value.
    value_code = (func.coalesce(Rating.value, literal_column("-1")) + literal_column("1")) * literal_column(
        "2"
    ) + case((Rating.unable, literal_column("1")), else_=literal_column("0"))
    key = (
        cast(Rating.statement_id, BigInteger) * literal_column(str(_STATEMENT_SHIFT))
        + cast(Panellist.group_id, BigInteger) * literal_column(str(_GROUP_SHIFT))
        + value_code
    ).label("k")
    conn = await session.connection()
    tally = await conn.execute(
        select(key, func.count())
        .select_from(Rating)
        .join(Panellist, Panellist.id == Rating.panellist_id)
        .where(Rating.round_id == round_id, in_population(round_id, population))
        .group_by(key)
    )
    for k, n in tally:
        sid, rest = divmod(int(k), _STATEMENT_SHIFT)
        gid, code = divmod(rest, _GROUP_SHIFT)
        value, unable = code // 2 - 1, code % 2 == 1
        i, g = s_index.get(sid), g_index.get(gid)
        if i is None or g is None:
            continue
        if unable:
            n_unable[i, g] += n
        elif value >= 0:  # -1 is a saved row without an answer (panel scales start at 0 or more)
            if not scale_min <= value <= scale_max:
                raise ValueError(f"a stored rating {value} of statement {sid} lies off the scale")
            counts[i, g, value - scale_min] += n
    answered = (
        select(Rating.id).where(Rating.round_id == round_id, Rating.panellist_id == Panellist.id).exists()
    )
    sizes = await conn.execute(
        select(Panellist.group_id, func.count())
        .where(answered, in_population(round_id, population))
        .group_by(Panellist.group_id)
    )
    for gid, n in sizes:
        if gid in g_index:
            group_size[g_index[gid]] = n
    return RoundCounts(statement_ids, group_ids, Tabulation(counts, n_unable, group_size))
