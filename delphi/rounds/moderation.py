"""Between rounds: a facilitator reviews panellists' suggestions and moderates their comments and reasons.

Moderating a text is publishing it, hiding it, or editing it (:func:`redact`: the facilitator takes out what
could identify someone and keeps the rest; panellists only ever see the edited wording, and the original stays in
the audit trail). Each function changes rows in the caller's session and writes an audit event; none commits.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from delphi import audit
from delphi.db.models import Panel, Rating, Round, Statement, Suggestion, utcnow
from delphi.domain import Actor, CommentStatus, RoundStatus, StatementOrigin, SuggestionKind, SuggestionStatus
from delphi.errors import Conflict, InvalidInput, NotFound
from delphi.panels.numbering import panel_statement_labels
from delphi.panels.owned import of_panel
from delphi.panels.statements import add_statement, draft_round, get_statement, reword_statement
from delphi.rounds.lookup import get_round


async def review_suggestion(
    session: AsyncSession,
    panel: Panel,
    suggestion_id: int,
    decision: str,
    actor: Actor,
    *,
    text: str | None = None,
    merge_into: int | None = None,
) -> Statement | None:
    """Accept (as a new statement or a rewording, optionally edited), merge into an existing statement, or reject
    a panellist's suggestion.  Accepted statements enter the draft round with their provenance."""
    suggestion = await of_panel(session, Suggestion, suggestion_id, panel, "suggestion")
    if suggestion.status != SuggestionStatus.PENDING:
        raise Conflict(f"This suggestion was {suggestion.status} already.")
    origin_round = await session.scalar(select(Round.number).where(Round.id == suggestion.round_id))
    result: Statement | None = None
    if decision == "accept":
        draft = await draft_round(session, panel.id)
        if draft is None:
            raise Conflict(
                "No round is being prepared; suggestions are accepted into the next round's draft."
            )
        body = text if text and text.strip() else suggestion.text
        if suggestion.kind == SuggestionKind.REWORDING and suggestion.statement_id:
            original = await get_statement(session, panel, suggestion.statement_id)
            result = await reword_statement(
                session,
                panel,
                draft,
                original,
                body,
                original.section,
                actor,
                origin=StatementOrigin.PANELLIST,
                origin_round=origin_round,
            )
        else:
            result = await add_statement(
                session,
                panel,
                body,
                suggestion.section,
                actor,
                origin=StatementOrigin.PANELLIST,
                origin_round=origin_round,
            )
        suggestion.status = SuggestionStatus.ACCEPTED
        suggestion.result_statement_id = result.id
    elif decision == "merge":
        if merge_into is None:
            raise InvalidInput("Choose the statement this suggestion is merged into.", field="merge_into")
        target = await get_statement(session, panel, merge_into)
        suggestion.status = SuggestionStatus.MERGED
        suggestion.result_statement_id = target.id
    elif decision == "reject":
        suggestion.status = SuggestionStatus.REJECTED
    else:
        raise InvalidInput("Choose accept, merge or reject.", field="decision")
    suggestion.reviewed_at = utcnow()
    audit.record(
        session,
        actor=actor,
        panel_id=panel.id,
        action=f"suggestion.{suggestion.status}",
        detail={"suggestion_id": suggestion.id, "statement_id": suggestion.result_statement_id},
    )
    return result


#: What a facilitator moderates on a rating: the attribute with the text and the one with its status.
MODERATED = {"comment": ("comment", "comment_status"), "reason": ("reason", "reason_status")}


def may_publish(following_status: str | None) -> bool:
    """Whether round n's comments and reasons may still be published, given round n + 1's status (None when it
    does not exist): only until it opens, since its panellists see round n's feedback (pure)."""
    return following_status is None or following_status == RoundStatus.DRAFT


