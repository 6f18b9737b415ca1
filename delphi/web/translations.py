"""Facilitator pages of a panel's languages and translations.

* ``/panels/{id}/languages``: the primary language and the further ones, with who translated each
  (:mod:`delphi.panels.languages`);
* ``/panels/{id}/translations``: per language, what the current round still lacks
  (:func:`delphi.panels.translating.overview`);
* ``/panels/{id}/translations/{lang}``: one language's sheet, every text of the round with its translation,
  saved in one go (:mod:`delphi.panels.translating`); ``?show=missing`` keeps only the texts still to do.

Controllers parse forms and call the use cases; they redirect (303) or re-show the page with an error summary
listing every problem (400, the transaction rolled back) and what was typed.  Reading needs a reader's role,
changing an editor's (:mod:`delphi.web.guards`).
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import Account
from delphi.domain import Actor
from delphi.errors import DelphiError, InvalidInput
from delphi.locale import language_name, text_direction
from delphi.mail.texts import translation_problems
from delphi.panels import languages, translating
from delphi.panels.access import start_over
from delphi.rounds.recipients import reader_languages
from delphi.web.forms import read_form_multi, render_form
from delphi.web.guards import PanelAccess
from delphi.web.panel_nav import panel_nav
from delphi.web.translation_files import imported_notice

LANGUAGES = "facilitator/languages.html"
OVERVIEW = "facilitator/translations.html"
SHEET = "facilitator/translation_sheet.html"
#: Prefixes of the sheet's form fields: ``tr.<key>`` a translation, ``ok.<key>`` "still right" of an outdated one.
TEXT, CONFIRM = "tr.", "ok."


def field_id(key: str) -> str:
    """The HTML id of a translation's textarea: ``"statement.12"`` → ``"tr-statement-12"``."""
    return "tr-" + key.replace(".", "-")


def _errors(exc: DelphiError, field: str = "") -> list[tuple[str, str]]:
    return list(getattr(exc, "errors", None) or [(exc.field or field, exc.message)])


def _status(exc: DelphiError) -> int:
    return 400 if isinstance(exc, InvalidInput) else exc.status_code


def _first(form: dict[str, list[str]], name: str) -> str:
    values = form.get(name) or [""]
    return values[-1]


async def _languages_ctx(
    session: AsyncSession, access: PanelAccess, account: Account, values: dict[str, Any] | None = None
) -> dict[str, Any]:
    ctx = await panel_nav(session, access, account)
    view = await languages.languages_of(session, access.panel)
    ctx.update(
        tab="languages",
        view=view,
        values=values
        or {"primary": view.primary, "further": {f.language: f.translated_by for f in view.further}},
        max_credit=languages.MAX_CREDIT_LENGTH,
    )
    return ctx


