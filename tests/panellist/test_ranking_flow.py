"""The way from the rating pages into the ranking questions, over HTTP on SQLite and PostgreSQL: the step
indicator counts the rating pages and then the ranking questions, the last rating page continues to the first
ranking question not answered yet, the rank page goes back to the previous step, and the panel page's button
resumes at the first unanswered statement page, then at the first unranked question."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from delphi.db.models import RankAnswer, RankingItem, RankingQuestion, Rating
from delphi.participation import paging
from tests.factories import World, add_rating, build_panel
from tests.panellist.conftest import enter, form_token, new_session
from tests.panellist.rankings import add_rank_answer, ask, make_ranking


@dataclass
class Flow:
    world: World
    first: RankingQuestion
    items: list[RankingItem]
    second: RankingQuestion
    second_items: list[RankingItem]


@pytest.fixture
async def flow(session: AsyncSession) -> Flow:
    """Round 1 open: two rating pages (three statements, then four) and two ranking questions: four steps."""
    w = await build_panel(session, consented=True)
    assert w.round is not None
    first, items = await make_ranking(session, w.panel, text="Which matters most to you?")
    second, second_items = await make_ranking(
        session, w.panel, ("Cost", "Speed", "Comfort"), text="What first?"
    )
    await ask(session, w.round, first, 0)
    await ask(session, w.round, second, 1)
    await session.commit()
    return Flow(w, first, items, second, second_items)


async def saved(engine: AsyncEngine) -> tuple[list[Rating], list[RankAnswer]]:
    async with new_session(engine) as s:
        return list((await s.scalars(select(Rating))).all()), list(
            (await s.scalars(select(RankAnswer))).all()
        )


def page_form(token: str, statement_ids: list[int], value: int, action: str) -> dict[str, str]:
    return {"_csrf_token": token, "action": action, **{f"s{sid}": str(value) for sid in statement_ids}}


def home_button(html: str) -> str:
    """The href of the panel page's first primary button."""
    return html.split('<a class="button" href="')[1].split('"')[0]


# --- the pure rules -----------------------------------------------------------------------------------------


def test_after_the_ratings_comes_the_first_unanswered_ranking_else_the_first() -> None:
    assert paging.next_ranking([(7, True), (8, False), (9, False)]) == 8
    assert paging.next_ranking([(7, True), (8, True)]) == 7
    assert paging.next_ranking([]) is None


def test_a_panellist_resumes_at_a_ranking_only_once_every_statement_is_answered() -> None:
    assert paging.resume_ranking(False, [(7, False)], 2) is None
    assert paging.resume_ranking(True, [(7, True), (8, False)], 2) == 8
    assert paging.resume_ranking(True, [(7, True), (8, True)], 2) is None  # all done: the last rating page
    assert paging.resume_ranking(True, [(7, True), (8, True)], 0) == 7  # rankings only: the first question
    assert paging.resume_ranking(True, [], 0) is None


# --- the pages ----------------------------------------------------------------------------------------------


async def test_the_rating_pages_count_the_ranking_questions_as_further_steps(client, flow) -> None:
    await enter(client, flow.world.token)
    first = (await client.get("/panel/rate?page=1")).text
    assert "Step 1 of 4" in first
    last = (await client.get("/panel/rate?page=2")).text
    assert "Step 2 of 4" in last
    assert (
        '<button type="submit" class="button" name="action" value="next">Save and continue</button>' in last
    )
    assert 'value="review"' not in last


async def test_the_last_rating_pages_next_leads_to_the_first_unanswered_ranking_question(
    client, flow, session, engine
) -> None:
    await enter(client, flow.world.token)
    ids = [s.id for s in flow.world.statements]
    token = await form_token(client, "/panel/rate?page=2")
    moved = await client.post(
        "/panel/rate?page=2", data=page_form(token, ids[3:], 4, "next"), follow_redirects=False
    )
    assert moved.status_code == 303 and moved.headers["location"] == f"/panel/rank/{flow.first.id}"
    ratings, _ = await saved(engine)
    assert sorted(r.statement_id for r in ratings) == sorted(ids[3:])

    assert flow.world.round is not None
    await add_rank_answer(
        session, flow.world.round, flow.first, flow.world.panellist, [1, 2, 3], items=flow.items
    )
    await session.commit()
    resumed = await client.post(
        "/panel/rate?page=2", data=page_form(token, ids[3:], 4, "next"), follow_redirects=False
    )
    assert resumed.status_code == 303 and resumed.headers["location"] == f"/panel/rank/{flow.second.id}"
    review = await client.post(
        "/panel/rate?page=2", data=page_form(token, ids[3:], 4, "review"), follow_redirects=False
    )
    assert review.headers["location"] == "/panel/review"


async def test_the_rank_page_shows_the_step_and_goes_back_to_the_last_rating_page_saving_nothing_empty(
    client, flow, engine
) -> None:
    await enter(client, flow.world.token)
    page = (await client.get(f"/panel/rank/{flow.first.id}")).text
    assert "Step 3 of 4" in page and "Ranking question 1 of 2" in page
    assert (
        '<button type="submit" class="button button--secondary" name="action" value="previous">Save and go back'
        in page
    )
    assert "Step 4 of 4" in (await client.get(f"/panel/rank/{flow.second.id}")).text
    token = await form_token(client, f"/panel/rank/{flow.first.id}")
    empty = {"_csrf_token": token, "action": "previous", **{f"i{i.id}": "" for i in flow.items}}
    back = await client.post(f"/panel/rank/{flow.first.id}", data=empty, follow_redirects=False)
    assert back.status_code == 303 and back.headers["location"] == "/panel/rate?page=2"
    later = await client.post(
        f"/panel/rank/{flow.first.id}", data={**empty, "action": "later"}, follow_redirects=False
    )
    assert later.status_code == 303 and later.headers["location"] == "/panel?saved=1"
    assert (await saved(engine))[1] == []


