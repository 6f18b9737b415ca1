"""The open round's pages over HTTP: the panellist's home, ideas page (background save and the no-JavaScript form
with "Add another answer"), review and submit; the facilitator's questions and answers pages."""

from __future__ import annotations

from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from delphi.db.engine import make_sessionmaker
from delphi.db.models import IdeaAnswer, OpenQuestion, Statement, StatementSource
from delphi.rounds import transitions
from delphi.settings import Settings
from tests.factories import ACTOR, PASSWORD, grant, make_account
from tests.helpers import csrf_from, login
from tests.ideas_world import IdeasWorld, build_ideas_panel
from tests.panellist.conftest import enter


async def _world(session: AsyncSession) -> IdeasWorld:
    w = await build_ideas_panel(session)
    await session.commit()
    return w


async def _answers(engine: AsyncEngine) -> list[tuple[int, str]]:
    async with make_sessionmaker(engine)() as s:
        rows = await s.execute(
            select(IdeaAnswer.slot, IdeaAnswer.text).order_by(IdeaAnswer.question_id, IdeaAnswer.slot)
        )
        return [tuple(r) for r in rows.all()]


async def test_the_home_page_says_round_one_asks_open_questions(
    client: AsyncTestClient, session: AsyncSession
) -> None:
    w = await _world(session)
    await enter(client, w.world.token)
    home = await client.get("/panel")
    assert "Round 1 asks a few open questions" in home.text and 'href="/panel/ideas"' in home.text
    # nothing to suggest a rewording of yet: the statements are made from these answers
    assert "/panel/suggest" not in home.text
    about = await client.get("/panel/consent")
    assert "First you answer a few open questions in your own words" in about.text
    assert "You will read short statements" not in about.text


async def test_a_background_save_then_the_page_shows_it(
    client: AsyncTestClient, session: AsyncSession, engine: AsyncEngine
) -> None:
    w = await _world(session)
    await enter(client, w.world.token)
    page = await client.get("/panel/ideas")
    assert page.status_code == 200 and "/static/ideas.js" in page.text
    token = csrf_from(page.text)
    q1 = w.questions[0]
    saved = await client.post(
        f"/panel/ideas/{q1.id}/1",
        json={"text": "Peer support"},
        headers={"x-csrftoken": token, "accept": "application/json"},
    )
    assert saved.status_code == 200, saved.text
    assert saved.json()["answers"] == 1
    too_long = await client.post(
        f"/panel/ideas/{q1.id}/1",
        json={"text": "x" * 2001},
        headers={"x-csrftoken": token, "accept": "application/json"},
    )
    assert too_long.status_code == 422 and too_long.headers["content-type"].startswith(
        "application/problem+json"
    )
    assert "Peer support" in (await client.get("/panel/ideas")).text
    assert await _answers(engine) == [(1, "Peer support")]


async def test_without_javascript_add_another_answer_saves_and_shows_one_more_box(
    client: AsyncTestClient, session: AsyncSession, engine: AsyncEngine
) -> None:
    w = await _world(session)
    await enter(client, w.world.token)
    q1, q2 = w.questions
    token = csrf_from((await client.get("/panel/ideas")).text)
    more = await client.post(
        "/panel/ideas",
        data={
            "_csrf_token": token,
            f"a{q1.id}-1": "Peer support",
            f"a{q2.id}-1": "",
            "action": f"more-{q1.id}",
        },
        follow_redirects=False,
    )
    assert more.status_code == 303 and more.headers["location"] == f"/panel/ideas?more={q1.id}#q{q1.id}"
    page = await client.get(more.headers["location"].split("#")[0])
    # the answer typed is saved and one empty box follows it, never two
    assert f'name="a{q1.id}-2"' in page.text and f'name="a{q1.id}-3"' not in page.text
    bad = await client.post(
        "/panel/ideas",
        data={
            "_csrf_token": token,
            f"a{q1.id}-2": "Evening opening",
            f"a{q2.id}-1": "y" * 2001,
            "action": "save",
        },
    )
    assert bad.status_code == 400 and "There is a problem" in bad.text and "Evening opening" in bad.text
    assert await _answers(engine) == [(1, "Peer support")]  # nothing of the refused page was saved


