"""The statements page: import with a preview and per-line problems, files as Excel writes them, deleting a
statement before round 1, and renaming a group; on both backends."""

from __future__ import annotations

import codecs

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from delphi.db.engine import make_sessionmaker
from delphi.db.models import Panel, Panellist, Round, StakeholderGroup, Statement, utcnow
from tests.helpers import post_form
from tests.web.test_facilitator_pages import count, new_panel

STATEMENTS = "Section;Statement\r\nAccess;Offer video, in plain words.\r\nChoice;Ask people first.\r\n"


async def upload(client: AsyncTestClient, base: str, data: bytes, **form: str):  # type: ignore[no-untyped-def]
    page = f"{base}/statements"
    return await post_form(
        client, f"{page}/import", form, token_page=page, files={"file": ("statements.csv", data, "text/csv")}
    )


async def texts(engine: AsyncEngine) -> list[str]:
    async with make_sessionmaker(engine)() as session:
        return list((await session.scalars(select(Statement.text).order_by(Statement.id))).all())


@pytest.mark.parametrize(
    "data",
    [
        STATEMENTS.encode("utf-8-sig"),
        STATEMENTS.encode("utf-16"),
        codecs.BOM_UTF16_BE + STATEMENTS.replace(";", "\t").encode("utf-16-be"),
        STATEMENTS.replace(";", ",")
        .replace("Offer video, in plain words.", '"Offer video, in plain words."')
        .encode(),
        STATEMENTS.replace("\r\n", "\r").encode("cp1252"),
    ],
    ids=["utf-8 BOM", "utf-16", "utf-16 BE tabs", "utf-8 commas", "cp1252 CR"],
)
async def test_an_uploaded_file_is_previewed_then_imported_without_its_header(
    client: AsyncTestClient, engine: AsyncEngine, data: bytes
) -> None:
    base = await new_panel(client, engine)
    preview = await upload(client, base, data)
    assert preview.status_code == 200
    assert (
        "2 statement(s) are ready to import" in preview.text
        and "Offer video, in plain words." in preview.text
    )
    assert await count(engine, Statement) == 0  # the preview writes nothing
    done = await post_form(
        client,
        f"{base}/statements/import",
        {"bulk": STATEMENTS, "confirm": "1"},
        token_page=f"{base}/statements",
    )
    assert done.status_code == 200 and "2 statement(s) imported" in done.text
    assert await texts(engine) == ["Offer video, in plain words.", "Ask people first."]


async def test_a_file_with_one_bad_line_imports_nothing_and_the_preview_names_the_line(
    client: AsyncTestClient, engine: AsyncEngine
) -> None:
    base = await new_panel(client, engine)
    data = (STATEMENTS + "Choice;\r\nChoice;ask PEOPLE first.\r\n").encode("cp1252")
    preview = await upload(client, base, data)
    assert preview.status_code == 422
    assert "Nothing has been imported" in preview.text
    assert "Line 4: The statement is empty." in preview.text
    assert "Line 5: The statement is the same as the one on line 3." in preview.text
    assert 'name="confirm"' not in preview.text  # no "Import" button while there are problems
    confirmed = await upload(client, base, data, confirm="1")
    assert confirmed.status_code == 422
    assert await count(engine, Statement) == 0


async def test_an_excel_workbook_is_refused_with_the_problem_named(
    client: AsyncTestClient, engine: AsyncEngine
) -> None:
    base = await new_panel(client, engine)
    xlsx = b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00" + bytes(range(256))
    refused = await upload(client, base, xlsx, confirm="1")
    assert refused.status_code == 422
    assert "This looks like an Excel workbook" in refused.text and "save it as CSV" in refused.text
    assert await count(engine, Statement) == 0
    await post_form(client, f"{base}/groups", {"name": "Experts"}, token_page=f"{base}/groups")
    refused = await post_form(
        client,
        f"{base}/panellists/import",
        {"confirm": "1"},
        token_page=f"{base}/panellists",
        files={"file": ("people.csv", xlsx, "text/csv")},
    )
    assert refused.status_code == 422 and "This looks like an Excel workbook" in refused.text
    assert await count(engine, Panellist) == 0


async def test_the_panellist_import_reads_a_utf16_semicolon_file(
    client: AsyncTestClient, engine: AsyncEngine
) -> None:
    base = await new_panel(client, engine)
    await post_form(client, f"{base}/groups", {"name": "Experts"}, token_page=f"{base}/groups")
    data = "email;group;name\r\nana@example.org;Experts;Ana Müller\r\n".encode("utf-16")
    preview = await post_form(
        client,
        f"{base}/panellists/import",
        {},
        token_page=f"{base}/panellists",
        files={"file": ("people.csv", data, "text/csv")},
    )
    assert preview.status_code == 200 and "1 panellist(s) are ready to import" in preview.text
    assert "Ana Müller" in preview.text


