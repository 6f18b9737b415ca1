"""API of a panel's baseline questions (the panellists' characteristics, asked once after consent): the list,
one question, add, edit, move one place up or down, delete.

The same use cases as the baseline page (:mod:`delphi.panels.baseline`), so the same rules, messages and audit
events: every problem of a refused question at once (422, by field ``kind``, ``text``, ``choices``, ``unit``);
once any panellist has answered a question its kind and choices are fixed (409: the answers refer to the
choices by their wording) while its wording, and a number's unit, stay correctable; deleting a question deletes
its answers with it (the audit event says how many).  Reading is for every role on the panel, researchers
too; changing for the panel's editors.  A question that is another panel's, or none, is a 404.

The choices go as a list, one choice per item, where the page takes one per line: each item's spacing is
collapsed and blank items are dropped, as the page drops blank lines; an item may hold no line break (it
would be two choices on the page).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from litestar import Response, delete, get, patch, post
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import Account
from delphi.domain import Actor
from delphi.errors import NotFound
from delphi.panels import baseline as use
from delphi.web.api.problems import PROBLEMS, problem_spec
from delphi.web.guards import PanelAccess
from delphi.web.schemas import RowId

INVALID = {422: problem_spec("The question is not acceptable as sent; `errors` lists every problem.")}
LOCKED = {
    409: problem_spec(
        "Panellists have answered the question, so its kind and choices cannot change (its wording can); "
        "`detail` says how many answered."
    )
}

#: The kinds of question, as stored and answered.
Kind = Literal["single", "multiple", "number", "text"]
#: What splits a text into lines (:meth:`str.splitlines`), so what no single choice may hold.
_LINE_BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
Choice = Annotated[str, msgspec.Meta(pattern=f"^[^{_LINE_BREAKS}]*$")]

_KIND = (
    "`single`: one choice (radio buttons); `multiple`: several choices (tick boxes); `number`: a number; "
    "`text`: a free text (not tabulated in the report; in the export only)."
)
_TEXT = f"The question, 1 to {use.MAX_TEXT_LENGTH} characters once its spacing is collapsed."
_CHOICES = (
    f"For `single` and `multiple`: {use.MIN_CHOICES} to {use.MAX_CHOICES} different choices (ignoring case), "
    f"each at most {use.MAX_CHOICE_LENGTH} characters once its spacing is collapsed; blank ones are dropped. "
    "Ignored for the other kinds."
)
_UNIT = (
    f"For `number`: what the number counts (e.g. `years`), at most {use.MAX_UNIT_LENGTH} characters. "
    "Ignored for the other kinds."
)


class BaselineQuestion(msgspec.Struct):
    """A baseline question in the panel's order (``position`` from 0).  ``answers``: how many panellists
    answered it; ``locked``: someone did, so its ``kind`` and ``choices`` can no longer change."""

    id: int
    kind: str
    text: str
    choices: list[str]
    unit: str
    position: int
    answers: int
    locked: bool


class NewBaselineQuestion(msgspec.Struct, forbid_unknown_fields=True):
    """The body of a new question; it comes last in the panel's order."""

    kind: Annotated[Kind, msgspec.Meta(description=_KIND)]
    text: Annotated[str, msgspec.Meta(description=_TEXT)]
    choices: Annotated[list[Choice], msgspec.Meta(description=_CHOICES)] = []
    unit: Annotated[str, msgspec.Meta(description=_UNIT)] = ""


class BaselineQuestionEdit(msgspec.Struct, forbid_unknown_fields=True):
    """The body of an edit: the fields to change; one left out keeps its value.  Once the question has been
    answered, only ``text`` and ``unit`` may differ from what is stored (409 otherwise)."""

    kind: Annotated[Kind, msgspec.Meta(description=_KIND)] | msgspec.UnsetType = msgspec.UNSET
    text: Annotated[str, msgspec.Meta(description=_TEXT)] | msgspec.UnsetType = msgspec.UNSET
    choices: Annotated[list[Choice], msgspec.Meta(description=_CHOICES)] | msgspec.UnsetType = msgspec.UNSET
    unit: Annotated[str, msgspec.Meta(description=_UNIT)] | msgspec.UnsetType = msgspec.UNSET


class BaselineQuestionMove(msgspec.Struct, forbid_unknown_fields=True):
    """One place up or down in the panel's order, as the page's arrows; at either end nothing changes."""

    direction: Annotated[
        Literal["up", "down"], msgspec.Meta(description="`up`: one place earlier; `down`: one place later.")
    ]


def _clean(text: str) -> str:
    """Text as the page's form reads it: without NUL characters (the use case collapses the spacing)."""
    return text.replace("\x00", "")


