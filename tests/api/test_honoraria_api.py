"""The honoraria API (/api/v1/panels/{id}/honoraria): the owed/paid/due sheet as JSON, recording and deleting
payments through the honoraria page's use cases, with its checks, audit events and access; on both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from litestar.testing import AsyncTestClient
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import AuditEvent, Panel, PanelAccess, Payment
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
    world_and_token,
)

PEOPLE = "@people.example"


async def token_of(client: AsyncTestClient, who: str) -> str:
    await login(client, who)
    token = await create_token(client, scopes="read write")
    client.cookies.clear()
    return token


async def count(session: AsyncSession, model: type, *where: object) -> int:
    await session.commit()  # a fresh snapshot: what the app has committed since
    return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def url(world: World, rest: str = "") -> str:
    return f"/api/v1/panels/{world.pid}/honoraria{rest}"


def today() -> str:
    return datetime.now(UTC).date().isoformat()


async def test_the_sheet_owes_the_honorarium_per_round_submitted_and_a_payment_lowers_what_is_due(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    world, token = await world_and_token(session, client, settings, OWNER)
    sheet = (await client.get(url(world), headers=bearer(token))).json()
    assert (sheet["currency"], sheet["minor_per_major"], sheet["honorarium_minor"]) == ("GBP", 100, 1500)
    first = world.study.panellists[0]
    line = next(x for x in sheet["lines"] if x["panellist_id"] == first.id)
    assert (line["pseudonym"], line["email"], line["name"]) == (first.pseudonym, first.email, first.name)
    assert (line["rounds"], line["owed_minor"], line["paid_minor"], line["due_minor"]) == (1, 1500, 0, 1500)

    recorded = await client.post(
        url(world, f"/{first.id}/payments"),
        json={"amount_minor": 2000, "method": "voucher", "reference": " V-17 "},
        headers=bearer(token),
    )
    assert recorded.status_code == 201, recorded.text
    payment = recorded.json()
    assert (payment["amount_minor"], payment["method"], payment["reference"], payment["paid_on"]) == (
        2000,
        "voucher",
        "V-17",
        today(),
    )
    assert recorded.headers["location"] == url(world, f"/payments/{payment['id']}")
    read = await client.get(recorded.headers["location"], headers=bearer(token))
    assert read.status_code == 200 and read.json() == payment

    after = (await client.get(url(world), headers=bearer(token))).json()
    line = next(x for x in after["lines"] if x["panellist_id"] == first.id)
    assert (line["paid_minor"], line["due_minor"], line["overpaid"]) == (2000, -500, True)
    assert line["payments"] == [payment]
    assert after["totals"]["paid_minor"] == 2000
    assert after["totals"]["due_minor"] == sheet["totals"]["due_minor"] - 2000
    event = await session.scalar(select(AuditEvent).where(AuditEvent.action == "payment.recorded"))
    assert event.detail["amount"] == "£20.00" and event.detail["panellist"] == first.pseudonym
    assert PEOPLE not in str(event.detail)  # the trail keeps pseudonyms, never an address


async def test_a_retried_payment_with_the_same_key_is_recorded_once(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    world, token = await world_and_token(session, client, settings, FACILITATOR)
    target = url(world, f"/{world.study.panellists[1].id}/payments")
    body = {"amount_minor": 1500, "method": "cash", "paid_on": today()}
    headers = {**bearer(token), "Idempotency-Key": "pay-p002-round-1"}
    first = await client.post(target, json=body, headers=headers)
    again = await client.post(target, json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.headers["idempotency-replayed"] == "true"
    assert again.json() == first.json() and again.headers["location"] == first.headers["location"]
    assert await count(session, Payment) == 1
    assert await count(session, AuditEvent, AuditEvent.action == "payment.recorded") == 1


async def test_every_problem_of_a_payment_is_listed_at_once_and_nothing_is_recorded(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    world, token = await world_and_token(session, client, settings, OWNER)
    target = url(world, f"/{world.study.panellists[0].id}/payments")
    tomorrow = (datetime.now(UTC).date() + timedelta(days=1)).isoformat()
    refused = await client.post(
        target,
        json={"amount_minor": 10_000_001, "method": "cash", "paid_on": tomorrow, "reference": "r" * 201},
        headers=bearer(token),
    )
    assert refused.status_code == 422
    assert refused.headers["content-type"].startswith(PROBLEM)
    assert refused.json()["errors"] == [
        {"field": "amount_minor", "message": "The amount can be at most £100,000.00."},
        {"field": "paid_on", "message": "The date cannot be in the future."},
        {"field": "reference", "message": "The reference can be at most 200 characters; it has 201."},
    ]
    # What the body's schema refuses, every field at once: no amount above 0, a method that is none, no date.
    malformed = await client.post(
        target, json={"amount_minor": 0, "method": "cheque", "paid_on": "yesterday"}, headers=bearer(token)
    )
    assert malformed.status_code == 400
    assert {e["field"] for e in malformed.json()["errors"]} == {"amount_minor", "method", "paid_on"}
    assert await count(session, Payment) == 0
    assert await count(session, AuditEvent, AuditEvent.action == "payment.recorded") == 0


async def test_a_payment_is_deleted_once_and_the_audit_trail_keeps_what_it_was(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    world, token = await world_and_token(session, client, settings, OWNER)
    recorded = await client.post(
        url(world, f"/{world.study.panellists[0].id}/payments"),
        json={"amount_minor": 1550, "method": "bank_transfer"},
        headers=bearer(token),
    )
    location = recorded.headers["location"]
    assert (await client.delete(location, headers=bearer(token))).status_code == 204
    assert (await client.get(location, headers=bearer(token))).status_code == 404
    again = await client.delete(location, headers=bearer(token))
    assert again.status_code == 404 and again.json()["detail"] == "There is no such payment on this panel."
    assert await count(session, Payment) == 0
    event = await session.scalar(select(AuditEvent).where(AuditEvent.action == "payment.deleted"))
    assert (event.detail["amount"], event.detail["method"]) == ("£15.50", "bank transfer")


async def test_names_and_addresses_are_only_for_those_who_see_contacts_and_researchers_only_read(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    world = await build_world(session, settings, rounds=1)
    for who in (FACILITATOR, RESEARCHER):
        token = await token_of(client, who)
        sheet = await client.get(url(world), headers=bearer(token))
        assert sheet.status_code == 200
        assert PEOPLE not in sheet.text and "Person 1" not in sheet.text
        assert all(x["email"] is None and x["name"] is None for x in sheet.json()["lines"])
    await session.execute(
        update(PanelAccess)
        .where(PanelAccess.account_id == world.accounts[FACILITATOR].id, PanelAccess.panel_id == world.pid)
        .values(can_contact=True)
    )
    await session.commit()
    granted = await client.get(url(world), headers=bearer(await token_of(client, FACILITATOR)))
    assert PEOPLE in granted.text

    researcher = await token_of(client, RESEARCHER)
    pid = world.study.panellists[0].id
    refused = await client.post(
        url(world, f"/{pid}/payments"),
        json={"amount_minor": 100, "method": "cash"},
        headers=bearer(researcher),
    )
    assert refused.status_code == 403
    outsider = await token_of(client, OUTSIDER)
    assert (await client.get(url(world), headers=bearer(outsider))).status_code == 404
    # A panellist of another panel, on the outsider's own panel: no such panellist there.
    elsewhere = await client.post(
        f"/api/v1/panels/{world.other.panel.id}/honoraria/{pid}/payments",
        json={"amount_minor": 100, "method": "cash"},
        headers=bearer(outsider),
    )
    assert elsewhere.status_code == 404
    assert elsewhere.json()["detail"] == "There is no such panellist on this panel."
    assert await count(session, Payment) == 0


async def test_a_panel_without_an_honorarium_owes_nothing_and_still_takes_payments(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    world, token = await world_and_token(session, client, settings, OWNER)
    await session.execute(update(Panel).where(Panel.id == world.pid).values(honorarium_minor=None))
    await session.commit()
    pid = world.study.panellists[0].id
    recorded = await client.post(
        url(world, f"/{pid}/payments"), json={"amount_minor": 800, "method": "other"}, headers=bearer(token)
    )
    assert recorded.status_code == 201, recorded.text
    sheet = (await client.get(url(world), headers=bearer(token))).json()
    assert sheet["honorarium_minor"] is None
    line = next(x for x in sheet["lines"] if x["panellist_id"] == pid)
    assert (line["owed_minor"], line["paid_minor"], line["due_minor"], line["overpaid"]) == (
        None,
        800,
        None,
        False,
    )
    assert sheet["totals"] == {
        "rounds": sheet["totals"]["rounds"],
        "owed_minor": None,
        "paid_minor": 800,
        "due_minor": None,
    }
