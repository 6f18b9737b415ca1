"""Panellists' comments of a round, for moderation (facilitators) and reading (researchers: published only).

A comment is shown to other panellists only once a facilitator publishes it; hiding keeps it out of feedback
and exports. Moderation itself is :func:`delphi.rounds.moderation.moderate` (one audit event each).

The round's results page lists a round's comments (and reasons, :mod:`delphi.results.reasons`) a page at a
time (:func:`comments_page`, a :class:`Listing`): a national panel's round holds tens of thousands of them. The
list runs over the statements the page shows, in the round's order, then by pseudonym; each statement card
shows its own texts of the current page, its count of all, and which pages hold the rest. The API's lists
(:func:`load_comments`) still return every text of the round.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import Select

from delphi.db.models import Panellist, Rating, RoundStatement
from delphi.db.paging import PAGE_SIZE, Page, page_at
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


@dataclass(frozen=True, slots=True)
class Listing(Generic[_M]):
    """One page of a round's comments (or reasons) over the statements a results page shows.

    ``items`` the page's texts (at most ``page.size``), by the statements' round order then pseudonym;
    ``page`` where it sits, ``page.total`` counting every text of the shown statements; ``per_statement``
    ``{statement id: texts of that statement on every page}`` (statements without any left out);
    ``pending`` how many of the round's texts this reader sees wait for moderation, whatever the filters (0 for
    a reader who sees published texts only); ``edited`` the rating ids of the page's texts a facilitator edited.
    """

    items: tuple[_M, ...]
    page: Page
    per_statement: Mapping[int, int]
    pending: int
    edited: frozenset[int]

    def on_page(self) -> dict[int, list[_M]]:
        """The page's texts grouped by statement id, order kept."""
        return by_statement(self.items)

    def pages_of(self, order: Sequence[int]) -> dict[int, tuple[int, int]]:
        """``{statement id: (first page, last page)}`` holding each statement's texts, for the statements of
        ``order`` (the shown ones, in the list's order) that have any (pure)."""
        return statement_pages(self.per_statement, order, self.page.size)


