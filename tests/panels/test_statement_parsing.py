"""Parsing statement imports (delphi.panels.imports.parse_statements) and the panellist CSV through the same
reader: headers in any delimiter and encoding, pasted lines, and every per-line problem at once."""

from __future__ import annotations

import codecs
import itertools

import pytest

from delphi.panels.imports import MAX_STATEMENT, parse_panellists, parse_statements

EXPECTED = [
    (2, "Access", "Offer information on video, in plain words."),
    (3, "Access", "Offer the café’s leaflets."),
    (4, "Choice", "Ask people what they want first."),
]

ENCODINGS = {
    "utf-8": lambda s: s.encode("utf-8"),
    "utf-8 with BOM": lambda s: s.encode("utf-8-sig"),
    "utf-16 with BOM": lambda s: s.encode("utf-16"),
    "utf-16 BE with BOM": lambda s: codecs.BOM_UTF16_BE + s.encode("utf-16-be"),
    "utf-16 LE without BOM": lambda s: s.encode("utf-16-le"),
    "windows-1252": lambda s: s.encode("cp1252"),
}


def table(delimiter: str, newline: str) -> str:
    """The statements of :data:`EXPECTED` as a CSV with a header, cells quoted where they hold the delimiter
    or a comma (as Excel writes them)."""
    rows = [("Section", "Statement")] + [(sec, text) for _, sec, text in EXPECTED]

    def cell(value: str) -> str:
        return f'"{value}"' if delimiter in value or "," in value else value

    return newline.join(delimiter.join(cell(v) for v in row) for row in rows) + newline


@pytest.mark.parametrize(
    ("encoding", "delimiter", "newline"),
    list(itertools.product(ENCODINGS, [",", ";", "\t"], ["\n", "\r\n", "\r"])),
)
def test_every_encoding_delimiter_and_line_end_reads_the_same_statements(
    encoding: str, delimiter: str, newline: str
) -> None:
    parsed = parse_statements(ENCODINGS[encoding](table(delimiter, newline)))
    assert parsed.problems == []
    assert [(r.line, r.section, r.text) for r in parsed.rows] == EXPECTED


def test_a_semicolon_files_header_is_not_imported_as_a_statement() -> None:
    parsed = parse_statements(b"Section;Statement\r\nAccess;Offer video.\r\n")
    assert [(r.section, r.text) for r in parsed.rows] == [("Access", "Offer video.")]


@pytest.mark.parametrize("header", ["text", "TEXT", "Statement", "text;section", "section\ttext"])
def test_the_header_is_recognised_whatever_its_case_and_order(header: str) -> None:
    delimiter = ";" if ";" in header else "\t" if "\t" in header else ","
    cells = {"text": "Offer video.", "statement": "Offer video.", "section": "Access"}
    row = delimiter.join(cells[c.strip().lower()] for c in header.split(delimiter))
    parsed = parse_statements(f"{header}\n{row}\n")
    assert [r.text for r in parsed.rows] == ["Offer video."] and parsed.problems == []


def test_a_one_column_file_keeps_commas_and_semicolons_in_its_statements() -> None:
    parsed = parse_statements('statement\nOffer video, audio; and print.\n"Quoted, as Excel writes it"\n')
    assert [r.text for r in parsed.rows] == ["Offer video, audio; and print.", "Quoted, as Excel writes it"]


def test_pasted_lines_without_a_header_are_one_statement_each_with_sections_and_bullets() -> None:
    parsed = parse_statements("# Access\n1. Offer video.\n\n- Offer audio, too.\n# Choice\n• Ask first.\n")
    assert [(r.line, r.section, r.text) for r in parsed.rows] == [
        (2, "Access", "Offer video."),
        (4, "Access", "Offer audio, too."),
        (6, "Choice", "Ask first."),
    ]


def test_every_bad_line_is_named_at_once_and_nothing_is_ready() -> None:
    long = "x" * (MAX_STATEMENT + 1)
    data = f"section,statement\nA,Offer video.\nA,\nA,{long}\nB,offer  VIDEO.\nB,Already asked\n"
    parsed = parse_statements(data, existing=["Already  asked"])
    assert parsed.problems == [
        (3, "The statement is empty."),
        (4, f"The statement is longer than {MAX_STATEMENT} characters ({MAX_STATEMENT + 1})."),
        (5, "The statement is the same as the one on line 2."),
        (6, "The statement is on this panel already."),
    ]
    assert [r.line for r in parsed.rows] == [2] and not parsed.ok


def test_a_quoted_cell_over_two_lines_keeps_the_line_numbers_of_the_rows_after_it() -> None:
    parsed = parse_statements('statement;section\n"Offer video\nand audio.";A\n;A\n')
    assert [(r.line, r.text) for r in parsed.rows] == [(2, "Offer video and audio.")]
    assert parsed.problems == [(4, "The statement is empty.")]


def test_a_table_whose_header_names_no_statement_column_is_one_problem_not_a_statement() -> None:
    parsed = parse_statements("Bereich;Aussage\nZugang;Videos anbieten\n")
    assert parsed.rows == []
    ((line, message),) = parsed.problems
    assert line == 1 and "2 columns separated by semicolons" in message and "“statement”" in message


def test_a_header_with_both_statement_and_text_columns_is_refused() -> None:
    assert parse_statements("statement,text\na,b\n").problems == [
        (1, "The header line has both a statement and a text column; keep one of them.")
    ]


def test_other_columns_are_not_imported_and_a_note_says_so() -> None:
    parsed = parse_statements("id;statement;notes\n1;Offer video.;draft\n")
    assert [r.text for r in parsed.rows] == ["Offer video."]
    assert parsed.notes == ["Not imported: the column(s) id, notes."]


def test_empty_text_a_header_alone_and_an_unreadable_file_are_problems() -> None:
    assert parse_statements("\n  \n").problems == [(1, "There are no statements in the text.")]
    assert parse_statements("statement\n").problems == [
        (2, "The file has a header line but no statements below it.")
    ]
    ((line, message),) = parse_statements(b"PK\x03\x04rest").problems
    assert line == 0 and "Excel workbook" in message


def test_the_panellist_csv_reads_semicolons_and_utf16_through_the_same_reader() -> None:
    text = "Email;Group;Name\r\nana@example.org;Service users;Ana Müller\r\n"
    for data in (text.encode("utf-16"), text.encode("cp1252"), text):
        parsed = parse_panellists(data, ["Service users"])
        assert parsed.problems == []
        assert [(r.email, r.group, r.name) for r in parsed.rows] == [
            ("ana@example.org", "Service users", "Ana Müller")
        ]
    ((line, message),) = parse_panellists(b"PK\x03\x04", ["Service users"]).problems
    assert line == 0 and "save it as CSV" in message
