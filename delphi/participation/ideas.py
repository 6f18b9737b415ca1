"""A panellist's answers to an open round (idea generation): the questions with their saved answers, and saving
them, one answer in the background or a whole page without JavaScript.

A panellist may give several answers to each question: slots ``1..MAX_SLOTS``, each at most :data:`MAX_ANSWER`
characters.  Saving an empty slot deletes that answer.  Writes take the same checks as ratings
(:func:`delphi.participation.saving.write_target`: consent, an open round, before its closing time, under the
write lock) plus "this round asks open questions" and "this question is the panel's"; each answer is one upsert
on ``(round_id, question_id, panellist_id, slot)``, so a double click or a replay changes nothing twice.  Work in
the caller's transaction; a refused page saves nothing.  Answers are never shown to other panellists.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.dialect import dialect_name, insert_for
from delphi.db.models import IdeaAnswer, OpenQuestion, Panel, Panellist, Round, utcnow
from delphi.domain import RoundKind
from delphi.errors import InvalidInput
from delphi.participation import checks
from delphi.participation.facts import load_facts, require_round, submitted_at
from delphi.participation.issues import N_, Issue, NoRoundOpen, StatementNotInRound, fail, fail_many
from delphi.participation.saving import write_target
from delphi.participation.writes import answer_language

#: Answers a panellist may give to one question, and the longest answer, in characters.
MAX_SLOTS = 10
MAX_ANSWER = 2000


@dataclass(frozen=True, slots=True)
class IdeaInput:
    """One posted answer: question ``question_id``, slot ``slot`` (1-based), ``text`` as sent (any type)."""

    question_id: int
    slot: int
    text: object


@dataclass(slots=True)
class QuestionView:
    """An open question with the panellist's answers by slot (``{slot: text}``) and how many boxes to show:
    every saved slot, then one empty box (none past :data:`MAX_SLOTS`) while the round takes answers."""

    id: int
    text: str
    hint: str
    number: int
    answers: dict[int, str] = field(default_factory=dict)
    boxes: int = 1

    @property
    def slots(self) -> list[int]:
        return list(range(1, self.boxes + 1))

    @property
    def given(self) -> list[str]:
        """The saved answers in slot order."""
        return [self.answers[s] for s in sorted(self.answers)]

    @property
    def can_add(self) -> bool:
        return self.boxes < MAX_SLOTS


@dataclass(frozen=True, slots=True)
class IdeasPage:
    """The open round for one panellist: the panel, the round, whether it takes answers now, the questions with
    answers, how many answers are saved and when the round was submitted (None if not)."""

    panel: Panel
    round: Round
    accepts_answers: bool
    questions: tuple[QuestionView, ...]
    n_answers: int
    submitted_at: datetime | None


@dataclass(frozen=True, slots=True)
class IdeaSaved:
    """One saved answer (``text`` "" when the slot was emptied and deleted) and the panellist's answer count."""

    question_id: int
    slot: int
    text: str
    n_answers: int
    saved_at: datetime


def field_name(question_id: int, slot: int) -> str:
    """The form field of one answer box: ``a<question id>-<slot>``."""
    return f"a{question_id}-{slot}"


async def _questions(session: AsyncSession, panel_id: int) -> list[OpenQuestion]:
    rows = await session.scalars(
        select(OpenQuestion)
        .where(OpenQuestion.panel_id == panel_id)
        .order_by(OpenQuestion.position, OpenQuestion.id)
    )
    return list(rows.all())


async def count_answers(session: AsyncSession, round_id: int, panellist_id: int) -> int:
    """How many answers the panellist has saved in the round."""
    return int(
        await session.scalar(
            select(func.count())
            .select_from(IdeaAnswer)
            .where(IdeaAnswer.round_id == round_id, IdeaAnswer.panellist_id == panellist_id)
        )
        or 0
    )


async def answer_count(session: AsyncSession, panellist: Panellist) -> int | None:
    """The panellist's answers in the current round when it is an open round; None when it is not (or there is
    no round yet)."""
    facts = await load_facts(session, panellist)
    if facts.round is None or facts.round.kind != RoundKind.OPEN:
        return None
    return await count_answers(session, facts.round.id, panellist.id)


async def load_ideas(
    session: AsyncSession, panellist: Panellist, *, now: datetime | None = None
) -> IdeasPage:
    """The open round's questions with the panellist's answers, each with one empty box after its last saved
    answer while the round takes answers ("Add another answer" saves the page, so the box typed in becomes a
    saved answer and a new empty box follows).  Raises :class:`ConsentNeeded` before consent and
    :class:`NoRoundOpen` when the current round is not an open round."""
    now = now or utcnow()
    refusal = checks.consent_refusal(panellist.consented_at is not None)
    if refusal is not None:
        raise refusal
    facts = await load_facts(session, panellist)
    rnd = require_round(facts)
    if rnd.kind != RoundKind.OPEN:
        raise fail(NoRoundOpen, N_("This round does not ask open questions."))
    rows = (
        await session.scalars(
            select(IdeaAnswer).where(IdeaAnswer.round_id == rnd.id, IdeaAnswer.panellist_id == panellist.id)
        )
    ).all()
    accepts = checks.round_accepts_answers(rnd.status, rnd.closes_at, now)
    views = []
    for number, q in enumerate(await _questions(session, facts.panel.id), start=1):
        answers = {a.slot: a.text for a in rows if a.question_id == q.id}
        top = max(answers, default=0)
        boxes = top + 1 if accepts else top
        views.append(
            QuestionView(
                q.id, q.text, q.hint, number, answers, max(min(boxes, MAX_SLOTS), 1 if accepts else 0)
            )
        )
    return IdeasPage(
        panel=facts.panel,
        round=rnd,
        accepts_answers=accepts,
        questions=tuple(views),
        n_answers=len(rows),
        submitted_at=await submitted_at(session, rnd.id, panellist.id),
    )


