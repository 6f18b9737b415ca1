"""``delphi analyse RATINGS.csv``: consensus statistics for any tidy ratings file, for researchers.

The file has one row per rating with columns ``panellist``, ``statement``, ``rating`` and optionally
``group``, ``round`` and ``submitted`` (other columns are ignored). With the analysis population
``submitted`` only rows whose ``submitted`` is 1 count, as the engine counts a panel whose protocol says so;
with ``all`` (the default) every row of the file counts. ``rating`` is a whole number on the scale, empty (or
``NA``) for no answer, or ``unable``. Parsing (:func:`parse_ratings_csv`) and the table of results
(:func:`result_rows`) are pure functions, so the engine's export -> analyse round trip can reuse them; the
click command only opens files and prints.
"""

from __future__ import annotations

import contextlib
import csv
import json
import math
import re
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TextIO

import click
import numpy as np
from numpy.typing import NDArray

from delphi.stats import (
    GROUP_TESTS,
    QUANTILE_METHODS,
    RULE_NAMES,
    SCOPES,
    SENSITIVITY_RULE_NAMES,
    VERDICT_LABELS,
    AnalysisSettings,
    ConsensusRule,
    RoundAnalysis,
    analyse_round,
    rule_by_name,
    stability,
)

__all__ = [
    "FIRST_COLUMNS",
    "RatingsFileError",
    "RatingsTable",
    "analyse",
    "parse_ratings_csv",
    "result_rows",
]

REQUIRED_COLUMNS = ("panellist", "statement", "rating")
OPTIONAL_COLUMNS = ("group", "round", "submitted")
NO_ANSWER = frozenset({"", "na", "n/a", "nan"})
#: Analysis populations: every row of the file, or only rows of panellists who submitted the round.
POPULATIONS = ("all", "submitted")
_YES = frozenset({"1", "true", "yes"})
_NO = frozenset({"0", "false", "no"})
UNABLE = "unable"

