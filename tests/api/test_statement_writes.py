"""The statements API (/api/v1/panels/{id}/statements): add, edit, move, add to or drop from the draft round,
delete and import through the statements page's use cases, with its rules, messages and audit events; refusals
as RFC 9457 problems; on both backends."""

from __future__ import annotations

import html
import re

from litestar.testing import AsyncTestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import AuditEvent, Round, RoundStatement, Statement
from delphi.settings import Settings
from tests.results.helpers import (
    OUTSIDER,
    OWNER,
    PROBLEM,
    RESEARCHER,
    World,
    bearer,
    build_world,
    create_token,
    login,
    post_form,
    world_and_token,
)

#: A file with a problem on three lines (an empty statement, one on the panel already, one repeated) and a
#: column that is not imported.
BAD_FILE = (
    "statement;section;notes\n"
    "Offer video calls.;Access;from the workshop\n"
    ";Access;left empty\n"
    "same-week   APPOINTMENTS.;Care;\n"
    "\n"
    "offer video calls.;Choice;\n"
    "Ask people first.;Choice;\n"
)
GOOD_FILE = "statement;section\nOffer video calls.;Access\nAsk people first.;Choice\n"


async def draft_panel_and_token(
    session: AsyncSession, client: AsyncTestClient, settings: Settings
) -> tuple[World, int, str]:
    """The world, the id of its other panel (a draft: round 1 not yet open, four statements, owned by the
    outsider) and a token of the outsider that may read and change."""
    world, token = await world_and_token(session, client, settings, OUTSIDER)
    return world, world.other.panel.id, token


async def statement_count(session: AsyncSession, panel_id: int) -> int:
    await session.commit()  # a fresh snapshot: what the app has committed since
    return await session.scalar(
        select(func.count()).select_from(Statement).where(Statement.panel_id == panel_id)
    )


async def actions(session: AsyncSession, panel_id: int) -> list[str]:
    """The panel's audit actions about statements, oldest first."""
    await session.commit()
    rows = await session.scalars(
        select(AuditEvent.action)
        .where(AuditEvent.panel_id == panel_id, AuditEvent.action.like("statement.%"))
        .order_by(AuditEvent.id)
    )
    return list(rows.all())


def page_preview(page: str) -> tuple[list[tuple[int, str, str]], list[tuple[int, str]]]:
    """The statements page's preview: its rows ``(line, section, text)`` and problems ``(line, message)``."""
    problems = re.findall(r'<tr id="line-(\d+)"><td>[^<]*</td><td>([^<]*)</td></tr>', page)
    rows = re.findall(r"<tr><td>(\d+)</td><td>([^<]*)</td><td>([^<]*)</td></tr>", page)
    return (
        [(int(n), html.unescape(s), html.unescape(t)) for n, s, t in rows],
        [(int(n), html.unescape(m)) for n, m in problems],
    )


def api_preview(body: dict) -> tuple[list[tuple[int, str, str]], list[tuple[int, str]]]:
    """The API's preview in the page's terms (``"file"`` is the page's line 0)."""
    rows = [(r["line"], r["section"], r["text"]) for r in body["rows"]]
    problems = [
        (0 if p["field"] == "file" else int(p["field"].removeprefix("line ")), p["message"])
        for p in body["problems"]
    ]
    return rows, problems


