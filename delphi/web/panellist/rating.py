"""``/panel/rate`` (a page of statements to rate, saved as a whole) and ``POST /panel/ratings/{statement_id}``
(the background save of one answer, JSON in and out).

The round's steps are its rating pages, then its ranking questions (:mod:`.ranking`): the pages say "Step 2 of
5" counting both, and the last rating page's "Save and continue" leads to the first ranking question not answered
yet (:func:`delphi.participation.paging.next_ranking`)."""

from __future__ import annotations

import re

from litestar import Controller, Request, Response, get, post
from litestar.di import Provide
from litestar.exceptions import HTTPException
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import Panellist
from delphi.errors import InvalidInput
from delphi.participation import checks, pages, paging, ranking, saving
from delphi.participation.issues import ConsentNeeded
from delphi.web.forms import read_form_multi
from delphi.web.ids import possible_id
from delphi.web.panellist.errors import EXCEPTION_HANDLERS
from delphi.web.panellist.rendering import chart_for, errors_of, gettext_for, render
from delphi.web.panellist.session import live_session, provide_panellist, remember_language

_FIELD = re.compile(r"^([scr])(\d{1,12})$")


def rating_inputs(form: dict[str, list[str]]) -> list[checks.RatingInput]:
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


def overlay(page: pages.RatingPage, inputs: list[checks.RatingInput]) -> None:
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


def _answered(rankings: list[ranking.RankingView]) -> list[tuple[int, bool]]:
    return [(r.id, r.answered) for r in rankings]


def resume_href(ov: pages.Overview, rankings: list[ranking.RankingView]) -> str | None:
    """Where the panel page's start or continue button leads: the first rating page with an unanswered
    statement; once all are answered, the first ranking question not answered yet; when everything is answered,
    the last rating page (or the first ranking question in a round of rankings only).  None when the round
    has neither (or before round 1)."""
    if ov.round is None or (ov.progress.total == 0 and not rankings):
        return None
    qid = paging.resume_ranking(
        ov.progress.answered >= ov.progress.total, _answered(rankings), 1 if ov.progress.total else 0
    )
    return f"/panel/rank/{qid}" if qid is not None else f"/panel/rate?page={ov.resume_page}"


def _rate_template(
    request: Request,
    panellist: Panellist,
    data: pages.RatingPage,
    rankings: list[ranking.RankingView],
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
        steps_total=len(data.pages) + len(rankings),
        next_ranking=paging.next_ranking(_answered(rankings)),
        chart=chart_for(request, panellist, data.scale.lo, data.agree_band),
        errors=errors or [],
    )


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


async def _json_body(request: Request) -> object:
    """The request's JSON; None when it is not JSON (an HTTP error such as 413 is raised as it is)."""
    try:
        return await request.json()
    except HTTPException:  # e.g. 413: the body is over the size limit
        raise
    except Exception:
        return None


class RatingController(Controller):
    """``/panel/rate`` and the background saves."""

    path = "/panel"
    include_in_schema = False
    dependencies = {"panellist": Provide(provide_panellist)}
    exception_handlers = EXCEPTION_HANDLERS  # type: ignore[assignment]

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
        rankings = await ranking.rankings_of_round(db_session, ov.round.id, panellist.id)
        return _rate_template(request, panellist, data, rankings)

    @post("/rate")
    async def save_page(
        self, request: Request, db_session: AsyncSession, panellist: Panellist, page: int | None = None
    ) -> Template | Redirect:
        form = await read_form_multi(request)
        inputs = rating_inputs(form)
        action = (form.get("action") or ["next"])[-1]
        try:
            await saving.save_ratings(db_session, panellist, inputs)
        except ConsentNeeded:
            return Redirect("/panel/consent", status_code=303)
        except InvalidInput as exc:
            data = await pages.load_rating_page(db_session, panellist, page)
            overlay(data, inputs)
            assert data.overview.round is not None  # load_rating_page requires one
            rankings = await ranking.rankings_of_round(db_session, data.overview.round.id, panellist.id)
            return _rate_template(
                request, panellist, data, rankings, errors=errors_of(exc, gettext_for(panellist))
            )
        current = page or 1
        if action == "previous":
            return Redirect(f"/panel/rate?page={max(1, current - 1)}", status_code=303)
        if action == "later":
            return Redirect("/panel?saved=1", status_code=303)
        specs = await pages.rating_pages(db_session, panellist)
        if action != "review" and current < len(specs):
            return Redirect(f"/panel/rate?page={current + 1}", status_code=303)
        if action != "review":  # past the last rating page: the ranking questions, then the review
            qid = paging.next_ranking(_answered(await ranking.round_rankings(db_session, panellist)))
            if qid is not None:
                return Redirect(f"/panel/rank/{qid}", status_code=303)
        return Redirect("/panel/review", status_code=303)

    @post("/ratings/{statement_id:int}", status_code=200)
    async def save_one(self, request: Request, statement_id: int) -> Response:
        """Background save of one answer; JSON in and out.

        Body: ``{"answer": 7 | "7" | "unable" | null, "comment": str | null, "reason": str | null}``
        (absent or null keeps the saved value).  Answer: ``{"statement_id", "value", "unable", "outside_iqr",
        "answered", "total", "saved_at"}``; a problem body with ``errors`` on a 4xx.

        The save goes through the process's :class:`~delphi.participation.save_queue.SaveQueue` (grouped with other
        panellists' saves in one transaction); whatever the queue does not save, from a bad value to an ended
        session, takes the full path in its own transaction (:func:`delphi.participation.saving.save_rating_alone`),
        which gives the precise answer.  A session that ran out or was signed out is a 401 problem
        (:class:`~delphi.participation.issues.SessionExpired`); the page's script shows its ``detail``.
        """
        found = live_session(request)  # raises SessionExpired past the lifetimes, before any query
        panellist_id, version, started = found.panellist_id, found.version, found.started
        body = await _json_body(request)
        item = (
            checks.RatingInput(statement_id, body.get("answer"), body.get("comment"), body.get("reason"))
            if isinstance(body, dict)
            else None
        )
        result = None
        if isinstance(panellist_id, int) and isinstance(version, int) and item is not None:
            stamp = checks.epoch_stamp(started)
            result = await request.app.state.save_queue.save(panellist_id, version, item, stamp)
        if result is None:
            result = await saving.save_rating_alone(
                request.app.state.engine,
                panellist_id,
                version,
                item,
                lambda panellist: remember_language(request, panellist),
                started,
            )
        return _saved(result)