async def moderate(
    session: AsyncSession, panel: Panel, number: int, rating_id: int, what: str, publish: bool, actor: Actor
) -> Rating:
    """Publish (shown anonymously to panellists in the next round's feedback, and in exports and the report) or
    hide a rating's ``what``: its ``"comment"`` or its ``"reason"`` for a rating outside last round's middle
    half; returns the rating.

    Each text has its own status (``comment_status``, ``reason_status``): publishing a comment must not release
    a reason nobody has read, and either can identify someone on its own; an edited text goes back to pending.
    Publishing is refused (Conflict) once round ``number + 1`` has opened, since its panellists have seen round
    ``number``'s feedback; hiding is always allowed, so a text that identifies someone can be taken down at any
    time.  Raises NotFound when the rating is not in round ``number`` of the panel or has no such text.
    """
    text_attr, status_attr = MODERATED[what]
    round_ = await get_round(session, panel, number)
    rating = await session.get(Rating, rating_id)
    if rating is None or rating.round_id != round_.id or not getattr(rating, text_attr):
        raise NotFound(f"There is no such {what} in this round.")
    if publish:
        following = await session.scalar(
            select(Round.status).where(Round.panel_id == panel.id, Round.number == number + 1)
        )
        if not may_publish(following):
            raise Conflict(
                f"Round {number + 1} has opened, so {what}s from round {number} can no longer be published; "
                "you can still hide one."
            )
    setattr(rating, status_attr, CommentStatus.PUBLISHED if publish else CommentStatus.HIDDEN)
    audit.record(
        session,
        actor=actor,
        panel_id=panel.id,
        action=f"{what}.published" if publish else f"{what}.hidden",
        detail={"rating_id": rating.id, "round": round_.number},
    )
    return rating


def redaction_problems(text: str, limit: int, what: str) -> list[str]:
    """Why ``text`` cannot replace a ``what`` (``"comment"`` or ``"reason"``) at most ``limit`` characters long;
    [] when it can (pure).  ``text`` is taken as given: strip it first.

    Empty text is refused, since a text with nothing left to show is hidden, not edited; a text longer than a
    panellist may write is refused too, so an edit never stores what the rating page would not.
    """
    if not text:
        return [
            f"Enter the {what} as panellists should read it. To take the whole {what} down, hide it instead."
        ]
    if len(text) > limit:
        return [f"The edited {what} is {len(text):,} characters long; it can be at most {limit:,}."]
    return []


def clean_redaction(raw: str) -> str:
    """The edited wording as stored: NUL characters removed, Windows line ends made plain, ends stripped (pure)."""
    return raw.replace("\x00", "").replace("\r\n", "\n").strip()


async def redact(
    session: AsyncSession,
    panel: Panel,
    number: int,
    rating_id: int,
    what: str,
    text: str,
    actor: Actor,
    *,
    limit: int,
) -> Rating:
    """Replace a rating's ``what`` (``"comment"`` or ``"reason"``) with the facilitator's edited ``text`` and
    return the rating; its moderation status stays as it was (an edited published comment stays published).

    A comment gets ``comment_edited_at`` (now, UTC); the audit event ``<what>.redacted`` keeps the wording
    before and after (``original``, ``edited``) with the round, statement (id and label) and rating id, so the
    original survives only in the audit trail, which shows it to the panel's editors only.  Allowed at any time,
    like hiding: something that identifies someone can be taken out even after panellists saw it.  An edit that
    changes nothing records nothing.

    ``limit`` is the longest text a panellist may write there (``delphi.participation.checks.MAX_COMMENT`` or
    ``MAX_REASON``).  Raises NotFound when the rating is not in round ``number`` of the panel or has no such
    text, and InvalidInput (field ``text``) listing every problem of :func:`redaction_problems`.
    """
    text_attr, _ = MODERATED[what]
    round_ = await get_round(session, panel, number)
    rating = await session.get(Rating, rating_id)
    if rating is None or rating.round_id != round_.id or not getattr(rating, text_attr):
        raise NotFound(f"There is no such {what} in this round.")
    edited = clean_redaction(text)
    problems = redaction_problems(edited, limit, what)
    if problems:
        raise InvalidInput(problems[0], field="text", errors=[("text", p) for p in problems])
    original = getattr(rating, text_attr)
    if edited == original:
        return rating
    setattr(rating, text_attr, edited)
    if what == "comment":
        rating.comment_edited_at = utcnow()
    labels = await panel_statement_labels(session, panel.id)
    audit.record(
        session,
        actor=actor,
        panel_id=panel.id,
        action=f"{what}.redacted",
        detail={
            "rating_id": rating.id,
            "round": round_.number,
            "statement_id": rating.statement_id,
            "statement": labels.get(rating.statement_id, ""),
            "original": original,
            "edited": edited,
        },
    )
    return rating
