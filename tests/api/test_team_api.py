"""The team API (/api/v1/panels/{id}/team): the team page's use cases, with RFC 9457 problems for refusals."""

from __future__ import annotations

from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import AuditEvent, OneTimeLink, OutboxMessage
from delphi.settings import Settings
from tests.results.helpers import FACILITATOR, OWNER, PROBLEM, RESEARCHER, bearer, world_and_token


async def test_the_owner_shares_changes_and_revokes_through_the_api(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    world, token = await world_and_token(session, client, settings, OWNER)
    base = f"/api/v1/panels/{world.pid}/team"
    team = (await client.get(base, headers=bearer(token))).json()
    assert [(m["email"], m["role"], m["sees_contacts"]) for m in team["members"]] == [
        (OWNER, "owner", True),
        (FACILITATOR, "facilitator", False),
        (RESEARCHER, "researcher", False),
    ]
    invited = await client.post(
        base,
        json={"email": "New@Team.example", "role": "facilitator", "can_contact": True},
        headers=bearer(token),
    )
    assert invited.status_code == 201, invited.text
    body = invited.json()
    assert body["outcome"] == "invited" and body["invitation"]["email"] == "new@team.example"
    assert body["invitation"]["usable"] and body["member"] is None
    assert await session.scalar(select(OneTimeLink.id).where(OneTimeLink.email == "new@team.example"))
    member = world.accounts[FACILITATOR]
    changed = await client.patch(
        f"{base}/members/{member.id}", json={"can_contact": True}, headers=bearer(token)
    )
    assert changed.status_code == 200 and changed.json()["sees_contacts"] is True
    revoked = await client.delete(f"{base}/members/{member.id}", headers=bearer(token))
    assert revoked.status_code == 204
    withdrawn = await client.delete(f"{base}/invitations/{body['invitation']['id']}", headers=bearer(token))
    assert withdrawn.status_code == 204
    team = (await client.get(base, headers=bearer(token))).json()
    assert FACILITATOR not in [m["email"] for m in team["members"]] and team["invitations"] == []
    actions = (await session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("team.%")))).all()
    assert sorted(actions) == ["team.changed", "team.invitation_revoked", "team.invited", "team.revoked"]


async def test_sharing_with_an_account_answers_with_the_member_and_mails_a_notice(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    world, token = await world_and_token(session, client, settings, OWNER)
    outsider = world.accounts["outsider@facilitators.example"]
    shared = await client.post(
        f"/api/v1/panels/{world.pid}/team",
        json={"email": outsider.email, "role": "researcher"},
        headers=bearer(token),
    )
    assert shared.status_code == 201
    assert shared.json()["member"]["account_id"] == outsider.id
    kind = await session.scalar(select(OutboxMessage.kind).where(OutboxMessage.to_address == outsider.email))
    assert kind == "team_access"


async def test_refusals_are_problems_with_their_reason(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    world, token = await world_and_token(session, client, settings, OWNER)
    base = f"/api/v1/panels/{world.pid}/team"
    cases = [
        (
            "POST",
            base,
            {"email": "r@team.example", "role": "researcher", "can_contact": True},
            403,
            "Researchers",
        ),
        ("POST", base, {"email": "not an address", "role": "researcher"}, 400, ""),
        ("POST", base, {"email": FACILITATOR, "role": "researcher"}, 409, "already"),
        ("POST", base, {"email": "x@team.example", "role": "owner"}, 400, ""),
        (
            "PATCH",
            f"{base}/members/{world.accounts[OWNER].id}",
            {"role": "researcher"},
            403,
            "owner's own access",
        ),
        ("PATCH", f"{base}/members/999999", {"role": "researcher"}, 404, "no such member"),
        ("DELETE", f"{base}/invitations/999999", None, 404, "no such pending invitation"),
    ]
    for method, url, body, status, words in cases:
        response = await client.request(method, url, json=body, headers=bearer(token))
        assert response.status_code == status, (method, url, response.text)
        assert response.headers["content-type"].startswith(PROBLEM)
        assert words in response.json()["detail"], response.json()
    assert await session.scalar(select(AuditEvent.id).where(AuditEvent.action.like("team.%"))) is None


async def test_a_facilitator_reads_the_team_but_cannot_change_it(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    world, token = await world_and_token(session, client, settings, FACILITATOR)
    base = f"/api/v1/panels/{world.pid}/team"
    assert (await client.get(base, headers=bearer(token))).status_code == 200
    refused = await client.post(
        base, json={"email": "x@team.example", "role": "researcher"}, headers=bearer(token)
    )
    assert refused.status_code == 403 and "Only the panel's owner" in refused.json()["detail"]