async def test_a_statement_is_added_read_edited_and_deleted_with_the_pages_audit_events(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    _, pid, token = await draft_panel_and_token(session, client, settings)
    base = f"/api/v1/panels/{pid}/statements"
    added = await client.post(
        base, json={"text": "  Offer   video calls.\x00 ", "section": " Access "}, headers=bearer(token)
    )
    assert added.status_code == 201, added.text
    body = added.json()
    assert (body["text"], body["section"], body["version"], body["origin"]) == (
        "Offer video calls.",
        "Access",
        1,
        "facilitator",
    )
    assert added.headers["location"] == f"{base}/{body['id']}"
    read = await client.get(added.headers["location"], headers=bearer(token))
    assert read.status_code == 200 and read.json() == body
    draft_round_1 = await session.scalar(select(Round.id).where(Round.panel_id == pid, Round.number == 1))
    asked = await session.scalar(
        select(func.count())
        .select_from(RoundStatement)
        .where(RoundStatement.round_id == draft_round_1, RoundStatement.statement_id == body["id"])
    )
    assert asked == 1  # it joined the round being prepared, as from the page

    edited = await client.patch(f"{base}/{body['id']}", json={"section": "Choice"}, headers=bearer(token))
    assert edited.status_code == 200, edited.text
    assert edited.json() == {**body, "section": "Choice"}  # the text left out is kept; edited in place

    deleted = await client.delete(f"{base}/{body['id']}", headers=bearer(token))
    assert deleted.status_code == 204 and deleted.content == b""
    gone = await client.get(f"{base}/{body['id']}", headers=bearer(token))
    assert gone.status_code == 404 and gone.headers["content-type"].startswith(PROBLEM)
    assert await actions(session, pid) == ["statement.added", "statement.edited", "statement.deleted"]


async def test_a_refused_statement_lists_every_problem_at_once_and_nothing_is_stored(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    world, pid, token = await draft_panel_and_token(session, client, settings)
    base = f"/api/v1/panels/{pid}/statements"
    before = await statement_count(session, pid)
    bad = {"text": "   ", "section": "x" * 201}
    every = [
        {"field": "text", "message": "Enter the statement (1 to 2000 characters)."},
        {"field": "section", "message": "The section name can have at most 200 characters."},
    ]
    refused = await client.post(base, json=bad, headers=bearer(token))
    assert refused.status_code == 422 and refused.headers["content-type"].startswith(PROBLEM)
    assert refused.json()["errors"] == every
    s1 = world.other.statements["S1"]
    edit = await client.patch(f"{base}/{s1.id}", json=bad, headers=bearer(token))
    assert edit.status_code == 422 and edit.json()["errors"] == every
    too_long = await client.post(base, json={"text": "y" * 2001}, headers=bearer(token))
    assert too_long.status_code == 422 and too_long.json()["errors"] == every[:1]
    # A body that is not a statement at all: every wrong field named, before any use case runs.
    shapeless = await client.post(base, json={"text": 3, "colour": "red"}, headers=bearer(token))
    assert shapeless.status_code == 400
    assert [e["field"] for e in shapeless.json()["errors"]] == ["text", "colour"]
    only_nul = await client.post(base, json={"text": "\x00 \x00"}, headers=bearer(token))
    assert only_nul.status_code == 422 and only_nul.json()["errors"] == every[:1]  # as the page reads it
    assert await statement_count(session, pid) == before
    unchanged = (await client.get(f"{base}/{s1.id}", headers=bearer(token))).json()
    assert (unchanged["text"], unchanged["section"]) == (s1.text, s1.section)
    assert await actions(session, pid) == []


async def test_a_statement_asked_in_an_open_round_is_neither_edited_nor_deleted_as_on_the_page(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    world = await build_world(session, settings, rounds=0)  # round 1 open, no round being prepared
    await login(client, OWNER)
    token = await create_token(client, scopes="read write")
    s1 = world.study.statements["S1"]
    url = f"/api/v1/panels/{world.pid}/statements/{s1.id}"
    edit = await client.patch(url, json={"text": "Appointments within the week."}, headers=bearer(token))
    assert edit.status_code == 409 and edit.headers["content-type"].startswith(PROBLEM)
    reason = edit.json()["detail"]
    assert reason == "This statement was asked already; reword it when the next round is being prepared."
    page = await post_form(
        client,
        f"/panels/{world.pid}/statements/{s1.id}/edit",
        {"text": "Appointments within the week.", "section": s1.section},
    )
    assert page.status_code == 409 and reason in html.unescape(page.text)
    refused = await client.delete(url, headers=bearer(token))
    assert refused.status_code == 409
    assert refused.json()["detail"].startswith("Statements can be deleted only before round 1 opens.")
    current = (await client.get(url, headers=bearer(token))).json()
    assert current["text"] == s1.text and current["status"] == s1.status
    assert await actions(session, world.pid) == []


async def test_a_statement_asked_before_is_reworded_in_the_round_being_prepared(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    world, token = await world_and_token(session, client, settings, OWNER)  # round 1 closed, round 2 a draft
    s1 = world.study.statements["S1"]
    url = f"/api/v1/panels/{world.pid}/statements/{s1.id}"
    same = await client.patch(url, json={"text": f"  {s1.text}  "}, headers=bearer(token))
    assert same.status_code == 200 and same.json()["id"] == s1.id  # no change, no new version
    reworded = await client.patch(url, json={"text": "Appointments within the week."}, headers=bearer(token))
    assert reworded.status_code == 200, reworded.text
    new = reworded.json()
    assert new["id"] != s1.id
    assert (new["parent_id"], new["version"], new["text"], new["section"]) == (
        s1.id,
        2,
        "Appointments within the week.",
        s1.section,
    )
    old = (await client.get(url, headers=bearer(token))).json()
    assert (old["text"], old["status"]) == (s1.text, "withdrawn")  # past results keep their wording
    assert await actions(session, world.pid) == ["statement.reworded"]


async def test_the_import_preview_is_the_pages_preview_and_stores_nothing(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    _, pid, token = await draft_panel_and_token(session, client, settings)
    before = await statement_count(session, pid)
    await login(client, OUTSIDER)
    for text in (BAD_FILE, GOOD_FILE):
        answer = await client.post(
            f"/api/v1/panels/{pid}/statements/import", json={"csv": text}, headers=bearer(token)
        )
        assert answer.status_code == 200, answer.text
        page = await post_form(client, f"/panels/{pid}/statements/import", {"bulk": text})
        assert page.status_code in (200, 422)
        assert api_preview(answer.json()) == page_preview(page.text)
        assert answer.json()["ready"] is (page.status_code == 200)
    bad = await client.post(
        f"/api/v1/panels/{pid}/statements/import",
        json={"csv": BAD_FILE, "confirm": False},
        headers=bearer(token),
    )
    assert bad.json() == {
        "rows": [
            {"line": 2, "section": "Access", "text": "Offer video calls."},
            {"line": 7, "section": "Choice", "text": "Ask people first."},
        ],
        "problems": [
            {"field": "line 3", "message": "The statement is empty."},
            {"field": "line 4", "message": "The statement is on this panel already."},
            {"field": "line 6", "message": "The statement is the same as the one on line 2."},
        ],
        "notes": ["Not imported: the column(s) notes."],
        "ready": False,
    }
    assert await statement_count(session, pid) == before
    assert await actions(session, pid) == []


async def test_a_confirmed_import_stores_the_statements_once(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    _, pid, token = await draft_panel_and_token(session, client, settings)
    before = await statement_count(session, pid)
    url = f"/api/v1/panels/{pid}/statements/import"
    done = await client.post(url, json={"csv": GOOD_FILE, "confirm": True}, headers=bearer(token))
    assert done.status_code == 201, done.text
    assert done.headers["location"] == f"/api/v1/panels/{pid}/statements"
    imported = done.json()["imported"]
    assert [(s["section"], s["text"]) for s in imported] == [
        ("Access", "Offer video calls."),
        ("Choice", "Ask people first."),
    ]
    again = await client.post(url, json={"csv": GOOD_FILE, "confirm": True}, headers=bearer(token))
    assert again.status_code == 422  # sent twice: the second finds them on the panel and adds nothing
    assert {e["message"] for e in again.json()["errors"]} == {"The statement is on this panel already."}
    assert await statement_count(session, pid) == before + 2
    assert await actions(session, pid) == ["statement.added", "statement.added"]
    listed = (await client.get(f"/api/v1/panels/{pid}/statements", headers=bearer(token))).json()
    assert [s for s in listed if s["id"] in {i["id"] for i in imported}] == imported


async def test_a_confirmed_file_with_problems_is_refused_whole_listing_every_problem(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    _, pid, token = await draft_panel_and_token(session, client, settings)
    before = await statement_count(session, pid)
    url = f"/api/v1/panels/{pid}/statements/import"
    refused = await client.post(url, json={"csv": BAD_FILE, "confirm": True}, headers=bearer(token))
    assert refused.status_code == 422 and refused.headers["content-type"].startswith(PROBLEM)
    assert [e["field"] for e in refused.json()["errors"]] == ["line 3", "line 4", "line 6"]
    # A NUL in the JSON text is dropped before the file is read (as the pages' text boxes drop it).
    preview = await client.post(url, json={"csv": "statement\nA\x00B\n"}, headers=bearer(token))
    assert preview.status_code == 200 and [r["text"] for r in preview.json()["rows"]] == ["AB"]
    empty = await client.post(url, json={"csv": "", "confirm": True}, headers=bearer(token))
    assert empty.status_code == 422
    assert empty.json()["errors"] == [{"field": "line 1", "message": "There are no statements in the text."}]
    too_large = await client.post(
        url, json={"csv": "statement\n" + "x" * (5 * 1024 * 1024), "confirm": True}, headers=bearer(token)
    )
    assert too_large.status_code == 413 and too_large.headers["content-type"].startswith(PROBLEM)
    assert await statement_count(session, pid) == before
    assert await actions(session, pid) == []


async def test_a_researcher_is_refused_every_change_and_an_outsider_finds_no_panel(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    world, token = await world_and_token(session, client, settings, RESEARCHER)
    await login(client, OUTSIDER)
    outsider = await create_token(client, scopes="read write")
    client.cookies.clear()
    base = f"/api/v1/panels/{world.pid}/statements"
    s1 = world.study.statements["S1"].id
    before = await statement_count(session, world.pid)
    changes = [
        ("POST", base, {"text": "Offer video calls."}),
        ("PATCH", f"{base}/{s1}", {"text": "Offer video calls."}),
        ("DELETE", f"{base}/{s1}", None),
        ("POST", f"{base}/import", {"csv": GOOD_FILE, "confirm": True}),
        ("POST", f"{base}/{s1}/move", {"direction": "down"}),
        ("POST", f"{base}/{s1}/draft", {"include": False}),
    ]
    for method, url, body in changes:
        for who, due in ((token, 403), (outsider, 404)):
            answer = await client.request(method, url, json=body, headers=bearer(who))
            assert answer.status_code == due, (method, url, answer.text)
            assert answer.headers["content-type"].startswith(PROBLEM)
    assert (await client.get(f"{base}/{s1}", headers=bearer(token))).status_code == 200  # reading is fine
    assert (await client.get(f"{base}/{s1}", headers=bearer(outsider))).status_code == 404
    assert await statement_count(session, world.pid) == before
    assert await actions(session, world.pid) == []


async def draft_order(session: AsyncSession, panel_id: int, number: int) -> list[int]:
    """The statement ids round ``number`` of the panel asks, in its order, as committed."""
    await session.commit()
    rows = await session.scalars(
        select(RoundStatement.statement_id)
        .join(Round, Round.id == RoundStatement.round_id)
        .where(Round.panel_id == panel_id, Round.number == number)
        .order_by(RoundStatement.position, RoundStatement.statement_id)
    )
    return list(rows.all())


async def test_a_statement_moves_one_place_as_on_the_page_and_the_draft_round_follows(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    world, pid, token = await draft_panel_and_token(session, client, settings)
    s = world.other.statements
    base = f"/api/v1/panels/{pid}/statements"
    moved = await client.post(f"{base}/{s['S2'].id}/move", json={"direction": "up"}, headers=bearer(token))
    assert moved.status_code == 200, moved.text
    assert (moved.json()["id"], moved.json()["position"]) == (s["S2"].id, 0)
    listed = (await client.get(base, headers=bearer(token))).json()
    order = [s["S2"].id, s["S1"].id, s["S3"].id, s["S4"].id]
    assert [x["id"] for x in listed] == order
    assert await draft_order(session, pid, 1) == order  # the round being prepared asks them in the new order
    first = await client.post(f"{base}/{s['S2'].id}/move", json={"direction": "up"}, headers=bearer(token))
    assert first.status_code == 200 and first.json()["position"] == 0  # the first stays first
    await login(client, OUTSIDER)
    page = await post_form(client, f"/panels/{pid}/statements/{s['S2'].id}/move", {"direction": "down"})
    assert page.status_code == 303
    client.cookies.clear()
    back = (await client.get(base, headers=bearer(token))).json()
    assert [x["id"] for x in back] == [s["S1"].id, s["S2"].id, s["S3"].id, s["S4"].id]
    sideways = await client.post(
        f"{base}/{s['S3'].id}/move", json={"direction": "left", "by": 2}, headers=bearer(token)
    )
    assert sideways.status_code == 400 and [e["field"] for e in sideways.json()["errors"]] == [
        "direction",
        "by",
    ]
    nowhere = await client.post(f"{base}/999999/move", json={"direction": "down"}, headers=bearer(token))
    assert nowhere.status_code == 404 and nowhere.headers["content-type"].startswith(PROBLEM)
    assert await actions(session, pid) == ["statement.moved", "statement.moved"]  # the API's, then the page's


async def test_a_statement_leaves_and_rejoins_the_draft_round_once_however_often_it_is_sent(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    world, pid, token = await draft_panel_and_token(session, client, settings)
    s1 = world.other.statements["S1"]
    url = f"/api/v1/panels/{pid}/statements/{s1.id}/draft"
    for _ in range(2):
        dropped = await client.post(url, json={"include": False}, headers=bearer(token))
        assert dropped.status_code == 200, dropped.text
        assert (dropped.json()["round"], dropped.json()["in_draft"]) == (1, False)
        assert dropped.json()["statement"]["id"] == s1.id
    assert s1.id not in await draft_order(session, pid, 1)
    for _ in range(2):
        included = await client.post(url, json={}, headers=bearer(token))
        assert included.status_code == 200 and included.json()["in_draft"] is True
        assert included.json()["statement"]["status"] == "active"
    assert s1.id in await draft_order(session, pid, 1)
    assert await actions(session, pid) == ["statement.dropped", "statement.included"]


async def test_no_statement_joins_or_leaves_a_draft_round_while_none_is_being_prepared(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    world = await build_world(session, settings, rounds=0)  # round 1 open, no round being prepared
    await login(client, OWNER)
    token = await create_token(client, scopes="read write")
    client.cookies.clear()
    s1 = world.study.statements["S1"]
    url = f"/api/v1/panels/{world.pid}/statements/{s1.id}/draft"
    for include in (True, False):
        refused = await client.post(url, json={"include": include}, headers=bearer(token))
        assert refused.status_code == 409 and refused.headers["content-type"].startswith(PROBLEM)
        assert refused.json()["detail"] == (
            "No round is being prepared; statements can be added to or dropped from a draft round only."
        )
    assert await draft_order(session, world.pid, 1) == [s.id for s in world.study.statements.values()]
    assert await actions(session, world.pid) == []
