"""Reading an uploaded or pasted text file the way spreadsheets and editors write them: one reader for every
import (panellists and statements).

Pure functions, no I/O.  :func:`read_text` turns the bytes of an upload (or a pasted string) into text with
``\\n`` line ends, or raises :class:`UnreadableFile` with a message that names the problem and what to do;
:func:`sniff_delimiter` picks the delimiter of a CSV from its header line.

Encodings, in the order they are tried:

1. a byte-order mark: UTF-8 (``EF BB BF``, what Excel's "CSV UTF-8" writes), UTF-16 LE (``FF FE``, Excel's
   "Unicode Text"), UTF-16 BE (``FE FF``), UTF-32 LE/BE;
2. UTF-16 without a mark, when the byte pattern says so (most characters of a Latin-script UTF-16 file have a
   zero high byte, so every second byte is zero);
3. UTF-8;
4. Windows-1252, the fallback: Excel on Windows saves "CSV (Comma delimited)" in the system's ANSI code page,
   which in English and western European locales is Windows-1252, so a file with "é" or "’" that is not UTF-8
   almost always comes from there.  Valid UTF-8 is tried first because non-ASCII text in Windows-1252 is
   practically never valid UTF-8 by chance.

Refused with a named problem: files that start with the signature of a workbook, a document or a picture (an
``.xlsx`` is a ZIP archive, ``PK\\x03\\x04``), NUL bytes (a binary file), and bytes that are neither UTF-8 nor
Windows-1252 (the five bytes Windows-1252 leaves undefined: 0x81, 0x8D, 0x8F, 0x90, 0x9D).  Line ends CR
(old Mac Excel), CRLF (Windows) and LF are all read as one line end.
"""

from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass

from delphi.errors import InvalidInput

#: Delimiters a CSV may use, in the order that breaks a tie when a header line has as many of one as another.
DELIMITERS = (";", "\t", ",")
DELIMITER_NAMES = {",": "commas", ";": "semicolons", "\t": "tabs"}

_SAVE_AS_CSV = "In Excel choose File, Save As, and the type “CSV UTF-8”; then upload that file."

#: File signatures (their first bytes) that are not text, and what each most likely is.
SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (
        b"PK\x03\x04",
        "This looks like an Excel workbook (.xlsx) or another zipped document, not a CSV file; save it as CSV. "
        + _SAVE_AS_CSV,
    ),
    (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
        "This looks like an old Excel workbook (.xls) or Word document, not a CSV file; save it as CSV. "
        + _SAVE_AS_CSV,
    ),
    (b"%PDF-", "This is a PDF document, not a CSV file. Save the list as CSV (UTF-8) and upload that file."),
    (b"\x89PNG", "This is a picture (PNG), not a CSV file."),
    (b"\xff\xd8\xff", "This is a picture (JPEG), not a CSV file."),
    (b"GIF8", "This is a picture (GIF), not a CSV file."),
)

#: Byte-order marks and the codec each announces; UTF-32's come first because UTF-32 LE's begins like UTF-16 LE's.
BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

#: How many leading bytes the UTF-16 guess looks at.
_SAMPLE = 4096


class UnreadableFile(InvalidInput):
    """The data is not text this reader accepts; ``message`` names the problem and what to do about it."""

    def __init__(self, message: str) -> None:
        super().__init__(message, field="file")


@dataclass(frozen=True, slots=True)
class TextFile:
    """Decoded text with ``\\n`` line ends and no byte-order mark, and the encoding it was read in (``"text"``
    for a string that was pasted rather than uploaded)."""

    text: str
    encoding: str


