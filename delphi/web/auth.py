"""Facilitator login and logout."""

from __future__ import annotations

from litestar import Controller, Request, get, post
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from delphi import accounts
from delphi.web.deps import SESSION_ACCOUNT_KEY, optional_account
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
        self, request: Request, db_session: AsyncSession, next: str | None = None
    ) -> Redirect | Template:
        if await optional_account(request, db_session) is not None:
            return Redirect(_safe_next(next), status_code=303)
        return render_form("login.html", {"next": _safe_next(next), "email": ""})

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
        request.set_session({SESSION_ACCOUNT_KEY: account.id})
        return Redirect(nxt, status_code=303)

    @post("/logout", name="logout")
    async def logout(self, request: Request) -> Redirect:
        request.clear_session()
        return Redirect("/login", status_code=303)
