"""API of a panel's ranking questions as the team sets them up: list, read one, add, edit, add to or drop from
the draft round, delete, for the panel's editors (the list and a question are for every reader).

The same use cases as the ranking questions page (:mod:`delphi.panels.rankings`), so the same rules, messages
and audit events: a question of 1 to 2,000 characters and 2 to 12 items of at most 500 characters each, none
given twice (ignoring case), text and items with their spacing collapsed and blank items dropped; every problem
of a refused question at once (422).  A new question joins the round being prepared, if there is one, and none
is added once the panel has finished (409).  A question asked in an opened round (open or closed) is locked:
answers and frozen results refer to its items, so it is neither edited nor deleted (409 with the reason);
it can still be dropped from, or added again to, the draft round (409 while no round is being prepared).

The frozen results of a closed round's ranking questions are :mod:`delphi.web.api.rankings` (read only).
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Response, delete, get, patch, post
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import Account
from delphi.domain import Actor
from delphi.errors import NotFound
from delphi.panels import rankings as use
from delphi.web.api.problems import PROBLEMS, problem_spec
from delphi.web.guards import PanelAccess
from delphi.web.schemas import RowId

INVALID = {422: problem_spec("The ranking question is not acceptable; `errors` lists every problem.")}
#: Refusals by the panel's state or the question's past.
REFUSED = {
    409: problem_spec(
        "The panel has finished (no question is added), the question was asked in an opened round (it is no "
        "longer edited or deleted), or no round is being prepared (nothing joins or leaves a draft round); "
        "`detail` says which and what to do instead."
    )
}

_TEXT = (
    f"The question put to panellists, 1 to {use.MAX_QUESTION} characters once its spacing is collapsed, e.g. "
    "“Put these service changes in order of priority”."
)
_ITEMS = (
    f"The items to put in order, in the order panellists first see them: {use.MIN_ITEMS} to {use.MAX_ITEMS} "
    f"once blank ones are dropped, each at most {use.MAX_ITEM} characters once its spacing is collapsed, none "
    "given twice (ignoring case). Anything else is a 422 listing every problem."
)
_TIES = "Whether a panellist may give two items the same rank."


def _clean(text: str) -> str:
    """The text as the page's form reads it: without NUL characters."""
    return text.replace("\x00", "")


class NewRankingQuestion(msgspec.Struct, forbid_unknown_fields=True):
    """The body of a new ranking question; it comes last in the panel's order and joins the round being
    prepared, if there is one."""

    text: Annotated[str, msgspec.Meta(description=_TEXT)]
    items: Annotated[list[str], msgspec.Meta(description=_ITEMS)]
    allow_ties: Annotated[bool, msgspec.Meta(description=_TIES)] = False


class RankingQuestionEdit(msgspec.Struct, forbid_unknown_fields=True):
    """The body of an edit: the fields to change; one left out keeps its value.  New ``items`` replace the old
    ones by position (the first stays the first item); extra ones are added, missing ones removed from the
    end."""

    text: Annotated[str, msgspec.Meta(description=_TEXT)] | msgspec.UnsetType = msgspec.UNSET
    items: Annotated[list[str], msgspec.Meta(description=_ITEMS)] | msgspec.UnsetType = msgspec.UNSET
    allow_ties: Annotated[bool, msgspec.Meta(description=_TIES)] | msgspec.UnsetType = msgspec.UNSET


class RankingDraftChoice(msgspec.Struct, forbid_unknown_fields=True):
    """Whether the round being prepared asks the question; sending what is already so changes nothing."""

    include: Annotated[
        bool,
        msgspec.Meta(
            description="True (the default): the draft round asks it (a question retired after consensus "
            "becomes active again). False: the draft round no longer asks it."
        ),
    ] = True


class RankingItem(msgspec.Struct):
    """One item of a ranking question; ``position`` 0 is shown first."""

    id: int
    text: str
    position: int


class RankingQuestion(msgspec.Struct):
    """A ranking question as its set-up shows it.

    ``status`` is ``active``, or ``retired_in`` once a closed round found consensus on it (it is not asked
    again unless added back to a draft round);
    ``asked_in`` the numbers of the opened rounds (open or closed) that asked it, ascending; ``editable``
    whether it may still be edited or deleted (no opened round asked it); ``in_draft`` whether the round being
    prepared asks it.
    """

    id: int
    text: str
    position: int
    allow_ties: bool
    status: str
    items: list[RankingItem]
    asked_in: list[int]
    editable: bool
    in_draft: bool


def _schema(q: use.RankingListing) -> RankingQuestion:
    return RankingQuestion(
        id=q.question.id,
        text=q.question.text,
        position=q.question.position,
        allow_ties=q.question.allow_ties,
        status=str(q.question.status),
        items=[RankingItem(i.id, i.text, i.position) for i in q.items],
        asked_in=list(q.asked_in),
        editable=q.editable,
        in_draft=q.in_draft,
    )