def _lines(choices: list[str]) -> str:
    """The choices as the page's text area sends them: one per line."""
    return "\n".join(_clean(c) for c in choices)


def _url(access: PanelAccess, question_id: int) -> str:
    return f"/api/v1/panels/{access.panel.id}/baseline/{question_id}"


async def _all(session: AsyncSession, access: PanelAccess) -> list[BaselineQuestion]:
    """The panel's questions in their order, each with its count of answers."""
    return [
        BaselineQuestion(q.id, q.kind, q.text, list(q.choices), q.unit, q.position, n, n > 0)
        for q, n in await use.questions_with_answers(session, access.panel.id)
    ]


async def _one(session: AsyncSession, access: PanelAccess, question_id: int) -> BaselineQuestion:
    """The panel's question ``question_id``; 404 (the use case's words) when it has none of that id."""
    for q in await _all(session, access):
        if q.id == question_id:
            return q
    raise NotFound("There is no such baseline question on this panel.")


@get("/panels/{panel_id:int}/baseline", responses=PROBLEMS, summary="The baseline questions, in order")
async def list_baseline_questions(
    panel_access: PanelAccess, db_session: AsyncSession
) -> list[BaselineQuestion]:
    return await _all(db_session, panel_access)


@get(
    "/panels/{panel_id:int}/baseline/{question_id:int}",
    responses=PROBLEMS,
    summary="A baseline question",
)
async def get_baseline_question(
    panel_access: PanelAccess, question_id: RowId, db_session: AsyncSession
) -> BaselineQuestion:
    return await _one(db_session, panel_access, question_id)


@post(
    "/panels/{panel_id:int}/baseline",
    status_code=201,
    responses={**PROBLEMS, **INVALID},
    summary="Add a baseline question (facilitators)",
)
async def add_baseline_question(
    panel_access: PanelAccess, data: NewBaselineQuestion, db_session: AsyncSession, account: Account
) -> Response[BaselineQuestion]:
    question = await use.add_question(
        db_session,
        panel_access.panel,
        Actor.account(account),
        kind=data.kind,
        text=_clean(data.text),
        choices=_lines(data.choices),
        unit=_clean(data.unit),
    )
    await db_session.flush()
    return Response(
        await _one(db_session, panel_access, question.id),
        status_code=201,
        headers={"Location": _url(panel_access, question.id)},
    )


@patch(
    "/panels/{panel_id:int}/baseline/{question_id:int}",
    responses={**PROBLEMS, **LOCKED, **INVALID},
    summary="Edit a baseline question (facilitators; once answered, only its wording and unit)",
)
async def edit_baseline_question(
    panel_access: PanelAccess,
    question_id: RowId,
    data: BaselineQuestionEdit,
    db_session: AsyncSession,
    account: Account,
) -> BaselineQuestion:
    """The question as it now is; an edit that changes nothing records nothing."""
    current = await _one(db_session, panel_access, question_id)
    await use.edit_question(
        db_session,
        panel_access.panel,
        question_id,
        Actor.account(account),
        kind=current.kind if data.kind is msgspec.UNSET else data.kind,
        text=current.text if data.text is msgspec.UNSET else _clean(data.text),
        choices=_lines(current.choices if data.choices is msgspec.UNSET else data.choices),
        unit=current.unit if data.unit is msgspec.UNSET else _clean(data.unit),
    )
    await db_session.flush()
    return await _one(db_session, panel_access, question_id)


@post(
    "/panels/{panel_id:int}/baseline/{question_id:int}/move",
    status_code=200,
    responses=PROBLEMS,
    summary="Move a baseline question one place up or down (facilitators)",
)
async def move_baseline_question(
    panel_access: PanelAccess,
    question_id: RowId,
    data: BaselineQuestionMove,
    db_session: AsyncSession,
    account: Account,
) -> list[BaselineQuestion]:
    """Every question in the new order (unchanged, and nothing recorded, when it was at that end already)."""
    await use.move_question(
        db_session, panel_access.panel, question_id, data.direction, Actor.account(account)
    )
    await db_session.flush()
    return await _all(db_session, panel_access)


@delete(
    "/panels/{panel_id:int}/baseline/{question_id:int}",
    responses=PROBLEMS,
    summary="Delete a baseline question and its answers (facilitators)",
)
async def delete_baseline_question(
    panel_access: PanelAccess, question_id: RowId, db_session: AsyncSession, account: Account
) -> None:
    await use.delete_question(db_session, panel_access.panel, question_id, Actor.account(account))
    await db_session.flush()


HANDLERS: list[Any] = [
    list_baseline_questions,
    get_baseline_question,
    add_baseline_question,
    edit_baseline_question,
    move_baseline_question,
    delete_baseline_question,
]