async def _sheet_ctx(
    session: AsyncSession,
    access: PanelAccess,
    account: Account,
    lang: str,
    show: str,
    typed: dict[str, str] | None = None,
    confirmed: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    ctx = await panel_nav(session, access, account)
    readers = await reader_languages(session, access.panel.id)
    sheet = await translating.translation_sheet(session, access.panel, lang, readers, show=show)
    ctx.update(
        tab="languages",
        sheet=sheet,
        show="missing" if show == "missing" else "all",
        typed=typed or {},
        confirmed=confirmed,
        field_id=field_id,
        primary_name=language_name(sheet.primary),
        primary_dir=text_direction(sheet.primary),
        max_length=translating.MAX_TRANSLATION_LENGTH,
    )
    return ctx


class TranslationController(Controller):
    """``/panels/{id}/languages`` and ``/panels/{id}/translations[/{lang}]``."""

    path = "/panels/{panel_id:int}"
    include_in_schema = False

    @get("/languages", name="panel_languages")
    async def languages_page(
        self, panel_access: PanelAccess, db_session: AsyncSession, account: Account, saved: bool = False
    ) -> Template:
        ctx = await _languages_ctx(db_session, panel_access, account)
        ctx["saved"] = saved
        return render_form(LANGUAGES, ctx)

    @post("/languages")
    async def set_languages(
        self, panel_access: PanelAccess, request: Request, db_session: AsyncSession, account: Account
    ) -> Redirect | Template:
        """``primary`` (one tag), ``further`` (a tag per ticked box) and ``translated_by-<tag>`` per box."""
        form = await read_form_multi(request)
        primary = _first(form, "primary")
        further = {
            tag: _first(form, f"translated_by-{tag}") for tag in dict.fromkeys(form.get("further", []))
        }
        try:
            await languages.set_languages(
                db_session, panel_access.panel, primary, further, Actor.account(account)
            )
        except DelphiError as exc:
            await start_over(db_session, panel_access.panel, account)
            ctx = await _languages_ctx(
                db_session, panel_access, account, {"primary": primary, "further": further}
            )
            return render_form(LANGUAGES, ctx, errors=_errors(exc), status_code=_status(exc))
        return Redirect(f"/panels/{panel_access.panel.id}/languages?saved=1", status_code=303)

    @get("/translations", name="panel_translations")
    async def overview(
        self,
        panel_access: PanelAccess,
        db_session: AsyncSession,
        account: Account,
        imported: str | None = None,
        changed: str | None = None,
    ) -> Template:
        """``imported`` and ``changed`` come from the import's redirect, for its notice
        (:func:`delphi.web.translation_files.imported_notice`)."""
        ctx = await panel_nav(db_session, panel_access, account)
        readers = await reader_languages(db_session, panel_access.panel.id)
        ctx.update(
            tab="languages",
            overview=await translating.overview(db_session, panel_access.panel, readers),
            view=await languages.languages_of(db_session, panel_access.panel),
            notice=imported_notice(imported, changed),
        )
        return render_form(OVERVIEW, ctx)

    @get("/translations/{lang:str}", name="panel_translation_sheet")
    async def sheet(
        self,
        panel_access: PanelAccess,
        db_session: AsyncSession,
        account: Account,
        lang: str,
        show: str = "all",
        saved: int | None = None,
        deleted: int | None = None,
    ) -> Template:
        """The sheet of further language ``lang``; 404 with the reason for the primary or an unoffered one.
        ``saved`` and ``deleted`` are the counts of the save that redirected here, for its notice."""
        ctx = await _sheet_ctx(db_session, panel_access, account, lang, show)
        ctx["notice"] = None if saved is None else (saved, deleted or 0)
        return render_form(SHEET, ctx)

    @post("/translations/{lang:str}")
    async def save(
        self,
        panel_access: PanelAccess,
        request: Request,
        db_session: AsyncSession,
        account: Account,
        lang: str,
        show: str = "all",
    ) -> Redirect | Template:
        form = await read_form_multi(request)
        texts = {k.removeprefix(TEXT): v[-1] for k, v in form.items() if k.startswith(TEXT)}
        confirmed = frozenset(k.removeprefix(CONFIRM) for k in form if k.startswith(CONFIRM))
        try:
            saved, deleted = await translating.save_translations(
                db_session,
                panel_access.panel,
                lang,
                texts,
                Actor.account(account),
                confirmed=confirmed,
                check_text=translation_problems,
            )
        except InvalidInput as exc:
            errors = [(field_id(k) if k else "", m) for k, m in _errors(exc)]
            await start_over(db_session, panel_access.panel, account)
            ctx = await _sheet_ctx(db_session, panel_access, account, lang, show, texts, confirmed)
            return render_form(SHEET, ctx, errors=errors, status_code=400)
        query = f"saved={saved}&deleted={deleted}" + ("&show=missing" if show == "missing" else "")
        return Redirect(f"/panels/{panel_access.panel.id}/translations/{lang}?{query}", status_code=303)
