"""The facilitator's language and translation pages in real Chromium, at desktop width and on a 360 px phone:
a draft panel (two statements, a ranking question, an about-you question, its own invitation text) with a
panellist who reads Welsh cannot open round 1 until Welsh is added (with a translator credit) and every text is
translated; the Welsh sheet is filled with the keyboard, a bad e-mail translation is refused with what was typed
kept, a changed statement shows its translation out of date until confirmed, the texts go out as CSV and come
back, a bad file names each of its bad lines, and then round 1 opens.  axe-core runs on every page visited (zero
violations) and the sheet must not scroll sideways at 360 px."""

from __future__ import annotations

import asyncio
import csv
import io
import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from delphi.db.engine import make_engine, make_sessionmaker
from delphi.db.models import Base, utcnow
from delphi.domain import Actor
from delphi.mail.panel_texts import save_text
from delphi.panels.baseline import add_question
from delphi.panels.rankings import add_ranking_question
from delphi.panels.translation_gaps import round_items
from delphi.settings import DatabaseSettings
from tests.browser.conftest import free_port, missing_requirements
from tests.browser.serving import live_settings, serving
from tests.browser.test_panellist_journey import (
    DESKTOP,
    PHONE,
    check,
    new_page,
    no_horizontal_scroll,
    tab_to,
)
from tests.factories import PASSWORD, build_panel

pytestmark = pytest.mark.browser

FACILITATOR = "lead@study.example"
CREDIT = "Gwen Evans, Cyfieithu Cymru"
#: The panel's own invitation, and a Welsh one that lacks the personal link (refused) and one that has it.
INVITATION = ("Join our panel", "Hello,\n\nPlease join the panel here:\n{link}")
WELSH_SUBJECT = "Ymunwch â'n panel"
BAD_BODY = "Helo,\n\nYmunwch â'r panel."
GOOD_BODY = "Helo,\n\nYmunwch â'r panel yma:\n{link}"
BLOCKER = "into Welsh (cy) that round 1 needs"


@dataclass
class Server:
    """The running app with its seeded panel: ``items`` maps each key round 1 needs translated to its
    English text; ``statements`` are the two statements' ids."""

    base_url: str
    db_url: str
    panel_id: int
    statements: list[int]
    items: dict[str, str]

    @property
    def panel_url(self) -> str:
        return f"{self.base_url}/panels/{self.panel_id}"


async def _seed(db_url: str) -> tuple[int, list[int], dict[str, str]]:
    """A draft panel owned by :data:`FACILITATOR` with round 1 (a draft closing in 14 days) asking two
    statements and a ranking question, an about-you question, its own invitation text, and two panellists: the
    second reads Welsh, which the panel is not offered in yet."""
    engine = make_engine(DatabaseSettings(url=db_url), null_pool=True)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)
        async with make_sessionmaker(engine)() as session, session.begin():
            w = await build_panel(
                session,
                panellists=2,
                sections=(("Harm reduction", ["Offer naloxone", "Ask about housing"]),),
                round_status="draft",
                round_kw={"closes_at": utcnow() + timedelta(days=14)},
                panel_kw={"status": "draft", "scale_labels": []},
                access={"owner": FACILITATOR},
            )
            w.others[0][0].language = "cy"
            actor = Actor.account(w.accounts["owner"])
            await add_ranking_question(
                session, w.panel, "Which matters most?", ["Housing", "Work"], False, actor
            )
            await add_question(
                session, w.panel, actor, kind="single", text="Your role?", choices="Nurse\nDoctor"
            )
            await save_text(session, w.panel, "invitation", *INVITATION, actor=actor)
            items = {it.key: it.source for it in await round_items(session, w.panel, w.round)}
            return w.panel.id, [s.id for s in w.statements], items
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    if missing_requirements() is not None:
        pytest.skip("browser requirements missing")
    from delphi.app import create_app

    tmp = tmp_path_factory.mktemp("translations")
    db_url = f"sqlite+aiosqlite:///{tmp / 'translations.db'}"
    panel_id, statements, items = asyncio.run(_seed(db_url))
    port = free_port()
    settings = live_settings(db_url, port, tmp / "var")
    with serving(create_app(settings), port, "uvicorn-translations"):
        yield Server(settings.base_url, db_url, panel_id, statements, items)


def field_id(key: str) -> str:
    """As :func:`delphi.web.translations.field_id`: the textarea of ``key``."""
    return "tr-" + key.replace(".", "-")


