"""Reading a tidy ratings CSV into arrays, for ``delphi analyse``: :func:`parse_ratings_csv`.

The file has one row per rating with columns ``panellist``, ``statement``, ``rating`` and optionally
``group``, ``round`` and ``submitted`` (other columns are ignored). With the analysis population
``submitted`` only rows whose ``submitted`` is 1 count, as the engine counts a panel whose protocol says so;
with ``all`` (the default) every row of the file counts. ``rating`` is a whole number on the scale, empty (or
``NA``) for no answer, or ``unable``. Pure: the caller opens the file.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from delphi.stats import AnalysisSettings

__all__ = ["POPULATIONS", "RatingsFileError", "RatingsTable", "parse_ratings_csv"]

REQUIRED_COLUMNS = ("panellist", "statement", "rating")
OPTIONAL_COLUMNS = ("group", "round", "submitted")
NO_ANSWER = frozenset({"", "na", "n/a", "nan"})
#: Analysis populations: every row of the file, or only rows of panellists who submitted the round.
POPULATIONS = ("all", "submitted")
_YES = frozenset({"1", "true", "yes"})
_NO = frozenset({"0", "false", "no"})
UNABLE = "unable"


class RatingsFileError(ValueError):
    """A problem in a ratings file, with the 1-based line it was found on (the header is line 1)."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line
        self.problem = message


@dataclass(frozen=True)
class RatingsTable:
    """A ratings file as arrays.

    Attributes
    ----------
    statements, panellists : tuple of str
        Labels in order of first appearance; S and P of them.
    groups : tuple of str or None
        Group labels in order of first appearance; None when the file has no ``group`` column.
    panellist_group : ndarray of intp, shape (P,)
        Index into ``groups`` of each panellist (all 0 without groups).
    rounds : tuple of str or None
        Round labels, numerically ordered when all are whole numbers, otherwise in order of first appearance;
        None when the file has no ``round`` column.
    ratings : ndarray of float64, shape (R, S, P)
        R is 1 without a round column. NaN where a panellist gave no rating (or was unable).
    unable : ndarray of bool, shape (R, S, P)
        "unable" answers.
    asked : ndarray of bool, shape (R, S)
        Whether the file has any row for the statement in the round (statements a round did not ask get no
        output rows for it).
    """

    statements: tuple[str, ...]
    panellists: tuple[str, ...]
    groups: tuple[str, ...] | None
    panellist_group: NDArray[np.intp]
    rounds: tuple[str, ...] | None
    ratings: NDArray[np.float64]
    unable: NDArray[np.bool_]
    asked: NDArray[np.bool_]


def _index(mapping: dict[str, int], key: str) -> int:
    i = mapping.get(key)
    if i is None:
        i = mapping[key] = len(mapping)
    return i


def _parse_rating(text: str, settings: AnalysisSettings) -> float | None:
    """The rating as a float, None for "unable", NaN for no answer; raise ValueError with the problem."""
    t = text.strip()
    low = t.lower()
    if low in NO_ANSWER:
        return math.nan
    if low == UNABLE:
        return None
    scale = f"{settings.scale_min}-{settings.scale_max}"
    try:
        value = float(t)
    except ValueError:
        raise ValueError(
            f"rating {text!r} is not a number: use a whole number {scale}, 'unable', or leave it empty"
        ) from None
    if not math.isfinite(value) or not value.is_integer():
        raise ValueError(f"rating {text!r} is not a whole number on the scale {scale}")
    if not settings.scale_min <= value <= settings.scale_max:
        raise ValueError(f"rating {text!r} is off the scale {scale}")
    return value


@dataclass(frozen=True)
class _Layout:
    """Where the columns are in the header: indices of panellist, statement and rating, of the optional
    columns (None when absent), and the number of header fields."""

    panellist: int
    statement: int
    rating: int
    group: int | None
    round: int | None
    submitted: int | None
    width: int


