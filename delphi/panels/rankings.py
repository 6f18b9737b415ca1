"""A panel's ranking questions ("Put these service changes in order of priority") and the draft round's list of
them: add, edit, include or drop, delete, list.

A ranking question is a text and 2 to 12 items; panellists put the items in order (1 = first), with ties when
``allow_ties``.  Like a statement, a new question joins the round being prepared.  A question may be edited or
deleted only while no opened round (open or closed) asked it: from then on answers and frozen results refer to
its items.  Each function checks its input, changes rows in the caller's session, writes an audit event and never
commits; errors are :class:`~delphi.errors.DelphiError` subclasses with messages for the facilitator, and bad
input is refused with every problem at once (:attr:`~delphi.errors.InvalidInput.errors`), nothing saved.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from delphi import audit
from delphi.db.models import Panel, RankingItem, RankingQuestion, Round, RoundRanking
from delphi.domain import Actor, PanelStatus, RoundStatus, StatementStatus
from delphi.errors import Conflict, InvalidInput
from delphi.panels.owned import of_panel
from delphi.panels.statements import draft_round

#: Fewest and most items a ranking question can have.
MIN_ITEMS, MAX_ITEMS = 2, 12
#: Longest item (the column's length) and longest question text, in characters.
MAX_ITEM, MAX_QUESTION = 500, 2_000


@dataclass(frozen=True, slots=True)
class RankingListing:
    """One ranking question as the facilitator's list shows it: its ``items`` in order, the numbers of the
    opened rounds that asked it (``asked_in``, ascending; empty while it can still be edited or deleted) and
    whether the draft round asks it (``in_draft``)."""

    question: RankingQuestion
    items: list[RankingItem]
    asked_in: list[int]
    in_draft: bool

    @property
    def editable(self) -> bool:
        return not self.asked_in


def item_lines(items: str | Sequence[str]) -> list[str]:
    """The items of a form's text area (one a line) or of a list, each with its white space collapsed; empty
    lines are dropped. ``"  Shorter waits \\n\\nMore staff"`` -> ``["Shorter waits", "More staff"]``."""
    lines = items.splitlines() if isinstance(items, str) else list(items)
    return [body for body in (" ".join(str(line).split()) for line in lines) if body]


def ranking_problems(text: str, items: Sequence[str]) -> list[tuple[str, str]]:
    """Every problem of a ranking question, as ``(field, message)`` pairs (fields ``text`` and ``items``);
    empty when it can be saved. ``items`` are as :func:`item_lines` gives them."""
    problems: list[tuple[str, str]] = []
    body = " ".join((text or "").split())
    if not body:
        problems.append(("text", "Enter the question, for example “Put these changes in order of priority”."))
    elif len(body) > MAX_QUESTION:
        problems.append(("text", f"The question can have at most {MAX_QUESTION} characters."))
    if len(items) < MIN_ITEMS:
        problems.append(("items", f"Enter at least {MIN_ITEMS} items to rank, one a line."))
    elif len(items) > MAX_ITEMS:
        problems.append(
            ("items", f"A ranking question can have at most {MAX_ITEMS} items; this one has {len(items)}.")
        )
    seen: set[str] = set()
    for i, item in enumerate(items, start=1):
        if len(item) > MAX_ITEM:
            problems.append(
                ("items", f"Item {i} is too long: an item can have at most {MAX_ITEM} characters.")
            )
        key = item.casefold()
        if key in seen:
            problems.append(("items", f"Item {i} (“{item[:80]}”) is listed twice; give each item once."))
        seen.add(key)
    return problems


def _checked(text: str, items: str | Sequence[str]) -> tuple[str, list[str]]:
    lines = item_lines(items)
    problems = ranking_problems(text, lines)
    if problems:
        raise InvalidInput(
            f"The ranking question was not saved: {len(problems)} problem(s) need fixing.",
            field=problems[0][0],
            errors=problems,
        )
    return " ".join(text.split()), lines


async def get_ranking_question(session: AsyncSession, panel: Panel, question_id: int) -> RankingQuestion:
    """A ranking question of ``panel``; NotFound when the id is of no question of it."""
    return await of_panel(session, RankingQuestion, question_id, panel, "ranking question")


async def question_items(session: AsyncSession, question_id: int) -> list[RankingItem]:
    """The question's items in their order."""
    rows = await session.scalars(
        select(RankingItem)
        .where(RankingItem.question_id == question_id)
        .order_by(RankingItem.position, RankingItem.id)
    )
    return list(rows.all())


