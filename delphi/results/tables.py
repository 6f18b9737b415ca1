"""A plain table: named, described columns and rows of Python values. Every export is one of these.

Cell values are ``None`` (missing), ``bool``, ``int``, ``float`` (NaN and infinities count as missing),
``str`` or a timezone-aware ``datetime``; the writers in :mod:`delphi.results.writers` turn them into CSV,
XLSX or JSON, and the codebook (:mod:`delphi.results.codebook`) documents the columns.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

#: Column kinds, as named in the codebook.
KINDS = ("integer", "number", "text", "boolean", "date-time")


@dataclass(frozen=True, slots=True)
class Column:
    """One column: its name in the file header, a plain description, and its kind (one of :data:`KINDS`)."""

    name: str
    description: str
    kind: str = "text"
    #: The unit or coding, e.g. "percent, 0-100" or "1 = yes, 0 = no"; "" when obvious.
    unit: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown column kind {self.kind!r}; use one of {', '.join(KINDS)}")


#: The column every export of panellists' answers ends with (ratings, rankings, open answers, baseline): the
#: answer's own ``language`` ("" when not recorded).  The texts beside it stay in the primary language.
ANSWER_LANGUAGE = Column(
    "language",
    "The language the panellist answered in (a BCP 47 tag such as en, cy or es: the language of their pages "
    "when they saved the answer); empty when not recorded (answers saved before languages were). Statement "
    "and question texts stay in the panel's primary language.",
    "text",
    "BCP 47 language tag, or empty",
)


@dataclass(frozen=True, slots=True)
class Table:
    """Rows aligned with ``columns``; ``meta`` holds small JSON-able facts written into the JSON export.

    ``name`` is the export's file stem (``final-list``); ``title`` a sentence-case heading.
    """

    name: str
    title: str
    columns: tuple[Column, ...]
    rows: Sequence[Sequence[Any]] = ()
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        width = len(self.columns)
        for i, row in enumerate(self.rows):
            if len(row) != width:
                raise ValueError(
                    f"row {i} of {self.name} has {len(row)} cells; the table has {width} columns"
                )

    @property
    def header(self) -> list[str]:
        return [c.name for c in self.columns]

    def dicts(self) -> list[dict[str, Any]]:
        """Rows as ``{column name: value}`` dicts, in column order."""
        names = self.header
        return [dict(zip(names, row, strict=True)) for row in self.rows]