def _layout(header: list[str] | None, population: str) -> _Layout:
    """The header's layout; RatingsFileError (line 1) for an empty header, a missing or repeated column, or
    no ``submitted`` column under that population; ValueError for an unknown population."""
    if header is None or not any(h.strip() for h in header):
        raise RatingsFileError(1, "the file is empty; expected a header with panellist, statement, rating")
    names = [h.strip().lstrip("\ufeff").lower() for h in header]
    for column in REQUIRED_COLUMNS:
        if column not in names:
            raise RatingsFileError(1, f"missing column {column!r} (the header has: {', '.join(names)})")
    for column in (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS):
        if names.count(column) > 1:
            raise RatingsFileError(1, f"column {column!r} appears more than once")
    if population not in POPULATIONS:
        raise ValueError(f"population must be one of {', '.join(POPULATIONS)}, not {population!r}")
    i_sub = names.index("submitted") if "submitted" in names else None
    if population == "submitted" and i_sub is None:
        raise RatingsFileError(
            1,
            "missing column 'submitted', which the population 'submitted' reads; "
            "use the population 'all' to count every row",
        )
    i_p, i_s, i_r = (names.index(c) for c in REQUIRED_COLUMNS)
    return _Layout(
        panellist=i_p,
        statement=i_s,
        rating=i_r,
        group=names.index("group") if "group" in names else None,
        round=names.index("round") if "round" in names else None,
        submitted=i_sub,
        width=len(names),
    )


@dataclass
class _Rows:
    """The rows read so far: labels by first appearance, and per row its round, statement, panellist, value
    (-inf for "unable") and line."""

    layout: _Layout
    settings: AnalysisSettings
    population: str
    statements: dict[str, int] = field(default_factory=dict)
    panellists: dict[str, int] = field(default_factory=dict)
    groups: dict[str, int] = field(default_factory=dict)
    rounds: dict[str, int] = field(default_factory=dict)
    #: panellist -> (group, line first seen)
    group_of: dict[int, tuple[int, int]] = field(default_factory=dict)
    r: list[int] = field(default_factory=list)
    s: list[int] = field(default_factory=list)
    p: list[int] = field(default_factory=list)
    values: list[float] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._fast = {str(v): float(v) for v in range(self.settings.scale_min, self.settings.scale_max + 1)}

    def add(self, row: list[str], line: int) -> None:
        """Read one data row; blank rows and rows outside the population are skipped; RatingsFileError."""
        lay = self.layout
        if not row or (len(row) == 1 and not row[0].strip()):
            return
        if len(row) < lay.width:
            raise RatingsFileError(line, f"expected {lay.width} fields, found {len(row)}")
        if lay.submitted is not None:
            flag = row[lay.submitted].strip().lower()
            if flag not in _YES and flag not in _NO:
                raise RatingsFileError(
                    line, f"submitted {row[lay.submitted]!r} is not 1 or 0 (true/false, yes/no)"
                )
            if self.population == "submitted" and flag in _NO:
                return
        panellist = row[lay.panellist].strip()
        statement = row[lay.statement].strip()
        if not panellist:
            raise RatingsFileError(line, "panellist is empty")
        if not statement:
            raise RatingsFileError(line, "statement is empty")
        value = self._value(row[lay.rating], line)
        p = _index(self.panellists, panellist)
        if lay.group is not None:
            self._group(p, panellist, row[lay.group].strip(), line)
        if lay.round is not None:
            label = row[lay.round].strip()
            if not label:
                raise RatingsFileError(line, "round is empty")
            self.r.append(_index(self.rounds, label))
        self.s.append(_index(self.statements, statement))
        self.p.append(p)
        self.values.append(value)
        self.lines.append(line)

    def _value(self, text: str, line: int) -> float:
        value = self._fast.get(text)
        if value is None:
            try:
                parsed = _parse_rating(text, self.settings)
            except ValueError as exc:
                raise RatingsFileError(line, str(exc)) from None
            value = -math.inf if parsed is None else parsed  # -inf marks "unable"
        return value

    def _group(self, p: int, panellist: str, group: str, line: int) -> None:
        if not group:
            raise RatingsFileError(line, "group is empty")
        g = _index(self.groups, group)
        seen = self.group_of.setdefault(p, (g, line))
        if seen[0] != g:
            first = next(k for k, v in self.groups.items() if v == seen[0])
            raise RatingsFileError(
                line,
                f"panellist {panellist!r} is in group {group!r} here but {first!r} on line {seen[1]}",
            )


