"""The qualitative exports (issue 14, item 8): every comment with its moderation status, every suggestion with its
original and final wording, every reason; each row with round, statement (id and number) and pseudonym."""

from __future__ import annotations

import json

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.domain import Actor
from delphi.participation.checks import MAX_REASON
from delphi.results import exports
from delphi.results.frame import load_frame
from delphi.rounds.moderation import redact
from delphi.settings import Settings
from tests.results.helpers import RESEARCHER, build_world, login, read_csv
from tests.results.test_pages import text_of
from tests.study import (
    FORMULA_COMMENT,
    HIDDEN_COMMENT,
    HIDDEN_REASON,
    PENDING_COMMENT,
    PUBLISHED_COMMENT,
    SUGGESTED_NEW,
    SUGGESTED_REWORDING,
    Study,
    build_study,
)

QUALITATIVE = ("comments", "suggestions", "reasons")


@pytest.fixture
async def study(session: AsyncSession, settings: Settings) -> Study:
    return await build_study(session, settings, rounds=2)


async def rows_of(session: AsyncSession, study: Study, name: str) -> list[dict[str, str]]:
    frame = await load_frame(session, study.panel)
    data, _ = await exports.produce(session, frame, exports.BY_NAME[name], "csv")
    rows = read_csv(data)
    return [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]


async def test_the_comments_export_holds_every_comment_with_its_status_statement_number_and_pseudonym(
    session: AsyncSession, study: Study
) -> None:
    rows = await rows_of(session, study, "comments")
    got = {(r["round"], r["statement"], r["panellist"], r["group"], r["comment"], r["status"]) for r in rows}
    assert got == {
        ("1", "S2", "P-001", "Service users", "'" + FORMULA_COMMENT, "published"),
        ("1", "S1", "P-002", "Service users", PUBLISHED_COMMENT, "published"),
        ("1", "S4", "P-003", "Service users", PENDING_COMMENT, "pending"),
        ("1", "S3", "P-004", "Service users", HIDDEN_COMMENT, "hidden"),
    }
    by_text = {r["comment"]: r for r in rows}
    assert by_text[PUBLISHED_COMMENT]["statement_id"] == str(study.statements["S1"].id)
    assert {r["edited"] for r in rows} == {"0"} and all(r["saved_at"].endswith("Z") for r in rows)


async def test_an_edited_comment_is_exported_with_its_edited_wording_and_marked_edited(
    session: AsyncSession, study: Study
) -> None:
    await redact(
        session, study.panel, 1, study.comments["hidden"], "comment", "I use a service.", Actor.account(study.owner),
        limit=5000,
    )  # fmt: skip
    await redact(
        session, study.panel, 1, study.reasons["hidden"], "reason", "As a commissioner I see contracts.",
        Actor.account(study.owner), limit=MAX_REASON,
    )  # fmt: skip
    comments = {r["comment"]: r for r in await rows_of(session, study, "comments")}
    assert HIDDEN_COMMENT not in comments
    assert (comments["I use a service."]["edited"], comments["I use a service."]["status"]) == ("1", "hidden")
    assert comments[PUBLISHED_COMMENT]["edited"] == "0"
    reasons = {r["reason"]: r for r in await rows_of(session, study, "reasons")}
    assert HIDDEN_REASON not in reasons
    edited = reasons["As a commissioner I see contracts."]
    assert (edited["edited"], edited["status"], edited["panellist"], edited["rating"]) == (
        "1",
        "hidden",
        "P-013",
        "9",
    )


async def test_the_suggestions_export_gives_the_original_wording_the_outcome_and_the_final_wording(
    session: AsyncSession, study: Study
) -> None:
    rows = {r["kind"]: r for r in await rows_of(session, study, "suggestions")}
    rewording = rows["rewording"]
    assert (rewording["about_statement"], rewording["about_statement_id"]) == (
        "S4",
        str(study.statements["S4"].id),
    )
    assert (rewording["panellist"], rewording["group"]) == ("P-008", "Practitioners")
    assert rewording["original_wording"] == SUGGESTED_REWORDING
    assert (rewording["outcome"], rewording["result_statement"]) == ("accepted", "S4.2")
    assert rewording["final_wording"] == study.statements["S4b"].text != SUGGESTED_REWORDING
    assert rewording["round"] == "1" and rewording["reviewed_at"].endswith("Z")
    new = rows["new"]
    assert (new["original_wording"], new["outcome"], new["section"]) == (SUGGESTED_NEW, "rejected", "Access")
    assert new["about_statement"] == new["result_statement"] == new["final_wording"] == ""


async def test_the_reasons_export_holds_every_reason_any_status_with_the_rating_it_explains(
    session: AsyncSession, study: Study
) -> None:
    rows = await rows_of(session, study, "reasons")
    assert {(r["panellist"], r["statement"], r["rating"], r["status"]) for r in rows} == {
        ("P-001", "S2", "9", "published"),
        ("P-007", "S2", "2", "published"),
        ("P-014", "S4", "8", "pending"),
        ("P-013", "S1", "9", "hidden"),
    }


async def test_the_codebook_documents_every_column_of_the_qualitative_exports_and_the_packages_own_files(
    session: AsyncSession, study: Study
) -> None:
    book = await rows_of(session, study, "codebook")
    documented = {(r["export"], r["name"]): r["description"] for r in book}
    for name in QUALITATIVE:
        header = read_csv(
            (
                await exports.produce(
                    session, await load_frame(session, study.panel), exports.BY_NAME[name], "csv"
                )
            )[0]
        )[0]
        assert header and all(documented.get((name, column)) for column in header), name
    for part in ("panel", "groups", "statements", "rounds", "feedback_shown"):
        assert any(export == f"datapackage/{part}" for export, _ in documented), part
    assert documented[("datapackage/statements", "parent_id")].startswith("The statement this one rewords")


async def test_the_qualitative_exports_come_as_json_with_native_types(
    session: AsyncSession, study: Study
) -> None:
    frame = await load_frame(session, study.panel)
    data, _ = await exports.produce(session, frame, exports.BY_NAME["comments"], "json")
    body = json.loads(data)
    assert {r["edited"] for r in body["rows"]} == {False}
    assert {r["comment"] for r in body["rows"]} >= {FORMULA_COMMENT}  # JSON needs no neutralising


async def test_researchers_see_the_new_downloads_on_the_exports_page(
    session: AsyncSession, client: AsyncTestClient, settings: Settings
) -> None:
    world = await build_world(session, settings, rounds=2)
    await login(client, RESEARCHER)
    html = (await client.get(f"/panels/{world.pid}/exports")).text
    for name, fmt in (
        ("comments", "csv"),
        ("suggestions", "xlsx"),
        ("reasons", "json"),
        ("datapackage", "zip"),
    ):
        assert f"/exports/{name}.{fmt}" in html
    assert "held back (pending or hidden)" in text_of(html)
    download = await client.get(f"/panels/{world.pid}/exports/datapackage.zip")
    assert download.status_code == 200 and download.headers["content-type"] == "application/zip"
    assert download.content.startswith(b"PK")
