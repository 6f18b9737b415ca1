"""``/panel/ideas``: the open round's questions, answered in free text, several answers a question.

``GET /panel/ideas`` shows every question with the saved answers and one empty box each; ``POST /panel/ideas``
saves the whole page (no JavaScript needed): "Add another answer" is a submit button that saves the page and comes
back to its question (``?more=<id>``, where ``ideas.js`` puts the focus in the new empty box).  ``POST /panel/ideas/{question_id}/{slot}`` is the background save of one box (JSON in
and out, CSRF header ``x-csrftoken``), used by ``ideas.js`` as the panellist types.  The review of an open round
(:func:`review_page`) is shown by ``/panel/review`` (:mod:`.steps`).  No SQL: the use cases are
:mod:`delphi.participation.ideas`.
"""

from __future__ import annotations

import re

from litestar import Controller, Request, Response, get, post
from litestar.di import Provide
from litestar.exceptions import HTTPException
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import Panellist
from delphi.errors import InvalidInput
from delphi.participation import ideas
from delphi.participation.issues import N_, ConsentNeeded, fail
from delphi.web.forms import read_form_multi
from delphi.web.ids import possible_id
from delphi.web.panellist.errors import EXCEPTION_HANDLERS
from delphi.web.panellist.rendering import errors_of, gettext_for, render
from delphi.web.panellist.session import provide_panellist

_FIELD = re.compile(r"^a(\d{1,12})-(\d{1,3})$")
_MORE = re.compile(r"^more-(\d{1,12})$")


def idea_inputs(form: dict[str, list[str]]) -> list[ideas.IdeaInput]:
    """The ``a<question id>-<slot>`` fields as inputs, in first-seen order (other fields ignored)."""
    out = []
    for key, values in form.items():
        m = _FIELD.match(key)
        if m and possible_id(int(m.group(1))):
            out.append(ideas.IdeaInput(int(m.group(1)), int(m.group(2)), values[-1]))
    return out


def _page(
    request: Request,
    panellist: Panellist,
    data: ideas.IdeasPage,
    *,
    saved: bool = False,
    errors: list[tuple[str, str]] | None = None,
) -> Template:
    return render(
        request,
        "ideas.html",
        panellist,
        status_code=400 if errors else 200,
        panel=data.panel,
        data=data,
        saved=saved,
        field_name=ideas.field_name,
        errors=errors or [],
    )


async def review_page(
    request: Request, session: AsyncSession, panellist: Panellist, errors: list[tuple[str, str]] | None = None
) -> Template:
    """The review of an open round: every answer given, then "Send my answers" while the round is open."""
    data = await ideas.load_ideas(session, panellist)
    return render(
        request,
        "ideas_review.html",
        panellist,
        status_code=400 if errors else 200,
        panel=data.panel,
        data=data,
        errors=errors or [],
    )


async def _json_body(request: Request) -> object:
    try:
        return await request.json()
    except HTTPException:
        raise
    except Exception:
        return None


class IdeasController(Controller):
    """``/panel/ideas`` and its background saves."""

    path = "/panel/ideas"
    include_in_schema = False
    dependencies = {"panellist": Provide(provide_panellist)}
    exception_handlers = EXCEPTION_HANDLERS  # type: ignore[assignment]

    @get("/", name="panellist_ideas")
    async def show(
        self,
        request: Request,
        db_session: AsyncSession,
        panellist: Panellist,
        saved: int = 0,
    ) -> Template | Redirect:
        if panellist.consented_at is None:
            return Redirect("/panel/consent", status_code=303)
        if await ideas.answer_count(db_session, panellist) is None:
            return Redirect("/panel", status_code=303)
        data = await ideas.load_ideas(db_session, panellist)
        if not data.accepts_answers:
            return Redirect("/panel/review", status_code=303)
        return _page(request, panellist, data, saved=bool(saved))

    @post("/")
    async def save_page(
        self, request: Request, db_session: AsyncSession, panellist: Panellist
    ) -> Template | Redirect:
        form = await read_form_multi(request)
        items = idea_inputs(form)
        action = (form.get("action") or ["save"])[-1]
        try:
            await ideas.save_ideas(db_session, panellist, items)
        except ConsentNeeded:
            return Redirect("/panel/consent", status_code=303)
        except InvalidInput as exc:
            data = await ideas.load_ideas(db_session, panellist)
            ideas.overlay(data, items)
            return _page(request, panellist, data, errors=errors_of(exc, gettext_for(panellist)))
        more = _MORE.match(action)
        if more:
            qid = more.group(1)
            return Redirect(f"/panel/ideas?more={qid}#q{qid}", status_code=303)
        if action == "review":
            return Redirect("/panel/review", status_code=303)
        if action == "later":
            return Redirect("/panel?saved=1", status_code=303)
        return Redirect("/panel/ideas?saved=1", status_code=303)

    @post("/{question_id:int}/{slot:int}", status_code=200)
    async def save_one(
        self, request: Request, db_session: AsyncSession, panellist: Panellist, question_id: int, slot: int
    ) -> Response:
        """Background save of one box. Body ``{"text": str}`` ("" deletes the answer); answer ``{"question_id",
        "slot", "text", "answers", "saved_at"}``, or a problem body with ``errors`` on a 4xx."""
        body = await _json_body(request)
        if not isinstance(body, dict):
            raise fail(InvalidInput, N_("Send the answer as a JSON object."))
        saved = await ideas.save_idea(
            db_session, panellist, ideas.IdeaInput(question_id, slot, body.get("text"))
        )
        return Response(
            {
                "question_id": saved.question_id,
                "slot": saved.slot,
                "text": saved.text,
                "answers": saved.n_answers,
                "saved_at": saved.saved_at.isoformat(),
            }
        )
