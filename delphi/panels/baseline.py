"""A panel's baseline questions (the panellists' characteristics, asked once at consent time): add, edit, delete
and reorder them.

Each function checks its input (every problem at once, as :class:`~delphi.errors.InvalidInput` errors keyed by
the form's fields ``kind``, ``text``, ``choices``, ``unit``), changes rows in the caller's session, writes an
audit event and never commits.  Once any panellist has answered a question its kind and choices are fixed (the
answers refer to the choices by their wording); its wording, and a number's unit, may still be corrected.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from delphi import audit
from delphi.db.models import BaselineAnswer, BaselineQuestion, Panel
from delphi.domain import Actor, BaselineKind
from delphi.errors import Conflict, InvalidInput
from delphi.panels.ordering import move_one_place
from delphi.panels.owned import of_panel

__all__ = [
    "MAX_CHOICES",
    "MAX_CHOICE_LENGTH",
    "MAX_TEXT_LENGTH",
    "QuestionDraft",
    "add_question",
    "check_question",
    "delete_question",
    "edit_question",
    "move_question",
    "parse_choices",
    "questions_with_answers",
]

MIN_CHOICES, MAX_CHOICES, MAX_CHOICE_LENGTH = 2, 20, 200
MAX_TEXT_LENGTH, MAX_UNIT_LENGTH = 500, 50
CHOICE_KINDS = frozenset({BaselineKind.SINGLE, BaselineKind.MULTIPLE})


@dataclass(frozen=True, slots=True)
class QuestionDraft:
    """A checked question: ``kind`` a :class:`BaselineKind` value, ``text`` (1-500 characters, spaces
    collapsed), ``choices`` (2-20 for single and multiple choice, else ()), ``unit`` (number questions only)."""

    kind: str
    text: str
    choices: tuple[str, ...]
    unit: str


def parse_choices(raw: str) -> list[str]:
    """The choices typed one per line: each line's spaces collapsed, empty lines dropped, order kept."""
    return [line for line in (" ".join(part.split()) for part in (raw or "").splitlines()) if line]


def check_question(kind: str, text: str, choices: str, unit: str) -> QuestionDraft:
    """Check a question as typed in the form; InvalidInput listing every problem at once.

    ``choices`` is the form's text, one choice per line (read only for single and multiple choice); ``unit``
    labels a number ("years", at most 50 characters; ignored for other kinds).
    """
    errors: list[tuple[str, str]] = []
    kinds = {k.value for k in BaselineKind}
    if kind not in kinds:
        errors.append(
            ("kind", "Choose the kind of question: one choice, several choices, a number or a text.")
        )
    wording = " ".join((text or "").split())
    if not 1 <= len(wording) <= MAX_TEXT_LENGTH:
        errors.append(("text", f"Enter the question, in 1 to {MAX_TEXT_LENGTH} characters."))
    parsed: list[str] = []
    if kind in CHOICE_KINDS:
        parsed = parse_choices(choices)
        if not MIN_CHOICES <= len(parsed) <= MAX_CHOICES:
            errors.append(
                (
                    "choices",
                    f"Enter {MIN_CHOICES} to {MAX_CHOICES} choices, one per line ({len(parsed)} given).",
                )
            )
        long = [i + 1 for i, c in enumerate(parsed) if len(c) > MAX_CHOICE_LENGTH]
        if long:
            lines = ", ".join(map(str, long))
            errors.append(("choices", f"Shorten choice {lines} to at most {MAX_CHOICE_LENGTH} characters."))
        folded = [c.casefold() for c in parsed]
        twice = sorted(
            {c for c, f in zip(parsed, folded, strict=True) if folded.count(f) > 1}, key=str.casefold
        )
        if twice:
            errors.append(
                ("choices", "Each choice must be different; given more than once: " + "; ".join(twice) + ".")
            )
    label = " ".join((unit or "").split()) if kind == BaselineKind.NUMBER else ""
    if len(label) > MAX_UNIT_LENGTH:
        errors.append(("unit", f"Shorten the unit to at most {MAX_UNIT_LENGTH} characters."))
    if errors:
        raise InvalidInput(errors[0][1], field=errors[0][0], errors=errors)
    return QuestionDraft(kind=kind, text=wording, choices=tuple(parsed), unit=label)


async def _questions(session: AsyncSession, panel_id: int) -> list[BaselineQuestion]:
    rows = await session.scalars(
        select(BaselineQuestion)
        .where(BaselineQuestion.panel_id == panel_id)
        .order_by(BaselineQuestion.position, BaselineQuestion.id)
    )
    return list(rows.all())


async def _answer_count(session: AsyncSession, question_id: int) -> int:
    return int(
        await session.scalar(
            select(func.count()).select_from(BaselineAnswer).where(BaselineAnswer.question_id == question_id)
        )
        or 0
    )


