"""Passwords of accounts: change (signed in), reset through an e-mailed one-time link, and set by an admin.

Every function works in the caller's transaction and the caller commits; each change is audited and ends the
account's other sessions (:func:`delphi.accounts.sessions.revoke_sessions`): a change keeps the browser that made
it, a reset and an admin's new password keep none.  Passwords are hashed with argon2id in a worker thread.

The reset answers the same to everyone: :func:`request_reset` returns nothing and raises nothing for an
address that is well formed, whether an account uses it, the account is deactivated, or a mail went out
minutes ago; :func:`reset_password` refuses every unusable link (unknown, spent, expired, of a deactivated
account) with the one neutral :class:`LinkUnusable`.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from delphi import audit, security
from delphi.accounts import normalise_email
from delphi.accounts.links import find_link, issue_link, spend_links, use_link
from delphi.accounts.sessions import revoke_sessions
from delphi.db.models import Account, OneTimeLink, utcnow
from delphi.domain import SYSTEM, Actor, LinkPurpose
from delphi.errors import InvalidInput, NotFound
from delphi.mail import kinds
from delphi.mail.outbox import enqueue_mail
from delphi.settings import Settings

#: How long an e-mailed reset link works.
RESET_LIFETIME = timedelta(hours=1)
#: At most one reset mail per account within this interval; a request inside it sends nothing (and says the
#: same as always), so nobody can fill an inbox with reset mails.
RESET_MAIL_INTERVAL = timedelta(minutes=5)
LINK_UNUSABLE = (
    "This link does not work any more: it was used already, it is more than an hour old, or a newer link "
    "was sent since. Ask for a new one."
)


class LinkUnusable(NotFound):
    """A reset link that cannot be used, for whatever reason; the message never says which."""

    def __init__(self) -> None:
        super().__init__(LINK_UNUSABLE)


def _refuse(problems: list[tuple[str, str]]) -> None:
    """Raise one InvalidInput listing every problem (the first one as its message), if there is any."""
    if problems:
        field, message = problems[0]
        raise InvalidInput(message, field=field, errors=problems)


async def _store(session: AsyncSession, account: Account, new: str) -> None:
    """Hash ``new`` into ``account`` and clear its lockout (failed-login count and lock)."""
    account.password_hash = await asyncio.to_thread(security.hash_password, new)
    account.failed_logins = 0
    account.locked_until = None
    await session.flush()


async def change_password(
    session: AsyncSession,
    account: Account,
    current: str,
    new: str,
    *,
    keep_session: int | None,
    repeat: str | None = None,
    now: datetime | None = None,
) -> int:
    """Change the signed-in ``account``'s password from ``current`` to ``new``; returns how many of its other
    sessions were ended (every one but ``keep_session``, the browser making the change).

    Raises one :class:`~delphi.errors.InvalidInput` listing every problem (``errors``) before anything is written:
    ``current`` empty or not the password (field ``"current"``), ``new`` too short or too long (``"new"``),
    ``repeat`` (when given) not equal to ``new`` (``"repeat"``).  A wrong ``current`` is not counted towards the
    login lockout (the caller rate-limits the form).  Also clears a lockout.  Audited as
    ``account.password_changed``; unused reset links are spent.
    """
    now = now or utcnow()
    problems: list[tuple[str, str]] = []
    if not current:
        problems.append(("current", "Enter your current password."))
    elif not await asyncio.to_thread(security.verify_password, account.password_hash, current):
        problems.append(("current", "Your current password is not right."))
    problems += security.password_problems(new, repeat)
    _refuse(problems)
    await _store(session, account, new)
    await spend_links(session, now, purpose=LinkPurpose.PASSWORD_RESET, account_id=account.id)
    actor = Actor.account(account)
    audit.record(session, actor=actor, action="account.password_changed", account_id=account.id)
    return await revoke_sessions(
        session, account.id, keep=keep_session, reason="password changed", actor=actor, now=now
    )


async def request_reset(
    session: AsyncSession, settings: Settings, email: str, now: datetime | None = None
) -> None:
    """Queue a reset link for the active account that uses ``email``, if there is one; else do nothing.

    The caller learns nothing either way: no return value, and no error for a well-formed address (only a
    malformed one raises :class:`~delphi.errors.InvalidInput` on ``"email"``, the same for everyone).  For an
    active account: a :data:`RESET_LIFETIME` link is issued (spending older unused ones) and a
    ``password_reset`` mail queued with the link placeholder (the outbox never holds the token), audited as
    ``account.password_reset_requested`` — unless the account had a link issued within the last
    :data:`RESET_MAIL_INTERVAL`, when nothing is done (the earlier mail still works).  The account row is locked
    (``FOR UPDATE`` on PostgreSQL; SQLite serialises writers) so concurrent requests mail at most once.  Unknown
    and deactivated addresses cost one query; the web page evens out the answer time (see
    :mod:`delphi.web.passwords`).
    """
    now = now or utcnow()
    address = normalise_email(email)
    account = await session.scalar(select(Account).where(Account.email == address).with_for_update())
    if account is None or not account.is_active:
        return
    recent = await session.scalar(
        select(OneTimeLink.id)
        .where(
            OneTimeLink.account_id == account.id,
            OneTimeLink.purpose == LinkPurpose.PASSWORD_RESET.value,
            OneTimeLink.created_at > now - RESET_MAIL_INTERVAL,
        )
        .limit(1)
    )
    if recent is not None:
        return
    link = await issue_link(
        session,
        settings.secret_key,
        purpose=LinkPurpose.PASSWORD_RESET,
        email=account.email,
        account_id=account.id,
        lifetime=RESET_LIFETIME,
        now=now,
    )
    await enqueue_mail(
        session,
        kinds.password_reset,
        kinds.password_reset(name=account.name, minutes=int(RESET_LIFETIME.total_seconds() // 60)),
        to_address=account.email,
        dedupe_key=kinds.password_reset.key(account_id=account.id, link_id=link.id),
        link_id=link.id,
    )
    audit.record(
        session,
        actor=SYSTEM,
        action="account.password_reset_requested",
        account_id=account.id,
        detail={"link_id": link.id},
    )


async def check_reset_link(session: AsyncSession, token: str, now: datetime | None = None) -> Account:
    """The active account whose usable reset link ``token`` is; :class:`LinkUnusable` for anything else (spends
    nothing: for showing the form)."""
    link = await find_link(session, token, LinkPurpose.PASSWORD_RESET, now)
    if link is None or link.account_id is None:
        raise LinkUnusable()
    account = await session.get(Account, link.account_id)
    if account is None or not account.is_active:
        raise LinkUnusable()
    return account


async def reset_password(
    session: AsyncSession, token: str, new: str, *, repeat: str | None = None, now: datetime | None = None
) -> Account:
    """Set the password of the account whose reset link ``token`` is, spending the link; returns the account.

    Raises :class:`LinkUnusable` (one neutral message) for a link that is unknown, spent (also by a concurrent
    request), expired or of a deactivated account, and :class:`~delphi.errors.InvalidInput` listing every
    problem of ``new`` / ``repeat`` (see :func:`delphi.security.password_problems`) without spending the link, so the form can be
    sent again.  Clears the lockout, ends every session of the account and spends its other reset links; audited
    as ``account.password_reset``.
    """
    now = now or utcnow()
    account = await check_reset_link(session, token, now)
    _refuse(security.password_problems(new, repeat))
    link = await use_link(session, token, LinkPurpose.PASSWORD_RESET, now)
    if link is None:  # a concurrent request spent it first
        raise LinkUnusable()
    await _store(session, account, new)
    await spend_links(session, now, purpose=LinkPurpose.PASSWORD_RESET, account_id=account.id)
    audit.record(
        session,
        actor=SYSTEM,
        action="account.password_reset",
        account_id=account.id,
        detail={"link_id": link.id},
    )
    await revoke_sessions(session, account.id, reason="password reset", now=now)
    return account


async def set_password(session: AsyncSession, account: Account, new: str, now: datetime | None = None) -> int:
    """An admin sets ``account``'s password (``delphi accounts set-password``); returns how many sessions were
    ended (all of them).  InvalidInput on ``"password"`` for a too short or too long one.  Clears the lockout,
    spends unused reset links; audited as ``account.password_set``."""
    now = now or utcnow()
    _refuse(security.password_problems(new, field="password"))
    await _store(session, account, new)
    await spend_links(session, now, purpose=LinkPurpose.PASSWORD_RESET, account_id=account.id)
    audit.record(session, actor=SYSTEM, action="account.password_set", account_id=account.id)
    return await revoke_sessions(session, account.id, reason="password set by an admin", now=now)
