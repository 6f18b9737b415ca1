"""An open round 1 (idea generation): choosing that round 1 asks open questions, and the questions themselves
(add, edit, delete, reorder), all while round 1 is a draft.

Only round 1 may be open: its free-text answers become the statements rated from round 2
(:mod:`delphi.panels.from_answers`).  Each function checks its input, changes rows in the caller's session,
writes an audit event and never commits; errors are :class:`~delphi.errors.DelphiError` subclasses with
messages for the facilitator (every problem of a form at once).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from delphi import audit
from delphi.db.models import OpenQuestion, Panel, Round
from delphi.domain import Actor, RoundKind, RoundStatus
from delphi.errors import Conflict, InvalidInput
from delphi.panels.ordering import move_one_place
from delphi.panels.owned import of_panel

#: Longest question and hint, in characters.
MAX_QUESTION = 1000
MAX_HINT = 500

KIND_WORDS = {RoundKind.OPEN: "open questions", RoundKind.RATING: "statements to rate"}


async def round_one(session: AsyncSession, panel: Panel) -> Round | None:
    """The panel's round 1, None when it has none."""
    return await session.scalar(select(Round).where(Round.panel_id == panel.id, Round.number == 1))


async def round_one_is_open_kind(session: AsyncSession, panel: Panel) -> bool:
    """Whether the panel's round 1 asks open questions."""
    first = await round_one(session, panel)
    return first is not None and first.kind == RoundKind.OPEN


async def _editable_round_one(session: AsyncSession, panel: Panel) -> Round:
    """Round 1 while it is a draft; Conflict once it has opened (its questions are fixed) or when there is none."""
    first = await round_one(session, panel)
    if first is None or first.status != RoundStatus.DRAFT:
        raise Conflict("Round 1 has opened, so its open questions can no longer change.")
    return first


async def set_round_kind(session: AsyncSession, panel: Panel, kind: str, actor: Actor) -> Round:
    """Make round 1 ask ``kind`` (``"open"`` or ``"rating"``, :class:`~delphi.domain.RoundKind`) while it is a
    draft.  InvalidInput for another kind; Conflict once round 1 has opened.  An unchanged kind records nothing."""
    try:
        wanted = RoundKind(kind)
    except ValueError:
        raise InvalidInput(
            "Choose whether round 1 asks open questions or statements to rate.", field="kind"
        ) from None
    first = await _editable_round_one(session, panel)
    if first.kind == wanted:
        return first
    first.kind = wanted
    audit.record(
        session,
        actor=actor,
        panel_id=panel.id,
        action="round.kind_set",
        detail={"round": 1, "kind": KIND_WORDS[wanted]},
    )
    return first


async def list_questions(session: AsyncSession, panel_id: int) -> list[OpenQuestion]:
    """The panel's open questions in their order (position, then id)."""
    rows = await session.scalars(
        select(OpenQuestion)
        .where(OpenQuestion.panel_id == panel_id)
        .order_by(OpenQuestion.position, OpenQuestion.id)
    )
    return list(rows.all())


def check_question(text: str, hint: str) -> tuple[str, str]:
    """``(text, hint)`` with spaces collapsed; InvalidInput listing every problem (``text`` required, 1 to
    :data:`MAX_QUESTION` characters; ``hint`` optional, at most :data:`MAX_HINT`)."""
    body = " ".join((text or "").split())
    note = " ".join((hint or "").split())
    errors = []
    if not 1 <= len(body) <= MAX_QUESTION:
        errors.append(("text", f"Enter the question (1 to {MAX_QUESTION} characters)."))
    if len(note) > MAX_HINT:
        errors.append(("hint", f"The hint can have at most {MAX_HINT} characters."))
    if errors:
        raise InvalidInput(errors[0][1], field=errors[0][0], errors=errors)
    return body, note


async def add_question(
    session: AsyncSession, panel: Panel, text: str, hint: str, actor: Actor
) -> OpenQuestion:
    """Add an open question last in the panel's order (round 1 must be a draft)."""
    body, note = check_question(text, hint)
    await _editable_round_one(session, panel)
    existing = await list_questions(session, panel.id)
    question = OpenQuestion(
        panel_id=panel.id,
        text=body,
        hint=note,
        position=(max(q.position for q in existing) + 1) if existing else 0,
    )
    session.add(question)
    await session.flush()
    audit.record(
        session,
        actor=actor,
        panel_id=panel.id,
        action="open_question.added",
        detail={"question_id": question.id},
    )
    return question


async def get_question(session: AsyncSession, panel: Panel, question_id: int) -> OpenQuestion:
    """An open question of ``panel``; NotFound for another panel's or an unknown id."""
    return await of_panel(session, OpenQuestion, question_id, panel, "open question")


async def edit_question(
    session: AsyncSession, panel: Panel, question_id: int, text: str, hint: str, actor: Actor
) -> OpenQuestion:
    """Change an open question's text and hint while round 1 is a draft; unchanged records nothing."""
    question = await get_question(session, panel, question_id)
    body, note = check_question(text, hint)
    await _editable_round_one(session, panel)
    if (body, note) == (question.text, question.hint):
        return question
    question.text, question.hint = body, note
    audit.record(
        session,
        actor=actor,
        panel_id=panel.id,
        action="open_question.edited",
        detail={"question_id": question.id},
    )
    return question


async def delete_question(session: AsyncSession, panel: Panel, question_id: int, actor: Actor) -> None:
    """Delete an open question while round 1 is a draft (no answers exist then)."""
    question = await get_question(session, panel, question_id)
    await _editable_round_one(session, panel)
    text = question.text
    await session.delete(question)
    await session.flush()
    audit.record(
        session,
        actor=actor,
        panel_id=panel.id,
        action="open_question.deleted",
        detail={"question_id": question_id, "text": text[:200]},
    )


async def move_question(
    session: AsyncSession, panel: Panel, question_id: int, direction: int, actor: Actor
) -> None:
    """Move an open question one place up (``direction`` < 0) or down (> 0); at either end nothing changes."""
    await get_question(session, panel, question_id)
    await _editable_round_one(session, panel)
    if not move_one_place(list(await list_questions(session, panel.id)), question_id, down=direction > 0):
        return
    audit.record(
        session,
        actor=actor,
        panel_id=panel.id,
        action="open_question.moved",
        detail={"question_id": question_id, "direction": "up" if direction < 0 else "down"},
    )
