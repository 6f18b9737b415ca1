"""Several panellists' background saves written in one transaction, with a handful of cached statements.

:func:`write_batch` is the database half of :class:`delphi.participation.save_queue.SaveQueue`.  For a batch of
:class:`SaveJob` (each one panellist's answer to one statement, as the rating page's script sends it) it runs:

1. one query for every panellist's session version, status, consent, panel scale and open round, under the
   lock a close needs (:mod:`delphi.db.locks`: on SQLite the transaction starts with ``BEGIN IMMEDIATE``, on
   PostgreSQL the round rows are share-locked), so a close, which locks the round ``FOR UPDATE`` before it
   re-reads its status, waits for this batch rather than freeze results without an answer the batch is about
   to acknowledge; a batch that starts after a close sees the round closed;
2. the statements of each open round, read once per round and then kept in ``rounds`` (a round's statements
   are fixed when it opens: only draft rounds are edited);
3. one ``executemany`` upsert per input shape (usually one: an answer alone), each row with the language its
   panellist answered in (read by the first query, so it costs nothing more);
4. one query for answered counts per (round, panellist), plus a read-back of the saved answer for inputs that
   carried none, and last round's feedback only where the panel asks for reasons outside the IQR.

The checks are those of :func:`delphi.participation.saving.save_rating`, asked of the same functions
(:func:`~delphi.participation.checks.session_valid`, :func:`~delphi.participation.checks.write_refusal`,
:func:`~delphi.participation.checks.clean_input`).  A job that fails any of them is *not* written and its
result is None: the caller then runs ``save_rating`` for it, which raises the precise error (or saves, if the
state changed in between).  So the batch never has to phrase an error and one bad job never holds back the
others.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import and_, bindparam, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.sql import Select

from delphi.db.dialect import dialect_name
from delphi.db.locks import begin_write
from delphi.db.models import Panel, Panellist, Rating, Round, RoundStatement
from delphi.db.queries import ANSWERED
from delphi.domain import RoundStatus
from delphi.participation import checks
from delphi.participation.checks import CleanInput, RatingInput, Scale
from delphi.participation.facts import Progress, scale_of
from delphi.participation.feedback import load_feedback
from delphi.participation.saving import SaveResult
from delphi.participation.writes import upsert_params, upsert_statement
from delphi.rounds import figures


@dataclass(frozen=True, slots=True)
class SaveJob:
    """One background save: who (the session cookie's panellist id, session version and start stamp, epoch
    seconds; None counts as signed out if the panellist ever signed out) and what."""

    panellist_id: int
    session_version: int
    item: RatingInput
    session_started: float | None = None


@dataclass(frozen=True, slots=True)
class _Accepted:
    index: int
    panellist_id: int
    panel_id: int
    round_id: int
    round_number: int
    round_size: int
    asks_reasons: bool
    clean: CleanInput
    language: str | None


@lru_cache(maxsize=4)
def _targets_query(dialect: str) -> Select[Any]:
    """Panellists (``:ids``, expanding) with their language, their panel's scale and the panel's open round."""
    stmt = (
        select(
            Panellist.id,
            Panellist.session_version,
            Panellist.sessions_ended_at,
            Panellist.status,
            Panellist.erased_at,
            Panellist.consented_at,
            Panellist.language,
            Panel.id.label("panel_id"),
            Panel.scale_min,
            Panel.scale_max,
            Panel.scale_labels,
            Panel.allow_unable,
            Panel.unable_label,
            Panel.ask_reason_outside_iqr,
            Round.id.label("round_id"),
            Round.number.label("round_number"),
            Round.status.label("round_status"),
            Round.closes_at,
            Round.opened_at,
        )
        .join(Panel, Panel.id == Panellist.panel_id)
        .join(Round, and_(Round.panel_id == Panellist.panel_id, Round.status == RoundStatus.OPEN))
        .where(Panellist.id.in_(bindparam("ids", expanding=True)))
    )
    if dialect == "postgresql":
        stmt = stmt.where(or_(Round.closes_at.is_(None), Round.closes_at > bindparam("now"))).with_for_update(
            read=True, of=Round
        )
    return stmt


@lru_cache(maxsize=1)
def _members_query() -> Select[Any]:
    """Every (round, statement) of the rounds ``:rounds`` (expanding)."""
    return select(RoundStatement.round_id, RoundStatement.statement_id).where(
        RoundStatement.round_id.in_(bindparam("rounds", expanding=True))
    )


#: (round id, opened at) -> the round's statement ids; the opening time tells a new round from a deleted one
#: whose id SQLite gave again.
RoundMembers = dict[tuple[int, Any], frozenset[int]]


@lru_cache(maxsize=1)
def _answered_query() -> Select[Any]:
    """Answered statements (a rating or "unable") per (round, panellist) among ``:rounds`` × ``:panellists``.

    Counted on the ratings alone, as :func:`delphi.participation.facts.progress` counts them: a round's ratings
    are all of its own statements (a save is refused outside them, and statements leave a round only while it
    is a draft), so joining ``round_statements`` would only add a lookup per rating.
    """
    return (
        select(Rating.round_id, Rating.panellist_id, func.count())
        .where(
            Rating.round_id.in_(bindparam("rounds", expanding=True)),
            Rating.panellist_id.in_(bindparam("panellists", expanding=True)),
            ANSWERED,
        )
        .group_by(Rating.round_id, Rating.panellist_id)
    )


@lru_cache(maxsize=1)
def _saved_query() -> Select[Any]:
    """Saved answers among ``:rounds`` × ``:panellists`` × ``:statements`` (filtered to the exact keys after)."""
    return select(
        Rating.round_id, Rating.panellist_id, Rating.statement_id, Rating.value, Rating.unable
    ).where(
        Rating.round_id.in_(bindparam("rounds", expanding=True)),
        Rating.panellist_id.in_(bindparam("panellists", expanding=True)),
        Rating.statement_id.in_(bindparam("statements", expanding=True)),
    )


def _may_write(row: Any, job: SaveJob, members: frozenset[int], now: datetime) -> bool:
    """Whether ``job`` passes the session and write checks of the full path, for its panellist's ``row`` of
    :func:`_targets_query` and its open round's statements ``members``."""
    return checks.session_valid(
        row.status,
        row.erased_at is not None,
        row.session_version,
        job.session_version,
        ended_at=row.sessions_ended_at,
        started=job.session_started,
    ) and (
        checks.write_refusal(
            consented=row.consented_at is not None,
            round_status=row.round_status,
            closes_at=row.closes_at,
            round_number=row.round_number,
            wanted=(job.item.statement_id,),
            in_round=members,
            now=now,
        )
        is None
    )


