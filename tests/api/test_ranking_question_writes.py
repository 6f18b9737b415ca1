"""The ranking questions API (/api/v1/panels/{id}/rankings): list, add, edit, add to or drop from the draft round
and delete through the ranking questions page's use cases, with its rules, messages and audit events; refusals
as RFC 9457 problems; on both backends."""

from __future__ import annotations

import html

from litestar.testing import AsyncTestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import AuditEvent, RankingItem, RankingQuestion, Round, RoundRanking
from delphi.settings import Settings
from tests.panellist.rankings import ask, make_ranking
from tests.results.helpers import (
    OUTSIDER,
    OWNER,
    PROBLEM,
    RESEARCHER,
    bearer,
    build_world,
    create_token,
    login,
    post_form,
    world_and_token,
)

QUESTION = {
    "text": "  Put these   service changes in order\x00 of priority ",
    "items": ["Shorter waits", "  Longer   opening hours ", "", "More staff"],
}


async def question_count(session: AsyncSession, panel_id: int) -> int:
    await session.commit()  # a fresh snapshot: what the app has committed since
    return await session.scalar(
        select(func.count()).select_from(RankingQuestion).where(RankingQuestion.panel_id == panel_id)
    )


async def actions(session: AsyncSession, panel_id: int) -> list[str]:
    """The panel's audit actions about ranking questions, oldest first."""
    await session.commit()
    rows = await session.scalars(
        select(AuditEvent.action)
        .where(AuditEvent.panel_id == panel_id, AuditEvent.action.like("ranking.%"))
        .order_by(AuditEvent.id)
    )
    return list(rows.all())


async def asked_by(session: AsyncSession, panel_id: int, number: int, question_id: int) -> bool:
    """Whether round ``number`` of the panel asks the question, as committed."""
    await session.commit()
    round_id = await session.scalar(
        select(Round.id).where(Round.panel_id == panel_id, Round.number == number)
    )
    n = await session.scalar(
        select(func.count())
        .select_from(RoundRanking)
        .where(RoundRanking.round_id == round_id, RoundRanking.question_id == question_id)
    )
    return n == 1


