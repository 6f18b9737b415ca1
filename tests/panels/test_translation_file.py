"""The translation file: downloaded with a column per language, filled in and imported back, and every kind of
bad file refused with its lines named and nothing imported; on both backends."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import AuditEvent, PanelLanguage, Translation
from delphi.errors import InvalidInput
from delphi.panels import translation_file as tf
from delphi.panels.translation_gaps import language_gaps, round_items, stored_translations
from delphi.panels.translations import store_texts
from tests.factories import ACTOR, World, build_panel


async def _world(session: AsyncSession, *languages: str) -> World:
    """A running panel with round 1 open asking three statements, offered in English and ``languages``."""
    world = await build_panel(
        session, sections=(("Access", ["Offer video.", "Ask first.", "Write plainly."]),)
    )
    for lang in languages:
        session.add(PanelLanguage(panel_id=world.panel.id, language=lang))
    await session.flush()
    return world


def _csv(lines: list[list[str]], delimiter: str = ",") -> str:
    return "\r\n".join(delimiter.join(cells) for cells in lines) + "\r\n"


async def _stored(session: AsyncSession) -> dict[tuple[str, str], tuple[str, str]]:
    rows = await session.execute(
        select(Translation.language, Translation.key, Translation.text, Translation.source)
    )
    return {(lang, k): (text, source) for lang, k, text, source in rows.all()}


async def _count(session: AsyncSession) -> int:
    return await session.scalar(select(func.count()).select_from(Translation)) or 0


def _filled(
    header: list[str], rows: list[list[str]], language: str, texts: dict[str, str]
) -> list[list[str]]:
    """``rows`` with ``language``'s column filled from ``texts`` (by key)."""
    col = header.index(language)
    return [[*r[:col], texts.get(r[0], r[col]), *r[col + 1 :]] for r in rows]


def _workbook(lines: list[list[str]]) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    for line in lines:
        workbook.active.append(line)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
async def test_a_downloaded_file_filled_in_is_imported_against_the_current_primary_text(
    session: AsyncSession, fmt: str
) -> None:
    world = await _world(session, "cy", "es")
    s1, s2, _ = world.statements
    header, rows = await tf.translation_table(session, world.panel)
    assert header == ["key", "what", "en", "cy", "es"]
    assert [r[:3] for r in rows if r[0] == f"statement.{s1.id}"] == [
        [f"statement.{s1.id}", f"Statement {s1.id}", "Offer video."]
    ]
    assert any(r[0] == "panel.consent_text" for r in rows)
    filled = _filled(
        header, rows, "cy", {f"statement.{s1.id}": "Cynnig fideo.", "panel.title": "Cynnwys pobl"}
    )
    filled = _filled(header, filled, "es", {f"statement.{s2.id}": "Pregunte primero."})
    data = tf.table_csv(header, filled) if fmt == "csv" else tf.table_xlsx(header, filled)

    result = await tf.import_translations(session, world.panel, data, f"translations.{fmt}", ACTOR)

    assert result.counts == {"cy": 2, "es": 1} and result.changed_sources == []
    stored = await _stored(session)
    assert stored[("cy", f"statement.{s1.id}")] == ("Cynnig fideo.", "Offer video.")
    assert stored[("cy", "panel.title")] == ("Cynnwys pobl", world.panel.title)
    assert stored[("es", f"statement.{s2.id}")] == ("Pregunte primero.", "Ask first.")
    assert len(stored) == 3
    event = await session.scalar(select(AuditEvent).where(AuditEvent.action == "translations.imported"))
    assert (
        event is not None and event.detail["texts"] == 3 and event.detail["filename"] == f"translations.{fmt}"
    )
    # the stored translations come back in the next download
    header, rows = await tf.translation_table(session, world.panel)
    assert [r[3] for r in rows if r[0] == f"statement.{s1.id}"] == ["Cynnig fideo."]


