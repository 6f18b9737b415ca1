"""The account's API tokens: list, create (the token is shown once, on the answer to the POST) and revoke.

A token reads only unless its owner chooses "read and change" (scopes ``read write``,
:data:`delphi.accounts.TOKEN_SCOPES`): only such a token changes anything through the API.

Only the SHA-256 of a token is stored (:func:`delphi.accounts.create_api_token`); a revoked token answers 401 at
once. An account sees and revokes its own tokens only; another account's token id is a 404.
"""

from __future__ import annotations

from litestar import Controller, MediaType, Request, get, post
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from delphi import accounts
from delphi.db.models import Account
from delphi.errors import InvalidInput
from delphi.web.forms import read_form, render_form
from delphi.web.schemas import RowId

#: Most live tokens one account may hold.
MAX_TOKENS = 20


class ApiTokenController(Controller):
    path = "/account/tokens"
    include_in_schema = False

    @get("/", name="api_tokens")
    async def index(self, db_session: AsyncSession, account: Account) -> Template:
        return render_form(
            "account/tokens.html",
            {
                "account": account,
                "tokens": await accounts.list_tokens(db_session, account),
                "new_token": None,
                "name": "",
            },
        )

    @post("/", name="api_token_create")
    async def create(self, request: Request, db_session: AsyncSession, account: Account) -> Template:
        """Create a token and show it once; the page is not cached and the token is never shown again."""
        form = await read_form(request)
        name = form.get("name", "")[:200]
        scopes = form.get("scopes", "read")
        tokens = await accounts.list_tokens(db_session, account)
        try:
            if sum(t.revoked_at is None for t in tokens) >= MAX_TOKENS:
                raise InvalidInput(
                    f"You have {MAX_TOKENS} live tokens already; revoke one you no longer use first.",
                    field="name",
                )
            row, token = await accounts.create_api_token(db_session, account, name, scopes)
        except InvalidInput as exc:  # raised before anything is written: nothing to roll back
            ctx = {"account": account, "tokens": tokens, "new_token": None, "name": name, "scopes": scopes}
            return render_form("account/tokens.html", ctx, errors=exc.errors, status_code=422)
        await db_session.commit()
        return Template(
            "account/tokens.html",
            context={
                "account": account,
                "tokens": await accounts.list_tokens(db_session, account),
                "new_token": token,
                "new_row": row,
                "name": "",
                "errors": [],
                "field_errors": {},
            },
            media_type=MediaType.HTML,
            status_code=201,
            headers={"Cache-Control": "no-store"},
        )

    @post("/{token_id:int}/revoke", name="api_token_revoke")
    async def revoke(self, token_id: RowId, db_session: AsyncSession, account: Account) -> Redirect:
        await accounts.revoke_token(db_session, account, token_id)
        return Redirect("/account/tokens?revoked=1", status_code=303)
