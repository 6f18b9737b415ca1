"""Pure parsing of facilitator imports: panellists (CSV) and statements (CSV or pasted lines).

Nothing is written here: parsers return every row and every problem with its line number, and the use cases
(:mod:`delphi.panels.statements`, :mod:`delphi.panels.panellists`) import only a file without problems.  Both
read their input with :func:`delphi.panels.textfile.read_text` (the encodings and line ends spreadsheets write)
and take the delimiter (comma, semicolon or tab) from the header line; a file that cannot be read is one
problem on line 0, whose message names what is wrong.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from delphi.panels import textfile

EMAIL_RE = re.compile(r"^[^@\s<>,;\"]+@[^@\s<>,;\"]+\.[^@\s<>,;\"]+$")
LANG_RE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")
MAX_ROWS = 20_000
MAX_STATEMENT = 2_000


@dataclass(frozen=True, slots=True)
class PanellistRow:
    line: int
    email: str
    group: str
    name: str
    language: str


@dataclass(slots=True)
class ParsedImport:
    """Rows parsed and problems found (``(line, message)``, line 0 for the file as a whole); ``notes`` are
    remarks that block nothing (a column that is not imported); ``skipped`` are rows that are on the panel
    already exactly as written (a panellist import run again, e.g. after an interruption), which block nothing
    and are not imported again.  ``ok`` when there are rows and no problems."""

    rows: list = field(default_factory=list)
    problems: list[tuple[int, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    skipped: list = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.rows) and not self.problems


def _clean(value: str | None) -> str:
    return "".join(ch for ch in (value or "") if ch == "\t" or ch >= " ").strip()


#: What a panellist already on the panel is compared on: ``(group name, name, language)``.
OnPanel = tuple[str, str, str]


def parse_panellists(
    data: bytes | str,
    groups: Iterable[str],
    existing_emails: Iterable[str] = (),
    on_panel: Mapping[str, OnPanel] | None = None,
) -> ParsedImport:
    """Parse a panellist CSV with columns ``email, group`` and optional ``name, language``.

    ``data``: the file's bytes (see :mod:`delphi.panels.textfile` for the encodings read) or its text; cells
    separated by commas, semicolons or tabs, as the header line shows.  Header names are case-insensitive.
    ``group`` must name one of ``groups`` (case-insensitive); an e-mail may
    appear once in the file and must not be on the panel already (``existing_emails``, lower-case).  Line numbers
    count the header as line 1.

    ``on_panel`` (lower-case e-mail -> :data:`OnPanel`) names the panel's panellists for an import that may be
    run again: a valid row whose e-mail is there with the same group (case-insensitive), name and language goes
    to ``skipped`` (it was imported before); with other details it is a problem, as in ``existing_emails``.
    """
    out = ParsedImport()
    try:
        text = textfile.read_text(data).text
    except textfile.UnreadableFile as exc:
        out.problems.append((0, exc.message))
        return out
    delimiter = textfile.sniff_delimiter(text.split("\n", 1)[0])
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        header = [h.strip().lower() for h in next(reader)]
    except (StopIteration, csv.Error):
        out.problems.append((1, "The file is empty; it needs a header line: email,group,name,language."))
        return out
    missing = [c for c in ("email", "group") if c not in header]
    if missing:
        out.problems.append(
            (
                1,
                f"The header line lacks the column(s) {', '.join(missing)}; "
                "it should read email,group,name,language.",
            )
        )
        return out
    col = {name: header.index(name) for name in ("email", "group", "name", "language") if name in header}
    by_name = {g.strip().lower(): g for g in groups}
    seen: dict[str, int] = {}
    existing = {e.lower() for e in existing_emails}
    there = {e.lower(): v for e, v in (on_panel or {}).items()}
    try:
        for line, record in enumerate(reader, start=2):
            if not any(cell.strip() for cell in record):
                continue
            if line > MAX_ROWS + 1:
                out.problems.append((line, f"The file has more than {MAX_ROWS} rows; split it."))
                break

            def cell(name: str, record: list[str] = record) -> str:
                i = col.get(name)
                return _clean(record[i]) if i is not None and i < len(record) else ""

            email, group, name, lang = (
                cell("email").lower(),
                cell("group"),
                cell("name"),
                cell("language") or "en",
            )
            problems = []
            if not email:
                problems.append("the e-mail address is empty")
            elif len(email) > 320 or not EMAIL_RE.match(email):
                problems.append(f"{email!r} is not an e-mail address")
            elif email in seen:
                problems.append(f"{email} is also on line {seen[email]}")
            elif email in existing:
                problems.append(f"{email} is on this panel already")
            elif email in there and not _same(there[email], group, name, lang):
                problems.append(f"{email} is on this panel already, with another group, name or language")
            if group.lower() not in by_name:
                known = ", ".join(sorted(by_name.values())) or "none yet"
                problems.append(f"the group {group!r} does not exist (groups: {known})")
            if len(name) > 200:
                problems.append("the name is longer than 200 characters")
            if not LANG_RE.match(lang):
                problems.append(f"the language {lang!r} is not a language code such as en or pt-BR")
            if email and email not in seen:
                seen[email] = line
            if problems:
                out.problems.append((line, "; ".join(problems).capitalize() + "."))
            elif email in there:
                out.skipped.append(PanellistRow(line, email, by_name[group.lower()], name, lang))
            else:
                out.rows.append(PanellistRow(line, email, by_name[group.lower()], name, lang))
    except csv.Error as exc:
        out.problems.append((reader.line_num, f"The CSV cannot be read here ({exc})."))
    if not out.rows and not out.problems and not out.skipped:
        out.problems.append((2, "The file has a header but no panellists."))
    return out


def _same(there: OnPanel, group: str, name: str, language: str) -> bool:
    """Whether a row's group, name and language are those of the panellist on the panel."""
    return there[0].lower() == group.lower() and there[1] == name and there[2] == language


