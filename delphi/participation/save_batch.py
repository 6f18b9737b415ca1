"""Several panellists' background saves written together, with a handful of cached statements.

:func:`write_batch` is the database half of :class:`delphi.participation.save_queue.SaveQueue`, written for a
synchronous connection so that a batch runs whole in one thread on SQLite (one hand-over to the driver's
thread instead of a dozen, see :func:`delphi.db.engine.sqlite_thread_engine`) and under
:meth:`~sqlalchemy.ext.asyncio.AsyncConnection.run_sync` on PostgreSQL.  For a batch of :class:`SaveJob` (each
one panellist's answer to one statement, as the rating page's script sends it) it runs:

1. one query for every panellist's session version, status, consent, panel scale and open round, with the
   statements they have answered in it (so their count, and which of the batch's statements were answered
   before);
2. the statements of each open round, read once per round and then kept in ``rounds`` (a round's statements
   are fixed when it opens: only draft rounds are edited);
3. one upsert per input shape (usually one: an answer alone), each row with the language its panellist
   answered in (read by the first query, so it costs nothing more);
4. a read-back of the saved answer only for inputs that carried none (a comment or reason alone).

A close, which locks the round ``FOR UPDATE`` before it re-reads its status, must not freeze results without
an answer a batch is about to acknowledge (:mod:`delphi.db.locks`).  On SQLite the batch is one transaction
started with ``BEGIN IMMEDIATE``, so a close waits for it or it for the close, and then sees the round closed.
On PostgreSQL the queue's connection commits each statement on its own, and the upsert
(:func:`~delphi.participation.writes.upsert_while_open_statement`) writes each row only while its round is
open, read under a share lock on the round row, and commits in the same round trip: a batch is two round
trips (the checks' read, the write), and the rows it did not write, their round having closed meanwhile, take
the full path.

Where the panel asks for a reason outside last round's IQR, :func:`mark_outside_iqr` then reads last round's
feedback (frozen when that round closed, so outside the batch's transaction) and marks the saves outside it.

Each panellist's answered count after the batch is the count before it plus what the batch's answers changed
(a statement answered for the first time).  On SQLite the batch is one serialised transaction, so the count is
exact; on PostgreSQL, where four writers run at once, a panellist's saves to two statements in two concurrent
batches may each report the count without the other's, and the next save corrects it.

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
from dataclasses import dataclass, replace
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Integer, String, and_, any_, bindparam, cast, func, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ColumnElement, Select

from delphi.db.dialect import dialect_name
from delphi.db.locks import take_write_lock
from delphi.db.models import Panel, Panellist, Rating, Round, RoundStatement
from delphi.db.queries import ANSWERED
from delphi.domain import RoundStatus
from delphi.participation import checks
from delphi.participation.checks import Answer, CleanInput, RatingInput, Scale
from delphi.participation.facts import Progress, scale_of
from delphi.participation.feedback import load_feedback
from delphi.participation.saving import SaveResult
from delphi.participation.writes import (
    array_params,
    upsert_params,
    upsert_statement,
    upsert_while_open_statement,
)
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
    """A job that passed every check: where it goes, its panellist's answered count before the batch and
    whether they had answered its statement."""

    index: int
    panellist_id: int
    panel_id: int
    round_id: int
    round_number: int
    round_size: int
    asks_reasons: bool
    clean: CleanInput
    language: str | None
    answered_before: int
    was_answered: bool


def _among(column: Any, name: str, dialect: str) -> ColumnElement[bool]:
    """``column`` among the integers of the parameter ``name``: on PostgreSQL ``= ANY(:name)`` (one array
    parameter, so the statement's text, and its prepared statement, is the same for every batch size); on
    SQLite an expanding ``IN``."""
    if dialect == "postgresql":
        return column == any_(bindparam(name, type_=ARRAY(Integer)))
    return column.in_(bindparam(name, expanding=True))


def _answered_ids(joined: str | None) -> frozenset[str]:
    """The statement ids (as text) of ``answered``, a comma-joined list; empty for None (none answered)."""
    return frozenset(joined.split(",")) if joined else frozenset()


@lru_cache(maxsize=4)
def _targets_query(dialect: str) -> Select[Any]:
    """Panellists (``:ids``) with their language, their panel's scale and the panel's open round, and the
    statements they have answered in that round (``answered``: the ids joined by commas, None for none; one
    scan of their ratings gives both the count and whether a batch's statement was answered before)."""
    answered = (
        select(func.aggregate_strings(cast(Rating.statement_id, String), ","))
        .where(Rating.round_id == Round.id, Rating.panellist_id == Panellist.id, ANSWERED)
        .scalar_subquery()
    )
    return (
        select(
            Panellist.id,
            Panellist.session_version,
            Panellist.sessions_ended_at,
            Panellist.status,
            Panellist.erased_at.is_not(None).label("erased"),
            Panellist.consented_at.is_not(None).label("consented"),
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
            answered.label("answered"),
        )
        .join(Panel, Panel.id == Panellist.panel_id)
        .join(Round, and_(Round.panel_id == Panellist.panel_id, Round.status == RoundStatus.OPEN))
        .where(_among(Panellist.id, "ids", dialect))
    )


@lru_cache(maxsize=4)
def _saved_query(dialect: str) -> Select[Any]:
    """Saved answers among ``:rounds`` × ``:panellists`` × ``:statements`` (filtered to the exact keys after)."""
    return select(
        Rating.round_id, Rating.panellist_id, Rating.statement_id, Rating.value, Rating.unable
    ).where(
        _among(Rating.round_id, "rounds", dialect),
        _among(Rating.panellist_id, "panellists", dialect),
        _among(Rating.statement_id, "statements", dialect),
    )


@lru_cache(maxsize=1)
def _members_query() -> Select[Any]:
    """Every (round, statement) of the rounds ``:rounds`` (expanding)."""
    return select(RoundStatement.round_id, RoundStatement.statement_id).where(
        RoundStatement.round_id.in_(bindparam("rounds", expanding=True))
    )


#: (round id, opened at) -> the round's statement ids; the opening time tells a new round from a deleted one
#: whose id SQLite gave again.
RoundMembers = dict[tuple[int, Any], frozenset[int]]


def _may_write(row: Any, job: SaveJob, members: frozenset[int], now: datetime) -> bool:
    """Whether ``job`` passes the session and write checks of the full path, for its panellist's ``row`` of
    :func:`_targets_query` and its open round's statements ``members``."""
    return checks.session_valid(
        row.status,
        bool(row.erased),
        row.session_version,
        job.session_version,
        ended_at=row.sessions_ended_at,
        started=job.session_started,
    ) and (
        checks.write_refusal(
            consented=bool(row.consented),
            round_status=row.round_status,
            closes_at=row.closes_at,
            round_number=row.round_number,
            wanted=(job.item.statement_id,),
            in_round=members,
            now=now,
        )
        is None
    )


def _accept(
    conn: Connection, dialect: str, jobs: Sequence[SaveJob], now: datetime, rounds: RoundMembers
) -> list[_Accepted]:
    """The jobs that pass every check of ``save_rating``, at most one per (panellist, statement)."""
    rows = (
        conn.execute(
            _targets_query(dialect),
            {"ids": sorted({j.panellist_id for j in jobs})},
        )
    ).all()
    targets: dict[int, Any] = {}
    answered: dict[int, frozenset[str]] = {}
    for row in rows:  # two open rounds for one panel cannot happen; if it did, the full path decides
        targets[row.id] = None if row.id in targets else row
        answered[row.id] = _answered_ids(row.answered)
    unknown = {(r.round_id, r.opened_at) for r in targets.values() if r is not None} - rounds.keys()
    if unknown:
        if len(rounds) > 1000:  # rounds long closed; the open ones are read again
            rounds.clear()
        found: dict[int, set[int]] = {round_id: set() for round_id, _ in unknown}
        for round_id, statement_id in conn.execute(_members_query(), {"rounds": sorted(found)}).all():
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
                len(answered[job.panellist_id]),
                str(job.item.statement_id) in answered[job.panellist_id],
            )
        )
    return passed


