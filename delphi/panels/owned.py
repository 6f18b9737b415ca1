"""One row of a panel by its id: how every use case on a statement, group, panellist or suggestion finds it."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import Panel
from delphi.errors import NotFound

_Row = TypeVar("_Row")


async def of_panel(session: AsyncSession, model: type[_Row], row_id: int, panel: Panel, what: str) -> _Row:
    """The ``model`` row (a table with a ``panel_id`` column) with id ``row_id``, if it is ``panel``'s.

    Raises NotFound "There is no such <what> on this panel." when there is no such row or it is another
    panel's (the message does not tell the two apart).
    """
    row: Any = await session.get(model, row_id)
    if row is None or row.panel_id != panel.id:
        raise NotFound(f"There is no such {what} on this panel.")
    return row
