"""Panellists' reasons for ratings outside the middle half of the previous round, for facilitators and researchers.

A panel with "ask for a reason outside the middle half" (``Panel.ask_reason_outside_iqr``) asks a panellist
whose rating lies outside last round's interquartile range to say why; the text is ``Rating.reason``. Reasons
are attributed only by the panellist's pseudonym and the rating given with them, never by name or e-mail.

A reason is moderated on its own (``Rating.reason_status``: pending, published or hidden; see
:func:`delphi.rounds.moderation.moderate`), like a comment but apart from it. Facilitators see every reason
with its status beside the statement's results; researchers, the exports and the report see published reasons
only, and panellists see published ones, unattributed, with the next round's feedback.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import Panellist, Rating, Round
from delphi.db.paging import PAGE_SIZE
from delphi.domain import CommentStatus, RoundStatus
from delphi.results.comments import (
    Comment,
    Counts,
    Listing,
    attributed,
    comments_page,
    count_texts,
    list_page,
    texts_of_round,
)


@dataclass(frozen=True, slots=True)
class Reason:
    """One reason, known by its rating id, the author's pseudonym and group, and the rating it explains.

    ``value`` is the rating on the scale, None when the panellist has since answered "unable" (``unable``) or
    cleared the answer; ``status`` is ``pending``, ``published`` or ``hidden``.
    """

    rating_id: int
    statement_id: int
    pseudonym: str
    group_id: int
    value: int | None
    unable: bool
    text: str
    status: str
    updated_at: datetime | None

    @property
    def rating_label(self) -> str:
        """The rating as words for a page: ``"rated 2"``, ``"unable to rate"`` or ``"no rating"``."""
        if self.value is not None:
            return f"rated {self.value}"
        return "unable to rate" if self.unable else "no rating"


def _select() -> Select[Any]:
    return attributed(Rating.value, Rating.unable, Rating.reason, Rating.reason_status)


def _reason(row: Any) -> Reason:
    rid, sid, pseudonym, gid, value, unable, text, status, at = row
    return Reason(rid, sid, pseudonym, gid, value, bool(unable), text, status, at)


async def load_reasons(session: AsyncSession, round_id: int, *, published_only: bool) -> list[Reason]:
    """Non-empty reasons of a round, by statement then pseudonym (one query); published ones only if asked."""
    query = texts_of_round(
        _select(), Rating.reason, Rating.reason_status, round_id, published_only=published_only
    )
    return [_reason(row) for row in (await session.execute(query)).all()]


async def reasons_page(
    session: AsyncSession,
    round_id: int,
    order: Sequence[int],
    number: int = 1,
    *,
    published_only: bool,
    counts: Counts | None = None,
    size: int = PAGE_SIZE,
) -> Listing[Reason]:
    """Page ``number`` of round ``round_id``'s reasons on the statements ``order``, 100 a page (see
    :func:`delphi.results.comments.list_page`); published ones only if asked. A reason has no edit column, so
    the listing's ``edited`` is empty: the page reads edits off the audit trail."""
    return await list_page(
        session,
        _select(),
        Rating.reason,
        Rating.reason_status,
        round_id,
        order,
        number,
        published_only=published_only,
        make=_reason,
        counts=counts,
        size=size,
    )


async def round_texts(
    session: AsyncSession,
    round_id: int,
    order: Sequence[int],
    comments_number: int = 1,
    reasons_number: int = 1,
    *,
    published_only: bool,
    size: int = PAGE_SIZE,
) -> tuple[Listing[Comment], Listing[Reason]]:
    """The round results page's comments (page ``comments_number``) and reasons (page ``reasons_number``) over
    the statements ``order``: one count of both over the round's ratings, then each page's rows from the
    statements it spans (three queries). NotFound for a page past the last of its list."""
    comment_counts, reason_counts = await count_texts(
        session,
        round_id,
        [(Rating.comment, Rating.comment_status), (Rating.reason, Rating.reason_status)],
        published_only=published_only,
    )
    notes = await comments_page(
        session,
        round_id,
        order,
        comments_number,
        published_only=published_only,
        counts=comment_counts,
        size=size,
    )
    why = await reasons_page(
        session,
        round_id,
        order,
        reasons_number,
        published_only=published_only,
        counts=reason_counts,
        size=size,
    )
    return notes, why


async def load_reason(session: AsyncSession, rating_id: int) -> Reason | None:
    """The reason of one rating (None when there is no such rating or it has no reason)."""
    row = (await session.execute(_select().where(Rating.id == rating_id, Rating.reason != ""))).one_or_none()
    return None if row is None else _reason(row)


async def load_closed_round_reasons(session: AsyncSession, panel_id: int) -> list[tuple[int, Reason]]:
    """``(round number, reason)`` for every non-empty reason of the panel's closed rounds, any status, by round,
    statement and pseudonym (one query)."""
    query = (
        _select()
        .add_columns(Round.number)
        .join(Round, Round.id == Rating.round_id)
        .where(Round.panel_id == panel_id, Round.status == RoundStatus.CLOSED, Rating.reason != "")
        .order_by(Round.number, Rating.statement_id, Panellist.pseudonym)
    )
    return [(int(row[-1]), _reason(row[:-1])) for row in (await session.execute(query)).all()]


def published_reason(reason: str, status: str) -> str:
    """The reason as exports show it: its text once published, else empty (pure)."""
    return reason if reason and status == CommentStatus.PUBLISHED else ""
