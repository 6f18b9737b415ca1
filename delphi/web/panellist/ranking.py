"""``/panel/rank/{question_id}``: one ranking question per page, answered with a labelled list of rank positions
per item (no dragging) or "Unable to rank", and saved as a whole (``POST`` the same address).

The ranking questions are the round's steps after its rating pages: the page says "Step 4 of 6" counting both,
"Save and continue" leads to the next question (the review after the last) and "Save and go back" to the
previous question, or to the last rating page from the first.  Going back or finishing later with nothing
chosen saves nothing and refuses nothing.

No SQL here: :mod:`delphi.participation.ranking` loads and saves.  Works without JavaScript and by keyboard
only; a refused answer re-shows the page (400) with the error summary and what was chosen, nothing saved.
"""

from __future__ import annotations

import re
from functools import partial

from litestar import Controller, Request, get, post
from litestar.di import Provide
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import Panellist
from delphi.errors import InvalidInput
from delphi.participation import pages, ranking
from delphi.participation.issues import ConsentNeeded
from delphi.web.forms import read_form_multi
from delphi.web.ids import possible_id
from delphi.web.panellist.errors import EXCEPTION_HANDLERS
from delphi.web.panellist.rank_chart import ordinal, place_text, rank_bars_svg
from delphi.web.panellist.rendering import errors_of, gettext_for, number_for, render, wording_of
from delphi.web.panellist.session import provide_panellist

_FIELD = re.compile(r"^i(\d{1,12})$")


def ranking_input(question_id: int, form: dict[str, list[str]]) -> ranking.RankingInput:
    """The posted answer: ``i<item id>`` fields (the last value of each) and ``unable=1``.  A field whose number
    no row can have is ignored (it names no item)."""
    ranks: dict[int, object] = {}
    for key, values in form.items():
        m = _FIELD.match(key)
        if m and possible_id(int(m.group(1))):
            ranks[int(m.group(1))] = values[-1]
    unable = (form.get("unable") or [""])[-1] == "1"
    return ranking.RankingInput(question_id, ranks, unable)


def overlay(page: ranking.RankingPage, answer: ranking.RankingInput) -> None:
    """Show what was posted (not saved) on a page re-shown with errors, so no choice is lost."""
    n = len(page.question.items)
    for item in page.question.items:
        raw = answer.ranks.get(item.id)
        text = raw.strip() if isinstance(raw, str) else ""
        item.rank = int(text) if text.isascii() and text.isdigit() and 1 <= int(text) <= n else None
    page.question.unable = answer.unable


def nothing_chosen(answer: ranking.RankingInput) -> bool:
    """No rank chosen for any item and not "unable": a form left as it was shown empty."""
    return not answer.unable and all(
        raw is None or (isinstance(raw, str) and not raw.strip()) for raw in answer.ranks.values()
    )


def previous_step(data: ranking.RankingPage) -> str:
    """The step before this question: the previous ranking question, else the last rating page, else (a round
    of rankings only) the panel page."""
    if data.previous_id is not None:
        return f"/panel/rank/{data.previous_id}"
    if data.rating_pages:
        return f"/panel/rate?page={data.rating_pages}"
    return "/panel"


def _page(
    request: Request,
    panellist: Panellist,
    data: ranking.RankingPage,
    errors: list[tuple[str, str]] | None = None,
) -> Template:
    gettext = gettext_for(panellist)
    words = {"item_text": wording_of(request).item, "number": number_for(request, panellist)}
    return render(
        request,
        "rank.html",
        panellist,
        status_code=400 if errors else 200,
        panel=data.overview.panel,
        ov=data.overview,
        data=data,
        q=data.question,
        rank_chart=partial(rank_bars_svg, gettext=gettext, **words),
        place_text=partial(place_text, gettext=gettext, **words),
        ordinal=partial(ordinal, gettext=gettext),
        errors=errors or [],
    )


class PanellistRankingController(Controller):
    """``/panel/rank/{question_id}``: show and save one ranking question."""

    path = "/panel"
    include_in_schema = False
    dependencies = {"panellist": Provide(provide_panellist)}
    exception_handlers = EXCEPTION_HANDLERS  # type: ignore[assignment]

    @get("/rank/{question_id:int}", name="panellist_rank")
    async def rank_page(
        self, request: Request, db_session: AsyncSession, panellist: Panellist, question_id: int
    ) -> Template | Redirect:
        """The question's page; a question the current round does not ask (unknown, or another panel's) is the
        same 404 page whoever's it is.  Before consent: the consent page; before round 1: the panel page;
        once the round closed: the review of the answers."""
        if panellist.consented_at is None:
            return Redirect("/panel/consent", status_code=303)
        ov = await pages.overview(db_session, panellist)
        if ov.round is None:
            return Redirect("/panel", status_code=303)
        data = await ranking.load_rank_page(db_session, panellist, question_id)
        if not data.overview.accepts_answers:
            return Redirect("/panel/review", status_code=303)
        return _page(request, panellist, data)

    @post("/rank/{question_id:int}")
    async def save(
        self, request: Request, db_session: AsyncSession, panellist: Panellist, question_id: int
    ) -> Template | Redirect:
        """Save the answer; then the next ranking question of the round, or the review page after the last
        (``action=later``: the panel page; ``action=previous``: :func:`previous_step`).  Going back or
        finishing later with nothing chosen saves nothing (an empty form is not refused then)."""
        form = await read_form_multi(request)
        answer = ranking_input(question_id, form)
        action = (form.get("action") or ["next"])[-1]
        saved: ranking.RankingSaved | None = None
        shown: ranking.RankingPage | None = None
        try:
            if action in ("previous", "later") and nothing_chosen(answer):
                shown = await ranking.load_rank_page(db_session, panellist, question_id)  # a question asked
            else:
                saved = await ranking.save_ranking(
                    db_session, panellist, answer, item_text=wording_of(request).item
                )
        except ConsentNeeded:
            return Redirect("/panel/consent", status_code=303)
        except InvalidInput as exc:
            data = await ranking.load_rank_page(db_session, panellist, question_id)
            overlay(data, answer)
            return _page(request, panellist, data, errors=errors_of(exc, gettext_for(panellist)))
        if action == "later":
            return Redirect("/panel?saved=1", status_code=303)
        if action == "previous":
            if shown is None:
                shown = await ranking.load_rank_page(db_session, panellist, question_id)
            return Redirect(previous_step(shown), status_code=303)
        if saved is not None and saved.next_id is not None:
            return Redirect(f"/panel/rank/{saved.next_id}", status_code=303)
        return Redirect("/panel/review", status_code=303)
