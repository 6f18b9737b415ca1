"""Panellist pages: the link, consent, rating, review, submit, receipt, suggestions, results, leaving.

No SQL here: every handler calls the use cases of :mod:`delphi.participation`.  Two controllers:

* ``/p/{token}`` (and ``/p/{token}/leave``): exchanges the e-mailed token for a signed session cookie and
  redirects to a URL without the token; rate-limited by ``app.state.link_limiter``.
  ``POST /p/{token}/leave`` with the body ``List-Unsubscribe=One-Click`` (RFC 8058) withdraws without a CSRF
  token: the token in the path is the proof.
* ``/panel/...``: the pages, for a valid panellist session (``panellist_id`` and ``panellist_v`` in the
  cookie, the version checked against the row on every request), plus ``POST /panel/ratings/{statement_id}``,
  the JSON endpoint of background saves (CSRF header ``x-csrftoken``).

Every page works without JavaScript; ``panellist.js`` only saves each answer as it is given.  Text goes
through the panellist's gettext catalog (``Panellist.language``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial
from typing import Any

from litestar import Controller, MediaType, Request, Response, get, post
from litestar.di import Provide
from litestar.exceptions import HTTPException
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.locks import begin_write
from delphi.db.models import Panellist
from delphi.errors import DelphiError, InvalidInput
from delphi.formatting import format_money
from delphi.locale import template_gettext
from delphi.participation import checks, consent, figures, final, links, pages, saving, submit, suggest
from delphi.participation.issues import N_, ConsentNeeded, Issue, LinkNotValid, SessionEnded, fail
from delphi.web.charts import distribution_svg
from delphi.web.errors import http_error_handler, problem
from delphi.web.forms import read_form, read_form_multi
from delphi.web.ids import possible_id
from delphi.web.ratelimit import client_key

PANELLIST_KEY = "panellist_id"
VERSION_KEY = "panellist_v"
_FIELD = re.compile(r"^([scr])(\d{1,12})$")
_TITLES = {
    400: N_("Something was not right"),
    403: N_("Please use your personal link"),
    404: N_("Page not found"),
    409: N_("That cannot be done now"),
    422: N_("Please check your answer"),
    429: N_("Please wait a moment"),
}


# --- context and rendering ----------------------------------------------------------------------------------


def _language(request: Request, panellist: Panellist | None = None) -> str:
    if panellist is not None:
        return panellist.language
    return str(getattr(request.state, "panellist_language", "") or "en")


def _translate(issues: list[Issue], gettext: Callable[[str], str]) -> list[tuple[str, str]]:
    return [(i.field, i.text(gettext)) for i in issues]


def _errors_of(exc: DelphiError, gettext: Callable[[str], str]) -> list[tuple[str, str]]:
    issues = getattr(exc, "issues", None)
    if issues:
        return _translate(issues, gettext)
    pairs = getattr(exc, "errors", None) or [(exc.field or "", exc.message)]
    return [(f, gettext(m)) for f, m in pairs]


def _context(request: Request, panellist: Panellist | None, **extra: Any) -> dict[str, Any]:
    i18n = template_gettext(_language(request, panellist))
    lang = i18n["lang"].replace("-", "_")
    ctx: dict[str, Any] = {
        **i18n,
        "panellist": panellist,
        "num": figures.number_text,
        "band_text": figures.band_text,
        "money": lambda minor, currency: format_money(minor, currency, lang),
        "errors": [],
        "field_errors": {},
        "notice": None,
    }
    ctx.update(extra)
    if ctx["errors"] and not ctx["field_errors"]:
        ctx["field_errors"] = {f: m for f, m in ctx["errors"] if f}
    return ctx


def render(
    request: Request, template: str, panellist: Panellist | None, status_code: int = 200, **extra: Any
) -> Template:
    """Render a panellist template with the reader's translations and the shared helpers."""
    return Template(
        f"panellist/{template}",
        context=_context(request, panellist, **extra),
        status_code=status_code,
        media_type=MediaType.HTML,
    )


def _chart_for(
    request: Request, panellist: Panellist, scale_min: int, band: tuple[int, int]
) -> Callable[..., Any]:
    i18n = template_gettext(_language(request, panellist))
    return partial(
        distribution_svg,
        scale_min=scale_min,
        band=band,
        gettext=i18n["py_gettext"],
        ngettext=i18n["py_ngettext"],
    )


