"""Results pages for facilitators and researchers: monitoring, round results (with the moderation of comments
and of reasons for ratings outside the middle half), attrition, the final list, the report and the exports.

Every handler gets the panel from the ``panel_access`` dependency (:mod:`delphi.web.guards`: 404 for a panel
the account cannot see, 403 for a role too weak, 400 for a ``panel_id`` no panel can have), then renders what
:mod:`delphi.results` assembles. E-mail addresses (and the pseudonym key) are
shown to the panel's owner and to facilitators with the "contact panellists" grant only
(``PanelAccess.sees_contacts``); researchers read and export, never moderate.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from litestar import Controller, MediaType, Request, Response, get, post
from litestar.di import Provide
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from delphi import resources
from delphi.db.models import Account
from delphi.domain import Actor, AnalysisPopulation, PanelRole, RoundStatus
from delphi.errors import InvalidInput, NotFound
from delphi.panels.access import start_over
from delphi.panels.numbering import panel_statement_labels
from delphi.participation.checks import MAX_COMMENT, MAX_REASON
from delphi.pdf import html_to_pdf
from delphi.results import (
    attrition,
    exports,
    filtered,
    monitoring,
    qualitative,
    rankings,
    reasons,
    report,
    round_results,
)
from delphi.results.frame import Frame, load_frame
from delphi.rounds import moderation
from delphi.rounds.final import final_consensus_list
from delphi.web.charts import distribution_svg
from delphi.web.forms import read_form, render_form
from delphi.web.guards import EDITORS_ONLY, PanelAccess, provide_checked_panel_access
from delphi.web.schemas import RoundNumber, RowId


def nav_context(frame: Frame, access: PanelAccess, account: Account, tab: str) -> dict[str, Any]:
    """The keys ``facilitator/_layout.html`` expects, plus the results tab and the analysis population."""
    return {
        "panel": frame.panel,
        "population": AnalysisPopulation(frame.panel.analysis_population),
        "frame": frame,
        "role": access.role.value,
        "can_edit": access.can_edit,
        "is_owner": access.is_owner,
        "rounds": frame.rounds,
        "account": account,
        "tab": "results",
        "results_tab": tab,
    }


def page(template: str, context: dict[str, Any]) -> Template:
    return Template(template, context=context, media_type=MediaType.HTML)


def chart(counts: tuple[int, ...], frame: Frame, chart_id: str, title: str) -> Any:
    """An inline SVG of ``counts`` with the rule's agree band shaded."""
    rule = frame.rule
    return distribution_svg(
        counts,
        frame.panel.scale_min,
        chart_id=chart_id,
        title=title,
        band=rule.agree if rule else None,
    )


