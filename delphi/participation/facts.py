"""What the panellist use cases read about a panel's current round: the round, its statements in order, the
panel's scale, and one panellist's answers, progress and submissions.

Reads only, in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.dialect import dialect_name
from delphi.db.locks import round_share_lock
from delphi.db.models import Panel, Panellist, Rating, Round, RoundStatement, Statement, Submission
from delphi.db.queries import ANSWERED
from delphi.domain import RoundStatus
from delphi.participation.checks import Scale, no_round_open
from delphi.participation.issues import session_ended


@dataclass(frozen=True, slots=True)
class Progress:
    """``answered`` statements (a rating or "unable") of ``total`` in the round."""

    answered: int
    total: int

    @property
    def complete(self) -> bool:
        return self.total > 0 and self.answered >= self.total


@dataclass(slots=True)
class RoundFacts:
    """A panellist's panel, its current round (None before round 1) and that round's statement ids in order."""

    panel: Panel
    round: Round | None
    statement_ids: list[int] = field(default_factory=list)


async def current_round(session: AsyncSession, panel_id: int, *, for_write: bool = False) -> Round | None:
    """The panel's open round, else its latest closed round; None before round 1 opens (drafts are hidden).

    ``for_write``: read it afresh (not from the session's identity map) and, on PostgreSQL, share-lock its row
    until the transaction ends, so a close waits for this transaction (call
    :func:`~delphi.db.locks.begin_write` first)."""
    stmt = (
        select(Round)
        .where(Round.panel_id == panel_id, Round.status.in_([RoundStatus.OPEN, RoundStatus.CLOSED]))
        .order_by(Round.number.desc())
        .limit(1)
    )
    if for_write:
        stmt = round_share_lock(stmt, dialect_name(session), Round).execution_options(populate_existing=True)
    return await session.scalar(stmt)


def scale_of(panel: Panel | Any) -> Scale:
    """The rating scale of ``panel``: a :class:`Panel` or any row with its scale columns."""
    return Scale(
        lo=panel.scale_min,
        hi=panel.scale_max,
        labels=tuple(str(x or "") for x in (panel.scale_labels or [])),
        allow_unable=panel.allow_unable,
        unable_label=panel.unable_label or "Unable to rate",
    )


async def load_facts(session: AsyncSession, panellist: Panellist) -> RoundFacts:
    """The panellist's :class:`RoundFacts`; :class:`~delphi.participation.issues.SessionEnded` when the panel
    was deleted under the session."""
    panel = await session.get(Panel, panellist.panel_id)
    if panel is None:
        raise session_ended()
    rnd = await current_round(session, panel.id)
    facts = RoundFacts(panel, rnd)
    if rnd is not None:
        facts.statement_ids = list(
            (
                await session.scalars(
                    select(RoundStatement.statement_id)
                    .where(RoundStatement.round_id == rnd.id)
                    .order_by(RoundStatement.position, RoundStatement.id)
                )
            ).all()
        )
    return facts


def require_round(facts: RoundFacts) -> Round:
    """The current round; :class:`~delphi.participation.issues.NoRoundOpen` before round 1."""
    if facts.round is None:
        raise no_round_open()
    return facts.round


async def statements_by_id(session: AsyncSession, ids: Sequence[int]) -> dict[int, Statement]:
    """The statements ``ids`` by id (ids that name no statement are absent); {} for no ids."""
    if not ids:
        return {}
    rows = await session.scalars(select(Statement).where(Statement.id.in_(list(ids))))
    return {s.id: s for s in rows.all()}


async def answered_ids(session: AsyncSession, round_id: int, panellist_id: int) -> set[int]:
    """Statements of the round the panellist answered (a rating or "unable")."""
    rows = await session.scalars(
        select(Rating.statement_id).where(
            Rating.round_id == round_id,
            Rating.panellist_id == panellist_id,
            ANSWERED,
        )
    )
    return set(rows.all())


async def progress(session: AsyncSession, round_id: int, panellist_id: int) -> Progress:
    """Answered and total statements of a round for one panellist, in one query.

    The ratings are counted alone: a round's ratings are all of its own statements (a save is refused outside
    them, and statements leave a round only while it is a draft).
    """
    total = (
        select(func.count())
        .select_from(RoundStatement)
        .where(RoundStatement.round_id == round_id)
        .scalar_subquery()
    )
    answered = (
        select(func.count())
        .select_from(Rating)
        .where(
            Rating.round_id == round_id,
            Rating.panellist_id == panellist_id,
            ANSWERED,
        )
        .scalar_subquery()
    )
    row = (await session.execute(select(answered, total))).one()
    return Progress(int(row[0]), int(row[1]))


async def submitted_at(session: AsyncSession, round_id: int, panellist_id: int) -> datetime | None:
    """When the panellist submitted the round; None when they have not."""
    return await session.scalar(
        select(Submission.submitted_at).where(
            Submission.round_id == round_id, Submission.panellist_id == panellist_id
        )
    )


async def submission_count(session: AsyncSession, panellist_id: int) -> int:
    """How many rounds the panellist has submitted so far."""
    return int(
        await session.scalar(
            select(func.count()).select_from(Submission).where(Submission.panellist_id == panellist_id)
        )
        or 0
    )