#: The columns every output starts with (``round`` only when the file has a round column).
FIRST_COLUMNS = (
    "statement",
    "group",
    "round",
    "n",
    "n_unable",
    "median",
    "q1",
    "q3",
    "iqr",
    "pct_agree",
    "pct_disagree",
    "pct_unable",
    "verdict",
)
_MORE_STATS = (
    "mean",
    "sd",
    "cv",
    "n_agree",
    "n_disagree",
    "p30",
    "p70",
    "ipr",
    "asymmetry_index",
    "ipras",
    "disagreement_index",
    "disagreement",
    "classic_k",
    "disagreement_classic",
)
_STATEMENT_COLUMNS = ("divergence_test", "divergence_statistic", "divergence_p", "split")
_STABILITY_COLUMNS = ("n_paired", "wilcoxon_p", "pct_changed_category", "delta_iqr")


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
    header = next(reader, None)
    if header is None or not any(h.strip() for h in header):
        raise RatingsFileError(1, "the file is empty; expected a header with panellist, statement, rating")
    names = [h.strip().lstrip("\ufeff").lower() for h in header]
    for column in REQUIRED_COLUMNS:
        if column not in names:
            raise RatingsFileError(1, f"missing column {column!r} (the header has: {', '.join(names)})")
    for column in (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS):
        if names.count(column) > 1:
            raise RatingsFileError(1, f"column {column!r} appears more than once")
    i_p, i_s, i_r = (names.index(c) for c in REQUIRED_COLUMNS)
    i_g = names.index("group") if "group" in names else None
    i_round = names.index("round") if "round" in names else None
    if population not in POPULATIONS:
        raise ValueError(f"population must be one of {', '.join(POPULATIONS)}, not {population!r}")
    i_sub = names.index("submitted") if "submitted" in names else None
    if population == "submitted" and i_sub is None:
        raise RatingsFileError(
            1,
            "missing column 'submitted', which the population 'submitted' reads; "
            "use the population 'all' to count every row",
        )
    width = len(names)

    statements: dict[str, int] = {}
    panellists: dict[str, int] = {}
    groups: dict[str, int] = {}
    rounds: dict[str, int] = {}
    group_of: dict[int, tuple[int, int]] = {}  # panellist -> (group, line first seen)
    fast = {str(v): float(v) for v in range(settings.scale_min, settings.scale_max + 1)}
    rows_r: list[int] = []
    rows_s: list[int] = []
    rows_p: list[int] = []
    values: list[float] = []
    line_of: list[int] = []
    for row in reader:
        line = reader.line_num
        if not row or (len(row) == 1 and not row[0].strip()):
            continue
        if len(row) < width:
            raise RatingsFileError(line, f"expected {width} fields, found {len(row)}")
        if i_sub is not None:
            flag = row[i_sub].strip().lower()
            if flag not in _YES and flag not in _NO:
                raise RatingsFileError(line, f"submitted {row[i_sub]!r} is not 1 or 0 (true/false, yes/no)")
            if population == "submitted" and flag in _NO:
                continue
        panellist = row[i_p].strip()
        statement = row[i_s].strip()
        if not panellist:
            raise RatingsFileError(line, "panellist is empty")
        if not statement:
            raise RatingsFileError(line, "statement is empty")
        text = row[i_r]
        value = fast.get(text)
        if value is None:
            try:
                parsed = _parse_rating(text, settings)
            except ValueError as exc:
                raise RatingsFileError(line, str(exc)) from None
            value = -math.inf if parsed is None else parsed  # -inf marks "unable"
        p = _index(panellists, panellist)
        if i_g is not None:
            group = row[i_g].strip()
            if not group:
                raise RatingsFileError(line, "group is empty")
            g = _index(groups, group)
            seen = group_of.setdefault(p, (g, line))
            if seen[0] != g:
                first = next(k for k, v in groups.items() if v == seen[0])
                raise RatingsFileError(
                    line,
                    f"panellist {panellist!r} is in group {group!r} here but {first!r} on line {seen[1]}",
                )
        if i_round is not None:
            label = row[i_round].strip()
            if not label:
                raise RatingsFileError(line, "round is empty")
            rows_r.append(_index(rounds, label))
        rows_s.append(_index(statements, statement))
        rows_p.append(p)
        values.append(value)
        line_of.append(line)

    s_count, p_count = len(statements), len(panellists)
    round_labels = list(rounds) or ["1"]
    order = list(range(len(round_labels)))
    if rounds and all(re.fullmatch(r"-?\d+", label) for label in round_labels):
        order = sorted(order, key=lambda i: int(round_labels[i]))
    position = np.empty(len(order), dtype=np.intp)
    position[order] = np.arange(len(order))
    r_idx = position[np.asarray(rows_r, dtype=np.intp)] if rounds else np.zeros(len(rows_s), dtype=np.intp)
    s_idx = np.asarray(rows_s, dtype=np.intp)
    p_idx = np.asarray(rows_p, dtype=np.intp)
    flat = (r_idx * s_count + s_idx) * p_count + p_idx
    _check_duplicates(
        flat,
        np.asarray(line_of, dtype=np.int64),
        r_idx,
        s_idx,
        p_idx,
        statements,
        panellists,
        [round_labels[i] for i in order] if rounds else None,
    )

    shape = (len(order), s_count, p_count)
    vals = np.asarray(values, dtype=np.float64)
    is_unable = np.isneginf(vals)
    ratings = np.full(shape, np.nan)
    unable = np.zeros(shape, dtype=bool)
    ratings[r_idx, s_idx, p_idx] = np.where(is_unable, np.nan, vals)
    unable[r_idx, s_idx, p_idx] = is_unable
    asked = np.zeros(shape[:2], dtype=bool)
    asked[r_idx, s_idx] = True
    panellist_group = np.zeros(p_count, dtype=np.intp)
    for p, (g, _) in group_of.items():
        panellist_group[p] = g
    return RatingsTable(
        statements=tuple(statements),
        panellists=tuple(panellists),
        groups=tuple(groups) if i_g is not None else None,
        panellist_group=panellist_group,
        rounds=tuple(round_labels[i] for i in order) if rounds else None,
        ratings=ratings,
        unable=unable,
        asked=asked,
    )