async def test_pasted_lines_are_previewed_before_they_are_imported(
    client: AsyncTestClient, engine: AsyncEngine
) -> None:
    base = await new_panel(client, engine)
    pasted = {"bulk": "# Access\r\n1. Offer video.\r\n- Offer audio.\r\n"}
    preview = await post_form(client, f"{base}/statements/import", pasted, token_page=f"{base}/statements")
    assert preview.status_code == 200 and "Import 2 statement(s)" in preview.text
    assert await count(engine, Statement) == 0
    empty = await post_form(
        client, f"{base}/statements/import", {"bulk": " "}, token_page=f"{base}/statements"
    )
    assert empty.status_code == 422 and "Paste statements" in empty.text


async def open_round_1(engine: AsyncEngine) -> None:
    """Mark round 1 open and the rule locked, as opening round 1 does (without its mail)."""
    async with make_sessionmaker(engine)() as session, session.begin():
        await session.execute(update(Round).values(status="open", opened_at=utcnow()))
        await session.execute(update(Panel).values(rule_locked_at=utcnow()))


async def test_a_statement_is_deleted_after_a_confirmation_showing_its_text(
    client: AsyncTestClient, engine: AsyncEngine
) -> None:
    base = await new_panel(client, engine)
    await post_form(client, f"{base}/statements", {"text": "Offer video."}, token_page=f"{base}/statements")
    await post_form(client, f"{base}/statements", {"text": "Ask first."}, token_page=f"{base}/statements")
    async with make_sessionmaker(engine)() as session:
        first = await session.scalar(select(Statement.id).order_by(Statement.id))
    listing = await client.get(f"{base}/statements")
    assert f"/statements/{first}/delete" in listing.text
    confirm = await client.get(f"{base}/statements/{first}/delete")
    assert (
        confirm.status_code == 200
        and "Offer video." in confirm.text
        and "Delete this statement" in confirm.text
    )
    done = await post_form(client, f"{base}/statements/{first}/delete", {}, token_page=f"{base}/statements")
    assert done.status_code == 200 and "Statement deleted" in done.text
    assert await texts(engine) == ["Ask first."]


async def test_deleting_is_refused_after_round_1_opened(client: AsyncTestClient, engine: AsyncEngine) -> None:
    base = await new_panel(client, engine)
    await post_form(client, f"{base}/statements", {"text": "Offer video."}, token_page=f"{base}/statements")
    await open_round_1(engine)
    async with make_sessionmaker(engine)() as session:
        statement_id = await session.scalar(select(Statement.id))
    assert f"/statements/{statement_id}/delete" not in (await client.get(f"{base}/statements")).text
    page = await client.get(f"{base}/statements/{statement_id}/delete")
    assert page.status_code == 200 and "only before round 1 opens" in page.text
    assert "Delete this statement" not in page.text
    refused = await post_form(
        client, f"{base}/statements/{statement_id}/delete", {}, token_page=f"{base}/statements"
    )
    assert refused.status_code == 409 and "only before round 1 opens" in refused.text
    assert await texts(engine) == ["Offer video."]


async def test_a_group_is_renamed_and_a_duplicate_name_is_refused_with_the_form_open(
    client: AsyncTestClient, engine: AsyncEngine
) -> None:
    base = await new_panel(client, engine)
    for name in ("Service users", "Experts"):
        await post_form(client, f"{base}/groups", {"name": name}, token_page=f"{base}/groups")
    async with make_sessionmaker(engine)() as session:
        users, experts = (
            await session.scalars(select(StakeholderGroup.id).order_by(StakeholderGroup.id))
        ).all()
    await open_round_1(engine)  # renaming is allowed at any time
    done = await post_form(
        client,
        f"{base}/groups/{users}/rename",
        {"name": "People using services"},
        token_page=f"{base}/groups",
    )
    assert done.status_code == 200 and "Group renamed" in done.text and "People using services" in done.text
    refused = await post_form(
        client,
        f"{base}/groups/{experts}/rename",
        {"name": "people using SERVICES"},
        token_page=f"{base}/groups",
    )
    assert refused.status_code == 409
    assert "There is a group called" in refused.text and f'href="#rename-{experts}"' in refused.text
    assert f'id="rename-{experts}" name="name" type="text" maxlength="100" value="people using SERVICES"' in (
        refused.text
    )
    async with make_sessionmaker(engine)() as session:
        names = (await session.scalars(select(StakeholderGroup.name).order_by(StakeholderGroup.id))).all()
    assert names == ["People using services", "Experts"]
