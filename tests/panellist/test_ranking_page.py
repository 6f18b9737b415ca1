"""The ranking page over HTTP, on SQLite and PostgreSQL: one question per page with a labelled choice of rank per
item, the error summary for a refused ranking (nothing saved), the next question or the review after saving,
the panel page and the review listing the rankings, last round's released order from round 2, and the
authorization (another panel's question is answered like an unknown one)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from delphi.db.models import Panellist, RankAnswer, RankingItem, RankingQuestion, Round, Statement
from tests.factories import add_rating, build_panel, make_groups, make_panel, make_panellist, make_round
from tests.panellist.conftest import enter, form_token, new_session
from tests.panellist.rankings import add_rank_answer, add_ranking_result, ask, make_ranking


@dataclass
class Ranked:
    token: str
    panellist: Panellist
    round: Round
    first: RankingQuestion
    items: list[RankingItem]
    second: RankingQuestion
    second_items: list[RankingItem]
    statement_ids: list[int]


@pytest.fixture
async def ranked(session: AsyncSession) -> Ranked:
    """Round 1 open with two statements and two ranking questions (the second allows ties)."""
    w = await build_panel(session, consented=True, sections=(("Information", 2),))
    assert w.round is not None
    first, items = await make_ranking(session, w.panel, text="Which matters most to you?")
    second, second_items = await make_ranking(
        session, w.panel, ("Cost", "Speed", "Comfort"), text="What should come first?", allow_ties=True
    )
    await ask(session, w.round, first, 0)
    await ask(session, w.round, second, 1)
    await session.commit()
    return Ranked(
        w.token, w.panellist, w.round, first, items, second, second_items, [s.id for s in w.statements]
    )


async def answers(engine: AsyncEngine) -> list[RankAnswer]:
    async with new_session(engine) as s:
        return list((await s.scalars(select(RankAnswer).order_by(RankAnswer.id))).all())


def form(token: str, items: list[RankingItem], ranks: list[object], **extra: str) -> dict[str, str]:
    return {"_csrf_token": token, **{f"i{i.id}": str(r) for i, r in zip(items, ranks, strict=True)}, **extra}


async def test_the_page_has_a_labelled_choice_of_rank_per_item_and_an_unable_box(client, ranked) -> None:
    await enter(client, ranked.token)
    page = await client.get(f"/panel/rank/{ranked.first.id}")
    assert page.status_code == 200
    html = page.text
    assert "<h1" in html and "Which matters most to you?" in html
    assert "Ranking question 1 of 2" in html
    for item in ranked.items:
        assert f'<label for="i{item.id}">{item.text}</label>' in html
        assert f'<select id="i{item.id}" name="i{item.id}"' in html
    assert '<option value="1">1 – first</option>' in html and '<option value="3">3 – last</option>' in html
    assert '<input type="checkbox" id="unable" name="unable" value="1"' in html
    assert "Use each rank once." in html
    assert "draggable" not in html
    ties = await client.get(f"/panel/rank/{ranked.second.id}")
    assert "Two or more items may share a rank" in ties.text


async def test_a_saved_ranking_goes_to_the_next_question_then_to_the_review(client, ranked, engine) -> None:
    await enter(client, ranked.token)
    token = await form_token(client, f"/panel/rank/{ranked.first.id}")
    saved = await client.post(
        f"/panel/rank/{ranked.first.id}", data=form(token, ranked.items, [2, 1, 3]), follow_redirects=False
    )
    assert saved.status_code == 303 and saved.headers["location"] == f"/panel/rank/{ranked.second.id}"
    again = await client.post(
        f"/panel/rank/{ranked.first.id}", data=form(token, ranked.items, [2, 1, 3]), follow_redirects=False
    )
    assert again.status_code == 303
    last = await client.post(
        f"/panel/rank/{ranked.second.id}",
        data=form(token, ranked.second_items, [1, 1, 3]),
        follow_redirects=False,
    )
    assert last.status_code == 303 and last.headers["location"] == "/panel/review"
    rows = await answers(engine)
    assert [(r.question_id, r.ranks) for r in rows] == [
        (
            ranked.first.id,
            {str(ranked.items[0].id): 2, str(ranked.items[1].id): 1, str(ranked.items[2].id): 3},
        ),
        (ranked.second.id, {str(i.id): r for i, r in zip(ranked.second_items, [1, 1, 3], strict=True)}),
    ]
    page = await client.get(f"/panel/rank/{ranked.first.id}")
    assert (
        '<option value="2" selected>'
        in page.text.split(f'id="i{ranked.items[0].id}"')[1].split("</select>")[0]
    )


async def test_a_repeated_rank_is_refused_with_the_error_summary_and_nothing_is_saved(
    client, ranked, engine
) -> None:
    await enter(client, ranked.token)
    token = await form_token(client, f"/panel/rank/{ranked.first.id}")
    refused = await client.post(f"/panel/rank/{ranked.first.id}", data=form(token, ranked.items, [1, 1, ""]))
    assert refused.status_code == 400
    html = refused.text
    assert 'class="error-summary"' in html
    dup, missing = ranked.items[1], ranked.items[2]
    assert (
        f'<a href="#i{dup.id}">“Waiting times” and “Being listened to” both have rank 1. Use each rank once.</a>'
        in html
    )
    assert f'<a href="#i{missing.id}">Give “Clear letters” a rank too.' in html
    assert f'aria-describedby="i{dup.id}-error"' in html
    # what was chosen is still chosen
    chosen = html.split(f'id="i{dup.id}"')[1].split("</select>")[0]
    assert '<option value="1" selected>' in chosen
    assert await answers(engine) == []


async def test_an_empty_ranking_is_refused_and_unable_to_rank_is_saved(client, ranked, engine) -> None:
    await enter(client, ranked.token)
    token = await form_token(client, f"/panel/rank/{ranked.first.id}")
    empty = await client.post(f"/panel/rank/{ranked.first.id}", data=form(token, ranked.items, ["", "", ""]))
    assert empty.status_code == 400
    assert "Put the items in order: give each a rank, or tick “Unable to rank”." in empty.text
    unable = await client.post(
        f"/panel/rank/{ranked.first.id}",
        data=form(token, ranked.items, ["1", "", ""], unable="1", action="later"),
        follow_redirects=False,
    )
    assert unable.status_code == 303 and unable.headers["location"] == "/panel?saved=1"
    (row,) = await answers(engine)
    assert row.unable and row.ranks == {}


async def test_another_panels_question_is_answered_like_an_unknown_one(
    client, ranked, session, engine
) -> None:
    other = await make_panel(session, title="Another panel")
    theirs, their_items = await make_ranking(session, other, ("X", "Y"))
    (group,) = await make_groups(session, other, ("Everyone",))
    await make_panellist(session, other, group, 50, consented=True)
    their_round = await make_round(session, other, [], 1)
    await ask(session, their_round, theirs)
    await session.commit()
    await enter(client, ranked.token)
    token = await form_token(client, f"/panel/rank/{ranked.first.id}")
    pages = [await client.get(f"/panel/rank/{qid}") for qid in (theirs.id, 999_999)]
    assert [p.status_code for p in pages] == [404, 404]
    assert re.sub(r"\d+", "", pages[0].text) == re.sub(r"\d+", "", pages[1].text)
    posts = [
        await client.post(f"/panel/rank/{qid}", data=form(token, their_items, [1, 2]))
        for qid in (theirs.id, 999_999)
    ]
    assert [p.status_code for p in posts] == [404, 404]
    assert re.sub(r"\d+", "", posts[0].text) == re.sub(r"\d+", "", posts[1].text)
    assert "This question is not part of the current round." in posts[0].text
    assert await answers(engine) == []
    huge = await client.get(f"/panel/rank/{2**40}")
    assert huge.status_code == 404


async def test_without_a_session_the_page_asks_for_the_personal_link(client, ranked) -> None:
    response = await client.get(f"/panel/rank/{ranked.first.id}", follow_redirects=False)
    assert response.status_code == 403


async def test_before_consent_the_page_sends_to_the_consent_page(client, session) -> None:
    w = await build_panel(session)
    question, _ = await make_ranking(session, w.panel)
    await ask(session, w.round, question)
    await session.commit()
    await enter(client, w.token)
    response = await client.get(f"/panel/rank/{question.id}", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/panel/consent"


async def test_the_panel_page_and_the_review_list_the_rankings_with_links(client, ranked, session) -> None:
    await add_rank_answer(
        session, ranked.round, ranked.first, ranked.panellist, [2, 1, 3], items=ranked.items
    )
    await session.commit()
    await enter(client, ranked.token)
    home = (await client.get("/panel")).text
    assert (
        f'<a href="/panel/rank/{ranked.first.id}">Which matters most to you?</a> – <strong>ranked</strong>'
        in home
    )
    assert (
        f'<a href="/panel/rank/{ranked.second.id}">What should come first?</a> – <strong class="missing">not yet ranked</strong>'
        in home
    )
    review = (await client.get("/panel/review")).text
    assert "Your rankings" in review
    assert f'href="/panel/rank/{ranked.first.id}">Change' in review
    first_row = review.split(f'id="rk{ranked.first.id}"')[1].split("</div>")[0]
    assert (
        first_row.index("Being listened to")
        < first_row.index("Waiting times")
        < first_row.index("Clear letters")
    )
    second_row = review.split(f'id="rk{ranked.second.id}"')[1].split("</div>")[0]
    assert "Not answered yet" in second_row


async def test_submitting_lists_each_unranked_question_in_the_error_summary(client, ranked, session) -> None:
    for sid in ranked.statement_ids:
        statement = await session.get(Statement, sid)
        await add_rating(session, ranked.round, statement, ranked.panellist, 5)
    await add_rank_answer(session, ranked.round, ranked.first, ranked.panellist, items=[], unable=True)
    await session.commit()
    await enter(client, ranked.token)
    token = await form_token(client, "/panel/review")
    refused = await client.post("/panel/submit", data={"_csrf_token": token})
    assert refused.status_code == 400
    assert (
        f'<a href="#rk{ranked.second.id}">Rank the items of “What should come first?”, or choose “Unable to rank”.</a>'
        in refused.text
    )
    assert f"#rk{ranked.first.id}" not in refused.text
    assert f'id="rk{ranked.second.id}" tabindex="-1"' in refused.text


async def test_a_closed_round_sends_the_ranking_page_to_the_review(client, session) -> None:
    w = await build_panel(session, consented=True, round_status="closed")
    question, _ = await make_ranking(session, w.panel)
    await ask(session, w.round, question)
    await session.commit()
    await enter(client, w.token)
    response = await client.get(f"/panel/rank/{question.id}", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/panel/review"


# --- feedback from round 2 ----------------------------------------------------------------------------------


async def _round_two(
    session: AsyncSession, *, k: int, practitioners_n: int
) -> tuple[str, RankingQuestion, list[RankingItem]]:
    panel = await make_panel(session, k_min=k)
    users, practitioners = await make_groups(session, panel)
    me, token = await make_panellist(session, panel, users, 1, consented=True)
    question, items = await make_ranking(session, panel)
    r1 = await make_round(session, panel, [], 1, status="closed")
    await ask(session, r1, question)
    total = 6 + practitioners_n
    await add_ranking_result(session, r1, question, items, [2.2, 1.4, 2.4], n=total)
    await add_ranking_result(session, r1, question, items, [2.0, 1.5, 2.5], n=6, group=users)
    await add_ranking_result(
        session, r1, question, items, [2.5, 1.25, 2.25], n=practitioners_n, group=practitioners
    )
    await add_rank_answer(session, r1, question, me, [3, 1, 2], items=items)
    r2 = await make_round(session, panel, [], 2)
    await ask(session, r2, question)
    await session.commit()
    return token, question, items


async def test_round_two_shows_the_panels_order_the_own_order_and_a_chart_with_a_text_alternative(
    client, session
) -> None:
    token, question, _ = await _round_two(session, k=3, practitioners_n=4)
    await enter(client, token)
    html = (await client.get(f"/panel/rank/{question.id}")).text
    assert "What the panel said in round 1" in html
    assert "10 people put these items in order." in html
    order = html.split("The panel's order, by average rank")[1].split("</ul>")[0]
    assert "1st: Being listened to (average rank 1.4)" in order
    assert order.index("Being listened to") < order.index("Waiting times") < order.index("Clear letters")
    own = html.split("Your order in round 1")[1].split("</ul>")[0]
    assert (
        own.index("1st: Being listened to")
        < own.index("2nd: Clear letters")
        < own.index("3rd: Waiting times")
    )
    assert 'role="img"' in html and "<desc id=" in html
    assert "Average rank of each item, 1 = first." in html and "You ranked it 3rd." in html
    assert "Service users" in html and "Practitioners" in html
    assert "1st: Being listened to (average rank 1.25)" in html  # the practitioners' order, shown (4 >= k)


async def test_round_two_hides_a_group_under_k_and_the_group_that_would_give_it_away(client, session) -> None:
    token, question, _ = await _round_two(session, k=3, practitioners_n=2)
    await enter(client, token)
    html = (await client.get(f"/panel/rank/{question.id}")).text
    assert "1st: Being listened to (average rank 1.4)" in html  # pooled: 8 >= k
    assert "average rank 1.5)" not in html and "average rank 1.25)" not in html  # neither group's figures
    assert html.count("This group's answers are not shown") == 2


async def test_round_two_shows_no_figures_when_fewer_than_k_ranked(client, session) -> None:
    token, question, _ = await _round_two(session, k=20, practitioners_n=4)
    await enter(client, token)
    html = (await client.get(f"/panel/rank/{question.id}")).text
    assert "Too few people answered to show results." in html
    assert "average rank" not in html and 'role="img"' not in html
    assert (
        "1st: Being listened to" in html.split("Your order in round 1")[1]
    )  # their own order is theirs to see


async def test_a_round_of_rankings_only_says_so_on_the_panel_page_not_rated_0_of_0(client, session) -> None:
    w = await build_panel(session, consented=True, sections=())
    assert w.round is not None
    question, _ = await make_ranking(session, w.panel)
    await ask(session, w.round, question)
    await session.commit()
    await enter(client, w.token)
    home = (await client.get("/panel")).text
    assert "This round asks you to put a few lists in order." in home
    assert "You have rated" not in home and "Start rating" not in home
    assert f'href="/panel/rank/{question.id}"' in home and 'href="/panel/review"' in home
