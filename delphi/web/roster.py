"""Facilitator pages of a panel's panellists: the list, add one, import a CSV, reissue a link, erase one.

Every page here changes people, so all of it needs an editor's role; erasing a panellist needs the owner's
(:mod:`delphi.web.guards`). The list shows e-mail addresses and names only to an editor who sees contacts (the
owner, and facilitators with the "contact panellists" grant: ``sees_contacts`` of the page context); everyone
else sees pseudonyms. Adding panellists (typing their addresses) stays with every editor. A panellist added after round 1 opened is invited at once
(:func:`delphi.rounds.mailing.invite_late_joiner`).
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import Account
from delphi.domain import Actor
from delphi.errors import DelphiError
from delphi.panels import listing
from delphi.panels.access import start_over
from delphi.panels.links import preview_new_link, reissue_link
from delphi.panels.panellists import (
    add_panellist,
    erase_panellist,
    get_panellist,
    import_panellists_in_chunks,
    preview_panellist_import,
)
from delphi.panels.textfile import UnreadableFile, read_text
from delphi.rounds import mailing
from delphi.rounds.released import load_groups
from delphi.settings import Settings
from delphi.web.forms import read_form, refused_form, render_form, whole_number
from delphi.web.guards import EDITORS_ONLY, OWNERS_ONLY, PanelAccess
from delphi.web.panel_nav import panel_nav


async def _new_link_page(session: AsyncSession, access: PanelAccess, account: Account, p: Any) -> Template:
    """The confirmation page before giving panellist ``p`` a new link (:func:`preview_new_link`)."""
    panel = access.panel
    ctx = await panel_nav(session, access, account)
    preview = await preview_new_link(session, p)
    ctx.update(
        tab="panellists",
        heading=f"Give {p.pseudonym} a new link?",
        sentences=preview.sentences(),
        blockers=[],
        action_url=f"/panels/{panel.id}/panellists/{p.id}/reissue",
        button="Send a new link",
        warning=True,
        hidden={},
        back_url=f"/panels/{panel.id}/panellists",
        back_text="Back to panellists",
    )
    return render_form("facilitator/confirm_action.html", ctx)


async def _ctx(
    session: AsyncSession, access: PanelAccess, account: Account, page: int = 1, search: str = ""
) -> dict[str, Any]:
    """The list's context: page ``page`` of the panellists (NotFound past the last), optionally searched
    (:func:`delphi.panels.listing.panellists_page`), with every group's count."""
    ctx = await panel_nav(session, access, account)
    rows, at = await listing.panellists_page(
        session, access.panel.id, page, search=search[:200], contacts=access.sees_contacts
    )
    ctx.update(
        panellists=rows,
        page=at,
        search=search[:200].strip(),
        group_counts=await listing.groups_with_counts(session, access.panel.id),
        groups=await load_groups(session, access.panel.id),
        tab="panellists",
        values={},
        preview=None,
        csv_text="",
    )
    return ctx


async def _posted_csv(request: Request) -> tuple[str, bool]:
    """``(CSV text, confirmed)``: the uploaded file (decoded by :func:`delphi.panels.textfile.read_text`, which
    raises UnreadableFile naming the problem) or the ``csv_text`` field sent back by the preview, and whether
    the preview's "confirm" was pressed."""
    form = await request.form()
    upload = form.get("file")
    data: bytes | str = form.get("csv_text", "") or ""
    if upload is not None and not isinstance(upload, str):
        raw = await upload.read()
        if raw:
            data = raw
    return read_text(data).text, form.get("confirm") == "1"