async def test_going_back_from_a_ranking_saves_it_and_leads_to_the_previous_question(
    client, flow, engine
) -> None:
    await enter(client, flow.world.token)
    token = await form_token(client, f"/panel/rank/{flow.second.id}")
    chosen = {f"i{i.id}": str(r) for i, r in zip(flow.second_items, [3, 1, 2], strict=True)}
    back = await client.post(
        f"/panel/rank/{flow.second.id}",
        data={"_csrf_token": token, "action": "previous", **chosen},
        follow_redirects=False,
    )
    assert back.status_code == 303 and back.headers["location"] == f"/panel/rank/{flow.first.id}"
    (row,) = (await saved(engine))[1]
    assert row.question_id == flow.second.id and row.ranks == {k[1:]: int(v) for k, v in chosen.items()}


async def test_going_back_with_a_partial_ranking_is_refused_and_saves_nothing(client, flow, engine) -> None:
    await enter(client, flow.world.token)
    token = await form_token(client, f"/panel/rank/{flow.first.id}")
    partial = {"_csrf_token": token, "action": "previous", f"i{flow.items[0].id}": "1"}
    refused = await client.post(f"/panel/rank/{flow.first.id}", data=partial)
    assert refused.status_code == 400
    assert 'class="error-summary"' in refused.text and "Step 3 of 4" in refused.text
    assert (await saved(engine))[1] == []


async def test_another_panels_question_answers_going_back_as_unknown(client, flow, session) -> None:
    other = await build_panel(session, consented=True, first=50)
    question, _ = await make_ranking(session, other.panel)
    assert other.round is not None
    await ask(session, other.round, question)
    await session.commit()
    await enter(client, flow.world.token)
    token = await form_token(client, f"/panel/rank/{flow.first.id}")
    response = await client.post(
        f"/panel/rank/{question.id}",
        data={"_csrf_token": token, "action": "previous"},
        follow_redirects=False,
    )
    assert response.status_code == 404


async def test_the_panel_page_resumes_at_the_first_unanswered_page_then_the_first_unranked_question(
    client, flow, session
) -> None:
    await enter(client, flow.world.token)
    assert home_button((await client.get("/panel")).text) == "/panel/rate?page=1"
    assert flow.world.round is not None
    await add_rating(session, flow.world.round, flow.world.statements[0], flow.world.panellist, 3)
    await session.commit()
    assert home_button((await client.get("/panel")).text) == "/panel/rate?page=1"
    for st in flow.world.statements[1:3]:
        await add_rating(session, flow.world.round, st, flow.world.panellist, 3)
    await session.commit()
    assert home_button((await client.get("/panel")).text) == "/panel/rate?page=2"

    for st in flow.world.statements[3:]:
        await add_rating(session, flow.world.round, st, flow.world.panellist, 5)
    await session.commit()
    home = (await client.get("/panel")).text
    assert home_button(home) == f"/panel/rank/{flow.first.id}" and ">Continue</a>" in home
    await add_rank_answer(session, flow.world.round, flow.first, flow.world.panellist, unable=True)
    await session.commit()
    assert home_button((await client.get("/panel")).text) == f"/panel/rank/{flow.second.id}"
    await add_rank_answer(
        session, flow.world.round, flow.second, flow.world.panellist, [1, 2, 3], items=flow.second_items
    )
    await session.commit()
    home = (await client.get("/panel")).text
    assert home_button(home) == "/panel/rate?page=2" and "Continue rating" in home  # all answered


async def test_a_round_of_rankings_only_starts_at_its_first_question_with_no_way_back(
    client, session
) -> None:
    w = await build_panel(session, consented=True, sections=())
    assert w.round is not None
    first, _ = await make_ranking(session, w.panel)
    second, _ = await make_ranking(session, w.panel, text="What first?")
    await ask(session, w.round, first, 0)
    await ask(session, w.round, second, 1)
    await session.commit()
    await enter(client, w.token)
    home = (await client.get("/panel")).text
    assert home_button(home) == f"/panel/rank/{first.id}" and ">Start</a>" in home
    page = (await client.get(f"/panel/rank/{first.id}")).text
    assert "Step 1 of 2" in page and 'value="previous"' not in page
    assert 'value="previous"' in (await client.get(f"/panel/rank/{second.id}")).text


async def test_a_round_without_rankings_still_ends_its_last_page_at_the_review(client, session) -> None:
    w = await build_panel(session, consented=True)
    await session.commit()
    await enter(client, w.token)
    last = (await client.get("/panel/rate?page=2")).text
    assert "Step 2 of 2" in last and 'value="review">Save and check your answers</button>' in last
    token = await form_token(client, "/panel/rate?page=2")
    ids = [s.id for s in w.statements[3:]]
    moved = await client.post(
        "/panel/rate?page=2", data=page_form(token, ids, 2, "next"), follow_redirects=False
    )
    assert moved.status_code == 303 and moved.headers["location"] == "/panel/review"
