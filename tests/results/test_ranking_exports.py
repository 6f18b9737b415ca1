"""The ranking exports: every saved ranking in tidy form, the frozen figures, their codebook entries, their place
in the open data package, and the round trip through ``delphi analyse``."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path

import frictionless
from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.cli import main
from delphi.db.models import RankingResult
from delphi.results import exports
from delphi.results.frame import load_frame
from delphi.settings import Settings
from tests.results.ranking_study import ITEMS, QUESTION, RankingStudy, build_ranking_study

ANSWER_HEADER = [
    "round",
    "question_id",
    "question",
    "panellist",
    "group",
    "item_id",
    "item",
    "rank",
    "unable",
]


async def export(session: AsyncSession, rs: RankingStudy, name: str, fmt: str = "csv") -> bytes:
    frame = await load_frame(session, rs.study.panel)
    data, _ = await exports.produce(session, frame, exports.BY_NAME[name], fmt)
    return data


def rows_of(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))


async def test_the_rankings_export_has_one_row_per_answer_and_item_and_one_for_unable(
    session: AsyncSession, settings: Settings
) -> None:
    rs = await build_ranking_study(session, settings)
    data = await export(session, rs, "rankings")
    header = next(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert header == [*ANSWER_HEADER, "counted", "language"], "the ratings export's choice: counted, language"
    rows = rows_of(data)
    round1 = [r for r in rows if r["round"] == "1"]
    assert len(round1) == 13 * 4 + 1, "13 complete rankings of 4 items, and P-006's one 'unable' row"
    [unable] = [r for r in round1 if r["unable"] == "1"]
    assert unable["panellist"] == "P-006" and (unable["item_id"], unable["item"], unable["rank"]) == (
        "",
        "",
        "",
    )
    p002 = {r["item"]: r["rank"] for r in round1 if r["panellist"] == "P-002"}
    assert p002 == dict(zip(ITEMS, ["1", "3", "2", "4"], strict=True))
    assert {r["question"] for r in rows} == {QUESTION}
    assert {r["group"] for r in rows if r["panellist"] == "P-013"} == {"Experts"}
    # Every saved answer is exported; P-001's unsent round-2 draft is not counted under 'submitted'.
    draft = [r for r in rows if r["round"] == "2" and r["panellist"] == "P-001"]
    assert len(draft) == 4 and {r["counted"] for r in draft} == {"0"}
    assert {r["counted"] for r in rows if r["panellist"] != "P-001" or r["round"] == "1"} == {"1"}


async def test_the_ranking_results_export_holds_every_frozen_scope_and_item(
    session: AsyncSession, settings: Settings
) -> None:
    rs = await build_ranking_study(session, settings)
    rows = rows_of(await export(session, rs, "ranking-results"))
    assert len(rows) == 2 * 4 * 4, "two rounds, the whole panel and three groups, four items"
    frozen = await session.scalar(
        select(RankingResult).where(RankingResult.round_id == rs.rounds[2].id, RankingResult.scope == "all")
    )
    assert frozen is not None
    pooled = [r for r in rows if r["round"] == "2" and r["group"] == "all"]
    assert [r["item"] for r in pooled] == list(ITEMS) and [r["place"] for r in pooled] == ["1", "2", "3", "4"]
    assert {float(r["w"]) for r in pooled} == {frozen.w} and {r["verdict"] for r in pooled} == {"in"}
    experts = [r for r in rows if r["group"] == "Experts"]
    assert {(r["suppressed"], r["shown_to_panellists"]) for r in experts} == {("1", "0")}
    as_json = json.loads(await export(session, rs, "ranking-results", "json"))
    assert as_json  # the JSON writer accepts the table


async def test_the_codebook_documents_both_exports_and_the_ranking_rule(
    session: AsyncSession, settings: Settings
) -> None:
    rs = await build_ranking_study(session, settings)
    rows = rows_of(await export(session, rs, "codebook"))
    documented = {(r["export"], r["name"]) for r in rows}
    assert {("rankings", c) for c in [*ANSWER_HEADER, "counted"]} <= documented
    assert {
        ("ranking-results", c) for c in ("w", "chi2", "df", "pvalue", "mean_rank", "median_rank")
    } <= documented
    [w_min] = [r for r in rows if r["name"] == "ranking_w_min"]
    assert (w_min["export"], w_min["value"]) == ("settings", "0.7")


async def test_the_data_package_with_rankings_validates_with_frictionless(
    session: AsyncSession, settings: Settings, tmp_path: Path
) -> None:
    rs = await build_ranking_study(session, settings)
    archive = zipfile.ZipFile(io.BytesIO(await export(session, rs, "datapackage", "zip")))
    archive.extractall(tmp_path)
    report = frictionless.validate(str(tmp_path / "datapackage.json"))
    errors = [(task.name, e.type, e.message) for task in report.tasks for e in task.errors] + [
        (None, e.type, e.message) for e in report.errors
    ]
    assert errors == []
    stats = {task.name: task.stats.get("rows") for task in report.tasks}
    assert stats["rankings"] == len(rows_of(await export(session, rs, "rankings")))
    assert stats["ranking_results"] == 32
    assert archive.read("data/rankings.csv") == await export(session, rs, "rankings")


async def test_a_broken_group_in_the_rankings_resource_is_caught(
    session: AsyncSession, settings: Settings, tmp_path: Path
) -> None:
    rs = await build_ranking_study(session, settings)
    archive = zipfile.ZipFile(io.BytesIO(await export(session, rs, "datapackage", "zip")))
    archive.extractall(tmp_path)
    path = tmp_path / "data" / "rankings.csv"
    path.write_text(path.read_text(encoding="utf-8").replace(",Experts,", ",Nobody,", 1), encoding="utf-8")
    report = frictionless.validate(str(tmp_path / "datapackage.json"))
    assert {e.type for task in report.tasks for e in task.errors} == {"foreign-key"}


async def test_the_counted_rankings_read_by_delphi_analyse_give_the_frozen_w(
    session: AsyncSession, settings: Settings, tmp_path: Path
) -> None:
    rs = await build_ranking_study(session, settings)
    path = tmp_path / "rankings.csv"
    path.write_bytes(await export(session, rs, "rankings"))  # as downloaded, every saved answer
    result = CliRunner().invoke(
        main, ["analyse", str(path), "--population", "submitted", "--min-ratings", "3", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    frozen = {
        (n, r.scope): r
        for n, round_ in rs.rounds.items()
        for r in (
            await session.scalars(select(RankingResult).where(RankingResult.round_id == round_.id))
        ).all()
    }
    names = {g.id: g.name for g in rs.study.groups.values()}
    seen = 0
    for row in out["rows"]:
        scope = (
            "all"
            if row["group"] == "all"
            else next(f"group:{i}" for i, n in names.items() if n == row["group"])
        )
        f = frozen[(int(row["round"]), scope)]
        assert (row["n_raters"], row["n_unable"]) == (f.n, f.n_unable)
        if f.w is None:
            assert row["w"] is None
        else:
            assert abs(row["w"] - f.w) < 1e-12 and row["verdict"] == f.verdict
        seen += 1
    assert seen == 2 * 4 * 4
