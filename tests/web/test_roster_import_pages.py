"""The panellist import page over HTTP: a file imported in part before (an interrupted import) is previewed with
the rows already there counted as skipped, imports the rest, and the panellists page says how many of each."""

from __future__ import annotations

from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncEngine

from delphi.db.models import AuditEvent, Panellist
from tests.helpers import post_form
from tests.web.test_facilitator_pages import count, new_panel

HEADER = "email,group,name,language\n"
ROWS = [f"p{i}@example.org,Experts,Person {i},en\n" for i in range(5)]


async def test_a_file_imported_in_part_before_imports_the_rest_and_says_how_many_were_skipped(
    client: AsyncTestClient, engine: AsyncEngine
) -> None:
    base = await new_panel(client, engine)
    page = f"{base}/panellists"
    await post_form(client, f"{base}/groups", {"name": "Experts"}, token_page=f"{base}/groups")
    first = await post_form(
        client, f"{page}/import", {"csv_text": HEADER + "".join(ROWS[:3]), "confirm": "1"}, token_page=page
    )
    assert first.status_code == 200 and "3 panellist(s) imported." in first.text
    assert "were skipped" not in first.text

    whole = HEADER + "".join(ROWS)
    preview = await post_form(client, f"{page}/import", {"csv_text": whole}, token_page=page)
    assert preview.status_code == 200
    assert "2 panellist(s) are ready to import. 3 row(s) are on this panel already" in preview.text
    assert "Import 2 panellist(s)" in preview.text

    done = await post_form(
        client, f"{page}/import", {"csv_text": whole, "confirm": "1"}, token_page=page, follow_redirects=False
    )
    assert done.status_code == 303 and done.headers["location"] == f"{page}?imported=2&skipped=3"
    shown = await client.get(done.headers["location"])
    assert "2 panellist(s) imported. 3 row(s) were on this panel already and were skipped." in shown.text
    assert await count(engine, Panellist) == 5
    assert await count(engine, AuditEvent) >= 2

    nothing_left = await post_form(
        client, f"{page}/import", {"csv_text": whole, "confirm": "1"}, token_page=page
    )
    assert nothing_left.status_code == 200
    assert "All 5 row(s) are on this panel already" in nothing_left.text
    assert "Import 0" not in nothing_left.text
    assert await count(engine, Panellist) == 5


async def test_a_row_on_the_panel_with_other_details_is_a_problem_and_nothing_is_imported(
    client: AsyncTestClient, engine: AsyncEngine
) -> None:
    base = await new_panel(client, engine)
    page = f"{base}/panellists"
    await post_form(client, f"{base}/groups", {"name": "Experts"}, token_page=f"{base}/groups")
    await post_form(client, f"{page}/import", {"csv_text": HEADER + ROWS[0], "confirm": "1"}, token_page=page)
    changed = HEADER + ROWS[0].replace("Person 0", "Someone else") + ROWS[1]
    refused = await post_form(
        client, f"{page}/import", {"csv_text": changed, "confirm": "1"}, token_page=page
    )
    assert refused.status_code == 422
    assert (
        "Line 2:" in refused.text
        and "on this panel already, with another group, name or language" in refused.text
    )
    assert await count(engine, Panellist) == 1
