"""CSV, XLSX and JSON writers: cell coding, formula-injection neutralising, and CSV/XLSX agreement."""

from __future__ import annotations

import io
import json
import math
from datetime import UTC, datetime, timedelta, timezone

import openpyxl
import pytest

from delphi.results import writers
from delphi.results.tables import Column, Table
from delphi.results.writers import TooLargeForFormat, to_csv, to_json, to_xlsx
from tests.results.helpers import read_csv, read_xlsx, same_cell

DANGEROUS = ["=1+1", "+44 20 7946 0000", "-2", "@SUM(A1)", "\tx", "\rx", '=HYPERLINK("http://evil","x")']


def table(rows: list[tuple]) -> Table:
    cols = tuple(Column(f"c{i}", f"column {i}") for i in range(len(rows[0]) if rows else 1))
    return Table("test", "Test", cols, rows)


def test_text_that_starts_like_a_formula_gets_an_apostrophe_in_csv() -> None:
    rows = read_csv(to_csv(table([(d,) for d in DANGEROUS])))
    assert [r[0] for r in rows[1:]] == ["'" + d for d in DANGEROUS]


def test_harmless_text_and_numbers_are_written_as_they_are() -> None:
    rows = read_csv(to_csv(table([("plain", -3, -0.5, "a=b", "2-3")])))
    assert rows[1] == ["plain", "-3", "-0.5", "a=b", "2-3"]


def test_xlsx_writes_formula_like_text_as_strings_never_formulas() -> None:
    data = to_xlsx(table([(d,) for d in DANGEROUS]))
    sheet = openpyxl.load_workbook(io.BytesIO(data)).worksheets[0]
    cells = [row[0] for row in sheet.iter_rows(min_row=2)]
    # XML reads a carriage return back as a line feed; the text is otherwise kept exactly.
    assert [c.value for c in cells] == [d.replace("\r", "\n") for d in DANGEROUS]
    assert {c.data_type for c in cells} == {"s"}


def test_missing_values_nan_and_infinity_are_empty_cells() -> None:
    t = table([("row", None, math.nan, math.inf, -math.inf)])
    assert read_csv(to_csv(t))[1] == ["row", "", "", "", ""]
    assert read_xlsx(to_xlsx(t))[1] == ["row", None, None, None, None]
    assert json.loads(to_json(t))["rows"] == [{"c0": "row", "c1": None, "c2": None, "c3": None, "c4": None}]


def test_booleans_are_one_and_zero_in_csv_and_xlsx_and_true_false_in_json() -> None:
    t = table([(True, False)])
    assert read_csv(to_csv(t))[1] == ["1", "0"]
    assert read_xlsx(to_xlsx(t))[1] == [1, 0]
    assert json.loads(to_json(t))["rows"] == [{"c0": True, "c1": False}]


def test_floats_keep_full_precision_in_csv() -> None:
    value = 100 * 6 / 13
    assert float(read_csv(to_csv(table([(value,)])))[1][0]) == value


def test_datetimes_are_iso_8601_utc_everywhere() -> None:
    when = datetime(2026, 3, 1, 18, 30, 5, 123, tzinfo=timezone(timedelta(hours=1)))
    t = table([(when,)])
    assert read_csv(to_csv(t))[1] == ["2026-03-01T17:30:05Z"]
    assert read_xlsx(to_xlsx(t))[1] == ["2026-03-01T17:30:05Z"]
    assert json.loads(to_json(t))["rows"][0]["c0"] == "2026-03-01T17:30:05Z"


def test_control_characters_xml_cannot_hold_are_dropped_in_both_formats() -> None:
    t = table([("bell\x07 and\x00 nul\tkept\nline",)])
    assert read_csv(to_csv(t))[1] == ["bell and nul\tkept\nline"]
    assert read_xlsx(to_xlsx(t))[1] == ["bell and nul\tkept\nline"]


def test_csv_is_utf8_without_byte_order_mark_and_keeps_non_ascii() -> None:
    data = to_csv(table([("Zoë – ≥70%",)]))
    assert not data.startswith(b"\xef\xbb\xbf")
    assert read_csv(data)[1] == ["Zoë – ≥70%"]


def test_xlsx_matches_csv_cell_by_cell() -> None:
    rows = [
        (1, "text", 2.5, None, True, "=cmd|' /C calc'!A0", datetime(2026, 1, 2, tzinfo=UTC)),
        (-4, "-dash", 100 / 3, math.nan, False, "ünïcode", None),
    ]
    t = table(rows)
    from_csv = read_csv(to_csv(t))
    from_xlsx = read_xlsx(to_xlsx(t))
    assert len(from_csv) == len(from_xlsx) == 3
    for csv_row, xlsx_row in zip(from_csv, from_xlsx, strict=True):
        assert len(csv_row) == len(xlsx_row)
        assert all(same_cell(a, b) for a, b in zip(csv_row, xlsx_row, strict=True)), (csv_row, xlsx_row)


def test_json_carries_columns_with_descriptions_and_meta() -> None:
    t = Table(
        "x",
        "X",
        (Column("a", "an a", "integer", "people"),),
        [(1,)],
        {"when": datetime(2026, 1, 1, tzinfo=UTC)},
    )
    body = json.loads(to_json(t))
    assert body["columns"] == [{"name": "a", "description": "an a", "kind": "integer", "unit": "people"}]
    assert body["meta"] == {"when": "2026-01-01T00:00:00Z"}
    assert body["rows"] == [{"a": 1}]


def test_xlsx_refuses_more_rows_than_a_worksheet_holds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(writers, "XLSX_MAX_ROWS", 3)
    with pytest.raises(TooLargeForFormat, match="CSV instead"):
        to_xlsx(table([(1,), (2,), (3,)]))


def test_a_row_of_the_wrong_width_is_refused() -> None:
    with pytest.raises(ValueError, match="row 0"):
        Table("t", "T", (Column("a", "a"),), [(1, 2)])


def test_an_unknown_column_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown column kind"):
        Column("a", "a", "money")
