"""The translation file pages: downloading the texts as CSV or XLSX, and the import page that takes either back,
re-shows every problem at once with a 400 and saves nothing from a bad file; on both backends."""

from __future__ import annotations

import csv
import io

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from delphi.db.engine import make_sessionmaker
from delphi.db.models import AuditEvent, PanelLanguage, Statement, Translation
from tests.helpers import post_form
from tests.web.test_facilitator_pages import count, new_panel


async def _panel(client: AsyncTestClient, engine: AsyncEngine) -> tuple[str, list[int]]:
    """A new panel (round 1 a draft) with two statements, offered in English and Welsh; its page and the
    statements' ids."""
    base = await new_panel(client, engine)
    for text in ("Offer video.", "Ask first."):
        await post_form(client, f"{base}/statements", {"text": text}, token_page=f"{base}/statements")
    async with make_sessionmaker(engine)() as session, session.begin():
        pid = int(base.rsplit("/", 1)[1])
        session.add(PanelLanguage(panel_id=pid, language="cy"))
        ids = list((await session.scalars(select(Statement.id).order_by(Statement.id))).all())
    return base, ids


async def upload(client: AsyncTestClient, base: str, data: bytes, name: str = "cy.csv", **form: str):  # type: ignore[no-untyped-def]
    page = f"{base}/translations/import"
    return await post_form(
        client,
        page,
        form,
        token_page=page,
        files={"file": (name, data, "application/octet-stream")},
        follow_redirects=False,
    )


async def translations(engine: AsyncEngine) -> dict[str, tuple[str, str]]:
    async with make_sessionmaker(engine)() as session:
        rows = await session.execute(select(Translation.key, Translation.text, Translation.source))
        return {k: (text, source) for k, text, source in rows.all()}


async def test_the_csv_download_filled_in_and_uploaded_stores_the_texts_and_says_how_many(
    client: AsyncTestClient, engine: AsyncEngine
) -> None:
    base, (s1, _s2) = await _panel(client, engine)
    download = await client.get(f"{base}/translations/file.csv")
    assert download.status_code == 200 and download.headers["content-type"].startswith("text/csv")
    assert "attachment" in download.headers["content-disposition"]
    assert download.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(download.content.decode("utf-8-sig"))))
    assert rows[0] == ["key", "what", "en", "cy"]
    assert [f"statement.{s1}", f"Statement {s1}", "Offer video.", ""] in rows
    for r in rows[1:]:
        if r[0] == f"statement.{s1}":
            r[3] = "Cynnig fideo ŵ."
    out = io.StringIO()
    csv.writer(out, delimiter=";").writerows(rows)  # as Excel saves it in a semicolon locale

    done = await upload(client, base, out.getvalue().encode("utf-8-sig"))

    assert done.status_code == 303
    assert done.headers["location"] == f"{base}/translations?imported=cy:1&changed=0"
    assert await translations(engine) == {f"statement.{s1}": ("Cynnig fideo ŵ.", "Offer video.")}
    assert await count(engine, AuditEvent) > 0
    landed = await client.get(done.headers["location"])
    assert "Imported 1 text into Welsh (cy)." in landed.text


async def test_the_xlsx_download_comes_back_as_an_xlsx_upload(
    client: AsyncTestClient, engine: AsyncEngine
) -> None:
    from openpyxl import load_workbook

    base, (_s1, s2) = await _panel(client, engine)
    download = await client.get(f"{base}/translations/file.xlsx")
    assert download.status_code == 200 and "spreadsheetml" in download.headers["content-type"]
    workbook = load_workbook(io.BytesIO(download.content))
    sheet = workbook.active
    assert [c.value for c in sheet[1]] == ["key", "what", "en", "cy"] and sheet.freeze_panes == "A2"
    for row in sheet.iter_rows(min_row=2):
        if row[0].value == f"statement.{s2}":
            row[3].value = "Gofynnwch yn gyntaf."
    out = io.BytesIO()
    workbook.save(out)

    done = await upload(client, base, out.getvalue(), name="cyfieithiad.xlsx")

    assert done.status_code == 303 and "imported=cy:1" in done.headers["location"]
    assert await translations(engine) == {f"statement.{s2}": ("Gofynnwch yn gyntaf.", "Ask first.")}


async def test_a_bad_file_is_shown_again_with_every_problem_at_once_and_nothing_saved(
    client: AsyncTestClient, engine: AsyncEngine
) -> None:
    base, (s1, _) = await _panel(client, engine)
    data = (
        f"key,cy,fr\r\nstatement.{s1},Cynnig fideo.,\r\nstatement.999999,Rhywbeth.,\r\nstatement.{s1},Eto.,\r\n"
    ).encode()
    refused = await upload(client, base, data)
    assert refused.status_code == 400
    assert "There is a problem" in refused.text and "Nothing has been imported" in refused.text
    assert (
        "Line 1: The panel is not offered in French (fr); it is offered in English (en) and Welsh (cy)."
        in (refused.text.replace("&#39;", "'"))
    )
    assert "Line 3: There is no statement 999999 in round 1." in refused.text
    assert f"Line 4: The key statement.{s1} is also on line 2." in refused.text
    assert await count(engine, Translation) == 0


async def test_checking_a_file_shows_what_it_would_import_and_saves_nothing(
    client: AsyncTestClient, engine: AsyncEngine
) -> None:
    base, (s1, _) = await _panel(client, engine)
    data = f"key,en,cy\r\nstatement.{s1},Offer video now.,Cynnig fideo.\r\n".encode()
    checked = await upload(client, base, data, check="1")
    assert checked.status_code == 200
    assert "can be imported: 1 text(s) into cy" in checked.text
    assert f"Line 2: Statement {s1}" in checked.text  # its English text differs from the panel's now
    assert await count(engine, Translation) == 0


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x89PNG\r\n\x1a\n" + bytes(64), "This is a picture (PNG)"),
        (b"\x00\x01\x02binary\x00" * 10, "NUL"),
        (b"", "Choose the translation file to import"),
    ],
    ids=["png", "binary", "no file"],
)
async def test_a_file_that_is_not_a_table_gets_a_clear_message(
    client: AsyncTestClient, engine: AsyncEngine, data: bytes, message: str
) -> None:
    base, _ = await _panel(client, engine)
    refused = await upload(client, base, data, name="photo.png")
    assert refused.status_code == 400 and message in refused.text
    assert await count(engine, Translation) == 0


async def test_the_import_page_explains_the_columns_and_links_the_downloads(
    client: AsyncTestClient, engine: AsyncEngine
) -> None:
    base, _ = await _panel(client, engine)
    page = await client.get(f"{base}/translations/import")
    assert page.status_code == 200
    assert (
        f'href="{base}/translations/file.xlsx"' in page.text
        and f'href="{base}/translations/file.csv"' in page.text
    )
    assert "<code>key</code>" in page.text and 'enctype="multipart/form-data"' in page.text


def test_the_notice_after_an_import_names_each_language_and_the_lines_marked_out_of_date() -> None:
    from delphi.web.translation_files import imported_notice

    assert (
        imported_notice("cy:12,es:1", "0")
        == "Imported 12 texts into Welsh (cy) and 1 text into Spanish (es)."
    )
    assert "2 lines of the file had a different primary text" in (imported_notice("cy:3", "2") or "")
    assert imported_notice(None) is None and imported_notice("cy:x,<b>") is None
