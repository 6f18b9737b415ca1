"""The open first round in real Chromium.  Panellist: at 360 px and by keyboard only, two answers to each of two
questions saved in the background as they are typed (ideas.js), kept after a reload; with JavaScript off "Add
another answer" shows one more box and saving the page keeps every answer; an over-long answer is refused with the
error summary.  Facilitator: groups two answers under a theme and makes a draft statement of it, which round 2's
draft then asks.  axe-core finds nothing on the panellist's ideas page and on both facilitator pages, and no page
scrolls sideways.  ideas.js runs under the real CSP and, signed out elsewhere, keeps the text and says so.  The
rows are added to the live server's database by this module."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import pytest

from delphi.db.engine import make_engine, make_sessionmaker
from delphi.db.models import IdeaAnswer, OpenQuestion
from delphi.participation.ideas import MAX_ANSWER
from delphi.settings import DatabaseSettings
from tests import factories as f
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

FACILITATOR = "ideas-lead@study.example"


@dataclass(frozen=True)
class Open:
    """The people and questions of the seeded open-round panels."""

    tokens: dict[str, str]
    panellist_ids: dict[str, int]
    question_ids: tuple[int, int]
    themes_panel: int
    themes_answers: tuple[int, ...]
    setup_panel: int


async def _questions(s: Any, panel_id: int) -> list[OpenQuestion]:
    questions = [
        OpenQuestion(
            panel_id=panel_id,
            text="What helps you take part in decisions?",
            hint="One idea a box.",
            position=0,
        ),
        OpenQuestion(panel_id=panel_id, text="What gets in the way?", position=1),
    ]
    s.add_all(questions)
    await s.flush()
    return questions


async def _seed(db_url: str) -> Open:
    """Panel O (round 1 an open round, open, three people), panel T (its open round 1 closed with three answers,
    round 2 a draft) and panel U (a draft whose round 1 asks open questions); the facilitator owns T and U."""
    engine = make_engine(DatabaseSettings(url=db_url), null_pool=True)
    try:
        async with make_sessionmaker(engine)() as s, s.begin():
            o = await f.make_panel(s, title="Open round panel", max_rounds=3)
            groups = await f.make_groups(s, o)
            await f.make_round(s, o, [], 1, kind="open")
            questions = await _questions(s, o.id)
            tokens, ids = {}, {}
            for n, who in enumerate(("keyboard", "nojs", "long-js", "long-nojs", "csp"), start=1):
                person, token = await f.make_panellist(s, o, groups[n % 2], 300 + n, consented=True)
                tokens[who], ids[who] = token, person.id

            t = await f.make_panel(s, title="Open round answers", max_rounds=3)
            tgroups = await f.make_groups(s, t)
            r1 = await f.make_round(s, t, [], 1, status="closed", kind="open")
            tq = await _questions(s, t.id)
            answers = []
            for n, text in enumerate(
                ("Someone to talk it through with", "A peer who has been there", "Plain words")
            ):
                person, _ = await f.make_panellist(s, t, tgroups[n % 2], 400 + n, consented=True)
                answer = IdeaAnswer(
                    round_id=r1.id, question_id=tq[0].id, panellist_id=person.id, slot=1, text=text
                )
                s.add(answer)
                answers.append(answer)
            await f.make_round(s, t, [], 2, status="draft")
            await s.flush()

            u = await f.make_panel(s, title="Open round set-up", status="draft", max_rounds=3)
            await f.make_groups(s, u)
            await f.make_round(s, u, [], 1, status="draft", kind="open")
            await _questions(s, u.id)

            lead = await f.make_account(s, FACILITATOR)
            await f.grant(s, t, lead, "owner")  # type: ignore[arg-type]
            await f.grant(s, u, lead, "owner")  # type: ignore[arg-type]
            return Open(
                tokens, ids, (questions[0].id, questions[1].id), t.id, tuple(a.id for a in answers), u.id
            )
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
def world(live_server: LiveServer) -> Open:
    return asyncio.run(_seed(live_server.db_url))


def saved_answers(server: LiveServer, panellist_id: int) -> list[tuple]:
    return db_rows(
        server,
        "SELECT question_id, slot, text FROM idea_answers WHERE panellist_id = ? ORDER BY question_id, slot",
        panellist_id,
    )


async def wait_saved(page: Any, name: str) -> None:
    """Wait until ideas.js has no save pending and the box's status says it is saved."""
    await page.wait_for_function(
        """name => {
          const f = document.querySelector('form[data-idea-autosave]');
          const s = document.getElementById('status-' + name);
          return f && f.dataset.pending === '0' && s && s.textContent === 'Saved';
        }""",
        arg=name,
    )


