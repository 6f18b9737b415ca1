"""Request dependencies: settings, the signed-in account."""

from __future__ import annotations

from litestar import Request
from litestar.datastructures import State
from litestar.exceptions import NotAuthorizedException
from sqlalchemy.ext.asyncio import AsyncSession

from delphi import accounts
from delphi.db.models import Account
from delphi.settings import Settings

SESSION_ACCOUNT_KEY = "account_id"


def provide_settings(state: State) -> Settings:
    return state.settings


async def optional_account(request: Request, db_session: AsyncSession) -> Account | None:
    """The account signed in through the session cookie, or None."""
    account_id = request.session.get(SESSION_ACCOUNT_KEY) if request.scope.get("session") else None
    if not isinstance(account_id, int):
        return None
    return await accounts.active_account(db_session, account_id)


async def provide_account(request: Request, db_session: AsyncSession) -> Account:
    """The signed-in account; anonymous visitors are sent to the login page (HTML) or get a 401 (API)."""
    account = await optional_account(request, db_session)
    if account is None:
        raise NotAuthorizedException("Sign in to see this page.")
    return account