def _url(access: PanelAccess, ranking_id: int) -> str:
    return f"/api/v1/panels/{access.panel.id}/rankings/{ranking_id}"


async def _question_schema(db_session: AsyncSession, access: PanelAccess, ranking_id: int) -> RankingQuestion:
    """The panel's ranking question ``ranking_id`` as the list shows it; 404 when the panel has no such
    question (the use cases' words)."""
    for q in await use.ranking_questions(db_session, access.panel.id):
        if q.question.id == ranking_id:
            return _schema(q)
    raise NotFound("There is no such ranking question on this panel.")


@get(
    "/panels/{panel_id:int}/rankings",
    responses=PROBLEMS,
    summary="Every ranking question with its items, whether it was asked and whether the draft round asks it",
)
async def list_ranking_questions(
    panel_access: PanelAccess, db_session: AsyncSession
) -> list[RankingQuestion]:
    """In the panel's order (by ``position``, then id); empty when the panel has none."""
    return [_schema(q) for q in await use.ranking_questions(db_session, panel_access.panel.id)]


@get("/panels/{panel_id:int}/rankings/{ranking_id:int}", responses=PROBLEMS, summary="A ranking question")
async def get_ranking_question(
    panel_access: PanelAccess, ranking_id: RowId, db_session: AsyncSession
) -> RankingQuestion:
    return await _question_schema(db_session, panel_access, ranking_id)


@post(
    "/panels/{panel_id:int}/rankings",
    status_code=201,
    responses={**PROBLEMS, **REFUSED, **INVALID},
    summary="Add a ranking question (facilitators; it joins the round being prepared)",
)
async def add_ranking_question(
    panel_access: PanelAccess, data: NewRankingQuestion, db_session: AsyncSession, account: Account
) -> Response[RankingQuestion]:
    question = await use.add_ranking_question(
        db_session,
        panel_access.panel,
        _clean(data.text),
        [_clean(item) for item in data.items],
        data.allow_ties,
        Actor.account(account),
    )
    await db_session.flush()
    return Response(
        await _question_schema(db_session, panel_access, question.id),
        status_code=201,
        headers={"Location": _url(panel_access, question.id)},
    )


@patch(
    "/panels/{panel_id:int}/rankings/{ranking_id:int}",
    responses={**PROBLEMS, **REFUSED, **INVALID},
    summary="Edit a ranking question (facilitators; until an opened round asks it)",
)
async def edit_ranking_question(
    panel_access: PanelAccess,
    ranking_id: RowId,
    data: RankingQuestionEdit,
    db_session: AsyncSession,
    account: Account,
) -> RankingQuestion:
    """The question as it now is.  An edit that changes nothing records no audit event, but is still refused
    (409) once an opened round asked the question."""
    panel = panel_access.panel
    current = await use.get_ranking_question(db_session, panel, ranking_id)
    text = current.text if data.text is msgspec.UNSET else _clean(data.text)
    if data.items is msgspec.UNSET:
        items = [i.text for i in await use.question_items(db_session, current.id)]
    else:
        items = [_clean(item) for item in data.items]
    allow_ties = current.allow_ties if data.allow_ties is msgspec.UNSET else data.allow_ties
    await use.edit_ranking_question(
        db_session, panel, ranking_id, text, items, allow_ties, Actor.account(account)
    )
    await db_session.flush()
    return await _question_schema(db_session, panel_access, ranking_id)


@post(
    "/panels/{panel_id:int}/rankings/{ranking_id:int}/draft",
    status_code=200,
    responses={**PROBLEMS, **REFUSED},
    summary="Add a ranking question to the draft round, or drop it from it (facilitators)",
)
async def set_ranking_in_draft(
    panel_access: PanelAccess,
    ranking_id: RowId,
    data: RankingDraftChoice,
    db_session: AsyncSession,
    account: Account,
) -> RankingQuestion:
    """The question with its ``in_draft`` as chosen; 409 while no round is being prepared."""
    await use.set_ranking_in_draft(
        db_session, panel_access.panel, ranking_id, data.include, Actor.account(account)
    )
    await db_session.flush()
    return await _question_schema(db_session, panel_access, ranking_id)


@delete(
    "/panels/{panel_id:int}/rankings/{ranking_id:int}",
    responses={**PROBLEMS, **REFUSED},
    summary="Delete a ranking question (facilitators; until an opened round asks it)",
)
async def delete_ranking_question(
    panel_access: PanelAccess, ranking_id: RowId, db_session: AsyncSession, account: Account
) -> None:
    await use.delete_ranking_question(db_session, panel_access.panel, ranking_id, Actor.account(account))
    await db_session.flush()


HANDLERS: list[Any] = [
    list_ranking_questions,
    get_ranking_question,
    add_ranking_question,
    edit_ranking_question,
    set_ranking_in_draft,
    delete_ranking_question,
]