def _upsert(conn: Connection, dialect: str, accepted: list[_Accepted], now: datetime) -> list[_Accepted]:
    """Write ``accepted``, one statement per input shape, rows in key order (as every writer locks rows, so
    none deadlock); the ones written: all of them on SQLite, whose transaction holds the write lock; on
    PostgreSQL those whose round was still open (the rest, a close having overtaken them, take the full path)."""
    by_shape: dict[tuple[bool, bool, bool], list[dict[str, Any]]] = defaultdict(list)
    for a in accepted:
        by_shape[a.clean.shape].append(upsert_params(a.round_id, a.panellist_id, a.clean, now, a.language))
    for params in by_shape.values():
        params.sort(key=lambda row: (row["round_id"], row["statement_id"], row["panellist_id"]))
    if dialect != "postgresql":
        for shape, params in by_shape.items():
            conn.execute(upsert_statement(dialect, shape), params)
        return accepted
    written: set[tuple[int, int, int]] = set()
    for shape, params in by_shape.items():
        rows = conn.execute(upsert_while_open_statement(shape), array_params(params, now))
        written.update((r, st, p) for r, st, p in rows.all())
    return [a for a in accepted if (a.round_id, a.clean.statement_id, a.panellist_id) in written]


@dataclass(frozen=True, slots=True)
class Written:
    """What :func:`write_batch` wrote: one result per job, in order (None: not written, take the full path), and
    the saves whose panel asks for a reason outside last round's IQR (round 2 on, a value saved), for
    :func:`mark_outside_iqr`."""

    results: list[SaveResult | None]
    asking: list[_Accepted]


