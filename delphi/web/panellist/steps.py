"""The ``/panel`` pages around the rating: home, consent, review and submit, receipt, suggestions, the final
results, leaving.  Every handler gets the signed-in panellist from :func:`.session.provide_panellist`."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import Provide
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import Panellist
from delphi.domain import RoundKind
from delphi.errors import InvalidInput
from delphi.participation import baseline, consent, final, ideas, pages, ranking, submit, suggest
from delphi.participation.issues import N_, Issue
from delphi.rounds import figures
from delphi.web.forms import read_form
from delphi.web.ids import possible_id
from delphi.web.panellist import ideas as ideas_pages
from delphi.web.panellist.errors import EXCEPTION_HANDLERS
from delphi.web.panellist.rating import resume_href
from delphi.web.panellist.rendering import chart_for, errors_of, gettext_for, render, translate
from delphi.web.panellist.session import logout, provide_panellist


def _chosen_statement(form: dict[str, str]) -> tuple[int | None, list[Issue]]:
    """The statement a rewording is for (``kind=rewording``, field ``statement``), or the issue saying to choose
    one; ``(None, [])`` for a new statement."""
    if form.get("kind", "new") != "rewording":
        return None, []
    raw = form.get("statement", "")
    if raw.isascii() and raw.isdigit() and possible_id(int(raw)):  # else no statement's id
        return int(raw), []
    return None, [Issue("statement", N_("Choose the statement you want to reword."))]


async def _suggest_page(
    request: Request,
    session: AsyncSession,
    panellist: Panellist,
    *,
    sent: bool,
    form: dict[str, str],
    status_code: int = 200,
    **extra: Any,
) -> Template:
    """The suggestion form: the panellist's overview and the statements one may suggest a rewording of, with the
    posted ``form`` values; ``extra`` adds to the context (``errors`` after a refused post, with 400)."""
    ov = await pages.overview(session, panellist)
    statements = await suggest.suggestable_statements(session, panellist)
    return render(
        request,
        "suggest.html",
        panellist,
        status_code=status_code,
        panel=ov.panel,
        ov=ov,
        statements=statements,
        sent=sent,
        form=form,
        **extra,
    )


class PanellistPagesController(Controller):
    """``/panel``: everything a panellist does after opening their link, but rating (:mod:`.rating`)."""

    path = "/panel"
    include_in_schema = False
    dependencies = {"panellist": Provide(provide_panellist)}
    exception_handlers = EXCEPTION_HANDLERS  # type: ignore[assignment]

    @get("/", name="panellist_home")
    async def home(
        self, request: Request, db_session: AsyncSession, panellist: Panellist, saved: int = 0
    ) -> Template | Redirect:
        ov = await pages.overview(db_session, panellist)
        if ov.panel.status == "finished":
            return Redirect("/panel/results", status_code=303)
        if not ov.consented:
            return Redirect("/panel/consent", status_code=303)
        if await baseline.needs_baseline(db_session, panellist):
            return Redirect("/panel/about-you", status_code=303)
        has_baseline = await baseline.has_questions(db_session, panellist.panel_id)
        rnd = ov.round  # the overview's round: no second lookup of the current round
        rankings = await ranking.rankings_of_round(db_session, rnd.id, panellist.id) if rnd else []
        open_round = rnd is not None and rnd.kind == RoundKind.OPEN
        return render(
            request,
            "home.html",
            panellist,
            panel=ov.panel,
            ov=ov,
            saved=bool(saved),
            has_baseline=has_baseline,
            idea_answers=await ideas.count_answers(db_session, rnd.id, panellist.id) if open_round else None,
            rankings=rankings,
            resume=resume_href(ov, rankings),
        )

    # consent ------------------------------------------------------------------------------------------------
    @get("/consent", name="panellist_consent")
    async def consent_form(
        self, request: Request, db_session: AsyncSession, panellist: Panellist
    ) -> Template:
        ov = await pages.overview(db_session, panellist)
        return render(request, "consent.html", panellist, panel=ov.panel, ov=ov)

    @post("/consent")
    async def consent(
        self, request: Request, db_session: AsyncSession, panellist: Panellist
    ) -> Template | Redirect:
        form = await read_form(request)
        if form.get("consent") != "yes":
            ov = await pages.overview(db_session, panellist)
            issue = Issue("consent", N_("Tick the box to say you agree to take part."))
            errors = translate([issue], gettext_for(panellist))
            return render(
                request, "consent.html", panellist, status_code=400, panel=ov.panel, ov=ov, errors=errors
            )
        await consent.record_consent(db_session, panellist)
        if await baseline.needs_baseline(db_session, panellist):
            return Redirect("/panel/about-you", status_code=303)
        return Redirect("/panel", status_code=303)

    # review, submit, receipt --------------------------------------------------------------------------------
    @get("/review", name="panellist_review")
    async def review(
        self, request: Request, db_session: AsyncSession, panellist: Panellist
    ) -> Template | Redirect:
        if panellist.consented_at is None:
            return Redirect("/panel/consent", status_code=303)
        ov = await pages.overview(db_session, panellist)
        if ov.round is None:
            return Redirect("/panel", status_code=303)
        if ov.round.kind == "open":
            return await ideas_pages.review_page(request, db_session, panellist)
        data = await pages.load_review(db_session, panellist)
        rankings = await ranking.rankings_of_round(db_session, ov.round.id, panellist.id)
        return render(
            request, "review.html", panellist, panel=ov.panel, ov=data.overview, data=data, rankings=rankings
        )

    @post("/submit")
    async def submit(
        self, request: Request, db_session: AsyncSession, panellist: Panellist
    ) -> Template | Redirect:
        try:
            await submit.submit(db_session, panellist)
        except InvalidInput as exc:
            if await ideas.answer_count(db_session, panellist) is not None:  # an open round
                return await ideas_pages.review_page(
                    request, db_session, panellist, errors_of(exc, gettext_for(panellist))
                )
            data = await pages.load_review(db_session, panellist)
            return render(
                request,
                "review.html",
                panellist,
                status_code=400,
                panel=data.overview.panel,
                ov=data.overview,
                data=data,
                rankings=await ranking.rankings_of_round(db_session, data.overview.round.id, panellist.id),
                errors=errors_of(exc, gettext_for(panellist)),
            )
        return Redirect("/panel/done", status_code=303)

    @get("/done", name="panellist_done")
    async def done(
        self, request: Request, db_session: AsyncSession, panellist: Panellist
    ) -> Template | Redirect:
        receipt = await submit.load_receipt(db_session, panellist)
        if receipt is None:
            return Redirect("/panel", status_code=303)
        ov = await pages.overview(db_session, panellist)
        return render(request, "done.html", panellist, panel=ov.panel, ov=ov, receipt=receipt)

    # suggestions --------------------------------------------------------------------------------------------
    @get("/suggest", name="panellist_suggest")
    async def suggest_form(
        self, request: Request, db_session: AsyncSession, panellist: Panellist, sent: int = 0
    ) -> Template | Redirect:
        if panellist.consented_at is None:
            return Redirect("/panel/consent", status_code=303)
        return await _suggest_page(request, db_session, panellist, sent=bool(sent), form={})

    @post("/suggest")
    async def suggest(
        self, request: Request, db_session: AsyncSession, panellist: Panellist
    ) -> Template | Redirect:
        form = await read_form(request)
        statement_id, issues = _chosen_statement(form)
        if not issues:
            try:
                await suggest.suggest(
                    db_session,
                    panellist,
                    text=form.get("text", ""),
                    statement_id=statement_id,
                    section=form.get("section", ""),
                )
                return Redirect("/panel/suggest?sent=1", status_code=303)
            except InvalidInput as exc:
                issues = list(getattr(exc, "issues", [])) or [Issue("text", exc.message)]
        errors = translate(issues, gettext_for(panellist))
        return await _suggest_page(
            request, db_session, panellist, sent=False, form=form, status_code=400, errors=errors
        )

    # results ------------------------------------------------------------------------------------------------
    @get("/results", name="panellist_results")
    async def results(self, request: Request, db_session: AsyncSession, panellist: Panellist) -> Template:
        view = await final.load_final_results(db_session, panellist)
        ov = await pages.overview(db_session, panellist)
        return render(
            request,
            "results.html",
            panellist,
            panel=view.panel,
            ov=ov,
            view=view,
            chart=chart_for(
                request,
                panellist,
                view.panel.scale_min,
                figures.agree_band(view.panel.rule, view.panel.scale_min, view.panel.scale_max),
            ),
        )

    # leaving ------------------------------------------------------------------------------------------------
    @get("/leave", name="panellist_leave")
    async def leave_form(self, request: Request, db_session: AsyncSession, panellist: Panellist) -> Template:
        ov = await pages.overview(db_session, panellist)
        return render(request, "leave.html", panellist, panel=ov.panel, ov=ov)

    @post("/leave", status_code=200)
    async def leave(self, request: Request, db_session: AsyncSession, panellist: Panellist) -> Template:
        ov = await pages.overview(db_session, panellist)
        await consent.withdraw(db_session, panellist, how="page")
        logout(request)
        return render(request, "left.html", panellist, panel=ov.panel)
