"""API of an open round's answers (``/panels/{id}/rounds/{number}/answers``): every answer per question side by
side with its theme and pseudonym, and what the answers page does with them: group chosen answers under a theme,
and draft a statement for the next round from a theme and/or hand-picked answers, with its provenance.

Readers (researchers too) read; grouping and drafting are for the panel's editors.  The read model is
:func:`delphi.results.ideas.load_answers` (and :func:`~delphi.results.ideas.load_provenance`), the changes
:mod:`delphi.panels.from_answers`, so the page's rules, messages and audit events: every problem of a refused
request at once (422, ``errors`` naming the body's fields), a statement drafted only once the open round has
closed and the next round is being prepared (409 before).  A round that is not the panel's open round is a 404,
as on the page.  Answers carry pseudonyms, never names or addresses, and are never shown to panellists.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Response, get, post
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import Account
from delphi.domain import Actor
from delphi.errors import NotFound
from delphi.panels import from_answers, imports
from delphi.panels.statements import draft_round
from delphi.results import ideas
from delphi.web import schemas
from delphi.web.api.problems import PROBLEMS, problem_spec
from delphi.web.api.statements import statement_schema
from delphi.web.guards import PanelAccess
from delphi.web.schemas import MAX_ID, RoundNumber

#: Most answers one request may name (the answers of 1,000 panellists to ten questions, one each).
MAX_CHOSEN = 10_000

THEME_INVALID = {
    422: problem_spec(
        "No answer chosen, one that is not this open round's, or a theme too long; `errors` says."
    )
}
DRAFT_INVALID = {
    422: problem_spec(
        "The statement's text or section, or what it is made from (an unknown theme, nothing chosen, an answer "
        "that is not this open round's), cannot be accepted; `errors` lists every problem."
    )
}
THEME_REFUSED = {409: problem_spec("The panel has no open round, so there are no answers to group.")}
DRAFT_REFUSED = {
    409: problem_spec(
        "The open round has not closed yet (statements made from its answers go into the next round, drafted "
        "when it closes), or the next round is no longer being prepared."
    )
}

AnswerId = Annotated[int, msgspec.Meta(ge=1, le=MAX_ID)]
_CHOSEN = msgspec.Meta(
    max_length=MAX_CHOSEN,
    description="Ids of answers of this open round (each answer's `id`); repeats count once.",
)


class Answer(msgspec.Struct):
    """One answer: ``slot`` is which of the panellist's answers to the question it is (from 1); ``theme`` is ""
    while ungrouped; ``in_population`` false when the panel's analysis population leaves it out (a panellist
    who did not submit, when only submitted answers count); ``statement_ids`` the statements drafted from it;
    ``language`` the language it was written in ("" when not recorded)."""

    id: int
    question_id: int
    slot: int
    text: str
    theme: str
    pseudonym: str
    group: str
    in_population: bool
    statement_ids: list[int]
    language: str


class QuestionAnswers(msgspec.Struct):
    """An open question (``number`` its place, from 1) and every answer to it, by pseudonym then slot."""

    id: int
    number: int
    text: str
    hint: str
    answers: list[Answer]


class ThemeCount(msgspec.Struct):
    """A theme in use and how many answers have it."""

    theme: str
    answers: int


class StatementVersion(msgspec.Struct):
    """One wording of a drafted statement: its number as on every page (``S4``, ``S4.2`` for its second
    wording), its status and the verdict of the last closed round that asked it (null when none did)."""

    statement_id: int
    label: str
    version: int
    parent_id: int | None
    text: str
    status: str
    verdict: str | None


class MadeFromAnswers(msgspec.Struct):
    """A statement drafted from answers: the answers it was made from and every version of it, the draft first
    and the final wording last."""

    statement_id: int
    label: str
    answer_ids: list[int]
    versions: list[StatementVersion]


class OpenAnswers(msgspec.Struct):
    """The open round's answers side by side: the round's number and status, the analysis population the
    ``in_population`` marks refer to ("submitted" or "all"), how many answers there are, the themes in use
    (alphabetical), every question with its answers, and the statements drafted from them (in id order)."""

    round: int
    status: str
    analysis_population: str
    n_answers: int
    themes: list[ThemeCount]
    questions: list[QuestionAnswers]
    statements: list[MadeFromAnswers]


class ThemeChoice(msgspec.Struct, forbid_unknown_fields=True):
    """Give the chosen answers a theme, as the answers page's "Group under a theme"."""

    answers: Annotated[list[AnswerId], _CHOSEN]
    theme: Annotated[
        str,
        msgspec.Meta(
            description=f"The theme, at most {from_answers.MAX_THEME} characters once its spacing is collapsed; "
            "empty to ungroup the answers."
        ),
    ]


class Themed(msgspec.Struct):
    """How many answers were given the theme, and the themes in use now (alphabetical)."""

    changed: int
    themes: list[ThemeCount]


