"""The baseline questions ("About you") in real Chromium.  At 360 px and by keyboard only: the link, consent, then
"About you"; a page with two problems is refused with an error summary that lists both (linked to their fields)
and takes the focus, nothing is saved, what was typed is kept; fixed and saved, the panellist reaches their home
page.  "Skip these questions" goes home without answers; with JavaScript off skipping, changing the answers later
from the home page and a refused page work the same.  No page scrolls sideways at 360 px and axe-core finds
nothing on "About you" (blank, with errors, filled) nor on the facilitator's page of the questions (the list, a
refused question, the edit form).  The rows are added to the live server's database by this module."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

import pytest

from delphi.db.engine import make_engine, make_sessionmaker
from delphi.db.models import BaselineQuestion
from delphi.domain import PanelRole
from delphi.settings import DatabaseSettings
from tests import factories as f
from tests.browser.conftest import LiveServer
from tests.browser.test_panellist_journey import PHONE, check, db_rows, new_page, no_horizontal_scroll, tab_to

pytestmark = pytest.mark.browser

FACILITATOR = "baseline@facilitators.example"
YEARS = ("Under 1 year", "1 to 5 years", "Over 5 years")
SERVICES = ("Needle exchange", "Counselling", "Residential rehab")


@dataclass(frozen=True)
class Asked:
    """The panel of this module: its id, one panellist token per journey, and the question id per kind."""

    panel_id: int
    tokens: dict[str, str]
    panellist_ids: dict[str, int]
    single: int
    multiple: int
    number: int
    text: int


async def _seed(db_url: str) -> Asked:
    """Panel Q: round 1 open, four baseline questions (one of each kind), three panellists who have not yet
    agreed to take part, and :data:`FACILITATOR` as its owner."""
    engine = make_engine(DatabaseSettings(url=db_url), null_pool=True)
    try:
        async with make_sessionmaker(engine)() as s, s.begin():
            panel = await f.make_panel(s, title="Panel with questions about you")
            groups = await f.make_groups(s, panel)
            statements = await f.make_statements(s, panel, (("Information", 1),))
            await f.make_round(s, panel, statements, 1)
            questions = [
                BaselineQuestion(
                    panel_id=panel.id,
                    kind="single",
                    text="How long have you used or worked in drug services?",
                    choices=list(YEARS),
                    position=0,
                ),
                BaselineQuestion(
                    panel_id=panel.id,
                    kind="multiple",
                    text="Which services have you used?",
                    choices=list(SERVICES),
                    position=1,
                ),
                BaselineQuestion(panel_id=panel.id, kind="number", text="Your age", unit="years", position=2),
                BaselineQuestion(panel_id=panel.id, kind="text", text="Anything else about you?", position=3),
            ]
            s.add_all(questions)
            tokens: dict[str, str] = {}
            ids: dict[str, int] = {}
            for n, who in enumerate(("keyboard", "skipper", "nojs"), start=1):
                person, token = await f.make_panellist(s, panel, groups[0], 300 + n)
                tokens[who], ids[who] = token, person.id
            await f.grant(s, panel, await f.make_account(s, FACILITATOR), PanelRole.OWNER)
            await s.flush()
            single, multiple, number, text = (q.id for q in questions)
            return Asked(panel.id, tokens, ids, single, multiple, number, text)
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
def asked(live_server: LiveServer) -> Asked:
    return asyncio.run(_seed(live_server.db_url))


def saved_answers(server: LiveServer, panellist_id: int) -> dict[int, tuple]:
    """The panellist's stored answers: question id -> (chosen list, number, text, prefer_not)."""
    rows = db_rows(
        server,
        "SELECT question_id, chosen, number, text, prefer_not FROM baseline_answers WHERE panellist_id = ?",
        panellist_id,
    )
    return {qid: (json.loads(chosen), number, text, bool(pnts)) for qid, chosen, number, text, pnts in rows}


def baseline_at(server: LiveServer, panellist_id: int) -> object:
    ((when,),) = db_rows(server, "SELECT baseline_at FROM panellists WHERE id = ?", panellist_id)
    return when


async def consent_by_keyboard(page: Any) -> None:
    await tab_to(page, "#consent")
    await page.keyboard.press("Space")
    await tab_to(page, "button[type=submit]")
    await page.keyboard.press("Enter")
    await page.wait_for_url("**/panel/about-you")


