"""A facilitator prints an invitation card in real Chromium on a 360 px phone: the confirmation page and the card
page pass axe-core, the card carries segno's QR code as inline SVG with an accessible name and never the panel's
title or the pseudonym, and the printed link, typed into a fresh browser, signs the panellist in (the old one
no longer does)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from delphi.db.engine import make_engine, make_sessionmaker
from delphi.db.models import Panel, StakeholderGroup
from delphi.domain import PanelRole
from delphi.settings import DatabaseSettings
from tests import factories as f
from tests.browser.conftest import LiveServer
from tests.browser.test_panellist_journey import PHONE, check, db_rows, new_page, no_horizontal_scroll

pytestmark = pytest.mark.browser

FACILITATOR = "cards@facilitators.example"
PANEL_A = "Involving people in decisions about their treatment"  # tests/browser/seed.py: round 1 open
PSEUDONYM = "P-0900"


async def prepare(server: LiveServer) -> tuple[int, int, str]:
    """Make :data:`FACILITATOR` the owner of panel A, give the panel a contact and add a panellist without an
    e-mail address; returns ``(panel id, panellist id, the panellist's current token)``."""
    engine = make_engine(DatabaseSettings(url=server.db_url), null_pool=True)
    try:
        async with make_sessionmaker(engine)() as s, s.begin():
            panel = await s.scalar(select(Panel).where(Panel.title == PANEL_A))
            assert panel is not None
            panel.contact_name, panel.contact_phone = "Sam at the study office", "020 7946 0000"
            await f.grant(s, panel, await f.make_account(s, FACILITATOR), PanelRole.OWNER)
            group = await s.scalar(select(StakeholderGroup).where(StakeholderGroup.panel_id == panel.id))
            assert group is not None
            person, token = await f.make_panellist(
                s, panel, group, 900, pseudonym=PSEUDONYM, name="Robin Card"
            )
            person.email = None  # handed over on paper only
            return panel.id, person.id, token
    finally:
        await engine.dispose()


async def sign_in(page: Any, server: LiveServer) -> None:
    await page.goto(f"{server.base_url}/login")
    await page.fill("input[name=email]", FACILITATOR)
    await page.fill("input[name=password]", f.PASSWORD)
    async with page.expect_navigation():
        await page.press("input[name=password]", "Enter")
    assert "Your panels" in await page.inner_text("main")


async def test_a_printed_card_is_accessible_carries_the_qr_code_and_its_link_signs_the_panellist_in(
    browser, live_server: LiveServer
) -> None:
    pid, person_id, old_token = await prepare(live_server)
    page = await new_page(browser, PHONE)
    await sign_in(page, live_server)
    await page.goto(f"{live_server.base_url}/panels/{pid}/panellists")
    async with page.expect_navigation():
        await page.click(f"form[action='/panels/{pid}/panellists/{person_id}/card'] button")
    assert "old link stops working at once" in await page.inner_text("main")
    await check(page, "card-confirm")
    await no_horizontal_scroll(page)

    await page.check("#names")
    async with page.expect_navigation():
        await page.click("button[type=submit].button")
    await check(page, "card")
    await no_horizontal_scroll(page)
    text = await page.inner_text("body")
    assert PANEL_A not in text and PSEUDONYM not in text
    assert "Robin Card" in text and "Sam at the study office" in text
    qr = page.locator(".card [role=img] svg.card-qr path")
    assert await qr.count() == 1
    label = await page.get_attribute(".card [role=img]", "aria-label")
    assert label and "QR code" in label
    link = (await page.inner_text(".card-link")).strip()
    assert link.startswith(f"{live_server.base_url}/p/") and old_token not in link

    # The printed link, typed into a browser with no cookies, signs the panellist in; the old one is refused.
    phone = await new_page(browser, PHONE, javascript=False)
    old = await phone.goto(f"{live_server.base_url}/p/{old_token}")
    assert old is not None and old.status == 404
    await phone.goto(link)
    assert "/panel" in phone.url and "/p/" not in phone.url
    assert db_rows(live_server, "SELECT status FROM panellists WHERE id = ?", person_id) == [("active",)]
