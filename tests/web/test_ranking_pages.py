"""The facilitator's ranking question pages: add with every problem listed at once, edit, delete, draft, the
researcher's read-only view, and the ranking threshold in the panel settings; on both backends."""

from __future__ import annotations

from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from delphi.db.engine import make_sessionmaker
from delphi.db.models import Panel, PanelAccess, RankingItem, RankingQuestion, RoundRanking
from delphi.domain import PanelRole
from tests.helpers import login, make_account, post_form
from tests.web.test_facilitator_pages import PANEL_FORM, count, new_panel

QUESTION = {"text": "Put these service changes in order of priority", "items": "Waits\nHours\nStaff\n"}


async def question_id(engine: AsyncEngine) -> int:
    async with make_sessionmaker(engine)() as session:
        qid = await session.scalar(select(RankingQuestion.id))
        assert qid is not None
        return qid


async def test_a_question_added_on_the_page_is_listed_with_its_items_and_in_round_1(
    client: AsyncTestClient, engine: AsyncEngine
) -> None:
    base = await new_panel(client, engine)
    nav = await client.get(base)
    assert f'href="{base}/rankings"' in nav.text
    r = await post_form(client, f"{base}/rankings", {**QUESTION, "allow_ties": "on"}, follow_redirects=False)
    assert r.status_code == 303
    page = await client.get(f"{base}/rankings")
    assert page.status_code == 200
    assert QUESTION["text"] in page.text and "<li>Staff</li>" in page.text and "Ties allowed" in page.text
    assert "in round 1" in page.text
    assert await count(engine, RoundRanking) == 1


async def test_a_bad_question_is_shown_again_with_every_problem_and_nothing_is_saved(
    client: AsyncTestClient, engine: AsyncEngine
) -> None:
    base = await new_panel(client, engine)
    r = await post_form(client, f"{base}/rankings", {"text": "", "items": "Waits\nwaits\n" + "x" * 600})
    assert r.status_code == 422
    assert "There is a problem" in r.text
    assert "Enter the question" in r.text and "listed twice" in r.text and "too long" in r.text
    assert "Waits\nwaits" in r.text  # the posted items are shown again
    assert await count(engine, RankingQuestion) == 0


async def test_a_question_is_edited_and_deleted_on_its_pages(
    client: AsyncTestClient, engine: AsyncEngine
) -> None:
    base = await new_panel(client, engine)
    await post_form(client, f"{base}/rankings", QUESTION)
    qid = await question_id(engine)
    form = await client.get(f"{base}/rankings/{qid}/edit")
    assert form.status_code == 200 and "Waits\nHours\nStaff" in form.text
    bad = await post_form(client, f"{base}/rankings/{qid}/edit", {"text": "Order", "items": "Only one"})
    assert bad.status_code == 422 and "at least 2 items" in bad.text and "Only one" in bad.text
    ok = await post_form(
        client,
        f"{base}/rankings/{qid}/edit",
        {"text": "Order these", "items": "A\nB"},
        follow_redirects=False,
    )
    assert ok.status_code == 303
    async with make_sessionmaker(engine)() as session:
        items = (await session.scalars(select(RankingItem.text).order_by(RankingItem.position))).all()
    assert list(items) == ["A", "B"]
    confirm = await client.get(f"{base}/rankings/{qid}/delete")
    assert confirm.status_code == 200 and "Delete this ranking question" in confirm.text
    gone = await post_form(client, f"{base}/rankings/{qid}/delete", {}, follow_redirects=False)
    assert gone.status_code == 303
    assert await count(engine, RankingQuestion) == 0


async def test_a_question_is_dropped_from_the_draft_round_and_added_back(
    client: AsyncTestClient, engine: AsyncEngine
) -> None:
    base = await new_panel(client, engine)
    await post_form(client, f"{base}/rankings", QUESTION)
    qid = await question_id(engine)
    await post_form(client, f"{base}/rankings/{qid}/draft", {"include": "0"}, token_page=f"{base}/rankings")
    assert await count(engine, RoundRanking) == 0
    await post_form(client, f"{base}/rankings/{qid}/draft", {"include": "1"}, token_page=f"{base}/rankings")
    assert await count(engine, RoundRanking) == 1


async def test_a_researcher_sees_the_questions_but_cannot_change_them(
    client: AsyncTestClient, engine: AsyncEngine
) -> None:
    base = await new_panel(client, engine)
    await post_form(client, f"{base}/rankings", QUESTION)
    qid = await question_id(engine)
    researcher = await make_account(engine, "res@example.org", role="researcher")
    async with make_sessionmaker(engine)() as session, session.begin():
        pid = await session.scalar(select(Panel.id))
        session.add(PanelAccess(panel_id=pid, account_id=researcher.id, role=PanelRole.RESEARCHER))
    await client.get("/logout")
    await login(client, "res@example.org")
    page = await client.get(f"{base}/rankings")
    assert page.status_code == 200 and QUESTION["text"] in page.text
    assert "Add a ranking question" not in page.text and "/edit" not in page.text
    assert (await client.get(f"{base}/rankings/{qid}/edit")).status_code == 403
    refused = await post_form(client, f"{base}/rankings", QUESTION, token_page=f"{base}/rankings")
    assert refused.status_code == 403
    assert await count(engine, RankingQuestion) == 1


async def test_the_panel_settings_form_saves_and_refuses_the_ranking_threshold(
    client: AsyncTestClient, engine: AsyncEngine
) -> None:
    base = await new_panel(client, engine)
    settings_page = await client.get(f"{base}/settings")
    assert (
        "Kendall&#39;s W is at least" in settings_page.text or "Kendall's W is at least" in settings_page.text
    )
    bad = await post_form(client, f"{base}/settings", {**PANEL_FORM, "ranking_w_min": "2"})
    assert bad.status_code in (400, 422) and "at most 1" in bad.text
    ok = await post_form(
        client, f"{base}/settings", {**PANEL_FORM, "ranking_w_min": "0.8"}, follow_redirects=False
    )
    assert ok.status_code == 303
    async with make_sessionmaker(engine)() as session:
        assert await session.scalar(select(Panel.ranking_w_min)) == 0.8
