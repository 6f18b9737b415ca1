"""Provenance of statements made from an open round: answers -> draft -> rewording -> verdict, in the read model
and the two exports."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import IdeaAnswer, Round
from delphi.panels import from_answers
from delphi.panels.statements import reword_statement
from delphi.results import ideas
from delphi.results.frame import load_frame
from delphi.rounds import transitions
from delphi.settings import Settings
from tests.factories import ACTOR
from tests.ideas_world import build_ideas_panel


async def _made(session: AsyncSession, settings: Settings):  # type: ignore[no-untyped-def]
    w = await build_ideas_panel(session)
    q1, q2 = w.questions
    a, b = w.world.panellist, w.world.others[0][0]
    session.add_all(
        [
            IdeaAnswer(
                round_id=w.world.round.id,
                question_id=q1.id,
                panellist_id=a.id,
                slot=1,
                text="Peer support",
                theme="peer",
            ),  # type: ignore[union-attr]
            IdeaAnswer(
                round_id=w.world.round.id,
                question_id=q2.id,
                panellist_id=b.id,
                slot=1,
                text="Lived experience staff",
                theme="peer",
            ),  # type: ignore[union-attr]
            IdeaAnswer(
                round_id=w.world.round.id, question_id=q2.id, panellist_id=b.id, slot=2, text="Long waits"
            ),  # type: ignore[union-attr]
        ]
    )
    await session.flush()
    await transitions.close_round(session, w.world.panel, w.world.round, settings=settings, actor=ACTOR)  # type: ignore[arg-type]
    draft = await from_answers.make_statement(
        session, w.world.panel, "Offer peer support.", "", ACTOR, theme="peer"
    )
    return w, draft


async def test_a_statement_made_from_a_theme_keeps_its_answers_through_a_rewording(
    session: AsyncSession, settings: Settings
) -> None:
    w, draft = await _made(session, settings)
    round2 = await session.scalar(select(Round).where(Round.number == 2))
    assert round2 is not None
    reworded = await reword_statement(
        session, w.world.panel, round2, draft, "Offer peer support workers.", "", ACTOR
    )
    (prov,) = await ideas.load_provenance(session, w.world.panel)
    assert prov.statement_id == draft.id
    assert [a.text for a in prov.sources] == ["Peer support", "Lived experience staff"]
    assert [(v.statement_id, v.version, v.parent_id) for v in prov.versions] == [
        (draft.id, 1, None),
        (reworded.id, 2, draft.id),
    ]
    assert prov.final is not None and prov.final.text == "Offer peer support workers."


async def test_the_exports_list_every_answer_and_each_version_per_source_answer(
    session: AsyncSession, settings: Settings
) -> None:
    w, draft = await _made(session, settings)
    frame = await load_frame(session, w.world.panel)
    answers = (await ideas.open_answers_table(session, frame)).dicts()
    assert [(r["question"], r["text"], r["theme"], r["statement_ids"]) for r in answers] == [
        ("What helps?", "Peer support", "peer", str(draft.id)),
        ("What gets in the way?", "Lived experience staff", "peer", str(draft.id)),
        ("What gets in the way?", "Long waits", "", ""),
    ]
    assert {r["round"] for r in answers} == {1}
    assert not any(r["in_population"] for r in answers)  # nobody submitted, and only submitted answers count
    provenance = (await ideas.provenance_table(session, frame)).dicts()
    assert [(r["statement_id"], r["version"], r["parent_id"]) for r in provenance] == [
        (draft.id, 1, None)
    ] * 2
    assert sorted(r["answer_id"] for r in provenance) == sorted(
        r["answer_id"] for r in answers if r["theme"] == "peer"
    )


async def test_the_data_package_with_an_open_round_validates_keys_included(
    session: AsyncSession, settings: Settings, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    import io
    import zipfile

    import frictionless

    from delphi.results import datapackage

    w, _ = await _made(session, settings)
    frame = await load_frame(session, w.world.panel)
    zipfile.ZipFile(io.BytesIO(await datapackage.build_package(session, frame))).extractall(tmp_path)
    report = frictionless.validate(str(tmp_path / "datapackage.json"))
    assert [(t.name, e.message) for t in report.tasks for e in t.errors] == []
    rows = {t.name: t.stats.get("rows", 0) for t in report.tasks}
    assert rows["open-answers"] == 3 and rows["provenance"] == 2


async def test_both_exports_come_as_csv_and_the_same_xlsx(session: AsyncSession, settings: Settings) -> None:
    from delphi.results import exports
    from tests.results.helpers import assert_xlsx_matches_csv

    w, _ = await _made(session, settings)
    frame = await load_frame(session, w.world.panel)
    for name, n in (("open-answers", 3), ("provenance", 2)):
        csv_data, _ = await exports.produce(session, frame, exports.BY_NAME[name], "csv")
        xlsx_data, _ = await exports.produce(session, frame, exports.BY_NAME[name], "xlsx")
        assert assert_xlsx_matches_csv(xlsx_data, csv_data) == n + 1, name  # the header and every row
