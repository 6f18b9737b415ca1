"""The account page: who is signed in, the account's signed-in browsers, and "sign out everywhere".

The sessions listed are the live ones (:func:`delphi.accounts.sessions.live_sessions`); the one of this request
is marked "this browser".  Signing out everywhere revokes every session of the account, this one too, so a copied
cookie stops working at once; the browser is then sent to the login page with a notice.
"""

from __future__ import annotations

from datetime import timedelta

from litestar import Controller, Request, get, post
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.accounts import sessions
from delphi.db.models import Account
from delphi.domain import Actor
from delphi.settings import Settings
from delphi.web.deps import cookie_session_id, forget_session
from delphi.web.forms import render_form


def plain_duration(value: timedelta) -> str:
    """A lifetime in the largest whole unit that fits: "7 days", "12 hours", "30 minutes", "1 minute"."""
    seconds = int(value.total_seconds())
    for size, unit in ((86400, "day"), (3600, "hour"), (60, "minute")):
        if seconds >= size and seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}{'' if count == 1 else 's'}"
    return f"{seconds} second{'' if seconds == 1 else 's'}"


class AccountController(Controller):
    path = "/account"
    include_in_schema = False

    @get("/", name="account")
    async def index(self, request: Request, db_session: AsyncSession, account: Account) -> Template:
        settings: Settings = request.app.state.settings
        live = await sessions.live_sessions(db_session, account.id, settings.sessions)
        return render_form(
            "account/index.html",
            {
                "account": account,
                "sessions": live,
                "this_session_id": cookie_session_id(request),
                "idle": plain_duration(settings.sessions.facilitator_idle),
                "lifetime": plain_duration(settings.sessions.facilitator_max),
            },
        )

    @post("/sign-out-everywhere", name="account_sign_out_everywhere")
    async def sign_out_everywhere(
        self, request: Request, db_session: AsyncSession, account: Account
    ) -> Redirect:
        """Revoke every session of the account (this one included), clear the cookie, go to the login page."""
        await sessions.revoke_sessions(
            db_session, account.id, reason="sign out everywhere", actor=Actor.account(account)
        )
        forget_session(request)
        return Redirect("/login?signed_out=everywhere", status_code=303)