async def asked_in_rounds(session: AsyncSession, question_id: int) -> list[int]:
    """Numbers of the rounds past their draft (open or closed) that asked the question, ascending."""
    rows = await session.scalars(
        select(Round.number)
        .join(RoundRanking, RoundRanking.round_id == Round.id)
        .where(RoundRanking.question_id == question_id, Round.status != RoundStatus.DRAFT)
        .order_by(Round.number)
    )
    return list(rows.all())


async def _add_to_round(session: AsyncSession, round_: Round, question_id: int) -> None:
    top = await session.scalar(
        select(func.max(RoundRanking.position)).where(RoundRanking.round_id == round_.id)
    )
    session.add(
        RoundRanking(
            round_id=round_.id, question_id=question_id, position=0 if top is None else top + 1, outcome={}
        )
    )


async def add_ranking_question(
    session: AsyncSession,
    panel: Panel,
    text: str,
    items: str | Sequence[str],
    allow_ties: bool,
    actor: Actor,
) -> RankingQuestion:
    """Add a ranking question with its ``items`` (a text with one item a line, or a list) to the panel and to
    its draft round (if one is being prepared).

    InvalidInput lists every problem (:func:`ranking_problems`); Conflict once the panel has finished.
    """
    if panel.status == PanelStatus.FINISHED:
        raise Conflict("This panel has finished; ranking questions can no longer be added.")
    body, lines = _checked(text, items)
    top = await session.scalar(
        select(func.max(RankingQuestion.position)).where(RankingQuestion.panel_id == panel.id)
    )
    question = RankingQuestion(
        panel_id=panel.id,
        text=body,
        position=0 if top is None else top + 1,
        allow_ties=bool(allow_ties),
        status=StatementStatus.ACTIVE,
    )
    session.add(question)
    await session.flush()
    session.add_all(
        RankingItem(question_id=question.id, text=line, position=i) for i, line in enumerate(lines)
    )
    draft = await draft_round(session, panel.id)
    if draft is not None:
        await _add_to_round(session, draft, question.id)
    await session.flush()
    audit.record(
        session,
        actor=actor,
        panel_id=panel.id,
        action="ranking.added",
        detail={"question_id": question.id, "items": len(lines), "allow_ties": question.allow_ties},
    )
    return question


async def why_not_changeable(session: AsyncSession, question: RankingQuestion) -> str | None:
    """Why the question can no longer be edited or deleted, as a sentence; None when it can (no opened round
    asked it)."""
    asked = await asked_in_rounds(session, question.id)
    if not asked:
        return None
    return (
        f"This ranking question was asked in round {asked[0]}, so answers and results refer to its items; it "
        "can no longer be edited or deleted. Drop it from the next round instead, or add a new question."
    )


async def edit_ranking_question(
    session: AsyncSession,
    panel: Panel,
    question_id: int,
    text: str,
    items: str | Sequence[str],
    allow_ties: bool,
    actor: Actor,
) -> RankingQuestion:
    """Change a question's text, items and ``allow_ties`` while no opened round asked it.

    Items keep their rows by position (the first line stays the first item); extra lines add items, missing ones
    delete the last items.  InvalidInput lists every problem; Conflict (:func:`why_not_changeable`) once asked.
    """
    question = await get_ranking_question(session, panel, question_id)
    body, lines = _checked(text, items)
    reason = await why_not_changeable(session, question)
    if reason is not None:
        raise Conflict(reason)
    current = await question_items(session, question.id)
    changed = body != question.text or bool(allow_ties) != question.allow_ties
    changed = changed or [i.text for i in current] != lines
    question.text, question.allow_ties = body, bool(allow_ties)
    for i, line in enumerate(lines):
        if i < len(current):
            current[i].text, current[i].position = line, i
        else:
            session.add(RankingItem(question_id=question.id, text=line, position=i))
    for extra in current[len(lines) :]:
        await session.delete(extra)
    await session.flush()
    if changed:
        audit.record(
            session,
            actor=actor,
            panel_id=panel.id,
            action="ranking.edited",
            detail={"question_id": question.id, "items": len(lines), "allow_ties": question.allow_ties},
        )
    return question


