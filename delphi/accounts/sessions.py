"""Server-side sessions of facilitators, researchers and admins: one row per signed-in browser.

The session cookie holds only the :class:`~delphi.db.models.AccountSession` id; every request looks the row up
(:func:`live_account`), so signing out (:func:`end_session`) or revoking (:func:`revoke_sessions`) ends the
session for every copy of the cookie at once.  A session is *live* while it is not revoked, was seen within the
idle lifetime and was started within the absolute one (:class:`delphi.settings.SessionSettings`
``facilitator_idle`` / ``facilitator_max``), and its account is active.

Every function works in the caller's transaction; the caller commits.  Times are timezone-aware UTC;
``now`` defaults to the current time and exists so tests can move the clock.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from delphi import audit
from delphi.db.models import Account, AccountSession, utcnow
from delphi.domain import SYSTEM, Actor
from delphi.settings import SessionSettings

__all__ = [
    "SEEN_RESOLUTION",
    "describe_user_agent",
    "end_session",
    "is_live",
    "live_account",
    "live_sessions",
    "revoke_sessions",
    "start_session",
]

#: ``last_seen_at`` is written only when it is older than this, so most requests write nothing.
SEEN_RESOLUTION = timedelta(minutes=1)
#: Longest stored browser description, in characters (the column's length).
MAX_DESCRIPTION = 100


async def start_session(
    session: AsyncSession, account: Account, *, user_agent: str, now: datetime | None = None
) -> AccountSession:
    """Add a live session for ``account`` (flushed, so its ``id`` is set; the caller commits).

    ``user_agent`` is the raw ``User-Agent`` header (may be empty); only its short description
    (:func:`describe_user_agent`) is stored.  Both ``created_at`` and ``last_seen_at`` are ``now``.
    """
    now = now or utcnow()
    row = AccountSession(
        account_id=account.id,
        created_at=now,
        last_seen_at=now,
        revoked_at=None,
        user_agent=describe_user_agent(user_agent),
    )
    session.add(row)
    await session.flush()
    return row


def is_live(row: AccountSession, lifetimes: SessionSettings, now: datetime) -> bool:
    """Whether ``row`` is live at ``now``: not revoked, seen within ``facilitator_idle`` and started within
    ``facilitator_max`` (both bounds exclusive: a session exactly ``facilitator_idle`` old is dead).  The
    account's ``is_active`` is not checked here."""
    return (
        row.revoked_at is None
        and now - row.last_seen_at < lifetimes.facilitator_idle
        and now - row.created_at < lifetimes.facilitator_max
    )


async def live_account(
    session: AsyncSession, session_id: object, lifetimes: SessionSettings, now: datetime | None = None
) -> tuple[Account, AccountSession] | None:
    """The active account and live session named by ``session_id`` (the cookie's value), else None.

    None when ``session_id`` is not an ``int`` (a ``bool`` is not one either; no query is made), names no
    session, or the session is revoked, idle for ``lifetimes.facilitator_idle`` or more, started
    ``lifetimes.facilitator_max`` or more ago, or its account is deactivated.  One query fetches both rows.
    A live session's ``last_seen_at`` is moved to ``now`` only when it is more than :data:`SEEN_RESOLUTION`
    old, so most requests write nothing (the change is flushed with the caller's commit).
    """
    if not isinstance(session_id, int) or isinstance(session_id, bool):
        return None
    now = now or utcnow()
    found = (
        await session.execute(
            select(Account, AccountSession)
            .join(AccountSession, AccountSession.account_id == Account.id)
            .where(AccountSession.id == session_id, AccountSession.revoked_at.is_(None))
        )
    ).first()
    if found is None:
        return None
    account, row = found
    if not account.is_active or not is_live(row, lifetimes, now):
        return None
    if now - row.last_seen_at > SEEN_RESOLUTION:
        row.last_seen_at = now
    return account, row


async def end_session(
    session: AsyncSession, session_id: object, *, actor: Actor, now: datetime | None = None
) -> bool:
    """Sign out: revoke the session ``session_id`` (audited as ``session.ended``).

    Returns True when a session not yet revoked was revoked; False (and nothing is recorded) when the id is not
    an ``int``, names no session, or the session was revoked already.  A session whose lifetime ran out but
    was never revoked is revoked too.
    """
    if not isinstance(session_id, int) or isinstance(session_id, bool):
        return False
    now = now or utcnow()
    account_id = await session.scalar(
        update(AccountSession)
        .where(AccountSession.id == session_id, AccountSession.revoked_at.is_(None))
        .values(revoked_at=now)
        .returning(AccountSession.account_id)
        .execution_options(synchronize_session="fetch")
    )
    if account_id is None:
        return False
    audit.record(
        session, actor=actor, action="session.ended", account_id=account_id, detail={"session_id": session_id}
    )
    return True


