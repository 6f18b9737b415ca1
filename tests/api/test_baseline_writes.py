"""The baseline questions API (/api/v1/panels/{id}/baseline): list, add, edit, move and delete through the
baseline page's use cases, with its rules, messages and audit events; on both backends."""

from __future__ import annotations

from litestar.testing import AsyncTestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import AuditEvent, BaselineAnswer, BaselineQuestion
from delphi.settings import Settings
from tests.results.helpers import (
    OUTSIDER,
    OWNER,
    PROBLEM,
    RESEARCHER,
    bearer,
    create_token,
    login,
    world_and_token,
)


async def actions(session: AsyncSession, panel_id: int) -> list[str]:
    """The panel's audit actions about baseline questions, oldest first."""
    await session.commit()  # a fresh snapshot: what the app has committed since
    rows = await session.scalars(
        select(AuditEvent.action)
        .where(AuditEvent.panel_id == panel_id, AuditEvent.action.like("baseline.%"))
        .order_by(AuditEvent.id)
    )
    return list(rows.all())


async def questions(session: AsyncSession, panel_id: int) -> list[BaselineQuestion]:
    await session.commit()
    rows = await session.scalars(
        select(BaselineQuestion)
        .where(BaselineQuestion.panel_id == panel_id)
        .order_by(BaselineQuestion.position, BaselineQuestion.id)
    )
    return list(rows.all())