def statement_pages(
    per_statement: Mapping[int, int], order: Sequence[int], size: int = PAGE_SIZE
) -> dict[int, tuple[int, int]]:
    """``{statement id: (first page, last page)}`` (pages from 1) of a list of ``size`` rows a page holding
    ``per_statement[id]`` rows for each statement of ``order`` in turn; statements without rows are left out.
    E.g. counts 150, 0, 60 at size 100 → ``{a: (1, 2), c: (2, 3)}`` (pure)."""
    out: dict[int, tuple[int, int]] = {}
    before = 0
    for sid in order:
        n = per_statement.get(sid, 0)
        if n:
            out[sid] = (before // size + 1, (before + n - 1) // size + 1)
            before += n
    return out


@dataclass(frozen=True, slots=True)
class Counts:
    """A round's texts of one kind a reader sees: ``per_statement`` ``{statement id: n}`` (statements without
    any left out) and ``pending``, how many of them wait for moderation."""

    per_statement: Mapping[int, int]
    pending: int


def _visible(text: Any, status: Any, published_only: bool) -> Any:
    """The SQL condition for a non-empty ``text`` this reader sees (published only if asked)."""
    return and_(text != "", status == CommentStatus.PUBLISHED) if published_only else text != ""


async def count_texts(
    session: AsyncSession, round_id: int, kinds: Sequence[tuple[Any, Any]], *, published_only: bool
) -> list[Counts]:
    """:class:`Counts` of round ``round_id``'s texts for each ``(text column, status column)`` of ``kinds``
    (``(Rating.comment, Rating.comment_status)``, ``(Rating.reason, Rating.reason_status)``), in that order:
    one SQL aggregate over the round's ratings, whatever the number of kinds."""
    conditions = [_visible(text, status, published_only) for text, status in kinds]
    columns = []
    for (_, status), visible in zip(kinds, conditions, strict=True):
        columns += [
            func.sum(case((visible, 1), else_=0)),
            func.sum(case((and_(visible, status == CommentStatus.PENDING), 1), else_=0)),
        ]
    rows = (
        await session.execute(
            select(Rating.statement_id, *columns)
            .where(Rating.round_id == round_id, or_(*conditions))
            .group_by(Rating.statement_id)
        )
    ).all()
    out = []
    for i in range(len(kinds)):
        per = {int(row[0]): int(row[1 + 2 * i] or 0) for row in rows}
        out.append(
            Counts({sid: n for sid, n in per.items() if n}, sum(int(row[2 + 2 * i] or 0) for row in rows))
        )
    return out


async def list_page(
    session: AsyncSession,
    query: Select[Any],
    text: Any,
    status: Any,
    round_id: int,
    order: Sequence[int],
    number: int,
    *,
    published_only: bool,
    make: Callable[[Any], _M],
    edited: Any = None,
    counts: Counts | None = None,
    size: int = PAGE_SIZE,
) -> Listing[_M]:
    """Page ``number`` (from 1; :class:`delphi.errors.NotFound` past the last) of round ``round_id``'s non-empty
    ``text`` column (``Rating.comment`` or ``Rating.reason``) over the statements ``order`` (ids, in the round's
    order, as the results page shows them), ``query`` being :func:`attributed` with that text's columns, each
    row made by ``make``; ``edited`` an optional SQL condition true for an edited text, read as an extra last
    column; ``counts`` this text's :func:`count_texts`, counted here when not given.

    The page's rows are read from the statements it spans only (their ratings through the round's
    ``(round, statement, panellist)`` index), skipping the texts of those statements on earlier pages: a page
    of a round of 20,000 panellists reads one or two statements' ratings, never the whole round's."""
    if counts is None:
        (counts,) = await count_texts(session, round_id, [(text, status)], published_only=published_only)
    per_statement = counts.per_statement
    shown = [sid for sid in order if per_statement.get(sid)]
    page = page_at(number, sum(per_statement[sid] for sid in shown), size)
    spans = statement_pages(per_statement, shown, size)
    here = [sid for sid in shown if spans[sid][0] <= page.number <= spans[sid][1]]
    items: list[_M] = []
    flagged: set[int] = set()
    if here:
        before = sum(per_statement[sid] for sid in shown[: shown.index(here[0])])
        if edited is not None:
            query = query.add_columns(edited)
        query = (
            query.join(
                RoundStatement,
                and_(
                    RoundStatement.round_id == Rating.round_id,
                    RoundStatement.statement_id == Rating.statement_id,
                ),
            )
            .where(
                Rating.round_id == round_id,
                Rating.statement_id.in_(here),
                _visible(text, status, published_only),
            )
            .order_by(RoundStatement.position, RoundStatement.id, Panellist.pseudonym, Rating.id)
            .limit(size)
            .offset(page.offset - before)
        )
        for row in (await session.execute(query)).all():
            if edited is not None:
                *row, was_edited = row
                if was_edited:
                    flagged.add(int(row[0]))
            items.append(make(row))
    return Listing(tuple(items), page, per_statement, counts.pending, frozenset(flagged))


async def comments_page(
    session: AsyncSession,
    round_id: int,
    order: Sequence[int],
    number: int = 1,
    *,
    published_only: bool,
    counts: Counts | None = None,
    size: int = PAGE_SIZE,
) -> Listing[Comment]:
    """Page ``number`` of round ``round_id``'s comments on the statements ``order`` (see :func:`list_page`);
    published ones only if asked. ``edited`` holds the page's comments a facilitator edited."""
    return await list_page(
        session,
        _select(),
        Rating.comment,
        Rating.comment_status,
        round_id,
        order,
        number,
        published_only=published_only,
        make=lambda row: Comment(*row),
        edited=Rating.comment_edited_at.is_not(None),
        counts=counts,
        size=size,
    )
