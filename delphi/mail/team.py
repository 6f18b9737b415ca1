"""Queue the mail of a team change (:mod:`delphi.panels.team`) in the caller's transaction.

:func:`notify_shared` sends what :func:`delphi.panels.team.share` (or ``resend_invitation``) decided: a
``team_access`` notice to an account that was given access, or a ``team_invitation`` carrying the one-time link
to an address without an account.  The link itself is never stored in the outbox: delivery fills it from the
row's ``link_id``.  The panel's use cases do not send mail themselves (``delphi.panels`` lies below mail), so
every caller of ``share`` and ``resend_invitation`` calls this next, before the commit.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import Account, Panel
from delphi.mail.kinds import team_access, team_invitation
from delphi.mail.outbox import enqueue_mail
from delphi.panels.team import ROLE_LABELS, Shared


def _who(account: Account) -> str:
    return (account.name or "").strip() or account.email


async def notify_shared(
    session: AsyncSession, panel: Panel, shared: Shared, *, by: Account, base_url: str
) -> bool:
    """Queue the mail of ``shared``; True when a row was queued (False: queued before, e.g. a retried
    request).  ``base_url``: the site's address, for the panel's link in the access notice."""
    role = ROLE_LABELS[shared.role]
    if shared.access is not None and shared.account is not None:
        return await enqueue_mail(
            session,
            team_access,
            team_access(
                panel_title=panel.title,
                panel_url=f"{base_url}/panels/{panel.id}",
                invited_by=_who(by),
                role=role,
                can_contact=shared.can_contact,
            ),
            to_address=shared.account.email,
            dedupe_key=team_access.key(
                f"g{shared.access.id}", panel_id=panel.id, account_id=shared.account.id
            ),
            panel_id=panel.id,
        )
    if shared.invitation is None or shared.link is None:
        raise ValueError("a Shared outcome has either an access row or an invitation with its link")
    return await enqueue_mail(
        session,
        team_invitation,
        team_invitation(
            panel_title=panel.title,
            invited_by=_who(by),
            role=role,
            can_contact=shared.can_contact,
            expires_at=shared.link.expires_at,
        ),
        to_address=shared.invitation.email,
        dedupe_key=team_invitation.key(f"l{shared.link.id}", invitation_id=shared.invitation.id),
        panel_id=panel.id,
        link_id=shared.link.id,
    )
