"""Fixtures for the mail tests: a panel with panellists whose link hashes are set, and settings aimed at a real
SMTP sink (tests/smtp.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from delphi.db.engine import make_sessionmaker
from delphi.db.models import (
    OutboxMessage,
    Panel,
    Panellist,
    Round,
)
from delphi.mail import kinds
from delphi.mail.outbox import enqueue_mail
from delphi.settings import Settings
from tests.factories import World, build_panel
from tests.smtp import SmtpSink

#: A fixed "now" for tests that move the clock: retries and leases are decided against it.
T0 = datetime(2030, 1, 15, 9, 0, tzinfo=UTC)
LATER = timedelta(hours=3)  # longer than any retry delay and the claim lease


#: Options of :func:`tests.factories.build_panel` for the mail tests: a panel whose title mentions drugs (to check
#: subjects never show it), its owner, a facilitator and a researcher, one lived-experience group, no statements,
#: an open round 1 and invited panellists ``person0@example.org`` … (see :func:`address`) with working links.
MAIL_PANEL = {
    "first": 0,
    "email": "person{n}@example.org",
    "name": "Person {n}",
    "sections": (),
    "groups": ("Service users",),
    "lived_experience": ("Service users",),
    "round_kw": {"closes_in": None, "opened_at": None, "closes_at": datetime(2030, 2, 1, 17, tzinfo=UTC)},
    "access": {
        "owner": "owner@example.org",
        "facilitator": "fac@example.org",
        "researcher": "res@example.org",
    },
    "panel_kw": {
        "title": "Involving people who use drug services",
        "description": "A study.",
        "honorarium_minor": 1500,
        "status": "draft",
        "consent_text": "",
        "scale_labels": [],
        "rule": {},
    },
}


def address(i: int) -> str:
    """The e-mail of the ``i``-th panellist (from 0) of a :data:`MAIL_PANEL` panel."""
    return f"person{i}@example.org"


async def queue_invitations(session: AsyncSession, world: World, ids: list[int] | None = None) -> None:
    """Queue round 1's invitation to each panellist (all by default), as the rounds service does."""
    panel = await session.get(Panel, world.panel.id)
    round_ = await session.get(Round, world.round.id)
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
async def world(engine: AsyncEngine) -> World:
    """A :data:`MAIL_PANEL` panel with three panellists, committed."""
    async with make_sessionmaker(engine)() as session, session.begin():
        return await build_panel(session, panellists=3, **MAIL_PANEL)


async def rows(engine: AsyncEngine, **where: object) -> list[OutboxMessage]:
    """Outbox rows (optionally filtered by column values), by id."""
    async with make_sessionmaker(engine)() as session:
        query = select(OutboxMessage).order_by(OutboxMessage.id)
        for name, value in where.items():
            query = query.where(getattr(OutboxMessage, name) == value)
        return list((await session.scalars(query)).all())