class PanellistController(Controller):
    path = "/panels/{panel_id:int}/panellists"
    include_in_schema = False
    opt = EDITORS_ONLY

    @get("/", name="panellists")
    async def index(
        self,
        panel_access: PanelAccess,
        db_session: AsyncSession,
        account: Account,
        page: int = 1,
        q: str = "",
    ) -> Template:
        """Page ``page`` (from 1; 404 past the last) of the panellists, ``q`` searching them."""
        return render_form(
            "facilitator/panellists.html", await _ctx(db_session, panel_access, account, page, q)
        )

    @post("/")
    async def add(
        self,
        panel_access: PanelAccess,
        request: Request,
        db_session: AsyncSession,
        settings: Settings,
        account: Account,
    ) -> Redirect | Template:
        panel = panel_access.panel
        form = await read_form(request)
        try:
            p = await add_panellist(
                db_session,
                panel,
                email=form.get("email", ""),
                group_id=whole_number(form, "group_id", 0) or 0,
                name=form.get("name", ""),
                language=form.get("language", "en"),
                secret_key=settings.secret_key,
                actor=Actor.account(account),
            )
            await mailing.invite_late_joiner(db_session, panel, p)
        except DelphiError as exc:
            await start_over(db_session, panel, account)
            ctx = await _ctx(db_session, panel_access, account)
            ctx["values"] = form
            return refused_form("facilitator/panellists.html", ctx, exc, "email")
        return Redirect(f"/panels/{panel.id}/panellists", status_code=303)

    @post("/import")
    async def import_csv(
        self,
        panel_access: PanelAccess,
        request: Request,
        db_session: AsyncSession,
        settings: Settings,
        account: Account,
    ) -> Redirect | Template:
        """First post: upload → preview (every row, every problem). Confirm: imports the same text."""
        panel = panel_access.panel
        ctx = await _ctx(db_session, panel_access, account)
        try:
            text, confirmed = await _posted_csv(request)
        except UnreadableFile as exc:
            return render_form(
                "facilitator/panellists.html", ctx, errors=[("file", exc.message)], status_code=422
            )
        ctx["csv_text"] = text
        if not text.strip():
            return render_form(
                "facilitator/panellists.html",
                ctx,
                errors=[("file", "Choose a CSV file with the columns email, group, name, language.")],
                status_code=422,
            )
        preview = await preview_panellist_import(db_session, panel, text)
        ctx["preview"] = preview
        if confirmed and preview.ok:
            # Committed chunk by chunk, so that a live round's saves go on meanwhile; late joiners (a round
            # being open) are invited in their chunk's transaction.
            done = await import_panellists_in_chunks(
                db_session,
                panel,
                preview,
                secret_key=settings.secret_key,
                actor=Actor.account(account),
                on_chunk=lambda session, created: mailing.invite_late_joiners(session, panel, created),
            )
            return Redirect(
                f"/panels/{panel.id}/panellists?imported={done.imported}&skipped={done.skipped}",
                status_code=303,
            )
        errors = [(f"row-{line}", f"Line {line}: {msg}") for line, msg in preview.problems]
        return render_form(
            "facilitator/panellists_preview.html", ctx, errors=errors, status_code=422 if errors else 200
        )

    @get("/{panellist_id:int}/reissue")
    async def reissue_confirm(
        self, panel_access: PanelAccess, panellist_id: int, db_session: AsyncSession, account: Account
    ) -> Template:
        """The confirmation page of a new link: the old one stops working at once."""
        p = await get_panellist(db_session, panel_access.panel, panellist_id)
        return await _new_link_page(db_session, panel_access, account, p)

    @post("/{panellist_id:int}/reissue")
    async def reissue(
        self,
        panel_access: PanelAccess,
        panellist_id: int,
        request: Request,
        db_session: AsyncSession,
        settings: Settings,
        account: Account,
    ) -> Redirect | Template:
        """A new link; without the ``confirm`` field the confirmation page again, nothing changed."""
        panel = panel_access.panel
        p = await get_panellist(db_session, panel, panellist_id)
        if not (await read_form(request)).get("confirm"):
            return await _new_link_page(db_session, panel_access, account, p)
        await reissue_link(db_session, p, settings, Actor.account(account))
        await mailing.invite_late_joiner(db_session, panel, p, reissued=True)
        return Redirect(f"/panels/{panel.id}/panellists?reissued={p.pseudonym}", status_code=303)

    @post("/{panellist_id:int}/erase", opt=OWNERS_ONLY)
    async def erase(
        self,
        panel_access: PanelAccess,
        panellist_id: int,
        request: Request,
        db_session: AsyncSession,
        account: Account,
    ) -> Redirect:
        form = await read_form(request)
        await erase_panellist(
            db_session,
            panel_access.panel,
            panellist_id,
            delete_ratings=form.get("delete_ratings") == "on",
            actor=Actor.account(account),
        )
        return Redirect(f"/panels/{panel_access.panel.id}/panellists", status_code=303)
