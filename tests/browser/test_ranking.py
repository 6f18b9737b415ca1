"""Ranking questions in real Chromium: at 360 px and by keyboard only, a repeated rank is refused with the error
summary, fixed and saved; the same with JavaScript off; axe-core finds nothing on the rank page, in round 1 and
with last round's order in round 2.  The rows are added to the live server's database by this module."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

import pytest

from delphi.db.engine import make_engine, make_sessionmaker
from delphi.settings import DatabaseSettings
from tests import factories as f
from tests.browser.conftest import LiveServer
from tests.browser.test_panellist_journey import (
    PHONE,
    check,
    db_rows,
    new_page,
    no_horizontal_scroll,
    tab_to,
)
from tests.panellist.rankings import add_rank_answer, add_ranking_result, ask, make_ranking

pytestmark = pytest.mark.browser


@dataclass(frozen=True)
class Ranker:
    token: str
    panellist_id: int
    question_id: int
    item_ids: tuple[int, ...]


async def _seed(db_url: str) -> dict[str, Ranker]:
    """Panel R (round 1 open, one ranking question, two people) and panel S (round 2 open, round 1's frozen
    ranking result with two groups)."""
    engine = make_engine(DatabaseSettings(url=db_url), null_pool=True)
    out: dict[str, Ranker] = {}
    try:
        async with make_sessionmaker(engine)() as s, s.begin():
            r = await f.make_panel(s, title="Ranking panel")
            groups = await f.make_groups(s, r)
            statements = await f.make_statements(s, r, (("Information", 1),))
            rnd = await f.make_round(s, r, statements, 1)
            question, items = await make_ranking(
                s, r, text="Which matters most to you when you see a doctor?"
            )
            await ask(s, rnd, question)
            for n, who in enumerate(("keyboard", "nojs"), start=1):
                person, token = await f.make_panellist(s, r, groups[0], 100 + n, consented=True)
                out[who] = Ranker(token, person.id, question.id, tuple(i.id for i in items))

            fb = await f.make_panel(s, title="Ranking round two", k_min=3)
            users, practitioners = await f.make_groups(s, fb)
            me, token = await f.make_panellist(s, fb, users, 200, consented=True)
            question, items = await make_ranking(
                s, fb, text="Which matters most to you when you see a doctor?"
            )
            r1 = await f.make_round(s, fb, [], 1, status="closed")
            await ask(s, r1, question)
            await add_ranking_result(s, r1, question, items, [2.2, 1.4, 2.4], n=10)
            await add_ranking_result(s, r1, question, items, [2.0, 1.5, 2.5], n=6, group=users)
            await add_ranking_result(s, r1, question, items, [2.5, 1.25, 2.25], n=4, group=practitioners)
            await add_rank_answer(s, r1, question, me, [3, 1, 2], items=items)
            r2 = await f.make_round(s, fb, [], 2)
            await ask(s, r2, question)
            out["feedback"] = Ranker(token, me.id, question.id, tuple(i.id for i in items))
    finally:
        await engine.dispose()
    return out


@pytest.fixture(scope="module")
def rankers(live_server: LiveServer) -> dict[str, Ranker]:
    return asyncio.run(_seed(live_server.db_url))


async def choose_by_keyboard(page: Any, item_id: int, rank: int) -> None:
    """Tab to the item's rank list and pick ``rank`` with the arrow keys (the list stays closed)."""
    if not await page.evaluate(f"document.activeElement && document.activeElement.id === 'i{item_id}'"):
        await tab_to(page, f"#i{item_id}")
    await page.keyboard.press("Home")
    for _ in range(rank):
        await page.keyboard.press("ArrowDown")
    assert await page.evaluate(f"document.querySelector('#i{item_id}').value") == str(rank)


def saved_ranks(server: LiveServer, who: Ranker) -> list[tuple]:
    return db_rows(
        server,
        "SELECT ranks, unable FROM rank_answers WHERE panellist_id = ? AND question_id = ?",
        who.panellist_id,
        who.question_id,
    )


