"""The API's panellist writes (/api/v1/panels/{id}/panellists...): the panellists page's use cases as JSON.

Adding one, importing a CSV (preview, then the import) and a new personal link: the page's checks, mails and
audit events, e-mail addresses only to those who see contacts, and an ``Idempotency-Key`` that makes a retry
answer the first result without a second panellist, mail or audit event.
"""

from __future__ import annotations

import html
import re

from litestar.testing import AsyncTestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import AuditEvent, OutboxMessage, Panellist, Rating, Submission
from delphi.settings import Settings
from tests.results.helpers import (
    FACILITATOR,
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
)
from tests.study import study_panel

NEW = "new.person@people.example"


async def world_with_token(
    session: AsyncSession, client: AsyncTestClient, settings: Settings, who: str = OWNER, *, rounds: int = 0
) -> tuple[World, str]:
    """:func:`build_world` (``rounds=0``: round 1 open; 1: round 1 closed, no round open) and a token of
    ``who`` that may read and change."""
    world = await build_world(session, settings, rounds=rounds)
    return world, await write_token(client, who)


async def write_token(client: AsyncTestClient, who: str) -> str:
    await login(client, who)
    token = await create_token(client, scopes="read write")
    client.cookies.clear()
    return token


async def count(session: AsyncSession, model: type, *where: object) -> int:
    return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def audits(session: AsyncSession, action: str) -> int:
    return await count(session, AuditEvent, AuditEvent.action == action)


async def mails_to(session: AsyncSession, email: str) -> int:
    return await count(session, OutboxMessage, OutboxMessage.to_address == email)


# --- adding one ------------------------------------------------------------------------------------------


