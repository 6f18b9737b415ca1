"""Request dependencies: settings, the signed-in account and its server-side session."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.datastructures import State
from litestar.exceptions import NotAuthorizedException
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.accounts import sessions
from delphi.db.models import Account, AccountSession
from delphi.settings import Settings

#: The session cookie's key holding the :class:`~delphi.db.models.AccountSession` id (an int).
ACCOUNT_SESSION_KEY = "account_session"
#: ``request.state`` key caching :func:`signed_in` for the rest of the request.
_SIGNED_IN_STATE = "delphi_signed_in"


def provide_settings(state: State) -> Settings:
    return state.settings


def _cookie_session(request: Request) -> dict[str, Any]:
    session = request.scope.get("session")
    return session if isinstance(session, dict) else {}


def cookie_session_id(request: Request) -> object:
    """The account session id the cookie holds, unchecked (None without one)."""
    return _cookie_session(request).get(ACCOUNT_SESSION_KEY)


async def signed_in(request: Request, db_session: AsyncSession) -> tuple[Account, AccountSession] | None:
    """The active account and live session of the request's cookie, or None (looked up once per request).

    A revoked, idle or too old session, an unknown id and a deactivated account are all no session
    (:func:`delphi.accounts.sessions.live_account`, with ``settings.sessions``).
    """
    if _SIGNED_IN_STATE in request.state:
        return request.state[_SIGNED_IN_STATE]
    settings: Settings = request.app.state.settings
    found = await sessions.live_account(db_session, cookie_session_id(request), settings.sessions)
    request.state[_SIGNED_IN_STATE] = found
    return found


async def optional_account(request: Request, db_session: AsyncSession) -> Account | None:
    """The account signed in through the session cookie, or None."""
    found = await signed_in(request, db_session)
    return found[0] if found else None


async def provide_account(request: Request, db_session: AsyncSession) -> Account:
    """The signed-in account; anonymous visitors are sent to the login page (HTML) or get a 401 (API)."""
    account = await optional_account(request, db_session)
    if account is None:
        raise NotAuthorizedException("Sign in to see this page.")
    return account


def remember_session(request: Request, row: AccountSession) -> None:
    """Put a freshly started session in the cookie, replacing whatever the cookie held (a fresh content)."""
    request.set_session({ACCOUNT_SESSION_KEY: row.id})
    request.state.pop(_SIGNED_IN_STATE, None)


def forget_session(request: Request) -> None:
    """Clear the session cookie (the server-side session is ended by the caller)."""
    request.clear_session()
    request.state[_SIGNED_IN_STATE] = None
