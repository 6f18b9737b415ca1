"""The open data package: one zip of the whole study that a Frictionless Data validator accepts, keys and all.

The study (``tests.study``, two closed rounds) is exported as ``datapackage.zip``, unpacked, and validated with the
``frictionless`` library (https://framework.frictionlessdata.io/): the descriptor against the Data Package and
Table Schema specs, every CSV against its schema, primary keys unique and foreign keys resolved.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path

import frictionless
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.results import codebook, datapackage, exports
from delphi.results.frame import load_frame
from delphi.settings import Settings
from tests.study import (
    FORMULA_COMMENT,
    HIDDEN_COMMENT,
    SUGGESTED_REWORDING,
    Study,
    build_study,
)


@pytest.fixture
async def study(session: AsyncSession, settings: Settings) -> Study:
    return await build_study(session, settings, rounds=2)


async def package_of(session: AsyncSession, study: Study) -> zipfile.ZipFile:
    frame = await load_frame(session, study.panel)
    data, media_type = await exports.produce(session, frame, exports.BY_NAME["datapackage"], "zip")
    assert media_type == "application/zip"
    return zipfile.ZipFile(io.BytesIO(data))


def rows_of(archive: zipfile.ZipFile, name: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(archive.read(f"data/{name}.csv").decode("utf-8"), newline="")))


async def test_the_package_validates_with_frictionless_keys_included(
    session: AsyncSession, study: Study, tmp_path: Path
) -> None:
    archive = await package_of(session, study)
    archive.extractall(tmp_path)
    report = frictionless.validate(str(tmp_path / "datapackage.json"))
    errors = [(task.name, e.type, e.message) for task in report.tasks for e in task.errors] + [
        (None, e.type, e.message) for e in report.errors
    ]
    assert errors == []
    assert report.valid
    descriptor = json.loads(archive.read("datapackage.json"))
    names = [r["name"] for r in descriptor["resources"]]
    assert names == [r.name for r in datapackage.RESOURCES]
    assert {"panel", "groups", "statements", "rounds", "ratings", "results", "feedback_shown"} <= set(names)
    assert {"comments", "suggestions", "reasons"} <= set(names)
    # the validator checked rows, not an empty shell (this study asks no ranking question: its two resources are
    # validated with rows in tests/results/test_ranking_exports.py)
    # (nor an open round: open-answers and provenance are validated with rows in tests/results/test_provenance.py)
    # (nor a baseline question: validated with rows in tests/results/test_characteristics.py)
    empty = ("rankings", "ranking_results", "open-answers", "provenance", "baseline")
    filled = [t for t in report.tasks if t.name not in empty]
    assert all(task.stats["rows"] > 0 for task in filled), [(t.name, t.stats) for t in report.tasks]


async def test_a_broken_foreign_key_is_caught_so_the_check_above_means_something(
    session: AsyncSession, study: Study, tmp_path: Path
) -> None:
    archive = await package_of(session, study)
    archive.extractall(tmp_path)
    ratings = tmp_path / "data" / "ratings.csv"
    lines = ratings.read_text(encoding="utf-8").splitlines(keepends=True)
    header = lines[0].rstrip("\r\n").split(",")
    first = next(csv.reader([lines[1]]))
    first[header.index("statement")] = "999999"
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(first)
    ratings.write_text(lines[0] + buffer.getvalue() + "".join(lines[2:]), encoding="utf-8")
    report = frictionless.validate(str(tmp_path / "datapackage.json"))
    assert not report.valid
    assert {e.type for task in report.tasks for e in task.errors} == {"foreign-key"}


async def test_statements_carry_their_lineage_and_numbers(session: AsyncSession, study: Study) -> None:
    archive = await package_of(session, study)
    statements = {r["statement_id"]: r for r in rows_of(archive, "statements")}
    s4, s4b = study.statements["S4"], study.statements["S4b"]
    assert statements[str(s4b.id)]["parent_id"] == str(s4.id)
    assert (statements[str(s4.id)]["statement"], statements[str(s4b.id)]["statement"]) == ("S4", "S4.2")
    assert statements[str(s4b.id)]["version"] == "2"
    assert statements[str(study.statements["S1"].id)]["parent_id"] == ""


async def test_feedback_shown_holds_only_the_figures_panellists_could_see(
    session: AsyncSession, study: Study
) -> None:
    archive = await package_of(session, study)
    shown = rows_of(archive, "feedback_shown")
    # The experts (2, under k = 3) are never shown, and to protect them the service users are hidden too
    # (complementary suppression, as tests/results/test_exports.py pins for the round summaries).
    assert {r["scope"] for r in shown} == {"all", "Practitioners"}
    results = rows_of(archive, "results")
    released = {(r["round"], r["statement"], r["group"]) for r in results if r["shown_to_panellists"] == "1"}
    assert {(r["round"], r["statement_id"], r["scope"]) for r in shown} == released
    pooled = {(r["round"], r["statement"]): r for r in results if r["group"] == "all"}
    for row in shown:
        if row["scope"] == "all":
            frozen = pooled[(row["round"], row["statement_id"])]
            assert (row["n"], row["median"]) == (frozen["n"], frozen["median"])


async def test_the_package_reuses_the_single_exports_and_the_codebooks_descriptions(
    session: AsyncSession, study: Study
) -> None:
    archive = await package_of(session, study)
    frame = await load_frame(session, study.panel)
    for resource, export in (
        ("ratings", "ratings"),
        ("results", "round-summaries"),
        ("comments", "comments"),
    ):
        single, _ = await exports.produce(session, frame, exports.BY_NAME[export], "csv")
        assert archive.read(f"data/{resource}.csv") == single, resource
    comments = rows_of(archive, "comments")
    assert {r["comment"] for r in comments} >= {"'" + FORMULA_COMMENT, HIDDEN_COMMENT}
    assert rows_of(archive, "suggestions")[0]["original_wording"] == SUGGESTED_REWORDING
    # every field's description is the codebook's
    book = codebook.codebook_table(
        frame, [p for s in exports.CATALOG for p in s.documented(frame)], frame.panel.created_at
    )
    documented = {(r[0], r[1]): r[5] for r in book.rows}
    own = {"panel", "groups", "statements", "rounds", "feedback_shown"}
    export_of = {"results": "round-summaries", "ranking_results": "ranking-results"}
    descriptor = json.loads(archive.read("datapackage.json"))
    for resource in descriptor["resources"]:
        name = resource["name"]
        where = f"datapackage/{name}" if name in own else export_of.get(name, name)
        for f in resource["schema"]["fields"]:
            assert documented[(where, f["name"])] == f["description"], (name, f["name"])
    settings = {r["name"]: r["value"] for r in rows_of(archive, "panel")}
    assert (settings["rule"], settings["analysis_population"], settings["k_min"]) == (
        "comet",
        "submitted",
        "3",
    )
