"""Enqueuing mail: in the caller's transaction, idempotent on the dedupe key, placeholders instead of links."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from delphi.db.engine import make_sessionmaker
from delphi.db.models import OutboxMessage
from delphi.errors import InvalidInput
from delphi.mail import kinds
from delphi.mail.outbox import (
    LINK_PLACEHOLDER,
    WITHDRAW_PLACEHOLDER,
    Recipient,
    enqueue,
    enqueue_mail_many,
    outbox_row,
)
from delphi.security import panellist_token
from delphi.settings import Settings
from tests.factories import World
from tests.mail.conftest import address, queue_invitations, rows


async def test_enqueue_twice_with_one_dedupe_key_queues_one_message(
    engine: AsyncEngine, world: World
) -> None:
    sessions = make_sessionmaker(engine)
    async with sessions() as session, session.begin():
        await queue_invitations(session, world)
    async with sessions() as session, session.begin():
        await queue_invitations(session, world)  # a replayed request
        again = await enqueue(
            session,
            outbox_row(
                dedupe_key=kinds.invitation.key(round_id=world.round.id, panellist_id=world.panellist_ids[0]),
                kind=kinds.invitation.name,
                to_address="someone@example.org",
                subject="s",
                body_text="t",
                body_html="h",
            ),
        )
    assert again is False
    queued = await rows(engine)
    assert len(queued) == len(world.panellist_ids)
    assert {r.status for r in queued} == {"queued"} and {r.attempts for r in queued} == {0}


async def test_rolled_back_transaction_enqueues_nothing(engine: AsyncEngine, world: World) -> None:
    sessions = make_sessionmaker(engine)
    with pytest.raises(RuntimeError):
        async with sessions() as session, session.begin():
            await queue_invitations(session, world)
            raise RuntimeError("the state change failed after the mail was queued")
    assert await rows(engine) == []


async def test_queued_mail_holds_placeholders_never_a_link_token(
    engine: AsyncEngine, world: World, settings: Settings
) -> None:
    async with make_sessionmaker(engine)() as session, session.begin():
        await queue_invitations(session, world)
    for row, pid in zip(await rows(engine), world.panellist_ids, strict=True):
        token = panellist_token(settings.secret_key, pid, 1)
        for stored in (row.subject, row.body_text, row.body_html, str(row.headers)):
            assert token not in stored
        assert LINK_PLACEHOLDER in row.body_text and WITHDRAW_PLACEHOLDER in row.body_html
        assert row.panellist_id == pid and row.panel_id == world.panel.id and row.round_id == world.round.id
        assert row.kind == kinds.invitation.name and row.to_address == address(world.panellist_ids.index(pid))


async def test_bulk_enqueue_inserts_all_rows_in_one_go_and_skips_known_keys(
    engine: AsyncEngine, world: World
) -> None:
    common = {"panel_title": "T", "round_number": 1, "closes_at": None, "rated": None, "total": None}
    recipients = [
        Recipient(f"bulk{i}@example.org", f"reminder:bulk:{i}", {"name": ""}, "en", world.panellist_ids[0])
        for i in range(1500)
    ]
    sessions = make_sessionmaker(engine)
    async with sessions() as session, session.begin():
        first = await enqueue_mail_many(session, kinds.reminder, recipients[:1000], common=common)
    async with sessions() as session, session.begin():
        second = await enqueue_mail_many(session, kinds.reminder, recipients, common=common)
    assert (first, second) == (1000, 500)
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(OutboxMessage)) == 1500


@pytest.mark.parametrize("address", ["", "a@example.org\r\nBcc: b@example.org", "a@x.org, b@x.org", "nobody"])
def test_enqueue_refuses_anything_but_one_address(address: str) -> None:
    with pytest.raises(InvalidInput):
        outbox_row(dedupe_key="k", kind="x", to_address=address, subject="s", body_text="t", body_html="h")