def _check_duplicates(
    flat: NDArray[np.intp],
    lines: NDArray[np.int64],
    r_idx: NDArray[np.intp],
    s_idx: NDArray[np.intp],
    p_idx: NDArray[np.intp],
    statements: dict[str, int],
    panellists: dict[str, int],
    round_labels: list[str] | None,
) -> None:
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
    s_name = list(statements)[int(s_idx[dup])]
    p_name = list(panellists)[int(p_idx[dup])]
    where = "" if round_labels is None else f" in round {round_labels[int(r_idx[dup])]!r}"
    raise RatingsFileError(
        int(lines[dup]),
        f"panellist {p_name!r} already rated statement {s_name!r}{where} on line {int(lines[orig])}",
    )


def _value(x: Any) -> Any:
    """A Python scalar for output: NaN to None, floats to 12 significant digits (0.8, not 0.800000000007)."""
    if isinstance(x, float | np.floating):
        return None if math.isnan(x) else float(f"{x:.12g}")
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, np.bool_):
        return bool(x)
    return x


def result_rows(
    table: RatingsTable, rule: ConsensusRule, settings: AnalysisSettings, population: str = "all"
) -> tuple[list[str], list[dict[str, Any]]]:
    """The output table: one row per round x statement x (``all`` + each group).

    Parameters
    ----------
    table : RatingsTable
    rule : ConsensusRule
    settings : AnalysisSettings
    population : {"all", "submitted"}
        The population ``table`` was read with; repeated in every row's ``population`` column.

    Returns
    -------
    columns : list of str
        :data:`FIRST_COLUMNS` (``round`` only with rounds), then more statistics, counts per scale point,
        statement-level columns (divergence, sensitivity verdicts; on ``all`` rows only), stability against
        the previous round (rounds after the first), and the settings (population, quantile method, unable
        policy, rule).
    rows : list of dict
        Values are Python scalars; NaN and "not applicable" are None. On ``all`` rows ``verdict`` is the
        rule's verdict under its scope; on group rows it is the group's own verdict.
    """
    has_rounds = table.rounds is not None
    has_groups = table.groups is not None
    points = range(settings.scale_min, settings.scale_max + 1)
    nine = (settings.scale_min, settings.scale_max) == (1, 9)
    sens_names = [n for n in SENSITIVITY_RULE_NAMES if nine or not n.startswith("rand")]
    columns = [c for c in FIRST_COLUMNS if has_rounds or c != "round"]
    columns += [*_MORE_STATS, *(f"count_{v}" for v in points), *_STATEMENT_COLUMNS]
    columns += [f"verdict_{name}" for name in sens_names]
    if has_rounds:
        columns += list(_STABILITY_COLUMNS)
    columns += ["population", "quantile_method", "unable_policy", "rule"]
    n_groups = len(table.groups) if has_groups else 0
    group_labels = table.groups or ()
    groups = table.panellist_group if has_groups else None
    rows: list[dict[str, Any]] = []
    previous: tuple[np.ndarray, np.ndarray] | None = None
    for r in range(table.ratings.shape[0]):
        ratings, unable = table.ratings[r], table.unable[r]
        result = analyse_round(ratings, unable, groups, n_groups, rule, settings)
        stab = _stability_by_scope(previous, (ratings, unable), table, rule, settings) if previous else None
        previous = (ratings, unable)
        rows += _round_rows(result, table, r, group_labels, sens_names, stab, has_rounds)
    for row in rows:
        row.update(
            population=population,
            quantile_method=settings.quantile_method,
            unable_policy=settings.unable_policy,
            rule=rule.name,
        )
    return columns, [{c: _value(row.get(c)) for c in columns} for row in rows]


