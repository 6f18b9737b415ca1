"""A panellist's personal link, as the facilitator manages it: re-issuing it stops the old one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from delphi import audit
from delphi.db.models import Panellist, Round, utcnow
from delphi.domain import Actor, RoundStatus
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


@dataclass(frozen=True, slots=True)
class NewLinkPreview:
    """What a new personal link for panellist ``pseudonym`` does: ``open_round`` is the number of the round open
    now (its invitation goes with the new link at once), None when none is."""

    pseudonym: str
    open_round: int | None

    def sentences(self) -> list[str]:
        out = [
            f"{self.pseudonym}'s old link stops working at once, and so does every page they have open with it.",
        ]
        if self.open_round is not None:
            out.append(
                f"They get an e-mail now with the new link and the invitation to round {self.open_round}."
            )
        else:
            out.append("No round is open, so the new link goes to them with the next round's e-mail.")
        out.append("Their answers so far are kept.")
        return out


async def preview_new_link(session: AsyncSession, panellist: Panellist) -> NewLinkPreview:
    """What :func:`reissue_link` and the invitation after it would do for ``panellist`` (nothing is changed)."""
    open_round = await session.scalar(
        select(Round.number).where(Round.panel_id == panellist.panel_id, Round.status == RoundStatus.OPEN)
    )
    return NewLinkPreview(pseudonym=panellist.pseudonym, open_round=open_round)
