"""Who is calling the API: a bearer token, else the session cookie (with the CSRF header for changes)."""

from __future__ import annotations

import hmac

from litestar import Request
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.middleware.csrf import CSRF_SECRET_LENGTH, generate_csrf_hash
from sqlalchemy.ext.asyncio import AsyncSession

from delphi import accounts
from delphi.db.models import Account
from delphi.web.deps import optional_account

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: ``request.state`` key saying how the request authenticated: ``"token"`` or ``"session"``.
AUTH_STATE_KEY = "api_auth"


def csrf_header_valid(request: Request) -> bool:
    """True when ``x-csrftoken`` carries the same signed token as the CSRF cookie (Litestar's format)."""
    config = request.app.csrf_config
    if config is None:
        return True
    header = request.headers.get(config.header_name) or ""
    cookie = request.cookies.get(config.cookie_name) or ""

    def secret_of(token: str) -> str | None:
        if len(token) <= CSRF_SECRET_LENGTH:
            return None
        secret, signature = token[:CSRF_SECRET_LENGTH], token[CSRF_SECRET_LENGTH:]
        expected = generate_csrf_hash(token=secret, secret=config.secret)
        return secret if hmac.compare_digest(signature, expected) else None

    a, b = secret_of(header), secret_of(cookie)
    return a is not None and b is not None and hmac.compare_digest(a, b)


def bearer_token(request: Request) -> str | None:
    """The token of an ``Authorization: Bearer ...`` header; "" for a malformed one; None without the header."""
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, token = header.strip().partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


async def provide_api_account(request: Request, db_session: AsyncSession) -> Account:
    """The account behind an API request: its bearer token, else its session cookie (with the CSRF rule)."""
    token = bearer_token(request)
    if token is not None:
        account = await accounts.account_for_token(db_session, token) if token else None
        if account is None:
            raise NotAuthorizedException(
                "The API token is wrong or has been revoked. Create a new one on /account/tokens.",
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        request.state[AUTH_STATE_KEY] = "token"
        return account
    account = await optional_account(request, db_session)
    if account is None:
        raise NotAuthorizedException(
            "Sign in, or send an API token as 'Authorization: Bearer <token>'.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if request.method not in SAFE_METHODS and not csrf_header_valid(request):
        raise PermissionDeniedException(
            "A change made with the session cookie must send the anti-forgery token (the delphi_csrf cookie's "
            "value) in the x-csrftoken header; or authenticate with an API token instead."
        )
    request.state[AUTH_STATE_KEY] = "session"
    return account
