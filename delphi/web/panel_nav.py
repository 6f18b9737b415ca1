"""The context every facilitator page under ``/panels/{panel_id}`` shares (``facilitator/_layout.html``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import Account
from delphi.panels import listing
from delphi.web.guards import PanelAccess


async def panel_nav(session: AsyncSession, access: PanelAccess, account: Account) -> dict[str, Any]:
    """``panel``, ``role`` (its value), ``can_edit``, ``is_owner``, ``sees_contacts`` (panellists' addresses and
    names may be shown), ``rounds`` (oldest first) and ``account``."""
    return {
        "panel": access.panel,
        "role": access.role.value,
        "can_edit": access.can_edit,
        "is_owner": access.is_owner,
        "sees_contacts": access.sees_contacts,
        "rounds": await listing.rounds_of(session, access.panel.id),
        "account": account,
    }
