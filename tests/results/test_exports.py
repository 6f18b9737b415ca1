"""Exports of a study whose rounds were closed by the engine: contents, privacy, formats and reproducibility."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.analyse.ratings_file import parse_ratings_csv
from delphi.analyse.rows import result_rows
from delphi.domain import PanelRole
from delphi.results import exports
from delphi.results.frame import load_frame
from delphi.settings import Settings
from tests.results.helpers import assert_xlsx_matches_csv, read_csv, read_xlsx
from tests.study import (
    FORMULA_COMMENT,
    HIDDEN_COMMENT,
    PENDING_COMMENT,
    PUBLISHED_COMMENT,
    Study,
    build_study,
)

PSEUDONYMOUS = [s.name for s in exports.CATALOG if not s.names_people]


@pytest.fixture
async def study(session: AsyncSession, settings: Settings) -> Study:
    return await build_study(session, settings, rounds=2)


async def produce(session: AsyncSession, study: Study, name: str, fmt: str) -> bytes:
    frame = await load_frame(session, study.panel)
    data, _ = await exports.produce(session, frame, exports.BY_NAME[name], fmt)
    return data


def as_dicts(data: bytes) -> list[dict[str, str]]:
    rows = read_csv(data)
    return [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]


async def test_every_xlsx_export_matches_its_csv_cell_by_cell(session: AsyncSession, study: Study) -> None:
    for spec in exports.CATALOG:
        if spec.name in ("open-answers", "provenance"):
            continue  # this study has no open round: checked with rows in tests/results/test_provenance.py
        if spec.name == "baseline":
            continue  # this study asks no baseline question: checked with rows in test_characteristics.py
        if spec.name in ("rankings", "ranking-results"):
            continue  # this study asks no ranking question: checked with rows in test_ranking_exports.py
        if {"csv", "xlsx"} <= set(spec.formats):
            csv_data = await produce(session, study, spec.name, "csv")
            xlsx_data = await produce(session, study, spec.name, "xlsx")
            # the codebook is stamped when it is built, and the two files are built a moment apart
            rows = assert_xlsx_matches_csv(xlsx_data, csv_data, skip=frozenset({"generated_at"}))
            assert rows > 1, spec.name


async def test_pseudonymous_exports_hold_no_email_and_no_name(session: AsyncSession, study: Study) -> None:
    for name in PSEUDONYMOUS:
        for fmt in exports.BY_NAME[name].formats:
            data = await produce(session, study, name, fmt)
            if fmt == "zip":  # the open data package: every file in it
                archive = zipfile.ZipFile(io.BytesIO(data))
                text = "".join(archive.read(n).decode("utf-8") for n in archive.namelist())
            else:
                text = repr(read_xlsx(data)) if fmt == "xlsx" else data.decode("utf-8")
            assert "@people.example" not in text, (name, fmt)
            assert "Person 1" not in text, (name, fmt)


async def test_the_owner_exports_link_pseudonyms_to_emails(session: AsyncSession, study: Study) -> None:
    key = as_dicts(await produce(session, study, "pseudonym-key", "csv"))
    assert {r["panellist"]: r["email"] for r in key}["P-001"] == "panellist01@people.example"
    assert len(key) == len(study.panellists)


async def test_ratings_export_is_tidy_and_keeps_only_published_comments_neutralised(
    session: AsyncSession, study: Study
) -> None:
    rows = as_dicts(await produce(session, study, "ratings", "csv"))
    assert list(rows[0]) == [
        "panellist", "group", "round", "statement", "statement_label", "statement_version", "rating", "unable",
        "submitted", "counted", "comment", "reason", "language",
    ]  # fmt: skip
    # 14 people x 4 statements in round 1, 13 people x 2 statements in round 2.
    assert len(rows) == 14 * 4 + 13 * 2
    comments = {r["comment"] for r in rows if r["comment"]}
    assert comments == {"'" + FORMULA_COMMENT, PUBLISHED_COMMENT}
    assert not {PENDING_COMMENT, HIDDEN_COMMENT} & comments
    unable = [r for r in rows if r["unable"] == "1"]
    assert [(r["panellist"], r["round"], r["rating"]) for r in unable] == [("P-005", "1", "unable")]
    reworded = {
        r["statement_version"]
        for r in rows
        if r["round"] == "2" and r["statement"] == str(study.statements["S4b"].id)
    }
    assert reworded == {"2"}


@pytest.mark.parametrize("population", ["submitted", "all"])
async def test_tidy_ratings_fed_to_delphi_analyse_reproduce_the_engines_round_results(
    session: AsyncSession, settings: Settings, population: str
) -> None:
    """With an unsent round-2 draft in the file, ``delphi analyse`` with the panel's population reproduces the
    frozen figures: under ``submitted`` the draft's rows are left out by the ``submitted`` column."""
    study = await build_study(session, settings, rounds=2, population=population, unsent_draft=True)
    frame = await load_frame(session, study.panel)
    ratings = (await produce(session, study, "ratings", "csv")).decode("utf-8")
    assert sum(r["submitted"] == "0" for r in as_dicts(ratings.encode())) == 2  # P-001's draft
    table = parse_ratings_csv(io.StringIO(ratings, newline=""), frame.analysis_settings, population)
    _, analysed = result_rows(table, frame.rule, frame.analysis_settings, population)
    engine = as_dicts(await produce(session, study, "round-summaries", "csv"))
    n_round2 = {r["n"] for r in engine if r["round"] == "2" and r["group"] == "all"}
    assert n_round2 == ({"13"} if population == "submitted" else {"14"})
    assert len(analysed) == len(engine) == 4 * 4 + 2 * 4  # statements x (pooled + 3 groups), per round

    def key(row: dict) -> tuple[str, str, str]:
        return (str(row["round"]), str(row["statement"]), str(row["group"]))

    ours = {key(r): r for r in engine}
    columns = [
        "n", "n_unable", "median", "q1", "q3", "iqr", "pct_agree", "pct_disagree", "pct_unable", "verdict",
        "mean", "sd", "p30", "p70", "ipr", "disagreement", *(f"count_{v}" for v in range(1, 10)),
        "divergence_test", "divergence_p", "split", "verdict_comet", "verdict_agree75", "verdict_agree80",
        "verdict_median_iqr", "verdict_rand_ucla",
    ]  # fmt: skip
    for row in analysed:
        mine = ours[key(row)]
        for column in columns:
            assert same_value(mine[column], row[column]), (key(row), column, mine[column], row[column])


