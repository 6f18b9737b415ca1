"""The report's table of participant characteristics: per baseline question, counts per answer by stakeholder
group and in total, with every count that could disclose fewer than k people hidden.

Who is counted: every panellist who agreed to take part and whose data was not erased (those who withdrew later
included: they took part).  Rows per question: each choice, "Prefer not to say" and "Not answered" (no answer
saved).  The pure part, :func:`tabulate_question`, applies :func:`delphi.stats.suppression.suppress_table`:

* single choice: the rows partition each group, so group sizes and the grand total are margins a reader can
  subtract from;
* multiple choice: one person may tick several choices, so the choice rows add up only along the groups; the
  partition "answered / prefer not to say / not answered" is protected as its own table, and a choice made by
  all but 1 to k - 1 of a group's answerers is hidden too (the few who did not would follow by subtraction);
* number: "answered / prefer not / not answered" as a partition, and n with the median (IQR) per group when the
  group's n is at least k, decided by :func:`delphi.stats.disclosure.decide` (a hidden group's n cannot be had
  as the total minus the groups shown) and only where the partition shows the same count as "Answered".  Quartiles are R's ``quantile(x, type = 7)`` (numpy's "linear");
* text: only how many answered (the texts are in the ``baseline`` export, never tabulated).

A hidden count is ``None``; the page prints it as "fewer than k or hidden" without telling which.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import BaselineAnswer, BaselineQuestion, Panel, Panellist, StakeholderGroup
from delphi.domain import BaselineKind
from delphi.stats.disclosure import ScopeCounts, decide
from delphi.stats.suppression import suppress_table

__all__ = [
    "NOT_ANSWERED",
    "PREFER_NOT",
    "Answer",
    "Characteristics",
    "NumberSummary",
    "QuestionTable",
    "Row",
    "load_characteristics",
    "tabulate_question",
]

PREFER_NOT = "Prefer not to say"
NOT_ANSWERED = "Not answered"
ANSWERED = "Answered"


@dataclass(frozen=True, slots=True)
class Answer:
    """One panellist's answer as the table reads it: ``chosen`` choices, a ``number``, whether ``prefer_not``
    and whether any ``text`` was given.  None in place of an Answer means not answered."""

    chosen: tuple[str, ...] = ()
    number: float | None = None
    prefer_not: bool = False
    text: bool = False


@dataclass(frozen=True, slots=True)
class Row:
    """One answer's counts: per group (display order) and in total; None where hidden."""

    label: str
    cells: tuple[int | None, ...]
    total: int | None


@dataclass(frozen=True, slots=True)
class NumberSummary:
    """A number question in one scope (a group, or everyone): ``n`` who gave a number, median and quartiles;
    every field None when hidden (n below k, or hidden so a smaller one cannot be worked out)."""

    n: int | None
    median: float | None = None
    q1: float | None = None
    q3: float | None = None


@dataclass(frozen=True, slots=True)
class QuestionTable:
    """One baseline question's part of the table.  ``numbers`` (number questions): per group then everyone."""

    question_id: int
    text: str
    kind: str
    unit: str
    rows: tuple[Row, ...]
    numbers: tuple[NumberSummary, ...] = ()


@dataclass(frozen=True, slots=True)
class Characteristics:
    """The whole table: ``groups`` names in display order, ``group_n`` people per group, ``total_n`` everyone
    counted, ``k`` the threshold, one :class:`QuestionTable` per question in the panel's order."""

    k: int
    groups: tuple[str, ...]
    group_n: tuple[int, ...]
    total_n: int
    questions: tuple[QuestionTable, ...]


def _rows(
    labels: Sequence[str], table: np.ndarray, shown: Sequence[Sequence[bool]], totals: Sequence[bool]
) -> list[Row]:
    out = []
    for i, label in enumerate(labels):
        cells = tuple(int(table[i, j]) if shown[i][j] else None for j in range(table.shape[1]))
        out.append(Row(label, cells, int(table[i].sum()) if totals[i] else None))
    return out


def _partition(labels: Sequence[str], table: np.ndarray, k: int) -> list[Row]:
    release = suppress_table(table.tolist(), k, column_totals=True)
    return _rows(labels, table, release.cells, release.totals)


def _quartiles(values: list[float]) -> tuple[float, float, float]:
    q1, med, q3 = np.percentile(np.asarray(values, dtype=float), [25, 50, 75], method="linear")
    return float(med), float(q1), float(q3)