async def test_a_ranking_by_keyboard_on_a_phone_is_refused_for_a_repeated_rank_then_saved(
    browser, live_server: LiveServer, rankers: dict[str, Ranker]
) -> None:
    who = rankers["keyboard"]
    page = await new_page(browser, PHONE)
    await page.goto(f"{live_server.base_url}/p/{who.token}")
    await page.wait_for_url("**/panel")
    await tab_to(page, f"a[href='/panel/rank/{who.question_id}']")
    await page.keyboard.press("Enter")
    await page.wait_for_url(f"**/panel/rank/{who.question_id}")
    await check(page, "rank")
    await no_horizontal_scroll(page)

    first, second, third = who.item_ids
    await choose_by_keyboard(page, first, 1)
    await choose_by_keyboard(page, second, 1)
    await choose_by_keyboard(page, third, 3)
    await tab_to(page, "button[value=next]")
    await page.keyboard.press("Enter")
    await page.wait_for_selector(".error-summary")
    await page.wait_for_function(
        "document.activeElement.classList.contains('error-summary')", timeout=10_000
    )  # app.js moves the focus once it runs
    assert "both have rank 1" in await page.inner_text(".error-summary")
    await check(page, "rank-error")
    await no_horizontal_scroll(page)
    assert saved_ranks(live_server, who) == []

    # the error summary's link leads to the item to fix; what was chosen is still chosen
    await tab_to(page, f".error-summary a[href='#i{second}']")
    await page.keyboard.press("Enter")
    assert await page.evaluate(f"document.querySelector('#i{first}').value") == "1"
    await choose_by_keyboard(page, second, 2)
    await tab_to(page, "button[value=next]")
    await page.keyboard.press("Enter")
    await page.wait_for_url("**/panel/review")
    assert "Your rankings" in await page.inner_text("main")
    (row,) = saved_ranks(live_server, who)
    assert row[1] == 0 and json.loads(row[0]) == {str(first): 1, str(second): 2, str(third): 3}


async def test_ranking_works_with_javascript_off(
    browser, live_server: LiveServer, rankers: dict[str, Ranker]
) -> None:
    who = rankers["nojs"]
    page = await new_page(browser, PHONE, javascript=False)
    await page.goto(f"{live_server.base_url}/p/{who.token}")
    await page.goto(f"{live_server.base_url}/panel/rank/{who.question_id}")
    first, second, third = who.item_ids
    for item_id, rank in ((first, "2"), (second, "2"), (third, "1")):
        await page.select_option(f"#i{item_id}", rank)
    await page.click("button[value=next]")
    await page.wait_for_selector(".error-summary")
    assert saved_ranks(live_server, who) == []
    await page.select_option(f"#i{second}", "3")
    await page.click("button[value=next]")
    await page.wait_for_url("**/panel/review")
    (row,) = saved_ranks(live_server, who)
    assert row[1] == 0 and json.loads(row[0]) == {str(first): 2, str(second): 3, str(third): 1}

    # "unable to rank" replaces the ranking
    await page.goto(f"{live_server.base_url}/panel/rank/{who.question_id}")
    await page.check("#unable")
    await page.click("button[value=next]")
    await page.wait_for_url("**/panel/review")
    assert saved_ranks(live_server, who) == [("{}", 1)]


async def test_the_rank_page_with_last_rounds_order_is_accessible_at_360_px(
    browser, live_server: LiveServer, rankers: dict[str, Ranker]
) -> None:
    who = rankers["feedback"]
    page = await new_page(browser, PHONE)
    await page.goto(f"{live_server.base_url}/p/{who.token}")
    await page.goto(f"{live_server.base_url}/panel/rank/{who.question_id}")
    text = await page.inner_text("main")
    assert "What the panel said in round 1" in text and "1st: Being listened to (average rank 1.4)" in text
    await page.click(".groups summary")
    await check(page, "rank-feedback")
    await no_horizontal_scroll(page)
