"""``/panel/about-you``: the panel's baseline questions for the signed-in panellist, asked once after consent and
open to changes from the home page while the panel runs.

The form, without JavaScript: a single-choice question is a radio group ``q<id>`` whose values are ``c<index>``
of the question's choices or ``pnts`` ("Prefer not to say"); a multiple-choice question the same as tick boxes;
a number or a text is the field ``q<id>`` with a "Prefer not to say" tick box ``q<id>-pnts``.  The button
``action=skip`` passes over the page ("Skip these questions").  A refused save re-shows the page (400) with the
error summary and everything as posted; nothing is saved.

The page shows the questions in the panellist's language (``w.baseline``); a choice is always stored in the
panel's primary wording, the i-th translated choice standing for the i-th stored one.
"""

from __future__ import annotations

from litestar import Controller, Request, get, post
from litestar.di import Provide
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import BaselineQuestion, Panellist
from delphi.domain import BaselineKind
from delphi.errors import InvalidInput
from delphi.panels.translations import Wording
from delphi.participation import baseline, pages
from delphi.participation.baseline import Posted
from delphi.web.forms import read_form_multi
from delphi.web.panellist.errors import EXCEPTION_HANDLERS
from delphi.web.panellist.rendering import errors_of, gettext_for, render, wording_of
from delphi.web.panellist.session import provide_panellist

PREFER_NOT = "pnts"


def posted_answer(
    question: BaselineQuestion, form: dict[str, list[str]], wording: Wording | None = None
) -> Posted:
    """What the form sent for ``question`` (see the module docstring), choices in the primary wording: a
    ``c<index>`` value, or a choice's wording in the language of ``wording``, stands for the stored choice at
    that index.  An unknown value is passed on as it is, for
    :func:`delphi.participation.baseline.check_answers` to refuse."""
    name = baseline.field_of(question.id)
    values = [v for v in form.get(name, []) if v != ""]
    if question.kind in (BaselineKind.SINGLE, BaselineKind.MULTIPLE):
        shown = wording.baseline(question)[1] if wording is not None else list(question.choices)
        chosen: list[str] = []
        for value in values:
            if value == PREFER_NOT:
                continue
            index = value[1:] if value.startswith("c") else ""
            if index.isascii() and index.isdigit() and int(index) < len(question.choices):
                chosen.append(question.choices[int(index)])
            elif value not in question.choices and value in shown:
                chosen.append(question.choices[shown.index(value)])
            else:
                chosen.append(value)
        return Posted(chosen=tuple(chosen), prefer_not=PREFER_NOT in values)
    raw = values[-1] if values else ""
    return Posted(raw=raw, prefer_not=f"{name}-{PREFER_NOT}" in form)


async def _page(
    request: Request,
    session: AsyncSession,
    panellist: Panellist,
    *,
    status_code: int = 200,
    posted: dict[int, Posted] | None = None,
    errors: list[tuple[str, str]] | None = None,
) -> Template:
    ov = await pages.overview(session, panellist)
    items = await baseline.load_page(session, panellist, posted)
    return render(
        request,
        "about_you.html",
        panellist,
        status_code=status_code,
        panel=ov.panel,
        ov=ov,
        items=items,
        first_time=panellist.baseline_at is None,
        prefer_not=PREFER_NOT,
        errors=errors or [],
    )


class BaselinePagesController(Controller):
    """``/panel/about-you``: the panellist's answers to the panel's baseline questions."""

    path = "/panel/about-you"
    include_in_schema = False
    dependencies = {"panellist": Provide(provide_panellist)}
    exception_handlers = EXCEPTION_HANDLERS  # type: ignore[assignment]

    @get("/", name="panellist_about_you")
    async def form(
        self, request: Request, db_session: AsyncSession, panellist: Panellist
    ) -> Template | Redirect:
        if panellist.consented_at is None:
            return Redirect("/panel/consent", status_code=303)
        if not await baseline.has_questions(db_session, panellist.panel_id):
            return Redirect("/panel", status_code=303)
        return await _page(request, db_session, panellist)

    @post("/")
    async def save(
        self, request: Request, db_session: AsyncSession, panellist: Panellist
    ) -> Template | Redirect:
        form = await read_form_multi(request)
        if (form.get("action") or [""])[-1] == "skip":
            await baseline.skip(db_session, panellist)
            return Redirect("/panel", status_code=303)
        questions = [item.question for item in await baseline.load_page(db_session, panellist)]
        wording = wording_of(request)
        posted = {q.id: posted_answer(q, form, wording) for q in questions}
        try:
            await baseline.save_answers(db_session, panellist, posted)
        except InvalidInput as exc:
            errors = errors_of(exc, gettext_for(panellist))
            await db_session.rollback()
            await db_session.refresh(panellist)
            return await _page(request, db_session, panellist, status_code=400, posted=posted, errors=errors)
        return Redirect("/panel?about=1", status_code=303)
