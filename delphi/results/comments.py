"""Panellists' comments of a round, for moderation (facilitators) and reading (researchers: published only).

A comment is shown to other panellists only once a facilitator publishes it; hiding keeps it out of feedback
and exports. Moderation itself is :func:`delphi.rounds.moderation.moderate` (one audit event each).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import Select

from delphi.db.models import Panellist, Rating
from delphi.domain import CommentStatus


@dataclass(frozen=True, slots=True)
class Comment:
    """One comment, known by its rating id and the author's pseudonym and group."""

    rating_id: int
    statement_id: int
    pseudonym: str
    group_id: int
    text: str
    status: str
    updated_at: datetime | None


def attributed(*columns: Any) -> Select[Any]:
    """Ratings joined to their panellists, as rows ``(rating id, statement id, pseudonym, group id, *columns,
    updated at)``: ``columns`` are the rating's own (a comment and its status; a reason's value, unable, text and
    status)."""
    return select(
        Rating.id, Rating.statement_id, Panellist.pseudonym, Panellist.group_id, *columns, Rating.updated_at
    ).join(Panellist, Panellist.id == Rating.panellist_id)


def _select() -> Select[Any]:
    return attributed(Rating.comment, Rating.comment_status)


def texts_of_round(
    query: Select[Any], text: Any, status: Any, round_id: int, *, published_only: bool
) -> Select[Any]:
    """``query`` (over ratings joined to their panellists) narrowed to round ``round_id``'s ratings whose ``text``
    column (``Rating.comment`` or ``Rating.reason``) is not empty, by statement then pseudonym; with
    ``published_only``, only those whose ``status`` column says published."""
    query = query.where(Rating.round_id == round_id, text != "").order_by(
        Rating.statement_id, Panellist.pseudonym
    )
    return query.where(status == CommentStatus.PUBLISHED) if published_only else query


async def load_comments(session: AsyncSession, round_id: int, *, published_only: bool) -> list[Comment]:
    """Non-empty comments of a round, by statement then pseudonym (one query); published ones only if asked."""
    query = texts_of_round(
        _select(), Rating.comment, Rating.comment_status, round_id, published_only=published_only
    )
    return [Comment(*row) for row in (await session.execute(query)).all()]


async def load_comment(session: AsyncSession, rating_id: int) -> Comment | None:
    """The comment of one rating, whatever its status; None when the rating has none."""
    row = (await session.execute(_select().where(Rating.id == rating_id, Rating.comment != ""))).first()
    return Comment(*row) if row is not None else None


class Moderated(Protocol):
    """What a comment and a reason (:class:`delphi.results.reasons.Reason`) share: their statement and status."""

    @property
    def statement_id(self) -> int: ...

    @property
    def status(self) -> str: ...


_M = TypeVar("_M", bound=Moderated)


def by_statement(items: Iterable[_M]) -> dict[int, list[_M]]:
    """Comments (or reasons) grouped by statement id, order kept."""
    out: dict[int, list[_M]] = {}
    for item in items:
        out.setdefault(item.statement_id, []).append(item)
    return out


def pending_count(items: Iterable[Moderated]) -> int:
    """How many of the comments (or reasons) wait for moderation."""
    return sum(item.status == CommentStatus.PENDING for item in items)
