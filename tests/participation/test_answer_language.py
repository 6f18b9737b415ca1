"""Every answer records the language the panellist answered in: ratings on every save path (the single save, the
page save, the grouped background save), rankings, open-round answers, baseline answers and the submission; a
later save after switching language records the new one."""

from __future__ import annotations

import asyncio

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from delphi.db.dialect import dialect_name
from delphi.db.models import (
    BaselineAnswer,
    BaselineQuestion,
    IdeaAnswer,
    Panellist,
    RankAnswer,
    Rating,
    Submission,
    utcnow,
)
from delphi.participation import baseline, ideas, ranking, saving, submit
from delphi.participation.baseline import Posted
from delphi.participation.checks import RatingInput, clean_input
from delphi.participation.facts import scale_of
from delphi.participation.ideas import IdeaInput
from delphi.participation.save_queue import SaveQueue
from delphi.participation.writes import upsert_params, upsert_statement
from tests.factories import World, build_panel
from tests.ideas_world import build_ideas_panel
from tests.panellist.rankings import ask, make_ranking


async def _languages(session: AsyncSession, panellist_id: int) -> dict[int, str | None]:
    rows = await session.execute(
        select(Rating.statement_id, Rating.language)
        .where(Rating.panellist_id == panellist_id)
        .execution_options(populate_existing=True)
    )
    return dict(rows.tuples().all())


async def _speaking(session: AsyncSession, language: str, **kw: object) -> World:
    w = await build_panel(session, consented=True, panellist_kw={"language": language}, **kw)
    await session.commit()
    return w


async def test_a_single_save_records_the_panellists_language(session: AsyncSession) -> None:
    w = await _speaking(session, "es")
    await saving.save_rating(session, w.panellist, RatingInput(w.statements[0].id, 7))
    await session.commit()
    assert await _languages(session, w.panellist.id) == {w.statements[0].id: "es"}


async def test_a_page_save_records_the_language_on_every_answer(session: AsyncSession) -> None:
    w = await _speaking(session, "cy")
    items = [RatingInput(s.id, 5 + i % 3) for i, s in enumerate(w.statements[:3])]
    await saving.save_ratings(session, w.panellist, items)
    await session.commit()
    assert await _languages(session, w.panellist.id) == {s.id: "cy" for s in w.statements[:3]}


async def test_a_language_is_stored_as_its_bcp47_tag(session: AsyncSession) -> None:
    w = await _speaking(session, "pt_BR")
    await saving.save_rating(session, w.panellist, RatingInput(w.statements[0].id, 3))
    await session.commit()
    assert await _languages(session, w.panellist.id) == {w.statements[0].id: "pt-BR"}


async def test_the_background_save_records_the_language_and_a_switch_records_the_new_one(
    engine: AsyncEngine, session: AsyncSession
) -> None:
    w = await build_panel(session, consented=True, panellists=3, panellist_kw={"language": "es"})
    people = [w.panellist, *(p for p, _ in w.others)]
    people[1].language = "cy"
    await session.commit()
    first, second = w.statements[:2]
    queue = SaveQueue(engine)
    try:
        results = await asyncio.gather(
            *(queue.save(p.id, p.session_version, RatingInput(first.id, 6)) for p in people)
        )
        assert all(r is not None for r in results)
        people[0].language = "cy"  # the first panellist switches to Welsh, then changes an answer
        await session.commit()
        again = await queue.save(people[0].id, people[0].session_version, RatingInput(first.id, 8))
        other = await queue.save(people[2].id, people[2].session_version, RatingInput(second.id, 2))
        assert again is not None and other is not None
    finally:
        await queue.aclose()
    assert queue.saves == 5
    assert await _languages(session, people[0].id) == {first.id: "cy"}
    assert await _languages(session, people[1].id) == {first.id: "cy"}
    assert await _languages(session, people[2].id) == {first.id: "es", second.id: "es"}


async def test_switching_language_then_saving_on_the_full_path_records_the_new_one(
    session: AsyncSession,
) -> None:
    w = await _speaking(session, "es")
    sid = w.statements[0].id
    await saving.save_rating(session, w.panellist, RatingInput(sid, 7))
    await session.commit()
    w.panellist.language = "en"
    await session.commit()
    await saving.save_ratings(session, w.panellist, [RatingInput(sid, 7, comment="Bien")])
    await session.commit()
    assert await _languages(session, w.panellist.id) == {sid: "en"}


