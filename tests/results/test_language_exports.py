"""The answer exports say which language each panellist answered in, and keep every statement and question text in
the panel's primary language, with Spanish translations of all of them stored: ratings, rankings, baseline and
open-round answers, the codebook that describes the new columns, and the data package that still validates."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import frictionless
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import BaselineAnswer, BaselineQuestion, PanelLanguage, RankAnswer, Rating
from delphi.panels.translations import key, store_texts
from delphi.participation import ideas as answering
from delphi.participation.ideas import IdeaInput
from delphi.results import exports
from delphi.results.frame import load_frame
from delphi.rounds import transitions
from delphi.settings import Settings
from tests.factories import ACTOR
from tests.ideas_world import build_ideas_panel
from tests.results.ranking_study import QUESTION, RankingStudy, build_ranking_study

#: Spanish for every text a panellist reads, none of which may reach an export.
SPANISH = "(es) "


async def _bilingual(session: AsyncSession, settings: Settings) -> RankingStudy:
    """The ranking study (one closed round) offered in Spanish with every statement, the ranking question, its
    items and a baseline question translated; P-002 answered in Spanish, P-003 before languages were recorded,
    everyone else in English."""
    rs = await build_ranking_study(session, settings, rounds=1)
    study = rs.study
    spanish, unknown = study.panellists[1], study.panellists[2]
    question = BaselineQuestion(
        panel_id=study.panel.id, kind="single", text="Years in services", choices=["Under 5", "5 or more"]
    )
    session.add_all(
        [PanelLanguage(panel_id=study.panel.id, language="es", translated_by="Ana García"), question]
    )
    await session.flush()
    session.add_all(
        [
            BaselineAnswer(
                panellist_id=p.id,
                question_id=question.id,
                chosen=["Under 5"],
                language=None if p is unknown else "es" if p is spanish else "en",
            )
            for p in study.panellists
        ]
    )
    texts = {key("statement", s.id): (SPANISH + s.text, s.text) for s in study.statements.values()}
    texts[key("ranking", rs.question.id)] = (SPANISH + rs.question.text, rs.question.text)
    texts |= {key("item", i.id): (SPANISH + i.text, i.text) for i in rs.items}
    texts[key("baseline", question.id)] = (SPANISH + question.text, question.text)
    await store_texts(session, study.panel.id, "es", texts)
    for table in (Rating, RankAnswer):
        await session.execute(update(table).values(language="en"))
        await session.execute(update(table).where(table.panellist_id == spanish.id).values(language="es"))
        await session.execute(update(table).where(table.panellist_id == unknown.id).values(language=None))
    await session.commit()
    return rs


async def _export(session: AsyncSession, rs: RankingStudy, name: str, fmt: str = "csv") -> bytes:
    frame = await load_frame(session, rs.study.panel)
    data, _ = await exports.produce(session, frame, exports.BY_NAME[name], fmt)
    return data


def _rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def _languages(rows: list[dict[str, str]]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for r in rows:
        out.setdefault(r["panellist"], set()).add(r["language"])
    return out


async def test_a_spanish_panellists_ratings_export_with_language_es_and_the_english_statements(
    session: AsyncSession, settings: Settings
) -> None:
    rs = await _bilingual(session, settings)
    ratings = _rows(await _export(session, rs, "ratings"))
    by_person = _languages(ratings)
    assert by_person.pop("P-002") == {"es"} and by_person.pop("P-003") == {""}
    assert set().union(*by_person.values()) == {"en"}
    final = await _export(session, rs, "final-list")
    english = {s.text for s in rs.study.statements.values()}
    assert any(text in final.decode("utf-8-sig") for text in english)
    for name in ("ratings", "final-list", "round-summaries"):
        assert SPANISH not in (await _export(session, rs, name)).decode("utf-8-sig"), name


async def test_rankings_and_baseline_answers_carry_their_language_beside_the_english_question(
    session: AsyncSession, settings: Settings
) -> None:
    rs = await _bilingual(session, settings)
    rankings = _rows(await _export(session, rs, "rankings"))
    assert {r["question"] for r in rankings} == {QUESTION}
    assert {r["item"] for r in rankings} <= {i.text for i in rs.items} | {""}
    by_person = _languages(rankings)
    assert (by_person["P-002"], by_person["P-003"], by_person["P-001"]) == ({"es"}, {""}, {"en"})
    baseline = _rows(await _export(session, rs, "baseline"))
    assert {r["question"] for r in baseline} == {"Years in services"}
    assert {r["panellist"]: r["language"] for r in baseline}["P-002"] == "es"
    assert {r["panellist"]: r["language"] for r in baseline}["P-003"] == ""
    for name in ("rankings", "ranking-results", "baseline"):
        assert SPANISH not in (await _export(session, rs, name)).decode("utf-8-sig"), name


async def test_open_round_answers_export_with_their_language_and_the_primary_question(
    session: AsyncSession, settings: Settings
) -> None:
    w = await build_ideas_panel(session)
    q1 = w.questions[0]
    me, other = w.world.panellist, w.world.others[0][0]
    me.language, other.language = "es", "en"
    await store_texts(session, w.world.panel.id, "es", {key("open", q1.id): ("¿Qué ayuda?", q1.text)})
    await answering.save_idea(session, me, IdeaInput(q1.id, 1, "Apoyo entre pares"))
    await answering.save_idea(session, other, IdeaInput(q1.id, 1, "Peer support"))
    assert w.world.round is not None
    await transitions.close_round(session, w.world.panel, w.world.round, settings=settings, actor=ACTOR)
    await session.commit()
    frame = await load_frame(session, w.world.panel)
    data, _ = await exports.produce(session, frame, exports.BY_NAME["open-answers"], "csv")
    rows = _rows(data)
    assert {(r["text"], r["language"]) for r in rows} == {("Apoyo entre pares", "es"), ("Peer support", "en")}
    assert {r["question"] for r in rows} == {"What helps?"}


async def test_the_codebook_describes_every_language_column_and_the_primary_language(
    session: AsyncSession, settings: Settings
) -> None:
    rs = await _bilingual(session, settings)
    book = _rows(await _export(session, rs, "codebook"))
    entries = {(r["export"], r["name"]): r for r in book}
    for name in ("ratings", "rankings", "open-answers", "baseline"):
        assert "language the panellist answered in" in entries[(name, "language")]["description"], name
    assert entries[("settings", "language")]["value"] == "en"
    assert "primary language" in entries[("settings", "language")]["description"]


async def test_the_data_package_with_languages_still_validates(
    session: AsyncSession, settings: Settings, tmp_path: Path
) -> None:
    rs = await _bilingual(session, settings)
    archive = zipfile.ZipFile(io.BytesIO(await _export(session, rs, "datapackage", "zip")))
    archive.extractall(tmp_path)
    report = frictionless.validate(str(tmp_path / "datapackage.json"))
    assert [(t.name, e.message) for t in report.tasks for e in t.errors] == [] and report.valid
    ratings = list(csv.DictReader(io.StringIO(archive.read("data/ratings.csv").decode("utf-8"), newline="")))
    assert _languages(ratings)["P-002"] == {"es"}
    statements = archive.read("data/statements.csv").decode("utf-8")
    assert SPANISH not in statements and rs.study.statements["S1"].text in statements
    panel = list(csv.DictReader(io.StringIO(archive.read("data/panel.csv").decode("utf-8"), newline="")))
    assert {r["name"]: r["value"] for r in panel}["language"] == "en"