def tabulate_question(
    question: BaselineQuestion, people: Sequence[tuple[int, Answer | None]], group_ids: Sequence[int], k: int
) -> QuestionTable:
    """The question's table from ``people``, ``(group id, answer or None)`` per panellist counted; groups in the
    order of ``group_ids`` (a person of another group counts in no column, so is left out).  Pure."""
    k = max(1, int(k))
    col = {g: j for j, g in enumerate(group_ids)}
    people = [(col[g], a) for g, a in people if g in col]
    ng = len(group_ids)

    def count(pred) -> np.ndarray:  # type: ignore[no-untyped-def]
        row = np.zeros(ng, dtype=np.int64)
        for j, a in people:
            if pred(a):
                row[j] += 1
        return row

    pn = count(lambda a: a is not None and a.prefer_not)
    na = count(lambda a: a is None)
    kind = question.kind
    if kind == BaselineKind.SINGLE:
        choice_rows = [count(lambda a, c=c: a is not None and c in a.chosen) for c in question.choices]
        table = np.array([*choice_rows, pn, na]).reshape(-1, ng)
        rows = _partition([*question.choices, PREFER_NOT, NOT_ANSWERED], table, k)
        return QuestionTable(question.id, question.text, kind, question.unit, tuple(rows))
    answered = count(lambda a: a is not None and not a.prefer_not)
    partition = _partition(
        [ANSWERED, PREFER_NOT, NOT_ANSWERED], np.array([answered, pn, na]).reshape(-1, ng), k
    )
    if kind == BaselineKind.MULTIPLE:
        chosen = np.array(
            [count(lambda a, c=c: a is not None and c in a.chosen) for c in question.choices]
        ).reshape(-1, ng)
        left = answered[None, :] - chosen  # answerers who did not tick the choice
        left_total = answered.sum() - chosen.sum(axis=1)
        release = suppress_table(
            chosen.tolist(),
            k,
            column_totals=False,
            sensitive=((left > 0) & (left < k)).tolist(),
            sensitive_totals=((left_total > 0) & (left_total < k)).tolist(),
        )
        rows = _rows(question.choices, chosen, release.cells, release.totals) + partition
        return QuestionTable(question.id, question.text, kind, question.unit, tuple(rows))
    if kind == BaselineKind.NUMBER:
        values: list[list[float]] = [[] for _ in range(ng)]
        for j, a in people:
            if a is not None and a.number is not None:
                values[j].append(float(a.number))
        everyone = [v for vs in values for v in vs]
        release = decide(ScopeCounts(len(everyone)), [ScopeCounts(len(vs)) for vs in values], k)
        # n is the "Answered" count: the partition hides what ``decide`` hides, and n is shown only where the
        # partition shows that count too (else n undoes its suppression: a group of 4 with "Not answered" hidden
        # and n = 3 printed gives the 1 away by subtraction).
        counts = np.array([answered, pn, na]).reshape(-1, ng)
        no = [False] * ng
        kept = suppress_table(
            counts.tolist(),
            k,
            sensitive=[[not s for s in release.groups], no, no],
            sensitive_totals=[not release.pooled, False, False],
        )
        partition = _rows([ANSWERED, PREFER_NOT, NOT_ANSWERED], counts, kept.cells, kept.totals)
        counted = partition[0]
        groups_shown = [shown and counted.cells[j] is not None for j, shown in enumerate(release.groups)]

        def summary(vs: list[float], shown: bool) -> NumberSummary:
            return (
                NumberSummary(len(vs), *_quartiles(vs))
                if shown and vs
                else NumberSummary(len(vs) if shown else None)
            )

        numbers = (
            *(summary(vs, shown) for vs, shown in zip(values, groups_shown, strict=True)),
            summary(everyone, release.pooled and counted.total is not None),
        )
        return QuestionTable(question.id, question.text, kind, question.unit, tuple(partition), numbers)
    return QuestionTable(question.id, question.text, kind, question.unit, tuple(partition))


def answer_of(row: BaselineAnswer) -> Answer:
    """A stored answer as :func:`tabulate_question` reads it."""
    return Answer(tuple(row.chosen or ()), row.number, bool(row.prefer_not), bool(row.text))


async def counted_people(session: AsyncSession, panel_id: int) -> list[Panellist]:
    """The panellists the table counts: consented, data not erased."""
    rows = await session.scalars(
        select(Panellist).where(
            Panellist.panel_id == panel_id, Panellist.consented_at.is_not(None), Panellist.erased_at.is_(None)
        )
    )
    return list(rows.all())


async def answers_by_question(
    session: AsyncSession, panel_id: int
) -> tuple[list[BaselineQuestion], dict[int, dict[int, BaselineAnswer]]]:
    """The panel's questions in order and ``{question id: {panellist id: answer}}``."""
    questions = list(
        (
            await session.scalars(
                select(BaselineQuestion)
                .where(BaselineQuestion.panel_id == panel_id)
                .order_by(BaselineQuestion.position, BaselineQuestion.id)
            )
        ).all()
    )
    answers: dict[int, dict[int, BaselineAnswer]] = {q.id: {} for q in questions}
    if questions:
        rows = await session.scalars(
            select(BaselineAnswer).where(BaselineAnswer.question_id.in_([q.id for q in questions]))
        )
        for a in rows.all():
            answers[a.question_id][a.panellist_id] = a
    return questions, answers


async def load_characteristics(
    session: AsyncSession, panel: Panel, groups: Sequence[StakeholderGroup]
) -> Characteristics | None:
    """The panel's table of characteristics, None when it asks no baseline question."""
    questions, answers = await answers_by_question(session, panel.id)
    if not questions:
        return None
    people = await counted_people(session, panel.id)
    group_ids = [g.id for g in groups]
    tables = []
    for q in questions:
        mine: Mapping[int, BaselineAnswer] = answers[q.id]
        tables.append(
            tabulate_question(
                q,
                [(p.group_id, answer_of(mine[p.id]) if p.id in mine else None) for p in people],
                group_ids,
                panel.k_min,
            )
        )
    return Characteristics(
        k=max(1, int(panel.k_min)),
        groups=tuple(g.name for g in groups),
        group_n=tuple(sum(1 for p in people if p.group_id == g) for g in group_ids),
        total_n=len(people),
        questions=tuple(tables),
    )
