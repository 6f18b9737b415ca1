"""Password pages: change it on the account page, and reset it through an e-mailed link.

``/account/password`` (signed in): current, new and repeated password; a change ends the account's other
sessions and goes back to ``/account``.  ``/password/forgot``: an e-mail address; the answer is the same page
whether an account uses it or not, sent after at least :data:`ANSWER_FLOOR_S` so its timing says nothing
either.  ``/password/reset/{token}``: the new password twice, or one neutral page for a link that does not work;
a reset ends every session and goes to the login page.  Form posts are rate-limited per client (forgot, reset)
or per account (change) with the app's login limiter.
"""

from __future__ import annotations

import asyncio
import time

from litestar import Controller, Request, get, post
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.accounts import passwords
from delphi.db.models import Account
from delphi.errors import InvalidInput
from delphi.security import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
from delphi.settings import Settings
from delphi.web.deps import signed_in
from delphi.web.forms import read_form, render_form
from delphi.web.ratelimit import SlidingWindowLimiter, client_key

#: The forgot-password answer is sent no sooner than this many seconds after the request arrived, so an
#: address with an account (a link issued, a mail rendered and queued) and one without answer alike.
ANSWER_FLOOR_S = 0.25
#: Longest field value read from these forms, in characters (longer passwords are refused by the use cases).
MAX_FIELD = MAX_PASSWORD_LENGTH + 1
HINT = f"At least {MIN_PASSWORD_LENGTH} characters. A few unrelated words make a good one."


def _limiter(request: Request) -> SlidingWindowLimiter:
    return request.app.state.login_limiter


def _unusable() -> Template:
    return render_form("account/reset_unusable.html", {}, status_code=404)


class PasswordController(Controller):
    path = "/"
    include_in_schema = False

    @get("/account/password", name="password_change_form")
    async def change_form(self, account: Account) -> Template:
        return render_form("account/password.html", {"account": account, "hint": HINT})

    @post("/account/password", name="password_change")
    async def change(
        self, request: Request, db_session: AsyncSession, account: Account
    ) -> Redirect | Template:
        """Change the password; every problem at once on a refusal (422), nothing saved."""
        _limiter(request).hit(f"password-change:{account.id}")
        form = await read_form(request)
        found = await signed_in(request, db_session)
        try:
            await passwords.change_password(
                db_session,
                account,
                form.get("current", "")[:MAX_FIELD],
                form.get("new", "")[:MAX_FIELD],
                repeat=form.get("repeat", "")[:MAX_FIELD],
                keep_session=found[1].id if found else None,
            )
        except InvalidInput as exc:  # raised before anything is written
            ctx = {"account": account, "hint": HINT}
            return render_form("account/password.html", ctx, errors=exc.errors, status_code=422)
        return Redirect("/account?password=changed", status_code=303)

    @get("/password/forgot", name="password_forgot_form")
    async def forgot_form(self) -> Template:
        return render_form("account/forgot.html", {"email": ""})

    @post("/password/forgot", name="password_forgot")
    async def forgot(self, request: Request, db_session: AsyncSession) -> Template:
        """Mail a reset link if an account uses the address; the same page, no sooner than the floor, either way."""
        started = time.monotonic()
        _limiter(request).hit(f"password-forgot:{client_key(request)}")
        form = await read_form(request)
        email = form.get("email", "")[:320]
        settings: Settings = request.app.state.settings
        try:
            await passwords.request_reset(db_session, settings, email)
        except InvalidInput as exc:  # a malformed address: the same answer whether or not anyone has it
            return render_form("account/forgot.html", {"email": email}, errors=exc.errors, status_code=422)
        await db_session.commit()  # inside the floor, so a commit that wrote something does not stand out
        await asyncio.sleep(max(0.0, ANSWER_FLOOR_S - (time.monotonic() - started)))
        return render_form("account/forgot_sent.html", {})

    @get("/password/reset/{token:str}", name="password_reset_form")
    async def reset_form(self, db_session: AsyncSession, token: str) -> Template:
        try:
            await passwords.check_reset_link(db_session, token)
        except passwords.LinkUnusable:
            return _unusable()
        return render_form("account/reset.html", {"token": token, "hint": HINT})

    @post("/password/reset/{token:str}", name="password_reset")
    async def reset(self, request: Request, db_session: AsyncSession, token: str) -> Redirect | Template:
        """Set the new password and spend the link; then to the login page (every session has ended)."""
        _limiter(request).hit(f"password-reset:{client_key(request)}")
        form = await read_form(request)
        try:
            await passwords.reset_password(
                db_session,
                token,
                form.get("new", "")[:MAX_FIELD],
                repeat=form.get("repeat", "")[:MAX_FIELD],
            )
        except passwords.LinkUnusable:
            return _unusable()
        except InvalidInput as exc:  # the link is not spent: the form can be sent again
            ctx = {"token": token, "hint": HINT}
            return render_form("account/reset.html", ctx, errors=exc.errors, status_code=422)
        return Redirect("/login?signed_out=everywhere", status_code=303)
