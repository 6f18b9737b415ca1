"""From the rating pages into the ranking questions in real Chromium: keyboard only on a 360 px phone (axe-core
clean at every step) and with JavaScript off: the panel page's button, "Step n of 3", the last rating page's
"Save and continue" to the first ranking question, "Save and go back" to the rating page, and on to the review.
The rows are added to the live server's database by this module."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass

import pytest

from delphi.db.engine import make_engine, make_sessionmaker
from delphi.settings import DatabaseSettings
from tests import factories as f
from tests.browser.conftest import LiveServer
from tests.browser.test_panellist_journey import PHONE, check, db_rows, new_page, no_horizontal_scroll, tab_to
from tests.browser.test_ranking import choose_by_keyboard
from tests.panellist.rankings import ask, make_ranking

pytestmark = pytest.mark.browser


@dataclass(frozen=True)
class Walker:
    token: str
    panellist_id: int
    statement_id: int
    questions: tuple[int, int]
    item_ids: tuple[int, ...]


async def _seed(db_url: str) -> dict[str, Walker]:
    """A panel with round 1 open: one statement (one rating page) and two ranking questions; two people."""
    engine = make_engine(DatabaseSettings(url=db_url), null_pool=True)
    out: dict[str, Walker] = {}
    try:
        async with make_sessionmaker(engine)() as s, s.begin():
            panel = await f.make_panel(s, title="Rating then ranking")
            groups = await f.make_groups(s, panel)
            (statement,) = await f.make_statements(s, panel, (("Information", 1),))
            rnd = await f.make_round(s, panel, [statement], 1)
            first, items = await make_ranking(
                s, panel, text="Which matters most to you when you see a doctor?"
            )
            second, _ = await make_ranking(
                s, panel, ("Cost", "Speed", "Comfort"), text="What should come first?"
            )
            await ask(s, rnd, first, 0)
            await ask(s, rnd, second, 1)
            for n, who in enumerate(("keyboard", "nojs"), start=1):
                person, token = await f.make_panellist(s, panel, groups[0], 300 + n, consented=True)
                out[who] = Walker(
                    token, person.id, statement.id, (first.id, second.id), tuple(i.id for i in items)
                )
    finally:
        await engine.dispose()
    return out


@pytest.fixture(scope="module")
def walkers(live_server: LiveServer) -> dict[str, Walker]:
    return asyncio.run(_seed(live_server.db_url))


def rank_rows(server: LiveServer, who: Walker) -> list[tuple]:
    return db_rows(
        server,
        "SELECT question_id, ranks, unable FROM rank_answers WHERE panellist_id = ? ORDER BY question_id",
        who.panellist_id,
    )


async def test_the_rating_page_leads_into_the_ranking_questions_by_keyboard_on_a_phone(
    browser, live_server: LiveServer, walkers: dict[str, Walker]
) -> None:
    who = walkers["keyboard"]
    first, second = who.questions
    page = await new_page(browser, PHONE)
    await page.goto(f"{live_server.base_url}/p/{who.token}")
    await page.wait_for_url("**/panel")
    await tab_to(page, "a.button[href='/panel/rate?page=1']")
    await page.keyboard.press("Enter")
    await page.wait_for_url("**/panel/rate?page=1")
    assert "Step 1 of 3" in await page.inner_text("main")
    await tab_to(page, f"input[name='s{who.statement_id}']")
    await page.keyboard.press("Space")
    await tab_to(page, "button[value=next]")
    await page.keyboard.press("Enter")
    await page.wait_for_url(f"**/panel/rank/{first}")
    assert "Step 2 of 3" in await page.inner_text("main")
    await check(page, "rank-flow-step2")
    await no_horizontal_scroll(page)

    # back with nothing chosen: the rating page again, nothing saved; its "Save and continue" comes back here
    await tab_to(page, "button[value=previous]")
    await page.keyboard.press("Enter")
    await page.wait_for_url("**/panel/rate?page=1")
    assert rank_rows(live_server, who) == []
    await tab_to(page, "button[value=next]")
    await page.keyboard.press("Enter")
    await page.wait_for_url(f"**/panel/rank/{first}")

    a, b, c = who.item_ids
    await choose_by_keyboard(page, a, 2)
    await choose_by_keyboard(page, b, 1)
    await choose_by_keyboard(page, c, 3)
    await tab_to(page, "button[value=next]")
    await page.keyboard.press("Enter")
    await page.wait_for_url(f"**/panel/rank/{second}")
    assert "Step 3 of 3" in await page.inner_text("main")
    await check(page, "rank-flow-step3")
    await tab_to(page, "#unable")
    await page.keyboard.press("Space")
    await tab_to(page, "button[value=next]")
    await page.keyboard.press("Enter")
    await page.wait_for_url("**/panel/review")
    rows = rank_rows(live_server, who)
    assert [(q, json.loads(r), u) for q, r, u in rows] == [
        (first, {str(a): 2, str(b): 1, str(c): 3}, 0),
        (second, {}, 1),
    ]


async def test_the_panel_page_resumes_at_the_first_unranked_question_with_javascript_off(
    browser, live_server: LiveServer, walkers: dict[str, Walker]
) -> None:
    who = walkers["nojs"]
    first, second = who.questions
    page = await new_page(browser, PHONE, javascript=False)
    await page.goto(f"{live_server.base_url}/p/{who.token}")
    await page.goto(f"{live_server.base_url}/panel/rate?page=1")
    await page.check(f"input[name='s{who.statement_id}'][value='4']")
    await page.click("button[value=next]")
    await page.wait_for_url(f"**/panel/rank/{first}")
    await page.check("#unable")
    await page.click("button[value=later]")
    await page.wait_for_url("**/panel?saved=1")
    button = page.locator(".actions a.button").first
    assert (
        await button.get_attribute("href") == f"/panel/rank/{second}"
        and await button.inner_text() == "Continue"
    )
    await button.click()
    await page.wait_for_url(f"**/panel/rank/{second}")
    await page.click("button[value=previous]")
    await page.wait_for_url(f"**/panel/rank/{first}")
    assert await page.is_checked("#unable")
