"""Baseline questions set up by the facilitator: checks, the lock once answered, order, audit."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import AuditEvent, BaselineAnswer, BaselineQuestion
from delphi.errors import Conflict, InvalidInput, NotFound
from delphi.panels import baseline
from tests.factories import ACTOR, build_panel


async def _actions(session: AsyncSession) -> list[str]:
    return list((await session.scalars(select(AuditEvent.action).order_by(AuditEvent.id))).all())


async def test_a_single_choice_question_is_added_last_with_its_choices_one_per_line(
    session: AsyncSession,
) -> None:
    w = await build_panel(session)
    first = await baseline.add_question(session, w.panel, ACTOR, kind="number", text="Age", unit=" years ")
    second = await baseline.add_question(
        session,
        w.panel,
        ACTOR,
        kind="single",
        text="How long  in services?",
        choices="Under 1 year\n\n 1-5 years \nOver 5",
    )
    assert (first.position, second.position) == (0, 1)
    assert second.choices == ["Under 1 year", "1-5 years", "Over 5"]
    assert second.text == "How long in services?"
    assert first.unit == "years" and first.choices == []
    assert await _actions(session) == ["baseline.added", "baseline.added"]


async def test_every_problem_of_a_question_is_listed_at_once(session: AsyncSession) -> None:
    w = await build_panel(session)
    with pytest.raises(InvalidInput) as caught:
        await baseline.add_question(
            session, w.panel, ACTOR, kind="multiple", text="  ", choices="Yes\nyes\n" + "x" * 201
        )
    fields = [f for f, _ in caught.value.errors]
    assert fields == ["text", "choices", "choices"]
    messages = " ".join(m for _, m in caught.value.errors)
    assert "choice 3" in messages and "more than once" in messages
    assert (await session.scalars(select(BaselineQuestion))).all() == []


@pytest.mark.parametrize(("choices", "count"), [("Only one", 1), ("\n".join(f"c{i}" for i in range(21)), 21)])
async def test_a_choice_question_needs_two_to_twenty_choices(
    session: AsyncSession, choices: str, count: int
) -> None:
    w = await build_panel(session)
    with pytest.raises(InvalidInput, match=f"2 to 20 choices, one per line \\({count} given\\)"):
        await baseline.add_question(session, w.panel, ACTOR, kind="single", text="Q", choices=choices)


async def test_an_unknown_kind_is_refused(session: AsyncSession) -> None:
    w = await build_panel(session)
    with pytest.raises(InvalidInput) as caught:
        await baseline.add_question(session, w.panel, ACTOR, kind="essay", text="Q")
    assert caught.value.errors[0][0] == "kind"


async def test_an_answered_question_keeps_its_kind_and_choices_but_its_wording_may_be_corrected(
    session: AsyncSession,
) -> None:
    w = await build_panel(session, consented=True)
    q = await baseline.add_question(session, w.panel, ACTOR, kind="single", text="Sevice?", choices="A\nB")
    session.add(BaselineAnswer(panellist_id=w.panellist.id, question_id=q.id, chosen=["A"]))
    await session.flush()
    with pytest.raises(Conflict, match="1 panellist\\(s\\) have answered this question"):
        await baseline.edit_question(
            session, w.panel, q.id, ACTOR, kind="single", text="Service?", choices="A\nB\nC"
        )
    with pytest.raises(Conflict) as caught:
        await baseline.edit_question(
            session, w.panel, q.id, ACTOR, kind="multiple", text="Service?", choices="A\nB"
        )
    assert caught.value.field == "kind"
    edited = await baseline.edit_question(
        session, w.panel, q.id, ACTOR, kind="single", text="Service?", choices="A\nB"
    )
    assert (edited.text, edited.choices) == ("Service?", ["A", "B"])
    events = (await session.scalars(select(AuditEvent).where(AuditEvent.action == "baseline.edited"))).all()
    assert [e.detail["fields"] for e in events] == [["text"]]


async def test_an_unanswered_question_may_change_kind_and_an_unchanged_edit_records_nothing(
    session: AsyncSession,
) -> None:
    w = await build_panel(session)
    q = await baseline.add_question(session, w.panel, ACTOR, kind="single", text="Q", choices="A\nB")
    await baseline.edit_question(session, w.panel, q.id, ACTOR, kind="number", text="Q", unit="years")
    assert (q.kind, q.choices, q.unit) == ("number", [], "years")
    await baseline.edit_question(session, w.panel, q.id, ACTOR, kind="number", text="Q", unit="years")
    assert (await _actions(session)).count("baseline.edited") == 1


async def test_another_panels_question_is_not_found(session: AsyncSession) -> None:
    a = await build_panel(session)
    b = await build_panel(session, first=10, round_status=None)
    q = await baseline.add_question(session, a.panel, ACTOR, kind="text", text="Anything else?")
    with pytest.raises(NotFound):
        await baseline.edit_question(session, b.panel, q.id, ACTOR, kind="text", text="Mine now")
    with pytest.raises(NotFound):
        await baseline.delete_question(session, b.panel, q.id, ACTOR)


async def test_deleting_a_question_deletes_its_answers_and_says_how_many(session: AsyncSession) -> None:
    w = await build_panel(session, consented=True)
    q = await baseline.add_question(session, w.panel, ACTOR, kind="number", text="Age")
    session.add(BaselineAnswer(panellist_id=w.panellist.id, question_id=q.id, number=40.0))
    await session.flush()
    assert await baseline.delete_question(session, w.panel, q.id, ACTOR) == 1
    assert (await session.scalars(select(BaselineAnswer))).all() == []
    event = (await session.scalars(select(AuditEvent).where(AuditEvent.action == "baseline.deleted"))).one()
    assert event.detail["answers_deleted"] == 1


async def test_moving_a_question_swaps_it_with_its_neighbour_and_does_nothing_at_the_ends(
    session: AsyncSession,
) -> None:
    w = await build_panel(session)
    qs = [await baseline.add_question(session, w.panel, ACTOR, kind="text", text=t) for t in ("a", "b", "c")]
    await baseline.move_question(session, w.panel, qs[2].id, "up", ACTOR)
    await baseline.move_question(session, w.panel, qs[0].id, "up", ACTOR)
    order = [q.text for q, _ in await baseline.questions_with_answers(session, w.panel.id)]
    assert order == ["a", "c", "b"]
    assert (await _actions(session)).count("baseline.moved") == 1
    with pytest.raises(InvalidInput):
        await baseline.move_question(session, w.panel, qs[0].id, "sideways", ACTOR)
