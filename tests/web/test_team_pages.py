"""The team page, the invitation page and who sees panellists' e-mail addresses (finding 4), through the app."""

from __future__ import annotations

import re

from litestar.testing import AsyncTestClient
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import Account, AuditEvent, OneTimeLink, OutboxMessage, PanelAccess
from delphi.domain import OutboxStatus
from delphi.mail.outbox import enqueue, outbox_row
from delphi.security import one_time_token
from delphi.settings import Settings
from tests.results.helpers import FACILITATOR, OWNER, RESEARCHER, World, build_world, login, post_form

PEOPLE = "@people.example"


async def grant_contact(session: AsyncSession, world: World, email: str = FACILITATOR) -> None:
    account = world.accounts[email]
    await session.execute(
        update(PanelAccess)
        .where(PanelAccess.account_id == account.id, PanelAccess.panel_id == world.pid)
        .values(can_contact=True)
    )
    await session.commit()


async def dead_letter_to_a_panellist(session: AsyncSession, world: World) -> str:
    """A failed message to P-001 whose SMTP error quotes the address; returns the address."""
    person = world.study.panellists[0]
    row = outbox_row(
        dedupe_key="test:dead:1",
        kind="invitation",
        to_address=person.email,
        subject="You're invited",
        body_text="b",
        body_html="<p>b</p>",
        panel_id=world.pid,
        panellist_id=person.id,
    )
    await enqueue(
        session, {**row, "status": OutboxStatus.DEAD.value, "last_error": f"550 <{person.email}> no"}
    )
    await session.commit()
    return person.email


async def invitation_token(session: AsyncSession, settings: Settings, email: str) -> str:
    link = await session.scalar(
        select(OneTimeLink).where(OneTimeLink.email == email, OneTimeLink.used_at.is_(None))
    )
    assert link is not None
    return one_time_token(settings.secret_key, link.id, link.nonce)


# -- finding 4 ------------------------------------------------------------------------------------------------


