"""Fixtures for the mail tests: a panel with panellists whose link hashes are set, and settings aimed at a real
SMTP sink (tests/smtp.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from delphi.db.engine import make_sessionmaker
from delphi.db.models import (
    Account,
    OutboxMessage,
    Panel,
    PanelAccess,
    Panellist,
    Round,
    StakeholderGroup,
)
from delphi.mail import kinds
from delphi.mail.outbox import enqueue_mail
from delphi.security import panellist_token, token_digest
from delphi.settings import Settings
from tests.smtp import SmtpSink

#: A fixed "now" for tests that move the clock: retries and leases are decided against it.
T0 = datetime(2030, 1, 15, 9, 0, tzinfo=UTC)
LATER = timedelta(hours=3)  # longer than any retry delay and the claim lease


@dataclass
class World:
    panel_id: int
    round_id: int
    owner_email: str
    facilitator_email: str
    researcher_email: str
    panellist_ids: list[int] = field(default_factory=list)

    @staticmethod
    def address(i: int) -> str:
        return f"person{i}@example.org"


async def build_world(session: AsyncSession, secret: str, n: int = 3) -> World:
    """A panel (whose title mentions drugs, to check subjects never show it), its owner, a facilitator, a
    researcher, one group, round 1 and ``n`` invited panellists with ``token_hash`` set as the app would."""
    panel = Panel(
        title="Involving people who use drug services", description="A study.", honorarium_minor=1500
    )
    session.add(panel)
    await session.flush()
    emails = {"owner": "owner@example.org", "facilitator": "fac@example.org", "researcher": "res@example.org"}
    for role, email in emails.items():
        account = Account(email=email, password_hash="x", role="facilitator")
        session.add(account)
        await session.flush()
        session.add(PanelAccess(panel_id=panel.id, account_id=account.id, role=role))
    group = StakeholderGroup(panel_id=panel.id, name="Service users", is_lived_experience=True)
    round_ = Round(panel_id=panel.id, number=1, status="open", closes_at=datetime(2030, 2, 1, 17, tzinfo=UTC))
    session.add_all([group, round_])
    await session.flush()
    people = [
        Panellist(
            panel_id=panel.id,
            group_id=group.id,
            email=World.address(i),
            name=f"Person {i}",
            pseudonym=f"P-{i:03d}",
            session_version=1,
        )
        for i in range(n)
    ]
    session.add_all(people)
    await session.flush()
    for p in people:
        p.token_hash = token_digest(panellist_token(secret, p.id, p.session_version))
    await session.flush()
    return World(
        panel_id=panel.id,
        round_id=round_.id,
        owner_email=emails["owner"],
        facilitator_email=emails["facilitator"],
        researcher_email=emails["researcher"],
        panellist_ids=[p.id for p in people],
    )


async def queue_invitations(session: AsyncSession, world: World, ids: list[int] | None = None) -> None:
    """Queue round 1's invitation to each panellist (all by default), as the rounds service does."""
    panel = await session.get(Panel, world.panel_id)
    round_ = await session.get(Round, world.round_id)
    people = (
        await session.scalars(
            select(Panellist).where(Panellist.id.in_(ids or world.panellist_ids)).order_by(Panellist.id)
        )
    ).all()
    for p in people:
        await enqueue_mail(
            session,
            kinds.invitation,
            kinds.invitation(panel, round_, p, minutes=15),
            to_address=p.email,
            dedupe_key=kinds.invitation.key(round_id=round_.id, panellist_id=p.id),
            language=p.language,
            panel_id=panel.id,
            round_id=round_.id,
            panellist_id=p.id,
        )


@pytest.fixture
def sink_settings(settings: Settings, smtp_sink: SmtpSink) -> Settings:
    """Settings that send to the test's SMTP sink: 2 connections, batches of 10, 3 attempts."""
    return smtp_sink.settings_for(settings, pool_size=2, batch_size=10, max_attempts=3)


@pytest.fixture
async def world(engine: AsyncEngine, settings: Settings) -> World:
    async with make_sessionmaker(engine)() as session, session.begin():
        return await build_world(session, settings.secret_key)


async def rows(engine: AsyncEngine, **where: object) -> list[OutboxMessage]:
    """Outbox rows (optionally filtered by column values), by id."""
    async with make_sessionmaker(engine)() as session:
        query = select(OutboxMessage).order_by(OutboxMessage.id)
        for name, value in where.items():
            query = query.where(getattr(OutboxMessage, name) == value)
        return list((await session.scalars(query)).all())
