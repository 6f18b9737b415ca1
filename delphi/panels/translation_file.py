"""A panel's translations as one file, a column per language: downloaded to be filled in, and imported back.

The file (CSV or XLSX, first sheet) has a header line, then one line per text:

* ``key`` (required): what the line translates, a key of :mod:`delphi.panels.translations`
  (``statement.12``, ``panel.consent_text``, ``mail.invitation.subject``...);
* ``what`` (optional): a label for the translator ("Statement 12"), ignored on import;
* one column per language the panel is offered in, named by its BCP 47 tag (``en``, ``cy``, ``pt-BR``; any
  case, ``_`` for ``-``).  The primary language's column holds the text being translated and is never imported.

Import rules, all checked before anything is saved (a file with any problem imports nothing):

* the keys are those of the round being translated now (:func:`delphi.panels.translations.translated_round`,
  its texts as :func:`delphi.panels.translation_gaps.round_items` lists them); any other key is refused with
  its line, naming the round;
* every column other than ``key`` and ``what`` must name a language the panel is offered in; an unnamed column
  is allowed only when it is empty;
* a key may appear once; a text may be at most :data:`MAX_TEXT` characters;
* an empty cell imports nothing (it never deletes a translation);
* a cell our CSV writer protected from being read as a formula (a leading apostrophe before ``=``, ``+``,
  ``-``, ``@``) is read without the apostrophe.

*Which primary text a translation is recorded against* (``Translation.source``, which decides whether it is
out of date): the panel's current text, unless the file's primary cell holds a different text (whitespace
aside), as when the primary text was edited after the file was downloaded.  The translation was then made from
the file's text, so it is recorded against that one and shows as out of date on the translation sheet and in
the open check, until someone checks it against the current text; the result lists those lines
(:attr:`ParsedTranslations.changed_sources`).

Line numbers are those a spreadsheet shows: the header is line 1 (a CSV cell spanning several physical lines
is one line).  Reading, parsing and writing are pure; :func:`import_translations`, :func:`preview_import` and
:func:`translation_table` read the panel in the caller's session and never commit.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from delphi import audit
from delphi.db.models import Panel
from delphi.domain import Actor
from delphi.errors import InvalidInput
from delphi.locale import language_name, language_tag, same_language
from delphi.panels import textfile
from delphi.panels.translation_gaps import Item, round_items, stored_translations
from delphi.panels.translations import panel_languages, store_texts, translated_round

__all__ = [
    "MAX_TEXT",
    "ChangedSource",
    "ImportResult",
    "ParsedTranslations",
    "import_translations",
    "parse_translation_table",
    "preview_import",
    "read_table",
    "table_csv",
    "table_xlsx",
    "translation_table",
]

#: Characters a translated text may have.
MAX_TEXT = 10_000
#: Lines of texts a file may have (below the header).
MAX_ROWS = 20_000
#: What a file's header may name besides languages (``what`` is a label for the translator, never imported).
KEY_COLUMN, LABEL_COLUMN = "key", "what"
#: First characters a spreadsheet reads as a formula; the CSV writer puts an apostrophe before them.
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_TAG_RE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_KEY_RE = re.compile(r"^([a-z_]+)\.(\d+)(?:\.(.+))?$")
_XLS_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_SIGNATURE = b"PK\x03\x04"
_SAVE_AGAIN = (
    "Save it again from your spreadsheet as Excel workbook (.xlsx) or as CSV UTF-8, then upload that file."
)


@dataclass(frozen=True, slots=True)
class ChangedSource:
    """A line whose primary-language cell differs from the panel's text now: its ``line``, ``key``, the
    item's ``label`` and the primary text in the file (``file_text``), which its translations are recorded
    against."""

    line: int
    key: str
    label: str
    file_text: str


@dataclass(slots=True)
class ParsedTranslations:
    """What a file holds: ``texts`` ``{language tag: {key: text}}`` (non-empty cells only), ``problems``
    ``(line, message)`` (line 0 for the file as a whole), ``changed_sources`` and ``lines`` ``{key: line}``."""

    texts: dict[str, dict[str, str]] = field(default_factory=dict)
    problems: list[tuple[int, str]] = field(default_factory=list)
    changed_sources: list[ChangedSource] = field(default_factory=list)
    lines: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems and any(self.texts.values())

    @property
    def counts(self) -> dict[str, int]:
        """Texts per language, in the file's column order."""
        return {lang: len(texts) for lang, texts in self.texts.items()}

    def errors(self) -> list[tuple[str, str]]:
        """The problems as ``("file", "Line N: ...")`` pairs for an error summary, in line order."""
        return [
            ("file", f"Line {line}: {message}" if line else message)
            for line, message in sorted(self.problems, key=lambda p: p[0])
        ]