@dataclass(frozen=True, slots=True)
class StatementRow:
    line: int
    section: str
    text: str


#: Header names of the statements column (either) and of the optional section column, in lower case.
STATEMENT_COLUMNS = ("statement", "text")
SECTION_COLUMN = "section"


def _key(text: str) -> str:
    """What two statements must share to count as the same: their words, ignoring case and spacing."""
    return " ".join(text.split()).casefold()


@dataclass(frozen=True, slots=True)
class _Header:
    """A recognised header line: its line number, delimiter and the index of each column it names."""

    line: int
    delimiter: str
    text_col: int
    section_col: int | None
    ignored: tuple[str, ...]
    single: bool


def _statement_header(line_no: int, line: str) -> _Header | str | None:
    """The header on ``line`` if one of its cells is ``statement`` or ``text`` (case-insensitive, any delimiter);
    a message when it names both; None when the line is no header (then every line is a statement)."""
    delimiter = textfile.sniff_delimiter(line)
    cells = [c.strip().lower() for c in textfile.split_line(line, delimiter)]
    named = [c for c in STATEMENT_COLUMNS if c in cells]
    if not named:
        return None
    if len(named) > 1:
        return "The header line has both a statement and a text column; keep one of them."
    section = cells.index(SECTION_COLUMN) if SECTION_COLUMN in cells else None
    ignored = tuple(c for c in cells if c and c not in (*STATEMENT_COLUMNS, SECTION_COLUMN))
    single = len([c for c in cells if c]) == 1 and delimiter not in textfile.outside_quotes(line)
    return _Header(line_no, delimiter, cells.index(named[0]), section, ignored, single)


def _looks_like_a_table(lines: list[tuple[int, str]]) -> tuple[str, int] | None:
    """``(delimiter, columns)`` when every non-blank line splits into the same two or more cells on semicolons
    or tabs (a table whose header names no statement column); None otherwise.  Commas are not checked: a
    statement written in words often has one."""
    if len(lines) < 2:
        return None
    for delimiter in (";", "\t"):
        if delimiter not in lines[0][1]:
            continue
        widths = {len(textfile.split_line(raw, delimiter)) for _, raw in lines}
        if len(widths) == 1 and min(widths) >= 2:
            return delimiter, widths.pop()
    return None