async def _accept(
    conn: AsyncConnection, dialect: str, jobs: Sequence[SaveJob], now: datetime, rounds: RoundMembers
) -> list[_Accepted]:
    """The jobs that pass every check of ``save_rating``, at most one per (panellist, statement)."""
    rows = (
        await conn.execute(
            _targets_query(dialect), {"ids": sorted({j.panellist_id for j in jobs}), "now": now}
        )
    ).all()
    targets: dict[int, Any] = {}
    for row in rows:  # two open rounds for one panel cannot happen; if it did, the full path decides
        targets[row.id] = None if row.id in targets else row
    unknown = {(r.round_id, r.opened_at) for r in targets.values() if r is not None} - rounds.keys()
    if unknown:
        if len(rounds) > 1000:  # rounds long closed; the open ones are read again
            rounds.clear()
        found: dict[int, set[int]] = {round_id: set() for round_id, _ in unknown}
        for round_id, statement_id in (await conn.execute(_members_query(), {"rounds": sorted(found)})).all():
            found[round_id].add(statement_id)
        rounds.update({(round_id, opened): frozenset(found[round_id]) for round_id, opened in unknown})
    passed: list[_Accepted] = []
    seen: set[tuple[int, int]] = set()
    scales: dict[int, Scale] = {}
    for index, job in enumerate(jobs):
        row = targets.get(job.panellist_id)
        key = (job.panellist_id, job.item.statement_id)
        if row is None or key in seen or not _may_write(row, job, rounds[(row.round_id, row.opened_at)], now):
            continue
        if row.panel_id not in scales:
            scales[row.panel_id] = scale_of(row)
        clean = checks.clean_input(job.item, scales[row.panel_id])
        if isinstance(clean, list):
            continue
        seen.add(key)
        passed.append(
            _Accepted(
                index,
                job.panellist_id,
                row.panel_id,
                row.round_id,
                row.round_number,
                len(rounds[(row.round_id, row.opened_at)]),
                bool(row.ask_reason_outside_iqr),
                clean,
                row.language,
            )
        )
    return passed