def overlay(page: IdeasPage, items: Sequence[IdeaInput]) -> None:
    """Show what was posted (not saved) on a page re-shown with errors, so nothing typed is lost."""
    by_question = {q.id: q for q in page.questions}
    for item in items:
        q = by_question.get(item.question_id)
        if q is None or not 1 <= item.slot <= MAX_SLOTS or not isinstance(item.text, str):
            continue
        q.answers[item.slot] = item.text
        q.boxes = max(q.boxes, item.slot)


async def _open_target(session: AsyncSession, panellist: Panellist, now: datetime) -> tuple[int, set[int]]:
    """``(round id, the panel's question ids)`` after the write checks and "this round asks open questions"."""
    target = await write_target(session, panellist, [], now)
    rnd = await session.get(Round, target.round_id)
    if rnd is None or rnd.kind != RoundKind.OPEN:
        raise fail(NoRoundOpen, N_("This round does not ask open questions."))
    ids = set(
        (await session.scalars(select(OpenQuestion.id).where(OpenQuestion.panel_id == target.panel.id))).all()
    )
    return target.round_id, ids


def _clean(
    items: Sequence[IdeaInput], question_ids: set[int]
) -> tuple[list[tuple[int, int, str]], list[Issue]]:
    """``[(question id, slot, text)]`` and every problem (field :func:`field_name`)."""
    clean, issues = [], []
    for item in items:
        name = field_name(item.question_id, item.slot)
        if not 1 <= item.slot <= MAX_SLOTS:
            issues.append(
                Issue(name, N_("You can give at most %(n)s answers to a question."), {"n": MAX_SLOTS})
            )
            continue
        text = checks.clean_text(item.text, MAX_ANSWER, name)
        if isinstance(text, Issue):
            issues.append(text)
            continue
        clean.append((item.question_id, item.slot, text))
    return clean, issues


async def _write(
    session: AsyncSession,
    round_id: int,
    panellist_id: int,
    question_id: int,
    slot: int,
    text: str,
    now: datetime,
    language: str | None,
) -> None:
    """Upsert one answer written in ``language`` (``Panellist.language``; the latest save's is kept), or delete
    it when ``text`` is empty."""
    key = (
        IdeaAnswer.round_id == round_id,
        IdeaAnswer.question_id == question_id,
        IdeaAnswer.panellist_id == panellist_id,
        IdeaAnswer.slot == slot,
    )
    if not text:
        await session.execute(delete(IdeaAnswer).where(*key))
        return
    stmt = insert_for(dialect_name(session), IdeaAnswer).values(
        round_id=round_id,
        question_id=question_id,
        panellist_id=panellist_id,
        slot=slot,
        text=text,
        theme="",
        language=answer_language(language),
        created_at=now,
        updated_at=now,
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["round_id", "question_id", "panellist_id", "slot"],
        set_={
            "text": stmt.excluded.text,
            "language": stmt.excluded.language,
            "updated_at": stmt.excluded.updated_at,
        },
    )
    await session.execute(stmt)


async def save_idea(
    session: AsyncSession, panellist: Panellist, item: IdeaInput, now: datetime | None = None
) -> IdeaSaved:
    """Save (or, when empty, delete) one answer in the caller's transaction, after every check; raises
    :class:`ConsentNeeded`, :class:`NoRoundOpen`, :class:`RoundClosed`, :class:`StatementNotInRound` (a
    question not the panel's) or :class:`~delphi.errors.InvalidInput` (a slot past 10, text over 2000
    characters) before writing anything."""
    now = now or utcnow()
    round_id, question_ids = await _open_target(session, panellist, now)
    if item.question_id not in question_ids:
        raise fail(StatementNotInRound, N_("This question is not asked in this round."))
    clean, issues = _clean([item], question_ids)
    if issues:
        raise fail_many(InvalidInput, issues)
    qid, slot, text = clean[0]
    await _write(session, round_id, panellist.id, qid, slot, text, now, panellist.language)
    return IdeaSaved(qid, slot, text, await count_answers(session, round_id, panellist.id), now)


async def save_ideas(
    session: AsyncSession, panellist: Panellist, items: Sequence[IdeaInput], now: datetime | None = None
) -> int:
    """Save a page of answers, all or nothing: every item is checked first and any problem raises
    :class:`~delphi.errors.InvalidInput` with one issue per bad box; items for another panel's questions are
    refused the same way.  Returns the panellist's answer count afterwards."""
    now = now or utcnow()
    round_id, question_ids = await _open_target(session, panellist, now)
    clean, issues = _clean(items, question_ids)
    issues += [
        Issue(field_name(i.question_id, i.slot), N_("This question is not asked in this round."))
        for i in items
        if i.question_id not in question_ids
    ]
    if issues:
        raise fail_many(InvalidInput, issues)
    for qid, slot, text in clean:
        await _write(session, round_id, panellist.id, qid, slot, text, now, panellist.language)
    return await count_answers(session, round_id, panellist.id)