async def type_answer(page: Any, name: str, text: str) -> None:
    """Tab to the box, type ``text`` and wait for the background save."""
    if not await page.evaluate("n => !!document.activeElement && document.activeElement.name === n", name):
        await tab_to(page, f"textarea[name='{name}']")
    await page.keyboard.type(text)
    await wait_saved(page, name)


async def test_answers_typed_by_keyboard_on_a_phone_save_in_the_background_and_are_kept(
    browser, live_server: LiveServer, world: Open
) -> None:
    q1, q2 = world.question_ids
    page = await new_page(browser, PHONE)
    await page.goto(f"{live_server.base_url}/p/{world.tokens['keyboard']}")
    await page.wait_for_url("**/panel")
    await tab_to(page, "a[href='/panel/ideas']")
    await page.keyboard.press("Enter")
    await page.wait_for_url("**/panel/ideas")
    await check(page, "ideas")
    await no_horizontal_scroll(page)

    wanted = {
        (q1, 1): "Someone to go through the options with me",
        (q1, 2): "Time to think before I decide",
        (q2, 1): "Appointments that are too short",
        (q2, 2): "Letters full of jargon",
    }
    for qid in (q1, q2):
        await type_answer(page, f"a{qid}-1", wanted[(qid, 1)])
        # the button saves the page and comes back with one more box for this question, which takes the focus
        await tab_to(page, f"button[value='more-{qid}']")
        await page.keyboard.press("Enter")
        await page.wait_for_url(f"**/panel/ideas?more={qid}*")
        await page.wait_for_selector(f"textarea[name='a{qid}-2']")
        assert await page.evaluate("document.activeElement.name") == f"a{qid}-2"
        await type_answer(page, f"a{qid}-2", wanted[(qid, 2)])
    await no_horizontal_scroll(page)
    assert saved_answers(live_server, world.panellist_ids["keyboard"]) == [
        (q, slot, text) for (q, slot), text in sorted(wanted.items())
    ]

    await page.reload()
    for (qid, slot), text in wanted.items():
        assert await page.input_value(f"textarea[name='a{qid}-{slot}']") == text
    # emptying a box deletes its answer in the background
    await tab_to(page, f"textarea[name='a{q2}-2']")
    await page.keyboard.press("Control+A")
    await page.keyboard.press("Delete")
    await wait_saved(page, f"a{q2}-2")
    assert (q2, 2, wanted[(q2, 2)]) not in saved_answers(live_server, world.panellist_ids["keyboard"])

    await tab_to(page, "button[value=review]")
    await page.keyboard.press("Enter")
    await page.wait_for_url("**/panel/review")
    text = await page.inner_text("main")
    assert all(wanted[k] in text for k in ((q1, 1), (q1, 2), (q2, 1)))
    await check(page, "ideas-review")
    await no_horizontal_scroll(page)
    await page.context.close()