async def test_a_facilitator_without_the_grant_sees_pseudonyms_only(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    world = await build_world(session, settings, rounds=1)
    address = await dead_letter_to_a_panellist(session, world)
    await login(client, FACILITATOR)
    for page in ("panellists", "mail", "monitor?round=1"):
        response = await client.get(f"/panels/{world.pid}/{page}")
        assert response.status_code == 200, page
        assert PEOPLE not in response.text, page
    mail = await client.get(f"/panels/{world.pid}/mail")
    assert "550 &lt;[address]&gt; no" in mail.text and address not in mail.text
    panellists = await client.get(f"/panels/{world.pid}/panellists")
    assert "P-001" in panellists.text and 'name="email"' in panellists.text  # adding panellists stays
    key = await client.get(f"/panels/{world.pid}/exports/pseudonym-key.csv")
    assert key.status_code == 403
    exports = await client.get(f"/panels/{world.pid}/exports")
    assert "pseudonym-key" not in exports.text
    api = await client.get(f"/api/v1/panels/{world.pid}/panellists")
    assert api.status_code == 200 and all(p["email"] is None for p in api.json())


async def test_a_facilitator_with_the_grant_sees_addresses_and_downloads_the_key(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    world = await build_world(session, settings, rounds=1)
    address = await dead_letter_to_a_panellist(session, world)
    await grant_contact(session, world)
    await login(client, FACILITATOR)
    for page in ("panellists", "mail"):
        assert address in (await client.get(f"/panels/{world.pid}/{page}")).text, page
    key = await client.get(f"/panels/{world.pid}/exports/pseudonym-key.csv")
    assert key.status_code == 200 and address in key.text
    assert (await client.get(f"/panels/{world.pid}/exports/honoraria.csv")).status_code == 403
    api = await client.get(f"/api/v1/panels/{world.pid}/panellists")
    assert address in {p["email"] for p in api.json()}


# -- the team page --------------------------------------------------------------------------------------------


async def test_everyone_on_the_panel_sees_the_team_and_only_the_owner_the_forms(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    world = await build_world(session, settings, rounds=1)
    for who in (FACILITATOR, RESEARCHER):
        client.cookies.clear()
        await login(client, who)
        page = await client.get(f"/panels/{world.pid}/team")
        assert page.status_code == 200
        assert OWNER in page.text and FACILITATOR in page.text and RESEARCHER in page.text
        assert "Share the panel" not in page.text and "Revoke access" not in page.text
        assert f'href="/panels/{world.pid}/team" aria-current="page"' in page.text
        refused = await post_form(
            client, f"/panels/{world.pid}/team", {"email": "x@team.example", "role": "researcher"}
        )
        assert refused.status_code == 403
    client.cookies.clear()
    await login(client, OWNER)
    page = await client.get(f"/panels/{world.pid}/team")
    assert "Share the panel" in page.text and "Revoke access" in page.text


async def test_a_bad_share_is_shown_again_with_every_problem(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    world = await build_world(session, settings, rounds=1)
    await login(client, OWNER)
    response = await post_form(client, f"/panels/{world.pid}/team", {"email": "nobody", "role": "nobody"})
    assert response.status_code == 422
    assert 'class="error-summary"' in response.text
    assert 'href="#email"' in response.text and 'href="#role"' in response.text
    assert 'value="nobody"' in response.text
    grant = await post_form(
        client,
        f"/panels/{world.pid}/team",
        {"email": "r@team.example", "role": "researcher", "can_contact": "on"},
    )
    assert grant.status_code == 403 and 'href="#can_contact"' in grant.text
    again = await post_form(
        client, f"/panels/{world.pid}/team", {"email": FACILITATOR, "role": "facilitator"}
    )
    assert again.status_code == 409 and "has access to this panel already" in again.text
    assert await session.scalar(select(AuditEvent.id).where(AuditEvent.action.like("team.%"))) is None


async def test_an_invitation_is_accepted_on_its_page_and_then_the_account_signs_in(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    world = await build_world(session, settings, rounds=1)
    await login(client, OWNER)
    shared = await post_form(
        client,
        f"/panels/{world.pid}/team",
        {"email": "new@team.example", "role": "facilitator", "can_contact": "on"},
    )
    assert shared.status_code == 303 and shared.headers["location"].endswith("?invited=1")
    page = await client.get(f"/panels/{world.pid}/team")
    assert "new@team.example" in page.text and "works until" in page.text
    assert (
        await session.scalar(select(OutboxMessage.kind).where(OutboxMessage.to_address == "new@team.example"))
    ) == ("team_invitation")
    token = await invitation_token(session, settings, "new@team.example")
    client.cookies.clear()
    invite = await client.get(f"/invitation/{token}")
    assert (
        invite.status_code == 200
        and world.study.panel.title in invite.text
        and "as facilitator" in invite.text
    )
    bad = await post_form(client, f"/invitation/{token}", {"name": "", "password": "short"})
    assert bad.status_code == 422 and 'href="#name"' in bad.text and 'href="#password"' in bad.text
    done = await post_form(
        client,
        f"/invitation/{token}",
        {"name": "Nia New", "password": "a long password", "password_again": "a long password"},
    )
    assert done.status_code == 303 and done.headers["location"].startswith("/login?joined=1")
    login_page = await client.get(done.headers["location"])
    assert "You have joined the panel's team" in login_page.text
    response = await client.post(
        "/login",
        data={"email": "new@team.example", "password": "a long password", "_csrf_token": client.cookies["delphi_csrf"],
              "next": f"/panels/{world.pid}/panellists"},
        follow_redirects=False,
    )  # fmt: skip
    assert response.status_code == 303
    panellists = await client.get(f"/panels/{world.pid}/panellists")
    assert panellists.status_code == 200 and PEOPLE in panellists.text  # invited with the grant
    spent = await client.get(f"/invitation/{token}")
    assert spent.status_code == 404 and "does not work any more" in spent.text


async def test_an_unusable_invitation_link_gets_one_neutral_page(client: AsyncTestClient) -> None:
    for token in ("not-anyones-token", "x" * 500):
        page = await client.get(f"/invitation/{token}")
        assert page.status_code == 404
        assert "does not work any more" in page.text and "Ask the person who invited you" in page.text


async def test_the_owner_changes_and_revokes_a_member_and_access_ends_at_once(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    world = await build_world(session, settings, rounds=1)
    member = world.accounts[FACILITATOR]
    await login(client, OWNER)
    bad = await post_form(
        client, f"/panels/{world.pid}/team/members/{member.id}", {"role": "researcher", "can_contact": "on"}
    )
    assert bad.status_code == 403 and f'href="#can_contact-{member.id}"' in bad.text
    ok = await post_form(
        client, f"/panels/{world.pid}/team/members/{member.id}", {"role": "facilitator", "can_contact": "on"}
    )
    assert ok.status_code == 303
    row = await session.scalar(select(PanelAccess).where(PanelAccess.account_id == member.id))
    await session.refresh(row)
    assert row.can_contact
    owner = world.accounts[OWNER]
    assert (await post_form(client, f"/panels/{world.pid}/team/members/{owner.id}/revoke")).status_code == 403
    owner_cookies = dict(client.cookies)
    client.cookies.clear()
    await login(client, FACILITATOR)
    member_cookies = dict(client.cookies)
    assert (await client.get(f"/panels/{world.pid}")).status_code == 200
    client.cookies.clear()
    client.cookies.update(owner_cookies)
    revoked = await post_form(client, f"/panels/{world.pid}/team/members/{member.id}/revoke")
    assert revoked.status_code == 303
    client.cookies.clear()
    client.cookies.update(member_cookies)  # the member's own signed-in browser, at its next request
    assert (await client.get(f"/panels/{world.pid}")).status_code == 404
    assert (await session.scalar(select(Account.id).where(Account.email == FACILITATOR))) == member.id


async def test_resending_mails_a_new_link_and_withdrawing_stops_it(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    world = await build_world(session, settings, rounds=1)
    await login(client, OWNER)
    await post_form(client, f"/panels/{world.pid}/team", {"email": "late@team.example", "role": "researcher"})
    first = await invitation_token(session, settings, "late@team.example")
    page = await client.get(f"/panels/{world.pid}/team")
    invitation_id = int(re.search(r"/team/invitations/(\d+)/resend", page.text).group(1))
    assert (
        await post_form(client, f"/panels/{world.pid}/team/invitations/{invitation_id}/resend")
    ).status_code == 303
    second = await invitation_token(session, settings, "late@team.example")
    assert second != first
    assert (await client.get(f"/invitation/{first}")).status_code == 404
    assert (await client.get(f"/invitation/{second}")).status_code == 200
    mails = await session.scalars(select(OutboxMessage.id).where(OutboxMessage.kind == "team_invitation"))
    assert len(mails.all()) == 2
    assert (
        await post_form(client, f"/panels/{world.pid}/team/invitations/{invitation_id}/revoke")
    ).status_code == 303
    assert (await client.get(f"/invitation/{second}")).status_code == 404
    assert "late@team.example" not in (await client.get(f"/panels/{world.pid}/team")).text
