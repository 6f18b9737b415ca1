"""``/p/{token}``: the e-mailed personal link and the List-Unsubscribe target (see the package docstring)."""

from __future__ import annotations

from litestar import Controller, Request, get, post
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.errors import DelphiError
from delphi.participation import consent, links
from delphi.participation.issues import N_, fail
from delphi.web.forms import read_form
from delphi.web.panellist.errors import EXCEPTION_HANDLERS
from delphi.web.panellist.rendering import render
from delphi.web.panellist.session import login
from delphi.web.ratelimit import client_key


async def _follow(request: Request, session: AsyncSession, token: str, to: str) -> Redirect:
    """A visit of a personal link: counted by the link rate limit, the token exchanged for a session signed in as
    its panellist (LinkNotValid for an unknown, re-issued or withdrawn link), then a 303 to ``to``."""
    request.app.state.link_limiter.hit(client_key(request))
    login(request, await links.exchange_link(session, token))
    return Redirect(to, status_code=303)


class PanellistLinkController(Controller):
    """``/p/{token}``: the e-mailed personal link and the List-Unsubscribe target."""

    path = "/p"
    include_in_schema = False
    exception_handlers = EXCEPTION_HANDLERS  # type: ignore[assignment]

    @get("/{token:str}", name="panellist_link")
    async def open_link(self, request: Request, db_session: AsyncSession, token: str) -> Redirect:
        return await _follow(request, db_session, token, "/panel")

    @get("/{token:str}/leave", name="panellist_leave_link")
    async def leave_link(self, request: Request, db_session: AsyncSession, token: str) -> Redirect:
        return await _follow(request, db_session, token, "/panel/leave")

    @post("/{token:str}/leave", exclude_from_csrf=True, status_code=200)
    async def one_click_leave(self, request: Request, db_session: AsyncSession, token: str) -> Template:
        """RFC 8058 one-click unsubscribe: ``List-Unsubscribe=One-Click`` in the body withdraws at once."""
        request.app.state.link_limiter.hit(client_key(request))
        form = await read_form(request)
        panellist = await links.panellist_for_token(db_session, token)
        if form.get("List-Unsubscribe") != "One-Click":
            raise fail(
                DelphiError,
                N_("To leave the panel, open the link in your e-mail and confirm on the page."),
            )
        await consent.withdraw(db_session, panellist, how="one-click")
        return render(request, "left.html", panellist, panel=None)
