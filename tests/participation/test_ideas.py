"""A panellist's answers to an open round: saved one at a time or as a page, several per question, an emptied box
deleting its answer, the same write checks as ratings, and submitting."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import IdeaAnswer, Submission, utcnow
from delphi.errors import InvalidInput
from delphi.participation import ideas, submit
from delphi.participation.ideas import IdeaInput
from delphi.participation.issues import ConsentNeeded, NoRoundOpen, RoundClosed, StatementNotInRound
from tests.ideas_world import build_ideas_panel


async def _answers(session: AsyncSession, panellist_id: int) -> list[tuple[int, int, str]]:
    rows = await session.execute(
        select(IdeaAnswer.question_id, IdeaAnswer.slot, IdeaAnswer.text)
        .where(IdeaAnswer.panellist_id == panellist_id)
        .order_by(IdeaAnswer.question_id, IdeaAnswer.slot)
    )
    return [tuple(r) for r in rows.all()]


async def test_several_answers_per_question_are_saved_and_shown_with_one_empty_box(
    session: AsyncSession,
) -> None:
    w = await build_ideas_panel(session)
    me, (q1, q2) = w.world.panellist, w.questions
    saved = await ideas.save_idea(session, me, IdeaInput(q1.id, 1, "  Peer support  "))
    assert (saved.text, saved.n_answers) == ("Peer support", 1)
    await ideas.save_idea(session, me, IdeaInput(q1.id, 2, "Evening opening"))
    await ideas.save_idea(session, me, IdeaInput(q2.id, 1, "Waiting lists"))
    page = await ideas.load_ideas(session, me)
    first, second = page.questions
    assert first.given == ["Peer support", "Evening opening"] and first.slots == [1, 2, 3]
    assert second.given == ["Waiting lists"] and second.slots == [1, 2]
    assert page.n_answers == 3


async def test_saving_a_slot_again_changes_it_and_an_emptied_slot_deletes_the_answer(
    session: AsyncSession,
) -> None:
    w = await build_ideas_panel(session)
    me, q1 = w.world.panellist, w.questions[0]
    await ideas.save_idea(session, me, IdeaInput(q1.id, 1, "Peer support"))
    await ideas.save_idea(session, me, IdeaInput(q1.id, 1, "Peer support groups"))
    assert await _answers(session, me.id) == [(q1.id, 1, "Peer support groups")]
    gone = await ideas.save_idea(session, me, IdeaInput(q1.id, 1, "   "))
    assert (gone.text, gone.n_answers) == ("", 0)
    assert await _answers(session, me.id) == []


async def test_a_page_is_saved_whole_or_not_at_all_with_every_problem_listed(session: AsyncSession) -> None:
    w = await build_ideas_panel(session)
    me, (q1, q2) = w.world.panellist, w.questions
    with pytest.raises(InvalidInput) as err:
        await ideas.save_ideas(
            session,
            me,
            [
                IdeaInput(q1.id, 1, "Fine"),
                IdeaInput(q1.id, 2, "x" * (ideas.MAX_ANSWER + 1)),
                IdeaInput(q2.id, ideas.MAX_SLOTS + 1, "Eleventh"),
            ],
        )
    assert [i.field for i in err.value.issues] == [  # type: ignore[attr-defined]
        ideas.field_name(q1.id, 2),
        ideas.field_name(q2.id, ideas.MAX_SLOTS + 1),
    ]
    assert await _answers(session, me.id) == []
    count = await ideas.save_ideas(session, me, [IdeaInput(q1.id, 1, "Fine"), IdeaInput(q2.id, 1, "Also")])
    assert count == 2


async def test_another_panels_question_is_refused(session: AsyncSession) -> None:
    w = await build_ideas_panel(session)
    other = await build_ideas_panel(session)
    with pytest.raises(StatementNotInRound):
        await ideas.save_idea(session, w.world.panellist, IdeaInput(other.questions[0].id, 1, "Sneaky"))
    with pytest.raises(InvalidInput):
        await ideas.save_ideas(session, w.world.panellist, [IdeaInput(other.questions[0].id, 1, "Sneaky")])
    assert await _answers(session, w.world.panellist.id) == []


async def test_writes_need_consent_an_open_round_and_time_before_the_close(session: AsyncSession) -> None:
    w = await build_ideas_panel(session, consented=False)
    me, q1 = w.world.panellist, w.questions[0]
    with pytest.raises(ConsentNeeded):
        await ideas.save_idea(session, me, IdeaInput(q1.id, 1, "Idea"))
    me.consented_at = utcnow()
    w.world.round.closes_at = utcnow() - timedelta(minutes=1)  # type: ignore[union-attr]
    await session.flush()
    with pytest.raises(RoundClosed):
        await ideas.save_idea(session, me, IdeaInput(q1.id, 1, "Idea"))
    assert await _answers(session, me.id) == []


async def test_a_rating_round_has_no_open_questions_to_answer(session: AsyncSession) -> None:
    w = await build_ideas_panel(session)
    w.world.round.kind = "rating"  # type: ignore[union-attr]
    await session.flush()
    with pytest.raises(NoRoundOpen):
        await ideas.save_idea(session, w.world.panellist, IdeaInput(w.questions[0].id, 1, "Idea"))
    with pytest.raises(NoRoundOpen):
        await ideas.load_ideas(session, w.world.panellist)


async def test_submitting_an_open_round_needs_at_least_one_answer(session: AsyncSession) -> None:
    w = await build_ideas_panel(session)
    me, q1 = w.world.panellist, w.questions[0]
    with pytest.raises(InvalidInput) as err:
        await submit.submit(session, me, send_receipt=False)
    assert [i.field for i in err.value.issues] == ["answers"]  # type: ignore[attr-defined]
    await ideas.save_idea(session, me, IdeaInput(q1.id, 1, "Idea"))
    receipt = await submit.submit(session, me, send_receipt=False)
    assert receipt.created
    assert await session.scalar(select(func.count()).select_from(Submission)) == 1
    assert await ideas.answer_count(session, me) == 1
