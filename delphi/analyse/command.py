"""``delphi analyse RATINGS.csv``: consensus statistics for any tidy ratings (or rankings) file, for researchers.

The click command opens files, reads them with :func:`delphi.analyse.ratings_file.parse_ratings_csv`, builds
the table with :func:`delphi.analyse.rows.result_rows` and prints it as CSV or JSON; it holds no statistics.
A file whose header has ``rank`` and no ``rating`` is ranking data: :mod:`delphi.analyse.rankings_file` and
:mod:`delphi.analyse.ranking_rows` instead.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import re
import sys
from collections.abc import Iterator
from typing import Any, TextIO

import click

from delphi.analyse.ranking_rows import rank_correlation_rows, ranking_item_rows
from delphi.analyse.rankings_file import RankingsFileError, is_rankings_header, parse_rankings_csv
from delphi.analyse.ratings_file import POPULATIONS, RatingsFileError, parse_ratings_csv
from delphi.analyse.rows import result_rows
from delphi.stats import PRESETS, QUANTILE_METHODS, SCOPES, AnalysisSettings, rule_by_name

__all__ = ["analyse"]


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
@click.option(
    "--rule",
    "rule_name",
    type=click.Choice(list(PRESETS)),
    default="comet",
    show_default=True,
    help="Consensus rule, on the --agree and --disagree bands: "
    + "; ".join(f"{p.name}: {p.description}" for p in PRESETS.values())
    + ".",
)
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
@click.option(
    "--w-min",
    type=click.FloatRange(0, 1),
    default=0.7,
    show_default=True,
    help="Rankings: the ranking rule's threshold, agreement when Kendall's W >= it (Schmidt 1997). "
    "--min-ratings is then the fewest complete rankings a verdict needs.",
)
@click.option(
    "--rank-table",
    type=click.Choice(["items", "correlations"]),
    default="items",
    show_default=True,
    help="Rankings, CSV output: the item table, or each panellist's Spearman rho with their previous round "
    "(JSON holds both).",
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
    w_min: float,
    rank_table: str,
    fmt: str,
    output: str,
) -> None:
    """Consensus statistics for a tidy ratings CSV: columns panellist, statement, rating and optionally group,
    round, submitted.

    One output row per statement x group ('all' pooled, then each group) x round, starting with
    statement, group, round, n, n_unable, median, q1, q3, iqr, pct_agree, pct_disagree, pct_unable, verdict.
    Percentages are 0-100. A bad file exits with status 2 and names the line.

    A header with a 'rank' column and no 'rating' column is ranking data (the engine's rankings export):
    columns panellist, item, rank (empty: item left unranked) and optionally group, round, question, unable,
    counted (read by --population submitted). One output row per round x
    question x group x item with n_raters, n_unable, n_incomplete, Kendall's W, chi2, df, pvalue, verdict
    (W >= --w-min), the item's mean_rank and median_rank and, with rounds, w_change; --rank-table correlations
    gives Spearman's rho per panellist between rounds. A bad rankings file exits 2 listing every problem.
    """
    try:
        with _open(ratings_csv, "r") as handle:
            text = handle.read()
    except (OSError, UnicodeDecodeError) as exc:
        click.echo(f"Error: cannot read {ratings_csv}: {exc}", err=True)
        raise SystemExit(2) from None
    if is_rankings_header(next(csv.reader(io.StringIO(text)), None)):
        _analyse_rankings(ratings_csv, text, w_min, min_ratings, population, rank_table, fmt, output)
        return
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
        table = parse_ratings_csv(io.StringIO(text), settings, population)
    except RatingsFileError as exc:
        click.echo(f"Error: {ratings_csv}, {exc}", err=True)
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


def _analyse_rankings(
    path: str, text: str, w_min: float, k_min: int, population: str, rank_table: str, fmt: str, output: str
) -> None:
    """``delphi analyse`` on ranking data: parse, build both tables, print one (CSV) or both (JSON)."""
    try:
        table = parse_rankings_csv(io.StringIO(text), population)
    except RankingsFileError as exc:
        click.echo(f"Error: {path} has {exc}", err=True)
        raise SystemExit(2) from None
    item_columns, item_rows = ranking_item_rows(table, w_min=w_min, k_min=k_min)
    rho_columns, rho_rows = rank_correlation_rows(table)
    with _open(output, "w") as out:
        if fmt == "json":
            document = {
                "settings": {"w_min": w_min, "k_min": k_min},
                "columns": item_columns,
                "rows": item_rows,
                "correlation_columns": rho_columns,
                "correlations": rho_rows,
            }
            json.dump(document, out, ensure_ascii=False, indent=1)
            out.write("\n")
            return
        columns, rows = (item_columns, item_rows) if rank_table == "items" else (rho_columns, rho_rows)
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow([_format_csv(row[c]) for c in columns])
