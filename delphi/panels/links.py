"""A panellist's personal link, as the facilitator manages it: re-issuing it stops the old one."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from delphi import audit
from delphi.db.models import Panellist, utcnow
from delphi.domain import Actor
from delphi.security import panellist_token, token_digest


async def reissue_link(
    session: AsyncSession,
    panellist: Panellist,
    settings: Any,
    actor: Actor,
    now: datetime | None = None,
) -> str:
    """Give a panellist a new personal link; the old link and every session made with it stop working.

    Bumps ``session_version``, stores the SHA-256 of the new token and writes a ``panellist.link_reissued``
    audit event.  Returns the new token (``settings.secret_key`` derives it); the caller e-mails the link
    ``{base_url}/p/{token}`` (through the outbox) and never stores the token.
    """
    now = now or utcnow()
    panellist.session_version = (panellist.session_version or 1) + 1
    token = panellist_token(settings.secret_key, panellist.id, panellist.session_version)
    panellist.token_hash = token_digest(token)
    panellist.token_issued_at = now
    audit.record(
        session,
        actor=actor,
        action="panellist.link_reissued",
        panel_id=panellist.panel_id,
        detail={"panellist": panellist.pseudonym, "session_version": panellist.session_version},
    )
    return token
