"""Offset pagination of a list that grows with a panel's panellists: one page of rows and the count of all.

A page is numbered from 1 and holds :data:`PAGE_SIZE` rows unless asked otherwise. Page 1 always exists (an
empty list has one empty page); a page past the last raises :class:`delphi.errors.NotFound` saying how many
pages there are, so a stale "page 7" link answers a 404 with the reason rather than an empty table. The count
comes from one SQL ``count(*)`` over the same filter, never from loading the rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.errors import NotFound

#: Rows per page of the panellists, monitor and similar lists.
PAGE_SIZE = 100


@dataclass(frozen=True, slots=True)
class Page:
    """Where a page sits: ``number`` (from 1), ``size`` (rows per page, > 0) and ``total`` (rows of every page)."""

    number: int
    size: int
    total: int

    @property
    def pages(self) -> int:
        """How many pages there are (1 for an empty list)."""
        return max(1, -(-self.total // self.size))

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size

    @property
    def first_row(self) -> int:
        """1-based position of the page's first row (0 for an empty list)."""
        return self.offset + 1 if self.total else 0

    @property
    def last_row(self) -> int:
        return min(self.total, self.offset + self.size)

    def window(self, around: int = 2) -> list[int | None]:
        """Page numbers to link: the first, the last, ``around`` either side of this one; None marks a gap.
        E.g. page 6 of 20 → ``[1, None, 4, 5, 6, 7, 8, None, 20]``."""
        keep = {1, self.pages, *range(self.number - around, self.number + around + 1)}
        out: list[int | None] = []
        for n in sorted(k for k in keep if 1 <= k <= self.pages):
            if out and out[-1] is not None and n - out[-1] > 1:
                out.append(None)
            out.append(n)
        return out


def page_at(number: int, total: int, size: int = PAGE_SIZE) -> Page:
    """The page ``number`` of ``total`` rows; NotFound for a number below 1 or past the last page."""
    page = Page(number=1, size=size, total=total)
    if number < 1 or number > page.pages:
        raise NotFound(
            f"There is no page {number} of this list: it has {page.pages} "
            f"page{'s' if page.pages != 1 else ''}. Go back to its first page."
        )
    return Page(number=number, size=size, total=total)


async def fetch_page(
    session: AsyncSession, query: Select[Any], number: int, size: int = PAGE_SIZE
) -> tuple[list[Any], Page]:
    """``(rows of page number, page)`` of ``query`` (already ordered, with a unique tie-breaker last): two
    queries, a ``count(*)`` over ``query`` without its order, then the page's rows with LIMIT/OFFSET."""
    total = await session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    page = page_at(number, int(total or 0), size)
    rows = (await session.execute(query.limit(size).offset(page.offset))).all()
    return list(rows), page
