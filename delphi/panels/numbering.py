"""Statement numbers: the one way a statement is named on every page, export and report ("S4", "S4.2").

A panel's original statements (no ``parent_id``) are numbered 1, 2, 3... in the order they were created (their
ids); a rewording keeps the number of the statement it descends from and adds its version ("S4.2" is version 2
of S4), so a reader can follow one item through the rounds.  Numbers are fixed once round 1 opens, because from
then on statements are only added or reworded, never deleted; before that, deleting a draft statement renumbers
the ones after it.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import Statement


def label(number: int, version: int = 1) -> str:
    """``"S{number}"`` for a first version, ``"S{number}.{version}"`` for a later one."""
    return f"S{number}" if version <= 1 else f"S{number}.{version}"


def statement_labels(rows: Iterable[tuple[int, int | None, int]]) -> dict[int, str]:
    """``{statement id: label}`` for one panel's statements, given as ``(id, parent_id, version)``.

    A statement whose parent is missing from ``rows`` (or whose chain loops) is numbered as an original.  Edge
    case: an empty ``rows`` gives ``{}``."""
    by_id = {sid: (parent, version) for sid, parent, version in rows}

    def root(sid: int) -> int:
        seen = {sid}
        parent = by_id[sid][0]
        while parent is not None and parent in by_id and parent not in seen:
            seen.add(parent)
            sid, parent = parent, by_id[parent][0]
        return sid

    roots = {sid: root(sid) for sid in by_id}
    numbers = {r: n for n, r in enumerate(sorted(set(roots.values())), start=1)}
    return {sid: label(numbers[roots[sid]], by_id[sid][1]) for sid in by_id}


async def panel_statement_labels(session: AsyncSession, panel_id: int) -> dict[int, str]:
    """:func:`statement_labels` of every statement of ``panel_id``, read in one query."""
    rows = await session.execute(
        select(Statement.id, Statement.parent_id, Statement.version).where(Statement.panel_id == panel_id)
    )
    return statement_labels(rows.tuples())
