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


def _select() -> Select[Any]:
    return select(
        Rating.id,
        Rating.statement_id,
        Panellist.pseudonym,
        Panellist.group_id,
        Rating.comment,
        Rating.comment_status,
        Rating.updated_at,
    ).join(Panellist, Panellist.id == Rating.panellist_id)


async def load_comments(session: AsyncSession, round_id: int, *, published_only: bool) -> list[Comment]:
    """Non-empty comments of a round, by statement then pseudonym (one query)."""
    query = (
        _select()
        .where(Rating.round_id == round_id, Rating.comment != "")
        .order_by(Rating.statement_id, Panellist.pseudonym)
    )
    if published_only:
        query = query.where(Rating.comment_status == CommentStatus.PUBLISHED)
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