def welsh(key: str, source: str) -> str:
    """A stand-in Welsh translation of ``source`` (the e-mail texts get real ones)."""
    if key == "mail.invitation.subject":
        return WELSH_SUBJECT
    if key == "mail.invitation.body":
        return BAD_BODY
    return f"Cymraeg: {source}"


async def click(page: Any, name: str) -> None:
    """Press the button called ``name`` and wait for the page it leads to."""
    async with page.expect_navigation():
        await page.get_by_role("button", name=name, exact=True).click()


async def sign_in(browser: Any, server: Server, viewport: dict) -> Any:
    page = await new_page(browser, viewport)
    await page.goto(f"{server.base_url}/login")
    await page.fill("[name=email]", FACILITATOR)
    await page.fill("[name=password]", PASSWORD)
    await click(page, "Sign in")
    return page


async def main_text(page: Any) -> str:
    return " ".join((await page.inner_text("main")).split())


async def error_summary(page: Any) -> str:
    await page.wait_for_selector(".error-summary")
    return " ".join((await page.inner_text(".error-summary")).split())


async def phone_check(phone: Any, url: str, name: str) -> None:
    """The page at ``url`` on the phone: axe-core, and no sideways scrolling."""
    await phone.goto(url)
    await check(phone, name)
    await no_horizontal_scroll(phone)


async def upload(page: Any, name: str, data: bytes) -> None:
    await page.set_input_files("#file", files={"name": name, "mimeType": "text/csv", "buffer": data})
    await click(page, "Import")


def db_rows(server: Server, sql: str) -> list[tuple]:
    with sqlite3.connect(server.db_url.split("///", 1)[1]) as conn:
        return conn.execute(sql).fetchall()


def translations(server: Server) -> dict[str, tuple[str, str]]:
    rows = db_rows(server, "SELECT key, text, source FROM translations WHERE language = 'cy'")
    return {k: (text, source) for k, text, source in rows}


