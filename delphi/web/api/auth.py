"""Who is calling the API, and whether they may change anything: a bearer token, else the session cookie.

Reading (GET, HEAD, OPTIONS) takes a token of any scope or the session cookie of a signed-in account.  A change
(any other method) takes a token with the ``write`` scope: a read-only token is a 403 ``insufficient_scope``
(RFC 6750 §3.1) and the session cookie a 403 too, so no page of another site can make a signed-in browser
change anything through the API, and the API needs no CSRF check of its own.
"""

from __future__ import annotations

from litestar import Request
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from sqlalchemy.ext.asyncio import AsyncSession

from delphi import accounts
from delphi.db.models import Account
from delphi.domain import TokenScope
from delphi.web.deps import optional_account

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: ``request.state`` key saying how the request authenticated: ``"token"`` or ``"session"``.
AUTH_STATE_KEY = "api_auth"
#: ``request.state`` key holding the scopes of the request's token (every scope for nothing: a session reads).
SCOPES_STATE_KEY = "api_scopes"


def bearer_token(request: Request) -> str | None:
    """The token of an ``Authorization: Bearer ...`` header; "" for a malformed one; None without the header."""
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, token = header.strip().partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


async def provide_api_account(request: Request, db_session: AsyncSession) -> Account:
    """The account behind an API request: its bearer token, else its session cookie (for reading only).

    401 for a wrong or revoked token (even with a session cookie) and without credentials; 403 for a change
    sent with a token without the write scope, or with the session cookie."""
    token = bearer_token(request)
    changes = request.method not in SAFE_METHODS
    if token is not None:
        found = await accounts.account_for_token(db_session, token) if token else None
        if found is None:
            raise NotAuthorizedException(
                "The API token is wrong or has been revoked. Create a new one on /account/tokens.",
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        account, scopes = found
        if changes and TokenScope.WRITE not in scopes:
            raise PermissionDeniedException(
                "This API token may only read. Changes need a token that may read and change: create one "
                "on /account/tokens.",
                headers={"WWW-Authenticate": 'Bearer error="insufficient_scope", scope="write"'},
            )
        request.state[AUTH_STATE_KEY] = "token"
        request.state[SCOPES_STATE_KEY] = sorted(scopes)
        return account
    account = await optional_account(request, db_session)
    if account is None:
        raise NotAuthorizedException(
            "Sign in, or send an API token as 'Authorization: Bearer <token>'.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if changes:
        raise PermissionDeniedException(
            "Changes through the API need an API token that may read and change, sent as "
            "'Authorization: Bearer <token>' (create one on /account/tokens); the session cookie only reads.",
            headers={"WWW-Authenticate": 'Bearer error="insufficient_scope", scope="write"'},
        )
    request.state[AUTH_STATE_KEY] = "session"
    request.state[SCOPES_STATE_KEY] = [TokenScope.READ.value]
    return account