async def is_focused(page: Any, selector: str) -> bool:
    return bool(
        await page.evaluate("s => !!document.activeElement && document.activeElement.matches(s)", selector)
    )


async def test_about_you_by_keyboard_on_a_phone_refuses_two_problems_at_once_then_saves(
    browser, live_server: LiveServer, asked: Asked
) -> None:
    pid = asked.panellist_ids["keyboard"]
    page = await new_page(browser, PHONE)
    await page.goto(f"{live_server.base_url}/p/{asked.tokens['keyboard']}")
    await page.wait_for_url("**/panel/consent")
    await consent_by_keyboard(page)
    assert "Every question is optional" in await page.inner_text("main")
    await check(page, "about-you")
    await no_horizontal_scroll(page)

    # the second length of time, by arrows in the radio group
    await tab_to(page, f"input[name='q{asked.single}']")
    await page.keyboard.press("Space")
    await page.keyboard.press("ArrowDown")
    assert await page.is_checked(f"#q{asked.single}-c1")
    # a service ticked together with "Prefer not to say"
    await tab_to(page, f"#q{asked.multiple}")
    await page.keyboard.press("Space")
    await tab_to(page, f"#q{asked.multiple}-pnts")
    await page.keyboard.press("Space")
    # an age that is not a number
    await tab_to(page, f"#q{asked.number}")
    await page.keyboard.type("forty")
    await tab_to(page, f"#q{asked.text}")
    await page.keyboard.type("I am a peer mentor.")
    await tab_to(page, "button[value=save]")
    await page.keyboard.press("Enter")

    await page.wait_for_selector(".error-summary")
    assert await is_focused(page, ".error-summary")
    summary = await page.inner_text(".error-summary")
    assert "Choose either an answer or “Prefer not to say”, not both." in summary
    assert "Enter a number, like 42 or 3.5." in summary
    links = await page.eval_on_selector_all(".error-summary a", "as => as.map(a => a.getAttribute('href'))")
    assert links == [f"#q{asked.multiple}", f"#q{asked.number}"]
    await check(page, "about-you-error")
    await no_horizontal_scroll(page)
    assert saved_answers(live_server, pid) == {} and baseline_at(live_server, pid) is None
    # everything is shown as it was sent
    assert await page.is_checked(f"#q{asked.single}-c1")
    assert await page.is_checked(f"#q{asked.multiple}") and await page.is_checked(f"#q{asked.multiple}-pnts")
    assert await page.input_value(f"#q{asked.number}") == "forty"
    assert await page.input_value(f"#q{asked.text}") == "I am a peer mentor."

    # each link of the summary moves the focus to its field
    await tab_to(page, f".error-summary a[href='#q{asked.multiple}']")
    await page.keyboard.press("Enter")
    await page.wait_for_function(f"location.hash === '#q{asked.multiple}'")
    assert await is_focused(page, f"#q{asked.multiple}")
    await tab_to(page, f"#q{asked.multiple}-pnts")
    await page.keyboard.press("Space")
    await tab_to(page, f".error-summary a[href='#q{asked.number}']")
    await page.keyboard.press("Enter")
    await page.wait_for_function(f"location.hash === '#q{asked.number}'")
    assert await is_focused(page, f"#q{asked.number}")
    await page.keyboard.press("ControlOrMeta+A")
    await page.keyboard.type("47")
    await tab_to(page, "button[value=save]")
    await page.keyboard.press("Enter")

    await page.wait_for_url("**/panel?about=1")
    assert "Your answers about yourself are saved." in await page.inner_text("main")
    assert saved_answers(live_server, pid) == {
        asked.single: ([YEARS[1]], None, "", False),
        asked.multiple: ([SERVICES[0]], None, "", False),
        asked.number: ([], 47.0, "", False),
        asked.text: ([], None, "I am a peer mentor.", False),
    }
    assert baseline_at(live_server, pid) is not None

    # the filled page, reached from the home page's link; no "Skip" any more
    await tab_to(page, "a[href='/panel/about-you']")
    await page.keyboard.press("Enter")
    await page.wait_for_url("**/panel/about-you")
    assert await page.input_value(f"#q{asked.number}") == "47"
    assert await page.query_selector("button[value=skip]") is None
    await check(page, "about-you-filled")
    await no_horizontal_scroll(page)


