"""A ``delphi worker`` process SIGKILLed while it sends 5,000 invitations to a real aiosmtpd server, then
started again.

Every message must arrive, and a message may arrive twice only if it was in flight (claimed, not yet marked
sent) when the process died.  The claims of the dead worker run out after :data:`delphi.mail.claim.LEASE`
(five minutes); instead of waiting that long the test moves their claim time back past the lease, exactly
what the clock would have done.  The counts are printed.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select, update

from delphi.db.engine import make_engine, make_sessionmaker
from delphi.db.models import OutboxMessage, Panel, Panellist, Round, StakeholderGroup, utcnow
from delphi.mail.claim import LEASE
from delphi.mail.outbox import LINK_PLACEHOLDER
from delphi.rounds import mailing
from delphi.settings import DatabaseSettings
from tests.adversarial.live import fetch_all, scalar, worker_process
from tests.smtp import SmtpSink

MESSAGES = 5000
#: Kill the worker once this many messages have reached the SMTP server.
KILL_AT = 1500


async def queue_invitations(url: str, n: int) -> None:
    """``n`` panellists of one panel, each with a rendered invitation in the outbox (as opening round 1 does)."""
    engine = make_engine(DatabaseSettings(url=url), null_pool=True)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            panel = Panel(title="Worker kill panel", description="Invitations for the worker test.")
            session.add(panel)
            await session.flush()
            group = StakeholderGroup(panel_id=panel.id, name="Everyone")
            round_ = Round(
                panel_id=panel.id, number=1, status="open", closes_at=utcnow() + timedelta(days=14)
            )
            session.add_all([group, round_])
            await session.flush()
            await session.execute(
                insert(Panellist),
                [
                    {
                        "panel_id": panel.id,
                        "group_id": group.id,
                        "email": f"person{i:05d}@mail.example",
                        "name": f"Person {i}",
                        "pseudonym": f"P-{i:05d}",
                        "status": "invited",
                        "session_version": 1,
                    }
                    for i in range(n)
                ],
            )
            people = (await session.scalars(select(Panellist).order_by(Panellist.id))).all()
            await mailing.round_opened(session, panel, round_, people)
    finally:
        await engine.dispose()


async def wait_until(predicate, within: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + within
    while not await predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.2)


def count_status(status: str):  # type: ignore[no-untyped-def]
    return select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == status)


@pytest.mark.slow
async def test_a_killed_worker_delivers_every_message_after_restart_with_duplicates_bounded_by_its_batch(
    live_db_url: str, smtp_sink: SmtpSink, tmp_path: Path, report: Callable[[str], None]
) -> None:
    await queue_invitations(live_db_url, MESSAGES)
    worker = worker_process(live_db_url, tmp_path, smtp_sink.port, base_url="http://127.0.0.1:9")
    worker.start()
    try:
        async with asyncio.timeout(120):
            while len(smtp_sink.received) < KILL_AT:  # the sink's server thread appends
                assert worker.alive, worker.output()[-3000:]
                await asyncio.sleep(0.002)
        worker.kill()
        received_at_kill = len(smtp_sink.received)
        in_flight = await scalar(live_db_url, count_status("sending"))
        sent_at_kill = await scalar(live_db_url, count_status("sent"))
        assert 0 < in_flight, "the worker should have died with a batch in flight"
        assert received_at_kill < MESSAGES

        # Five minutes later the dead worker's claims have run out: move them back past the lease.
        table = OutboxMessage.__table__
        engine = make_engine(DatabaseSettings(url=live_db_url), null_pool=True)
        try:
            async with engine.begin() as conn:
                await conn.execute(
                    update(table)
                    .where(table.c.status == "sending")
                    .values(claimed_at=utcnow() - LEASE - timedelta(seconds=1))
                )
        finally:
            await engine.dispose()

        worker.start()

        async def all_sent() -> bool:
            assert worker.alive, worker.output()[-3000:]
            return await scalar(live_db_url, count_status("sent")) == MESSAGES

        await wait_until(all_sent, 180, "every message to be marked sent")
        worker.stop()
    finally:
        worker.kill()

    messages = smtp_sink.messages()
    ids = Counter(str(m.message["Message-ID"]) for m in messages)
    duplicates = len(messages) - len(ids)
    report(
        f"\nworker kill: {MESSAGES} queued; SIGKILL after {received_at_kill} received "
        f"({sent_at_kill} marked sent, {in_flight} claimed in flight); after restart "
        f"{len(messages)} received, {len(ids)} distinct, {duplicates} duplicates"
    )
    addresses = {m.rcpt_tos[0] for m in messages}
    assert len(ids) == MESSAGES
    assert addresses == {f"person{i:05d}@mail.example" for i in range(MESSAGES)}
    assert duplicates <= in_flight
    assert max(ids.values()) <= 2
    # The links were filled in at send time, before and after the restart alike.
    assert not [m for m in messages if LINK_PLACEHOLDER in m.message.get_body(("plain",)).get_content()]
    statuses = dict(
        await fetch_all(
            live_db_url, select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
        )
    )
    assert statuses == {"sent": MESSAGES}
    assert "Traceback" not in worker.output()
