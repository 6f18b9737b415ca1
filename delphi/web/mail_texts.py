"""The panel's e-mail texts: the panellist mails it may word itself, an edit form with the placeholders each may
use, a preview for a sample panellist in each of the panel's languages (``?lang=cy``), whether each further
language has a translation of the panel's own text (with a link to its translation sheet
``/panels/{id}/translations/{lang}``), and "restore the shipped text".

Editors only, as the mail page (:mod:`delphi.web.guards`).  Rules and checks are :mod:`delphi.mail.texts`, the use
cases :mod:`delphi.mail.panel_texts`; a refused text is shown again as typed, with every problem listed at once.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, MediaType, Request, get, post
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import Account
from delphi.domain import Actor
from delphi.errors import InvalidInput
from delphi.mail import panel_texts
from delphi.mail.texts import DEFAULTS, DESCRIPTIONS, SAMPLE_NAME, Wording, placeholders, problems
from delphi.settings import Settings
from delphi.web.forms import read_form, render_form
from delphi.web.guards import EDITORS_ONLY, PanelAccess
from delphi.web.panel_nav import panel_nav

#: Longest subject and body read from a post (longer ones are refused by the checks, not stored).
_READ_LIMIT = 20_000


async def _edit_ctx(
    db_session: AsyncSession,
    panel_access: PanelAccess,
    account: Account,
    kind: str,
    base_url: str,
    values: Wording | None = None,
    preview_of: Wording | None = None,
    lang: str | None = None,
) -> dict[str, Any]:
    """The edit page's context: the form's ``values`` (the posted ones, else the panel's text, else the shipped
    wording in placeholder form), the kind's placeholders with what they stand for, the state of the panel's
    own text in each further language, and the preview of ``preview_of`` in the primary language (default:
    what the panel sends now, its own text or the shipped one, in ``lang``, a language of the panel; 404 for
    another)."""
    panel = panel_access.panel
    text = await panel_texts.panel_text(db_session, panel.id, kind)
    shown_lang, texts, languages = await panel_texts.preview_language(
        db_session, panel, None if preview_of is not None else lang
    )
    states = (await panel_texts.translation_states(db_session, panel)).get(kind, [])
    ctx = await panel_nav(db_session, panel_access, account)
    shown = preview_of or text.wording
    ctx.update(
        tab="mail",
        text=text,
        values=values or text.wording or DEFAULTS[kind],
        fields=[(name, DESCRIPTIONS.get(name, "")) for name in placeholders(kind)],
        preview=panel_texts.preview(panel, kind, shown, base_url, shown_lang, texts),
        preview_is_draft=preview_of is not None,
        preview_language=shown_lang,
        languages=languages,
        translations=states,
        sample_name=SAMPLE_NAME,
    )
    return ctx


class MailTextController(Controller):
    """``/panels/{id}/mail/texts``: the list, and per kind the edit form, its preview and restore."""

    path = "/panels/{panel_id:int}/mail/texts"
    include_in_schema = False
    opt = EDITORS_ONLY

    @get("/", name="panel_mail_texts")
    async def index(self, panel_access: PanelAccess, db_session: AsyncSession, account: Account) -> Template:
        ctx = await panel_nav(db_session, panel_access, account)
        ctx.update(
            tab="mail",
            texts=await panel_texts.panel_texts(db_session, panel_access.panel.id),
            translations=await panel_texts.translation_states(db_session, panel_access.panel),
        )
        return Template("facilitator/mail_texts.html", context=ctx, media_type=MediaType.HTML)

    @get("/{kind:str}", name="panel_mail_text")
    async def edit(
        self,
        panel_access: PanelAccess,
        db_session: AsyncSession,
        account: Account,
        settings: Settings,
        kind: str,
        lang: str | None = None,
    ) -> Template:
        """The edit form of ``kind`` (404 for a kind that cannot be worded), its preview in ``?lang=`` (one of the
        panel's languages; default the primary one, 404 for another)."""
        ctx = await _edit_ctx(db_session, panel_access, account, kind, settings.base_url, lang=lang)
        return render_form("facilitator/mail_text.html", ctx)

    @post("/{kind:str}")
    async def save(
        self,
        panel_access: PanelAccess,
        request: Request,
        db_session: AsyncSession,
        account: Account,
        settings: Settings,
        kind: str,
    ) -> Redirect | Template:
        """Save the posted ``subject`` and ``body``; with ``action=preview``, only show them for the sample
        panellist.  A text with problems is shown again with all of them (422) and nothing is saved."""
        await panel_texts.panel_text(db_session, panel_access.panel.id, kind)  # 404 for an unknown kind
        form = await read_form(request)
        posted = Wording(form.get("subject", "")[:_READ_LIMIT], form.get("body", "")[:_READ_LIMIT])
        found = problems(kind, posted.subject, posted.body)
        if found:
            ctx = await _edit_ctx(db_session, panel_access, account, kind, settings.base_url, posted)
            return render_form("facilitator/mail_text.html", ctx, errors=found, status_code=422)
        if form.get("action") == "preview":
            ctx = await _edit_ctx(db_session, panel_access, account, kind, settings.base_url, posted, posted)
            return render_form("facilitator/mail_text.html", ctx)
        try:
            await panel_texts.save_text(
                db_session,
                panel_access.panel,
                kind,
                posted.subject,
                posted.body,
                actor=Actor.account(account),
            )
        except InvalidInput as exc:  # checked above already; kept so a refusal can never be a 500
            ctx = await _edit_ctx(db_session, panel_access, account, kind, settings.base_url, posted)
            return render_form("facilitator/mail_text.html", ctx, errors=exc.errors, status_code=422)
        return Redirect(f"/panels/{panel_access.panel.id}/mail/texts/{kind}?saved=1", status_code=303)

    @post("/{kind:str}/restore")
    async def restore(
        self, panel_access: PanelAccess, db_session: AsyncSession, account: Account, kind: str
    ) -> Redirect:
        """Delete the panel's own text of ``kind``: the shipped wording is sent again."""
        await panel_texts.restore_text(db_session, panel_access.panel, kind, actor=Actor.account(account))
        return Redirect(f"/panels/{panel_access.panel.id}/mail/texts/{kind}?restored=1", status_code=303)
