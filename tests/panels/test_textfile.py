"""The one reader of uploaded text files (delphi.panels.textfile): encodings, line ends, delimiters, refusals."""

from __future__ import annotations

import codecs

import pytest

from delphi.panels.textfile import UnreadableFile, normalise_newlines, read_text, sniff_delimiter

#: Text with characters outside ASCII that Windows-1252 can also hold (é, ’, €, –), so every encoding applies.
TEXT = "section;statement\nAccès;Offer the café’s menu for €2 – or less\nChoice;Ask first\n"


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (TEXT.encode("utf-8"), "utf-8"),
        (TEXT.encode("utf-8-sig"), "utf-8"),  # Excel's "CSV UTF-8"
        (TEXT.encode("utf-16"), "utf-16-le"),  # BOM + little-endian on this machine: Excel's "Unicode Text"
        (codecs.BOM_UTF16_BE + TEXT.encode("utf-16-be"), "utf-16-be"),
        (TEXT.encode("utf-16-le"), "utf-16-le"),  # no BOM: told by the zero high bytes
        (TEXT.encode("utf-16-be"), "utf-16-be"),
        (TEXT.encode("utf-32"), "utf-32-le"),
        (TEXT.encode("cp1252"), "cp1252"),  # Excel's "CSV (Comma delimited)" on Windows
    ],
)
def test_each_encoding_reads_the_same_text(data: bytes, encoding: str) -> None:
    read = read_text(data)
    assert read.text == TEXT
    assert read.encoding == encoding


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_lf_crlf_and_cr_line_ends_read_as_lf(newline: str) -> None:
    data = TEXT.replace("\n", newline)
    assert read_text(data.encode("cp1252")).text == TEXT
    assert read_text(data).text == TEXT
    assert normalise_newlines("a\r\nb\rc\nd") == "a\nb\nc\nd"


def test_pasted_text_loses_its_byte_order_mark_and_empty_data_gives_empty_text() -> None:
    assert read_text("\ufeffone\r\ntwo").text == "one\ntwo"
    assert read_text("\ufeffone").encoding == "text"
    assert read_text(b"").text == ""
    assert read_text("").text == ""


def test_an_xlsx_workbook_is_refused_as_an_excel_workbook_to_save_as_csv() -> None:
    with pytest.raises(UnreadableFile, match=r"Excel workbook.*save it as CSV"):
        read_text(b"PK\x03\x04\x14\x00\x06\x00" + b"\x00" * 40)


@pytest.mark.parametrize(
    ("data", "named"),
    [
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 20, "old Excel workbook"),
        (b"%PDF-1.7\n", "PDF"),
        (b"\x89PNG\r\n\x1a\n", "picture"),
    ],
)
def test_other_binary_files_are_refused_by_their_signature(data: bytes, named: str) -> None:
    with pytest.raises(UnreadableFile, match=named):
        read_text(data)


def test_nul_bytes_are_refused_naming_the_line() -> None:
    with pytest.raises(UnreadableFile, match=r"NUL bytes \(the first on line 2\)"):
        read_text(b"statement\nabc\x00def\nmore text here\n")
    with pytest.raises(UnreadableFile, match="NUL character"):
        read_text("pasted\x00text")


def test_bytes_neither_utf8_nor_windows_1252_are_refused_naming_the_byte_and_line() -> None:
    # 0x81 is one of the five bytes Windows-1252 leaves undefined, and alone it is not UTF-8 either.
    with pytest.raises(UnreadableFile, match=r"Byte 0x81 on line 2 is neither UTF-8 nor Windows-1252"):
        read_text(b"statement\r\nbad \x81 byte\r\n")


def test_a_file_whose_utf8_mark_is_followed_by_bytes_that_are_not_utf8_is_refused() -> None:
    with pytest.raises(UnreadableFile, match="says it is UTF-8"):
        read_text(codecs.BOM_UTF8 + b"statement\ncaf\xe9\n")


@pytest.mark.parametrize(
    ("header", "delimiter"),
    [
        ("section,statement", ","),
        ("section;statement", ";"),
        ("section\tstatement", "\t"),
        ('"section, part";statement', ";"),  # a comma inside quotes does not count
        ("statement", ","),  # one column: nothing to split on
        ("email;group;name,with comma", ";"),
    ],
)
def test_the_delimiter_is_sniffed_from_the_header_line(header: str, delimiter: str) -> None:
    assert sniff_delimiter(header) == delimiter