@dataclass(frozen=True, slots=True)
class ImportResult:
    """An import done: ``counts`` texts read per language, ``saved`` how many of them were new or changed
    (the others were stored already), ``changed_sources`` as in :class:`ParsedTranslations`."""

    counts: dict[str, int]
    saved: dict[str, int]
    changed_sources: list[ChangedSource]
    filename: str

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def _named(tag: str) -> str:
    return f"{language_name(tag)} ({tag})"


def _names(tags: Sequence[str]) -> str:
    named = [_named(t) for t in tags]
    return named[0] if len(named) == 1 else ", ".join(named[:-1]) + " and " + named[-1]


def clean_cell(value: str) -> str:
    """A cell's text: line ends as LF, control characters other than tab and LF removed, trimmed, and a
    formula-protecting apostrophe (``'=...``, ``'-...``) taken off."""
    text = _CONTROL_RE.sub("", textfile.normalise_newlines(value)).strip()
    if text.startswith("'") and text[1:].startswith(_FORMULA_PREFIXES):
        text = text[1:]
    return text


def _same_text(a: str, b: str) -> bool:
    return " ".join(a.split()) == " ".join(b.split())


def _unknown_key(key: str, round_number: int | None) -> str:
    """Why ``key`` is not a text to translate, as a sentence."""
    if round_number is None:
        return f"There is no text {key} to translate: the panel has no round yet."
    where = f"in round {round_number}"
    match = _KEY_RE.match(key)
    if match:
        kind, ref, part = match.groups()
        nouns = {
            "statement": "statement",
            "ranking": "ranking question",
            "item": "ranking item",
            "open": "open question",
            "baseline": "about-you question",
        }
        if kind in nouns and part is None:
            if kind == "baseline":
                return f"There is no about-you question {ref} on this panel."
            return f"There is no {nouns[kind]} {ref} {where}."
        if kind in nouns:
            return f"There is no text {key} {where}: {nouns[kind]} {ref} has no such part to translate."
    if key.startswith("section."):
        return f"There is no section with the key {key} {where}."
    return (
        f"“{key}” is not one of the texts to translate {where}; the key column should hold keys as the "
        "downloaded file has them, such as statement.12 or panel.consent_text."
    )