async def questions_with_answers(session: AsyncSession, panel_id: int) -> list[tuple[BaselineQuestion, int]]:
    """The panel's questions in their order, each with how many panellists answered it (a row saved)."""
    questions = await _questions(session, panel_id)
    counts = dict(
        (
            await session.execute(
                select(BaselineAnswer.question_id, func.count())
                .join(BaselineQuestion, BaselineQuestion.id == BaselineAnswer.question_id)
                .where(BaselineQuestion.panel_id == panel_id)
                .group_by(BaselineAnswer.question_id)
            )
        ).all()
    )
    return [(q, int(counts.get(q.id, 0))) for q in questions]


async def add_question(
    session: AsyncSession,
    panel: Panel,
    actor: Actor,
    *,
    kind: str,
    text: str,
    choices: str = "",
    unit: str = "",
) -> BaselineQuestion:
    """Add a question last in the panel's order (checked by :func:`check_question`)."""
    draft = check_question(kind, text, choices, unit)
    existing = await _questions(session, panel.id)
    position = max((q.position for q in existing), default=-1) + 1
    question = BaselineQuestion(
        panel_id=panel.id,
        kind=draft.kind,
        text=draft.text,
        choices=list(draft.choices),
        unit=draft.unit,
        position=position,
    )
    session.add(question)
    await session.flush()
    audit.record(
        session,
        actor=actor,
        panel_id=panel.id,
        action="baseline.added",
        detail={"question_id": question.id, "kind": draft.kind, "text": draft.text},
    )
    return question


async def edit_question(
    session: AsyncSession,
    panel: Panel,
    question_id: int,
    actor: Actor,
    *,
    kind: str,
    text: str,
    choices: str = "",
    unit: str = "",
) -> BaselineQuestion:
    """Change a question of the panel.  NotFound for another panel's; InvalidInput as :func:`add_question`;
    Conflict when panellists have answered it and the kind or the choices (their wording or order) would
    change.  An unchanged question records nothing."""
    question = await of_panel(session, BaselineQuestion, question_id, panel, "baseline question")
    draft = check_question(kind, text, choices, unit)
    answered = await _answer_count(session, question.id)
    if answered and (draft.kind != question.kind or list(draft.choices) != list(question.choices)):
        raise Conflict(
            f"{answered} panellist(s) have answered this question, so its kind and choices cannot change: their "
            "answers refer to the choices as they were. You can still correct the wording of the question. To ask "
            "something else, add a new question.",
            field="choices" if draft.kind == question.kind else "kind",
        )
    changed = [
        name
        for name, new in (
            ("kind", draft.kind),
            ("text", draft.text),
            ("choices", list(draft.choices)),
            ("unit", draft.unit),
        )
        if getattr(question, name) != new
    ]
    if not changed:
        return question
    question.kind, question.text, question.choices, question.unit = (
        draft.kind,
        draft.text,
        list(draft.choices),
        draft.unit,
    )
    await session.flush()
    audit.record(
        session,
        actor=actor,
        panel_id=panel.id,
        action="baseline.edited",
        detail={"question_id": question.id, "fields": changed},
    )
    return question


async def delete_question(session: AsyncSession, panel: Panel, question_id: int, actor: Actor) -> int:
    """Delete a question of the panel with its answers; returns how many answers were deleted (recorded in the
    audit event).  NotFound for another panel's question."""
    question = await of_panel(session, BaselineQuestion, question_id, panel, "baseline question")
    answered = await _answer_count(session, question.id)
    answers = await session.scalars(select(BaselineAnswer).where(BaselineAnswer.question_id == question.id))
    for answer in answers.all():
        await session.delete(answer)
    await session.delete(question)
    await session.flush()
    audit.record(
        session,
        actor=actor,
        panel_id=panel.id,
        action="baseline.deleted",
        detail={"question_id": question_id, "text": question.text, "answers_deleted": answered},
    )
    return answered


async def move_question(
    session: AsyncSession, panel: Panel, question_id: int, direction: str, actor: Actor
) -> None:
    """Move a question one place ``"up"`` or ``"down"`` in the panel's order (positions renumbered 0..n-1);
    InvalidInput for another direction; nothing happens, and nothing is recorded, at either end."""
    if direction not in ("up", "down"):
        raise InvalidInput("Move a question up or down.", field="direction")
    question = await of_panel(session, BaselineQuestion, question_id, panel, "baseline question")
    if not move_one_place(list(await _questions(session, panel.id)), question.id, down=direction == "down"):
        return
    await session.flush()
    audit.record(
        session,
        actor=actor,
        panel_id=panel.id,
        action="baseline.moved",
        detail={"question_id": question.id, "direction": direction},
    )