def parse_ratings_csv(
    lines: Iterable[str], settings: AnalysisSettings | None = None, population: str = "all"
) -> RatingsTable:
    """Read a tidy ratings CSV into arrays.

    Parameters
    ----------
    lines : iterable of str
        The file's lines (an open text file, ``io.StringIO`` or a list of strings).
    settings : AnalysisSettings, optional
        Supplies the scale ratings must lie on (default 1-9).
    population : {"all", "submitted"}
        ``all`` reads every row; ``submitted`` needs a ``submitted`` column (1/0, true/false or yes/no) and
        leaves out the rows where it is 0, so panellists who never submitted are not in the table at all.

    Returns
    -------
    RatingsTable

    Raises
    ------
    RatingsFileError
        At the first problem: empty file, missing column (``submitted`` too, with that population), a
        ``submitted`` value other than 1/0, true/false or yes/no, empty panellist, statement, group or round, rating
        not a number, not whole or off the scale, a panellist in two groups, or the same panellist rating the
        same statement twice in one round. The message names the line.
    """
    settings = AnalysisSettings() if settings is None else settings
    reader = csv.reader(iter(lines))
    rows = _Rows(_layout(next(reader, None), population), settings, population)
    for row in reader:
        rows.add(row, reader.line_num)
    return _table(rows)


def _table(rows: _Rows) -> RatingsTable:
    """The arrays of the rows read, rounds in :class:`RatingsTable` order; RatingsFileError for a duplicate."""
    s_count, p_count = len(rows.statements), len(rows.panellists)
    round_labels = list(rows.rounds) or ["1"]
    order = list(range(len(round_labels)))
    if rows.rounds and all(re.fullmatch(r"-?\d+", label) for label in round_labels):
        order = sorted(order, key=lambda i: int(round_labels[i]))
    position = np.empty(len(order), dtype=np.intp)
    position[order] = np.arange(len(order))
    r_idx = (
        position[np.asarray(rows.r, dtype=np.intp)] if rows.rounds else np.zeros(len(rows.s), dtype=np.intp)
    )
    s_idx = np.asarray(rows.s, dtype=np.intp)
    p_idx = np.asarray(rows.p, dtype=np.intp)
    ordered_rounds = [round_labels[i] for i in order] if rows.rounds else None
    _check_duplicates(
        (r_idx * s_count + s_idx) * p_count + p_idx,
        np.asarray(rows.lines, dtype=np.int64),
        (r_idx, s_idx, p_idx),
        list(rows.statements),
        list(rows.panellists),
        ordered_rounds,
    )
    shape = (len(order), s_count, p_count)
    vals = np.asarray(rows.values, dtype=np.float64)
    is_unable = np.isneginf(vals)
    ratings = np.full(shape, np.nan)
    unable = np.zeros(shape, dtype=bool)
    ratings[r_idx, s_idx, p_idx] = np.where(is_unable, np.nan, vals)
    unable[r_idx, s_idx, p_idx] = is_unable
    asked = np.zeros(shape[:2], dtype=bool)
    asked[r_idx, s_idx] = True
    panellist_group = np.zeros(p_count, dtype=np.intp)
    for p, (g, _) in rows.group_of.items():
        panellist_group[p] = g
    return RatingsTable(
        statements=tuple(rows.statements),
        panellists=tuple(rows.panellists),
        groups=tuple(rows.groups) if rows.layout.group is not None else None,
        panellist_group=panellist_group,
        rounds=tuple(ordered_rounds) if ordered_rounds is not None else None,
        ratings=ratings,
        unable=unable,
        asked=asked,
    )


def _check_duplicates(
    flat: NDArray[np.intp],
    lines: NDArray[np.int64],
    index: tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.intp]],
    statements: Sequence[str],
    panellists: Sequence[str],
    round_labels: Sequence[str] | None,
) -> None:
    """RatingsFileError at the earliest line that repeats a (round, statement, panellist) of an earlier one.

    ``flat`` is each row's cell number, ``index`` its (round, statement, panellist) indices.
    """
    if flat.size < 2:
        return
    order = np.argsort(flat, kind="stable")
    same = flat[order][1:] == flat[order][:-1]
    if not same.any():
        return
    second = order[1:][same]
    first = order[:-1][same]
    k = int(np.argmin(lines[second]))
    dup, orig = int(second[k]), int(first[k])
    r_idx, s_idx, p_idx = index
    s_name = statements[int(s_idx[dup])]
    p_name = panellists[int(p_idx[dup])]
    where = "" if round_labels is None else f" in round {round_labels[int(r_idx[dup])]!r}"
    raise RatingsFileError(
        int(lines[dup]),
        f"panellist {p_name!r} already rated statement {s_name!r}{where} on line {int(lines[orig])}",
    )