def parse_translation_table(
    rows: Sequence[Sequence[str]],
    items: Sequence[Item],
    primary: str,
    offered: Sequence[str],
    *,
    round_number: int | None = None,
) -> ParsedTranslations:
    """Read a translation file's ``rows`` (cells as text, the header first) against the ``items`` of the round
    being translated (round ``round_number``, named in messages) and the languages the panel is ``offered``
    in (BCP 47 tags, ``primary`` among them).

    Returns every text found and every problem at once (see the module docstring); ``texts`` holds only
    further languages.  Blank lines are skipped; so is a line whose key is empty and whose cells are all
    empty.
    """
    out = ParsedTranslations()
    header = [clean_cell(h).removeprefix("\ufeff") for h in rows[0]] if rows else []
    example = ",".join([KEY_COLUMN, LABEL_COLUMN, *offered])
    if not any(header):
        out.problems.append((1, f"The file is empty; its first line should name the columns: {example}."))
        return out

    key_col: int | None = None
    languages: dict[int, str] = {}  # column → offered tag
    unnamed: list[int] = []
    for col, name in enumerate(header):
        low = name.lower()
        if not name:
            unnamed.append(col)
        elif low == KEY_COLUMN:
            if key_col is not None:
                out.problems.append((1, "There are two columns named key; keep one."))
            else:
                key_col = col
        elif low == LABEL_COLUMN:
            continue
        elif not _TAG_RE.match(name.replace("_", "-")):
            out.problems.append(
                (
                    1,
                    f"The column “{name}” is not a language. The columns are key, what and one per language, "
                    f"named by its tag: {example}.",
                )
            )
        else:
            tag = next((o for o in offered if same_language(o, name)), None)
            if tag is None:
                out.problems.append(
                    (
                        1,
                        f"The panel is not offered in {_named(language_tag(name))}; it is offered in "
                        f"{_names(offered)}. Languages are added on the panel's languages page.",
                    )
                )
            elif tag in languages.values():
                out.problems.append((1, f"There are two columns for {_named(tag)}; keep one."))
            else:
                languages[col] = tag
    if key_col is None:
        out.problems.append(
            (1, f"The header line has no column named key; the first line should read {example}.")
        )
        return out
    further = [t for t in languages.values() if not same_language(t, primary)]
    primary_col = next((c for c, t in languages.items() if same_language(t, primary)), None)
    if not further and not out.problems:
        out.problems.append(
            (
                1,
                "The file has no column for a further language"
                + (
                    f" ({_names([o for o in offered if not same_language(o, primary)])})"
                    if len(offered) > 1
                    else ""
                )
                + "; there is nothing to import."
                + ("" if len(offered) > 1 else " Add a language on the panel's languages page first."),
            )
        )

    by_key = {it.key: it for it in items}
    seen: dict[str, int] = {}
    stray_reported = False
    any_line = False
    for line, record in enumerate(rows[1:], start=2):
        cells = [clean_cell(c) for c in record]
        if not any(cells):
            continue
        any_line = True
        if line > MAX_ROWS + 1:
            out.problems.append((line, f"The file has more than {MAX_ROWS:,} lines of texts; split it."))
            break
        if not stray_reported and any(
            text and (col in unnamed or col >= len(header)) for col, text in enumerate(cells)
        ):
            stray_reported = True
            out.problems.append(
                (
                    line,
                    "There is text in a column without a name in line 1; name the column by its language "
                    "or delete it.",
                )
            )

        def cell(col: int | None, cells: list[str] = cells) -> str:
            return cells[col] if col is not None and col < len(cells) else ""

        key = cell(key_col).lower()
        if not key:
            if any(cell(c) for c in languages):
                out.problems.append(
                    (line, "The key is empty; every line needs the key of the text it translates.")
                )
            continue
        if key in seen:
            out.problems.append((line, f"The key {key} is also on line {seen[key]}."))
            continue
        seen[key] = line
        item = by_key.get(key)
        if item is None:
            out.problems.append((line, _unknown_key(key, round_number)))
            continue
        out.lines[key] = line
        for col, tag in languages.items():
            text = cell(col)
            if not text or same_language(tag, primary):
                continue
            if len(text) > MAX_TEXT:
                out.problems.append(
                    (
                        line,
                        f"The {_named(tag)} text is {len(text):,} characters long; a text may have at most "
                        f"{MAX_TEXT:,}.",
                    )
                )
                continue
            out.texts.setdefault(tag, {})[key] = text
        file_source = cell(primary_col)
        if file_source and not _same_text(file_source, item.source):
            out.changed_sources.append(ChangedSource(line, key, item.label, file_source))
    if not any_line:
        out.problems.append((2, "The file has no lines of texts below the header line."))
    elif further and not out.problems and not any(out.texts.values()):
        out.problems.append(
            (0, f"Nothing to import: every cell of the {_names(further)} column(s) is empty.")
        )
    return out


