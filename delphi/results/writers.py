"""Write a :class:`~delphi.results.tables.Table` as CSV, XLSX or JSON, safe to open in a spreadsheet.

Cell coding, the same in CSV and XLSX so the two compare cell by cell:

* missing (``None``, NaN, ±inf): an empty cell;
* ``bool``: ``1`` or ``0`` (portable to R, SPSS, Stata and Excel alike);
* ``int``: the number; ``float``: the shortest text that reads back to the same float (``repr``);
* ``datetime``: ISO 8601 in UTC, ``2026-03-01T17:00:00Z`` (text in XLSX too: Excel has no time zones);
* ``str``: the text, with characters XML cannot hold (C0 controls other than tab, LF and CR) removed.

Spreadsheet formula injection is neutralised: a text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab
or a carriage return gets a leading apostrophe in CSV (Excel and LibreOffice then show it as text) and is
written with the string type in XLSX (never as a formula). Numbers are written as numbers and need no
neutralising.

JSON keeps native types (``true``/``false``, numbers, ``null``) and needs no neutralising.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from datetime import UTC, datetime
from typing import Any

from delphi.errors import DelphiError
from delphi.results.tables import Table

#: Formats each writer produces, with their media types.
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
}
#: First characters that make a spreadsheet read a cell as a formula.
DANGEROUS_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
#: Rows an XLSX worksheet can hold, header included.
XLSX_MAX_ROWS = 1_048_576
#: Characters an XLSX cell can hold.
XLSX_MAX_CELL = 32_767
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


class TooLargeForFormat(DelphiError):
    """The table does not fit the format (XLSX row or cell limits); the message says what to use instead."""

    status_code = 409


def iso_utc(value: datetime) -> str:
    """``2026-03-01T17:00:00Z``; a naive datetime is taken to be UTC already. Microseconds are dropped."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.replace(tzinfo=None, microsecond=0).isoformat() + "Z"


def clean_text(value: str) -> str:
    """Remove the control characters an XLSX (XML) cell cannot hold; tab, LF and CR stay."""
    return _ILLEGAL.sub("", value)


def is_dangerous(text: str) -> bool:
    """True when a spreadsheet would read ``text`` as a formula (see :data:`DANGEROUS_PREFIXES`)."""
    return text.startswith(DANGEROUS_PREFIXES)


def plain_cell(value: Any) -> Any:
    """A cell value reduced to None, int, float or str, before any neutralising (shared by CSV and XLSX)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, datetime):
        return iso_utc(value)
    return clean_text(str(value))


def csv_cell(value: Any) -> str:
    """The text of one CSV cell (see the module docstring)."""
    v = plain_cell(value)
    if v is None:
        return ""
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, int):
        return str(v)
    return "'" + v if is_dangerous(v) else v


def to_csv(table: Table) -> bytes:
    """UTF-8 CSV (no byte-order mark), comma-separated, CRLF line ends (RFC 4180), header first."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([csv_cell(name) for name in table.header])
    for row in table.rows:
        writer.writerow([csv_cell(v) for v in row])
    return buffer.getvalue().encode("utf-8")


def to_xlsx(table: Table) -> bytes:
    """One worksheet named after the table, header in bold and frozen; raises :class:`TooLargeForFormat`."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    if len(table.rows) + 1 > XLSX_MAX_ROWS:
        raise TooLargeForFormat(
            f"{len(table.rows):,} rows do not fit in one XLSX worksheet (at most {XLSX_MAX_ROWS - 1:,}); "
            "download the CSV instead."
        )
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=table.name[:31] or "data")
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)

    def cell(value: Any, font: Font | None = None) -> WriteOnlyCell:
        v = plain_cell(value)
        if isinstance(v, str) and len(v) > XLSX_MAX_CELL:
            raise TooLargeForFormat(
                f"A cell of {len(v):,} characters does not fit in XLSX (at most {XLSX_MAX_CELL:,}); "
                "download the CSV instead."
            )
        c = WriteOnlyCell(sheet, value=v)
        if isinstance(v, str):
            c.data_type = "s"  # never a formula, whatever the first character
        if font is not None:
            c.font = font
        return c

    sheet.append([cell(name, bold) for name in table.header])
    for row in table.rows:
        sheet.append([cell(v) for v in row])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def json_value(value: Any) -> Any:
    """A JSON-able value: NaN and infinities become None, datetimes ISO 8601 UTC text."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, datetime):
        return iso_utc(value)
    if isinstance(value, dict):
        return {str(k): json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_value(v) for v in value]
    return value


def to_json(table: Table) -> bytes:
    """``{"export", "title", "meta", "columns": [{name, description, kind, unit}], "rows": [{...}]}``.

    UTF-8, non-ASCII kept as is.
    """
    body = {
        "export": table.name,
        "title": table.title,
        "meta": json_value(table.meta),
        "columns": [
            {"name": c.name, "description": c.description, "kind": c.kind, "unit": c.unit}
            for c in table.columns
        ],
        "rows": [json_value(row) for row in table.dicts()],
    }
    return json.dumps(body, ensure_ascii=False, allow_nan=False, indent=1).encode("utf-8")


WRITERS = {"csv": to_csv, "xlsx": to_xlsx, "json": to_json}


def write(table: Table, fmt: str) -> bytes:
    """The table in ``fmt`` (``csv``, ``xlsx`` or ``json``); raises KeyError for another format."""
    return WRITERS[fmt](table)