def same_value(csv_text: str, value: object) -> bool:
    """The engine's CSV cell equals ``delphi analyse``'s value (which rounds floats to 12 digits)."""
    if value is None:
        return csv_text == ""
    if isinstance(value, bool):
        return csv_text == ("1" if value else "0")
    if isinstance(value, float):
        return csv_text != "" and float(f"{float(csv_text):.12g}") == value
    return csv_text == str(value)


async def test_final_list_export_orders_in_out_then_none_with_the_round_consensus_came(
    session: AsyncSession, study: Study
) -> None:
    rows = as_dicts(await produce(session, study, "final-list", "csv"))
    got = [(r["text"], r["verdict"], r["consensus_round"]) for r in rows]
    assert got == [
        ("Same-week appointments.", "in", "1"),
        ("Take-home doses after four weeks of stable treatment.", "in", "2"),
        ("Compulsory group therapy.", "out", "1"),
        ("Peer workers at every service.", "none", ""),
    ]
    assert rows[1]["earlier_wordings"] == "Take-home doses after a month."
    body = json.loads(await produce(session, study, "final-list", "json"))
    assert body["meta"]["counts"] == {"in": 2, "out": 1, "none": 1, "insufficient": 0}
    assert body["meta"]["settings"]["quantile_method"] == "linear"
    assert [r["verdict"] for r in body["rows"]] == ["in", "in", "out", "none"]


