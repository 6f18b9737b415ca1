"""A right-to-left language in real Chromium: the rating page of a panellist reading Arabic mirrors (the page's
direction is rtl, borders and margins swap sides) while the rating scale and the charts keep their left-to-right
axis, and axe-core finds no problem.  The shipped catalogs are left to right, so the test compiles a small Arabic
one into a temporary locale folder (``delphi.resources.LOCALE_DIR``) for the server's process."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo

import delphi.locale as locale_pkg
from delphi import resources
from tests.browser.conftest import LiveServer
from tests.browser.test_panellist_journey import DESKTOP, PHONE, check, new_page, no_horizontal_scroll

pytestmark = pytest.mark.browser

STATEMENT = "الاتفاق على الخطة"


@pytest.fixture(scope="module")
def arabic_server(live_server: LiveServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The live server with an Arabic catalog, and the "feedback" panellist (round 2, last round's charts)
    reading Arabic on a panel offered in it."""
    folder = tmp_path_factory.mktemp("locale")
    catalog = Catalog(locale="ar")
    catalog.add("Rate the statements", "قيّم العبارات")
    catalog.add("Your rating", "تقييمك")
    catalog.add("Language", "اللغة")
    target = folder / "ar" / "LC_MESSAGES"
    target.mkdir(parents=True)
    with (target / "delphi.mo").open("wb") as f:
        write_mo(f, catalog)
    person = live_server.people["feedback"]
    path = live_server.db_url.split("///", 1)[1]
    with sqlite3.connect(path) as conn:
        (panel_id,) = conn.execute(
            "SELECT panel_id FROM panellists WHERE id = ?", (person.panellist_id,)
        ).fetchone()
        conn.execute(
            "INSERT INTO panel_languages (panel_id, language, translated_by, created_at) "
            "VALUES (?, 'ar', '', '2026-01-01 00:00:00')",
            (panel_id,),
        )
        conn.execute(
            "INSERT INTO translations (panel_id, language, key, text, source, updated_at) "
            "VALUES (?, 'ar', ?, ?, '', '2026-01-01 00:00:00')",
            (panel_id, f"statement.{person.statement_ids[0]}", STATEMENT),
        )
        conn.execute("UPDATE panellists SET language = 'ar' WHERE id = ?", (person.panellist_id,))
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(resources, "LOCALE_DIR", Path(folder))
        locale_pkg.catalog.cache_clear()
        yield live_server
    locale_pkg.catalog.cache_clear()


DIRECTIONS = """() => {
  const style = (el) => getComputedStyle(el);
  const feedback = document.querySelector(".feedback");
  return {
    dir: document.documentElement.getAttribute("dir"),
    page: style(document.body).direction,
    heading: style(document.querySelector("h1")).direction,
    scale: style(document.querySelector(".scale")).direction,
    chart: style(document.querySelector("svg.chart")).direction,
    feedbackRight: style(feedback).borderRightWidth,
    feedbackLeft: style(feedback).borderLeftWidth,
    firstPointLeftOfLast: (() => {
      const points = document.querySelectorAll(".scale .scale-point");
      return points[0].getBoundingClientRect().left < points[points.length - 1].getBoundingClientRect().left;
    })(),
  };
}"""


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
async def test_an_arabic_rating_page_mirrors_and_keeps_the_scale_left_to_right(
    browser: Any, arabic_server: LiveServer, viewport: dict
) -> None:
    page = await new_page(browser, viewport)
    await page.goto(arabic_server.link("feedback"))
    await page.goto(f"{arabic_server.base_url}/panel/rate?page=1")
    assert await page.evaluate("document.documentElement.lang") == "ar"
    assert STATEMENT in await page.inner_text("main")
    found = await page.evaluate(DIRECTIONS)
    assert found["dir"] == "rtl" and found["page"] == "rtl" and found["heading"] == "rtl"
    assert found["scale"] == "ltr" and found["chart"] == "ltr" and found["firstPointLeftOfLast"]
    assert (
        found["feedbackRight"] == "6px" and found["feedbackLeft"] == "0px"
    )  # the bar moved to the start side
    assert await page.locator("#language-choice").count() == 1
    await no_horizontal_scroll(page)
    await check(page, "rtl-rate")
    await page.context.close()