async def test_without_javascript_add_another_answer_adds_a_box_and_saving_keeps_every_answer(
    browser, live_server: LiveServer, world: Open
) -> None:
    q1, q2 = world.question_ids
    page = await new_page(browser, PHONE, javascript=False)
    await page.goto(f"{live_server.base_url}/p/{world.tokens['nojs']}")
    await page.goto(f"{live_server.base_url}/panel/ideas")
    assert await page.locator(f"textarea[name^='a{q1}-']").count() == 1
    await page.fill(f"[name='a{q1}-1']", "A named key worker")
    await page.fill(f"[name='a{q2}-1']", "Waiting lists")
    await page.click(f"button[value='more-{q1}']")
    await page.wait_for_url(f"**/panel/ideas?more={q1}*")
    assert await page.locator(f"textarea[name^='a{q1}-']").count() > 1
    assert await page.input_value(f"[name='a{q1}-2']") == ""
    assert await page.input_value(f"[name='a{q1}-1']") == "A named key worker"
    await page.fill(f"[name='a{q1}-2']", "Evening appointments")
    await page.fill(f"[name='a{q2}-2']", "Nobody asks me")
    await page.click("button[value=save]")
    await page.wait_for_url("**/panel/ideas?saved=1*")
    assert "Your answers are saved." in await page.inner_text("main")
    # (axe-core needs JavaScript: the same markup is checked with it on in the other tests)
    await no_horizontal_scroll(page)
    assert saved_answers(live_server, world.panellist_ids["nojs"]) == [
        (q1, 1, "A named key worker"),
        (q1, 2, "Evening appointments"),
        (q2, 1, "Waiting lists"),
        (q2, 2, "Nobody asks me"),
    ]
    await page.context.close()


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])
async def test_an_over_long_answer_is_refused_with_the_error_summary(
    browser, live_server: LiveServer, world: Open, javascript: bool
) -> None:
    q1, q2 = world.question_ids
    label = "long-js" if javascript else "long-nojs"
    who = world.panellist_ids[label]
    page = await new_page(browser, PHONE, javascript=javascript)
    await page.goto(f"{live_server.base_url}/p/{world.tokens[label]}")
    await page.goto(f"{live_server.base_url}/panel/ideas")
    await page.fill(f"[name='a{q1}-1']", "Short and kept")
    await page.fill(f"[name='a{q2}-1']", "y" * (MAX_ANSWER + 1))  # the box does not cut a long text off
    if javascript:
        await page.locator(f"[name='a{q2}-1']").blur()  # the background save is refused, and says so
        await page.wait_for_function(
            "id => document.getElementById(id).classList.contains('is-error')", arg=f"status-a{q2}-1"
        )
        assert str(MAX_ANSWER) in await page.inner_text(f"#status-a{q2}-1")
        await wait_saved(page, f"a{q1}-1")  # the short answer was saved on its own, as it was typed
    await page.click("button[value=save]")
    await page.wait_for_selector(".error-summary")
    if javascript:
        await page.wait_for_function(
            "document.activeElement.classList.contains('error-summary')", timeout=10_000
        )  # app.js moves the focus once it runs
    summary = await page.inner_text(".error-summary")
    assert str(MAX_ANSWER) in summary
    assert await page.get_attribute(".error-summary a", "href") == f"#a{q2}-1"
    assert await page.input_value(f"[name='a{q1}-1']") == "Short and kept"  # what was typed is still there
    assert len(await page.input_value(f"[name='a{q2}-1']")) == MAX_ANSWER + 1
    if javascript:  # axe-core needs JavaScript; the page's markup is the same without it
        await check(page, "ideas-error")
    await no_horizontal_scroll(page)
    # nothing of the refused page was saved (with JavaScript the short answer had been saved as it was typed)
    assert saved_answers(live_server, who) == ([(q1, 1, "Short and kept")] if javascript else [])
    await page.context.close()


async def sign_in(page: Any, base: str) -> None:
    await page.goto(f"{base}/login")
    await page.fill("[name=email]", FACILITATOR)
    await page.fill("[name=password]", f.PASSWORD)
    async with page.expect_navigation():
        await page.get_by_role("button", name="Sign in", exact=True).click()


async def press(page: Any, name: str) -> None:
    async with page.expect_navigation():
        await page.get_by_role("button", name=name, exact=True).click()


