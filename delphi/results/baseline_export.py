"""The ``baseline`` export: every panellist's answers to the panel's baseline questions, in tidy long form.

One row per (panellist, question answered): pseudonym, group, question id and text, kind, the chosen answers
joined with "; ", the number, the text, ``prefer_not`` and the language the answer was given in.  A question left blank has no row.  Pseudonyms
only: never an e-mail address or a name.  Erased panellists are left out (their answers were erased with them).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import Panellist
from delphi.results.characteristics import answers_by_question
from delphi.results.frame import Frame
from delphi.results.tables import ANSWER_LANGUAGE, Column, Table

NAME = "baseline"

COLUMNS: tuple[Column, ...] = (
    Column("panellist", "The panellist's pseudonym (never a name or an address)."),
    Column("group", "The panellist's stakeholder group."),
    Column("question_id", "The baseline question's id.", "integer"),
    Column("question", "The question as worded."),
    Column("kind", "The kind of question.", unit="single, multiple, number or text"),
    Column("answer", "The answer(s) chosen, joined with '; ' (single and multiple choice)."),
    Column("number", "The number given (number questions).", "number"),
    Column("text", "The text given (text questions)."),
    Column("prefer_not", "The panellist chose 'Prefer not to say'.", "boolean", "1 = yes, 0 = no"),
    ANSWER_LANGUAGE,
)


def columns(frame: Frame) -> tuple[Column, ...]:
    return COLUMNS


async def baseline_table(session: AsyncSession, frame: Frame) -> Table:
    """The export's table, by question (panel order) then pseudonym."""
    questions, answers = await answers_by_question(session, frame.panel.id)
    people = {
        p.id: p
        for p in (
            await session.scalars(
                select(Panellist).where(Panellist.panel_id == frame.panel.id, Panellist.erased_at.is_(None))
            )
        ).all()
    }
    names = frame.group_names
    rows = []
    for q in questions:
        given = [(people[pid], a) for pid, a in answers[q.id].items() if pid in people]
        for person, a in sorted(given, key=lambda pa: pa[0].pseudonym):
            rows.append(
                (
                    person.pseudonym,
                    names.get(person.group_id, ""),
                    q.id,
                    q.text,
                    q.kind,
                    "; ".join(a.chosen or ()),
                    a.number,
                    a.text or "",
                    bool(a.prefer_not),
                    a.language or "",
                )
            )
    return Table(NAME, "Baseline answers (panel characteristics)", COLUMNS, rows)
