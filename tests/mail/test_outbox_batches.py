"""A mailing to many recipients is rendered and stored a batch at a time (one INSERT per batch, the next batch
rendered while the last is stored); what lands in the outbox is what rendering each mail alone gives."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from delphi.db.engine import make_sessionmaker
from delphi.db.models import OutboxMessage
from delphi.mail import kinds, outbox
from delphi.mail.outbox import Recipient, enqueue_mail_many, panellist_context
from delphi.mail.render import default_renderer
from tests.factories import World

COMMON = {"panel_title": "T", "round_number": 1, "closes_at": None, "rated": 3, "total": 40}


def recipients(world: World, n: int) -> list[Recipient]:
    """``n`` reminders in two languages, each to a person of their own name (so bulk rendering fills names)."""
    return [
        Recipient(
            f"batch{i}@example.org",
            f"reminder:batch:{i}",
            {"name": f"Person <{i}>"},
            "cy" if i % 3 == 0 else "en",
            world.panellist_ids[i % len(world.panellist_ids)],
        )
        for i in range(n)
    ]


async def test_a_batched_mailing_stores_what_rendering_each_mail_alone_gives(
    engine: AsyncEngine, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(outbox, "INSERT_BATCH", 4)
    people = recipients(world, 23)
    sessions = make_sessionmaker(engine)
    async with sessions() as session, session.begin():
        inserted = await enqueue_mail_many(session, kinds.reminder, people, common=COMMON)
    assert inserted == 23
    async with sessions() as session:
        stored = {m.dedupe_key: m for m in (await session.scalars(select(OutboxMessage))).all()}
    assert set(stored) == {r.dedupe_key for r in people}
    for r in people:
        alone = default_renderer().render(
            kinds.reminder.name, panellist_context({**COMMON, **r.context}), r.language
        )
        row = stored[r.dedupe_key]
        assert (row.subject, row.body_text, row.body_html) == (alone.subject, alone.text, alone.html), r
        assert (row.to_address, row.panellist_id, row.kind, row.headers) == (
            r.to_address,
            r.panellist_id,
            "reminder",
            {},
        )


async def test_a_batched_mailing_skips_keys_queued_before_or_earlier_in_the_same_mailing(
    engine: AsyncEngine, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(outbox, "INSERT_BATCH", 5)
    people = recipients(world, 17)
    sessions = make_sessionmaker(engine)
    async with sessions() as session, session.begin():
        assert await enqueue_mail_many(session, kinds.reminder, people[:6], common=COMMON) == 6
    again = [*people, people[12], people[2]]  # two keys twice in one mailing, six queued already
    async with sessions() as session, session.begin():
        assert await enqueue_mail_many(session, kinds.reminder, again, common=COMMON) == 11
    async with sessions() as session:
        keys = (await session.scalars(select(OutboxMessage.dedupe_key))).all()
    assert sorted(keys) == sorted(r.dedupe_key for r in people)
