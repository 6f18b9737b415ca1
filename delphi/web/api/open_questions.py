"""API of an open round 1 (idea generation): whether round 1 asks open questions or statements to rate, and its
open questions (read, add, edit, move, delete), for the panel's editors; readers (researchers too) read.

The same use cases as the open questions page (:mod:`delphi.panels.open_questions`), so the same rules, messages
and audit events: a question of 1 to :data:`~delphi.panels.open_questions.MAX_QUESTION` characters and a hint of
at most :data:`~delphi.panels.open_questions.MAX_HINT` once their spacing is collapsed (422 listing both problems
at once); every change only while round 1 is a draft (409 once it has opened, or when the panel has no round 1);
an unchanged kind or question records nothing.  A question that is another panel's, or none, is a 404.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from litestar import Response, delete, get, patch, post, put
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import Account
from delphi.db.models import OpenQuestion as OpenQuestionRow
from delphi.domain import Actor, RoundStatus
from delphi.errors import NotFound
from delphi.panels import open_questions as use
from delphi.web.api.problems import PROBLEMS, problem_spec
from delphi.web.guards import PanelAccess
from delphi.web.schemas import RowId

INVALID = {422: problem_spec("The question or its hint is empty or too long; `errors` lists every problem.")}
#: Refusals by round 1's state.
REFUSED = {
    409: problem_spec(
        "Round 1 has opened (its kind and open questions are fixed from then on) or the panel has no round 1; "
        "`detail` says so."
    )
}

_TEXT = (
    f"The question, 1 to {use.MAX_QUESTION} characters once its spacing is collapsed (NUL characters are "
    "dropped, as from the page's form)."
)
_HINT = f"A line of guidance shown under the question, at most {use.MAX_HINT} characters; empty for none."


class OpenQuestion(msgspec.Struct):
    """An open question of round 1: ``number`` is its place in the panel's order (from 1, as panellists see
    it), ``position`` the stored order key."""

    id: int
    number: int
    text: str
    hint: str
    position: int


class OpenQuestions(msgspec.Struct):
    """Round 1's set-up: what it asks (``"open"`` questions or statements to ``"rating"``; null when the panel
    has no round 1), whether it may still change (round 1 is a draft), and the open questions in their order
    (kept when round 1 asks statements, but asked only in an open round)."""

    kind: Literal["open", "rating"] | None
    editable: bool
    questions: list[OpenQuestion]


class RoundKindChoice(msgspec.Struct, forbid_unknown_fields=True):
    """What round 1 asks; only while it is a draft."""

    kind: Annotated[
        Literal["open", "rating"],
        msgspec.Meta(
            description="`open`: open questions answered in free text, whose answers become the statements of "
            "round 2; `rating`: statements to rate (and ranking questions)."
        ),
    ]


class NewOpenQuestion(msgspec.Struct, forbid_unknown_fields=True):
    """The body of a new open question; it comes last in the panel's order."""

    text: Annotated[str, msgspec.Meta(description=_TEXT)]
    hint: Annotated[str, msgspec.Meta(description=_HINT)] = ""


class OpenQuestionEdit(msgspec.Struct, forbid_unknown_fields=True):
    """The body of an edit: the fields to change; one left out keeps its value."""

    text: Annotated[str, msgspec.Meta(description=_TEXT)] | msgspec.UnsetType = msgspec.UNSET
    hint: Annotated[str, msgspec.Meta(description=_HINT)] | msgspec.UnsetType = msgspec.UNSET


class OpenQuestionMove(msgspec.Struct, forbid_unknown_fields=True):
    """One place up or down in the panel's order, as the page's arrows; at either end nothing changes."""

    direction: Annotated[
        Literal["up", "down"], msgspec.Meta(description="`up`: one place earlier; `down`: one place later.")
    ]


def _clean(text: str) -> str:
    """Text as the page's form reads it: without NUL characters (the use case collapses the spacing)."""
    return text.replace("\x00", "")


def _url(access: PanelAccess, question_id: int | None = None) -> str:
    """The API address of the panel's open questions, or of one of them."""
    base = f"/api/v1/panels/{access.panel.id}/open-questions"
    return base if question_id is None else f"{base}/{question_id}"


def _schemas(rows: list[OpenQuestionRow]) -> list[OpenQuestion]:
    return [OpenQuestion(q.id, n, q.text, q.hint, q.position) for n, q in enumerate(rows, start=1)]


async def _setup(session: AsyncSession, access: PanelAccess) -> OpenQuestions:
    first = await use.round_one(session, access.panel)
    return OpenQuestions(
        kind=None if first is None else first.kind,  # type: ignore[arg-type]
        editable=first is not None and first.status == RoundStatus.DRAFT,
        questions=_schemas(await use.list_questions(session, access.panel.id)),
    )