# --- errors -------------------------------------------------------------------------------------------------


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/panel/ratings/") or "application/json" in (
        request.headers.get("accept") or ""
    )


def panellist_error_handler(request: Request, exc: Exception) -> Response:
    """DelphiError → a kind page in the panellist's language (or a JSON problem for background saves)."""
    if isinstance(exc, HTTPException):
        if _wants_json(request):
            detail = exc.detail if isinstance(exc.detail, str) else _TITLES.get(exc.status_code, "Error")
            return problem(exc.status_code, detail, headers=dict(exc.headers or {}))
        return http_error_handler(request, exc)
    assert isinstance(exc, DelphiError)
    i18n = template_gettext(_language(request))
    errors = _errors_of(exc, i18n["py_gettext"])
    if _wants_json(request):
        return problem(
            exc.status_code,
            errors[0][1] if errors else exc.message,
            extra={"errors": [{"field": f, "message": m} for f, m in errors]},
        )
    if isinstance(exc, LinkNotValid | SessionEnded):
        return render(request, "link_problem.html", None, status_code=exc.status_code)
    return render(
        request,
        "problem.html",
        None,
        status_code=exc.status_code,
        title=i18n["py_gettext"](_TITLES.get(exc.status_code, _TITLES[400])),
        messages=[m for _, m in errors],
    )


EXCEPTION_HANDLERS = {DelphiError: panellist_error_handler, HTTPException: panellist_error_handler}


# --- session ------------------------------------------------------------------------------------------------


def _session(request: Request) -> dict[str, Any]:
    session = request.scope.get("session")
    return dict(session) if isinstance(session, dict) else {}


def _login(request: Request, panellist: Panellist) -> None:
    """Store the panellist in the signed session cookie, keeping any facilitator login in the same cookie."""
    request.set_session(
        {**_session(request), PANELLIST_KEY: panellist.id, VERSION_KEY: panellist.session_version}
    )


def _logout(request: Request) -> None:
    rest = {k: v for k, v in _session(request).items() if k not in (PANELLIST_KEY, VERSION_KEY)}
    if rest:
        request.set_session(rest)
    else:
        request.clear_session()


async def provide_panellist(request: Request, db_session: AsyncSession) -> Panellist:
    """The panellist of the session cookie; :class:`SessionEnded` (a kind page) when there is no valid one."""
    session = _session(request)
    panellist = await links.panellist_for_session(
        db_session, session.get(PANELLIST_KEY), session.get(VERSION_KEY)
    )
    request.state.panellist_language = panellist.language
    return panellist


# --- the personal link --------------------------------------------------------------------------------------


class PanellistLinkController(Controller):
    """``/p/{token}``: the e-mailed personal link and the List-Unsubscribe target."""

    path = "/p"
    include_in_schema = False
    exception_handlers = EXCEPTION_HANDLERS  # type: ignore[assignment]

    @get("/{token:str}", name="panellist_link")
    async def open_link(self, request: Request, db_session: AsyncSession, token: str) -> Redirect:
        request.app.state.link_limiter.hit(client_key(request))
        panellist = await links.exchange_link(db_session, token)
        _login(request, panellist)
        return Redirect("/panel", status_code=303)

    @get("/{token:str}/leave", name="panellist_leave_link")
    async def leave_link(self, request: Request, db_session: AsyncSession, token: str) -> Redirect:
        request.app.state.link_limiter.hit(client_key(request))
        panellist = await links.exchange_link(db_session, token)
        _login(request, panellist)
        return Redirect("/panel/leave", status_code=303)

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


# --- the panellist's pages ----------------------------------------------------------------------------------


def _rating_inputs(form: dict[str, list[str]]) -> list[checks.RatingInput]:
    """``s<id>`` (answer), ``c<id>`` (comment), ``r<id>`` (reason) fields as inputs, in first-seen order."""
    found: dict[int, dict[str, str]] = {}
    for key, values in form.items():
        m = _FIELD.match(key)
        if m and possible_id(int(m.group(2))):  # a larger number is no statement's id: ignored
            found.setdefault(int(m.group(2)), {})[m.group(1)] = values[-1]
    return [
        checks.RatingInput(sid, answer=fields.get("s"), comment=fields.get("c"), reason=fields.get("r"))
        for sid, fields in found.items()
    ]


