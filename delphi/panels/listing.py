"""A panel's rounds, groups, statements, panellists and pending suggestions as the API and the pages list them
(one query each)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import Panellist, Round, RoundStatement, StakeholderGroup, Statement, Suggestion
from delphi.db.paging import PAGE_SIZE, Page, fetch_page
from delphi.domain import SuggestionStatus


async def groups_with_counts(session: AsyncSession, panel_id: int) -> list[tuple[StakeholderGroup, int]]:
    """``(group, panellists in it)`` in display order; a group without panellists counts 0."""
    rows = await session.execute(
        select(StakeholderGroup, func.count(Panellist.id))
        .outerjoin(Panellist, Panellist.group_id == StakeholderGroup.id)
        .where(StakeholderGroup.panel_id == panel_id)
        .group_by(StakeholderGroup.id)
        .order_by(StakeholderGroup.position, StakeholderGroup.id)
    )
    return [(g, int(n)) for g, n in rows.all()]


async def statements_of(session: AsyncSession, panel_id: int) -> list[Statement]:
    """Every statement and rewording of the panel, by position then id."""
    rows = await session.scalars(
        select(Statement).where(Statement.panel_id == panel_id).order_by(Statement.position, Statement.id)
    )
    return list(rows.all())


async def panellist_rows(session: AsyncSession, panel_id: int) -> list[Any]:
    """``(id, pseudonym, group_id, status, email, name)`` of every panellist, by pseudonym; the caller decides
    who may see e-mail and name."""
    rows = await session.execute(
        select(
            Panellist.id,
            Panellist.pseudonym,
            Panellist.group_id,
            Panellist.status,
            Panellist.email,
            Panellist.name,
        )
        .where(Panellist.panel_id == panel_id)
        .order_by(Panellist.pseudonym)
    )
    return list(rows.all())


async def rounds_of(session: AsyncSession, panel_id: int) -> list[Round]:
    """The panel's rounds, by number."""
    return list(
        (await session.scalars(select(Round).where(Round.panel_id == panel_id).order_by(Round.number))).all()
    )


async def statement_count(session: AsyncSession, panel_id: int) -> int:
    """Statements of the panel, rewordings included."""
    n = await session.scalar(
        select(func.count()).select_from(Statement).where(Statement.panel_id == panel_id)
    )
    return int(n or 0)


async def statement_ids_in(session: AsyncSession, round_id: int) -> set[int]:
    """Ids of the statements a round asks."""
    rows = await session.scalars(
        select(RoundStatement.statement_id).where(RoundStatement.round_id == round_id)
    )
    return set(rows.all())


async def round_statements(session: AsyncSession, round_id: int) -> list[Any]:
    """``(statement, round statement)`` of a round, in the round's order."""
    rows = await session.execute(
        select(Statement, RoundStatement)
        .join(RoundStatement, RoundStatement.statement_id == Statement.id)
        .where(RoundStatement.round_id == round_id)
        .order_by(RoundStatement.position, Statement.id)
    )
    return list(rows.all())


async def panellists_with_group(session: AsyncSession, panel_id: int) -> list[Any]:
    """``(panellist, group name)`` of every panellist, by group order then pseudonym."""
    rows = await session.execute(
        select(Panellist, StakeholderGroup.name)
        .join(StakeholderGroup, StakeholderGroup.id == Panellist.group_id)
        .where(Panellist.panel_id == panel_id)
        .order_by(StakeholderGroup.position, Panellist.pseudonym)
    )
    return list(rows.all())


async def panellists_page(
    session: AsyncSession,
    panel_id: int,
    number: int = 1,
    *,
    search: str = "",
    contacts: bool = False,
    size: int = PAGE_SIZE,
) -> tuple[list[Any], Page]:
    """``([(panellist, group name)], page)``: page ``number`` (from 1, :func:`delphi.db.paging.page_at`: NotFound
    past the last) of the panel's panellists by group order, pseudonym then id, two queries whatever the panel's
    size.

    ``search`` (spaces trimmed; empty: everyone) keeps panellists whose pseudonym contains it, ignoring case, and
    with ``contacts`` (the viewer may see addresses and names) also those whose e-mail or name contains it;
    without ``contacts`` addresses are never searched, so a search cannot reveal who is on the panel.
    """
    query = (
        select(Panellist, StakeholderGroup.name)
        .join(StakeholderGroup, StakeholderGroup.id == Panellist.group_id)
        .where(Panellist.panel_id == panel_id)
        .order_by(StakeholderGroup.position, Panellist.pseudonym, Panellist.id)
    )
    needle = search.strip().lower()
    if needle:
        pattern = "%" + needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        columns = [Panellist.pseudonym, *([Panellist.email, Panellist.name] if contacts else [])]
        query = query.where(or_(*(func.lower(c).like(pattern, escape="\\") for c in columns)))
    return await fetch_page(session, query, number, size)


async def pending_suggestions(session: AsyncSession, panel_id: int) -> list[Any]:
    """``(suggestion, text of the statement it rewords or None)`` awaiting review, oldest first."""
    rows = await session.execute(
        select(Suggestion, Statement.text)
        .outerjoin(Statement, Statement.id == Suggestion.statement_id)
        .where(Suggestion.panel_id == panel_id, Suggestion.status == SuggestionStatus.PENDING)
        .order_by(Suggestion.created_at)
    )
    return list(rows.all())
