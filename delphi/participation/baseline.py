"""A panellist's answers to the panel's baseline questions ("About you"): the page, saving it, skipping it.

Every question is optional and offers "Prefer not to say".  A page of answers is checked as a whole by the pure
:func:`check_answers` (every problem at once, keyed by the question's field ``q<id>``) and saved all or nothing
by :func:`save_answers`; saving, or :func:`skip`, stamps ``Panellist.baseline_at``, after which the panellist is
no longer sent to the page (they may still change their answers from their home page while the panel runs).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import BaselineAnswer, BaselineQuestion, Panel, Panellist, utcnow
from delphi.domain import BaselineKind
from delphi.errors import Conflict, InvalidInput
from delphi.participation.issues import N_, ConsentNeeded, Issue, fail, fail_many
from delphi.participation.writes import answer_language

__all__ = [
    "MAX_TEXT",
    "NUMBER_RANGE",
    "BaselineItem",
    "Checked",
    "Posted",
    "check_answers",
    "field_of",
    "has_questions",
    "load_page",
    "needs_baseline",
    "save_answers",
    "skip",
]

#: Longest free-text answer, in characters.
MAX_TEXT = 1000
#: The sane range of a number answer (inclusive): an age, years of experience, a count of services.
NUMBER_RANGE = (-1_000_000.0, 1_000_000.0)


@dataclass(frozen=True, slots=True)
class Posted:
    """One question's answer as sent: the ``chosen`` choices' wording, the ``raw`` number or text typed, and
    whether "Prefer not to say" was ticked.  All empty means left blank."""

    chosen: tuple[str, ...] = ()
    raw: str = ""
    prefer_not: bool = False


@dataclass(frozen=True, slots=True)
class Checked:
    """A checked answer, ready to store; ``blank`` when the question was left unanswered (no row kept)."""

    chosen: tuple[str, ...] = ()
    number: float | None = None
    text: str = ""
    prefer_not: bool = False

    @property
    def blank(self) -> bool:
        return not (self.chosen or self.number is not None or self.text or self.prefer_not)


@dataclass(frozen=True, slots=True)
class BaselineItem:
    """A question of the page with the panellist's saved answer (None when blank), and ``posted`` values to
    show again after a refused save."""

    question: BaselineQuestion
    answer: BaselineAnswer | None
    posted: Posted | None = None
    field_id: str = field(default="")


def field_of(question_id: int) -> str:
    """The form field (and error key) of a question: ``q<id>``."""
    return f"q{question_id}"


def _number(raw: str) -> float | None:
    text = raw.strip().replace(" ", "")
    if text.count(",") == 1 and "." not in text:  # "12,5": a decimal comma
        text = text.replace(",", ".")
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def check_answers(
    questions: Sequence[BaselineQuestion], posted: Mapping[int, Posted]
) -> tuple[dict[int, Checked], list[Issue]]:
    """Check a page of answers: ``posted`` maps question ids to what was sent (a question not in it is blank).

    Returns the checked answer per question of ``questions`` and the issues (``field_of(id)``, a translatable
    message): a choice not among the question's, two choices on a single-choice question, "prefer not to say"
    with an answer, a number that is not one or lies outside :data:`NUMBER_RANGE`, a text over :data:`MAX_TEXT`
    characters, an answer to a question the panel does not ask.  Pure.
    """
    issues: list[Issue] = []
    checked: dict[int, Checked] = {}
    known = {q.id for q in questions}
    for qid in sorted(set(posted) - known):
        issues.append(Issue(field_of(qid), N_("This question is not asked on this panel.")))
    for q in questions:
        sent = posted.get(q.id, Posted())
        fid = field_of(q.id)
        chosen = tuple(dict.fromkeys(c for c in sent.chosen if c))
        raw = sent.raw.strip() if q.kind == BaselineKind.NUMBER else sent.raw.strip().replace("\x00", "")
        answered = bool(chosen) or bool(raw)
        if sent.prefer_not and answered:
            issues.append(Issue(fid, N_("Choose either an answer or “Prefer not to say”, not both.")))
            continue
        if sent.prefer_not:
            checked[q.id] = Checked(prefer_not=True)
            continue
        if q.kind in (BaselineKind.SINGLE, BaselineKind.MULTIPLE):
            unknown = [c for c in chosen if c not in q.choices]
            if raw or unknown:
                issues.append(Issue(fid, N_("Choose from the answers given.")))
            elif q.kind == BaselineKind.SINGLE and len(chosen) > 1:
                issues.append(Issue(fid, N_("Choose one answer only.")))
            else:
                checked[q.id] = Checked(chosen=tuple(c for c in q.choices if c in chosen))
        elif q.kind == BaselineKind.NUMBER:
            if chosen:
                issues.append(Issue(fid, N_("Enter a number.")))
            elif raw:
                value = _number(raw)
                lo, hi = NUMBER_RANGE
                if value is None:
                    issues.append(Issue(fid, N_("Enter a number, like 42 or 3.5.")))
                elif not lo <= value <= hi:
                    issues.append(
                        Issue(
                            fid,
                            N_("Enter a number between %(lo)s and %(hi)s."),
                            {"lo": "-1000000", "hi": "1000000"},
                        )
                    )
                else:
                    checked[q.id] = Checked(number=value)
            else:
                checked[q.id] = Checked()
        else:
            if chosen:
                issues.append(Issue(fid, N_("Type your answer in the box.")))
            elif len(raw) > MAX_TEXT:
                issues.append(
                    Issue(
                        fid,
                        N_("Shorten your answer to %(max)s characters (it has %(n)s)."),
                        {"max": MAX_TEXT, "n": len(raw)},
                    )
                )
            else:
                checked[q.id] = Checked(text=raw)
    return checked, issues


async def _questions(session: AsyncSession, panel_id: int) -> list[BaselineQuestion]:
    rows = await session.scalars(
        select(BaselineQuestion)
        .where(BaselineQuestion.panel_id == panel_id)
        .order_by(BaselineQuestion.position, BaselineQuestion.id)
    )
    return list(rows.all())


async def has_questions(session: AsyncSession, panel_id: int) -> bool:
    """Whether the panel asks any baseline question."""
    found = await session.scalar(
        select(BaselineQuestion.id).where(BaselineQuestion.panel_id == panel_id).limit(1)
    )
    return found is not None


async def needs_baseline(session: AsyncSession, panellist: Panellist) -> bool:
    """Whether the panellist should be sent to "About you" now: they consented, have neither answered nor
    passed over the questions, the panel has some and has not finished."""
    if panellist.consented_at is None or panellist.baseline_at is not None:
        return False
    panel = await session.get(Panel, panellist.panel_id)
    if panel is None or panel.status == "finished":
        return False
    return await has_questions(session, panellist.panel_id)


async def _answers(session: AsyncSession, panellist: Panellist) -> dict[int, BaselineAnswer]:
    rows = await session.scalars(select(BaselineAnswer).where(BaselineAnswer.panellist_id == panellist.id))
    return {a.question_id: a for a in rows.all()}


async def load_page(
    session: AsyncSession, panellist: Panellist, posted: Mapping[int, Posted] | None = None
) -> list[BaselineItem]:
    """The panel's questions in order, each with the panellist's saved answer (and the ``posted`` values, for
    showing a refused page again)."""
    saved = await _answers(session, panellist)
    return [
        BaselineItem(q, saved.get(q.id), (posted or {}).get(q.id), field_of(q.id))
        for q in await _questions(session, panellist.panel_id)
    ]


async def _may_answer(session: AsyncSession, panellist: Panellist) -> None:
    if panellist.consented_at is None:
        raise fail(ConsentNeeded, N_("Please agree to take part first."))
    panel = await session.get(Panel, panellist.panel_id)
    if panel is None or panel.status == "finished":
        raise fail(Conflict, N_("The panel has finished, so these answers can no longer be changed."))


async def save_answers(
    session: AsyncSession, panellist: Panellist, posted: Mapping[int, Posted], now: datetime | None = None
) -> int:
    """Save a whole page of answers, all or nothing; returns how many questions now have an answer.

    Raises InvalidInput carrying every :class:`Issue` (nothing is changed) when :func:`check_answers` finds a
    problem; ConsentNeeded before consent; Conflict once the panel has finished.  A question left blank loses its
    earlier answer.  Every answer kept records the panellist's language now (``BaselineAnswer.language``).  Sets
    ``baseline_at`` (first time or not: the last time the page was saved).
    """
    await _may_answer(session, panellist)
    questions = await _questions(session, panellist.panel_id)
    checked, issues = check_answers(questions, posted)
    if issues:
        raise fail_many(InvalidInput, issues)
    when = now or utcnow()
    saved = await _answers(session, panellist)
    kept = 0
    for q in questions:
        answer, row = checked.get(q.id, Checked()), saved.get(q.id)
        if answer.blank:
            if row is not None:
                await session.delete(row)
            continue
        kept += 1
        if row is None:
            row = BaselineAnswer(panellist_id=panellist.id, question_id=q.id)
            session.add(row)
        row.chosen, row.number, row.text, row.prefer_not = (
            list(answer.chosen),
            answer.number,
            answer.text,
            answer.prefer_not,
        )
        row.answered_at = when
        row.language = answer_language(panellist.language)
    panellist.baseline_at = when
    await session.flush()
    return kept


async def skip(session: AsyncSession, panellist: Panellist, now: datetime | None = None) -> None:
    """ "Skip these questions": stamp ``baseline_at`` without answers (answers saved earlier are kept)."""
    await _may_answer(session, panellist)
    if panellist.baseline_at is None:
        panellist.baseline_at = now or utcnow()
        await session.flush()
