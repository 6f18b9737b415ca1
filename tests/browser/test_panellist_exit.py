"""Leaving a shared computer in real Chromium: "Quick exit" with and without JavaScript under the real
Content-Security-Policy, "Sign out" by keyboard on a phone, the back button after both, and the rating page's
message when a background save finds the session ended."""

from __future__ import annotations

import time
from typing import Any

import pytest

from delphi.web.panellist import session as panellist_session
from tests.browser.conftest import LiveServer
from tests.browser.test_panellist_journey import (
    DESKTOP,
    PHONE,
    check,
    db_rows,
    new_page,
    no_horizontal_scroll,
    tab_to,
)

pytestmark = pytest.mark.browser

NEUTRAL = "https://www.bbc.co.uk/weather"  # the default quick-exit page; answered locally, never fetched
TITLE = "Involving people in decisions about their treatment"


async def stub_neutral_site(page: Any) -> None:
    """Answer every request to the neutral site in the browser, so the test needs no network."""

    async def fulfil(route: Any) -> None:
        await route.fulfill(
            status=200, content_type="text/html", body="<!doctype html><title>Weather</title>"
        )

    await page.context.route("https://www.bbc.co.uk/**", fulfil)


def ended_at(server: LiveServer, who: str) -> object:
    rows = db_rows(
        server, "SELECT sessions_ended_at FROM panellists WHERE id = ?", server.people[who].panellist_id
    )
    return rows[0][0]


async def big_enough(page: Any, selector: str) -> None:
    box = await page.locator(selector).bounding_box()
    assert box is not None and box["width"] >= 44 and box["height"] >= 44, (selector, box)


async def test_quick_exit_without_javascript_leaves_under_the_real_csp_and_ends_the_session(
    browser, live_server: LiveServer
) -> None:
    """The form's 303 to the neutral site is allowed by the page's ``form-action``: Chromium asks for the
    neutral page (Playwright cannot answer a redirect hop, and this machine may have no network, so the test
    stops at the request) and reports no CSP violation."""
    page = await new_page(browser, PHONE, javascript=False, bypass_csp=False)
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))
    violations: list[str] = []
    page.on(
        "console", lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None
    )
    await page.goto(live_server.link("nojs"))
    await page.goto(f"{live_server.base_url}/panel/rate")
    await big_enough(page, "form[data-quick-exit] button")
    await no_horizontal_scroll(page)
    await tab_to(page, "form[data-quick-exit] button")
    await page.keyboard.press("Enter")
    for _ in range(100):
        if NEUTRAL in asked or violations:
            break
        await page.wait_for_timeout(50)
    assert violations == [] and NEUTRAL in asked
    assert ended_at(live_server, "nojs") is not None
    await page.context.close()


async def test_quick_exit_with_javascript_replaces_the_page_in_the_history(
    browser, live_server: LiveServer
) -> None:
    page = await new_page(browser, DESKTOP, bypass_csp=False)
    await stub_neutral_site(page)
    await page.goto(live_server.link("leaver"))
    await page.goto(f"{live_server.base_url}/panel/rate")
    await page.click("form[data-quick-exit] button")
    await page.wait_for_url(NEUTRAL)
    for _ in range(50):  # the beacon that ends the session may land just after the new page
        if ended_at(live_server, "leaver") is not None:
            break
        await page.wait_for_timeout(100)
    assert ended_at(live_server, "leaver") is not None
    await page.go_back()  # the rating page was replaced: back leads to the page before it, now signed out
    await page.wait_for_load_state("load")
    assert "/panel/rate" not in page.url
    assert TITLE not in await page.content()
    await page.context.close()


async def test_signing_out_by_keyboard_on_a_phone_shows_a_neutral_page(
    browser, live_server: LiveServer
) -> None:
    page = await new_page(browser, PHONE)
    await page.goto(live_server.link("desktop"))
    assert page.url.endswith("/panel/consent")
    before = await page.context.cookies()
    await big_enough(page, "form[action='/panel/sign-out'] button")
    await tab_to(page, "form[action='/panel/sign-out'] button")
    await page.keyboard.press("Enter")
    await page.wait_for_url("**/panel/signed-out")
    assert "You have signed out" in await page.inner_text("h1")
    assert TITLE not in await page.content()
    await check(page, "signed-out")
    await no_horizontal_scroll(page)
    await page.go_back()
    await page.wait_for_load_state("load")
    assert TITLE not in await page.content()

    # a copy of the cookie taken before signing out: "you have been signed out", accessible too
    await page.context.add_cookies(before)
    response = await page.goto(f"{live_server.base_url}/panel")
    assert response is not None and response.status == 401
    assert TITLE not in await page.content()
    await check(page, "session-over")
    await no_horizontal_scroll(page)
    await page.context.close()


async def test_the_rating_page_says_so_when_a_background_save_finds_the_session_ran_out(
    browser, live_server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    person = live_server.people["phone"]
    page = await new_page(browser, PHONE)
    await page.goto(live_server.link("phone"))
    await page.check("#consent")
    await page.click("main button[type=submit]")
    await page.wait_for_url("**/panel")
    await page.goto(f"{live_server.base_url}/panel/rate")
    # an hour passes without activity (the server runs in this process, on a thread)
    monkeypatch.setattr(panellist_session, "epoch_now", lambda: time.time() + 3600)

    sid = person.statement_ids[0]
    await page.click(f"label[for='s{sid}-6']")
    alert = page.locator("#session-alert")
    await alert.locator("p").first.wait_for()
    text = await alert.inner_text()
    assert "For your privacy, you were signed out" in text and "personal link" in text
    assert "still here" in text
    assert await page.is_checked(f"#s{sid}-6")  # what was chosen stays on the page
    assert "you have been signed out" in await page.inner_text(f"#status-{sid}")
    await check(page, "rate-session-ran-out")
    assert db_rows(live_server, "SELECT value FROM ratings WHERE panellist_id = ?", person.panellist_id) == []
    await page.context.close()
