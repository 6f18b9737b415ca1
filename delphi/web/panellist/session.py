"""The panellist in the signed session cookie: ``panellist_id`` and ``panellist_v`` (the session version).

The cookie may hold a facilitator's login too; signing a panellist in or out keeps it.
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import Panellist
from delphi.participation import links

PANELLIST_KEY = "panellist_id"
VERSION_KEY = "panellist_v"


def session_of(request: Request) -> dict[str, Any]:
    """A copy of the request's session cookie data; {} without one."""
    session = request.scope.get("session")
    return dict(session) if isinstance(session, dict) else {}


def signed_in_as(request: Request) -> tuple[object, object]:
    """``(panellist id, session version)`` as the cookie holds them, unchecked (either may be None)."""
    session = session_of(request)
    return session.get(PANELLIST_KEY), session.get(VERSION_KEY)


def login(request: Request, panellist: Panellist) -> None:
    """Store the panellist in the signed session cookie, keeping any facilitator login in the same cookie."""
    request.set_session(
        {**session_of(request), PANELLIST_KEY: panellist.id, VERSION_KEY: panellist.session_version}
    )


def logout(request: Request) -> None:
    rest = {k: v for k, v in session_of(request).items() if k not in (PANELLIST_KEY, VERSION_KEY)}
    if rest:
        request.set_session(rest)
    else:
        request.clear_session()


def remember_language(request: Request, panellist: Panellist) -> None:
    """Let a refusal later in the request speak the panellist's language (:mod:`.errors`)."""
    request.state.panellist_language = panellist.language


async def provide_panellist(request: Request, db_session: AsyncSession) -> Panellist:
    """The panellist of the session cookie; :class:`SessionEnded` (a kind page) when there is no valid one."""
    panellist_id, version = signed_in_as(request)
    panellist = await links.panellist_for_session(db_session, panellist_id, version)
    remember_language(request, panellist)
    return panellist