def parse_statements(data: bytes | str, existing: Iterable[str] = ()) -> ParsedImport:
    """Parse statements from a CSV file or from pasted lines.

    ``data``: the uploaded file's bytes (see :mod:`delphi.panels.textfile` for the encodings and line ends
    read) or pasted text.  ``existing``: the texts of the panel's statements; a statement that matches one, or
    an earlier line, ignoring case and spacing, is a problem.

    - **CSV**: the first non-blank line is a header when one of its cells is ``statement`` or ``text``
      (case-insensitive), optionally with ``section``, separated by commas, semicolons or tabs; the header is
      never imported.  Other columns are not imported (a note says so).  A line whose statement cell is empty
      while others are not is a problem; a blank line is skipped.
    - **Pasted lines** (no such header): one statement per line; a line starting with ``#`` names the section
      of the lines after it; a leading ``1.``, ``1)``, ``-``, ``*`` or ``•`` is dropped; blank lines are
      skipped.  Lines that all split into the same columns on semicolons or tabs are a table without a known
      header: one problem, so that its header is not imported as a statement.

    Every problem carries its line number (1-based, counting blank lines and the header).  Text is stored
    with its spacing collapsed, as :func:`delphi.panels.statements.add_statement` stores it.
    """
    out = ParsedImport()
    try:
        text = textfile.read_text(data).text
    except textfile.UnreadableFile as exc:
        out.problems.append((0, exc.message))
        return out
    seen: dict[str, int] = {}
    taken = {_key(t) for t in existing}
    lines = text.split("\n")
    filled = [(n, raw) for n, raw in enumerate(lines, start=1) if raw.strip()]
    header = _statement_header(*filled[0]) if filled else None
    if isinstance(header, str):
        out.problems.append((filled[0][0], header))
    elif header is not None:
        _statements_from_table(out, lines, header, seen, taken)
    elif (table := _looks_like_a_table(filled)) is not None:
        delimiter, width = table
        out.problems.append(
            (
                filled[0][0],
                f"This looks like a table of {width} columns separated by {textfile.DELIMITER_NAMES[delimiter]},"
                " but its first line names no column “statement”. Name the column of statements “statement”"
                " (and the column of sections “section”) in the first line, or, if each line is one"
                " statement, put a line reading just “statement” above them.",
            )
        )
    else:
        _statements_from_lines(out, lines, seen, taken)
    if not out.rows and not out.problems:
        if header is not None:
            out.problems.append((header.line + 1, "The file has a header line but no statements below it."))
        else:
            out.problems.append((1, "There are no statements in the text."))
    return out


def _statements_from_table(
    out: ParsedImport, lines: list[str], header: _Header, seen: dict[str, int], taken: set[str]
) -> None:
    if header.ignored:
        out.notes.append(f"Not imported: the column(s) {', '.join(header.ignored)}.")
    # One column and no delimiter in the header: each line is one cell, commas and semicolons included.
    delimiter = "\x1f" if header.single else header.delimiter
    body = "\n".join(lines[header.line :])
    reader = csv.reader(io.StringIO(body), delimiter=delimiter)
    last = 0
    try:
        for record in reader:
            line, last = header.line + last + 1, reader.line_num
            if not any(cell.strip() for cell in record):
                continue
            if len(out.rows) + len(out.problems) >= MAX_ROWS:
                out.problems.append((line, f"The file has more than {MAX_ROWS} statements; split it."))
                return

            def cell(i: int | None, record: list[str] = record) -> str:
                return _clean(" ".join(record[i].split())) if i is not None and i < len(record) else ""

            _add_statement(out, line, cell(header.section_col), cell(header.text_col), seen, taken)
    except csv.Error as exc:
        out.problems.append((header.line + reader.line_num, f"The CSV cannot be read here ({exc})."))


def _statements_from_lines(
    out: ParsedImport, lines: list[str], seen: dict[str, int], taken: set[str]
) -> None:
    section = ""
    for line, raw in enumerate(lines, start=1):
        item = " ".join(_clean(raw).split())
        if not item:
            continue
        if item.startswith("#"):
            section = item.lstrip("#").strip()
            if len(section) > 200:
                out.problems.append((line, "The section name is longer than 200 characters."))
            continue
        if len(out.rows) + len(out.problems) >= MAX_ROWS:
            out.problems.append((line, f"The text has more than {MAX_ROWS} statements; split it."))
            return
        _add_statement(out, line, section[:200], re.sub(r"^(\d+[.)]|[-*•])\s+", "", item), seen, taken)


def _add_statement(
    out: ParsedImport, line: int, section: str, body: str, seen: dict[str, int], taken: set[str]
) -> None:
    """Add the statement of ``line`` to ``out.rows``, or every problem it has as one entry of ``out.problems``;
    ``seen`` maps each statement's key to the line it was first on."""
    problems = []
    key = _key(body)
    if not body:
        problems.append("the statement is empty")
    elif len(body) > MAX_STATEMENT:
        problems.append(f"the statement is longer than {MAX_STATEMENT} characters ({len(body)})")
    elif key in seen:
        problems.append(f"the statement is the same as the one on line {seen[key]}")
    elif key in taken:
        problems.append("the statement is on this panel already")
    if len(section) > 200:
        problems.append("the section name is longer than 200 characters")
    if body and key not in seen:
        seen[key] = line
    if problems:
        out.problems.append((line, "; ".join(problems).capitalize() + "."))
    else:
        out.rows.append(StatementRow(line, section, body))