async def test_codebook_documents_every_column_of_every_export_and_the_settings(
    session: AsyncSession, study: Study
) -> None:
    rows = as_dicts(await produce(session, study, "codebook", "csv"))
    documented = {(r["export"], r["name"]) for r in rows}
    for spec in exports.CATALOG:
        if spec.name == "codebook" or "csv" not in spec.formats:
            continue  # the data package's files: tests/results/test_datapackage.py
        header = read_csv(await produce(session, study, spec.name, "csv"))[0]
        assert {(spec.name, column) for column in header} <= documented, spec.name
    settings = {r["name"]: r["value"] for r in rows if r["export"] == "settings"}
    assert settings["quantile_method"] == "linear"
    assert settings["unable_policy"] == "exclude"
    assert settings["rule"] == "comet"
    assert settings["scale_point_9"] == "Critical"
    assert settings["software"].startswith("delphi-engine ")
    assert settings["rule_definition"] == "At least 70% rate 7–9 and fewer than 15% rate 1–3"


async def test_honoraria_pay_each_submitted_closed_round(session: AsyncSession, study: Study) -> None:
    rows = {r["panellist"]: r for r in as_dicts(await produce(session, study, "honoraria", "csv"))}
    assert (rows["P-001"]["rounds_completed"], rows["P-001"]["amount_owed"]) == ("1", "15.0")
    assert (rows["P-002"]["rounds_completed"], rows["P-002"]["amount_owed"]) == ("2", "30.0")
    assert rows["P-002"]["currency"] == "GBP"


async def test_round_summaries_flag_groups_under_k_and_carry_statement_level_figures_on_pooled_rows(
    session: AsyncSession, study: Study
) -> None:
    rows = as_dicts(await produce(session, study, "round-summaries", "csv"))
    experts = [r for r in rows if r["group"] == "Experts"]
    assert experts and {r["suppressed"] for r in experts} == {"1"}
    # what panellists were shown: the experts (2) and, to protect them, the service users (6) were hidden
    shown = {(r["group"], r["shown_to_panellists"]) for r in rows}
    assert shown == {("all", "1"), ("Practitioners", "1"), ("Service users", "0"), ("Experts", "0")}
    pooled = [r for r in rows if r["group"] == "all"]
    assert {r["divergence_test"] for r in pooled} == {"kruskal_wallis"}
    assert all(r["verdict_comet"] for r in pooled)
    groups = [r for r in rows if r["group"] != "all"]
    assert {r["verdict_comet"] for r in groups} == {""}
    round2 = [r for r in pooled if r["round"] == "2"]
    assert all(r["n_paired"] for r in round2), "stability against round 1 (the reworded one via its parent)"


async def test_data_exports_explain_there_is_nothing_yet_before_a_round_closes(
    session: AsyncSession, settings: Settings
) -> None:
    study = await build_study(session, settings, rounds=0)
    frame = await load_frame(session, study.panel)
    for spec in exports.CATALOG:
        if spec.needs_results:
            with pytest.raises(exports.NothingToExport, match="nothing to export yet"):
                await exports.produce(session, frame, spec, spec.formats[0])
    data, media = await exports.produce(session, frame, exports.BY_NAME["codebook"], "csv")
    assert media.startswith("text/csv") and b"quantile_method" in data


def test_catalog_roles_match_the_brief() -> None:
    assert exports.BY_NAME["pseudonym-key"].formats == ("csv",)
    assert exports.BY_NAME["pseudonym-key"].allows(PanelRole.OWNER)
    assert not exports.BY_NAME["pseudonym-key"].allows(PanelRole.FACILITATOR)
    assert set(exports.BY_NAME["final-list"].formats) == {"csv", "xlsx", "json"}
    assert set(exports.BY_NAME["ratings"].formats) >= {"csv", "xlsx"}
    assert exports.BY_NAME["ratings"].allows(PanelRole.RESEARCHER)