def _stability_by_scope(
    prev: tuple[np.ndarray, np.ndarray],
    cur: tuple[np.ndarray, np.ndarray],
    table: RatingsTable,
    rule: ConsensusRule,
    settings: AnalysisSettings,
) -> list[Any]:
    """Stability pooled, then per group (columns of that group)."""
    out = [stability(prev[0], cur[0], prev[1], cur[1], settings, rule)]
    for g in range(len(table.groups or ())):
        cols = table.panellist_group == g
        out.append(
            stability(prev[0][:, cols], cur[0][:, cols], prev[1][:, cols], cur[1][:, cols], settings, rule)
        )
    return out


def _round_rows(
    result: RoundAnalysis,
    table: RatingsTable,
    r: int,
    group_labels: Sequence[str],
    sens_names: list[str],
    stab: list[Any] | None,
    has_rounds: bool,
) -> list[dict[str, Any]]:
    scopes = [("all", result.pooled, result.verdict)]
    scopes += [(label, result.groups[g], result.groups[g].verdict) for g, label in enumerate(group_labels)]
    columns = {}
    for k, (_, stats, verdict) in enumerate(scopes):
        cols = {name: getattr(stats, name).tolist() for name in (*FIRST_COLUMNS[3:-1], *_MORE_STATS)}
        cols["verdict"] = [VERDICT_LABELS[v] for v in verdict.tolist()]
        counts = stats.counts.tolist()
        if stab is not None:
            st = stab[k]
            cols["n_paired"] = st.n_paired.tolist()
            cols["wilcoxon_p"] = st.wilcoxon_p.tolist()
            cols["pct_changed_category"] = st.pct_changed_category.tolist()
            cols["delta_iqr"] = st.delta_iqr.tolist()
        columns[k] = (cols, counts)
    d = result.divergence
    div_test = [GROUP_TESTS[t] or None for t in d.test.tolist()]
    div_stat, div_p, split = d.statistic.tolist(), d.pvalue.tolist(), d.split.tolist()
    sens = {name: result.sensitivity[name].tolist() for name in sens_names}
    has_groups = bool(group_labels)
    rows = []
    points = range(result.settings.scale_min, result.settings.scale_max + 1)
    for i, statement in enumerate(table.statements):
        if not table.asked[r, i]:
            continue
        for k, (label, _, _) in enumerate(scopes):
            cols, counts = columns[k]
            row: dict[str, Any] = {"statement": statement, "group": label}
            if has_rounds and table.rounds is not None:
                row["round"] = table.rounds[r]
            row.update({name: values[i] for name, values in cols.items()})
            row.update({f"count_{v}": c for v, c in zip(points, counts[i], strict=True)})
            if k == 0:
                if has_groups:
                    row.update(
                        divergence_test=div_test[i],
                        divergence_statistic=div_stat[i],
                        divergence_p=div_p[i],
                        split=split[i],
                    )
                row.update({f"verdict_{name}": VERDICT_LABELS[v[i]] for name, v in sens.items()})
            rows.append(row)
    return rows


