"""The panellist's journey in real Chromium: keyboard only on a 360 px phone, with a mouse at desktop width,
with JavaScript off; axe-core on every panellist page (zero violations) and a screenshot of each page in
artifacts/screenshots/ for CI."""

from __future__ import annotations

import asyncio
import sqlite3
from typing import Any

import pytest

from tests.browser.conftest import AXE, SCREENSHOTS, LiveServer

pytestmark = pytest.mark.browser

PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 900}

#: True once the error summary has the focus.
FOCUSED_SUMMARY = "document.activeElement.classList.contains('error-summary')"

AXE_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map(n => n.target.join(" ") + " :: " + (n.failureSummary || "").slice(0, 200))
  }));
}"""


async def new_page(browser: Any, viewport: dict, *, javascript: bool = True, bypass_csp: bool = True) -> Any:
    """A page in a fresh context (fresh cookies).  ``bypass_csp`` lets the test inject axe-core as a script
    tag; the CSP itself is exercised by ``test_pages_keep_to_the_content_security_policy``."""
    context = await browser.new_context(
        viewport=viewport, java_script_enabled=javascript, bypass_csp=bypass_csp, reduced_motion="reduce"
    )
    return await context.new_page()


async def check(page: Any, name: str) -> None:
    """Run axe-core on the page (zero violations) and save a full-page screenshot."""
    await page.wait_for_load_state("load")
    width = page.viewport_size["width"]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / f"{name}-{width}.png"), full_page=True)
    await page.add_script_tag(path=str(AXE))
    violations = await page.evaluate(AXE_RUN)
    assert violations == [], f"axe-core found problems on {name} at {width} px ({page.url}): {violations}"


async def no_horizontal_scroll(page: Any) -> None:
    overflow = await page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{page.url} scrolls sideways by {overflow} px at {page.viewport_size['width']} px"


async def tab_to(page: Any, selector: str, limit: int = 120) -> None:
    """Press Tab until the focused element matches ``selector``."""
    for _ in range(limit):
        await page.keyboard.press("Tab")
        if await page.evaluate(
            "s => !!document.activeElement && document.activeElement.matches(s)", selector
        ):
            return
    raise AssertionError(f"{selector} cannot be reached with the Tab key on {page.url}")


async def all_saved(page: Any) -> None:
    await page.wait_for_function(
        "() => { const f = document.querySelector('form[data-autosave]'); return !f || f.dataset.pending === '0'; }"
    )


def db_rows(server: LiveServer, sql: str, *args: object) -> list[tuple]:
    path = server.db_url.split("///", 1)[1]
    with sqlite3.connect(path) as conn:
        return conn.execute(sql, args).fetchall()


async def rate_page_by_keyboard(page: Any, statement_ids: list[int], values: dict[int, object]) -> None:
    """Answer each statement on the page with the keyboard: Tab into the radio group, arrows to the value."""
    for sid in statement_ids:
        value = values[sid]
        await tab_to(page, f"input[name='s{sid}']")
        if value == "unable":
            await page.keyboard.press("End")  # not a radio key in every browser: fall back to arrows
            for _ in range(12):
                if await page.evaluate(
                    f"document.querySelector(\"input[name='s{sid}'][value='unable']\").checked"
                ):
                    break
                await page.keyboard.press("ArrowRight")
        else:
            await page.keyboard.press("Space")  # selects the focused (first) point
            for _ in range(int(value) - 1):  # type: ignore[call-overload]
                await page.keyboard.press("ArrowRight")
        checked = await page.evaluate(f"document.querySelector(\"input[name='s{sid}']:checked\").value")
        assert checked == str(value)
    await all_saved(page)


async def test_a_full_round_with_the_keyboard_on_a_phone(browser, live_server: LiveServer) -> None:
    person = live_server.people["phone"]
    page = await new_page(browser, PHONE)
    await page.goto(live_server.link("phone"))
    assert page.url.endswith("/panel/consent"), "the token must leave the address bar"
    await check(page, "consent")
    await no_horizontal_scroll(page)

    # agreeing without ticking the box shows a GOV.UK-style error summary that takes the focus
    await tab_to(page, "button[type=submit]")
    await page.keyboard.press("Enter")
    await page.wait_for_selector(".error-summary")
    await page.wait_for_function(
        "document.activeElement.classList.contains('error-summary')", timeout=10_000
    )  # app.js moves the focus once it runs
    await check(page, "consent-error")
    await tab_to(page, "#consent")
    await page.keyboard.press("Space")
    await tab_to(page, "button[type=submit]")
    await page.keyboard.press("Enter")
    await page.wait_for_url("**/panel")
    await check(page, "home")

    await tab_to(page, "a.button")
    await page.keyboard.press("Enter")
    await page.wait_for_url("**/panel/rate?page=1")
    await check(page, "rate-page1")
    await no_horizontal_scroll(page)
    ids = list(person.statement_ids)
    answers: dict[int, object] = {
        ids[0]: 7,
        ids[1]: 9,
        ids[2]: 2,
        ids[3]: 5,
        ids[4]: 8,
        ids[5]: 1,
        ids[6]: "unable",
    }
    await rate_page_by_keyboard(page, ids[:3], answers)
    # a comment, typed in the disclosure under the first statement
    await tab_to(page, f"#st-{ids[0]} summary")
    await page.keyboard.press("Enter")
    await page.keyboard.press("Tab")
    await page.keyboard.type("Short and clear, please.")
    await page.keyboard.press("Tab")  # leaving the box saves it
    await all_saved(page)
    assert "3 of 7 rated" in await page.inner_text("#progress")
    await tab_to(page, "button[value=next]")
    await page.keyboard.press("Enter")
    await page.wait_for_url("**/panel/rate?page=2")
    await check(page, "rate-page2")
    await rate_page_by_keyboard(page, ids[3:], answers)
    await tab_to(page, "button[value=review]")
    await page.keyboard.press("Enter")
    await page.wait_for_url("**/panel/review")
    await check(page, "review")

    await tab_to(page, "form[action='/panel/submit'] button")
    await page.keyboard.press("Enter")
    await page.wait_for_url("**/panel/done")
    assert "Thank you – your answers are in" in await page.inner_text("h1")
    assert "£15.00" in await page.inner_text("main")
    await check(page, "done")

    saved = dict(
        db_rows(
            live_server,
            "SELECT statement_id, CASE WHEN unable THEN 'unable' ELSE value END FROM ratings WHERE panellist_id = ?",
            person.panellist_id,
        )
    )
    assert saved == {sid: (str(v) if v == "unable" else v) for sid, v in answers.items()}
    assert db_rows(
        live_server,
        "SELECT comment FROM ratings WHERE statement_id = ? AND panellist_id = ?",
        ids[0],
        person.panellist_id,
    ) == [("Short and clear, please.",)]
    assert (
        len(db_rows(live_server, "SELECT id FROM submissions WHERE panellist_id = ?", person.panellist_id))
        == 1
    )

    # other pages a panellist can reach
    await page.goto(f"{live_server.base_url}/panel/suggest")
    await check(page, "suggest")
    await tab_to(page, "#text")
    await page.keyboard.type("Offer a peer mentor at the first appointment.")
    await tab_to(page, "form button[type=submit]")
    await page.keyboard.press("Enter")
    await page.wait_for_url("**/panel/suggest?sent=1")
    await check(page, "suggest-sent")
    await page.goto(
        f"{live_server.base_url}/panel/results"
    )  # the panel has not finished: a kind problem page
    await check(page, "problem")
    await page.goto(f"{live_server.base_url}/panel/leave")
    await check(page, "leave")
    await page.context.close()


async def test_answers_save_as_they_are_given_at_desktop_width(browser, live_server: LiveServer) -> None:
    person = live_server.people["desktop"]
    page = await new_page(browser, DESKTOP)
    await page.goto(live_server.link("desktop"))
    await page.check("#consent")
    await page.click("button[type=submit]")
    await page.wait_for_url("**/panel")
    await check(page, "home")
    await page.goto(f"{live_server.base_url}/panel/rate?page=1")
    ids = list(person.statement_ids)
    await page.click(f"label[for='s{ids[0]}-4']")
    await page.click(f"label[for='s{ids[0]}-6']")  # a change of mind: the later answer wins
    await page.click(f"label[for='s{ids[1]}-unable']")
    await all_saved(page)
    assert await page.inner_text(f"#status-{ids[0]}") == "Saved"
    await check(page, "rate-page1")
    # closing the tab without pressing a button loses nothing
    await page.context.close()
    page = await new_page(browser, DESKTOP)
    await page.goto(live_server.link("desktop"))
    assert "You have rated 2 of 7 statements." in await page.inner_text("main")
    await page.goto(f"{live_server.base_url}/panel/rate?page=1")
    assert await page.is_checked(f"#s{ids[0]}-6") and await page.is_checked(f"#s{ids[1]}-unable")
    await page.context.close()


async def test_the_rating_page_works_with_javascript_off(browser, live_server: LiveServer) -> None:
    person = live_server.people["nojs"]
    page = await new_page(browser, PHONE, javascript=False)
    await page.goto(live_server.link("nojs"))
    await page.goto(f"{live_server.base_url}/panel/rate?page=1")
    ids = list(person.statement_ids)
    for sid, value in zip(ids[:3], (3, 5, 9), strict=True):
        await page.click(f"label[for='s{sid}-{value}']")
    await page.click("button[value=next]")
    await page.wait_for_url("**/panel/rate?page=2")
    assert "3 of 7 rated" in await page.inner_text("#progress")
    await page.click("button[value=previous]")
    await page.wait_for_url("**/panel/rate?page=1")
    assert await page.is_checked(f"#s{ids[1]}-5")
    await page.context.close()


async def test_last_rounds_feedback_is_accessible_and_the_reason_prompt_follows_the_iqr(
    browser, live_server: LiveServer
) -> None:
    person = live_server.people["feedback"]
    for viewport in (PHONE, DESKTOP):
        page = await new_page(browser, viewport)
        await page.goto(live_server.link("feedback"))
        await page.goto(f"{live_server.base_url}/panel/rate?page=1")
        sid = person.statement_ids[0]
        reason = page.locator(f"[data-reason-for='{sid}']")
        await page.click(f"label[for='s{sid}-7']")
        assert not await reason.is_visible()
        await page.click(f"label[for='s{sid}-2']")
        assert await reason.is_visible()
        await all_saved(page)
        for details in await page.query_selector_all("details"):
            await details.evaluate("d => d.open = true")
        assert await page.locator("svg.chart[role=img]").count() >= 3
        await check(page, "rate-round2-feedback")
        await no_horizontal_scroll(page)
        await page.context.close()


async def test_results_leaving_and_a_broken_link_are_accessible(browser, live_server: LiveServer) -> None:
    for viewport in (PHONE, DESKTOP):
        page = await new_page(browser, viewport)
        await page.goto(live_server.link("results"))
        assert page.url.endswith("/panel/results")
        await check(page, "results")
        await no_horizontal_scroll(page)
        await page.goto(f"{live_server.base_url}/p/{'z' * 43}")
        await check(page, "link-problem")
        await page.context.close()
    page = await new_page(browser, PHONE)
    await page.goto(live_server.link("leaver"))
    await page.goto(f"{live_server.base_url}/panel/leave")
    await page.click("button[type=submit]")
    await page.wait_for_selector("text=You have left the panel")
    await check(page, "left")
    await page.context.close()
    assert db_rows(
        live_server, "SELECT status FROM panellists WHERE id = ?", live_server.people["leaver"].panellist_id
    ) == [("withdrawn",)]


async def test_pages_keep_to_the_content_security_policy(browser, live_server: LiveServer) -> None:
    """No inline script or style is blocked and panellist.js runs under the real CSP."""
    page = await new_page(browser, PHONE, bypass_csp=False)
    blocked: list[str] = []
    page.on(
        "console", lambda msg: blocked.append(msg.text) if "Content Security Policy" in msg.text else None
    )
    await page.add_init_script(
        "document.addEventListener('securitypolicyviolation', e => console.log("
        "'Content Security Policy violation: ' + e.violatedDirective + ' ' + e.blockedURI));"
    )
    await page.goto(live_server.link("feedback"))
    await page.goto(f"{live_server.base_url}/panel/rate?page=1")
    sid = live_server.people["feedback"].statement_ids[1]
    await page.click(f"label[for='s{sid}-8']")
    await all_saved(page)
    assert await page.inner_text(f"#status-{sid}") == "Saved"
    for path in ("/panel", "/panel/review", "/panel/suggest", "/panel/leave"):
        await page.goto(live_server.base_url + path)
    await asyncio.sleep(0)
    assert blocked == []
    await page.context.close()


async def test_the_api_reference_is_readable_and_within_the_content_security_policy(
    browser, live_server: LiveServer
) -> None:
    """``/schema`` lists every operation without third-party script, passes axe and fits a phone."""
    for viewport in (PHONE, DESKTOP):
        page = await new_page(browser, viewport)
        await page.goto(f"{live_server.base_url}/schema")
        assert await page.locator("section h3").count() >= 16
        await check(page, "api-reference")
        await no_horizontal_scroll(page)
        await page.context.close()
    page = await new_page(browser, DESKTOP, bypass_csp=False)
    blocked: list[str] = []
    page.on(
        "console", lambda msg: blocked.append(msg.text) if "Content Security Policy" in msg.text else None
    )
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    await page.goto(f"{live_server.base_url}/schema")
    assert blocked == []
    assert all(url.startswith(live_server.base_url) for url in requests), requests
    await page.context.close()
