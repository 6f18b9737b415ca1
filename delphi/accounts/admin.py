"""What an administrator does to accounts from the command line: find one by address, deactivate it, list all.

Every function works in the caller's transaction; the caller commits.  The listing holds no password data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from delphi import audit
from delphi.accounts import normalise_email
from delphi.accounts.links import spend_links
from delphi.accounts.sessions import revoke_sessions
from delphi.db.models import Account, utcnow
from delphi.domain import SYSTEM
from delphi.errors import NotFound


@dataclass(frozen=True, slots=True)
class AccountLine:
    """One account as listed: no password hash, no lockout data."""

    email: str
    name: str
    role: str
    is_active: bool
    last_login_at: datetime | None


async def account_by_email(session: AsyncSession, email: str) -> Account:
    """The account that uses ``email`` (any case, trimmed); NotFound naming the address when there is none,
    InvalidInput when it is not an address."""
    address = normalise_email(email)
    account = await session.scalar(select(Account).where(Account.email == address))
    if account is None:
        raise NotFound(f"There is no account for {address}. `delphi accounts list` shows every account.")
    return account


async def deactivate_account(session: AsyncSession, account: Account, now: datetime | None = None) -> int:
    """Deactivate ``account``: it can no longer sign in, its sessions end now and its unused links are spent.

    Returns how many sessions were ended.  Its API tokens are left as they are, but stop working at once:
    :func:`delphi.accounts.account_for_token` refuses the tokens of an inactive account.  Deactivating an
    inactive account changes nothing and records nothing (returns 0); otherwise audited as
    ``account.deactivated``.
    """
    if not account.is_active:
        return 0
    now = now or utcnow()
    account.is_active = False
    await spend_links(session, now, account_id=account.id)
    audit.record(session, actor=SYSTEM, action="account.deactivated", account_id=account.id)
    await session.flush()
    return await revoke_sessions(session, account.id, reason="deactivated", now=now)


async def list_accounts(session: AsyncSession) -> list[AccountLine]:
    """Every account, by e-mail address (one query, selecting no password data)."""
    rows = await session.execute(
        select(Account.email, Account.name, Account.role, Account.is_active, Account.last_login_at).order_by(
            Account.email
        )
    )
    return [AccountLine(*row) for row in rows.all()]
