"""Refuse ids no row can have before any query runs: a 404 page, not a database overflow (a 500).

PostgreSQL's ``integer`` columns hold ids up to 2**31 - 1 (SQLite's up to 2**63 - 1); asking either for a
larger one in a query raises in the driver.  An app-level ``before_request`` hook checks every integer path
parameter (``/panels/{panel_id:int}`` and the like) first.  The JSON API under ``/api/`` declares its own bounds
on each parameter (``delphi.web.schemas.PanelId``) and answers those itself.
"""

from __future__ import annotations

from litestar import Request
from litestar.exceptions import NotFoundException

#: The largest id a row can have (PostgreSQL ``integer``).
MAX_ID = 2**31 - 1


def possible_id(value: int) -> bool:
    return -MAX_ID - 1 <= value <= MAX_ID


async def reject_impossible_ids(request: Request) -> None:
    """``before_request`` hook: 404 for an integer path parameter outside what a database id can be."""
    if request.scope["path"].startswith("/api/"):
        return
    for value in request.path_params.values():
        if isinstance(value, int) and not isinstance(value, bool) and not possible_id(value):
            raise NotFoundException(
                "There is no page at this address. Check the link, or start again from the home page."
            )