def _overlay(page: pages.RatingPage, inputs: list[checks.RatingInput]) -> None:
    """Show what was posted (not saved) on a page re-shown with errors, so nothing typed is lost."""
    by_id = {i.statement_id: i for i in inputs}
    for item in page.items:
        posted = by_id.get(item.id)
        if posted is None:
            continue
        if isinstance(posted.answer, str) and posted.answer:
            if posted.answer == checks.UNABLE:
                item.value, item.unable = None, True
            elif posted.answer.isdigit():
                item.value, item.unable = int(posted.answer), False
        if isinstance(posted.comment, str):
            item.comment = posted.comment
        if isinstance(posted.reason, str):
            item.reason = posted.reason


class PanellistPagesController(Controller):
    """``/panel``: everything a panellist does after opening their link."""

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
        return render(request, "home.html", panellist, panel=ov.panel, ov=ov, saved=bool(saved))

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
            i18n = template_gettext(panellist.language)
            issue = Issue("consent", N_("Tick the box to say you agree to take part."))
            errors = _translate([issue], i18n["py_gettext"])
            return render(
                request, "consent.html", panellist, status_code=400, panel=ov.panel, ov=ov, errors=errors
            )
        await consent.record_consent(db_session, panellist)
        return Redirect("/panel", status_code=303)

    # rating -------------------------------------------------------------------------------------------------
    @get("/rate", name="panellist_rate")
    async def rate_page(
        self, request: Request, db_session: AsyncSession, panellist: Panellist, page: int | None = None
    ) -> Template | Redirect:
        if panellist.consented_at is None:
            return Redirect("/panel/consent", status_code=303)
        ov = await pages.overview(db_session, panellist)
        if ov.round is None or ov.progress.total == 0:
            return Redirect("/panel", status_code=303)
        if not ov.accepts_answers:
            return Redirect("/panel/review", status_code=303)
        data = await pages.load_rating_page(db_session, panellist, page)
        return self._rate_template(request, panellist, data)

    def _rate_template(
        self,
        request: Request,
        panellist: Panellist,
        data: pages.RatingPage,
        errors: list[tuple[str, str]] | None = None,
    ) -> Template:
        ordinal = {}
        n = 0
        for spec in data.pages:
            for sid in spec.statement_ids:
                n += 1
                ordinal[sid] = n
        return render(
            request,
            "rate.html",
            panellist,
            status_code=400 if errors else 200,
            panel=data.overview.panel,
            ov=data.overview,
            data=data,
            ordinal=ordinal,
            chart=_chart_for(request, panellist, data.scale.lo, data.agree_band),
            errors=errors or [],
        )

    @post("/rate")
    async def save_page(
        self, request: Request, db_session: AsyncSession, panellist: Panellist, page: int | None = None
    ) -> Template | Redirect:
        form = await read_form_multi(request)
        inputs = _rating_inputs(form)
        action = (form.get("action") or ["next"])[-1]
        try:
            await saving.save_ratings(db_session, panellist, inputs)
        except ConsentNeeded:
            return Redirect("/panel/consent", status_code=303)
        except InvalidInput as exc:
            data = await pages.load_rating_page(db_session, panellist, page)
            _overlay(data, inputs)
            i18n = template_gettext(panellist.language)
            return self._rate_template(request, panellist, data, errors=_errors_of(exc, i18n["py_gettext"]))
        current = page or 1
        if action == "previous":
            return Redirect(f"/panel/rate?page={max(1, current - 1)}", status_code=303)
        if action == "later":
            return Redirect("/panel?saved=1", status_code=303)
        specs = await pages.rating_pages(db_session, panellist)
        if action != "review" and current < len(specs):
            return Redirect(f"/panel/rate?page={current + 1}", status_code=303)
        return Redirect("/panel/review", status_code=303)

    @post("/ratings/{statement_id:int}", status_code=200)
    async def save_one(self, request: Request, statement_id: int) -> Response:
        """Background save of one answer; JSON in and out.

        Body: ``{"answer": 7 | "7" | "unable" | null, "comment": str | null, "reason": str | null}``
        (absent or null keeps the saved value).  Answer: ``{"statement_id", "value", "unable", "outside_iqr",
        "answered", "total", "saved_at"}``; a problem body with ``errors`` on a 4xx.

        The save goes through the process's :class:`~delphi.participation.save_queue.SaveQueue` (grouped with other
        panellists' saves in one transaction); whatever the queue does not save, from a bad value to an ended
        session, takes the full path in its own transaction, which gives the precise answer.
        """
        session = _session(request)
        panellist_id, version = session.get(PANELLIST_KEY), session.get(VERSION_KEY)
        signed_in = isinstance(panellist_id, int) and isinstance(version, int)
        try:
            body = await request.json()
        except HTTPException:  # e.g. 413: the body is over the size limit
            raise
        except Exception:
            body = None
        item = (
            checks.RatingInput(statement_id, body.get("answer"), body.get("comment"), body.get("reason"))
            if isinstance(body, dict)
            else None
        )
        result = None
        if signed_in and item is not None:
            result = await request.app.state.save_queue.save(panellist_id, version, item)
        return self._saved(result or await self._save_fully(request, item))

    async def _save_fully(self, request: Request, item: checks.RatingInput | None) -> saving.SaveResult:
        """The save in a transaction of its own, with every check phrased: a session that is not (or no
        longer) valid is refused first, then a body that was not a JSON object (``item`` None), then whatever
        ``save_rating`` refuses."""
        async with AsyncSession(request.app.state.engine, expire_on_commit=False) as db_session:
            async with db_session.begin():
                await begin_write(db_session)  # the session check too is serialised with a close (SQLite)
                panellist = await provide_panellist(request, db_session)
                if item is None:
                    raise fail(InvalidInput, N_("Send the answer as a JSON object."))
                return await saving.save_rating(db_session, panellist, item)

    @staticmethod
    def _saved(result: saving.SaveResult) -> Response:
        return Response(
            {
                "statement_id": result.statement_id,
                "value": result.value,
                "unable": result.unable,
                "outside_iqr": result.outside_iqr,
                "answered": result.progress.answered,
                "total": result.progress.total,
                "saved_at": result.saved_at.isoformat(),
            }
        )

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
        data = await pages.load_review(db_session, panellist)
        return render(request, "review.html", panellist, panel=ov.panel, ov=data.overview, data=data)

    @post("/submit")
    async def submit(
        self, request: Request, db_session: AsyncSession, panellist: Panellist
    ) -> Template | Redirect:
        try:
            await submit.submit(db_session, panellist)
        except InvalidInput as exc:
            data = await pages.load_review(db_session, panellist)
            i18n = template_gettext(panellist.language)
            return render(
                request,
                "review.html",
                panellist,
                status_code=400,
                panel=data.overview.panel,
                ov=data.overview,
                data=data,
                errors=_errors_of(exc, i18n["py_gettext"]),
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
        ov = await pages.overview(db_session, panellist)
        statements = await suggest.suggestable_statements(db_session, panellist)
        return render(
            request,
            "suggest.html",
            panellist,
            panel=ov.panel,
            ov=ov,
            statements=statements,
            sent=bool(sent),
            form={},
        )

    @post("/suggest")
    async def suggest(
        self, request: Request, db_session: AsyncSession, panellist: Panellist
    ) -> Template | Redirect:
        form = await read_form(request)
        kind = form.get("kind", "new")
        statement_id: int | None = None
        i18n = template_gettext(panellist.language)
        issues: list[Issue] = []
        if kind == "rewording":
            raw = form.get("statement", "")
            if raw.isascii() and raw.isdigit() and possible_id(int(raw)):  # else no statement's id
                statement_id = int(raw)
            else:
                issues.append(Issue("statement", N_("Choose the statement you want to reword.")))
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
        ov = await pages.overview(db_session, panellist)
        statements = await suggest.suggestable_statements(db_session, panellist)
        return render(
            request,
            "suggest.html",
            panellist,
            status_code=400,
            panel=ov.panel,
            ov=ov,
            statements=statements,
            sent=False,
            form=form,
            errors=_translate(issues, i18n["py_gettext"]),
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
            chart=_chart_for(
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
        _logout(request)
        return render(request, "left.html", panellist, panel=ov.panel)
