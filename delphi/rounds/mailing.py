"""Which mail a round event sends to whom, with what context; the outbox does the rest.

Contexts never carry a link token: links are the outbox placeholders that delivery replaces at send time.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import Account, Panel, PanelAccess, Panellist, Round
from delphi.domain import PanelRole
from delphi.mail import outbox
from delphi.settings import Settings


def honorarium_text(panel: Panel) -> str:
    """ "£15.00" style amount per completed round, or "" when the panel pays none."""
    if not panel.honorarium_minor:
        return ""
    symbol = {"GBP": "£", "EUR": "€", "USD": "$"}.get(panel.currency, panel.currency + " ")
    return f"{symbol}{panel.honorarium_minor / 100:.2f}"


def _base(panel: Panel, p: Panellist, settings: Settings) -> dict[str, Any]:
    return {
        "panel_title": panel.title,
        "panel_description": panel.description,
        "panellist_name": p.name,
        "link": outbox.LINK_PLACEHOLDER,
        "withdraw_link": outbox.WITHDRAW_PLACEHOLDER,
        "honorarium": honorarium_text(panel),
        "max_rounds": panel.max_rounds,
        "base_url": settings.base_url,
    }


async def _send_all(
    session: AsyncSession,
    name: str,
    panel: Panel,
    round_: Round | None,
    recipients: Sequence[Panellist],
    dedupe: str,
    extra: dict[str, Any],
    settings: Settings,
) -> int:
    items = []
    for p in recipients:
        ctx = _base(panel, p, settings) | extra
        items.append(
            outbox.MailItem(
                name=name,
                context=ctx,
                to_address=p.email or "",
                dedupe_key=f"{dedupe}:p{p.id}",
                panel_id=panel.id,
                round_id=round_.id if round_ else None,
                panellist_id=p.id,
                language=p.language,
            )
        )
    return await outbox.enqueue_many(session, items)


async def round_opened(
    session: AsyncSession, settings: Settings, panel: Panel, round_: Round, recipients: Sequence[Panellist]
) -> int:
    """Round 1: an invitation; later rounds: "round N is open", with what changed."""
    name = "invitation" if round_.number == 1 else "round_open"
    extra = {"round_number": round_.number, "closes_at": round_.closes_at}
    return await _send_all(
        session, name, panel, round_, recipients, f"{name}:panel{panel.id}:r{round_.number}", extra, settings
    )


async def reminder(
    session: AsyncSession,
    settings: Settings,
    panel: Panel,
    round_: Round,
    recipients: Sequence[Panellist],
    tag: str,
) -> int:
    extra = {"round_number": round_.number, "closes_at": round_.closes_at}
    return await _send_all(
        session,
        "reminder",
        panel,
        round_,
        recipients,
        f"reminder:panel{panel.id}:r{round_.number}:{tag}",
        extra,
        settings,
    )


async def final_results(
    session: AsyncSession, settings: Settings, panel: Panel, recipients: Sequence[Panellist]
) -> int:
    return await _send_all(
        session, "final_results", panel, None, recipients, f"final:panel{panel.id}", {}, settings
    )


async def facilitators_of(session: AsyncSession, panel_id: int) -> list[Account]:
    return list(
        (
            await session.scalars(
                select(Account)
                .join(PanelAccess, PanelAccess.account_id == Account.id)
                .where(
                    PanelAccess.panel_id == panel_id,
                    PanelAccess.role.in_((PanelRole.OWNER, PanelRole.FACILITATOR)),
                    Account.is_active.is_(True),
                )
            )
        ).all()
    )