async def test_a_facilitator_translates_a_panel_into_welsh_until_round_one_can_open(
    browser: Any, server: Server
) -> None:
    desk = await sign_in(browser, server, DESKTOP)
    phone = await sign_in(browser, server, PHONE)
    panel = server.panel_url
    sheet_url = f"{panel}/translations/cy"

    # 1. The round page says what stops it: a panellist reads Welsh, which the panel is not offered in.
    await desk.goto(f"{panel}/rounds/1")
    assert "Welsh (cy), which this panel is not offered in" in await main_text(desk)
    await desk.goto(f"{panel}/languages")
    await check(desk, "languages")
    await phone_check(phone, f"{panel}/languages", "languages")
    await desk.check("#further-cy")
    await desk.fill("#translated_by-cy", CREDIT)
    await click(desk, "Save the languages")
    assert desk.url.endswith("/languages?saved=1")
    await check(desk, "languages-saved")
    assert await desk.input_value("#translated_by-cy") == CREDIT
    assert db_rows(server, "SELECT language, translated_by FROM panel_languages") == [("cy", CREDIT)]

    # 2. The overview counts what Welsh lacks and who reads it; the sheet is filled with the keyboard.
    await desk.goto(f"{panel}/translations")
    await check(desk, "translations")
    row = " ".join((await desk.inner_text("#language-cy")).split())
    total = len(server.items)
    assert row.startswith(f"Welsh (cy) 1 {total} 0 0 of {total} Stops the round opening"), row
    await phone_check(phone, f"{panel}/translations", "translations")
    await desk.click("#language-cy a")
    await desk.wait_for_url(sheet_url)
    await check(desk, "translation-sheet")

    await phone.goto(sheet_url)
    await check(phone, "translation-sheet")
    await no_horizontal_scroll(phone)
    assert await phone.locator("span.tag", has_text="Missing").count() == total
    for key, source in server.items.items():
        await tab_to(phone, f"#{field_id(key)}")
        await phone.keyboard.type(welsh(key, source))
    await tab_to(phone, "button[type=submit]")
    async with phone.expect_navigation():
        await phone.keyboard.press("Enter")
    summary = await error_summary(phone)
    assert "{link}" in summary, summary
    await phone.wait_for_function(
        "document.activeElement.classList.contains('error-summary')", timeout=10_000
    )  # app.js moves the focus once it runs
    body_field = f"#{field_id('mail.invitation.body')}"
    assert await phone.get_attribute(f"a[href='{body_field}']", "href") == body_field
    assert await phone.get_attribute(body_field, "rows") == "4", "a box as tall as the English text"
    for key, source in server.items.items():  # everything typed is still there
        assert await phone.input_value(f"#{field_id(key)}") == welsh(key, source)
    await check(phone, "translation-sheet-errors")
    await no_horizontal_scroll(phone)
    assert translations(server) == {}, "a refused sheet saves nothing"

    await phone.click(f"a[href='{body_field}']")
    await phone.fill(body_field, GOOD_BODY)
    await phone.get_by_role("button", name="Save the translations").click()
    await phone.wait_for_url(f"{sheet_url}?saved={total}&deleted=0")
    await check(phone, "translation-sheet-saved")
    assert f"Saved: {total} translations saved, 0 removed." in await main_text(phone)
    assert translations(server)["mail.invitation.body"] == (GOOD_BODY, INVITATION[1])
    await desk.goto(f"{panel}/translations")
    assert "Everything round 1 needs is translated into every language of the panel." in await main_text(desk)
    await desk.goto(f"{panel}/rounds/1")
    assert BLOCKER not in await main_text(desk)

    # 3. A corrected statement puts its translation out of date, showing what it was made from, until confirmed.
    s1 = server.statements[0]
    await desk.goto(f"{panel}/statements/{s1}/edit")
    await desk.fill("[name=text]", "Offer naloxone kits to take home")
    await click(desk, "Save")
    await desk.goto(f"{panel}/rounds/1")
    assert f"Translate 1 text (1 changed since translated) {BLOCKER}" in await main_text(desk)
    await desk.goto(sheet_url)
    card = desk.locator(f"#row-{field_id(f'statement.{s1}')}")
    assert await card.locator("span.tag").inner_text() == "Out of date"
    assert await card.locator("del").inner_text() == "Offer naloxone"
    await check(desk, "translation-sheet-outdated")
    await phone_check(phone, sheet_url, "translation-sheet-outdated")
    await desk.check(f"#ok-{field_id(f'statement.{s1}')}")
    await click(desk, "Save the translations")
    assert await desk.locator("span.tag", has_text="Out of date").count() == 0
    assert translations(server)[f"statement.{s1}"] == (
        "Cymraeg: Offer naloxone",
        "Offer naloxone kits to take home",
    )

    # 4. The texts as CSV: one Welsh text changed in Python and uploaded; then a file with two bad lines.
    await desk.goto(f"{panel}/translations/import")
    await check(desk, "translation-import")
    download = await desk.request.get(f"{panel}/translations/file.csv")
    assert download.status == 200
    rows = list(csv.reader(io.StringIO((await download.body()).decode("utf-8-sig"))))
    assert rows[0] == ["key", "what", "en", "cy"]
    s2 = server.statements[1]
    for r in rows[1:]:
        r[3] = "Gofynnwch am dai." if r[0] == f"statement.{s2}" else ""
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    await upload(desk, "cy.csv", out.getvalue().encode("utf-8-sig"))
    assert desk.url.endswith("/translations?imported=cy:1&changed=0"), desk.url
    assert await desk.inner_text("#imported-notice") == "Imported 1 text into Welsh (cy)."
    await check(desk, "translations-imported")
    stored = translations(server)
    assert stored[f"statement.{s2}"] == ("Gofynnwch am dai.", "Ask about housing")
    assert len(stored) == total, "empty cells leave the other translations as they were"

    bad = f"key,cy,fr\r\nstatement.{s2},Gofyn.,\r\nstatement.999999,Rhywbeth.,\r\n".encode()
    for page, name in ((desk, "translation-import-errors"), (phone, "translation-import-errors")):
        await page.goto(f"{panel}/translations/import")
        await upload(page, "drwg.csv", bad)
        summary = await error_summary(page)
        assert "Line 1: The panel is not offered in French (fr)" in summary, summary
        assert "Line 3: There is no statement 999999 in round 1." in summary, summary
        assert "Nothing has been imported" in await main_text(page)
        await check(page, name)
        if page is phone:
            await no_horizontal_scroll(page)
    assert translations(server)[f"statement.{s2}"][0] == "Gofynnwch am dai."

    # 5. Nothing stops round 1 any more: it opens.
    await desk.goto(f"{panel}/rounds/1")
    text = await main_text(desk)
    assert BLOCKER not in text and "Before round 1 can open" not in text, text
    await click(desk, "Open round 1")
    await click(desk, "Open round 1 now")
    assert re.search(r"/rounds/1(\?|$)", desk.url), desk.url
    assert db_rows(server, "SELECT status FROM rounds WHERE number = 1") == [("open",)]
