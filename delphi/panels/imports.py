"""Pure parsing of facilitator imports: panellists (CSV) and statements (CSV or pasted lines).

Nothing is written here: parsers return every row and every problem with its line number, and the use cases
(:mod:`delphi.panels.statements`, :mod:`delphi.panels.panellists`) import only a file without problems.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

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
    """Rows parsed and problems found; ``ok`` when there are rows and no problems."""

    rows: list = field(default_factory=list)
    problems: list[tuple[int, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.rows) and not self.problems


def _decode(data: bytes | str) -> str | None:
    if isinstance(data, str):
        return data
    for enc in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    return None


def _clean(value: str | None) -> str:
    return "".join(ch for ch in (value or "") if ch == "\t" or ch >= " ").strip()


def parse_panellists(
    data: bytes | str, groups: Iterable[str], existing_emails: Iterable[str] = ()
) -> ParsedImport:
    """Parse a panellist CSV with columns ``email, group`` and optional ``name, language``.

    Header names are case-insensitive.  ``group`` must name one of ``groups`` (case-insensitive); an e-mail may
    appear once in the file and must not be on the panel already (``existing_emails``, lower-case).  Line numbers
    count the header as line 1.
    """
    out = ParsedImport()
    text = _decode(data)
    if text is None:
        out.problems.append((0, "The file is not readable text; save it as CSV (UTF-8) and try again."))
        return out
    reader = csv.reader(io.StringIO(text))
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
            else:
                out.rows.append(PanellistRow(line, email, by_name[group.lower()], name, lang))
    except csv.Error as exc:
        out.problems.append((reader.line_num, f"The CSV cannot be read here ({exc})."))
    if not out.rows and not out.problems:
        out.problems.append((2, "The file has a header but no panellists."))
    return out


@dataclass(frozen=True, slots=True)
class StatementRow:
    line: int
    section: str
    text: str


def parse_statements(data: bytes | str) -> ParsedImport:
    """Parse statements from a CSV with a ``text`` column (and optional ``section``) or from pasted lines.

    Pasted lines: one statement per line; a line starting with ``#`` names the section of the lines after it.
    """
    out = ParsedImport()
    text = _decode(data)
    if text is None:
        out.problems.append((0, "The text is not readable; save it as UTF-8 and try again."))
        return out
    lines = text.splitlines()
    first = lines[0].strip().lower() if lines else ""
    if first.replace('"', "").split(",")[:2] in (["text"], ["section", "text"], ["text", "section"]):
        reader = csv.DictReader(io.StringIO(text))
        reader.fieldnames = [f.strip().lower() for f in reader.fieldnames or []]
        try:
            for line, rec in enumerate(reader, start=2):
                body, section = _clean(rec.get("text")), _clean(rec.get("section"))
                if not body:
                    continue
                _add_statement(out, line, section, body)
        except csv.Error as exc:
            out.problems.append((reader.line_num, f"The CSV cannot be read here ({exc})."))
    else:
        section = ""
        for line, raw in enumerate(lines, start=1):
            item = _clean(raw)
            if not item:
                continue
            if item.startswith("#"):
                section = item.lstrip("#").strip()[:200]
                continue
            _add_statement(out, line, section, re.sub(r"^(\d+[.)]|[-*•])\s+", "", item))
    if not out.rows and not out.problems:
        out.problems.append((1, "There are no statements in the text."))
    return out


def _add_statement(out: ParsedImport, line: int, section: str, body: str) -> None:
    if len(body) > MAX_STATEMENT:
        out.problems.append((line, f"The statement is longer than {MAX_STATEMENT} characters."))
    elif len(section) > 200:
        out.problems.append((line, "The section name is longer than 200 characters."))
    else:
        out.rows.append(StatementRow(line, section, body))