async def test_a_panellist_added_while_a_round_is_open_is_created_with_its_location_and_invited(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    world, token = await world_with_token(session, client, settings)
    group = world.study.groups["practitioners"]
    response = await client.post(
        f"/api/v1/panels/{world.pid}/panellists",
        json={"email": "New.Person@People.example", "group_id": group.id, "name": "New Person"},
        headers=bearer(token),
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["email"] == NEW and body["name"] == "New Person" and body["group_id"] == group.id
    assert body["status"] == "invited" and body["pseudonym"].startswith("P-")
    assert response.headers["location"] == f"/api/v1/panels/{world.pid}/panellists/{body['id']}"
    assert (await client.get(response.headers["location"], headers=bearer(token))).json() == body
    listed = (await client.get(f"/api/v1/panels/{world.pid}/panellists", headers=bearer(token))).json()
    assert body in listed
    assert await mails_to(session, NEW) == 1  # round 1's invitation, at once
    assert await audits(session, "panellist.added") == 1


async def test_a_panellist_added_while_the_panel_is_being_set_up_gets_no_mail_yet(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    world, token = await world_with_token(session, client, settings, rounds=1)
    draft = await study_panel(session, world.accounts[OWNER])
    await session.commit()
    response = await client.post(
        f"/api/v1/panels/{draft.panel.id}/panellists",
        json={"email": NEW, "group_id": draft.groups["users"].id},
        headers=bearer(token),
    )
    assert response.status_code == 201, response.text
    assert await mails_to(session, NEW) == 0
    assert await count(session, Panellist, Panellist.email == NEW) == 1


async def test_a_facilitator_without_the_contact_grant_adds_a_panellist_and_gets_only_the_pseudonym(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    world, token = await world_with_token(session, client, settings, FACILITATOR)
    response = await client.post(
        f"/api/v1/panels/{world.pid}/panellists",
        json={"email": NEW, "group_id": world.study.groups["experts"].id, "name": "Hidden Name"},
        headers=bearer(token),
    )
    assert response.status_code == 201, response.text
    assert response.json()["email"] is None and response.json()["name"] is None
    assert NEW not in response.text and "Hidden Name" not in response.text
    one = await client.get(response.headers["location"], headers=bearer(token))
    assert one.status_code == 200 and one.json()["email"] is None


async def test_an_email_already_on_the_panel_is_refused_and_nothing_is_added(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    world, token = await world_with_token(session, client, settings)
    before = await count(session, Panellist)
    response = await client.post(
        f"/api/v1/panels/{world.pid}/panellists",
        json={"email": "PANELLIST01@people.example", "group_id": world.study.groups["users"].id},
        headers=bearer(token),
    )
    assert response.status_code == 422
    assert response.headers["content-type"].startswith(PROBLEM)
    assert response.json()["errors"] == [
        {"field": "email", "message": "Panellist01@people.example is on this panel already."}
    ]
    assert await count(session, Panellist) == before
    assert await audits(session, "panellist.added") == 0


async def test_every_problem_of_a_new_panellist_is_listed_at_once(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    world, token = await world_with_token(session, client, settings)
    url = f"/api/v1/panels/{world.pid}/panellists"
    before = await count(session, Panellist)
    response = await client.post(
        url,
        json={"email": "not an address", "group_id": 0, "name": "x" * 201, "language": "English", "x": 1},
        headers=bearer(token),
    )
    assert response.status_code == 400
    fields = [e["field"] for e in response.json()["errors"]]
    assert fields == ["email", "group_id", "name", "language", "x"]
    # A group of another panel: the page's refusal, by the field it is about.
    other_group = world.other.groups["users"].id
    response = await client.post(url, json={"email": NEW, "group_id": other_group}, headers=bearer(token))
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "group_id", "message": "Choose the panellist's stakeholder group."}
    ]
    assert await count(session, Panellist) == before


# --- importing ------------------------------------------------------------------------------------------

#: Two rows to import, one on the panel already exactly as written (skipped), and three bad rows.
MIXED = (
    "email,group,name,language\n"
    "ann@people.example,Practitioners,Ann,en\n"
    "panellist01@people.example,Service users,Person 1,en\n"
    "not-an-address,Experts,,\n"
    "bob@people.example,Cats,Bob,en\n"
    "ann@people.example,Experts,Ann again,en\n"
    "cy@people.example,experts,Cai,cy\n"
)
GOOD = "email,group,name\nann@people.example,Practitioners,Ann\ncai@people.example,Experts,Cai\n"


def page_preview(text: str) -> dict[str, object]:
    """The panellist import preview page's rows and problems, read off its HTML."""
    problems = [
        {"field": f"line {line}", "message": html.unescape(message)}
        for line, message in re.findall(r'<tr id="row-(\d+)"><td>\d+</td><td>(.*?)</td></tr>', text)
    ]
    rows = []
    if "Rows that can be imported" in text:
        table = text.split("Rows that can be imported", 1)[1].split("</table>", 1)[0]
        for cells in re.findall(r"<tr>((?:<td>.*?</td>){5})</tr>", table):
            line, email, group, name, language = map(html.unescape, re.findall(r"<td>(.*?)</td>", cells))
            rows.append(
                {"line": int(line), "email": email, "group": group, "name": name, "language": language}
            )
    return {"rows": rows, "problems": problems}


async def test_the_import_preview_is_the_pages_preview_and_stores_nothing(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    world, token = await world_with_token(session, client, settings)
    before = await count(session, Panellist)
    for text in (MIXED, GOOD):
        response = await client.post(
            f"/api/v1/panels/{world.pid}/panellists/import", json={"csv": text}, headers=bearer(token)
        )
        assert response.status_code == 200, response.text
        preview = response.json()
        await login(client, OWNER)
        page = await post_form(client, f"/panels/{world.pid}/panellists/import", {"csv_text": text})
        client.cookies.clear()
        assert {"rows": preview["rows"], "problems": preview["problems"]} == page_preview(page.text)
        assert preview["ready"] is (text == GOOD)
    assert preview["rows"][0] == {
        "line": 2, "email": "ann@people.example", "group": "Practitioners", "name": "Ann", "language": "en"
    }  # fmt: skip
    mixed = (
        await client.post(
            f"/api/v1/panels/{world.pid}/panellists/import", json={"csv": MIXED}, headers=bearer(token)
        )
    ).json()
    assert [p["field"] for p in mixed["problems"]] == ["line 4", "line 5", "line 6"]
    assert mixed["skipped"] == 1 and mixed["ready"] is False
    assert await count(session, Panellist) == before
    assert await audits(session, "panellist.imported") == 0


async def test_a_confirmed_import_adds_the_rows_and_invites_them_to_the_open_round(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    world, token = await world_with_token(session, client, settings)
    response = await client.post(
        f"/api/v1/panels/{world.pid}/panellists/import",
        json={"csv": GOOD, "confirm": True},
        headers=bearer(token),
    )
    assert response.status_code == 201, response.text
    assert response.json() == {"imported": 2, "skipped": 0, "invited": 2}
    listed = (await client.get(f"/api/v1/panels/{world.pid}/panellists", headers=bearer(token))).json()
    assert {p["email"] for p in listed} >= {"ann@people.example", "cai@people.example"}
    assert await mails_to(session, "ann@people.example") == 1
    assert await mails_to(session, "cai@people.example") == 1
    assert await audits(session, "panellist.imported") == 1
    again = await client.post(
        f"/api/v1/panels/{world.pid}/panellists/import",
        json={"csv": GOOD + "dee@people.example,Experts\n", "confirm": True},
        headers=bearer(token),
    )
    assert again.json() == {"imported": 1, "skipped": 2, "invited": 1}


async def test_a_confirmed_import_of_a_bad_file_lists_every_problem_and_stores_nothing(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    world, token = await world_with_token(session, client, settings)
    before = await count(session, Panellist)
    for text in (MIXED, "", "name\nAnn\n"):
        response = await client.post(
            f"/api/v1/panels/{world.pid}/panellists/import",
            json={"csv": text, "confirm": True},
            headers=bearer(token),
        )
        assert response.status_code == 422, (text, response.text)
        assert response.headers["content-type"].startswith(PROBLEM)
        assert response.json()["errors"], text
    assert [e["field"] for e in response.json()["errors"]] == ["line 1"]
    assert await count(session, Panellist) == before
    assert await audits(session, "panellist.imported") == 0
    assert await count(session, OutboxMessage) == 0


# --- a new personal link --------------------------------------------------------------------------------


async def test_a_new_link_stops_the_old_one_and_is_mailed_while_a_round_is_open(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    world, token = await world_with_token(session, client, settings)
    p = world.study.panellists[3]
    old_token = world.study.tokens[3]
    before = await mails_to(session, p.email or "")
    response = await client.post(
        f"/api/v1/panels/{world.pid}/panellists/{p.id}/reissue", headers=bearer(token)
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["mailed"] is True and body["open_round"] == 1
    assert body["panellist"]["id"] == p.id and body["panellist"]["email"] == p.email
    assert await mails_to(session, p.email or "") == before + 1
    assert await audits(session, "panellist.link_reissued") == 1
    assert (await client.get(f"/p/{old_token}", follow_redirects=False)).status_code == 404


async def test_a_new_link_while_no_round_is_open_waits_for_the_next_rounds_mail(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    world, token = await world_with_token(session, client, settings, rounds=1)
    p = world.study.panellists[0]
    before = await count(session, OutboxMessage)
    response = await client.post(
        f"/api/v1/panels/{world.pid}/panellists/{p.id}/reissue", headers=bearer(token)
    )
    assert response.status_code == 200, response.text
    assert response.json()["mailed"] is False and response.json()["open_round"] is None
    assert await count(session, OutboxMessage) == before
    assert await audits(session, "panellist.link_reissued") == 1


async def test_a_new_link_for_a_panellist_of_another_panel_is_not_found(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    world, token = await world_with_token(session, client, settings)
    stranger = world.other.panellists[0].id
    base = f"/api/v1/panels/{world.pid}/panellists/{stranger}"
    assert (await client.post(f"{base}/reissue", headers=bearer(token))).status_code == 404
    assert (await client.get(base, headers=bearer(token))).status_code == 404
    assert await audits(session, "panellist.link_reissued") == 0


# --- Idempotency-Key --------------------------------------------------------------------------------------


async def test_a_retried_add_answers_the_first_result_and_adds_and_mails_nothing_twice(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    world, token = await world_with_token(session, client, settings)
    url = f"/api/v1/panels/{world.pid}/panellists"
    payload = {"email": NEW, "group_id": world.study.groups["users"].id}
    headers = {**bearer(token), "Idempotency-Key": "add-new-person-1"}
    first = await client.post(url, json=payload, headers=headers)
    again = await client.post(url, json=payload, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotency-replayed"] == "true" and "idempotency-replayed" not in first.headers
    assert again.headers["location"] == first.headers["location"]
    assert await count(session, Panellist, Panellist.email == NEW) == 1
    assert await mails_to(session, NEW) == 1
    assert await audits(session, "panellist.added") == 1
    other = await client.post(url, json={**payload, "name": "Someone else"}, headers=headers)
    assert other.status_code == 422
    assert other.json()["errors"][0]["field"] == "Idempotency-Key"


async def test_a_retried_import_answers_the_first_result_and_imports_and_mails_nothing_twice(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    world, token = await world_with_token(session, client, settings)
    url = f"/api/v1/panels/{world.pid}/panellists/import"
    headers = {**bearer(token), "Idempotency-Key": "import-2026-03"}
    first = await client.post(url, json={"csv": GOOD, "confirm": True}, headers=headers)
    again = await client.post(url, json={"csv": GOOD, "confirm": True}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() == {"imported": 2, "skipped": 0, "invited": 2}
    assert again.headers["idempotency-replayed"] == "true"
    assert await mails_to(session, "ann@people.example") == 1
    assert await audits(session, "panellist.imported") == 1
    other = await client.post(url, json={"csv": GOOD, "confirm": False}, headers=headers)
    assert other.status_code == 422


async def test_a_retried_new_link_answers_the_first_result_and_mails_nothing_twice(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    world, token = await world_with_token(session, client, settings)
    p = world.study.panellists[5]
    before = await mails_to(session, p.email or "")
    url = f"/api/v1/panels/{world.pid}/panellists/{p.id}/reissue"
    headers = {**bearer(token), "Idempotency-Key": "new-link-p006"}
    first = await client.post(url, headers=headers)
    again = await client.post(url, headers=headers)
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json() and again.headers["idempotency-replayed"] == "true"
    assert await mails_to(session, p.email or "") == before + 1
    assert await audits(session, "panellist.link_reissued") == 1
    versions = await session.scalar(select(Panellist.session_version).where(Panellist.id == p.id))
    assert versions == 2
    elsewhere = await client.post(
        f"/api/v1/panels/{world.pid}/panellists/{world.study.panellists[6].id}/reissue", headers=headers
    )
    assert elsewhere.status_code == 422


# --- who may ----------------------------------------------------------------------------------------------


async def test_a_researcher_may_not_add_import_or_reissue(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    world, token = await world_with_token(session, client, settings, RESEARCHER)
    base = f"/api/v1/panels/{world.pid}/panellists"
    p = world.study.panellists[0]
    for url, payload in (
        (base, {"email": NEW, "group_id": world.study.groups["users"].id}),
        (f"{base}/import", {"csv": GOOD, "confirm": True}),
        (f"{base}/{p.id}/reissue", None),
    ):
        response = await client.post(url, json=payload, headers=bearer(token))
        assert response.status_code == 403, url
        assert response.headers["content-type"].startswith(PROBLEM)
    one = await client.get(f"{base}/{p.id}", headers=bearer(token))
    assert one.status_code == 200 and one.json()["email"] is None
    assert await count(session, Panellist, Panellist.email.in_([NEW, "ann@people.example"])) == 0
    assert await audits(session, "panellist.link_reissued") == 0


async def test_an_account_without_access_to_the_panel_gets_not_found(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    world, token = await world_with_token(session, client, settings, OUTSIDER)
    base = f"/api/v1/panels/{world.pid}/panellists"
    p = world.study.panellists[0]
    for url, payload in (
        (base, {"email": NEW, "group_id": world.study.groups["users"].id}),
        (f"{base}/import", {"csv": GOOD}),
        (f"{base}/{p.id}/reissue", None),
    ):
        response = await client.post(url, json=payload, headers=bearer(token))
        assert response.status_code == 404, url
    assert (await client.get(f"{base}/{p.id}", headers=bearer(token))).status_code == 404
    assert await count(session, Panellist, Panellist.email == NEW) == 0


# --- erasing one's personal data ---------------------------------------------------------------------------


async def fresh(session: AsyncSession, panellist_id: int) -> Panellist:
    """The panellist as the app has committed it."""
    await session.commit()
    return (
        await session.scalars(
            select(Panellist).where(Panellist.id == panellist_id).execution_options(populate_existing=True)
        )
    ).one()


async def test_erasing_without_confirm_erases_nothing_and_says_what_would_go(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    world, token = await world_with_token(session, client, settings, rounds=1)
    p = world.study.panellists[0]
    url = f"/api/v1/panels/{world.pid}/panellists/{p.id}/erase"
    for body in ({}, {"confirm": False, "delete_ratings": True}):
        response = await client.post(url, json=body, headers=bearer(token))
        assert response.status_code == 422, body
        assert response.headers["content-type"].startswith(PROBLEM)
        (error,) = response.json()["errors"]
        assert error["field"] == "confirm" and error["message"].startswith(
            f"Erasing {p.pseudonym}'s e-mail address"
        )
    assert (await fresh(session, p.id)).email == p.email
    assert await audits(session, "panellist.erased") == 0
    assert (await client.get(f"/p/{world.study.tokens[0]}", follow_redirects=False)).status_code == 303


async def test_the_owner_erases_a_panellist_who_keeps_the_pseudonym_and_ratings_and_loses_link_and_mail(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    world, token = await world_with_token(session, client, settings, rounds=1)
    p = world.study.panellists[0]
    session.add(
        OutboxMessage(
            dedupe_key=f"test:reminder:p{p.id}",
            kind="reminder",
            panel_id=world.pid,
            panellist_id=p.id,
            to_address=p.email,
            subject="A reminder",
            body_text="...",
            body_html="...",
        )
    )
    await session.commit()
    ratings = await count(session, Rating, Rating.panellist_id == p.id)
    assert ratings > 0
    response = await client.post(
        f"/api/v1/panels/{world.pid}/panellists/{p.id}/erase", json={"confirm": True}, headers=bearer(token)
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["ratings_deleted"] is False
    assert body["panellist"] == {
        "id": p.id,
        "pseudonym": p.pseudonym,
        "group_id": p.group_id,
        "status": "withdrawn",
        "email": None,
        "name": "",
    }
    erased = await fresh(session, p.id)
    assert (erased.email, erased.name, erased.token_hash) == (None, "", None) and erased.erased_at
    assert await count(session, Rating, Rating.panellist_id == p.id) == ratings  # kept, under the pseudonym
    mail = (await session.scalars(select(OutboxMessage).where(OutboxMessage.panellist_id == p.id))).one()
    assert (mail.status, mail.to_address) == ("cancelled", "")
    assert await audits(session, "panellist.erased") == 1
    assert (await client.get(f"/p/{world.study.tokens[0]}", follow_redirects=False)).status_code == 404


async def test_erasing_with_delete_ratings_deletes_their_ratings_and_submissions_too(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    world, token = await world_with_token(session, client, settings, rounds=1)
    p = world.study.panellists[1]
    response = await client.post(
        f"/api/v1/panels/{world.pid}/panellists/{p.id}/erase",
        json={"confirm": True, "delete_ratings": True},
        headers=bearer(token),
    )
    assert response.status_code == 200 and response.json()["ratings_deleted"] is True
    assert await count(session, Rating, Rating.panellist_id == p.id) == 0
    assert await count(session, Submission, Submission.panellist_id == p.id) == 0
    event = await session.scalar(select(AuditEvent).where(AuditEvent.action == "panellist.erased"))
    assert event.detail == {"pseudonym": p.pseudonym, "ratings_deleted": True}


async def test_only_the_owner_erases_and_a_panellist_of_another_panel_is_not_found(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    world, owner = await world_with_token(session, client, settings, rounds=1)
    p = world.study.panellists[0]
    url = f"/api/v1/panels/{world.pid}/panellists/{p.id}/erase"
    for who in (FACILITATOR, RESEARCHER):
        refused = await client.post(
            url, json={"confirm": True}, headers=bearer(await write_token(client, who))
        )
        assert refused.status_code == 403, who
        assert refused.json()["detail"].startswith("Only the panel's owner can do this")
    outsider = await write_token(client, OUTSIDER)
    assert (await client.post(url, json={"confirm": True}, headers=bearer(outsider))).status_code == 404
    theirs = f"/api/v1/panels/{world.pid}/panellists/{world.other.panellists[0].id}/erase"
    assert (await client.post(theirs, json={"confirm": True}, headers=bearer(owner))).status_code == 404
    assert (await fresh(session, p.id)).email == p.email
    assert (await fresh(session, world.other.panellists[0].id)).email is not None
    assert await audits(session, "panellist.erased") == 0
