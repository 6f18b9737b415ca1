"""The open data package: the whole study in one zip, as a Frictionless Data Package (issue 14, item 12).

The zip holds ``datapackage.json`` (Data Package spec v1, profile ``tabular-data-package``:
https://specs.frictionlessdata.io/data-package/) and one UTF-8 CSV per resource under ``data/``:

============== ===================================================== ===========================================
resource       one row per                                           table
============== ===================================================== ===========================================
panel          setting (scale, rule, analysis population, k, ...)    the codebook's settings rows
groups         stakeholder group                                     :func:`groups_table`
statements     statement, with its lineage (parent_id, version)      :func:`statements_table`
rounds         round                                                 :func:`rounds_table`
ratings        panellist, round and statement (pseudonymous)         the ``ratings`` export
results        closed round, statement and scope (frozen figures)    the ``round-summaries`` export
feedback_shown closed round, statement and scope released            :func:`feedback_table`
comments       comment, any moderation status                        the ``comments`` export
suggestions    suggestion                                            the ``suggestions`` export
reasons        reason for a rating outside the middle half           the ``reasons`` export
open-answers   answer to the open round 1 (pseudonymous)             the ``open-answers`` export
provenance     version of a statement made from answers, per answer  the ``provenance`` export
rankings       round, ranking question, panellist and item           the ``rankings`` export (no primary key:
                                                                     an "unable to rank" row has no item)
ranking_results round, ranking question, scope and item (frozen)     the ``ranking-results`` export
baseline       panellist and baseline question answered              the ``baseline`` export
============== ===================================================== ===========================================

One source each: the tables are the ones the single exports build, written by the same CSV writer (formula
injection neutralised), and every field's description is the :class:`~delphi.results.tables.Column` the codebook
documents.  Table schemas give each field's type and constraints, a primary key per resource and foreign keys
between them (statements, rounds and groups), so a validator can check the package holds together.

``feedback_shown`` is what panellists could be shown of each closed round's frozen results (the next round's
feedback, the final results page and mails): only the figures :mod:`delphi.rounds.released` releases, never a
suppressed group or a statement fewer than k rated.  The ``results`` resource holds every frozen figure, small
groups included and flagged (``suppressed``, ``shown_to_panellists``), as the round summaries do.

No licence is stated: the data belong to the study, whose team chooses one before publishing the package.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from delphi import __version__
from delphi.db.models import RoundResult, utcnow
from delphi.results import baseline_export, codebook, ideas, qualitative, ranking_tables, summaries, tidy
from delphi.results.frame import Frame
from delphi.results.tables import Column, Table
from delphi.results.writers import iso_utc, to_csv
from delphi.rounds import figures
from delphi.rounds.released import feedback_figures, release_scopes

NAME = "datapackage"
MEDIA_TYPE = "application/zip"
DESCRIPTOR = "datapackage.json"

#: Column kinds (:data:`delphi.results.tables.KINDS`) as Table Schema field types.
FIELD_TYPES = {
    "integer": "integer",
    "number": "number",
    "text": "string",
    "boolean": "boolean",
    "date-time": "datetime",
}


# --- the resources only the package has --------------------------------------------------------------------------


def panel_columns(frame: Frame) -> tuple[Column, ...]:
    return (
        Column("name", "Setting name (as in the codebook's settings rows).", "text"),
        Column("kind", "Kind of the value: integer, number, text, boolean (1/0) or date-time.", "text"),
        Column("unit", "Unit or coding of the value.", "text"),
        Column("value", "The setting's value, as text.", "text"),
        Column("description", "What the setting means.", "text"),
    )


def panel_table(frame: Frame, generated_at: datetime) -> Table:
    """The codebook's settings rows (software, scale, rule, analysis population, k ...), without its ``export``
    column (pure)."""
    rows = [r[1:] for r in codebook.setting_rows(frame, generated_at)]
    return Table("panel", "The panel's settings", panel_columns(frame), rows)


def group_columns(frame: Frame) -> tuple[Column, ...]:
    return (
        Column("group_id", "Stakeholder group id.", "integer"),
        Column("name", "The group's name (the group column of ratings, comments and reasons).", "text"),
        Column(
            "lived_experience", "1 for a group of people with lived experience.", "boolean", "1 = yes, 0 = no"
        ),
        Column("position", "Display order, from 0.", "integer"),
    )


def groups_table(frame: Frame) -> Table:
    rows = [(g.id, g.name, g.is_lived_experience, g.position) for g in frame.groups]
    return Table("groups", "Stakeholder groups", group_columns(frame), rows)


def statement_columns(frame: Frame) -> tuple[Column, ...]:
    return (
        Column("statement_id", "Statement id (the ratings export's statement column).", "integer"),
        Column(
            "statement", "Statement number as on every page: S4, and S4.2 for its second wording.", "text"
        ),
        Column(
            "parent_id",
            "The statement this one rewords (its earlier version); empty for an original.",
            "integer",
        ),
        Column("version", "1 for an original statement, +1 for each rewording.", "integer"),
        Column("section", "The statement's section.", "text"),
        Column("origin", "Who wrote it: facilitator, or panellist (an accepted suggestion).", "text"),
        Column("origin_round", "For a panellist's statement: the round it was suggested in.", "integer"),
        Column("text", "The statement's wording.", "text"),
        Column(
            "status",
            "active, retired_in (consensus in), retired_out (consensus out) or withdrawn (replaced by a "
            "rewording or dropped).",
            "text",
        ),
        Column("status_round", "The round the status was reached in; empty while active.", "integer"),
    )


def statements_table(frame: Frame) -> Table:
    labels = qualitative.frame_labels(frame)
    rows = [
        (
            s.id,
            labels.get(s.id, ""),
            s.parent_id,
            s.version,
            s.section,
            s.origin,
            s.origin_round,
            s.text,
            s.status,
            s.status_round,
        )
        for s in sorted(frame.statements.values(), key=lambda s: s.id)
    ]
    return Table("statements", "Statements, with their lineage", statement_columns(frame), rows)


def round_columns(frame: Frame) -> tuple[Column, ...]:
    return (
        Column("round", "Round number, from 1.", "integer"),
        Column("status", "draft, open or closed.", "text"),
        Column("opened_at", "When the round opened (UTC).", "date-time"),
        Column("closes_at", "When the round was due to close (UTC).", "date-time"),
        Column("closed_at", "When the round closed (UTC).", "date-time"),
        Column("statements_asked", "How many statements the round asked.", "integer"),
    )


def rounds_table(frame: Frame) -> Table:
    rows = [
        (r.number, r.status, r.opened_at, r.closes_at, r.closed_at, len(frame.asked(r.number)))
        for r in frame.rounds
    ]
    return Table("rounds", "Rounds", round_columns(frame), rows)


def feedback_columns(frame: Frame) -> tuple[Column, ...]:
    p = frame.panel
    counts = [
        Column(f"count_{v}", f"Ratings of {v} shown.", "integer") for v in range(p.scale_min, p.scale_max + 1)
    ]
    return (
        Column(
            "round",
            "The closed round the figures are of; panellists saw them from the next round on.",
            "integer",
        ),
        Column("statement_id", "Statement id.", "integer"),
        Column("statement", "Statement number (S4, S4.2).", "text"),
        Column("scope", "all for the whole panel, else the stakeholder group's name.", "text"),
        Column("group_id", "The group's id; empty for the whole panel.", "integer"),
        Column("n", "Ratings shown (without 'unable').", "integer"),
        Column("n_unable", "'Unable to rate' answers.", "integer"),
        Column("median", "Median rating.", "number"),
        Column("q1", "First quartile.", "number"),
        Column("q3", "Third quartile.", "number"),
        Column("n_agree", "Ratings in the rule's agree band.", "integer"),
        Column(
            "denominator",
            "What pct_agree divides by: n, or n + n_unable when 'unable' answers count (the unable_policy).",
            "integer",
        ),
        Column(
            "pct_agree",
            "n_agree as a whole percentage of denominator, as panellists read it.",
            "integer",
            "percent, 0-100",
        ),
        *counts,
    )


def feedback_rows(frame: Frame, results: Sequence[tuple[int, RoundResult]]) -> list[tuple[Any, ...]]:
    """What panellists could be shown of each closed round, per statement: the released pooled scope, then each
    released group in display order (pure).  Scopes disclosure control withholds are absent, and so is every
    scope of a statement fewer than k rated."""
    p = frame.panel
    band = figures.agree_band(p.rule, p.scale_min, p.scale_max)
    include_unable = p.unable_policy == "include"
    labels = qualitative.frame_labels(frame)
    by_key: dict[tuple[int, int], dict[str, RoundResult]] = {}
    for number, row in results:
        by_key.setdefault((number, row.statement_id), {})[row.scope] = row
    out: list[tuple[Any, ...]] = []
    for r in frame.closed_rounds:
        for sid in frame.asked(r.number):
            released = release_scopes(by_key.get((r.number, sid), {}), frame.groups, p.k_min)
            if released is None:
                continue
            pooled, groups = feedback_figures(released, band, p.scale_min, include_unable)
            if pooled is None:
                continue
            shown = [("all", None, pooled)] + [(g.name, g.group_id, g.distribution) for g in groups]
            for scope, gid, d in shown:
                if d is None:
                    continue
                out.append(
                    (
                        r.number,
                        sid,
                        labels.get(sid, ""),
                        scope,
                        gid,
                        d.n,
                        d.n_unable,
                        d.median,
                        d.q1,
                        d.q3,
                        d.n_agree,
                        d.denominator,
                        d.pct_agree,
                        *d.counts,
                    )
                )
    return out


def feedback_table(frame: Frame, results: Sequence[tuple[int, RoundResult]]) -> Table:
    return Table(
        "feedback_shown",
        "The figures panellists could be shown of each closed round",
        feedback_columns(frame),
        feedback_rows(frame, results),
    )


# --- the package ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Resource:
    """One resource of the package: its name (also its CSV's stem), the columns that make its primary key, and
    its foreign keys as ``(column, resource, column there)``; an empty resource name is the resource itself."""

    name: str
    primary_key: tuple[str, ...]
    foreign_keys: tuple[tuple[str, str, str], ...] = ()
    #: Columns every row fills (beyond the primary key).
    required: tuple[str, ...] = ()


_ROUND = ("round", "rounds", "round")
_GROUP_NAME = ("group", "groups", "name")

#: The resources in package order.
RESOURCES: tuple[Resource, ...] = (
    Resource("panel", ("name",)),
    Resource("groups", ("group_id",), required=("name",)),
    Resource("statements", ("statement_id",), (("parent_id", "", "statement_id"),), required=("text",)),
    Resource("rounds", ("round",), required=("status",)),
    Resource(
        tidy.NAME,
        ("round", "panellist", "statement"),
        (_ROUND, ("statement", "statements", "statement_id"), _GROUP_NAME),
    ),
    Resource(
        "results", ("round", "statement", "group"), (_ROUND, ("statement", "statements", "statement_id"))
    ),
    Resource(
        "feedback_shown",
        ("round", "statement_id", "scope"),
        (_ROUND, ("statement_id", "statements", "statement_id"), ("group_id", "groups", "group_id")),
    ),
    Resource(
        qualitative.COMMENTS_NAME,
        ("round", "statement_id", "panellist"),
        (_ROUND, ("statement_id", "statements", "statement_id"), _GROUP_NAME),
    ),
    Resource(
        qualitative.SUGGESTIONS_NAME,
        ("suggestion_id",),
        (
            _ROUND,
            ("about_statement_id", "statements", "statement_id"),
            ("result_statement_id", "statements", "statement_id"),
            _GROUP_NAME,
        ),
    ),
    Resource(
        qualitative.REASONS_NAME,
        ("round", "statement_id", "panellist"),
        (_ROUND, ("statement_id", "statements", "statement_id"), _GROUP_NAME),
    ),
    Resource(ranking_tables.ANSWERS_NAME, (), (_ROUND, _GROUP_NAME), required=("question_id", "panellist")),
    Resource(
        "ranking_results",
        ("round", "question_id", "group", "item_id"),
        (_ROUND, ("group_id", "groups", "group_id")),
    ),
    Resource(baseline_export.NAME, ("panellist", "question_id"), (_GROUP_NAME,), required=("question",)),
    Resource(ideas.OPEN_ANSWERS_NAME, ("answer_id",), (_ROUND,), required=("question_id", "text")),
    Resource(
        ideas.PROVENANCE_NAME,
        ("statement_id", "answer_id"),
        (
            ("statement_id", "statements", "statement_id"),
            ("parent_id", "statements", "statement_id"),
            ("answer_id", ideas.OPEN_ANSWERS_NAME, "answer_id"),
        ),
    ),
)


def own_columns(frame: Frame) -> tuple[tuple[str, tuple[Column, ...]], ...]:
    """The columns of the resources only the package has, as ``("datapackage/<resource>", columns)`` for the
    codebook; the other resources are the single exports, documented under their own names."""
    return tuple(
        (f"{NAME}/{name}", columns(frame))
        for name, columns in (
            ("panel", panel_columns),
            ("groups", group_columns),
            ("statements", statement_columns),
            ("rounds", round_columns),
            ("feedback_shown", feedback_columns),
        )
    )


def field(column: Column, resource: Resource) -> dict[str, Any]:
    """A Table Schema field for ``column`` (pure): name, type, description (the codebook's), its unit or coding
    as the title, booleans coded 1/0 as the CSV writer writes them, and ``required`` for key columns."""
    out: dict[str, Any] = {
        "name": column.name,
        "type": FIELD_TYPES[column.kind],
        "description": column.description,
    }
    if column.unit:
        out["title"] = f"{column.name} ({column.unit})"
    if column.kind == "boolean":
        out.update(trueValues=["1"], falseValues=["0"])
    if column.name in resource.primary_key or column.name in resource.required:
        out["constraints"] = {"required": True}
    if column.kind == "date-time":
        out["format"] = "default"  # ISO 8601 in UTC, "2026-03-01T17:00:00Z"
    return out


def resource_descriptor(table: Table, resource: Resource) -> dict[str, Any]:
    """The ``resources[]`` entry of one table (pure)."""
    schema: dict[str, Any] = {
        "fields": [field(c, resource) for c in table.columns],
        "missingValues": [""],
    }
    if resource.primary_key:
        schema["primaryKey"] = list(resource.primary_key)
    if resource.foreign_keys:
        schema["foreignKeys"] = [
            {"fields": column, "reference": {"resource": target, "fields": there}}
            for column, target, there in resource.foreign_keys
        ]
    return {
        "name": resource.name,
        "path": f"data/{resource.name}.csv",
        "profile": "tabular-data-resource",
        "title": table.title,
        "format": "csv",
        "mediatype": "text/csv",
        "encoding": "utf-8",
        "dialect": {"delimiter": ",", "lineTerminator": "\r\n", "header": True},
        "schema": schema,
    }


def descriptor(frame: Frame, tables: Sequence[Table], created: datetime) -> dict[str, Any]:
    """``datapackage.json`` for ``tables`` (in :data:`RESOURCES` order) of ``frame``'s panel (pure)."""
    p = frame.panel
    by_name = {r.name: r for r in RESOURCES}
    return {
        "profile": "tabular-data-package",
        "name": f"delphi-panel-{p.id}",
        "title": p.title,
        "description": (
            f"A Delphi panel's whole study: settings, groups, statements with their lineage, rounds, every "
            f"rating (pseudonymous), the frozen results, the figures panellists were shown, and every comment, "
            f"suggestion and reason. Answers counted: {p.analysis_population}; k = {p.k_min}."
        ),
        "created": iso_utc(created),
        "version": __version__,
        "keywords": ["Delphi", "consensus"],
        "contributors": [{"title": f"delphi-engine {__version__}", "role": "author"}],
        "resources": [resource_descriptor(t, by_name[t.name]) for t in tables],
    }


async def load_tables(session: AsyncSession, frame: Frame, created: datetime) -> list[Table]:
    """Every resource's table, in :data:`RESOURCES` order; the ratings, results, comments, suggestions and
    reasons are the single exports' own tables, renamed to their resource."""
    results = await summaries.load_results(session, frame.panel.id)
    builders: list[Callable[[AsyncSession, Frame], Awaitable[Table]]] = [
        tidy.ratings_table,
        summaries.summaries_table,
        qualitative.comments_table,
        qualitative.suggestions_table,
        qualitative.reasons_table,
        ranking_tables.rankings_table,
        ranking_tables.ranking_results_table,
        baseline_export.baseline_table,
    ]
    ratings, round_summaries, comments, suggestions, reasons, ranks, ranked, answers = [
        await b(session, frame) for b in builders
    ]
    return [
        panel_table(frame, created),
        groups_table(frame),
        statements_table(frame),
        rounds_table(frame),
        ratings,
        _renamed(round_summaries, "results"),
        feedback_table(frame, results),
        comments,
        suggestions,
        reasons,
        ranks,
        _renamed(ranked, "ranking_results"),
        answers,
        await ideas.open_answers_table(session, frame),
        await ideas.provenance_table(session, frame),
    ]


def _renamed(table: Table, name: str) -> Table:
    return Table(name, table.title, table.columns, table.rows, table.meta)


def package_bytes(frame: Frame, tables: Sequence[Table], created: datetime) -> bytes:
    """The zip: ``datapackage.json`` then ``data/<resource>.csv`` for each table (pure)."""
    out = io.BytesIO()
    stamp = created.timetuple()[:6]
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        body = json.dumps(descriptor(frame, tables, created), ensure_ascii=False, indent=1)
        archive.writestr(_member(DESCRIPTOR, stamp), body.encode("utf-8"))
        for table in tables:
            archive.writestr(_member(f"data/{table.name}.csv", stamp), to_csv(table))
    return out.getvalue()


def _member(path: str, stamp: tuple[int, ...]) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(path, stamp)  # type: ignore[arg-type]
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


async def build_package(session: AsyncSession, frame: Frame) -> bytes:
    """The open data package of ``frame``'s panel as zip bytes, stamped now (UTC)."""
    created = utcnow()
    return package_bytes(frame, await load_tables(session, frame, created), created)