def _xlsx_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def _read_xlsx(data: bytes) -> list[list[str]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, Exception) as exc:  # openpyxl raises many kinds for a broken workbook
        raise textfile.UnreadableFile(
            "This looks like an Excel workbook (.xlsx) but it cannot be read. " + _SAVE_AGAIN
        ) from exc
    try:
        if not workbook.worksheets:
            return []
        rows: list[list[str]] = []
        for record in workbook.worksheets[0].iter_rows(values_only=True):
            rows.append([_xlsx_cell(v) for v in record])
            if len(rows) > MAX_ROWS + 2:
                break
        return rows
    finally:
        workbook.close()


def read_table(data: bytes, filename: str = "") -> list[list[str]]:
    """The rows of an uploaded translation file, cells as text: an XLSX workbook (by its ZIP signature; its
    first sheet) or a CSV (decoded by :func:`delphi.panels.textfile.read_text`, its delimiter taken from the
    header line).  Raises :class:`~delphi.panels.textfile.UnreadableFile` naming the problem (an old .xls, a
    PDF, a picture, a broken workbook, bytes no encoding reads)."""
    if not data:
        raise textfile.UnreadableFile("The file is empty. Choose the translation file (CSV or .xlsx) again.")
    if data.startswith(_ZIP_SIGNATURE):
        return _read_xlsx(data)
    if data.startswith(_XLS_SIGNATURE):
        raise textfile.UnreadableFile(
            "This looks like an old Excel workbook (.xls), which cannot be read. " + _SAVE_AGAIN
        )
    if filename.lower().endswith((".xlsx", ".xlsm")):
        raise textfile.UnreadableFile("The file is named as an Excel workbook but is not one. " + _SAVE_AGAIN)
    text = textfile.read_text(data).text
    delimiter = textfile.sniff_delimiter(text.split("\n", 1)[0])
    try:
        return [list(r) for r in csv.reader(io.StringIO(text), delimiter=delimiter)]
    except csv.Error as exc:
        raise textfile.UnreadableFile(f"The CSV file cannot be read ({exc}). " + _SAVE_AGAIN) from None


async def _checked(
    session: AsyncSession,
    panel: Panel,
    data: bytes,
    filename: str,
    check_text: Callable[[str, str], list[str]] | None,
) -> tuple[ParsedTranslations, dict[str, Item]]:
    round_ = await translated_round(session, panel.id)
    items = await round_items(session, panel, round_) if round_ is not None else []
    offered = await panel_languages(session, panel)
    try:
        rows = read_table(data, filename)
    except textfile.UnreadableFile as exc:
        return ParsedTranslations(problems=[(0, exc.message)]), {}
    parsed = parse_translation_table(
        rows, items, offered[0], offered, round_number=round_.number if round_ is not None else None
    )
    if check_text is not None:
        for tag, texts in parsed.texts.items():
            for key_, text in texts.items():
                for message in check_text(key_, text):
                    parsed.problems.append((parsed.lines.get(key_, 0), f"{_named(tag)}: {message}"))
    return parsed, {it.key: it for it in items}


async def preview_import(
    session: AsyncSession,
    panel: Panel,
    data: bytes,
    filename: str = "",
    check_text: Callable[[str, str], list[str]] | None = None,
) -> ParsedTranslations:
    """What importing ``data`` would do, every problem included; nothing is saved."""
    parsed, _ = await _checked(session, panel, data, filename, check_text)
    return parsed


def _safe_filename(filename: str) -> str:
    name = re.split(r"[\\/]", filename or "")[-1]
    return _CONTROL_RE.sub("", name).strip()[:120] or "the uploaded file"