class ResultsController(Controller):
    path = "/panels/{panel_id:int}"
    include_in_schema = False
    dependencies = {"panel_access": Provide(provide_checked_panel_access)}

    @get("/monitor", name="results_monitor")
    async def monitor(
        self,
        panel_access: PanelAccess,
        db_session: AsyncSession,
        account: Account,
        round: RoundNumber | None = None,
        page: int = 1,
    ) -> Template:
        """Response per group for the open round (or ``?round=N``); who has not submitted, ``page`` by page
        (from 1, 404 past the last, :mod:`delphi.db.paging`); never any rating."""
        frame = await load_frame(db_session, panel_access.panel)
        round_ = frame.monitored_round(round)
        awaiting, at = await monitoring.awaiting_page(db_session, round_, page)
        ctx = nav_context(frame, panel_access, account, "monitor")
        ctx.update(
            round=round_,
            summary=await monitoring.load_summary(db_session, round_, frame.groups),
            awaiting=awaiting,
            page=at,
            group_names=frame.group_names,
            show_emails=panel_access.sees_contacts,
        )
        return Template(
            "results/monitor.html", context=ctx, media_type=MediaType.HTML
        )  # ``page`` is the query

    @get("/rounds/{number:int}/results", name="results_round")
    async def round_page(
        self,
        panel_access: PanelAccess,
        number: RoundNumber,
        db_session: AsyncSession,
        account: Account,
        verdict: str | None = None,
        section: str | None = None,
        flag: str | None = None,
        baseline: str | None = None,
        comments_page: int = 1,
        reasons_page: int = 1,
    ) -> Template:
        """Per statement, pooled and per group: distribution, median, IQR, agreement, verdicts, flags;
        ``?baseline=<question id>:<choice index>`` adds the figures of the panellists who gave that answer
        (:mod:`delphi.results.filtered`; 400 with the reason when refused). The comments and the reasons of
        the shown statements come 100 a page, ``comments_page`` and ``reasons_page`` (from 1; 404 with the
        reason past the last, :mod:`delphi.db.paging`), each under its statement."""
        frame = await load_frame(db_session, panel_access.panel)
        round_ = frame.closed_round(number)
        if verdict and verdict not in round_results.VERDICTS:
            raise InvalidInput(
                f"Filter by one of the verdicts: {', '.join(round_results.VERDICTS)}.", field="verdict"
            )
        if flag and flag not in round_results.FLAGS:
            raise InvalidInput(f"Filter by one of the flags: {', '.join(round_results.FLAGS)}.", field="flag")
        everything = await round_results.load_round_results(
            db_session, round_, frame.groups, frame.panel.k_min
        )
        shown = round_results.filter_results(everything, verdict=verdict, section=section, flag=flag)
        labels = await panel_statement_labels(db_session, frame.panel.id)
        subset, filter_questions = None, []
        if baseline:
            subset, filter_questions = await filtered.load_filtered_results(
                db_session, frame, round_, baseline, labels
            )
        else:
            filter_questions = await filtered.filter_options(db_session, frame, round_, labels)
        editor = panel_access.can_edit
        order = [r.statement_id for r in shown]
        notes, why = await reasons.round_texts(
            db_session, round_.id, order, comments_page, reasons_page, published_only=not editor
        )
        charts = {
            r.statement_id: [
                (
                    scope,
                    chart(
                        scope.counts,
                        frame,
                        f"r{number}-s{r.statement_id}-{scope.scope.replace(':', '')}",
                        f"Ratings of statement {r.statement_id} by {scope.name.lower()} in round {number}",
                    ),
                )
                for scope in ([r.pooled] if r.pooled else []) + list(r.groups)
            ]
            for r in shown
        }
        next_round = frame.round_by_number(number + 1)
        ctx = nav_context(frame, panel_access, account, f"round{number}")
        ctx.update(
            round=round_,
            results=shown,
            total=len(everything),
            tally=round_results.tally(everything),
            sections=round_results.sections(everything),
            verdicts=round_results.VERDICTS,
            flags=round_results.FLAGS,
            sensitivity_labels=round_results.SENSITIVITY_LABELS,
            filters={"verdict": verdict or "", "section": section, "flag": flag or ""},
            charts=charts,
            comments=notes.on_page(),
            comment_list=notes,
            comment_pages=notes.pages_of(order),
            pending=notes.pending,
            reasons=why.on_page(),
            reason_list=why,
            reason_pages=why.pages_of(order),
            pending_reasons=why.pending,
            edited={
                "comment": notes.edited,
                "reason": await qualitative.redacted_reasons(db_session, frame.panel.id),
            }
            if editor
            else {"comment": frozenset(), "reason": frozenset()},
            place=place_of(
                {
                    "verdict": verdict,
                    "section": section,
                    "flag": flag,
                    "baseline": baseline,
                    "comments_page": comments_page,
                    "reasons_page": reasons_page,
                }
            ),
            can_moderate=editor,
            next_open=next_round is not None and next_round.status != RoundStatus.DRAFT,
            rule_text=frame.rule.describe() if frame.rule else "",
            labels=labels,
            stopping=round_results.stopping(
                everything, await round_results.previous_verdicts(db_session, round_)
            ),
            balanced_rule=bool(frame.rule and frame.rule.scope == "balanced"),
            rankings=await rankings.load_round_rankings(db_session, frame.panel, round_, frame.groups),
            ranking_verdicts=rankings.VERDICTS,
            subset=subset,
            filter_questions=filter_questions,
        )
        return page("results/round.html", ctx)

    @post("/rounds/{number:int}/comments/{rating_id:int}", name="results_moderate")
    async def moderate(
        self,
        panel_access: PanelAccess,
        number: RoundNumber,
        rating_id: RowId,
        request: Request,
        db_session: AsyncSession,
        account: Account,
    ) -> Redirect:
        """Publish or hide one comment (form field ``action``); one audit event each."""
        return await _moderate(request, db_session, panel_access, account, number, rating_id, "comment")

    @post("/rounds/{number:int}/reasons/{rating_id:int}", name="results_moderate_reason")
    async def moderate_reason(
        self,
        panel_access: PanelAccess,
        number: RoundNumber,
        rating_id: RowId,
        request: Request,
        db_session: AsyncSession,
        account: Account,
    ) -> Redirect:
        """Publish or hide one reason (form field ``action``); one audit event each."""
        return await _moderate(request, db_session, panel_access, account, number, rating_id, "reason")

    @get("/rounds/{number:int}/comments/{rating_id:int}/edit", name="results_redact", opt=EDITORS_ONLY)
    async def redact_form(
        self,
        panel_access: PanelAccess,
        number: RoundNumber,
        rating_id: RowId,
        request: Request,
        db_session: AsyncSession,
        account: Account,
    ) -> Template:
        """The form to edit a comment's wording (take out what could identify someone); the results page's
        filters and list pages in the query are kept for the way back."""
        return await _redact_page(
            db_session,
            panel_access,
            account,
            number,
            rating_id,
            "comment",
            place=place_of(request.query_params),
        )

    @post("/rounds/{number:int}/comments/{rating_id:int}/edit", name="results_redact_save")
    async def redact(
        self,
        panel_access: PanelAccess,
        number: RoundNumber,
        rating_id: RowId,
        request: Request,
        db_session: AsyncSession,
        account: Account,
    ) -> Response[Any]:
        """Save the edited comment (form field ``text``); the form again, with every problem, when refused."""
        return await _redact(request, db_session, panel_access, account, number, rating_id, "comment")

    @get("/rounds/{number:int}/reasons/{rating_id:int}/edit", name="results_redact_reason", opt=EDITORS_ONLY)
    async def redact_reason_form(
        self,
        panel_access: PanelAccess,
        number: RoundNumber,
        rating_id: RowId,
        request: Request,
        db_session: AsyncSession,
        account: Account,
    ) -> Template:
        """The form to edit a reason's wording (the way back kept, as for a comment)."""
        return await _redact_page(
            db_session,
            panel_access,
            account,
            number,
            rating_id,
            "reason",
            place=place_of(request.query_params),
        )

    @post("/rounds/{number:int}/reasons/{rating_id:int}/edit", name="results_redact_reason_save")
    async def redact_reason(
        self,
        panel_access: PanelAccess,
        number: RoundNumber,
        rating_id: RowId,
        request: Request,
        db_session: AsyncSession,
        account: Account,
    ) -> Response[Any]:
        """Save the edited reason (form field ``text``)."""
        return await _redact(request, db_session, panel_access, account, number, rating_id, "reason")

    @get("/attrition", name="results_attrition")
    async def attrition_page(
        self, panel_access: PanelAccess, db_session: AsyncSession, account: Account
    ) -> Template:
        """Participant flow per group and round, and dropouts' last ratings against completers'."""
        frame = await load_frame(db_session, panel_access.panel)
        subs = await attrition.load_submissions(db_session, frame.panel.id)
        members = await attrition.load_membership(db_session, frame.panel.id)
        flow = attrition.participant_flow(members, subs, frame.rounds, frame.groups)
        rows = await report.bias_rows(db_session, frame)
        last = frame.last_closed
        summary = []
        if last is not None:
            dropouts, completers = attrition.cohorts(subs, last.number)
            summary = attrition.summarise_bias(rows, dropouts, completers)
        ctx = nav_context(frame, panel_access, account, "attrition")
        ctx.update(flow=flow, bias=rows, bias_summary=summary, last=last)
        return page("results/attrition.html", ctx)

    @get("/final", name="results_final")
    async def final(self, panel_access: PanelAccess, db_session: AsyncSession, account: Account) -> Template:
        """Statements in, out and without consensus, with their final figures."""
        frame = await load_frame(db_session, panel_access.panel)
        ctx = nav_context(frame, panel_access, account, "final")
        ctx.update(
            final=await final_consensus_list(db_session, frame.panel.id),
            labels=await panel_statement_labels(db_session, frame.panel.id),
        )
        return page("results/final.html", ctx)

    @get("/report", name="results_report")
    async def report_page(
        self, panel_access: PanelAccess, db_session: AsyncSession, account: Account
    ) -> Template:
        """A printable report for an ACCORD/CREDES-style write-up."""
        frame = await load_frame(db_session, panel_access.panel)
        ctx = nav_context(frame, panel_access, account, "report")
        ctx.update(report=await report.build_report(db_session, frame), generated_at=datetime.now(UTC))
        return page("results/report.html", ctx)

    @get("/report.pdf", name="results_report_pdf")
    async def report_pdf(
        self, request: Request, panel_access: PanelAccess, db_session: AsyncSession, account: Account
    ) -> Response:
        """The same report as a PDF (WeasyPrint, print CSS); 503 problem answer when Pango is missing."""
        frame = await load_frame(db_session, panel_access.panel)
        ctx = nav_context(frame, panel_access, account, "report")
        ctx.update(
            report=await report.build_report(db_session, frame),
            generated_at=datetime.now(UTC),
            pdf=True,
            csrf_input="",
            request=request,
        )
        html = request.app.template_engine.engine.get_template("results/report.html").render(ctx)
        data = html_to_pdf(html, resources.STATIC_DIR.as_uri() + "/")
        return Response(
            data,
            media_type="application/pdf",
            headers={
                "Content-Disposition": f'attachment; filename="panel-{frame.panel.id}-report.pdf"',
                "Cache-Control": "no-store",
            },
        )

    @get("/exports", name="results_exports")
    async def exports_page(
        self, panel_access: PanelAccess, db_session: AsyncSession, account: Account
    ) -> Template:
        """The exports this account may download."""
        frame = await load_frame(db_session, panel_access.panel)
        ctx = nav_context(frame, panel_access, account, "exports")
        offered = exports.available(panel_access.role, sees_contacts=panel_access.sees_contacts)
        ctx.update(exports=offered, has_results=frame.last_closed is not None)
        return page("results/exports.html", ctx)

    @get("/exports/{filename:str}", name="results_export_file")
    async def export_file(
        self, panel_access: PanelAccess, filename: str, db_session: AsyncSession, account: Account
    ) -> Response:
        """``/exports/final-list.csv`` and the like; 400 naming the allowed formats for another one."""
        frame = await load_frame(db_session, panel_access.panel)
        return await export_response(
            db_session, frame, panel_access.role, filename, sees_contacts=panel_access.sees_contacts
        )


