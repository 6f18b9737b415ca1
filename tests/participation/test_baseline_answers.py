"""A panellist's "About you" answers: every refusal at once and nothing saved, prefer not to say, skip."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import BaselineAnswer, BaselineQuestion
from delphi.errors import Conflict, InvalidInput
from delphi.participation import baseline
from delphi.participation.baseline import Posted
from delphi.participation.issues import ConsentNeeded
from tests.factories import World, build_panel


async def _world(session: AsyncSession, consented: bool = True) -> tuple[World, list[BaselineQuestion]]:
    w = await build_panel(session, consented=consented)
    qs = [
        BaselineQuestion(
            panel_id=w.panel.id,
            kind="single",
            text="Years in services",
            choices=["<1", "1-5", ">5"],
            position=0,
        ),
        BaselineQuestion(
            panel_id=w.panel.id,
            kind="multiple",
            text="Services used",
            choices=["Opioid", "Alcohol"],
            position=1,
        ),
        BaselineQuestion(panel_id=w.panel.id, kind="number", text="Age", unit="years", position=2),
        BaselineQuestion(panel_id=w.panel.id, kind="text", text="Anything else", position=3),
    ]
    session.add_all(qs)
    await session.flush()
    return w, qs


async def _rows(session: AsyncSession) -> list[BaselineAnswer]:
    return list((await session.scalars(select(BaselineAnswer).order_by(BaselineAnswer.question_id))).all())


async def test_a_page_of_answers_is_saved_with_blank_questions_left_without_a_row(
    session: AsyncSession,
) -> None:
    w, (single, multiple, number, _text) = await _world(session)
    kept = await baseline.save_answers(
        session,
        w.panellist,
        {
            single.id: Posted(chosen=("1-5",)),
            multiple.id: Posted(chosen=("Alcohol", "Opioid")),
            number.id: Posted(raw="42,5"),
        },
    )
    assert kept == 3
    rows = await _rows(session)
    assert [(r.chosen, r.number, r.prefer_not) for r in rows] == [
        (["1-5"], None, False),
        (["Opioid", "Alcohol"], None, False),
        ([], 42.5, False),
    ]
    assert w.panellist.baseline_at is not None


async def test_every_problem_is_listed_by_its_question_and_nothing_is_saved(session: AsyncSession) -> None:
    w, (single, multiple, number, text) = await _world(session)
    await baseline.save_answers(session, w.panellist, {text.id: Posted(raw="kept")})
    with pytest.raises(InvalidInput) as caught:
        await baseline.save_answers(
            session,
            w.panellist,
            {
                single.id: Posted(chosen=("<1", ">5")),
                multiple.id: Posted(chosen=("Cocaine",)),
                number.id: Posted(raw="2e7"),
                text.id: Posted(raw="x" * 1001),
            },
        )
    problems = dict(caught.value.errors)
    assert problems == {
        f"q{single.id}": "Choose one answer only.",
        f"q{multiple.id}": "Choose from the answers given.",
        f"q{number.id}": "Enter a number between -1000000 and 1000000.",
        f"q{text.id}": "Shorten your answer to 1000 characters (it has 1001).",
    }
    assert [r.text for r in await _rows(session)] == ["kept"]


@pytest.mark.parametrize("raw", ["forty", "nan", "inf", "1e6x"])
def test_a_number_that_is_not_a_number_is_refused(raw: str) -> None:
    q = BaselineQuestion(id=7, kind="number", text="Age", choices=[])
    _, issues = baseline.check_answers([q], {7: Posted(raw=raw)})
    assert [(i.field, i.msgid) for i in issues] == [("q7", "Enter a number, like 42 or 3.5.")]


def test_the_range_ends_are_allowed() -> None:
    q = BaselineQuestion(id=7, kind="number", text="Age", choices=[])
    for raw in ("-1000000", "1000000", "0"):
        checked, issues = baseline.check_answers([q], {7: Posted(raw=raw)})
        assert issues == [] and checked[7].number == float(raw)


def test_prefer_not_to_say_with_an_answer_is_refused_and_alone_is_kept() -> None:
    q = BaselineQuestion(id=3, kind="multiple", text="Services", choices=["A", "B"])
    _, issues = baseline.check_answers([q], {3: Posted(chosen=("A",), prefer_not=True)})
    assert [i.field for i in issues] == ["q3"] and "not both" in issues[0].msgid
    checked, issues = baseline.check_answers([q], {3: Posted(prefer_not=True)})
    assert issues == [] and checked[3].prefer_not and not checked[3].blank


def test_an_answer_to_a_question_the_panel_does_not_ask_is_refused() -> None:
    q = BaselineQuestion(id=3, kind="text", text="T", choices=[])
    _, issues = baseline.check_answers([q], {99: Posted(raw="hello")})
    assert [i.field for i in issues] == ["q99"]


async def test_leaving_a_question_blank_later_removes_its_earlier_answer(session: AsyncSession) -> None:
    w, (single, *_rest) = await _world(session)
    await baseline.save_answers(session, w.panellist, {single.id: Posted(chosen=("<1",))})
    await baseline.save_answers(session, w.panellist, {})
    assert await _rows(session) == []


async def test_skipping_stamps_the_page_once_and_keeps_earlier_answers(session: AsyncSession) -> None:
    w, (_single, *_rest) = await _world(session)
    assert await baseline.needs_baseline(session, w.panellist)
    await baseline.skip(session, w.panellist)
    first = w.panellist.baseline_at
    assert first is not None and not await baseline.needs_baseline(session, w.panellist)
    await baseline.skip(session, w.panellist)
    assert w.panellist.baseline_at == first


async def test_a_panel_without_questions_never_sends_anyone_to_the_page(session: AsyncSession) -> None:
    w = await build_panel(session, consented=True)
    assert not await baseline.needs_baseline(session, w.panellist)


async def test_answers_need_consent_and_a_running_panel(session: AsyncSession) -> None:
    w, (single, *_rest) = await _world(session, consented=False)
    with pytest.raises(ConsentNeeded):
        await baseline.save_answers(session, w.panellist, {single.id: Posted(chosen=("<1",))})
    w.panellist.consented_at = w.panel.created_at
    w.panel.status = "finished"
    with pytest.raises(Conflict, match="finished"):
        await baseline.save_answers(session, w.panellist, {single.id: Posted(chosen=("<1",))})
    assert await _rows(session) == []


async def test_the_page_shows_each_question_with_the_saved_answer(session: AsyncSession) -> None:
    w, (single, multiple, number, text) = await _world(session)
    await baseline.save_answers(session, w.panellist, {number.id: Posted(prefer_not=True)})
    items = await baseline.load_page(session, w.panellist)
    assert [i.question.id for i in items] == [single.id, multiple.id, number.id, text.id]
    assert [i.answer.prefer_not if i.answer else None for i in items] == [None, None, True, None]
