"""Saving answers on the full path: a page of answers, or one answer with the precise refusal.

Every function works in the caller's transaction (the web layer commits on success and rolls back on an error
answer); checks come first (:mod:`delphi.participation.checks`), so a refused write leaves nothing half-saved.
Ratings are written with one SQL upsert per answer (:mod:`delphi.participation.writes`), so two tabs, a double
click or a replayed request change nothing twice; each records the language the panellist answers in
(``Panellist.language`` at the time, into ``Rating.language``).  The rating page's background saves are written
in groups by :mod:`delphi.participation.save_queue`; this is the path for whatever a group may not write.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from delphi.db.dialect import dialect_name
from delphi.db.locks import begin_write
from delphi.db.models import Panel, Panellist, Rating, Round, RoundStatement, utcnow
from delphi.errors import InvalidInput
from delphi.participation import checks, links
from delphi.participation.checks import RatingInput, Scale
from delphi.participation.facts import Progress, current_round, progress, scale_of
from delphi.participation.feedback import load_feedback
from delphi.participation.issues import N_, fail, fail_many, session_ended
from delphi.participation.writes import upsert_params, upsert_statement
from delphi.rounds import figures


@dataclass(frozen=True, slots=True)
class SaveResult:
    """What one saved answer looks like now, and the panellist's progress in the round."""

    statement_id: int
    value: int | None
    unable: bool
    outside_iqr: bool
    progress: Progress
    saved_at: datetime


@dataclass(frozen=True, slots=True)
class WriteTarget:
    """The panel and open round a checked write goes to, with the panel's scale."""

    panel: Panel
    round_id: int
    round_number: int
    scale: Scale


async def write_target(
    session: AsyncSession, panellist: Panellist, statement_ids: Iterable[int], now: datetime
) -> WriteTarget:
    """Check that the panellist may write answers to ``statement_ids`` now; the panel and round to write to.

    The checks of :func:`delphi.participation.checks.write_refusal`, in its order (consent, an open round, the
    closing time, every statement in that round), each raising its error.  The transaction takes the write lock
    first (:func:`~delphi.db.locks.begin_write`; the round row's share lock on PostgreSQL), so a close commits
    either before these checks or after this transaction's write.  A panel deleted under the session raises
    :class:`~delphi.participation.issues.SessionEnded`.
    """
    _raise(checks.consent_refusal(panellist.consented_at is not None))
    await begin_write(session)
    panel = await session.get(Panel, panellist.panel_id)
    if panel is None:
        raise session_ended()
    rnd = await current_round(session, panel.id, for_write=True)
    if rnd is None:
        raise checks.no_round_open()
    _raise(checks.round_refusal(rnd.status, rnd.closes_at, rnd.number, now))
    wanted = set(statement_ids)
    if wanted:
        present = set(
            (
                await session.scalars(
                    select(RoundStatement.statement_id).where(
                        RoundStatement.round_id == rnd.id, RoundStatement.statement_id.in_(list(wanted))
                    )
                )
            ).all()
        )
        _raise(checks.statements_refusal(wanted, present))
    return WriteTarget(panel, rnd.id, rnd.number, scale_of(panel))


def _raise(refusal: Exception | None) -> None:
    if refusal is not None:
        raise refusal


async def save_rating(
    session: AsyncSession, panellist: Panellist, item: RatingInput, now: datetime | None = None
) -> SaveResult:
    """Save one statement's answer with one upsert, in the caller's transaction.

    The grouped background save (:mod:`delphi.participation.save_batch`) applies the same checks; this path
    phrases the refusal.  Raises :class:`ConsentNeeded`, :class:`NoRoundOpen`, :class:`RoundClosed`,
    :class:`StatementNotInRound` or :class:`~delphi.errors.InvalidInput` (off the scale, text too long) before
    writing anything.
    """
    now = now or utcnow()
    target = await write_target(session, panellist, [item.statement_id], now)
    clean = checks.clean_input(item, target.scale)
    if isinstance(clean, list):
        raise fail_many(InvalidInput, clean)
    await session.execute(
        upsert_statement(dialect_name(session), clean.shape),
        upsert_params(target.round_id, panellist.id, clean, now, panellist.language),
    )
    row = (
        await session.execute(
            select(Rating.value, Rating.unable).where(
                Rating.round_id == target.round_id,
                Rating.statement_id == item.statement_id,
                Rating.panellist_id == panellist.id,
            )
        )
    ).one()
    outside = False
    if target.panel.ask_reason_outside_iqr and row.value is not None:
        rnd = await session.get(Round, target.round_id)
        assert rnd is not None
        fb = await load_feedback(
            session, target.panel, rnd, panellist.id, [item.statement_id], comments=False
        )
        if item.statement_id in fb:
            pooled = fb[item.statement_id].pooled
            outside = figures.outside_iqr(row.value, pooled.q1, pooled.q3)
    return SaveResult(
        statement_id=item.statement_id,
        value=row.value,
        unable=bool(row.unable),
        outside_iqr=outside,
        progress=await progress(session, target.round_id, panellist.id),
        saved_at=now,
    )


async def save_ratings(
    session: AsyncSession, panellist: Panellist, items: Sequence[RatingInput], now: datetime | None = None
) -> Progress:
    """Save a page of answers in the caller's transaction: all or nothing.

    Every item is checked first; any problem raises :class:`~delphi.errors.InvalidInput` with one issue per
    bad field (``s<id>``, ``c<id>``, ``r<id>``) and nothing is written.  Items with no answer and no text that
    have nothing saved yet are skipped (an untouched statement leaves no row).
    """
    now = now or utcnow()
    target = await write_target(session, panellist, [i.statement_id for i in items], now)
    cleaned, issues = checks.clean_inputs(items, target.scale)
    if issues:
        raise fail_many(InvalidInput, issues)
    existing = set(
        (
            await session.scalars(
                select(Rating.statement_id).where(
                    Rating.round_id == target.round_id,
                    Rating.panellist_id == panellist.id,
                    Rating.statement_id.in_([c.statement_id for c in cleaned]),
                )
            )
        ).all()
    )
    dialect = dialect_name(session)
    for clean in cleaned:
        if clean.empty and clean.statement_id not in existing:
            continue
        await session.execute(
            upsert_statement(dialect, clean.shape),
            upsert_params(target.round_id, panellist.id, clean, now, panellist.language),
        )
    return await progress(session, target.round_id, panellist.id)


async def save_rating_alone(
    engine: AsyncEngine,
    panellist_id: object,
    version: object,
    item: RatingInput | None,
    on_panellist: Callable[[Panellist], None],
    started: object = None,
) -> SaveResult:
    """One answer saved in a transaction of its own, with every check phrased: the session cookie's
    ``panellist_id``, ``version`` and ``started`` (its start stamp, epoch seconds) that are not (or no longer)
    valid are refused first (:func:`delphi.participation.links.panellist_for_session`), then a body that was
    not a JSON object (``item`` None), then whatever :func:`save_rating` refuses.  ``on_panellist`` is told the panellist as soon as the
    session is found valid (the caller then answers a refusal in the panellist's language).  Commits on success.
    """
    async with AsyncSession(engine, expire_on_commit=False) as session:
        async with session.begin():
            await begin_write(session)  # the session check too is serialised with a close (SQLite)
            panellist = await links.panellist_for_session(session, panellist_id, version, started)
            on_panellist(panellist)
            if item is None:
                raise fail(InvalidInput, N_("Send the answer as a JSON object."))
            return await save_rating(session, panellist, item)
