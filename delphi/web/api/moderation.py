"""API of a round's free text: comments and reasons, read (researchers: published ones only) and moderated
(facilitators: publish or hide with PUT, edit the wording with PATCH; one audit event each).

PATCH ``{"text": "..."}`` is the moderation page's edit form: the stored text becomes ``text`` and the original
goes to the audit trail (:func:`delphi.rounds.moderation.redact`); empty text or text longer than a panellist may
write is a 422 problem listing every problem."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import get, patch, put
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import Account
from delphi.domain import Actor, CommentStatus
from delphi.participation.checks import MAX_COMMENT, MAX_REASON
from delphi.results import comments, reasons
from delphi.results.frame import load_frame
from delphi.rounds import moderation
from delphi.web import schemas
from delphi.web.api.problems import CONFLICT, PROBLEMS, problem_spec
from delphi.web.guards import PanelAccess
from delphi.web.results import TEXT_LIMITS
from delphi.web.schemas import RoundNumber, RowId

INVALID = {422: problem_spec("The edited text is empty or too long; `errors` lists every problem.")}


#: Text with something to show once NUL characters and surrounding white space are removed.
_SHOWABLE = r"[^\s\x00]"


class Redaction(msgspec.Struct):
    """The body of an edit of a comment's wording."""

    text: Annotated[
        str,
        msgspec.Meta(
            description="The wording panellists should read from now on (empty text is refused: hide instead).",
            max_length=MAX_COMMENT,
            pattern=_SHOWABLE,
        ),
    ]


class ReasonRedaction(msgspec.Struct):
    """The body of an edit of a reason's wording."""

    text: Annotated[
        str,
        msgspec.Meta(
            description="The wording panellists should read from now on (empty text is refused: hide instead).",
            max_length=MAX_REASON,
            pattern=_SHOWABLE,
        ),
    ]


def comment_schema(c: comments.Comment) -> schemas.Comment:
    return schemas.Comment(c.rating_id, c.statement_id, c.pseudonym, c.group_id, c.text, c.status)


def reason_schema(r: reasons.Reason) -> schemas.Reason:
    return schemas.Reason(
        r.rating_id, r.statement_id, r.pseudonym, r.group_id, r.value, r.unable, r.text, r.status
    )


async def _moderate(
    db_session: AsyncSession,
    access: PanelAccess,
    account: Account,
    number: int,
    rating_id: int,
    what: str,
    data: schemas.Moderation,
) -> None:
    """Publish or hide a rating's ``what`` (``"comment"`` or ``"reason"``) as ``data`` asks, then flush."""
    publish = data.status == CommentStatus.PUBLISHED
    await moderation.moderate(
        db_session, access.panel, number, rating_id, what, publish, Actor.account(account)
    )
    await db_session.flush()


@get(
    "/panels/{panel_id:int}/rounds/{number:int}/comments",
    responses=PROBLEMS,
    summary="Comments of a round (researchers: published ones only)",
)
async def list_comments(
    panel_access: PanelAccess, number: RoundNumber, db_session: AsyncSession
) -> list[schemas.Comment]:
    frame = await load_frame(db_session, panel_access.panel)
    round_ = frame.round_numbered(number)
    rows = await comments.load_comments(db_session, round_.id, published_only=not panel_access.can_edit)
    return [comment_schema(c) for c in rows]


@put(
    "/panels/{panel_id:int}/rounds/{number:int}/comments/{rating_id:int}",
    responses={**PROBLEMS, **CONFLICT},
    summary="Publish or hide a comment (facilitators)",
)
async def moderate(
    panel_access: PanelAccess,
    number: RoundNumber,
    rating_id: RowId,
    data: schemas.Moderation,
    db_session: AsyncSession,
    account: Account,
) -> schemas.Comment:
    await _moderate(db_session, panel_access, account, number, rating_id, "comment", data)
    comment = await comments.load_comment(db_session, rating_id)
    assert comment is not None  # moderation.moderate found it
    return comment_schema(comment)


@get(
    "/panels/{panel_id:int}/rounds/{number:int}/reasons",
    responses={**PROBLEMS, **CONFLICT},
    summary="Reasons for ratings outside the previous round's middle half, in a closed round "
    "(researchers: published ones only)",
)
async def list_reasons(
    panel_access: PanelAccess, number: RoundNumber, db_session: AsyncSession
) -> list[schemas.Reason]:
    """The access of the round's results page: readers of the panel, once the round has closed."""
    frame = await load_frame(db_session, panel_access.panel)
    round_ = frame.closed_round(number)
    rows = await reasons.load_reasons(db_session, round_.id, published_only=not panel_access.can_edit)
    return [reason_schema(r) for r in rows]


@put(
    "/panels/{panel_id:int}/rounds/{number:int}/reasons/{rating_id:int}",
    responses={**PROBLEMS, **CONFLICT},
    summary="Publish or hide a reason (facilitators)",
)
async def moderate_reason_api(
    panel_access: PanelAccess,
    number: RoundNumber,
    rating_id: RowId,
    data: schemas.Moderation,
    db_session: AsyncSession,
    account: Account,
) -> schemas.Reason:
    await _moderate(db_session, panel_access, account, number, rating_id, "reason", data)
    reason = await reasons.load_reason(db_session, rating_id)
    assert reason is not None  # moderation.moderate found it
    return reason_schema(reason)


async def _redact(
    db_session: AsyncSession,
    access: PanelAccess,
    account: Account,
    number: int,
    rating_id: int,
    what: str,
    text: str,
) -> None:
    await moderation.redact(
        db_session,
        access.panel,
        number,
        rating_id,
        what,
        text,
        Actor.account(account),
        limit=TEXT_LIMITS[what],
    )
    await db_session.flush()


@patch(
    "/panels/{panel_id:int}/rounds/{number:int}/comments/{rating_id:int}",
    responses={**PROBLEMS, **INVALID},
    summary="Edit a comment's wording (facilitators; the original stays in the audit trail)",
)
async def redact_comment(
    panel_access: PanelAccess,
    number: RoundNumber,
    rating_id: RowId,
    data: Redaction,
    db_session: AsyncSession,
    account: Account,
) -> schemas.Comment:
    await _redact(db_session, panel_access, account, number, rating_id, "comment", data.text)
    comment = await comments.load_comment(db_session, rating_id)
    assert comment is not None  # moderation.redact found it and left it non-empty
    return comment_schema(comment)


@patch(
    "/panels/{panel_id:int}/rounds/{number:int}/reasons/{rating_id:int}",
    responses={**PROBLEMS, **INVALID},
    summary="Edit a reason's wording (facilitators; the original stays in the audit trail)",
)
async def redact_reason(
    panel_access: PanelAccess,
    number: RoundNumber,
    rating_id: RowId,
    data: ReasonRedaction,
    db_session: AsyncSession,
    account: Account,
) -> schemas.Reason:
    await _redact(db_session, panel_access, account, number, rating_id, "reason", data.text)
    reason = await reasons.load_reason(db_session, rating_id)
    assert reason is not None  # moderation.redact found it and left it non-empty
    return reason_schema(reason)


HANDLERS: list[Any] = [
    list_comments,
    moderate,
    list_reasons,
    moderate_reason_api,
    redact_comment,
    redact_reason,
]