async def _moderate(
    request: Request,
    db_session: AsyncSession,
    access: PanelAccess,
    account: Account,
    number: int,
    rating_id: int,
    what: str,
) -> Redirect:
    """The moderation form's POST for ``what`` (``"comment"`` or ``"reason"``): publish or hide, then back to
    the round's results at the same filters and list pages (the form's hidden :func:`place_of` fields), on the
    text moderated."""
    panel = access.panel
    form = await read_form(request)
    action = form.get("action", "")
    if action not in ("publish", "hide"):
        raise InvalidInput("Choose publish or hide.", field="action")
    await moderation.moderate(
        db_session, panel, number, rating_id, what, action == "publish", Actor.account(account)
    )
    return Redirect(results_url(panel.id, number, place_of(form), rating_id, what), status_code=303)


#: The round results page's query parameters that say where a facilitator is: its filters and list pages.
PLACE_KEYS = ("verdict", "section", "flag", "baseline", "comments_page", "reasons_page")


def place_of(values: Mapping[str, Any]) -> dict[str, str]:
    """The :data:`PLACE_KEYS` of ``values`` (a query, a form, the page's own arguments) that are set, as text:
    empty values, page 1 and a page that is not a whole number above 0 are left out (pure)."""
    out: dict[str, str] = {}
    for key in PLACE_KEYS:
        value = values.get(key)
        text = "" if value is None else str(value).strip()
        if key.endswith("_page") and (not text.isdigit() or int(text) <= 1):
            continue
        if text:
            out[key] = text
    return out