async def test_an_upsert_without_a_language_keeps_the_one_saved(session: AsyncSession) -> None:
    w = await _speaking(session, "es")
    sid = w.statements[0].id
    await saving.save_rating(session, w.panellist, RatingInput(sid, 7))
    await session.commit()
    clean = clean_input(RatingInput(sid, 4), scale_of(w.panel))
    assert not isinstance(clean, list)
    assert w.round is not None
    await session.execute(
        upsert_statement(dialect_name(session), clean.shape),
        upsert_params(w.round.id, w.panellist.id, clean, utcnow()),
    )
    await session.commit()
    assert await _languages(session, w.panellist.id) == {sid: "es"}


async def test_a_ranking_records_the_language_and_a_later_save_the_new_one(session: AsyncSession) -> None:
    w = await build_panel(session, consented=True, panellist_kw={"language": "es"})
    question, items = await make_ranking(session, w.panel)
    assert w.round is not None
    await ask(session, w.round, question)
    await session.commit()
    answer = ranking.RankingInput(question.id, {i.id: str(n) for n, i in enumerate(items, start=1)})
    await ranking.save_ranking(session, w.panellist, answer)
    await session.commit()
    row = await session.scalar(select(RankAnswer))
    assert row is not None and row.language == "es"
    w.panellist.language = "cy"
    await session.commit()
    await ranking.save_ranking(session, w.panellist, ranking.RankingInput(question.id, {}, unable=True))
    await session.commit()
    await session.refresh(row)
    assert row.language == "cy" and row.unable


async def test_open_round_answers_record_the_language_one_at_a_time_and_as_a_page(
    session: AsyncSession,
) -> None:
    iw = await build_ideas_panel(session)
    me, (q1, q2) = iw.world.panellist, iw.questions
    me.language = "cy"
    await session.commit()
    await ideas.save_idea(session, me, IdeaInput(q1.id, 1, "Cefnogaeth gan gymheiriaid"))
    me.language = "es"
    await session.commit()
    await ideas.save_ideas(
        session, me, [IdeaInput(q1.id, 2, "Apoyo entre pares"), IdeaInput(q2.id, 1, "Listas de espera")]
    )
    await session.commit()
    rows = await session.execute(
        select(IdeaAnswer.question_id, IdeaAnswer.slot, IdeaAnswer.language).order_by(
            IdeaAnswer.question_id, IdeaAnswer.slot
        )
    )
    assert rows.tuples().all() == [(q1.id, 1, "cy"), (q1.id, 2, "es"), (q2.id, 1, "es")]


async def test_baseline_answers_record_the_language_of_the_last_save(session: AsyncSession) -> None:
    w = await _speaking(session, "cy")
    single = BaselineQuestion(
        panel_id=w.panel.id, kind="single", text="Years in services", choices=["<1", "1-5"], position=0
    )
    number = BaselineQuestion(panel_id=w.panel.id, kind="number", text="Age", position=1)
    session.add_all([single, number])
    await session.commit()
    await baseline.save_answers(session, w.panellist, {single.id: Posted(chosen=("1-5",))})
    await session.commit()
    (row,) = (await session.scalars(select(BaselineAnswer))).all()
    assert row.language == "cy"
    w.panellist.language = "es"
    await session.commit()
    await baseline.save_answers(
        session, w.panellist, {single.id: Posted(chosen=("1-5",)), number.id: Posted(raw="40")}
    )
    await session.commit()
    rows = (
        await session.scalars(
            select(BaselineAnswer)
            .order_by(BaselineAnswer.question_id)
            .execution_options(populate_existing=True)
        )
    ).all()
    assert [(r.question_id, r.language) for r in rows] == [(single.id, "es"), (number.id, "es")]


async def test_the_submission_records_the_language_it_was_sent_in(session: AsyncSession) -> None:
    w = await _speaking(session, "es")
    await saving.save_ratings(session, w.panellist, [RatingInput(s.id, 6) for s in w.statements])
    receipt = await submit.submit(session, w.panellist, send_receipt=False)
    await session.commit()
    assert receipt.created
    row = await session.scalar(select(Submission).where(Submission.panellist_id == w.panellist.id))
    assert row is not None and row.language == "es"
    w.panellist.language = "cy"
    await session.commit()
    again = await submit.submit(session, w.panellist, send_receipt=False)
    await session.commit()
    assert not again.created
    await session.refresh(row)
    assert row.language == "es", "a repeated submit changes nothing: the round was sent in Spanish"
    person = await session.get(Panellist, w.panellist.id)
    assert person is not None and person.language == "cy"
