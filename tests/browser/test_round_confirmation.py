"""A facilitator closes a round in real Chromium on a 360 px phone, keyboard only, JavaScript off: the round
page's "Close" leads to a confirmation page that says what will happen in numbers (axe-core: no violations),
and only its button closes the round."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from delphi.db.engine import make_engine, make_sessionmaker
from delphi.db.models import Panel
from delphi.domain import PanelRole
from delphi.settings import DatabaseSettings
from tests import factories as f
from tests.browser.conftest import LiveServer
from tests.browser.test_panellist_journey import PHONE, check, db_rows, new_page, no_horizontal_scroll, tab_to

pytestmark = pytest.mark.browser

FACILITATOR = "closer@facilitators.example"
PANEL_A = "Involving people in decisions about their treatment"  # tests/browser/seed.py: round 1 open


async def add_owner(server: LiveServer) -> int:
    """Make :data:`FACILITATOR` the owner of panel A; returns the panel's id."""
    engine = make_engine(DatabaseSettings(url=server.db_url), null_pool=True)
    try:
        async with make_sessionmaker(engine)() as s, s.begin():
            panel = await s.scalar(select(Panel).where(Panel.title == PANEL_A))
            assert panel is not None
            await f.grant(s, panel, await f.make_account(s, FACILITATOR), PanelRole.OWNER)
            return panel.id
    finally:
        await engine.dispose()


async def sign_in(page: Any, server: LiveServer) -> None:
    """Sign in as :data:`FACILITATOR` through the login form, by keyboard."""
    await page.goto(f"{server.base_url}/login")
    await page.fill("input[name=email]", FACILITATOR)
    await page.fill("input[name=password]", f.PASSWORD)
    await tab_to(page, "button[type=submit]")
    async with page.expect_navigation():
        await page.keyboard.press("Enter")
    assert "Your panels" in await page.inner_text("main")


async def test_closing_a_round_asks_first_on_an_accessible_page_by_keyboard_without_javascript(
    browser, live_server: LiveServer
) -> None:
    pid = await add_owner(live_server)
    # axe-core needs JavaScript: the same page, signed in with it on, is checked first
    with_js = await new_page(browser, PHONE)
    await sign_in(with_js, live_server)
    await with_js.goto(f"{live_server.base_url}/panels/{pid}/rounds/1/close")
    await check(with_js, "confirm-close")
    await no_horizontal_scroll(with_js)

    page = await new_page(browser, PHONE, javascript=False)
    await sign_in(page, live_server)

    await page.goto(f"{live_server.base_url}/panels/{pid}/rounds/1")
    await tab_to(page, f"form[action='/panels/{pid}/rounds/1/close'] button")
    await page.keyboard.press("Enter")
    await page.wait_for_url(f"**/panels/{pid}/rounds/1/close*")
    text = await page.inner_text("main")
    assert "Close round 1?" in text
    assert "This closes round 1: its 7 statements get their results" in text  # seed: 3 + 4 statements
    assert "0 panellists sent their answers." in text
    await no_horizontal_scroll(page)
    assert db_rows(live_server, "SELECT status FROM rounds WHERE panel_id = ? AND number = 1", pid) == [
        ("open",)
    ], "the confirmation page changes nothing"

    await tab_to(page, "button[type=submit].button--warning")
    await page.keyboard.press("Enter")
    await page.wait_for_url(f"**/panels/{pid}/rounds/1?closed=1")
    assert db_rows(live_server, "SELECT status FROM rounds WHERE panel_id = ? AND number = 1", pid) == [
        ("closed",)
    ]