def write_batch(conn: Connection, jobs: Sequence[SaveJob], now: datetime, rounds: RoundMembers) -> Written:
    """Save every job that may be saved, on ``conn``: in its transaction, which the caller commits, or on a
    PostgreSQL connection in autocommit, as the queue runs it, where the write commits itself.

    ``rounds`` carries the open rounds' statements from one batch to the next (filled in here as needed; an
    empty dict reads them afresh).  Every result has ``outside_iqr`` False: :func:`mark_outside_iqr` sets it.
    A job is not written when it failed a check, repeats an earlier job's panellist and statement, or (on
    PostgreSQL) found its round closed by the time of the write.
    """
    dialect = dialect_name(conn)
    take_write_lock(conn)  # SQLite: the checks below and the upsert are one serialised transaction
    accepted = _accept(conn, dialect, jobs, now, rounds)
    results: list[SaveResult | None] = [None] * len(jobs)
    if not accepted:
        return Written(results, [])
    accepted = _upsert(conn, dialect, accepted, now)
    answered = {a.panellist_id: a.answered_before for a in accepted}
    for a in accepted:
        if a.clean.answer is not None:
            answered[a.panellist_id] += a.clean.answer.given - a.was_answered
    saved = {a.index: a.clean.answer for a in accepted if a.clean.answer is not None}
    unread = [a for a in accepted if a.clean.answer is None]
    if unread:  # a comment or reason alone: report the answer it kept
        rows = conn.execute(
            _saved_query(dialect),
            {
                "rounds": sorted({a.round_id for a in unread}),
                "panellists": sorted({a.panellist_id for a in unread}),
                "statements": sorted({a.clean.statement_id for a in unread}),
            },
        )
        stored = {(r, p, st): Answer(v, bool(u)) for r, p, st, v, u in rows.all()}
        for a in unread:
            saved[a.index] = stored[(a.round_id, a.panellist_id, a.clean.statement_id)]
    for a in accepted:
        results[a.index] = SaveResult(
            statement_id=a.clean.statement_id,
            value=saved[a.index].value,
            unable=saved[a.index].unable,
            outside_iqr=False,
            progress=Progress(answered[a.panellist_id], a.round_size),
            saved_at=now,
        )
    asking = [
        a for a in accepted if a.asks_reasons and a.round_number > 1 and saved[a.index].value is not None
    ]
    return Written(results, asking)


async def mark_outside_iqr(session: AsyncSession, written: Written) -> list[SaveResult | None]:
    """``written.results`` with ``outside_iqr`` set on the saves outside last round's pooled IQR (read through
    ``session``; one feedback load per panellist among ``written.asking``)."""
    results = list(written.results)
    by_panellist: dict[int, list[_Accepted]] = defaultdict(list)
    for a in written.asking:
        by_panellist[a.panellist_id].append(a)
    for panellist_id, items in by_panellist.items():
        panel = await session.get(Panel, items[0].panel_id)
        rnd = await session.get(Round, items[0].round_id)
        assert panel is not None and rnd is not None
        feedback = await load_feedback(
            session, panel, rnd, panellist_id, [a.clean.statement_id for a in items], comments=False
        )
        for a in items:
            fb, result = feedback.get(a.clean.statement_id), results[a.index]
            assert result is not None
            if fb is not None and figures.outside_iqr(result.value, fb.pooled.q1, fb.pooled.q3):
                results[a.index] = replace(result, outside_iqr=True)
    return results
