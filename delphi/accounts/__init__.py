"""Accounts of facilitators, researchers and admins: creation, login with lockout, API tokens."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, case, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from delphi import audit, security
from delphi.db.models import Account, ApiToken, utcnow
from delphi.domain import SYSTEM, AccountRole, Actor, TokenScope
from delphi.errors import Conflict, DelphiError, InvalidInput, NotFound

EMAIL_RE = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$")
#: Failed logins before an account is locked, and for how long.
MAX_FAILED_LOGINS = 8
LOCKOUT = timedelta(minutes=15)
LOGIN_FAILED = (
    "The e-mail address or password is not right, or the account is locked for a few minutes. Try again."
)


class LoginFailed(DelphiError):
    status_code = 400


def normalise_email(email: str) -> str:
    """Trim and lower-case; raise InvalidInput when it is not an address."""
    value = (email or "").strip().lower()
    if len(value) > 320 or not EMAIL_RE.match(value):
        raise InvalidInput(f"{email!r} is not an e-mail address.", field="email")
    return value


async def create_account(
    session: AsyncSession, *, email: str, password: str, role: str, name: str = ""
) -> Account:
    """Create an account (the caller commits). Raises InvalidInput or Conflict with a clear message."""
    address = normalise_email(email)
    if role not in {r.value for r in AccountRole}:
        raise InvalidInput(f"Role must be one of {', '.join(r.value for r in AccountRole)}.", field="role")
    if len(password) < security.MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            f"The password must have at least {security.MIN_PASSWORD_LENGTH} characters.", field="password"
        )
    if await session.scalar(select(Account.id).where(Account.email == address)) is not None:
        raise Conflict(f"An account for {address} exists already.", field="email")
    password_hash = await asyncio.to_thread(security.hash_password, password)
    account = Account(email=address, name=name.strip(), password_hash=password_hash, role=role)
    session.add(account)
    await session.flush()
    audit.record(
        session, actor=SYSTEM, action="account.created", account_id=account.id, detail={"role": role}
    )
    return account


async def authenticate(
    session: AsyncSession, email: str, password: str, now: datetime | None = None
) -> Account:
    """Return the account for a right e-mail and password; else raise :class:`LoginFailed`.

    The message is the same whether the address is unknown, the password wrong or the account locked; one
    argon2 verification is spent in every case.  Failures are counted on the account and lock it for
    :data:`LOCKOUT` after :data:`MAX_FAILED_LOGINS`; a failure while locked is not counted.  The count and the
    lock are decided by the database in one ``UPDATE`` each (see :func:`_count_failure`), so they hold across
    concurrent requests and processes.  The caller commits (also on failure, to keep the count).
    """
    now = now or utcnow()
    address = (email or "").strip().lower()
    account = await session.scalar(select(Account).where(Account.email == address)) if address else None
    ok = await asyncio.to_thread(
        security.verify_password, account.password_hash if account else None, password
    )
    if account is None or not account.is_active:
        raise LoginFailed(LOGIN_FAILED)
    if not ok:
        await _count_failure(session, account.id, now)
        raise LoginFailed(LOGIN_FAILED)
    signed_in = await session.scalar(
        update(Account)
        .where(Account.id == account.id, _unlocked(now))
        .values(failed_logins=0, locked_until=None, last_login_at=now)
        .returning(Account.id)
        .execution_options(synchronize_session="fetch")
    )
    if signed_in is None:  # locked, as the database sees it now
        raise LoginFailed(LOGIN_FAILED)
    return account


def _unlocked(now: datetime) -> ColumnElement[bool]:
    """The account is not locked at ``now`` (never locked, or its lock has run out)."""
    return or_(Account.locked_until.is_(None), Account.locked_until <= now)


async def _count_failure(session: AsyncSession, account_id: int, now: datetime) -> None:
    """Count one failed login of an unlocked account in one atomic ``UPDATE``; the failure that reaches
    :data:`MAX_FAILED_LOGINS` locks it until ``now + LOCKOUT`` and starts the count again at 0.

    Both ``SET`` expressions read the row as it was before the statement, and the row lock of the ``UPDATE``
    orders concurrent failures, so none is lost and a failure arriving while locked matches no row.
    """
    reaches_limit = Account.failed_logins + 1 >= MAX_FAILED_LOGINS
    locked_until = literal(now + LOCKOUT, type_=Account.__table__.c.locked_until.type)
    count = await session.scalar(
        update(Account)
        .where(Account.id == account_id, _unlocked(now))
        .values(
            failed_logins=case((reaches_limit, 0), else_=Account.failed_logins + 1),
            locked_until=case((reaches_limit, locked_until), else_=Account.locked_until),
        )
        .returning(Account.failed_logins)
        .execution_options(synchronize_session=False)
    )
    if count == 0:
        audit.record(session, actor=SYSTEM, action="account.locked", account_id=account_id)


#: The scopes a token may be given, as the token page offers them: reading only, or reading and changing.
TOKEN_SCOPES: dict[str, frozenset[TokenScope]] = {
    "read": frozenset({TokenScope.READ}),
    "read write": frozenset({TokenScope.READ, TokenScope.WRITE}),
}


def scopes_text(scopes: frozenset[TokenScope]) -> str:
    """``scopes`` as stored: space-separated, in the order of :class:`~delphi.domain.TokenScope`."""
    return " ".join(s.value for s in TokenScope if s in scopes)


def token_scopes(row: ApiToken) -> frozenset[TokenScope]:
    """The scopes a stored token carries; a word that is no scope (a hand-edited row) grants nothing."""
    known = {s.value: s for s in TokenScope}
    return frozenset(known[w] for w in row.scopes.split() if w in known)


async def create_api_token(
    session: AsyncSession, account: Account, name: str, scopes: str = "read"
) -> tuple[ApiToken, str]:
    """Create an API token with ``scopes`` (a key of :data:`TOKEN_SCOPES`); returns the row and the token,
    which is shown once and never stored.  InvalidInput lists every problem (the name, the scopes) at once."""
    label = (name or "").strip()
    problems = []
    if not 1 <= len(label) <= 100:
        problems.append(("name", "Give the token a name of 1 to 100 characters."))
    if scopes not in TOKEN_SCOPES:
        problems.append(("scopes", "Choose what the token may do: read only, or read and change."))
    if problems:
        raise InvalidInput(problems[0][1], field=problems[0][0], errors=problems)
    token, digest = security.new_token()
    row = ApiToken(
        account_id=account.id, name=label, token_hash=digest, scopes=scopes_text(TOKEN_SCOPES[scopes])
    )
    session.add(row)
    await session.flush()
    audit.record(
        session,
        actor=Actor.account(account),
        action="api_token.created",
        account_id=account.id,
        detail={"token_id": row.id, "name": label, "scopes": row.scopes},
    )
    return row, token


async def account_for_token(
    session: AsyncSession, token: str
) -> tuple[Account, frozenset[TokenScope]] | None:
    """The active account owning an unrevoked API token, with the token's scopes; None for any other token."""
    digest = security.token_digest(token)
    row = await session.scalar(
        select(ApiToken).where(ApiToken.token_hash == digest, ApiToken.revoked_at.is_(None))
    )
    if row is None:
        return None
    account = await session.get(Account, row.account_id)
    if account is None or not account.is_active:
        return None
    row.last_used_at = utcnow()
    return account, token_scopes(row)


async def list_tokens(session: AsyncSession, account: Account) -> list[ApiToken]:
    """The account's tokens, live ones first, newest first (one query)."""
    rows = await session.scalars(
        select(ApiToken)
        .where(ApiToken.account_id == account.id)
        .order_by(ApiToken.revoked_at.is_not(None), ApiToken.created_at.desc(), ApiToken.id.desc())
    )
    return list(rows.all())


async def revoke_token(session: AsyncSession, account: Account, token_id: int) -> ApiToken:
    """Revoke one of the account's tokens (idempotent); NotFound for a token of another account."""
    row = await session.get(ApiToken, token_id)
    if row is None or row.account_id != account.id:
        raise NotFound("There is no such token on your account.")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        audit.record(
            session,
            actor=Actor.account(account),
            action="api_token.revoked",
            account_id=account.id,
            detail={"token_id": row.id, "name": row.name},
        )
    return row