async def test_skipping_the_questions_by_keyboard_goes_home_and_they_are_not_asked_again(
    browser, live_server: LiveServer, asked: Asked
) -> None:
    pid = asked.panellist_ids["skipper"]
    page = await new_page(browser, PHONE)
    await page.goto(f"{live_server.base_url}/p/{asked.tokens['skipper']}")
    await page.wait_for_url("**/panel/consent")
    await consent_by_keyboard(page)
    await tab_to(page, "button[value=skip]")
    await page.keyboard.press("Enter")
    await page.wait_for_url("**/panel")
    assert saved_answers(live_server, pid) == {} and baseline_at(live_server, pid) is not None
    await page.goto(f"{live_server.base_url}/panel")
    assert page.url.endswith("/panel"), "a panellist who skipped is not sent to About you again"


async def test_about_you_works_with_javascript_off(browser, live_server: LiveServer, asked: Asked) -> None:
    pid = asked.panellist_ids["nojs"]
    page = await new_page(browser, PHONE, javascript=False)
    await page.goto(f"{live_server.base_url}/p/{asked.tokens['nojs']}")
    await page.wait_for_url("**/panel/consent")
    await page.check("#consent")
    await page.click("button[type=submit]")
    await page.wait_for_url("**/panel/about-you")
    await page.click("button[value=skip]")
    await page.wait_for_url("**/panel")
    assert baseline_at(live_server, pid) is not None and saved_answers(live_server, pid) == {}

    # later, from the home page: a refused page, then saved
    await page.click("a[href='/panel/about-you']")
    await page.wait_for_url("**/panel/about-you")
    await page.check(f"#q{asked.single}-pnts")
    await page.fill(f"#q{asked.number}", "twelve")
    await page.check(f"#q{asked.number}-pnts")
    await page.click("button[value=save]")
    await page.wait_for_selector(".error-summary")
    summary = await page.inner_text(".error-summary")
    assert "Choose either an answer or “Prefer not to say”, not both." in summary
    assert saved_answers(live_server, pid) == {}
    await no_horizontal_scroll(page)
    await page.fill(f"#q{asked.number}", "")
    await page.check(f"#q{asked.multiple}-c2")
    await page.click("button[value=save]")
    await page.wait_for_url("**/panel?about=1")
    assert saved_answers(live_server, pid) == {
        asked.single: ([], None, "", True),
        asked.multiple: ([SERVICES[2]], None, "", False),
        asked.number: ([], None, "", True),
    }


async def sign_in(page: Any, server: LiveServer) -> None:
    """Sign in as :data:`FACILITATOR` through the login form, by keyboard."""
    await page.goto(f"{server.base_url}/login")
    await page.fill("input[name=email]", FACILITATOR)
    await page.fill("input[name=password]", f.PASSWORD)
    await tab_to(page, "button[type=submit]")
    async with page.expect_navigation():
        await page.keyboard.press("Enter")
    assert "Your panels" in await page.inner_text("main")


async def test_the_facilitators_page_of_the_questions_is_accessible_at_360_px(
    browser, live_server: LiveServer, asked: Asked
) -> None:
    page = await new_page(browser, PHONE)
    await sign_in(page, live_server)
    listing = f"{live_server.base_url}/panels/{asked.panel_id}/baseline"
    await page.goto(listing)
    text = await page.inner_text("main")
    assert "About the panellists" in text and "Which services have you used?" in text
    await check(page, "facilitator-baseline")
    await no_horizontal_scroll(page)

    # a question without wording and with a single choice is refused with both problems
    await tab_to(page, "#choices")
    await page.keyboard.type("Only one")
    await tab_to(page, "form[novalidate] button[type=submit]")
    await page.keyboard.press("Enter")
    await page.wait_for_selector(".error-summary")
    assert await is_focused(page, ".error-summary")
    links = await page.eval_on_selector_all(".error-summary a", "as => as.map(a => a.getAttribute('href'))")
    assert "#text" in links and "#choices" in links
    await check(page, "facilitator-baseline-error")
    await no_horizontal_scroll(page)

    await page.goto(f"{listing}?edit={asked.multiple}")
    assert await page.input_value("#text") == "Which services have you used?"
    await check(page, "facilitator-baseline-edit")
    await no_horizontal_scroll(page)