async def test_a_file_with_an_unknown_statement_and_an_unknown_language_column_imports_nothing(
    session: AsyncSession,
) -> None:
    world = await _world(session, "cy")
    s1 = world.statements[0]
    data = _csv(
        [
            ["key", "what", "en", "cy", "notes"],
            [f"statement.{s1.id}", "", "Offer video.", "Cynnig fideo.", ""],
            ["statement.999999", "", "", "Rhywbeth.", ""],
        ]
    ).encode()
    with pytest.raises(InvalidInput) as refused:
        await tf.import_translations(session, world.panel, data, "t.csv", ACTOR)
    messages = [m for _, m in refused.value.errors]
    assert all(f == "file" for f, _ in refused.value.errors)
    assert any(m.startswith("Line 1: The column “notes” is not a language") for m in messages)
    assert "Line 3: There is no statement 999999 in round 1." in messages
    assert await _count(session) == 0


async def test_a_language_the_panel_is_not_offered_in_is_refused_naming_the_offered_ones(
    session: AsyncSession,
) -> None:
    world = await _world(session, "cy")
    s1 = world.statements[0]
    data = _csv([["key", "ES", "cy"], [f"statement.{s1.id}", "Ofrecer vídeo.", "Cynnig fideo."]]).encode()
    with pytest.raises(InvalidInput) as refused:
        await tf.import_translations(session, world.panel, data, "t.csv", ACTOR)
    assert [m for _, m in refused.value.errors] == [
        "Line 1: The panel is not offered in Spanish (es); it is offered in English (en) and Welsh (cy). "
        "Languages are added on the panel's languages page."
    ]
    assert await _count(session) == 0


async def test_a_key_twice_a_duplicate_column_and_a_text_too_long_are_all_listed_at_once(
    session: AsyncSession,
) -> None:
    world = await _world(session, "cy")
    s1, s2, _ = world.statements
    data = _csv(
        [
            ["key", "cy", "CY"],
            [f"statement.{s1.id}", "Cynnig fideo.", ""],
            [f"statement.{s2.id}", "x" * (tf.MAX_TEXT + 1), ""],
            [f"Statement.{s1.id}", "Eto.", ""],
        ]
    ).encode()
    preview = await tf.preview_import(session, world.panel, data, "t.csv")
    assert preview.problems == [
        (1, "There are two columns for Welsh (cy); keep one."),
        (3, "The Welsh (cy) text is 10,001 characters long; a text may have at most 10,000."),
        (4, f"The key statement.{s1.id} is also on line 2."),
    ]
    with pytest.raises(InvalidInput):
        await tf.import_translations(session, world.panel, data, "t.csv", ACTOR)
    assert await _count(session) == 0


async def test_a_semicolon_separated_file_from_excel_in_windows_1252_is_read(session: AsyncSession) -> None:
    world = await _world(session, "es")
    s1 = world.statements[0]
    data = f'key;what;en;es\r\nstatement.{s1.id};Statement;Offer video.;"Ofrecer vídeo; ¿sí?"\r\n'
    result = await tf.import_translations(session, world.panel, data.encode("cp1252"), "t.csv", ACTOR)
    assert result.counts == {"es": 1}
    assert (await _stored(session))[("es", f"statement.{s1.id}")] == ("Ofrecer vídeo; ¿sí?", "Offer video.")


async def test_a_csv_with_a_byte_order_mark_and_a_formula_guard_reads_back_as_written(
    session: AsyncSession,
) -> None:
    world = await _world(session, "cy")
    s1 = world.statements[0]
    data = tf.table_csv(["key", "cy"], [[f"statement.{s1.id}", "- Cynnig fideo ŵ."]])
    assert data.startswith(b"\xef\xbb\xbf") and b"'- Cynnig" in data  # a spreadsheet reads no formula
    await tf.import_translations(session, world.panel, data, "t.csv", ACTOR)
    assert (await _stored(session))[("cy", f"statement.{s1.id}")][0] == "- Cynnig fideo ŵ."