async def test_a_question_is_added_listed_edited_drafted_and_deleted_with_the_pages_audit_events(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    world, token = await world_and_token(session, client, settings, OUTSIDER)
    pid = world.other.panel.id  # a draft panel: round 1 is being prepared
    base = f"/api/v1/panels/{pid}/rankings"
    assert (await client.get(base, headers=bearer(token))).json() == []
    added = await client.post(base, json=QUESTION, headers=bearer(token))
    assert added.status_code == 201, added.text
    body = added.json()
    assert body["text"] == "Put these service changes in order of priority"
    assert [(i["text"], i["position"]) for i in body["items"]] == [
        ("Shorter waits", 0),
        ("Longer opening hours", 1),
        ("More staff", 2),
    ]  # spacing collapsed and the blank item dropped, as the page stores them
    assert (body["allow_ties"], body["status"], body["asked_in"], body["editable"], body["in_draft"]) == (
        False,
        "active",
        [],
        True,
        True,
    )
    assert added.headers["location"] == f"{base}/{body['id']}"
    assert await asked_by(session, pid, 1, body["id"])  # it joined the round being prepared
    read = await client.get(added.headers["location"], headers=bearer(token))
    assert read.status_code == 200 and read.json() == body
    assert (await client.get(base, headers=bearer(token))).json() == [body]

    ties = await client.patch(f"{base}/{body['id']}", json={"allow_ties": True}, headers=bearer(token))
    assert ties.status_code == 200, ties.text
    assert ties.json() == {**body, "allow_ties": True}  # what is left out keeps its value
    items = await client.patch(
        f"{base}/{body['id']}", json={"items": ["Shorter waits", "A quiet room"]}, headers=bearer(token)
    )
    assert items.status_code == 200, items.text
    kept = items.json()["items"]
    assert [(i["id"], i["text"]) for i in kept] == [
        (body["items"][0]["id"], "Shorter waits"),
        (body["items"][1]["id"], "A quiet room"),
    ]  # items keep their rows by position; the third is gone
    assert items.json()["text"] == body["text"]

    dropped = await client.post(f"{base}/{body['id']}/draft", json={"include": False}, headers=bearer(token))
    assert dropped.status_code == 200 and dropped.json()["in_draft"] is False
    assert not await asked_by(session, pid, 1, body["id"])
    included = await client.post(f"{base}/{body['id']}/draft", json={}, headers=bearer(token))
    assert included.status_code == 200 and included.json()["in_draft"] is True

    deleted = await client.delete(f"{base}/{body['id']}", headers=bearer(token))
    assert deleted.status_code == 204 and deleted.content == b""
    gone = await client.get(f"{base}/{body['id']}", headers=bearer(token))
    assert gone.status_code == 404 and gone.headers["content-type"].startswith(PROBLEM)
    assert gone.json()["detail"] == "There is no such ranking question on this panel."
    assert await question_count(session, pid) == 0
    assert await actions(session, pid) == [
        "ranking.added",
        "ranking.edited",
        "ranking.edited",
        "ranking.dropped",
        "ranking.included",
        "ranking.deleted",
    ]


async def test_a_refused_question_lists_every_problem_at_once_as_the_page_does_and_nothing_is_stored(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    world, token = await world_and_token(session, client, settings, OUTSIDER)
    pid = world.other.panel.id
    base = f"/api/v1/panels/{pid}/rankings"
    bad = {"text": "   ", "items": ["Waits", "waits", "x" * 501]}
    refused = await client.post(base, json=bad, headers=bearer(token))
    assert refused.status_code == 422 and refused.headers["content-type"].startswith(PROBLEM)
    errors = refused.json()["errors"]
    assert [e["field"] for e in errors] == ["text", "items", "items"]
    await login(client, OUTSIDER)
    page = await post_form(client, f"/panels/{pid}/rankings", {"text": "", "items": "\n".join(bad["items"])})
    assert page.status_code == 422
    assert all(e["message"] in html.unescape(page.text) for e in errors)  # the page's very words
    client.cookies.clear()

    one = await client.post(base, json={"text": "Order these", "items": ["Only one"]}, headers=bearer(token))
    assert one.status_code == 422
    assert one.json()["errors"] == [
        {"field": "items", "message": "Enter at least 2 items to rank, one a line."}
    ]
    thirteen = [f"Item {i}" for i in range(13)]
    many = await client.post(base, json={"text": "Order these", "items": thirteen}, headers=bearer(token))
    assert many.status_code == 422
    assert many.json()["errors"] == [
        {"field": "items", "message": "A ranking question can have at most 12 items; this one has 13."}
    ]
    # A body that is not a question at all: every wrong field named, before any use case runs.
    shapeless = await client.post(
        base, json={"text": 3, "items": "Waits\nStaff", "colour": "red"}, headers=bearer(token)
    )
    assert shapeless.status_code == 400
    assert [e["field"] for e in shapeless.json()["errors"]] == ["text", "items", "colour"]
    missing = await client.post(base, json={}, headers=bearer(token))
    assert missing.status_code == 400 and [e["field"] for e in missing.json()["errors"]] == ["text", "items"]
    assert await question_count(session, pid) == 0

    question, _ = await make_ranking(session, world.other.panel)
    await session.commit()
    edit = await client.patch(f"{base}/{question.id}", json={"items": ["Waits"]}, headers=bearer(token))
    assert edit.status_code == 422 and [e["field"] for e in edit.json()["errors"]] == ["items"]
    unchanged = (await client.get(f"{base}/{question.id}", headers=bearer(token))).json()
    assert [i["text"] for i in unchanged["items"]] == ["Waiting times", "Being listened to", "Clear letters"]
    assert await actions(session, pid) == []


async def test_a_question_asked_in_an_opened_round_is_locked_but_leaves_and_rejoins_the_draft_round(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    world, token = await world_and_token(session, client, settings, OWNER)  # round 1 closed, round 2 a draft
    question, items = await make_ranking(session, world.study.panel)
    await ask(session, world.study.rounds[1], question)
    await session.commit()
    url = f"/api/v1/panels/{world.pid}/rankings/{question.id}"
    edit = await client.patch(url, json={"text": "Which matters most now?"}, headers=bearer(token))
    assert edit.status_code == 409 and edit.headers["content-type"].startswith(PROBLEM)
    reason = edit.json()["detail"]
    assert reason.startswith("This ranking question was asked in round 1, so answers and results refer")
    await login(client, OWNER)
    page = await post_form(
        client, f"/panels/{world.pid}/rankings/{question.id}/edit", {"text": "Which?", "items": "A\nB"}
    )
    assert page.status_code == 409 and reason in html.unescape(page.text)
    client.cookies.clear()
    refused = await client.delete(url, headers=bearer(token))
    assert refused.status_code == 409 and refused.json()["detail"] == reason

    for _ in range(2):  # sent twice: the second changes nothing and records nothing
        included = await client.post(f"{url}/draft", json={"include": True}, headers=bearer(token))
        assert included.status_code == 200, included.text
        shown = included.json()
        assert (shown["asked_in"], shown["editable"], shown["in_draft"]) == ([1], False, True)
    assert await asked_by(session, world.pid, 2, question.id)
    dropped = await client.post(f"{url}/draft", json={"include": False}, headers=bearer(token))
    assert dropped.status_code == 200 and dropped.json()["in_draft"] is False
    assert [i["text"] for i in dropped.json()["items"]] == [i.text for i in items]
    assert await actions(session, world.pid) == ["ranking.included", "ranking.dropped"]


async def test_no_question_joins_or_leaves_a_draft_round_while_none_is_being_prepared(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    world = await build_world(session, settings, rounds=0)  # round 1 open, no round being prepared
    question, _ = await make_ranking(session, world.study.panel)
    await session.commit()
    await login(client, OWNER)
    token = await create_token(client, scopes="read write")
    client.cookies.clear()
    base = f"/api/v1/panels/{world.pid}/rankings"
    for include in (True, False):
        refused = await client.post(
            f"{base}/{question.id}/draft", json={"include": include}, headers=bearer(token)
        )
        assert refused.status_code == 409 and refused.headers["content-type"].startswith(PROBLEM)
        assert refused.json()["detail"] == (
            "No round is being prepared; questions can be added to or dropped from a draft round only."
        )
    listed = (await client.get(base, headers=bearer(token))).json()
    assert [(q["id"], q["in_draft"]) for q in listed] == [(question.id, False)]
    assert await actions(session, world.pid) == []


async def test_no_question_is_added_to_a_finished_panel(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    world = await build_world(session, settings, rounds=2)  # round 2 closed and the panel finished
    await login(client, OWNER)
    token = await create_token(client, scopes="read write")
    client.cookies.clear()
    late = await client.post(f"/api/v1/panels/{world.pid}/rankings", json=QUESTION, headers=bearer(token))
    assert late.status_code == 409 and late.headers["content-type"].startswith(PROBLEM)
    assert late.json()["detail"] == "This panel has finished; ranking questions can no longer be added."
    assert await question_count(session, world.pid) == 0
    assert await actions(session, world.pid) == []


async def test_a_researcher_reads_the_questions_but_changes_none_and_an_outsider_finds_no_panel(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    world, token = await world_and_token(session, client, settings, RESEARCHER)
    question, _ = await make_ranking(session, world.study.panel)
    await session.commit()
    await login(client, OUTSIDER)
    outsider = await create_token(client, scopes="read write")
    client.cookies.clear()
    base = f"/api/v1/panels/{world.pid}/rankings"
    url = f"{base}/{question.id}"
    for read in (base, url):
        assert (await client.get(read, headers=bearer(token))).status_code == 200
        assert (await client.get(read, headers=bearer(outsider))).status_code == 404
    changes = [
        ("POST", base, QUESTION),
        ("PATCH", url, {"allow_ties": True}),
        ("POST", f"{url}/draft", {"include": True}),
        ("DELETE", url, None),
    ]
    for method, target, body in changes:
        for who, due in ((token, 403), (outsider, 404)):
            answer = await client.request(method, target, json=body, headers=bearer(who))
            assert answer.status_code == due, (method, target, answer.text)
            assert answer.headers["content-type"].startswith(PROBLEM)
    assert await question_count(session, world.pid) == 1
    await session.commit()
    assert (
        await session.scalar(
            select(func.count()).select_from(RankingItem).where(RankingItem.question_id == question.id)
        )
        == 3
    )
    assert await actions(session, world.pid) == []
