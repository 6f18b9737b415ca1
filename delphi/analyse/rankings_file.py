"""Reading a tidy rankings CSV into arrays, for ``delphi analyse``: :func:`parse_rankings_csv`.

The file has one row per (round, question, panellist, item) with columns ``panellist``, ``item``, ``rank``
and optionally ``group``, ``round``, ``question`` and ``unable`` (other columns, such as the engine export's
``question_id`` and ``item_id``, are ignored). This is the layout of the engine's ``rankings`` export. An
"unable to rank" answer is one row with ``unable`` true (``1``/``true``/``yes``); its ``item`` and ``rank`` may
be empty and are ignored. ``rank`` is a positive number (1 = first; ties allowed, re-ranked to mid-ranks
later), or empty (``NA``) for an item left unranked, as the export writes it. A panellist who ranked some but
not all items of a question in a round is an *incomplete* answer: not an error, but left out of the figures and
counted. An empty ``group`` puts the panellist in no group (the pooled scope only). Pure: the caller opens the
file.

A file is ranking data when its header has a ``rank`` column and no ``rating`` column
(:func:`is_rankings_header`).
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "RankingBlock",
    "RankingsFileError",
    "RankingsTable",
    "is_rankings_header",
    "parse_rankings_csv",
]

REQUIRED_COLUMNS = ("panellist", "item", "rank")
OPTIONAL_COLUMNS = ("group", "round", "question", "unable", "counted", "submitted")
NO_RANK = frozenset({"", "na", "n/a", "nan"})
#: Which rows count: every row, or only those whose ``counted`` (engine export) or ``submitted`` column is 1.
POPULATIONS = ("all", "submitted")
_YES = frozenset({"1", "true", "yes"})
_NO = frozenset({"", "0", "false", "no"})
#: At most this many problems are spelled out; the message gives the total.
MAX_LISTED = 50


class RankingsFileError(ValueError):
    """Every problem found in a rankings file, as (1-based line, message) pairs (the header is line 1)."""

    def __init__(self, problems: list[tuple[int, str]]) -> None:
        self.problems = sorted(problems)
        listed = [f"line {line}: {message}" for line, message in self.problems[:MAX_LISTED]]
        n = len(self.problems)
        more = [f"... and {n - MAX_LISTED} more"] if n > MAX_LISTED else []
        head = "1 problem" if n == 1 else f"{n} problems"
        super().__init__(head + ":\n  " + "\n  ".join(listed + more))


@dataclass(frozen=True)
class RankingBlock:
    """The answers to one ranking question in one round.

    Attributes
    ----------
    round, question : int
        Indices into :attr:`RankingsTable.rounds` (0 without rounds) and :attr:`RankingsTable.questions`.
    items : ndarray of intp, shape (n,)
        Indices into ``RankingsTable.items[question]`` of the items the round asked (named on any row of the
        block), in order of first appearance in the question.
    panellists : ndarray of intp, shape (m,)
        Indices into :attr:`RankingsTable.panellists` of everyone who answered, in order of first appearance.
    ranks : ndarray of float64, shape (m, n)
        The rank each panellist gave each item; NaN where not ranked (and on unable rows).
    unable : ndarray of bool, shape (m,)
        "Unable to rank" answers.
    """

    round: int
    question: int
    items: NDArray[np.intp]
    panellists: NDArray[np.intp]
    ranks: NDArray[np.float64]
    unable: NDArray[np.bool_]


@dataclass(frozen=True)
class RankingsTable:
    """A rankings file as arrays.

    Attributes
    ----------
    questions : tuple of str
        Question labels in order of first appearance; ``("",)`` when the file has no ``question`` column.
    has_questions : bool
        Whether the file has a ``question`` column.
    items : tuple of tuple of str
        Per question, its item labels in order of first appearance.
    panellists : tuple of str
        Panellist labels in order of first appearance.
    groups : tuple of str or None
        Group labels in order of first appearance; None without a ``group`` column.
    panellist_group : ndarray of intp, shape (P,)
        Index into ``groups`` of each panellist; -1 for one in no group (empty ``group``); all 0 without groups.
    rounds : tuple of str or None
        Round labels, numerically ordered when all are whole numbers, else in order of first appearance;
        None without a ``round`` column.
    blocks : tuple of RankingBlock
        One per (round, question) with any row, ordered by round then question.
    """

    questions: tuple[str, ...]
    has_questions: bool
    items: tuple[tuple[str, ...], ...]
    panellists: tuple[str, ...]
    groups: tuple[str, ...] | None
    panellist_group: NDArray[np.intp]
    rounds: tuple[str, ...] | None
    blocks: tuple[RankingBlock, ...]


def _names(header: list[str]) -> list[str]:
    return [h.strip().lstrip("\ufeff").lower() for h in header]


def is_rankings_header(header: list[str] | None) -> bool:
    """Whether a CSV header (list of fields) is ranking data: a ``rank`` column and no ``rating`` column."""
    names = _names(header or [])
    return "rank" in names and "rating" not in names


def _index(mapping: dict[str, int], key: str) -> int:
    i = mapping.get(key)
    if i is None:
        i = mapping[key] = len(mapping)
    return i


@dataclass
class _Reader:
    """The rows read so far and the problems found."""

    col: dict[str, int]
    width: int
    #: The column that decides whether a row counts (None: every row counts).
    population_column: str | None = None
    problems: list[tuple[int, str]] = field(default_factory=list)
    questions: dict[str, int] = field(default_factory=dict)
    items: list[dict[str, int]] = field(default_factory=list)
    panellists: dict[str, int] = field(default_factory=dict)
    groups: dict[str, int] = field(default_factory=dict)
    rounds: dict[str, int] = field(default_factory=dict)
    group_of: dict[int, tuple[int, int]] = field(default_factory=dict)
    #: (round, question) -> panellist -> item (None for "unable") -> (rank, line)
    answers: dict[tuple[int, int], dict[int, dict[int | None, tuple[float, int]]]] = field(
        default_factory=dict
    )
    #: (round, question) -> items named in the block, in order of first appearance
    block_items: dict[tuple[int, int], dict[int, None]] = field(default_factory=dict)

    def field_of(self, row: list[str], name: str) -> str | None:
        i = self.col.get(name)
        return None if i is None else row[i].strip()

    def add(self, row: list[str], line: int) -> None:
        if not row or (len(row) == 1 and not row[0].strip()):
            return
        if len(row) < self.width:
            self.problems.append((line, f"expected {self.width} fields, found {len(row)}"))
            return
        problems_before = len(self.problems)
        panellist = self.field_of(row, "panellist") or ""
        item = self.field_of(row, "item") or ""
        rank_text = self.field_of(row, "rank") or ""
        if not panellist:
            self.problems.append((line, "panellist is empty"))
        unable = False
        flag = self.field_of(row, "unable")
        if flag is not None:
            if flag.lower() in _YES:
                unable = True
            elif flag.lower() not in _NO:
                self.problems.append((line, f"unable {flag!r} is not true or false (1/0, yes/no)"))
        round_label = self.field_of(row, "round")
        if round_label == "":
            self.problems.append((line, "round is empty"))
        question = self.field_of(row, "question")
        if question == "":
            self.problems.append((line, "question is empty"))
        group = self.field_of(row, "group")
        rank = math.nan
        if not unable:
            if not item:
                self.problems.append((line, "item is empty (only an 'unable' row may leave it empty)"))
            if rank_text.lower() not in NO_RANK:
                rank = self._rank(rank_text, line)
        if self.population_column is not None:
            flag = row[self.col[self.population_column]].strip().lower()
            if flag not in _YES and flag not in _NO:
                self.problems.append(
                    (line, f"{self.population_column} {flag!r} is not 1 or 0 (true/false, yes/no)")
                )
            elif flag in _NO:
                return
        if len(self.problems) > problems_before:
            return
        p = _index(self.panellists, panellist)
        if group is not None:
            self._group(p, panellist, group, line)
        r = _index(self.rounds, round_label) if round_label is not None else 0
        q = _index(self.questions, question or "")
        if q == len(self.items):
            self.items.append({})
        i = _index(self.items[q], item) if item else None
        key = (r, q)
        if i is not None:
            self.block_items.setdefault(key, {})[i] = None
        else:
            self.block_items.setdefault(key, {})
        self._answer(key, p, None if unable else i, rank, line, panellist, item, round_label, question)

    def _rank(self, text: str, line: int) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not math.isfinite(value) or value <= 0:
            self.problems.append((line, f"rank {text!r} is not a positive number"))
            return math.nan
        return value

    def _group(self, p: int, panellist: str, group: str, line: int) -> None:
        g = (
            _index(self.groups, group) if group else -1
        )  # empty: in no group (the export's ungrouped panellists)
        seen = self.group_of.setdefault(p, (g, line))
        if seen[0] != g:
            first = next((k for k, v in self.groups.items() if v == seen[0]), "")
            self.problems.append(
                (line, f"panellist {panellist!r} is in group {group!r} here but {first!r} on line {seen[1]}")
            )

    def _answer(
        self,
        key: tuple[int, int],
        p: int,
        i: int | None,
        rank: float,
        line: int,
        panellist: str,
        item: str,
        round_label: str | None,
        question: str | None,
    ) -> None:
        answers = self.answers.setdefault(key, {}).setdefault(p, {})
        where = "".join(
            [
                f" of question {question!r}" if question else "",
                f" in round {round_label!r}" if round_label else "",
            ]
        )
        earlier = answers.get(i)
        if earlier is not None:
            if i is not None:  # repeated "unable" rows (one per item, say) mean one answer
                self.problems.append(
                    (
                        line,
                        f"panellist {panellist!r} already ranked item {item!r}{where} on line {earlier[1]}",
                    )
                )
            return
        if i is None and answers:
            other = min(line for _, line in answers.values())
            self.problems.append(
                (line, f"panellist {panellist!r} answered 'unable'{where} but ranked items on line {other}")
            )
            return
        if i is not None and None in answers:
            self.problems.append(
                (
                    line,
                    f"panellist {panellist!r} ranked an item{where} but answered 'unable' on line {answers[None][1]}",
                )
            )
            return
        answers[i] = (rank, line)


def parse_rankings_csv(lines: Iterable[str], population: str = "all") -> RankingsTable:
    """Read a tidy rankings CSV into arrays.

    Parameters
    ----------
    lines : iterable of str
        The file's lines (an open text file, ``io.StringIO`` or a list of strings).
    population : {"all", "submitted"}
        ``all`` reads every row; ``submitted`` needs a ``counted`` column (the engine export's: 1 where the
        round's frozen figures count the answer) or a ``submitted`` column, and skips rows where it is 0.

    Returns
    -------
    RankingsTable

    Raises
    ------
    RankingsFileError
        With every problem found, each with its line: empty file, missing or repeated column, a row with too
        few fields, an empty panellist, question or round, an ``unable`` (``counted``, ``submitted``) value other
        than true/false, a row with no item (unless unable), a rank that is not a positive number, a
        panellist in two groups, the same panellist ranking the same item twice in one question and round (repeated
        "unable" rows are one answer), and a panellist both ranking items and answering "unable" there.
    """
    reader = csv.reader(iter(lines))
    header = next(reader, None)
    if header is None or not any(h.strip() for h in header):
        raise RankingsFileError([(1, "the file is empty; expected a header with panellist, item, rank")])
    names = _names(header)
    problems = [
        (1, f"missing column {c!r} (the header has: {', '.join(names)})")
        for c in REQUIRED_COLUMNS
        if c not in names
    ]
    problems += [
        (1, f"column {c!r} appears more than once")
        for c in (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS)
        if names.count(c) > 1
    ]
    if population not in POPULATIONS:
        raise ValueError(f"population must be one of {', '.join(POPULATIONS)}, not {population!r}")
    population_column = next((c for c in ("counted", "submitted") if c in names), None)
    if population == "submitted" and population_column is None:
        problems.append(
            (1, "missing column 'counted' or 'submitted', which the population 'submitted' reads")
        )
    if problems:
        raise RankingsFileError(problems)
    col = {c: names.index(c) for c in (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS) if c in names}
    rows = _Reader(col, len(names), population_column if population == "submitted" else None)
    for row in reader:
        rows.add(row, reader.line_num)
    if not rows.problems and not rows.answers:
        rows.problems.append((1, "the file has a header but no rankings"))
    if rows.problems:
        raise RankingsFileError(rows.problems)
    return _table(rows)


def _table(rows: _Reader) -> RankingsTable:
    round_labels = list(rows.rounds) or ["1"]
    order = list(range(len(round_labels)))
    if rows.rounds and all(re.fullmatch(r"-?\d+", label) for label in round_labels):
        order.sort(key=lambda i: int(round_labels[i]))
    position = {old: new for new, old in enumerate(order)}
    blocks = []
    for (r, q), answers in sorted(rows.answers.items(), key=lambda kv: (position[kv[0][0]], kv[0][1])):
        items = list(rows.block_items[(r, q)])
        column = {i: j for j, i in enumerate(items)}
        panellists = list(answers)
        ranks = np.full((len(panellists), len(items)), np.nan)
        unable = np.zeros(len(panellists), dtype=bool)
        for k, p in enumerate(panellists):
            for i, (rank, _) in answers[p].items():
                if i is None:
                    unable[k] = True
                else:
                    ranks[k, column[i]] = rank
        blocks.append(
            RankingBlock(
                round=position[r],
                question=q,
                items=np.asarray(items, dtype=np.intp),
                panellists=np.asarray(panellists, dtype=np.intp),
                ranks=ranks,
                unable=unable,
            )
        )
    panellist_group = np.zeros(len(rows.panellists), dtype=np.intp)
    for p, (g, _) in rows.group_of.items():
        panellist_group[p] = g
    return RankingsTable(
        questions=tuple(rows.questions),
        has_questions="question" in rows.col,
        items=tuple(tuple(d) for d in rows.items),
        panellists=tuple(rows.panellists),
        groups=tuple(rows.groups) if "group" in rows.col else None,
        panellist_group=panellist_group,
        rounds=tuple(round_labels[i] for i in order) if rows.rounds else None,
        blocks=tuple(blocks),
    )
