"""Printed invitation cards: confirm, then the cards themselves as the answer to the confirming POST.

Two routes, both POST and for the panel's editors (:data:`~delphi.web.guards.EDITORS_ONLY`):

* ``/panels/{id}/panellists/{panellist_id}/card``: one panellist's card (the "Print card" button of the
  panellists page);
* ``/panels/{id}/panellists/cards``: cards for everyone ``who`` picks (:class:`delphi.panels.cards.CardChoice`).

Posted without ``confirm=1`` each answers with the confirmation page (how many cards; in plain words that each
old link, also the e-mailed one, stops working at once; HTML page or PDF; names or not). Confirmed, it issues
the new links (:func:`delphi.panels.cards.issue_cards`) and answers with the cards: a printable page
(``facilitator/cards.html``, four A6 cards per A4 sheet in print) or its PDF (:func:`delphi.pdf.html_to_pdf`;
503 problem answer when Pango is missing, and then no link was changed). There is no GET of the cards: a link
exists in the clear only in this one answer, sent with ``Cache-Control: no-store``.

Names are printed only for an editor who sees contacts and ticks "print names"; pseudonyms never.
"""

from __future__ import annotations

import segno
from litestar import Controller, MediaType, Request, Response, post
from litestar.response import Template
from markupsafe import Markup
from sqlalchemy.ext.asyncio import AsyncSession

from delphi import resources
from delphi.db.models import Account, Panel
from delphi.domain import Actor
from delphi.errors import InvalidInput
from delphi.panels.cards import Card, CardChoice, card_contents, chosen_panellists, is_invitable, issue_cards
from delphi.panels.panellists import get_panellist
from delphi.pdf import html_to_pdf
from delphi.settings import Settings
from delphi.web.forms import read_form, render_form
from delphi.web.guards import EDITORS_ONLY, PanelAccess
from delphi.web.panel_nav import panel_nav

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
#: A QR code's quiet zone is four modules wide (ISO/IEC 18004:2015, section 6.3.8).
QUIET_ZONE = 4
CHOICE_WORDS = {
    CardChoice.NO_EMAIL: "panellists without a working e-mail address",
    CardChoice.ALL: "all panellists who can still take part",
}


def qr_svg(link: str, label: str) -> Markup:
    """The QR code of ``link`` as inline SVG (segno, error correction M), named ``label`` for screen readers."""
    svg = segno.make(link, error="m").svg_inline(
        scale=4, border=QUIET_ZONE, title=label, svgclass="card-qr", omitsize=True
    )
    return Markup(f'<div class="card-qr-box" role="img" aria-label="{Markup.escape(label)}">{svg}</div>')


def _choice(form: dict[str, str]) -> CardChoice:
    try:
        return CardChoice(form.get("who", ""))
    except ValueError:
        raise InvalidInput(
            "Choose who to print cards for: panellists without an e-mail address, or everyone.", field="who"
        ) from None


def _answer_format(form: dict[str, str]) -> str:
    fmt = form.get("format", "html")
    if fmt not in ("html", "pdf"):
        raise InvalidInput("Choose a printable page or a PDF file.", field="format")
    return fmt


async def _confirm_page(
    db_session: AsyncSession,
    access: PanelAccess,
    account: Account,
    *,
    action: str,
    count: int,
    who: str,
    values: dict[str, str],
    errors: list[tuple[str, str]] | None = None,
) -> Template:
    ctx = await panel_nav(db_session, access, account)
    ctx.update(tab="panellists", action=action, count=count, who=who, values=values)
    return render_form(
        "facilitator/card_confirm.html", ctx, errors=errors, status_code=422 if errors else 200
    )


def _render_cards(request: Request, panel: Panel, cards: list[Card], fmt: str) -> Response[bytes] | Template:
    ctx = {"panel": panel, "cards": cards, "qr": {c.panellist_id: qr_svg(c.link, c.qr_label) for c in cards}}
    if fmt == "pdf":
        html = request.app.template_engine.engine.get_template("facilitator/cards.html").render(  # type: ignore[union-attr]
            {**ctx, "pdf": True, "csrf_input": "", "request": request}
        )
        data = html_to_pdf(html, resources.STATIC_DIR.as_uri() + "/")
        return Response(
            data,
            status_code=200,
            media_type="application/pdf",
            headers={
                **NO_STORE,
                "Content-Disposition": f'attachment; filename="panel-{panel.id}-invitation-cards.pdf"',
            },
        )
    return Template(
        "facilitator/cards.html", context=ctx, status_code=200, media_type=MediaType.HTML, headers=NO_STORE
    )


class CardController(Controller):
    path = "/panels/{panel_id:int}/panellists"
    include_in_schema = False
    opt = EDITORS_ONLY

    @post("/{panellist_id:int}/card", name="panellist_card")
    async def one(
        self,
        panel_access: PanelAccess,
        panellist_id: int,
        request: Request,
        db_session: AsyncSession,
        settings: Settings,
        account: Account,
    ) -> Response[bytes] | Template:
        """One panellist's card: confirmation first, then the card (see the module)."""
        panel = panel_access.panel
        form = await read_form(request)
        p = await get_panellist(db_session, panel, panellist_id)
        action = f"/panels/{panel.id}/panellists/{p.id}/card"
        errors: list[tuple[str, str]] = []
        if not is_invitable(p):
            errors.append(("who", f"{p.pseudonym} has withdrawn or was erased: no card can be printed."))
        try:
            fmt = _answer_format(form)
        except InvalidInput as exc:
            errors.append((exc.field or "format", exc.message))
            fmt = "html"
        if errors or form.get("confirm") != "1":
            return await _confirm_page(
                db_session,
                panel_access,
                account,
                action=action,
                count=1,
                who=p.pseudonym,
                values=form,
                errors=errors,
            )
        issued = await issue_cards(db_session, panel, [p], settings, Actor.account(account), choice="one")
        names = panel_access.sees_contacts and form.get("names") == "on"
        return _render_cards(
            request, panel, card_contents(panel, issued, settings.base_url, print_names=names), fmt
        )

    @post("/cards", name="panellist_cards")
    async def many(
        self,
        panel_access: PanelAccess,
        request: Request,
        db_session: AsyncSession,
        settings: Settings,
        account: Account,
    ) -> Response[bytes] | Template:
        """Cards for everyone ``who`` picks: confirmation with the count first, then the cards."""
        panel = panel_access.panel
        form = await read_form(request)
        action = f"/panels/{panel.id}/panellists/cards"
        errors: list[tuple[str, str]] = []
        people = []
        who = ""
        try:
            choice = _choice(form)
            people = await chosen_panellists(db_session, panel, choice)
            who = CHOICE_WORDS[choice]
            if not people:
                errors.append(("who", f"There are no {who} on this panel, so there is no card to print."))
        except InvalidInput as exc:
            errors.append((exc.field or "who", exc.message))
        try:
            fmt = _answer_format(form)
        except InvalidInput as exc:
            errors.append((exc.field or "format", exc.message))
            fmt = "html"
        if errors or form.get("confirm") != "1":
            return await _confirm_page(
                db_session,
                panel_access,
                account,
                action=action,
                count=len(people),
                who=who,
                values=form,
                errors=errors,
            )
        issued = await issue_cards(
            db_session, panel, people, settings, Actor.account(account), choice=choice.value
        )
        names = panel_access.sees_contacts and form.get("names") == "on"
        return _render_cards(
            request, panel, card_contents(panel, issued, settings.base_url, print_names=names), fmt
        )