async def test_the_facilitator_groups_answers_under_a_theme_and_makes_a_statement_for_round_two(
    browser, live_server: LiveServer, world: Open
) -> None:
    base = live_server.base_url
    page = await new_page(browser, DESKTOP)
    await sign_in(page, base)

    await page.goto(f"{base}/panels/{world.setup_panel}/open-questions")
    assert "What gets in the way?" in await page.inner_text("main")
    await check(page, "facilitator-open-questions")
    await page.goto(f"{base}/panels/{world.themes_panel}/open-questions")
    await check(page, "facilitator-open-questions-opened")

    answers_url = f"{base}/panels/{world.themes_panel}/rounds/1/answers"
    await page.goto(answers_url)
    await check(page, "facilitator-answers")
    first, second, _third = world.themes_answers
    await page.check(f"#answer-{first}")
    await page.check(f"#answer-{second}")
    await page.fill("[name=theme]", "Support to decide")
    await press(page, "Give the chosen answers this theme")
    assert "Theme saved for 2 answer(s)" in await page.inner_text("main")
    assert "Support to decide (2)" in await page.inner_text("main")
    await check(page, "facilitator-answers-themed")

    # a statement without text is refused with the error summary, and nothing is made
    await page.select_option("#from_theme", "Support to decide")
    await press(page, "Make the draft statement")
    await page.wait_for_selector(".error-summary")
    assert "Enter the statement" in await page.inner_text(".error-summary")
    await check(page, "facilitator-answers-error")

    statement = "Offer everyone someone to talk their options through with."
    await page.select_option("#from_theme", "Support to decide")
    await page.fill("[name=text]", statement)
    await press(page, "Make the draft statement")
    assert "Draft statement made" in await page.inner_text("main")
    assert statement in await page.inner_text("#made + ul")
    await check(page, "facilitator-answers-made")

    await page.goto(f"{base}/panels/{world.themes_panel}/rounds/2")
    assert statement in await page.inner_text("main")
    sources = db_rows(
        live_server,
        "SELECT ss.answer_id FROM statement_sources ss JOIN statements s ON s.id = ss.statement_id "
        "WHERE s.panel_id = ? ORDER BY ss.answer_id",
        world.themes_panel,
    )
    assert sources == [(first,), (second,)]

    for url in (answers_url, f"{base}/panels/{world.setup_panel}/open-questions"):
        phone = await new_page(browser, PHONE)
        await phone.context.add_cookies(await page.context.cookies())
        await phone.goto(url)
        await check(phone, "facilitator-open-round")
        await no_horizontal_scroll(phone)
        await phone.context.close()
    await page.context.close()


async def test_ideas_js_runs_under_the_real_csp_and_keeps_the_text_when_the_session_has_ended(
    browser, live_server: LiveServer, world: Open
) -> None:
    """No inline script or style is blocked on the ideas page; a background save after the session ended (signed
    out elsewhere: 401) shows the server's message at the top of the page, and what was typed stays in the box."""
    q1, _ = world.question_ids
    page = await new_page(browser, PHONE, bypass_csp=False)
    blocked: list[str] = []
    page.on(
        "console", lambda msg: blocked.append(msg.text) if "Content Security Policy" in msg.text else None
    )
    await page.add_init_script(
        "document.addEventListener('securitypolicyviolation', e => console.log("
        "'Content Security Policy violation: ' + e.violatedDirective + ' ' + e.blockedURI));"
    )
    await page.goto(f"{live_server.base_url}/p/{world.tokens['csp']}")
    await page.goto(f"{live_server.base_url}/panel/ideas")
    await type_answer(page, f"a{q1}-1", "Being asked what matters to me")
    assert saved_answers(live_server, world.panellist_ids["csp"]) == [
        (q1, 1, "Being asked what matters to me")
    ]
    assert await page.is_hidden("#session-alert")

    # "Sign out" on another device (here: a copy of the cookie) ends every session of the panellist
    other = await browser.new_context(viewport=PHONE)
    await other.add_cookies(await page.context.cookies())
    elsewhere = await other.new_page()
    await elsewhere.goto(f"{live_server.base_url}/panel")
    async with elsewhere.expect_navigation():
        await elsewhere.get_by_role("button", name="Sign out", exact=True).click()
    await other.close()
    await page.fill(f"[name='a{q1}-1']", "Being asked what matters to me, every time")
    await page.locator(f"[name='a{q1}-1']").blur()
    await page.wait_for_selector("#session-alert p")
    assert "Open your personal link in a new tab" in await page.inner_text("#session-alert")
    assert "signed out" in await page.inner_text(f"#status-a{q1}-1")
    assert await page.input_value(f"[name='a{q1}-1']") == "Being asked what matters to me, every time"
    assert saved_answers(live_server, world.panellist_ids["csp"]) == [
        (q1, 1, "Being asked what matters to me")
    ]
    assert blocked == []
    await page.context.close()
