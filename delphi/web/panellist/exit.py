"""``POST /panel/sign-out``, ``POST /panel/quick-exit`` and ``GET /panel/signed-out``: leaving a shared computer.

Both forms are on every panellist page (``panellist/_layout.html``).  Each ends the panellist's sessions
(:func:`delphi.participation.links.end_sessions`, so a copy of the cookie stops working too; why not by
bumping the session version is in :mod:`.session`) and clears the cookie.  "Sign out" then shows a neutral
page, "You have signed out", that names no panel; "Quick exit" answers at once with a 303 to
``settings.quick_exit_url`` (a neutral site), without JavaScript.  ``panellist.js`` makes the quick exit
replace the page in the browser's history as well.

Neither ever refuses: without a valid session (none, ran out, signed out already) they only clear the cookie.
"Quick exit" takes no CSRF token, so a stale page or a lost CSRF cookie can never stop someone leaving; a
forged cross-site post cannot do anything with it, as the session cookie is ``SameSite=Lax`` and so not sent.
"""

from __future__ import annotations

from litestar import Controller, Request, get, post
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.locale import normalise_language
from delphi.participation import links
from delphi.participation.issues import SessionEnded
from delphi.web.panellist.errors import EXCEPTION_HANDLERS
from delphi.web.panellist.rendering import render
from delphi.web.panellist.session import logout, provide_panellist


async def _end_session(request: Request, db_session: AsyncSession, how: str) -> str:
    """End the signed-in panellist's sessions (``how``: ``"sign-out"`` or ``"quick-exit"``) and clear the
    cookie's panellist part; the panellist's language ("en" without a valid session)."""
    try:
        panellist = await provide_panellist(request, db_session)
    except SessionEnded:  # SessionExpired too: that cookie is useless already
        logout(request)
        return "en"
    links.end_sessions(db_session, panellist, how)
    logout(request)
    return panellist.language


class PanellistExitController(Controller):
    """Signing out and the quick exit; the signed-out page."""

    path = "/panel"
    include_in_schema = False
    exception_handlers = EXCEPTION_HANDLERS  # type: ignore[assignment]

    @post("/sign-out", name="panellist_sign_out")
    async def sign_out(self, request: Request, db_session: AsyncSession) -> Redirect:
        language = await _end_session(request, db_session, "sign-out")
        query = "" if language == "en" else f"?lang={normalise_language(language)}"
        return Redirect(f"/panel/signed-out{query}", status_code=303)

    @post("/quick-exit", name="panellist_quick_exit", exclude_from_csrf=True)
    async def quick_exit(self, request: Request, db_session: AsyncSession) -> Redirect:
        await _end_session(request, db_session, "quick-exit")
        return Redirect(request.app.state.settings.quick_exit_url, status_code=303)

    @get("/signed-out", name="panellist_signed_out")
    async def signed_out(self, request: Request, lang: str = "en") -> Template:
        """The neutral page after signing out, in the language ``lang`` (a catalog name; anything odd is
        English): no panel's name, no topic; how to come back."""
        request.state.panellist_language = normalise_language(lang)
        return render(request, "signed_out.html", None)
