"""One-time links mailed to an address: a password reset or a team invitation.

A link works once (:func:`use_link` marks it spent) and until it expires.  Its token is never stored: it is
derived from the secret key, the row's id and a random nonce (:func:`delphi.security.one_time_token`), the row
keeps its SHA-256, and the mail that carries it is queued with :data:`ONE_TIME_LINK_PLACEHOLDER` (and the row's
``link_id``), which delivery fills (:mod:`delphi.mail.claim`).  So a copy of the database holds no usable link.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import OneTimeLink, utcnow
from delphi.domain import LinkPurpose
from delphi.mail.outbox import ONE_TIME_LINK_PLACEHOLDER
from delphi.security import one_time_token, token_digest

__all__ = ["ONE_TIME_LINK_PLACEHOLDER", "find_link", "issue_link", "link_url", "spend_links", "use_link"]
#: Longest token looked up, in characters; a longer one is refused without a query.
MAX_TOKEN = 200
#: The path of each purpose's link under the base URL, followed by ``/<token>``.
PATHS = {LinkPurpose.PASSWORD_RESET: "/password/reset", LinkPurpose.TEAM_INVITATION: "/invitation"}


def link_url(base_url: str, purpose: str, token: str) -> str:
    """The full URL of a one-time link: ``{base_url}{PATHS[purpose]}/{token}``."""
    return f"{base_url}{PATHS[LinkPurpose(purpose)]}/{token}"


async def issue_link(
    session: AsyncSession,
    secret_key: str,
    *,
    purpose: LinkPurpose,
    email: str,
    lifetime: timedelta,
    account_id: int | None = None,
    invitation_id: int | None = None,
    now: datetime | None = None,
) -> OneTimeLink:
    """Add a link for ``email`` that expires ``lifetime`` after ``now`` (flushed, the caller commits).

    Earlier unused links of the same purpose for the same account or invitation are spent at once, so only the
    newest mailed link works.
    """
    now = now or utcnow()
    await spend_links(session, now, purpose=purpose, account_id=account_id, invitation_id=invitation_id)
    row = OneTimeLink(
        purpose=purpose.value,
        email=email,
        account_id=account_id,
        invitation_id=invitation_id,
        nonce=secrets.token_hex(16),
        created_at=now,
        expires_at=now + lifetime,
    )
    session.add(row)
    await session.flush()
    row.token_hash = token_digest(one_time_token(secret_key, row.id, row.nonce))
    await session.flush()
    return row


async def spend_links(
    session: AsyncSession,
    now: datetime,
    *,
    purpose: LinkPurpose | None = None,
    account_id: int | None = None,
    invitation_id: int | None = None,
) -> None:
    """Mark spent, at ``now``, every unused link of the account ``account_id`` or else of the invitation
    ``invitation_id``, of ``purpose`` only when it is given.  A queued mail carrying one of them is then
    cancelled at delivery (:mod:`delphi.mail.claim`)."""
    whose = (
        OneTimeLink.account_id == account_id
        if account_id is not None
        else OneTimeLink.invitation_id == invitation_id
    )
    stmt = update(OneTimeLink).where(whose, OneTimeLink.used_at.is_(None))
    if purpose is not None:
        stmt = stmt.where(OneTimeLink.purpose == purpose.value)
    await session.execute(stmt.values(used_at=now).execution_options(synchronize_session=False))


async def find_link(
    session: AsyncSession, token: str, purpose: LinkPurpose, now: datetime | None = None
) -> OneTimeLink | None:
    """The unused, unexpired link of ``purpose`` whose token ``token`` is; None for anything else (unknown,
    spent, expired, another purpose, empty or overlong)."""
    if not token or len(token) > MAX_TOKEN:
        return None
    now = now or utcnow()
    return await session.scalar(
        select(OneTimeLink).where(
            OneTimeLink.token_hash == token_digest(token),
            OneTimeLink.purpose == purpose.value,
            OneTimeLink.used_at.is_(None),
            OneTimeLink.expires_at > now,
        )
    )


async def use_link(
    session: AsyncSession, token: str, purpose: LinkPurpose, now: datetime | None = None
) -> OneTimeLink | None:
    """Spend the link ``token`` names: the row when this call spent it, None when it was not usable (see
    :func:`find_link`) or a concurrent request spent it first (one atomic ``UPDATE ... WHERE used_at IS NULL``)."""
    now = now or utcnow()
    row = await find_link(session, token, purpose, now)
    if row is None:
        return None
    spent = await session.scalar(
        update(OneTimeLink)
        .where(OneTimeLink.id == row.id, OneTimeLink.used_at.is_(None))
        .values(used_at=now)
        .returning(OneTimeLink.id)
        .execution_options(synchronize_session="fetch")
    )
    return row if spent is not None else None
