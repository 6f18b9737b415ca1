"""Ranking questions on the facilitator's side: add, edit, delete, draft membership, and the ranking rule setting."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import AuditEvent, RankingItem, RankingQuestion, RoundRanking
from delphi.errors import Conflict, InvalidInput, NotFound
from delphi.panels.rankings import (
    add_ranking_question,
    delete_ranking_question,
    edit_ranking_question,
    question_items,
    ranking_questions,
    set_ranking_in_draft,
)
from delphi.panels.settings import PanelInput, update_panel, validate_panel_input
from delphi.rounds import lookup, transitions
from delphi.settings import Settings
from tests.factories import ACTOR, NOW, build_draft_panel, make_panel

ITEMS = "Shorter waits\nLonger opening hours\n  More   staff \n\nA quiet room\n"


async def count(session: AsyncSession, model: type, *where) -> int:
    return await session.scalar(select(func.count()).select_from(model).where(*where)) or 0


async def actions(session: AsyncSession) -> list[str]:
    return list((await session.scalars(select(AuditEvent.action).order_by(AuditEvent.id))).all())


async def test_a_new_question_keeps_its_items_in_order_and_joins_the_draft_round(
    session: AsyncSession,
) -> None:
    panel = await build_draft_panel(session)
    question = await add_ranking_question(session, panel, "  Put these   in order ", ITEMS, False, ACTOR)
    await session.commit()
    assert question.text == "Put these in order"
    items = await question_items(session, question.id)
    assert [i.text for i in items] == ["Shorter waits", "Longer opening hours", "More staff", "A quiet room"]
    round1 = await lookup.get_round(session, panel, 1)
    assert await count(session, RoundRanking, RoundRanking.round_id == round1.id) == 1
    (listing,) = await ranking_questions(session, panel.id)
    assert listing.in_draft and listing.editable and listing.asked_in == []
    assert "ranking.added" in await actions(session)


async def test_every_problem_of_a_question_is_listed_at_once_and_nothing_is_saved(
    session: AsyncSession,
) -> None:
    panel = await build_draft_panel(session)
    await session.commit()
    with pytest.raises(InvalidInput) as refused:
        await add_ranking_question(session, panel, "   ", "Waits\nwaits\n" + "x" * 501, False, ACTOR)
    fields = [f for f, _ in refused.value.errors]
    messages = " ".join(m for _, m in refused.value.errors)
    assert fields == ["text", "items", "items"]
    assert "Enter the question" in messages and "too long" in messages and "listed twice" in messages
    await session.rollback()
    assert await count(session, RankingQuestion) == 0


@pytest.mark.parametrize(
    ("items", "message"),
    [("Only one", "at least 2 items"), ("\n".join(f"Item {i}" for i in range(13)), "at most 12 items")],
)
async def test_a_question_needs_two_to_twelve_items(session: AsyncSession, items: str, message: str) -> None:
    panel = await build_draft_panel(session)
    with pytest.raises(InvalidInput) as refused:
        await add_ranking_question(session, panel, "Order these", items, False, ACTOR)
    assert message in refused.value.errors[0][1]


async def test_editing_an_unasked_question_rewrites_its_items_by_position(session: AsyncSession) -> None:
    panel = await build_draft_panel(session)
    question = await add_ranking_question(session, panel, "Order these", "A\nB\nC", False, ACTOR)
    first_id = (await question_items(session, question.id))[0].id
    await edit_ranking_question(session, panel, question.id, "Order these now", "A1\nB", True, ACTOR)
    await session.commit()
    items = await question_items(session, question.id)
    assert [i.text for i in items] == ["A1", "B"] and items[0].id == first_id
    assert question.allow_ties and question.text == "Order these now"
    assert await count(session, RankingItem) == 2
    assert "ranking.edited" in await actions(session)


async def test_a_question_asked_in_an_opened_round_can_no_longer_be_edited_or_deleted(
    session: AsyncSession, settings: Settings
) -> None:
    panel = await build_draft_panel(session)
    question = await add_ranking_question(session, panel, "Order these", "A\nB\nC", False, ACTOR)
    round1 = await lookup.get_round(session, panel, 1)
    await transitions.open_round(session, panel, round1, now=NOW, settings=settings, actor=ACTOR)
    await session.commit()
    with pytest.raises(Conflict, match="asked in round 1"):
        await edit_ranking_question(session, panel, question.id, "Other", "A\nB", False, ACTOR)
    with pytest.raises(Conflict, match="asked in round 1"):
        await delete_ranking_question(session, panel, question.id, ACTOR)
    (listing,) = await ranking_questions(session, panel.id)
    assert listing.asked_in == [1] and not listing.editable


async def test_deleting_an_unasked_question_removes_its_items_and_its_place_in_the_draft(
    session: AsyncSession,
) -> None:
    panel = await build_draft_panel(session)
    question = await add_ranking_question(session, panel, "Order these", "A\nB", False, ACTOR)
    await session.commit()
    await delete_ranking_question(session, panel, question.id, ACTOR)
    await session.commit()
    assert await count(session, RankingQuestion) == 0
    assert await count(session, RankingItem) == 0
    assert await count(session, RoundRanking) == 0
    assert "ranking.deleted" in await actions(session)


async def test_another_panels_question_is_not_found(session: AsyncSession) -> None:
    panel = await build_draft_panel(session)
    question = await add_ranking_question(session, panel, "Order these", "A\nB", False, ACTOR)
    await session.commit()
    other = await make_panel(session, "Another panel")
    with pytest.raises(NotFound):
        await delete_ranking_question(session, other, question.id, ACTOR)


async def test_a_question_can_be_dropped_from_and_added_back_to_the_draft(session: AsyncSession) -> None:
    panel = await build_draft_panel(session)
    question = await add_ranking_question(session, panel, "Order these", "A\nB", False, ACTOR)
    await set_ranking_in_draft(session, panel, question.id, False, ACTOR)
    assert await count(session, RoundRanking) == 0
    await set_ranking_in_draft(session, panel, question.id, True, ACTOR)
    assert await count(session, RoundRanking) == 1
    assert (await actions(session))[-2:] == ["ranking.dropped", "ranking.included"]


@pytest.mark.parametrize("value", ["0", "1.5", "-0.2", "nan", "high", "inf"])
def test_the_ranking_threshold_must_lie_above_0_and_at_most_1(value: str) -> None:
    problems = validate_panel_input(PanelInput(title="T", ranking_w_min=value), current_rule=None)
    assert [f for f, _ in problems] == ["ranking_w_min"]


async def test_the_ranking_threshold_is_saved_from_the_form_as_a_number(session: AsyncSession) -> None:
    panel = await build_draft_panel(session)
    changed = await update_panel(
        session, panel, PanelInput(title=panel.title, rule=panel.rule, ranking_w_min="0,8"), ACTOR
    )
    assert panel.ranking_w_min == pytest.approx(0.8)
    assert "ranking_w_min" in changed


async def test_the_ranking_threshold_is_locked_with_the_rule_when_round_1_opens(
    session: AsyncSession, settings: Settings
) -> None:
    panel = await build_draft_panel(session)
    round1 = await lookup.get_round(session, panel, 1)
    await transitions.open_round(
        session, panel, round1, now=NOW - timedelta(minutes=1), settings=settings, actor=ACTOR
    )
    await session.commit()
    locked = await session.scalar(select(AuditEvent).where(AuditEvent.action == "rule.locked"))
    assert locked is not None and locked.detail["ranking_w_min"] == pytest.approx(0.7)
    with pytest.raises(Conflict, match="the rule for ranking questions"):
        await update_panel(
            session, panel, PanelInput(title=panel.title, rule=panel.rule, ranking_w_min=0.5), ACTOR
        )
    assert panel.ranking_w_min == pytest.approx(0.7)
    # the same value posted again is no change
    await update_panel(
        session, panel, PanelInput(title=panel.title, rule=panel.rule, ranking_w_min="0.7"), ACTOR
    )
