"""``POST /panel/language``: the language switcher in the header of every panellist page (``_language.html``).

The form sends ``language`` (a BCP 47 tag the panel is offered in) and ``next`` (the page it was on) with the
CSRF token, like every other panellist form.  The change is stored on the panellist
(:func:`delphi.participation.language.change_language`: audited, committed with the request), remembered in
the session cookie (so "you were signed out" speaks it too) and answered with a 303 back to ``next`` when that
is a path on this site, else to ``/panel``.  A language the panel is not offered in is refused with a 400 page
in the panellist's current language; nothing changes.
"""

from __future__ import annotations

from litestar import Controller, Request, post
from litestar.di import Provide
from litestar.response import Redirect
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import Panellist
from delphi.participation import language
from delphi.web.forms import read_form
from delphi.web.panellist.errors import EXCEPTION_HANDLERS
from delphi.web.panellist.rendering import same_site_path
from delphi.web.panellist.session import provide_panellist, store_language


class PanellistLanguageController(Controller):
    """``POST /panel/language``: change the language the panellist reads the panel in."""

    path = "/panel"
    include_in_schema = False
    dependencies = {"panellist": Provide(provide_panellist)}
    exception_handlers = EXCEPTION_HANDLERS  # type: ignore[assignment]

    @post("/language", name="panellist_language")
    async def change(self, request: Request, db_session: AsyncSession, panellist: Panellist) -> Redirect:
        form = await read_form(request)
        await language.change_language(db_session, panellist, form.get("language"))
        store_language(request, panellist)
        return Redirect(same_site_path(form.get("next")), status_code=303)