def normalise_newlines(text: str) -> str:
    """``text`` with every CRLF and every lone CR turned into LF."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _line_of(data: bytes, position: int) -> int:
    """The 1-based line of byte ``position``, counting LF line ends (or CR ones in a file without LF)."""
    head = data[:position]
    return (head.count(b"\n") if b"\n" in data else head.count(b"\r")) + 1


def _utf16_without_bom(data: bytes) -> str | None:
    """``"utf-16-le"`` or ``"utf-16-be"`` when the zero bytes of the first :data:`_SAMPLE` bytes sit almost
    all on one side of each byte pair (at least 30% of pairs, under 5% on the other side); else None.  An odd
    number of bytes is never UTF-16."""
    if len(data) < 2 or len(data) % 2:
        return None
    sample = data[:_SAMPLE]
    pairs = len(sample) // 2
    zero_even = sample[0::2].count(0)
    zero_odd = sample[1::2].count(0)
    if zero_odd >= 0.3 * pairs and zero_even < 0.05 * pairs:
        return "utf-16-le"
    if zero_even >= 0.3 * pairs and zero_odd < 0.05 * pairs:
        return "utf-16-be"
    return None


def _checked(text: str, encoding: str) -> TextFile:
    text = normalise_newlines(text.removeprefix("\ufeff"))
    nul = text.find("\x00")
    if nul >= 0:
        line = text.count("\n", 0, nul) + 1
        where = "text" if encoding == "text" else "file"
        raise UnreadableFile(
            f"The {where} contains a NUL character (on line {line}), so it is not plain text: is it a "
            "spreadsheet or a program file? Save it as CSV (UTF-8) and try again."
        )
    return TextFile(text, encoding)


def read_text(data: bytes | str) -> TextFile:
    """Decode an upload (``bytes``) or take pasted text (``str``) and normalise its line ends.

    Returns a :class:`TextFile`; empty data gives empty text.  Raises :class:`UnreadableFile` for a workbook,
    document or picture (by its signature), for NUL characters, and for bytes no accepted encoding reads; the
    message names the problem and, for undecodable bytes, the byte and its line.
    """
    if isinstance(data, str):
        return _checked(data, "text")
    for signature, message in SIGNATURES:
        if data.startswith(signature):
            raise UnreadableFile(message)
    for bom, encoding in BOMS:
        if data.startswith(bom):
            body = data[len(bom) :]
            try:
                return _checked(body.decode(encoding), encoding)
            except UnicodeDecodeError as exc:
                raise UnreadableFile(
                    f"The file says it is {encoding.upper()} but byte {exc.start + len(bom) + 1} (line "
                    f"{_line_of(data, exc.start + len(bom))}) is not; save it again as CSV UTF-8."
                ) from None
    guess = _utf16_without_bom(data)
    if guess is not None:
        try:
            return _checked(data.decode(guess), guess)
        except UnicodeDecodeError:
            raise UnreadableFile(
                "The file looks like UTF-16 text but cannot be read as such; save it as CSV UTF-8."
            ) from None
    if b"\x00" in data:
        position = data.index(b"\x00")
        raise UnreadableFile(
            f"The file contains NUL bytes (the first on line {_line_of(data, position)}), so it is not a text "
            "file: is it a spreadsheet or a program file? Save it as CSV (UTF-8) and try again."
        )
    try:
        return _checked(data.decode("utf-8"), "utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return _checked(data.decode("cp1252"), "cp1252")
    except UnicodeDecodeError as exc:
        byte = data[exc.start]
        raise UnreadableFile(
            f"Byte 0x{byte:02X} on line {_line_of(data, exc.start)} is neither UTF-8 nor Windows-1252 text, so "
            "the file cannot be read. Save it as CSV UTF-8 and upload it again."
        ) from None


def outside_quotes(line: str) -> str:
    """``line`` without the parts between double quotes (a quoted cell may hold any delimiter)."""
    return "".join(part for i, part in enumerate(line.split('"')) if i % 2 == 0)


def sniff_delimiter(header: str) -> str:
    """The delimiter of a CSV whose header line is ``header``: whichever of semicolon, tab and comma occurs
    most often outside quotes (ties in that order); a comma when none does (a one-column file)."""
    bare = outside_quotes(header)
    counts = {d: bare.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def split_line(line: str, delimiter: str) -> list[str]:
    """The cells of one CSV line (quotes removed as CSV writes them); ``[]`` for an empty line or one the CSV
    reader cannot split."""
    try:
        return next(csv.reader(io.StringIO(line), delimiter=delimiter), [])
    except csv.Error:
        return []