async def test_review_lists_the_answers_and_submit_needs_one(
    client: AsyncTestClient, session: AsyncSession
) -> None:
    w = await _world(session)
    await enter(client, w.world.token)
    token = csrf_from((await client.get("/panel/review")).text)
    refused = await client.post("/panel/submit", data={"_csrf_token": token})
    assert refused.status_code == 400 and "Write at least one answer" in refused.text
    q1 = w.questions[0]
    await client.post("/panel/ideas", data={"_csrf_token": token, f"a{q1.id}-1": "Peer support"})
    review = await client.get("/panel/review")
    assert "Peer support" in review.text
    sent = await client.post("/panel/submit", data={"_csrf_token": token}, follow_redirects=False)
    assert sent.status_code == 303 and sent.headers["location"] == "/panel/done"


async def test_the_facilitator_adds_a_question_and_a_researcher_may_only_read(
    client: AsyncTestClient, session: AsyncSession, engine: AsyncEngine
) -> None:
    w = await build_ideas_panel(session, round_status="draft", status="draft")
    owner = await make_account(session, "owner@example.org")
    researcher = await make_account(session, "researcher@example.org", "researcher")
    await grant(session, w.world.panel, owner, "owner")  # type: ignore[arg-type]
    await grant(session, w.world.panel, researcher, "researcher")  # type: ignore[arg-type]
    await session.commit()
    pid = w.world.panel.id
    await login(client, "owner@example.org", PASSWORD)
    page = await client.get(f"/panels/{pid}/open-questions")
    token = csrf_from(page.text)
    empty = await client.post(
        f"/panels/{pid}/open-questions", data={"_csrf_token": token, "text": " ", "hint": ""}
    )
    assert empty.status_code == 400 and "Enter the question" in empty.text
    added = await client.post(
        f"/panels/{pid}/open-questions", data={"_csrf_token": token, "text": "What else?", "hint": ""}
    )
    assert added.status_code == 200 and "What else?" in added.text
    async with make_sessionmaker(engine)() as s:
        assert len((await s.scalars(select(OpenQuestion).where(OpenQuestion.panel_id == pid))).all()) == 3
    await client.post("/logout", data={"_csrf_token": token})
    await login(client, "researcher@example.org", PASSWORD)
    assert (await client.get(f"/panels/{pid}/open-questions")).status_code == 200


async def test_the_facilitator_turns_a_theme_into_a_statement(
    client: AsyncTestClient, session: AsyncSession, engine: AsyncEngine, settings: Settings
) -> None:
    w = await build_ideas_panel(session)
    owner = await make_account(session, "owner@example.org")
    await grant(session, w.world.panel, owner, "owner")  # type: ignore[arg-type]
    q1 = w.questions[0]
    for i, (p, _) in enumerate(w.world.people[:2]):
        session.add(
            IdeaAnswer(
                round_id=w.world.round.id, question_id=q1.id, panellist_id=p.id, slot=1, text=f"Idea {i}"
            )
        )  # type: ignore[union-attr]
    await session.flush()
    await transitions.close_round(session, w.world.panel, w.world.round, settings=settings, actor=ACTOR)  # type: ignore[arg-type]
    await session.commit()
    ids = (await session.scalars(select(IdeaAnswer.id).order_by(IdeaAnswer.id))).all()
    pid = w.world.panel.id
    await login(client, "owner@example.org", PASSWORD)
    page = await client.get(f"/panels/{pid}/rounds/1/answers")
    assert page.status_code == 200 and "Idea 0" in page.text
    token = csrf_from(page.text)
    themed = await client.post(
        f"/panels/{pid}/rounds/1/answers",
        data={"_csrf_token": token, "answer": [str(i) for i in ids], "theme": "peer", "action": "theme"},
    )
    assert themed.status_code == 200 and "peer (2)" in themed.text
    refused = await client.post(
        f"/panels/{pid}/rounds/1/answers",
        data={"_csrf_token": token, "from_theme": "peer", "text": "", "action": "statement"},
    )
    assert refused.status_code == 400 and "Enter the statement" in refused.text
    made = await client.post(
        f"/panels/{pid}/rounds/1/answers",
        data={
            "_csrf_token": token,
            "from_theme": "peer",
            "text": "Offer peer support.",
            "action": "statement",
        },
    )
    assert made.status_code == 200 and "Draft statement made" in made.text
    async with make_sessionmaker(engine)() as s:
        statement = await s.scalar(select(Statement).where(Statement.panel_id == pid))
        assert statement is not None and statement.origin == "open_round"
        sources = (
            await s.scalars(select(StatementSource.answer_id).order_by(StatementSource.answer_id))
        ).all()
        assert list(sources) == list(ids)
