"""Invitation cards: what a card says (never the panel's title, description or the pseudonym), and issuing them
(new links, the old ones stop working, one audit event without a token)."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import AuditEvent, utcnow
from delphi.domain import SYSTEM, Actor
from delphi.errors import Conflict
from delphi.panels.cards import CardChoice, card_contents, chosen_panellists, issue_cards
from delphi.security import token_digest
from tests.factories import TEST_SECRET, build_panel, make_account

TITLE = "Heroin treatment in Leeds"
DESCRIPTION = "How methadone clinics should involve people."


class Secret:
    secret_key = TEST_SECRET


def text_of(card: object) -> str:
    return repr(card)


async def test_a_card_never_shows_the_panel_title_description_or_pseudonym(session: AsyncSession) -> None:
    world = await build_panel(
        session,
        name="Alex {n}",
        panel_kw={"title": TITLE, "description": DESCRIPTION, "contact_phone": "0113"},
    )
    (card,) = card_contents(world.panel, [(world.panellist, "tok")], "https://delphi.example/")
    shown = text_of(card)
    assert TITLE not in shown and "Heroin" not in shown and "methadone" not in shown
    assert world.panellist.pseudonym not in shown
    assert card.heading == "Research study"
    assert card.link == "https://delphi.example/p/tok"
    assert card.name == ""  # names only when the caller may and wants to print them
    assert card.contact == ("The research team", "research-team@university.example", "0113")
    assert any("camera" in step for step in card.steps)


async def test_a_card_uses_the_discreet_name_and_prints_a_name_only_when_asked(session: AsyncSession) -> None:
    world = await build_panel(
        session, name="Alex {n}", panel_kw={"discreet": True, "discreet_name": "Service study"}
    )
    (card,) = card_contents(world.panel, [(world.panellist, "tok")], "https://x.example", print_names=True)
    assert card.heading == "Service study" and card.name == "Alex 1"


async def test_issuing_a_card_gives_a_new_link_and_the_old_one_stops_working(session: AsyncSession) -> None:
    world = await build_panel(session, panellists=2)
    owner = await make_account(session, "owner@facilitators.example")
    people = [world.panellist, world.others[0][0]]
    old_hashes = [p.token_hash for p in people]
    issued = await issue_cards(session, world.panel, people, Secret(), Actor.account(owner), choice="all")
    assert [p for p, _ in issued] == people
    for (p, token), old in zip(issued, old_hashes, strict=True):
        assert p.token_hash == token_digest(token) and p.token_hash != old
    assert token_digest(world.token) not in {p.token_hash for p in people}
    event = await session.scalar(select(AuditEvent).where(AuditEvent.action == "panellist.card_printed"))
    assert event is not None and event.detail["count"] == 2 and event.detail["choice"] == "all"
    assert not any(token in str(event.detail) for _, token in issued)


async def test_no_card_for_a_withdrawn_panellist_and_nothing_changes(session: AsyncSession) -> None:
    world = await build_panel(session, panellists=2)
    gone = world.others[0][0]
    gone.status, gone.withdrawn_at = "withdrawn", utcnow()
    before = world.panellist.token_hash
    with pytest.raises(Conflict):
        await issue_cards(session, world.panel, [world.panellist, gone], Secret(), SYSTEM, choice="all")
    assert world.panellist.token_hash == before


async def test_cards_for_people_without_email_pick_those_without_an_address_or_bounced(
    session: AsyncSession,
) -> None:
    world = await build_panel(session, panellists=4)
    a, b, c = (p for p, _ in world.others)
    a.status = "bounced"
    b.status, b.withdrawn_at = "withdrawn", utcnow()
    c.email, c.erased_at = None, utcnow()
    await session.flush()
    chosen = await chosen_panellists(session, world.panel, CardChoice.NO_EMAIL)
    assert [p.pseudonym for p in chosen] == [a.pseudonym]
    everyone = await chosen_panellists(session, world.panel, CardChoice.ALL)
    assert [p.pseudonym for p in everyone] == [world.panellist.pseudonym, a.pseudonym]