async def delete_ranking_question(
    session: AsyncSession, panel: Panel, question_id: int, actor: Actor
) -> None:
    """Delete a question, its items and its place in the draft round while no opened round asked it
    (Conflict with :func:`why_not_changeable`'s reason otherwise; NotFound for another panel's)."""
    question = await get_ranking_question(session, panel, question_id)
    reason = await why_not_changeable(session, question)
    if reason is not None:
        raise Conflict(reason)
    text = question.text
    await session.execute(delete(RoundRanking).where(RoundRanking.question_id == question.id))
    await session.execute(delete(RankingItem).where(RankingItem.question_id == question.id))
    await session.delete(question)
    await session.flush()
    audit.record(
        session,
        actor=actor,
        panel_id=panel.id,
        action="ranking.deleted",
        detail={"question_id": question_id, "text": text[:200]},
    )


async def set_ranking_in_draft(
    session: AsyncSession, panel: Panel, question_id: int, include: bool, actor: Actor
) -> None:
    """Add a question to, or drop it from, the draft round (Conflict when no round is being prepared).  Adding
    a question retired after consensus asks it again: it becomes active."""
    draft = await draft_round(session, panel.id)
    if draft is None:
        raise Conflict(
            "No round is being prepared; questions can be added to or dropped from a draft round only."
        )
    question = await get_ranking_question(session, panel, question_id)
    link = await session.scalar(
        select(RoundRanking).where(RoundRanking.round_id == draft.id, RoundRanking.question_id == question.id)
    )
    if include and link is None:
        question.status = StatementStatus.ACTIVE
        await _add_to_round(session, draft, question.id)
        action = "ranking.included"
    elif not include and link is not None:
        await session.delete(link)
        action = "ranking.dropped"
    else:
        return
    await session.flush()
    audit.record(
        session,
        actor=actor,
        panel_id=panel.id,
        action=action,
        detail={"question_id": question.id, "round": draft.number},
    )


async def ranking_questions(session: AsyncSession, panel_id: int) -> list[RankingListing]:
    """Every ranking question of the panel, by position then id, with its items, the opened rounds that asked
    it and whether the draft round asks it (three queries whatever the number of questions)."""
    questions = list(
        (
            await session.scalars(
                select(RankingQuestion)
                .where(RankingQuestion.panel_id == panel_id)
                .order_by(RankingQuestion.position, RankingQuestion.id)
            )
        ).all()
    )
    if not questions:
        return []
    ids = [q.id for q in questions]
    items: dict[int, list[RankingItem]] = {qid: [] for qid in ids}
    for item in (
        await session.scalars(
            select(RankingItem)
            .where(RankingItem.question_id.in_(ids))
            .order_by(RankingItem.position, RankingItem.id)
        )
    ).all():
        items[item.question_id].append(item)
    asked: dict[int, list[int]] = {qid: [] for qid in ids}
    drafted: set[int] = set()
    rows = await session.execute(
        select(RoundRanking.question_id, Round.number, Round.status)
        .join(Round, Round.id == RoundRanking.round_id)
        .where(RoundRanking.question_id.in_(ids))
        .order_by(Round.number)
    )
    for qid, number, status in rows.all():
        if status == RoundStatus.DRAFT:
            drafted.add(qid)
        else:
            asked[qid].append(number)
    return [RankingListing(q, items[q.id], asked[q.id], q.id in drafted) for q in questions]
