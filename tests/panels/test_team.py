"""The team use cases (delphi.panels.team) and their mail (delphi.mail.team), on both backends."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from delphi import accounts, audit
from delphi.db.models import Account, AuditEvent, OneTimeLink, OutboxMessage, PanelAccess, utcnow
from delphi.domain import PanelRole
from delphi.errors import Conflict, Forbidden, InvalidInput, NotFound
from delphi.mail.team import notify_shared
from delphi.panels import team
from delphi.panels.access import can_see_contacts, load_panel_grant
from delphi.security import one_time_token
from tests.conftest import TEST_SECRET
from tests.factories import PASSWORD, World, build_panel, make_account

OWNER = "owner@team.example"
FACILITATOR = "facilitator@team.example"
BASE = "http://testserver.local"


async def panel_with_team(session: AsyncSession) -> World:
    world = await build_panel(session, access={"owner": OWNER, "facilitator": FACILITATOR})
    await session.commit()
    return world


async def rolled_back(session: AsyncSession, world: World) -> None:
    """Roll back a refused change and reload the rows the test goes on using (the rollback expires them)."""
    await session.rollback()
    for row in (world.panel, *world.accounts.values()):
        await session.refresh(row)


def token_of(link: OneTimeLink) -> str:
    """The token delivery puts in the mail (the database keeps only its digest)."""
    return one_time_token(TEST_SECRET, link.id, link.nonce)


async def share(
    session: AsyncSession, world: World, email: str, role: str = "facilitator", **kw
) -> team.Shared:
    owner = world.accounts["owner"]
    shared = await team.share(
        session, world.panel, by=owner, email=email, role=role, can_contact=kw.pop("can_contact", False),
        secret_key=TEST_SECRET, **kw,
    )  # fmt: skip
    await notify_shared(session, world.panel, shared, by=owner, base_url=BASE)
    await session.commit()
    return shared


async def actions(session: AsyncSession, panel_id: int) -> list[str]:
    rows = await session.scalars(
        select(AuditEvent.action).where(AuditEvent.panel_id == panel_id).order_by(AuditEvent.id)
    )
    return list(rows)


def test_contacts_are_seen_by_the_owner_by_granted_facilitators_and_never_by_researchers() -> None:
    assert can_see_contacts(PanelRole.OWNER, False)
    assert can_see_contacts(PanelRole.FACILITATOR, True)
    assert not can_see_contacts(PanelRole.FACILITATOR, False)
    assert not can_see_contacts(PanelRole.RESEARCHER, True)


async def test_sharing_with_an_existing_account_gives_access_now_and_mails_a_notice(
    session: AsyncSession,
) -> None:
    world = await panel_with_team(session)
    colleague = await make_account(session, "colleague@team.example", "researcher")
    await session.commit()
    shared = await share(session, world, "  Colleague@Team.example ", "researcher")
    assert shared.access is not None and shared.invitation is None
    _, role, sees = await load_panel_grant(session, colleague, world.panel.id)
    assert (role, sees) == (PanelRole.RESEARCHER, False)
    mail = (await session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "team_access"))).one()
    assert mail.to_address == "colleague@team.example"
    assert world.panel.title not in mail.subject
    assert f"{BASE}/panels/{world.panel.id}" in mail.body_text
    assert await actions(session, world.panel.id) == ["team.shared"]
    event = await session.scalar(select(AuditEvent).where(AuditEvent.action == "team.shared"))
    assert event.account_id == colleague.id
    assert audit.describe(event.action, event.detail) == (
        "colleague@team.example was given access to the panel as researcher (may contact panellists: no)."
    )


async def test_sharing_with_a_new_address_invites_with_a_link_that_delivery_fills(
    session: AsyncSession,
) -> None:
    world = await panel_with_team(session)
    shared = await share(session, world, "new@team.example", "facilitator", can_contact=True)
    assert shared.invitation is not None and shared.link is not None
    assert shared.link.expires_at - shared.link.created_at == timedelta(days=7)
    mail = (await session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "team_invitation"))).one()
    assert mail.link_id == shared.link.id and "[[delphi:one-time-link]]" in mail.body_text
    assert token_of(shared.link) not in mail.body_text + mail.body_html
    listed = await team.list_team(session, world.panel.id)
    assert [(i.email, i.role, i.can_contact, i.usable) for i in listed.invitations] == [
        ("new@team.example", PanelRole.FACILITATOR, True, True)
    ]
    assert [m.email for m in listed.members] == [OWNER, FACILITATOR]
    assert await actions(session, world.panel.id) == ["team.invited"]


async def test_accepting_creates_the_account_and_the_access_in_one_go(session: AsyncSession) -> None:
    world = await panel_with_team(session)
    shared = await share(session, world, "new@team.example", "facilitator", can_contact=True)
    view = await team.view_invitation(session, token_of(shared.link))
    assert view is not None and not view.has_account and view.panel_title == world.panel.title
    accepted = await team.accept_invitation(
        session,
        token_of(shared.link),
        name="Nia New",
        password="a long password",
        password_again="a long password",
    )
    await session.commit()
    assert accepted is not None and accepted.created and accepted.role == PanelRole.FACILITATOR
    account = await accounts.authenticate(session, "new@team.example", "a long password")
    assert (account.name, account.role) == ("Nia New", "facilitator")
    _, role, sees = await load_panel_grant(session, account, world.panel.id)
    assert (role, sees) == (PanelRole.FACILITATOR, True)
    assert (await team.list_team(session, world.panel.id)).invitations == []
    assert await actions(session, world.panel.id) == ["team.invited", "team.invitation_accepted"]


async def test_a_researcher_invitation_makes_a_researcher_account(session: AsyncSession) -> None:
    world = await panel_with_team(session)
    shared = await share(session, world, "reader@team.example", "researcher")
    await team.accept_invitation(
        session, token_of(shared.link), name="R", password="x" * 12, password_again="x" * 12
    )
    await session.commit()
    account = await session.scalar(select(Account).where(Account.email == "reader@team.example"))
    assert account.role == "researcher"


async def test_the_link_works_once(session: AsyncSession) -> None:
    world = await panel_with_team(session)
    shared = await share(session, world, "new@team.example")
    token = token_of(shared.link)
    assert await team.accept_invitation(session, token, name="N", password="x" * 12, password_again="x" * 12)
    await session.commit()
    assert await team.view_invitation(session, token) is None
    assert (
        await team.accept_invitation(session, token, name="N", password="y" * 12, password_again="y" * 12)
        is None
    )


async def test_a_bad_password_is_refused_before_the_link_is_spent(session: AsyncSession) -> None:
    world = await panel_with_team(session)
    token = token_of((await share(session, world, "new@team.example")).link)
    with pytest.raises(InvalidInput) as caught:
        await team.accept_invitation(session, token, name="", password="short", password_again="")
    assert [f for f, _ in caught.value.errors] == ["name", "password", "password_again"]
    await rolled_back(session, world)
    # longer than the login form reads (1,000 characters): it could never be used to sign in
    with pytest.raises(InvalidInput, match="at most 1000"):
        await team.accept_invitation(session, token, name="N", password="x" * 1001, password_again="x" * 1001)
    await rolled_back(session, world)
    with pytest.raises(InvalidInput, match="not the same"):
        await team.accept_invitation(session, token, name="N", password="x" * 12, password_again="y" * 12)
    await rolled_back(session, world)
    assert await team.view_invitation(session, token) is not None


async def test_an_expired_link_and_a_resent_invitations_old_link_are_refused(session: AsyncSession) -> None:
    world = await panel_with_team(session)
    shared = await share(session, world, "late@team.example", now=utcnow() - timedelta(days=8))
    assert await team.view_invitation(session, token_of(shared.link)) is None
    assert not (await team.list_team(session, world.panel.id)).invitations[0].usable
    again = await team.resend_invitation(
        session, world.panel, shared.invitation.id, by=world.accounts["owner"], secret_key=TEST_SECRET
    )
    await notify_shared(session, world.panel, again, by=world.accounts["owner"], base_url=BASE)
    await session.commit()
    newer = await team.resend_invitation(
        session, world.panel, shared.invitation.id, by=world.accounts["owner"], secret_key=TEST_SECRET
    )
    await notify_shared(session, world.panel, newer, by=world.accounts["owner"], base_url=BASE)
    await session.commit()
    assert await team.view_invitation(session, token_of(again.link)) is None  # spent by the newer one
    assert await team.view_invitation(session, token_of(newer.link)) is not None
    mails = (
        await session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "team_invitation"))
    ).all()
    assert len(mails) == 3
    assert (await actions(session, world.panel.id)).count("team.invitation_resent") == 2


async def test_an_address_that_meanwhile_got_an_account_just_gets_the_access(session: AsyncSession) -> None:
    world = await panel_with_team(session)
    shared = await share(session, world, "both@team.example", "facilitator")
    await make_account(session, "both@team.example", "researcher")
    await session.commit()
    view = await team.view_invitation(session, token_of(shared.link))
    assert view is not None and view.has_account
    accepted = await team.accept_invitation(session, token_of(shared.link))
    await session.commit()
    assert accepted is not None and not accepted.created
    account = await accounts.authenticate(session, "both@team.example", PASSWORD)  # its password is unchanged
    _, role, _ = await load_panel_grant(session, account, world.panel.id)
    assert role == PanelRole.FACILITATOR


async def test_sharing_twice_or_with_a_pending_address_is_a_clear_conflict(session: AsyncSession) -> None:
    world = await panel_with_team(session)
    with pytest.raises(Conflict, match="has access to this panel already, as facilitator"):
        await share(session, world, FACILITATOR)
    await rolled_back(session, world)
    await share(session, world, "new@team.example")
    with pytest.raises(Conflict, match="invited already"):
        await share(session, world, "NEW@team.example")


async def test_bad_input_is_refused_with_every_problem(session: AsyncSession) -> None:
    world = await panel_with_team(session)
    with pytest.raises(InvalidInput) as caught:
        await share(session, world, "not an address", "owner")
    assert [f for f, _ in caught.value.errors] == ["email", "role"]
    await rolled_back(session, world)
    with pytest.raises(team.GrantRefused, match="Researchers never see"):
        await share(session, world, "r@team.example", "researcher", can_contact=True)


async def test_changing_a_member_sets_role_and_grant_and_researchers_never_keep_it(
    session: AsyncSession,
) -> None:
    world = await panel_with_team(session)
    owner, member = world.accounts["owner"], world.accounts["facilitator"]
    changed = await team.change_member(session, world.panel, member.id, by=owner, can_contact=True)
    await session.commit()
    assert changed.sees_contacts
    with pytest.raises(team.GrantRefused, match="Researchers never see"):
        await team.change_member(
            session, world.panel, member.id, by=owner, role="researcher", can_contact=True
        )
    await rolled_back(session, world)
    changed = await team.change_member(session, world.panel, member.id, by=owner, role="researcher")
    await session.commit()
    assert (changed.role, changed.can_contact) == (PanelRole.RESEARCHER, False)
    row = await session.scalar(select(PanelAccess).where(PanelAccess.account_id == member.id))
    assert (row.role, row.can_contact) == ("researcher", False)
    assert await actions(session, world.panel.id) == ["team.changed", "team.changed"]


async def test_revoking_ends_access_at_once(session: AsyncSession) -> None:
    world = await panel_with_team(session)
    member = world.accounts["facilitator"]
    assert (
        await team.revoke_member(session, world.panel, member.id, by=world.accounts["owner"]) == FACILITATOR
    )
    await session.commit()
    with pytest.raises(NotFound):
        await load_panel_grant(session, member, world.panel.id)
    assert await actions(session, world.panel.id) == ["team.revoked"]


async def test_a_withdrawn_invitation_link_stops_working(session: AsyncSession) -> None:
    world = await panel_with_team(session)
    shared = await share(session, world, "new@team.example")
    await team.revoke_invitation(session, world.panel, shared.invitation.id, by=world.accounts["owner"])
    await session.commit()
    assert await team.view_invitation(session, token_of(shared.link)) is None
    assert await team.accept_invitation(session, token_of(shared.link), name="N", password="x" * 12,
                                        password_again="x" * 12) is None  # fmt: skip
    with pytest.raises(NotFound):
        await team.revoke_invitation(session, world.panel, shared.invitation.id, by=world.accounts["owner"])
    assert await actions(session, world.panel.id) == ["team.invited", "team.invitation_revoked"]


async def test_only_the_owner_manages_the_team_and_the_owners_row_is_left_alone(
    session: AsyncSession,
) -> None:
    world = await panel_with_team(session)
    owner, member = world.accounts["owner"], world.accounts["facilitator"]
    with pytest.raises(Forbidden, match="Only the panel's owner"):
        await team.share(
            session, world.panel, by=member, email="x@team.example", role="researcher", can_contact=False,
            secret_key=TEST_SECRET,
        )  # fmt: skip
    with pytest.raises(Forbidden):
        await team.revoke_member(session, world.panel, owner.id, by=member)
    with pytest.raises(Forbidden, match="owner's own access"):
        await team.revoke_member(session, world.panel, owner.id, by=owner)
    with pytest.raises(Forbidden, match="owner's own access"):
        await team.change_member(session, world.panel, owner.id, by=owner, role="researcher")
    with pytest.raises(NotFound):
        await team.change_member(session, world.panel, 999_999, by=owner, role="researcher")
    admin = await make_account(session, "admin@team.example", "admin")
    await session.commit()
    assert (await share_as(session, world, admin, "via-admin@team.example")).invitation is not None


async def share_as(session: AsyncSession, world: World, by: Account, email: str) -> team.Shared:
    shared = await team.share(
        session, world.panel, by=by, email=email, role="researcher", can_contact=False, secret_key=TEST_SECRET
    )
    await session.commit()
    return shared
