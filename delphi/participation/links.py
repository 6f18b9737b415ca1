"""A panellist's way in: their personal link, the session cookie it gives, and their audit actor.

The link's token is looked up by its SHA-256 (:func:`delphi.security.token_digest`) in one place,
:func:`panellist_for_token`; every refusal is the same :class:`~delphi.participation.issues.LinkNotValid` (or
:class:`~delphi.participation.issues.SessionEnded` for a cookie), so an answer reveals nothing about whether
anybody is on a panel.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import Panellist, utcnow
from delphi.domain import Actor, PanellistStatus
from delphi.participation.checks import link_usable, session_valid
from delphi.participation.issues import link_not_valid, session_ended
from delphi.security import token_digest

#: Longest token looked up, in characters; a longer one is refused without a query.
MAX_TOKEN = 200


def actor_of(panellist: Panellist) -> Actor:
    """Audit actor of a panellist: their pseudonym only, never an address."""
    return Actor.panellist(panellist.pseudonym)


async def panellist_for_token(session: AsyncSession, token: str) -> Panellist:
    """The panellist whose current link ``token`` is, whatever their status (the one-click withdrawal asks
    this; :func:`exchange_link` builds on it).

    Raises :class:`LinkNotValid` for an empty, overlong, unknown or re-issued token and for erased data.
    """
    if not token or len(token) > MAX_TOKEN:
        raise link_not_valid()
    panellist = await session.scalar(select(Panellist).where(Panellist.token_hash == token_digest(token)))
    if panellist is None or panellist.erased_at is not None:
        raise link_not_valid()
    return panellist


async def exchange_link(session: AsyncSession, token: str, now: datetime | None = None) -> Panellist:
    """The panellist whose current link ``token`` is; records the first visit (invited → active).

    Raises :class:`LinkNotValid` (the same for an unknown, re-issued or withdrawn link, and for erased data).
    """
    now = now or utcnow()
    panellist = await panellist_for_token(session, token)
    if not link_usable(panellist.status, panellist.erased_at is not None):
        raise link_not_valid()
    if panellist.first_visit_at is None:
        panellist.first_visit_at = now
    if panellist.status == PanellistStatus.INVITED:
        panellist.status = PanellistStatus.ACTIVE
    return panellist


async def panellist_for_session(session: AsyncSession, panellist_id: object, version: object) -> Panellist:
    """The panellist a session cookie names, if the session is still valid.

    A session is valid while its ``version`` equals the panellist's ``session_version`` (re-issuing a link
    bumps it) and the panellist has neither withdrawn nor been erased (:func:`checks.session_valid
    <delphi.participation.checks.session_valid>`); else :class:`SessionEnded`.
    """
    if not isinstance(panellist_id, int) or not isinstance(version, int):
        raise session_ended()
    panellist = await session.get(Panellist, panellist_id)
    if panellist is None or not session_valid(
        panellist.status, panellist.erased_at is not None, panellist.session_version, version
    ):
        raise session_ended()
    return panellist
