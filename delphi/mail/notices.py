"""Tell a panel's owners and facilitators about mail that could not be delivered (in the caller's
transaction).

* A bounce (an address refused for good) gets one notice per bounced message and facilitator.
* Dead letters (given up after every retry) get at most one notice per panel, facilitator and day, so an SMTP
  outage does not send a notice per message.

Notices never hold a panellist's address or link: the pseudonym is enough to find the person on the
panel's pages.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import Account, OutboxMessage, Panel, PanelAccess
from delphi.domain import OutboxStatus, PanelRole
from delphi.mail.kinds import facilitator_notice
from delphi.mail.outbox import enqueue_mail

NOTIFIED_ROLES = (PanelRole.OWNER.value, PanelRole.FACILITATOR.value)


async def panel_contacts(session: AsyncSession, panel_id: int) -> list[tuple[int, str]]:
    """``(account id, e-mail)`` of the active owners and facilitators of a panel, by account id."""
    rows = await session.execute(
        select(Account.id, Account.email)
        .join(PanelAccess, PanelAccess.account_id == Account.id)
        .where(
            PanelAccess.panel_id == panel_id,
            PanelAccess.role.in_(NOTIFIED_ROLES),
            Account.is_active.is_(True),
        )
        .order_by(Account.id)
    )
    return [(r[0], r[1]) for r in rows]


async def notify_bounce(
    session: AsyncSession,
    *,
    base_url: str,
    panel_id: int,
    message_id: int,
    mail_kind: str,
    pseudonym: str | None,
    reason: str,
) -> int:
    """Queue a notice of the bounce of ``message_id`` to each owner/facilitator; returns how many are new."""
    title = await session.scalar(select(Panel.title).where(Panel.id == panel_id))
    if title is None:
        return 0
    ctx = facilitator_notice(
        panel_title=title,
        panel_url=f"{base_url}/panels/{panel_id}/mail",
        notice="bounce",
        pseudonym=pseudonym,
        mail_kind=mail_kind,
        reason=reason,
    )
    return await _queue_to_contacts(session, panel_id, ctx, notice="bounce", about=f"m{message_id}")


async def notify_dead(session: AsyncSession, *, base_url: str, panel_id: int, now: datetime) -> int:
    """Queue today's dead-letter notice for a panel (at most one per facilitator and UTC day)."""
    title = await session.scalar(select(Panel.title).where(Panel.id == panel_id))
    if title is None:
        return 0
    count = await session.scalar(
        select(func.count())
        .select_from(OutboxMessage)
        .where(
            OutboxMessage.panel_id == panel_id,
            OutboxMessage.status == OutboxStatus.DEAD.value,
            OutboxMessage.kind != facilitator_notice.name,
        )
    )
    ctx = facilitator_notice(
        panel_title=title, panel_url=f"{base_url}/panels/{panel_id}/mail", notice="dead", count=count or None
    )
    day = now.strftime("%Y-%m-%d")
    return await _queue_to_contacts(session, panel_id, ctx, notice="dead", about=f"p{panel_id}:{day}")


async def _queue_to_contacts(
    session: AsyncSession, panel_id: int, ctx: dict[str, Any], *, notice: str, about: str
) -> int:
    """Queue the notice ``ctx`` to each of :func:`panel_contacts`, deduplicated per ``notice``, ``about`` and
    account; returns how many are new."""
    queued = 0
    for account_id, email in await panel_contacts(session, panel_id):
        queued += await enqueue_mail(
            session,
            facilitator_notice,
            ctx,
            to_address=email,
            dedupe_key=facilitator_notice.key(notice=notice, about=about, account_id=account_id),
            panel_id=panel_id,
        )
    return queued