def results_url(panel_id: int, number: int, place: Mapping[str, str], rating_id: int, what: str) -> str:
    """The round results page at ``place`` (see :func:`place_of`), with ``moderated`` naming the rating whose
    ``what`` was just moderated or edited, scrolled to that text (pure)."""
    query = urlencode({**place, "moderated": rating_id})
    return f"/panels/{panel_id}/rounds/{number}/results?{query}#{what}-{rating_id}"


#: The longest text a facilitator's edit may leave: what a panellist may write there.
TEXT_LIMITS = {"comment": MAX_COMMENT, "reason": MAX_REASON}


async def _redact_page(
    session: AsyncSession,
    access: PanelAccess,
    account: Account,
    number: int,
    rating_id: int,
    what: str,
    *,
    text: str | None = None,
    errors: list[tuple[str, str]] | None = None,
    status_code: int = 200,
    place: Mapping[str, str] | None = None,
) -> Template:
    """The edit form of rating ``rating_id``'s ``what``, holding ``text`` (default: the stored text) and
    ``errors``; ``place`` the results page's filters and list pages to go back to (:func:`place_of`); NotFound
    when round ``number`` has no such text."""
    frame = await load_frame(session, access.panel)
    item = await qualitative.load_moderated(session, frame.panel.id, number, rating_id, what)
    if item is None:
        raise NotFound(f"There is no such {what} in this round.")
    ctx = nav_context(frame, access, account, f"round{number}")
    ctx.update(
        item=item,
        what=what,
        text=item.text if text is None else text,
        limit=TEXT_LIMITS[what],
        action=f"/panels/{frame.panel.id}/rounds/{number}/{what}s/{rating_id}/edit",
        place=dict(place or {}),
        back=f"/panels/{frame.panel.id}/rounds/{number}/results"
        + (f"?{urlencode(place)}" if place else "")
        + f"#statement-{item.statement_id}",
    )
    return render_form("results/redact.html", ctx, errors=errors, status_code=status_code)