async def test_a_question_is_added_read_edited_moved_and_deleted_with_the_pages_audit_events(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    world, token = await world_and_token(session, client, settings, OWNER)
    base = f"/api/v1/panels/{world.pid}/baseline"
    added = await client.post(
        base,
        json={
            "kind": "single",
            "text": "  Years in   drug services ",
            "choices": [" Under 1", "", "1 to  5"],
        },
        headers=bearer(token),
    )
    assert added.status_code == 201, added.text
    first = added.json()
    assert {k: first[k] for k in ("kind", "text", "choices", "unit", "answers", "locked")} == {
        "kind": "single",
        "text": "Years in drug services",
        "choices": ["Under 1", "1 to 5"],  # spacing collapsed, the blank one dropped, as the page's lines
        "unit": "",
        "answers": 0,
        "locked": False,
    }
    assert added.headers["location"] == f"{base}/{first['id']}"
    read = await client.get(added.headers["location"], headers=bearer(token))
    assert read.status_code == 200 and read.json() == first

    age = await client.post(
        base, json={"kind": "number", "text": "Age", "unit": "years"}, headers=bearer(token)
    )
    assert age.status_code == 201, age.text
    second = age.json()
    assert (second["unit"], second["choices"], second["position"]) == ("years", [], first["position"] + 1)

    edited = await client.patch(f"{base}/{first['id']}", json={"text": "Years?"}, headers=bearer(token))
    assert edited.status_code == 200, edited.text
    assert edited.json() == {**first, "text": "Years?"}  # what was left out is kept
    unchanged = await client.patch(f"{base}/{first['id']}", json={}, headers=bearer(token))
    assert unchanged.status_code == 200 and unchanged.json() == edited.json()

    moved = await client.post(f"{base}/{second['id']}/move", json={"direction": "up"}, headers=bearer(token))
    assert moved.status_code == 200, moved.text
    assert [q["id"] for q in moved.json()] == [second["id"], first["id"]]
    at_the_top = await client.post(
        f"{base}/{second['id']}/move", json={"direction": "up"}, headers=bearer(token)
    )
    assert at_the_top.status_code == 200 and at_the_top.json() == moved.json()
    listed = await client.get(base, headers=bearer(token))
    assert listed.json() == moved.json()

    gone = await client.delete(f"{base}/{first['id']}", headers=bearer(token))
    assert gone.status_code == 204
    assert (await client.get(f"{base}/{first['id']}", headers=bearer(token))).status_code == 404
    assert [q.id for q in await questions(session, world.pid)] == [second["id"]]
    # The unchanged edit and the move at the top end record nothing, as on the page.
    assert await actions(session, world.pid) == [
        "baseline.added",
        "baseline.added",
        "baseline.edited",
        "baseline.moved",
        "baseline.deleted",
    ]


async def test_every_problem_of_a_question_is_listed_at_once_and_nothing_is_stored(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    world, token = await world_and_token(session, client, settings, OWNER)
    base = f"/api/v1/panels/{world.pid}/baseline"
    refused = await client.post(
        base,
        json={"kind": "multiple", "text": "   ", "choices": ["Yes", " Yes ", "x" * 201]},
        headers=bearer(token),
    )
    assert refused.status_code == 422
    assert refused.headers["content-type"].startswith(PROBLEM)
    assert refused.json()["errors"] == [
        {"field": "text", "message": "Enter the question, in 1 to 500 characters."},
        {"field": "choices", "message": "Shorten choice 3 to at most 200 characters."},
        {"field": "choices", "message": "Each choice must be different; given more than once: Yes."},
    ]
    one_choice = await client.post(
        base, json={"kind": "single", "text": "Q", "choices": ["A"]}, headers=bearer(token)
    )
    assert one_choice.status_code == 422
    assert one_choice.json()["errors"] == [
        {"field": "choices", "message": "Enter 2 to 20 choices, one per line (1 given)."}
    ]
    # What the body's schema refuses: a kind that is none, a choice holding a line break (two on the page).
    malformed = await client.post(
        base, json={"kind": "scale", "text": "Q", "choices": ["A\nB", "C"]}, headers=bearer(token)
    )
    assert malformed.status_code == 400
    assert {e["field"] for e in malformed.json()["errors"]} >= {"kind"}
    assert await questions(session, world.pid) == []
    assert await actions(session, world.pid) == []


async def test_an_answered_questions_kind_and_choices_are_locked_but_its_wording_stays_correctable(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    world, token = await world_and_token(session, client, settings, OWNER)
    base = f"/api/v1/panels/{world.pid}/baseline"
    added = await client.post(
        base,
        json={"kind": "single", "text": "Years?", "choices": ["Under 1", "Over 1"]},
        headers=bearer(token),
    )
    qid = added.json()["id"]
    session.add(
        BaselineAnswer(panellist_id=world.study.panellists[0].id, question_id=qid, chosen=["Under 1"])
    )
    await session.commit()
    assert (await client.get(f"{base}/{qid}", headers=bearer(token))).json()["locked"] is True

    for change in ({"choices": ["Under 1", "1 or more"]}, {"kind": "multiple"}):
        refused = await client.patch(f"{base}/{qid}", json=change, headers=bearer(token))
        assert refused.status_code == 409, change
        assert refused.json()["detail"].startswith(
            "1 panellist(s) have answered this question, so its kind and choices cannot change"
        )
    (stored,) = await questions(session, world.pid)
    assert (stored.kind, stored.choices) == ("single", ["Under 1", "Over 1"])

    reworded = await client.patch(f"{base}/{qid}", json={"text": "Years in services?"}, headers=bearer(token))
    assert reworded.status_code == 200, reworded.text
    assert (reworded.json()["text"], reworded.json()["answers"]) == ("Years in services?", 1)

    deleted = await client.delete(f"{base}/{qid}", headers=bearer(token))
    assert deleted.status_code == 204  # with its answer, as on the page
    await session.commit()
    assert await session.scalar(select(func.count()).select_from(BaselineAnswer)) == 0


async def test_researchers_read_the_questions_but_change_nothing_and_outsiders_see_none(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    world, owner = await world_and_token(session, client, settings, OWNER)
    base = f"/api/v1/panels/{world.pid}/baseline"
    qid = (
        await client.post(base, json={"kind": "text", "text": "Anything else?"}, headers=bearer(owner))
    ).json()["id"]
    await login(client, RESEARCHER)
    researcher = await create_token(client, scopes="read write")
    client.cookies.clear()
    assert (await client.get(base, headers=bearer(researcher))).status_code == 200
    refused = [
        await client.post(base, json={"kind": "text", "text": "Q"}, headers=bearer(researcher)),
        await client.patch(f"{base}/{qid}", json={"text": "Q"}, headers=bearer(researcher)),
        await client.post(f"{base}/{qid}/move", json={"direction": "up"}, headers=bearer(researcher)),
        await client.delete(f"{base}/{qid}", headers=bearer(researcher)),
    ]
    assert [r.status_code for r in refused] == [403] * 4

    await login(client, OUTSIDER)
    outsider = await create_token(client, scopes="read write")
    client.cookies.clear()
    assert (await client.get(base, headers=bearer(outsider))).status_code == 404
    # The outsider's own panel has no such question: another panel's question is a 404, never changed.
    theirs = f"/api/v1/panels/{world.other.panel.id}/baseline/{qid}"
    assert (await client.patch(theirs, json={"text": "Mine"}, headers=bearer(outsider))).status_code == 404
    assert (await client.delete(theirs, headers=bearer(outsider))).status_code == 404
    (stored,) = await questions(session, world.pid)
    assert stored.text == "Anything else?"