async def revoke_sessions(
    session: AsyncSession,
    account_id: int,
    *,
    keep: int | None = None,
    reason: str,
    actor: Actor = SYSTEM,
    now: datetime | None = None,
) -> int:
    """Revoke every session of ``account_id`` not yet revoked, except the one with id ``keep`` (if given).

    ``reason`` is a short plain phrase for the audit trail ("sign out everywhere", "password changed",
    "password reset", "role changed", "deactivated"); ``actor`` who did it (the system by default).  Sessions
    whose lifetime ran out but that were never revoked are revoked (and counted) too.  Returns how many were
    revoked; ``sessions.revoked`` is audited (with the reason and the count) only when that is at least one.
    """
    now = now or utcnow()
    stmt = update(AccountSession).where(
        AccountSession.account_id == account_id, AccountSession.revoked_at.is_(None)
    )
    if keep is not None:
        stmt = stmt.where(AccountSession.id != keep)
    revoked = (
        await session.scalars(
            stmt.values(revoked_at=now)
            .returning(AccountSession.id)
            .execution_options(synchronize_session="fetch")
        )
    ).all()
    if revoked:
        audit.record(
            session,
            actor=actor,
            action="sessions.revoked",
            account_id=account_id,
            detail={"reason": reason, "count": len(revoked)},
        )
    return len(revoked)


async def live_sessions(
    session: AsyncSession, account_id: int, lifetimes: SessionSettings, now: datetime | None = None
) -> list[AccountSession]:
    """The account's live sessions (see :func:`is_live`), most recently seen first (one query)."""
    now = now or utcnow()
    rows = await session.scalars(
        select(AccountSession)
        .where(
            AccountSession.account_id == account_id,
            AccountSession.revoked_at.is_(None),
            AccountSession.created_at > now - lifetimes.facilitator_max,
        )
        .order_by(AccountSession.last_seen_at.desc(), AccountSession.id.desc())
    )
    return [row for row in rows.all() if is_live(row, lifetimes, now)]


# (pattern, name), first match wins: Edge, Opera and Samsung Internet also say "Chrome", Chrome also "Safari".
_BROWSERS = (
    (re.compile(r"\bEdg(e|A|iOS)?/"), "Edge"),
    (re.compile(r"\b(OPR|Opera)/"), "Opera"),
    (re.compile(r"\bSamsungBrowser/"), "Samsung Internet"),
    (re.compile(r"\b(Firefox|FxiOS)/"), "Firefox"),
    (re.compile(r"\b(Chrome|CriOS|Chromium)/"), "Chrome"),
    (re.compile(r"\bVersion/[\d.]+.*\bSafari/"), "Safari"),
)
# Android before Linux, iPhone/iPad before "like Mac OS X".
_SYSTEMS = (
    (re.compile(r"\bWindows\b"), "Windows"),
    (re.compile(r"\bAndroid\b"), "Android"),
    (re.compile(r"\biPad\b"), "iPadOS"),
    (re.compile(r"\b(iPhone|iPod)\b"), "iOS"),
    (re.compile(r"\bCrOS\b"), "ChromeOS"),
    (re.compile(r"\bMac OS X\b|\bMacintosh\b"), "macOS"),
    (re.compile(r"\bLinux\b"), "Linux"),
)


def describe_user_agent(header: str) -> str:
    """A short, plain description of a ``User-Agent`` header for the account page, at most 100 characters.

    "Firefox on Windows", "Chrome on Android", "Safari on iOS"; only the browser ("Firefox") or only the system
    ("a browser on Linux") when the other is not recognised; "a browser" for an empty or unknown header.
    Never the header itself, which may identify the person more than needed.
    """
    text = (header or "")[:1000]
    browser = next((name for pattern, name in _BROWSERS if pattern.search(text)), None)
    system = next((name for pattern, name in _SYSTEMS if pattern.search(text)), None)
    if browser and system:
        described = f"{browser} on {system}"
    elif browser:
        described = browser
    elif system:
        described = f"a browser on {system}"
    else:
        described = "a browser"
    return described[:MAX_DESCRIPTION]