async def _outside_iqr(
    conn: AsyncConnection, accepted: list[_Accepted], values: dict[int, int | None]
) -> set[int]:
    """Indexes of saved ratings outside last round's pooled IQR, for panels that ask for a reason then.

    ``values``: the saved value by job index (None for "unable" or no answer)."""
    asking = [a for a in accepted if a.asks_reasons and a.round_number > 1 and values[a.index] is not None]
    if not asking:
        return set()
    outside: set[int] = set()
    session = AsyncSession(bind=conn)
    try:
        by_panellist: dict[int, list[_Accepted]] = defaultdict(list)
        for a in asking:
            by_panellist[a.panellist_id].append(a)
        for panellist_id, items in by_panellist.items():
            panel = await session.get(Panel, items[0].panel_id)
            rnd = await session.get(Round, items[0].round_id)
            assert panel is not None and rnd is not None
            feedback = await load_feedback(
                session, panel, rnd, panellist_id, [a.clean.statement_id for a in items], comments=False
            )
            for a in items:
                fb = feedback.get(a.clean.statement_id)
                if fb is not None and figures.outside_iqr(values[a.index], fb.pooled.q1, fb.pooled.q3):
                    outside.add(a.index)
    finally:
        await session.close()
    return outside


async def write_batch(
    conn: AsyncConnection, jobs: Sequence[SaveJob], now: datetime, rounds: RoundMembers
) -> list[SaveResult | None]:
    """Save every job that may be saved, in ``conn``'s transaction (the caller commits).

    ``rounds`` carries the open rounds' statements from one batch to the next (filled in here as needed; an
    empty dict reads them afresh).

    Returns one entry per job, in order: its :class:`SaveResult`, or None when the job was not written (it
    failed a check, or repeats an earlier job's panellist and statement) and must take the full path.
    """
    dialect = dialect_name(conn)
    await begin_write(conn)  # SQLite: the checks below and the upsert are one serialised transaction
    accepted = await _accept(conn, dialect, jobs, now, rounds)
    results: list[SaveResult | None] = [None] * len(jobs)
    if not accepted:
        return results
    by_shape: dict[tuple[bool, bool, bool], list[dict[str, Any]]] = defaultdict(list)
    for a in accepted:
        by_shape[a.clean.shape].append(upsert_params(a.round_id, a.panellist_id, a.clean, now, a.language))
    for shape, params in by_shape.items():  # in key order, as every writer locks rows, so none deadlock
        params.sort(key=lambda row: (row["round_id"], row["statement_id"], row["panellist_id"]))
        await conn.execute(upsert_statement(dialect, shape), params)

    round_ids = sorted({a.round_id for a in accepted})
    panellist_ids = sorted({a.panellist_id for a in accepted})
    answered = {
        (r, p): int(n)
        for r, p, n in (
            await conn.execute(_answered_query(), {"rounds": round_ids, "panellists": panellist_ids})
        ).all()
    }
    saved: dict[int, tuple[int | None, bool]] = {
        a.index: (a.clean.answer.value, a.clean.answer.unable) for a in accepted if a.clean.answer is not None
    }
    unread = [a for a in accepted if a.clean.answer is None]
    if unread:
        rows = await conn.execute(
            _saved_query(),
            {
                "rounds": sorted({a.round_id for a in unread}),
                "panellists": sorted({a.panellist_id for a in unread}),
                "statements": sorted({a.clean.statement_id for a in unread}),
            },
        )
        stored = {(r, p, s): (v, bool(u)) for r, p, s, v, u in rows.all()}
        for a in unread:
            saved[a.index] = stored[(a.round_id, a.panellist_id, a.clean.statement_id)]
    outside = await _outside_iqr(conn, accepted, {i: v for i, (v, _) in saved.items()})
    for a in accepted:
        value, unable = saved[a.index]
        results[a.index] = SaveResult(
            statement_id=a.clean.statement_id,
            value=value,
            unable=unable,
            outside_iqr=a.index in outside,
            progress=Progress(answered.get((a.round_id, a.panellist_id), 0), a.round_size),
            saved_at=now,
        )
    return results