def _format_csv(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


@contextlib.contextmanager
def _open(path: str, mode: str) -> Iterator[TextIO]:
    """A file for the csv module (UTF-8, BOM skipped, newline=""), or stdin/stdout for "-"."""
    if path == "-":
        yield sys.stdin if mode == "r" else sys.stdout
        return
    encoding = "utf-8-sig" if mode == "r" else "utf-8"
    with open(path, mode, encoding=encoding, newline="") as handle:
        yield handle


def _parse_range(text: str, what: str) -> tuple[int, int]:
    m = re.fullmatch(r"\s*(-?\d+)\s*[-–:]\s*(-?\d+)\s*", text or "")
    if not m:
        raise click.BadParameter(f"{text!r} is not a range LO-HI such as 7-9", param_hint=what)
    lo, hi = int(m.group(1)), int(m.group(2))
    if lo > hi:
        raise click.BadParameter(f"{text!r}: the low end is above the high end", param_hint=what)
    return lo, hi


@click.command("analyse")
@click.argument("ratings_csv", type=click.Path(dir_okay=False, allow_dash=True), metavar="RATINGS.csv")
@click.option("--scale", default="1-9", show_default=True, help="Rating scale MIN-MAX.")
@click.option("--agree", default="7-9", show_default=True, help="Agree band LO-HI.")
@click.option("--disagree", default="1-3", show_default=True, help="Disagree band LO-HI.")
@click.option(
    "--unable",
    type=click.Choice(["exclude", "include"]),
    default="exclude",
    show_default=True,
    help="Leave 'unable' answers out of the agreement denominators, or count them.",
)
@click.option(
    "--quantile",
    type=click.Choice(list(QUANTILE_METHODS)),
    default="linear",
    show_default=True,
    help="Quartiles: linear (type 7, R/Excel), weibull (type 6, SPSS) or Tukey's hinges.",
)
@click.option("--rule", "rule_name", type=click.Choice(list(RULE_NAMES)), default="comet", show_default=True)
@click.option("--scope", type=click.Choice(list(SCOPES)), default="pooled", show_default=True)
@click.option("--min-ratings", type=click.IntRange(min=1), default=2, show_default=True)
@click.option(
    "--population",
    type=click.Choice(list(POPULATIONS)),
    default="all",
    show_default=True,
    help="Which rows count: all, or only rows whose 'submitted' column is 1 (the panel's analysis population "
    "'submitted'; the engine's ratings export has that column).",
)
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True)
@click.option(
    "-o", "--output", default="-", type=click.Path(dir_okay=False, allow_dash=True), help="Output file."
)
def analyse(
    ratings_csv: str,
    scale: str,
    agree: str,
    disagree: str,
    unable: str,
    quantile: str,
    rule_name: str,
    scope: str,
    min_ratings: int,
    population: str,
    fmt: str,
    output: str,
) -> None:
    """Consensus statistics for a tidy ratings CSV: columns panellist, statement, rating and optionally group,
    round, submitted.

    One output row per statement x group ('all' pooled, then each group) x round, starting with
    statement, group, round, n, n_unable, median, q1, q3, iqr, pct_agree, pct_disagree, pct_unable, verdict.
    Percentages are 0-100. A bad file exits with status 2 and names the line.
    """
    lo, hi = _parse_range(scale, "--scale")
    try:
        settings = AnalysisSettings(lo, hi, quantile, unable)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--scale") from None
    try:
        rule = rule_by_name(
            rule_name,
            agree=_parse_range(agree, "--agree"),
            disagree=_parse_range(disagree, "--disagree"),
            scope=scope,
            min_ratings=min_ratings,
            scale_points=settings.n_points,
        )
        rule.check_scale(settings)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    try:
        with _open(ratings_csv, "r") as handle:
            table = parse_ratings_csv(handle, settings, population)
    except RatingsFileError as exc:
        click.echo(f"Error: {ratings_csv}, {exc}", err=True)
        raise SystemExit(2) from None
    except (OSError, UnicodeDecodeError) as exc:
        click.echo(f"Error: cannot read {ratings_csv}: {exc}", err=True)
        raise SystemExit(2) from None
    columns, rows = result_rows(table, rule, settings, population)
    with _open(output, "w") as out:
        if fmt == "json":
            document = {
                "settings": settings.to_dict(),
                "population": population,
                "rule": rule.to_dict(),
                "rule_description": rule.describe(),
                "columns": columns,
                "rows": rows,
            }
            json.dump(document, out, ensure_ascii=False, indent=1)
            out.write("\n")
        else:
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow(columns)
            for row in rows:
                writer.writerow([_format_csv(row[c]) for c in columns])