class NewDraftStatement(msgspec.Struct, forbid_unknown_fields=True):
    """A statement for the next round made from the answers of a theme and/or hand-picked answers (at least
    one of the two), as the answers page's "Make a draft statement"."""

    text: Annotated[
        str,
        msgspec.Meta(
            description=f"The statement, 1 to {imports.MAX_STATEMENT} characters once its spacing is collapsed."
        ),
    ]
    section: Annotated[
        str,
        msgspec.Meta(description="The section it belongs to, at most 200 characters; empty for none."),
    ] = ""
    from_theme: Annotated[
        str, msgspec.Meta(description="A theme in use: every answer that has it is a source. Empty for none.")
    ] = ""
    answers: Annotated[list[AnswerId], _CHOSEN] = msgspec.field(default_factory=list)


class DraftStatement(msgspec.Struct):
    """The statement drafted (``origin`` "open_round"), its number, the round it joined, and the ids of the
    answers it was made from (its provenance)."""

    statement: schemas.Statement
    label: str
    round: int
    answer_ids: list[int]


def _clean(text: str) -> str:
    """Text as the page's form reads it: without NUL characters (the use cases collapse the spacing)."""
    return text.replace("\x00", "")


def _themes(review: ideas.IdeasReview) -> list[ThemeCount]:
    return [ThemeCount(name, n) for name, n in review.themes]


async def _review(session: AsyncSession, access: PanelAccess, number: int) -> tuple[ideas.IdeasReview, str]:
    """The panel's open round's answers and the round's status; 404 (the page's words) unless round ``number``
    is its open round."""
    review = await ideas.load_answers(session, access.panel)
    if review.round is None or review.round.number != number:
        raise NotFound(f"Round {number} of this panel is not an open round, so it has no answers to show.")
    return review, review.round.status


def _provenance(p: ideas.Provenance) -> MadeFromAnswers:
    return MadeFromAnswers(
        statement_id=p.statement_id,
        label=p.label,
        answer_ids=[a.id for a in p.sources],
        versions=[
            StatementVersion(v.statement_id, v.label, v.version, v.parent_id, v.text, v.status, v.verdict)
            for v in p.versions
        ],
    )


@get(
    "/panels/{panel_id:int}/rounds/{number:int}/answers",
    responses=PROBLEMS,
    summary="An open round's answers side by side, their themes and the statements drafted from them",
)
async def get_answers(
    panel_access: PanelAccess, number: RoundNumber, db_session: AsyncSession
) -> OpenAnswers:
    review, status = await _review(db_session, panel_access, number)
    made = await ideas.load_provenance(db_session, panel_access.panel)
    return OpenAnswers(
        round=number,
        status=status,
        analysis_population=review.population,
        n_answers=review.n_answers,
        themes=_themes(review),
        questions=[
            QuestionAnswers(
                q.id,
                q.number,
                q.text,
                q.hint,
                [
                    Answer(
                        a.id,
                        a.question_id,
                        a.slot,
                        a.text,
                        a.theme,
                        a.pseudonym,
                        a.group,
                        a.in_population,
                        list(a.statement_ids),
                        a.language,
                    )
                    for a in q.answers
                ],
            )
            for q in review.questions
        ],
        statements=[_provenance(p) for p in made],
    )


@post(
    "/panels/{panel_id:int}/rounds/{number:int}/answers/theme",
    status_code=200,
    responses={**PROBLEMS, **THEME_REFUSED, **THEME_INVALID},
    summary="Group chosen answers under a theme, or ungroup them (facilitators)",
)
async def set_theme(
    panel_access: PanelAccess,
    number: RoundNumber,
    data: ThemeChoice,
    db_session: AsyncSession,
    account: Account,
) -> Themed:
    """Giving answers the theme they have counts them as changed too, as on the page."""
    await _review(db_session, panel_access, number)
    changed = await from_answers.set_theme(
        db_session, panel_access.panel, data.answers, _clean(data.theme), Actor.account(account)
    )
    await db_session.flush()
    return Themed(changed, _themes(await ideas.load_answers(db_session, panel_access.panel)))


@post(
    "/panels/{panel_id:int}/rounds/{number:int}/answers/statements",
    status_code=201,
    responses={**PROBLEMS, **DRAFT_REFUSED, **DRAFT_INVALID},
    summary="Draft a statement for the next round from a theme or chosen answers (facilitators)",
)
async def make_statement(
    panel_access: PanelAccess,
    number: RoundNumber,
    data: NewDraftStatement,
    db_session: AsyncSession,
    account: Account,
) -> Response[DraftStatement]:
    """The statement joins the round being prepared like one added on the statements page (``Location`` is
    its address in the statements API), with one source per answer of the theme and per chosen answer."""
    panel = panel_access.panel
    await _review(db_session, panel_access, number)
    statement = await from_answers.make_statement(
        db_session,
        panel,
        _clean(data.text),
        _clean(data.section),
        Actor.account(account),
        theme=_clean(data.from_theme),
        answer_ids=data.answers,
    )
    await db_session.flush()
    draft = await draft_round(db_session, panel.id)
    made = next(p for p in await ideas.load_provenance(db_session, panel) if p.statement_id == statement.id)
    return Response(
        DraftStatement(
            statement=statement_schema(statement),
            label=made.label,
            round=draft.number if draft is not None else 0,
            answer_ids=[a.id for a in made.sources],
        ),
        status_code=201,
        headers={"Location": f"/api/v1/panels/{panel.id}/statements/{statement.id}"},
    )


HANDLERS: list[Any] = [get_answers, set_theme, make_statement]