async def _question(session: AsyncSession, access: PanelAccess, question_id: int) -> OpenQuestion:
    """The panel's open question ``question_id`` with its place; 404 (the use case's words) when it has none."""
    for q in _schemas(await use.list_questions(session, access.panel.id)):
        if q.id == question_id:
            return q
    raise NotFound("There is no such open question on this panel.")


@get(
    "/panels/{panel_id:int}/open-questions",
    responses=PROBLEMS,
    summary="What round 1 asks, and its open questions in order",
)
async def list_open_questions(panel_access: PanelAccess, db_session: AsyncSession) -> OpenQuestions:
    return await _setup(db_session, panel_access)


@put(
    "/panels/{panel_id:int}/open-questions/kind",
    responses={**PROBLEMS, **REFUSED},
    summary="Make round 1 an open round or a rating round (facilitators; while round 1 is a draft)",
)
async def set_round_kind(
    panel_access: PanelAccess, data: RoundKindChoice, db_session: AsyncSession, account: Account
) -> OpenQuestions:
    """Round 1's set-up as it now is; choosing the kind it has already changes nothing and records nothing."""
    await use.set_round_kind(db_session, panel_access.panel, data.kind, Actor.account(account))
    await db_session.flush()
    return await _setup(db_session, panel_access)


@get(
    "/panels/{panel_id:int}/open-questions/{question_id:int}",
    responses=PROBLEMS,
    summary="An open question",
)
async def get_open_question(
    panel_access: PanelAccess, question_id: RowId, db_session: AsyncSession
) -> OpenQuestion:
    return await _question(db_session, panel_access, question_id)


@post(
    "/panels/{panel_id:int}/open-questions",
    status_code=201,
    responses={**PROBLEMS, **REFUSED, **INVALID},
    summary="Add an open question (facilitators; while round 1 is a draft)",
)
async def add_open_question(
    panel_access: PanelAccess, data: NewOpenQuestion, db_session: AsyncSession, account: Account
) -> Response[OpenQuestion]:
    question = await use.add_question(
        db_session, panel_access.panel, _clean(data.text), _clean(data.hint), Actor.account(account)
    )
    await db_session.flush()
    return Response(
        await _question(db_session, panel_access, question.id),
        status_code=201,
        headers={"Location": _url(panel_access, question.id)},
    )


@patch(
    "/panels/{panel_id:int}/open-questions/{question_id:int}",
    responses={**PROBLEMS, **REFUSED, **INVALID},
    summary="Edit an open question (facilitators; while round 1 is a draft)",
)
async def edit_open_question(
    panel_access: PanelAccess,
    question_id: RowId,
    data: OpenQuestionEdit,
    db_session: AsyncSession,
    account: Account,
) -> OpenQuestion:
    panel = panel_access.panel
    current = await use.get_question(db_session, panel, question_id)
    text = current.text if data.text is msgspec.UNSET else _clean(data.text)
    hint = current.hint if data.hint is msgspec.UNSET else _clean(data.hint)
    await use.edit_question(db_session, panel, question_id, text, hint, Actor.account(account))
    await db_session.flush()
    return await _question(db_session, panel_access, question_id)


@post(
    "/panels/{panel_id:int}/open-questions/{question_id:int}/move",
    status_code=200,
    responses={**PROBLEMS, **REFUSED},
    summary="Move an open question one place up or down (facilitators; while round 1 is a draft)",
)
async def move_open_question(
    panel_access: PanelAccess,
    question_id: RowId,
    data: OpenQuestionMove,
    db_session: AsyncSession,
    account: Account,
) -> OpenQuestions:
    """Round 1's set-up with the questions in their new order."""
    direction = -1 if data.direction == "up" else 1
    await use.move_question(db_session, panel_access.panel, question_id, direction, Actor.account(account))
    await db_session.flush()
    return await _setup(db_session, panel_access)


@delete(
    "/panels/{panel_id:int}/open-questions/{question_id:int}",
    responses={**PROBLEMS, **REFUSED},
    summary="Delete an open question (facilitators; while round 1 is a draft, before anyone answered)",
)
async def delete_open_question(
    panel_access: PanelAccess, question_id: RowId, db_session: AsyncSession, account: Account
) -> None:
    await use.delete_question(db_session, panel_access.panel, question_id, Actor.account(account))
    await db_session.flush()


HANDLERS: list[Any] = [
    list_open_questions,
    set_round_kind,
    get_open_question,
    add_open_question,
    edit_open_question,
    move_open_question,
    delete_open_question,
]