async def _redact(
    request: Request,
    session: AsyncSession,
    access: PanelAccess,
    account: Account,
    number: int,
    rating_id: int,
    what: str,
) -> Response[Any]:
    """The edit form's POST: store the edited wording, then back to the round's results; refused, the form
    again with the posted text and every problem (422), nothing saved."""
    panel = access.panel
    form = await read_form(request)
    text = form.get("text", "")
    place = place_of(form)
    try:
        await moderation.redact(
            session, panel, number, rating_id, what, text, Actor.account(account), limit=TEXT_LIMITS[what]
        )
    except InvalidInput as exc:
        await start_over(session, panel, account)
        return await _redact_page(
            session,
            access,
            account,
            number,
            rating_id,
            what,
            text=text,
            errors=exc.errors,
            status_code=422,
            place=place,
        )
    return Redirect(results_url(panel.id, number, place, rating_id, what), status_code=303)


async def export_response(
    session: AsyncSession, frame: Frame, role: PanelRole, filename: str, *, sees_contacts: bool | None = None
) -> Response:
    """The export as a download, with the access check of its spec (403 for a role it is not for, or for an
    export naming people to an account that does not see contacts)."""
    file = await exports.download(session, frame, role, filename, sees_contacts=sees_contacts)
    return Response(
        file.data,
        media_type=file.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{file.file_name}"',
            "Cache-Control": "no-store",
        },
    )