async def test_empty_cells_import_nothing_and_delete_nothing(session: AsyncSession) -> None:
    world = await _world(session, "cy")
    s1, s2, _ = world.statements
    await store_texts(session, world.panel.id, "cy", {f"statement.{s2.id}": ("Gofynnwch.", "Ask first.")})
    data = _csv(
        [["key", "en", "cy"], [f"statement.{s1.id}", "", "Cynnig fideo."], [f"statement.{s2.id}", "", ""]]
    )
    result = await tf.import_translations(session, world.panel, data.encode(), "t.csv", ACTOR)
    assert result.counts == {"cy": 1}
    stored = await _stored(session)
    assert stored[("cy", f"statement.{s2.id}")] == ("Gofynnwch.", "Ask first.")
    empty = _csv([["key", "en", "cy"], [f"statement.{s1.id}", "Offer video.", ""]]).encode()
    with pytest.raises(InvalidInput, match="Nothing to import"):
        await tf.import_translations(session, world.panel, empty, "t.csv", ACTOR)


async def test_a_line_whose_primary_text_changed_since_is_imported_but_out_of_date(
    session: AsyncSession,
) -> None:
    world = await _world(session, "cy")
    s1, s2, _ = world.statements
    data = _csv(
        [
            ["key", "en", "cy"],
            [f"statement.{s1.id}", "Offer video calls.", "Cynnig galwadau fideo."],
            [f"statement.{s2.id}", "Ask  first.", "Gofynnwch yn gyntaf."],  # whitespace aside, the same
        ]
    ).encode()
    result = await tf.import_translations(session, world.panel, data, "t.csv", ACTOR)
    assert [(c.line, c.key, c.file_text) for c in result.changed_sources] == [
        (2, f"statement.{s1.id}", "Offer video calls.")
    ]
    stored = await _stored(session)
    assert stored[("cy", f"statement.{s1.id}")][1] == "Offer video calls."
    assert stored[("cy", f"statement.{s2.id}")][1] == "Ask first."
    items = await round_items(session, world.panel, world.round)  # type: ignore[arg-type]
    (gap,) = language_gaps(items, await stored_translations(session, world.panel.id), "en", ["cy"], {})
    assert [it.key for it in gap.outdated] == [f"statement.{s1.id}"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x89PNG\r\n\x1a\n" + bytes(200), "This is a picture (PNG)"),
        (
            b"PK\x03\x04" + bytes(range(256)),
            "This looks like an Excel workbook (.xlsx) but it cannot be read",
        ),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100), "old Excel workbook (.xls)"),
        (b"", "The file is empty"),
        (b"key,cy\r\n", "The file has no lines of texts below the header line."),
        (b"what,cy\r\nx,y\r\n", "Line 1: The header line has no column named key"),
    ],
    ids=["png", "broken xlsx", "xls", "empty", "header only", "no key column"],
)
async def test_a_file_that_is_no_translation_table_is_refused_with_the_problem_named(
    session: AsyncSession, data: bytes, message: str
) -> None:
    world = await _world(session, "cy")
    with pytest.raises(InvalidInput) as refused:
        await tf.import_translations(session, world.panel, data, "t.csv", ACTOR)
    assert any(message in m for _, m in refused.value.errors), refused.value.errors
    assert await _count(session) == 0


async def test_an_xlsx_with_numbers_and_gaps_reads_its_first_sheet_by_spreadsheet_line(
    session: AsyncSession,
) -> None:
    world = await _world(session, "cy")
    s1 = world.statements[0]
    data = _workbook([["key", "cy"], [], [f"statement.{s1.id}", 42], ["statement.999999", "x"]])
    preview = await tf.preview_import(session, world.panel, data, "t.xlsx")
    assert preview.problems == [(4, "There is no statement 999999 in round 1.")]
    assert preview.texts == {"cy": {f"statement.{s1.id}": "42"}}


async def test_the_mail_text_check_reports_its_problems_by_line(session: AsyncSession) -> None:
    world = await _world(session, "cy")
    s1 = world.statements[0]
    data = _csv([["key", "cy"], [f"statement.{s1.id}", "Cynnig {fideo}."]]).encode()

    def check(key: str, text: str) -> list[str]:
        return ["The placeholder {fideo} is not known."] if "{" in text else []

    with pytest.raises(InvalidInput) as refused:
        await tf.import_translations(session, world.panel, data, "t.csv", ACTOR, check)
    assert refused.value.errors == [("file", "Line 2: Welsh (cy): The placeholder {fideo} is not known.")]
