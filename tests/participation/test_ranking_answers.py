"""Answering ranking questions: the check of a posted ranking (pure), saving it with one upsert under the write
checks of ratings, reading the round's rankings back, and submitting a round that asks rankings."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import RankAnswer, utcnow
from delphi.errors import InvalidInput
from delphi.participation import ranking, submit
from delphi.participation.issues import ConsentNeeded, Issue, RoundClosed
from tests.factories import add_rating, build_panel, make_panel
from tests.panellist.rankings import add_rank_answer, ask, make_ranking

ITEMS = [(11, "Waiting times"), (12, "Being listened to"), (13, "Clear letters"), (14, "Parking")]


def fields(result: object) -> list[str]:
    assert isinstance(result, list), result
    return [i.field for i in result if isinstance(i, Issue)]


# --- the pure check -----------------------------------------------------------------------------------------


def test_a_rank_for_every_item_is_stored_as_given_with_item_ids_as_text() -> None:
    clean = ranking.clean_ranking(ITEMS, False, {11: "2", 12: "1", 13: " 4 ", 14: 3}, False)
    assert clean == ranking.CleanRanking({"11": 2, "12": 1, "13": 4, "14": 3}, False)


def test_a_repeated_rank_is_refused_naming_both_items_when_ties_are_not_allowed() -> None:
    result = ranking.clean_ranking(ITEMS, False, {11: "1", 12: "1", 13: "2", 14: "3"}, False)
    assert fields(result) == ["i12"]
    assert result[0].text() == "“Waiting times” and “Being listened to” both have rank 1. Use each rank once."


@pytest.mark.parametrize(
    "ranks",
    [
        {11: "1", 12: "1", 13: "3", 14: "4"},  # competition ranking
        {11: "1", 12: "1", 13: "2", 14: "3"},  # dense ranking
        {11: "2", 12: "2", 13: "2", 14: "2"},  # everything equal
    ],
)
def test_with_ties_allowed_ranks_may_repeat_and_are_stored_as_given(ranks: dict[int, str]) -> None:
    clean = ranking.clean_ranking(ITEMS, True, ranks, False)
    assert clean == ranking.CleanRanking({str(k): int(v) for k, v in ranks.items()}, False)


def test_an_empty_ranking_is_refused_with_one_clear_message_on_the_first_item() -> None:
    result = ranking.clean_ranking(ITEMS, False, {11: "", 12: "", 13: "", 14: ""}, False)
    assert fields(result) == ["i11"]
    assert result[0].text() == "Put the items in order: give each a rank, or tick “Unable to rank”."
    assert fields(ranking.clean_ranking(ITEMS, False, {}, False)) == ["i11"]


def test_a_partial_ranking_is_refused_naming_every_item_left_without_a_rank() -> None:
    result = ranking.clean_ranking(ITEMS, False, {11: "1", 12: "", 13: "2"}, False)
    assert fields(result) == ["i12", "i14"]
    assert (
        result[0].text() == "Give “Being listened to” a rank too. Rank every item, or tick “Unable to rank”."
    )


@pytest.mark.parametrize("bad", ["0", "5", "-1", "two", "1.5", "١", True, 99, "9" * 40])
def test_a_rank_that_is_not_a_whole_number_from_1_to_n_is_refused(bad: object) -> None:
    result = ranking.clean_ranking(ITEMS, True, {11: bad, 12: "1", 13: "2", 14: "3"}, False)
    assert fields(result) == ["i11"]
    assert result[0].text() == "Choose a rank from 1 to 4 for “Waiting times”."


def test_an_item_that_is_not_the_questions_is_refused_even_with_unable() -> None:
    result = ranking.clean_ranking(ITEMS, False, {11: "1", 12: "2", 13: "3", 14: "4", 99: "1"}, False)
    assert fields(result) == [""]
    assert "not part of this question" in result[0].text()
    assert fields(ranking.clean_ranking(ITEMS, False, {99: "1"}, True)) == [""]


def test_unable_to_rank_is_stored_without_ranks_whatever_else_was_chosen() -> None:
    assert ranking.clean_ranking(ITEMS, False, {11: "1", 12: "1"}, True) == ranking.CleanRanking({}, True)
    assert ranking.clean_ranking(ITEMS, False, {}, True) == ranking.CleanRanking({}, True)


def test_every_problem_is_listed_at_once() -> None:
    result = ranking.clean_ranking(ITEMS, False, {11: "1", 12: "1", 13: "seven"}, False)
    assert sorted(fields(result)) == ["i12", "i13", "i14"]


# --- saving -------------------------------------------------------------------------------------------------


async def _world(session: AsyncSession, *, consented: bool = True, status: str = "open", **round_kw):  # type: ignore[no-untyped-def]
    w = await build_panel(session, consented=consented, round_status=status, round_kw=round_kw or None)
    first, first_items = await make_ranking(session, w.panel, text="Which matters most?")
    second, second_items = await make_ranking(
        session, w.panel, ("Cost", "Speed"), text="Which comes first?", allow_ties=True
    )
    assert w.round is not None
    await ask(session, w.round, second, position=1)
    await ask(session, w.round, first, position=0)
    await session.commit()
    return w, (first, first_items), (second, second_items)


async def _answers(session: AsyncSession) -> list[RankAnswer]:
    return list((await session.scalars(select(RankAnswer).execution_options(populate_existing=True))).all())


async def rolled_back(session: AsyncSession, *rows: object) -> None:
    """Roll back as the web layer does after a refusal, and load ``rows`` again (a rollback expires them)."""
    await session.rollback()
    for row in rows:
        await session.refresh(row)


def _form(items, ranks) -> dict[int, object]:  # type: ignore[no-untyped-def]
    return {i.id: str(r) for i, r in zip(items, ranks, strict=True)}


async def test_a_saved_ranking_is_one_row_and_saving_it_again_changes_nothing_twice(
    session: AsyncSession,
) -> None:
    w, (q, items), (second, _) = await _world(session)
    answer = ranking.RankingInput(q.id, _form(items, [3, 1, 2]))
    saved = await ranking.save_ranking(session, w.panellist, answer)
    await ranking.save_ranking(session, w.panellist, answer)
    await session.commit()
    assert saved.next_id == second.id and not saved.unable
    (row,) = await _answers(session)
    assert row.ranks == {str(items[0].id): 3, str(items[1].id): 1, str(items[2].id): 2} and not row.unable
    assert row.round_id == w.round.id and row.panellist_id == w.panellist.id


async def test_a_changed_answer_replaces_the_saved_one_and_unable_clears_the_ranks(
    session: AsyncSession,
) -> None:
    w, (q, items), _ = await _world(session)
    await ranking.save_ranking(session, w.panellist, ranking.RankingInput(q.id, _form(items, [1, 2, 3])))
    await ranking.save_ranking(
        session, w.panellist, ranking.RankingInput(q.id, _form(items, [1, 2, 3]), True)
    )
    await session.commit()
    (row,) = await _answers(session)
    assert row.unable and row.ranks == {}


async def test_a_refused_ranking_saves_nothing_and_keeps_the_saved_answer(session: AsyncSession) -> None:
    w, (q, items), _ = await _world(session)
    await ranking.save_ranking(session, w.panellist, ranking.RankingInput(q.id, _form(items, [1, 2, 3])))
    await session.commit()
    ids = [i.id for i in items]
    with pytest.raises(InvalidInput) as caught:
        await ranking.save_ranking(session, w.panellist, ranking.RankingInput(q.id, _form(items, [1, 1, 9])))
    await session.rollback()
    assert [i.field for i in caught.value.issues] == [f"i{ids[2]}", f"i{ids[1]}"]
    (row,) = await _answers(session)
    assert row.ranks == {str(ids[0]): 1, str(ids[1]): 2, str(ids[2]): 3}


async def test_the_last_ranking_question_has_no_next_one(session: AsyncSession) -> None:
    w, _, (q, items) = await _world(session)
    saved = await ranking.save_ranking(session, w.panellist, ranking.RankingInput(q.id, _form(items, [1, 1])))
    assert saved.next_id is None


async def test_saving_needs_consent(session: AsyncSession) -> None:
    w, (q, items), _ = await _world(session, consented=False)
    with pytest.raises(ConsentNeeded):
        await ranking.save_ranking(session, w.panellist, ranking.RankingInput(q.id, _form(items, [1, 2, 3])))
    await session.rollback()
    assert await _answers(session) == []


async def test_saving_after_the_closing_time_is_refused(session: AsyncSession) -> None:
    w, (q, items), _ = await _world(session, closes_at=utcnow() - timedelta(minutes=1))
    with pytest.raises(RoundClosed):
        await ranking.save_ranking(session, w.panellist, ranking.RankingInput(q.id, _form(items, [1, 2, 3])))
    await session.rollback()
    assert await _answers(session) == []


async def test_saving_in_a_closed_round_is_refused(session: AsyncSession) -> None:
    w, (q, items), _ = await _world(session, status="closed")
    with pytest.raises(RoundClosed):
        await ranking.save_ranking(session, w.panellist, ranking.RankingInput(q.id, _form(items, [1, 2, 3])))


async def test_a_question_the_round_does_not_ask_is_not_in_the_round_whoever_it_belongs_to(
    session: AsyncSession,
) -> None:
    w, _, _ = await _world(session)
    unasked, unasked_items = await make_ranking(session, w.panel, ("X", "Y"))
    other_panel = await make_panel(session, title="Another panel")
    theirs, their_items = await make_ranking(session, other_panel, ("X", "Y"))
    await session.commit()
    cases = [
        (unasked.id, _form(unasked_items, [1, 2])),
        (theirs.id, _form(their_items, [1, 2])),
        (999_999, {}),
    ]
    for qid, form in cases:
        with pytest.raises(ranking.RankingNotInRound) as caught:
            await ranking.save_ranking(session, w.panellist, ranking.RankingInput(qid, form))
        await rolled_back(session, w.panellist)
        assert caught.value.message == "This question is not part of the current round."
        with pytest.raises(ranking.RankingNotInRound):
            await ranking.load_rank_page(session, w.panellist, qid)
    assert await _answers(session) == []


# --- reading and submitting ---------------------------------------------------------------------------------


async def test_the_rounds_rankings_come_in_the_rounds_order_with_the_saved_answers(
    session: AsyncSession,
) -> None:
    w, (first, items), (second, _) = await _world(session)
    await add_rank_answer(session, w.round, first, w.panellist, [2, 1, 3], items=items)
    await session.commit()
    views = await ranking.round_rankings(session, w.panellist)
    assert [(v.id, v.number, v.answered) for v in views] == [(first.id, 1, True), (second.id, 2, False)]
    assert [i.text for i in views[0].order] == ["Being listened to", "Waiting times", "Clear letters"]
    page = await ranking.load_rank_page(session, w.panellist, first.id)
    assert (
        page.next_id == second.id and page.previous_id is None and page.total == 2 and page.feedback is None
    )
    assert [i.rank for i in page.question.items] == [2, 1, 3]


async def test_a_round_cannot_be_submitted_until_every_ranking_question_is_answered(
    session: AsyncSession,
) -> None:
    w, (first, items), (second, _) = await _world(session)
    for statement in w.statements:
        await add_rating(session, w.round, statement, w.panellist, 5)
    await add_rank_answer(
        session, w.round, first, w.panellist, [1, 2], items=items[:2]
    )  # partial: not answered
    await session.commit()
    with pytest.raises(InvalidInput) as caught:
        await submit.submit(session, w.panellist, send_receipt=False)
    await rolled_back(session, w.panellist, first, second, *items)
    assert [i.field for i in caught.value.issues] == [f"rk{first.id}", f"rk{second.id}"]
    assert (
        caught.value.issues[1].text() == "Rank the items of “Which comes first?”, or choose “Unable to rank”."
    )
    await ranking.save_ranking(session, w.panellist, ranking.RankingInput(first.id, _form(items, [1, 2, 3])))
    await ranking.save_ranking(session, w.panellist, ranking.RankingInput(second.id, {}, unable=True))
    receipt = await submit.submit(session, w.panellist, send_receipt=False)
    await session.commit()
    assert receipt.created


async def test_missing_statements_and_rankings_are_listed_together(session: AsyncSession) -> None:
    w, (first, _), (second, _) = await _world(session)
    with pytest.raises(InvalidInput) as caught:
        await submit.submit(session, w.panellist, send_receipt=False)
    got = [i.field for i in caught.value.issues]
    assert got == [f"s{s.id}" for s in w.statements] + [f"rk{first.id}", f"rk{second.id}"]
    assert await session.scalar(select(func.count()).select_from(RankAnswer)) == 0