async def import_translations(
    session: AsyncSession,
    panel: Panel,
    data: bytes,
    filename: str,
    actor: Actor,
    check_text: Callable[[str, str], list[str]] | None = None,
) -> ImportResult:
    """Import a translation file (CSV or XLSX bytes) into the panel's further languages.

    Raises :class:`~delphi.errors.InvalidInput` listing every problem as ``("file", "Line N: ...")`` pairs
    when there is any (nothing is saved).  ``check_text(key, text)`` (the web passes
    :func:`delphi.mail.texts.translation_problems`) adds its messages as problems of the line.  Otherwise
    stores every non-empty cell through :func:`~delphi.panels.translations.store_texts` against the primary
    text it was made from (see the module docstring) and records one ``translations.imported`` event.
    Never commits.
    """
    parsed, items = await _checked(session, panel, data, filename, check_text)
    if not parsed.ok:
        errors = parsed.errors() or [("file", "The file has no translations to import.")]
        raise InvalidInput(
            errors[0][1]
            if len(errors) == 1
            else f"The file has {len(errors)} problems; nothing was imported.",
            field="file",
            errors=errors,
        )
    file_sources = {c.key: c.file_text for c in parsed.changed_sources}
    saved: dict[str, int] = {}
    for tag, texts in parsed.texts.items():
        stored, _ = await store_texts(
            session,
            panel.id,
            tag,
            {k: (text, file_sources.get(k, items[k].source)) for k, text in texts.items()},
        )
        saved[tag] = stored
    name = _safe_filename(filename)
    counts = parsed.counts
    audit.record(
        session,
        actor=actor,
        action="translations.imported",
        panel_id=panel.id,
        detail={
            "filename": name,
            "languages": ", ".join(counts),
            "counts": ", ".join(f"{n} into {tag}" for tag, n in counts.items()),
            "texts": sum(counts.values()),
            "changed_sources": len(parsed.changed_sources),
        },
    )
    return ImportResult(counts, saved, parsed.changed_sources, name)


async def translation_table(session: AsyncSession, panel: Panel) -> tuple[list[str], list[list[str]]]:
    """``(header, rows)`` of the panel's translation file: ``key``, ``what``, the primary language's column
    (the text to translate), then each further language with its stored translation ("" where there is none;
    out-of-date ones as they are).  One row per text of the round being translated, in the translation
    page's order; no rows before the panel has a round."""
    round_ = await translated_round(session, panel.id)
    items = await round_items(session, panel, round_) if round_ is not None else []
    languages = await panel_languages(session, panel)
    stored = await stored_translations(session, panel.id)
    header = [KEY_COLUMN, LABEL_COLUMN, *languages]
    rows = [
        [
            it.key,
            it.label,
            it.source,
            *(stored.get(tag, {}).get(it.key, ("", ""))[0] for tag in languages[1:]),
        ]
        for it in items
    ]
    return header, rows


def _protected(value: str) -> str:
    """A CSV cell that no spreadsheet reads as a formula (an apostrophe before ``=``, ``+``, ``-``, ``@``)."""
    text = _CONTROL_RE.sub("", value)
    return "'" + text if text.startswith(_FORMULA_PREFIXES) else text


def table_csv(header: Sequence[str], rows: Sequence[Sequence[str]]) -> bytes:
    """UTF-8 CSV with a byte-order mark (so Excel reads Welsh and Spanish letters right), comma-separated,
    CRLF line ends; cells that would read as formulas get a leading apostrophe (taken off on import)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([_protected(v) for v in row])
    return b"\xef\xbb\xbf" + buffer.getvalue().encode("utf-8")


def table_xlsx(header: Sequence[str], rows: Sequence[Sequence[str]]) -> bytes:
    """One worksheet "Translations": the header bold and frozen, text wrapped and top-aligned, the key and
    label columns narrow and the language columns wide; every cell text (never a formula)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Translations"
    wrap = Alignment(wrap_text=True, vertical="top")
    bold = Font(bold=True)
    for r, values in enumerate([list(header), *rows], start=1):
        for c, value in enumerate(values, start=1):
            cell = sheet.cell(row=r, column=c)
            cell.value = _CONTROL_RE.sub("", value)
            cell.data_type = "s"  # never a formula, whatever the first character
            cell.alignment = wrap
            if r == 1:
                cell.font = bold
    for c in range(1, len(header) + 1):
        sheet.column_dimensions[get_column_letter(c)].width = 22 if c <= 2 else 60
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
