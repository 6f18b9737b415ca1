"""Read models of an open round (idea generation) for facilitators and researchers: every answer per question
side by side, and the provenance of each statement made from them (answers -> draft -> rewordings -> verdict).

Answers carry pseudonyms only; those outside the panel's analysis population (a panellist who did not submit,
when only submitted answers count) are listed too and marked (``in_population`` False).  Nothing here is shown to
panellists: they see only the statements made from the answers.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import (
    IdeaAnswer,
    OpenQuestion,
    Panel,
    Panellist,
    Round,
    RoundStatement,
    StakeholderGroup,
    Statement,
    StatementSource,
    Submission,
)
from delphi.domain import AnalysisPopulation, RoundKind
from delphi.panels.numbering import statement_labels
from delphi.results.frame import Frame
from delphi.results.tables import ANSWER_LANGUAGE, Column, Table

OPEN_ANSWERS_NAME = "open-answers"
PROVENANCE_NAME = "provenance"


@dataclass(frozen=True, slots=True)
class AnswerRow:
    """One answer: its id, slot, text, theme ("" ungrouped), the pseudonym and group of who gave it, whether it
    is in the analysis population, the ids of the statements made from it, and the language it was written in
    ("" when not recorded)."""

    id: int
    question_id: int
    slot: int
    text: str
    theme: str
    pseudonym: str
    group: str
    in_population: bool
    statement_ids: tuple[int, ...] = ()
    language: str = ""


@dataclass(frozen=True, slots=True)
class QuestionAnswers:
    """An open question and every answer to it, by pseudonym then slot."""

    id: int
    number: int
    text: str
    hint: str
    answers: tuple[AnswerRow, ...]


@dataclass(frozen=True, slots=True)
class IdeasReview:
    """The panel's open round (None when it has none), its questions with their answers, the themes in use
    with their answer counts (alphabetical), and the population the marks refer to."""

    round: Round | None
    questions: tuple[QuestionAnswers, ...]
    themes: tuple[tuple[str, int], ...]
    population: str

    @property
    def n_answers(self) -> int:
        return sum(len(q.answers) for q in self.questions)


async def _open_round(session: AsyncSession, panel_id: int) -> Round | None:
    return await session.scalar(
        select(Round).where(Round.panel_id == panel_id, Round.kind == RoundKind.OPEN).order_by(Round.number)
    )


async def _made_from(session: AsyncSession, answer_ids: list[int]) -> dict[int, tuple[int, ...]]:
    """``{answer id: statement ids made from it}``."""
    if not answer_ids:
        return {}
    rows = await session.execute(
        select(StatementSource.answer_id, StatementSource.statement_id)
        .where(StatementSource.answer_id.in_(answer_ids))
        .order_by(StatementSource.statement_id)
    )
    out: dict[int, list[int]] = defaultdict(list)
    for aid, sid in rows.all():
        out[aid].append(sid)
    return {k: tuple(v) for k, v in out.items()}


async def load_answers(session: AsyncSession, panel: Panel) -> IdeasReview:
    """Every answer of the panel's open round, per question in the questions' order (four queries)."""
    population = AnalysisPopulation(panel.analysis_population)
    questions = (
        await session.scalars(
            select(OpenQuestion)
            .where(OpenQuestion.panel_id == panel.id)
            .order_by(OpenQuestion.position, OpenQuestion.id)
        )
    ).all()
    round_ = await _open_round(session, panel.id)
    rows: list = []
    submitted: set[int] = set()
    if round_ is not None:
        rows = list(
            (
                await session.execute(
                    select(IdeaAnswer, Panellist.pseudonym, StakeholderGroup.name)
                    .join(Panellist, Panellist.id == IdeaAnswer.panellist_id)
                    .join(StakeholderGroup, StakeholderGroup.id == Panellist.group_id)
                    .where(IdeaAnswer.round_id == round_.id)
                    .order_by(Panellist.pseudonym, IdeaAnswer.slot)
                )
            ).all()
        )
        submitted = set(
            (
                await session.scalars(select(Submission.panellist_id).where(Submission.round_id == round_.id))
            ).all()
        )
    made = await _made_from(session, [a.id for a, _, _ in rows])
    by_question: dict[int, list[AnswerRow]] = defaultdict(list)
    themes: dict[str, int] = defaultdict(int)
    for a, pseudonym, group in rows:
        counted = population == AnalysisPopulation.ALL or a.panellist_id in submitted
        by_question[a.question_id].append(
            AnswerRow(
                a.id,
                a.question_id,
                a.slot,
                a.text,
                a.theme,
                pseudonym,
                group,
                counted,
                made.get(a.id, ()),
                a.language or "",
            )
        )
        if a.theme:
            themes[a.theme] += 1
    return IdeasReview(
        round=round_,
        questions=tuple(
            QuestionAnswers(q.id, i, q.text, q.hint, tuple(by_question.get(q.id, ())))
            for i, q in enumerate(questions, start=1)
        ),
        themes=tuple(sorted(themes.items(), key=lambda kv: kv[0].lower())),
        population=population.value,
    )


# --- provenance ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Version:
    """One wording of a statement: its id, number ("S4.2"), version, the one it rewords, its text, status
    and the verdict of the last closed round that asked it (None when none did)."""

    statement_id: int
    label: str
    version: int
    parent_id: int | None
    text: str
    status: str
    verdict: str | None


@dataclass(frozen=True, slots=True)
class Provenance:
    """A statement made from open-round answers: its ``sources`` (the answers), its ``versions`` from the draft
    (v1) through each rewording, oldest first; the last version is the final wording and its verdict."""

    statement_id: int
    label: str
    sources: tuple[AnswerRow, ...]
    versions: tuple[Version, ...] = field(default_factory=tuple)

    @property
    def final(self) -> Version | None:
        return self.versions[-1] if self.versions else None


async def load_provenance(session: AsyncSession, panel: Panel) -> list[Provenance]:
    """Per statement made from answers (in statement id order): its source answers and every version, each
    with its last verdict.  Empty for a panel without an open round (five queries whatever the size)."""
    review = await load_answers(session, panel)
    answers = {a.id: a for q in review.questions for a in q.answers}
    statements = {
        s.id: s
        for s in (await session.scalars(select(Statement).where(Statement.panel_id == panel.id))).all()
    }
    sources: dict[int, list[int]] = defaultdict(list)
    if statements:
        for sid, aid in (
            await session.execute(
                select(StatementSource.statement_id, StatementSource.answer_id)
                .where(StatementSource.statement_id.in_(list(statements)))
                .order_by(StatementSource.answer_id)
            )
        ).all():
            sources[sid].append(aid)
    verdicts: dict[int, str] = {}
    for sid, verdict in (
        await session.execute(
            select(RoundStatement.statement_id, RoundStatement.verdict)
            .join(Round, Round.id == RoundStatement.round_id)
            .where(Round.panel_id == panel.id, RoundStatement.verdict.is_not(None))
            .order_by(Round.number)
        )
    ).all():
        verdicts[sid] = verdict
    labels = statement_labels((s.id, s.parent_id, s.version) for s in statements.values())
    children: dict[int, list[int]] = defaultdict(list)
    for s in statements.values():
        if s.parent_id is not None:
            children[s.parent_id].append(s.id)
    out = []
    for root in sorted(sources):
        chain, current = [], root
        while current is not None:
            s = statements[current]
            chain.append(
                Version(
                    s.id, labels.get(s.id, ""), s.version, s.parent_id, s.text, s.status, verdicts.get(s.id)
                )
            )
            following = sorted(children.get(current, ()))
            current = following[-1] if following else None
        out.append(
            Provenance(
                root,
                labels.get(root, ""),
                tuple(answers[a] for a in sources[root] if a in answers),
                tuple(chain),
            )
        )
    return out


# --- exports -------------------------------------------------------------------------------------------------


def open_answer_columns(frame: Frame) -> tuple[Column, ...]:
    return (
        Column("round", "The open round the answer was given in, from 1.", "integer"),
        Column("question_id", "Open question id.", "integer"),
        Column("question", "The open question's wording.", "text"),
        Column("answer_id", "Answer id (the provenance export's answer_id).", "integer"),
        Column("panellist", "Pseudonym of the panellist who answered.", "text"),
        Column("slot", "Which of the panellist's answers to the question it is, from 1.", "integer"),
        Column("text", "The answer as written.", "text"),
        Column("theme", "The facilitator's theme for the answer; empty while ungrouped.", "text"),
        Column(
            "in_population",
            "1 when the answer is in the analysis population (see the codebook), else 0.",
            "boolean",
            "1 = yes, 0 = no",
        ),
        Column("statement_ids", "Ids of the statements made from the answer, separated by spaces.", "text"),
        ANSWER_LANGUAGE,
    )


async def open_answers_table(session: AsyncSession, frame: Frame) -> Table:
    """Every answer of the panel's open round (none when it has none), per question then pseudonym and slot."""
    review = await load_answers(session, frame.panel)
    number = review.round.number if review.round is not None else None
    rows = [
        (
            number,
            q.id,
            q.text,
            a.id,
            a.pseudonym,
            a.slot,
            a.text,
            a.theme,
            a.in_population,
            " ".join(str(s) for s in a.statement_ids),
            a.language,
        )
        for q in review.questions
        for a in q.answers
    ]
    return Table(OPEN_ANSWERS_NAME, "Answers to the open round", open_answer_columns(frame), rows)


def provenance_columns(frame: Frame) -> tuple[Column, ...]:
    return (
        Column("statement_id", "Statement id of one version (the statements' statement_id).", "integer"),
        Column(
            "statement_label",
            "Statement number as on every page: S4, and S4.2 for its second wording.",
            "text",
        ),
        Column("version", "1 for the draft made from the answers, +1 for each rewording.", "integer"),
        Column("parent_id", "The version this one rewords; empty for the draft.", "integer"),
        Column(
            "answer_id",
            "An open-round answer the statement was made from (open-answers answer_id).",
            "integer",
        ),
    )


async def provenance_table(session: AsyncSession, frame: Frame) -> Table:
    """One row per version of each statement made from answers and per answer it was made from."""
    rows = [
        (v.statement_id, v.label, v.version, v.parent_id, a.id)
        for p in await load_provenance(session, frame.panel)
        for v in p.versions
        for a in p.sources
    ]
    return Table(
        PROVENANCE_NAME,
        "Statements made from open-round answers, version by version",
        provenance_columns(frame),
        rows,
    )
