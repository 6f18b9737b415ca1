"""Facilitator login and logout."""

from __future__ import annotations

from litestar import Controller, Request, get, post
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from delphi import accounts
from delphi.accounts import sessions
from delphi.domain import Actor
from delphi.web.deps import cookie_session_id, forget_session, optional_account, remember_session, signed_in
from delphi.web.forms import read_form, render_form
from delphi.web.ratelimit import SlidingWindowLimiter, client_key


def _safe_next(value: str | None) -> str:
    """Only same-site paths are followed after login."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/"


class AuthController(Controller):
    path = "/"
    include_in_schema = False

    @get("/login", name="login")
    async def login_form(
        self,
        request: Request,
        db_session: AsyncSession,
        next: str | None = None,
        signed_out: str | None = None,
    ) -> Redirect | Template:
        """The sign-in form; ``?signed_out=everywhere`` adds a notice that every session was ended."""
        if await optional_account(request, db_session) is not None:
            return Redirect(_safe_next(next), status_code=303)
        ctx = {"next": _safe_next(next), "email": "", "signed_out_everywhere": signed_out == "everywhere"}
        return render_form("login.html", ctx)

    @post("/login")
    async def login(self, request: Request, db_session: AsyncSession) -> Redirect | Template:
        limiter: SlidingWindowLimiter = request.app.state.login_limiter
        limiter.hit(client_key(request))
        form = await read_form(request)
        email, password = form.get("email", "")[:320], form.get("password", "")[:1000]
        nxt = _safe_next(form.get("next"))
        try:
            account = await accounts.authenticate(db_session, email, password)
        except accounts.LoginFailed as exc:
            await db_session.commit()  # keep the failure count even though the form is re-shown with 400
            return render_form("login.html", {"next": nxt, "email": email}, errors=[("email", exc.message)])
        user_agent = request.headers.get("user-agent", "")
        row = await sessions.start_session(db_session, account, user_agent=user_agent)
        remember_session(request, row)
        return Redirect(nxt, status_code=303)

    @post("/logout", name="logout")
    async def logout(self, request: Request, db_session: AsyncSession) -> Redirect:
        """End this browser's session on the server (so a copy of the cookie stops working) and clear it."""
        found = await signed_in(request, db_session)
        if found is not None:
            account, _ = found
            await sessions.end_session(db_session, cookie_session_id(request), actor=Actor.account(account))
        forget_session(request)
        return Redirect("/login", status_code=303)
