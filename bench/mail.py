"""Mail delivery throughput against a bare aiosmtplib loop (the floor), measured in the same run.

    .venv/bin/python bench/mail.py [--n 10000] [--connections 4] [--batch 200]

Renders and queues ``n`` invitations (one bulk insert) into a temporary SQLite file, then delivers them with
:func:`delphi.mail.delivery.deliver_due` to a local aiosmtpd sink running in its own process.  The floor sends
the same number of messages of the same size to the same sink with bare aiosmtplib calls over
the same number of connections, with the messages built beforehand (no database, no rendering, no marking):
once with ``sendmail`` and once with ``mail``/``rcpt``/``data`` as delivery does; the faster is the floor.
Floors and delivery alternate for ``--rounds`` rounds (the same 10,000 rows are queued again each round), so a
drifting machine load hits both alike.

The last line printed is a JSON object: ``ratio_vs_floor`` (median over rounds of floor time / delivery time,
goal >= 0.6), ``msgs_per_s`` (median delivery rate), ``end_to_end_ratio`` (rendering + queuing + delivery
against the floor), and the timings in seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import statistics
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import aiosmtplib
from sqlalchemy import func, insert, select, update

from delphi.db.engine import make_engine, make_sessionmaker
from delphi.db.models import Base, OutboxMessage, Panel, Panellist, Round, StakeholderGroup
from delphi.mail import kinds
from delphi.mail.compose import compose
from delphi.mail.delivery import deliver_due
from delphi.mail.outbox import Recipient, enqueue_mail_many
from delphi.settings import DatabaseSettings, MailSettings, Settings

SECRET = "bench-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _sink(port: int, ready: mp.Event, counter: mp.Value) -> None:  # type: ignore[type-arg]
    """An aiosmtpd server that accepts everything and only counts (runs in its own process)."""
    from aiosmtpd.controller import Controller

    class Handler:
        async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
            with counter.get_lock():
                counter.value += 1
            return "250 OK"

    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    while True:
        time.sleep(3600)


async def _floor(port: int, messages: list[tuple[str, bytes]], connections: int, *, lowlevel: bool) -> float:
    """Seconds for a bare aiosmtplib loop to send ``messages`` over ``connections`` connections.

    ``lowlevel`` sends with ``mail``/``rcpt``/``data`` (as delivery does), otherwise with ``sendmail`` (which
    also re-validates the addresses and normalises the message once more to compute SIZE).
    """
    queue = iter(messages)

    async def lane() -> None:
        smtp = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, start_tls=False)
        await smtp.connect()
        for to, data in queue:
            if lowlevel:
                await smtp.mail("panel@bench.example", options=[f"SIZE={len(data)}"])
                await smtp.rcpt(to)
                await smtp.data(data)
            else:
                await smtp.sendmail("panel@bench.example", [to], data)
        await smtp.quit()

    start = time.perf_counter()
    await asyncio.gather(*(lane() for _ in range(connections)))
    return time.perf_counter() - start


async def _seed(settings: Settings, n: int) -> tuple[int, int]:
    engine = make_engine(settings.database, null_pool=True)
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    async with make_sessionmaker(engine)() as session, session.begin():
        panel = Panel(title="Bench panel", description="A benchmark panel.", honorarium_minor=1500)
        session.add(panel)
        await session.flush()
        group = StakeholderGroup(panel_id=panel.id, name="Everyone")
        round_ = Round(
            panel_id=panel.id, number=1, status="open", closes_at=datetime.now(UTC) + timedelta(days=14)
        )
        session.add_all([group, round_])
        await session.flush()
        await session.execute(
            insert(Panellist),
            [
                {
                    "panel_id": panel.id,
                    "group_id": group.id,
                    "email": f"person{i}@bench.example",
                    "name": f"Person {i}",
                    "pseudonym": f"P-{i:05d}",
                    "language": "en",
                    "status": "invited",
                    "session_version": 1,
                }
                for i in range(n)
            ],
        )
        panel_id, round_id = panel.id, round_.id
    await engine.dispose()
    return panel_id, round_id


async def _enqueue(settings: Settings, panel_id: int, round_id: int) -> float:
    engine = make_engine(settings.database)
    start = time.perf_counter()
    async with make_sessionmaker(engine)() as session, session.begin():
        panel = await session.get(Panel, panel_id)
        round_ = await session.get(Round, round_id)
        people = (await session.scalars(select(Panellist).order_by(Panellist.id))).all()
        await enqueue_mail_many(
            session,
            kinds.invitation,
            [
                Recipient(
                    p.email,
                    kinds.invitation.key(round_id=round_id, panellist_id=p.id),
                    kinds.invitation(panel, round_, p, minutes=15),
                    p.language,
                    p.id,
                )
                for p in people
            ],
            panel_id=panel_id,
            round_id=round_id,
        )
    elapsed = time.perf_counter() - start
    await engine.dispose()
    return elapsed


async def _floor_messages(settings: Settings, n: int) -> list[tuple[str, bytes]]:
    """``n`` messages the size of ours: the first queued row, composed with a real-looking link."""
    engine = make_engine(settings.database, null_pool=True)
    async with make_sessionmaker(engine)() as session:
        row = await session.scalar(select(OutboxMessage).order_by(OutboxMessage.id).limit(1))
    await engine.dispose()
    link = f"{settings.base_url}/p/{'x' * 43}"
    out = []
    for i in range(n):
        to = f"person{i}@bench.example"
        out.append(
            (
                to,
                compose(
                    sender=settings.mail.sender,
                    to=to,
                    subject=row.subject,
                    text=row.body_text.replace("[[delphi:personal-link]]", link),
                    html=row.body_html.replace("[[delphi:personal-link]]", link),
                    message_id=f"<{i}@bench.example>",
                    date=datetime.now(UTC),
                    extra_headers={"List-Unsubscribe": f"<{link}/leave>"},
                ),
            )
        )
    return out


async def _deliver_all(settings: Settings, n: int) -> float:
    """Seconds for :func:`deliver_due` to send every queued message (checks that all ``n`` end up sent)."""
    engine = make_engine(settings.database)
    try:
        start = time.perf_counter()
        report = await deliver_due(settings, engine)
        elapsed = time.perf_counter() - start
        async with make_sessionmaker(engine)() as session:
            sent = await session.scalar(
                select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == "sent")
            )
    finally:
        await engine.dispose()
    if sent != n or report.sent != n:
        raise RuntimeError(f"only {sent} of {n} messages were marked sent ({report})")
    return elapsed


async def _requeue(settings: Settings) -> None:
    """Put every message back in the queue, for the next round of measurements."""
    engine = make_engine(settings.database, null_pool=True)
    async with engine.begin() as conn:
        await conn.execute(
            update(OutboxMessage).values(
                status="queued", attempts=0, next_attempt_at=datetime.now(UTC), sent_at=None, claimed_at=None
            )
        )
    await engine.dispose()


async def main(n: int, connections: int, batch: int, rounds: int) -> dict[str, Any]:
    """Queue ``n`` invitations once, then ``rounds`` times: both floors, then delivery of all of them.

    Each round's ratio compares delivery with the faster floor of the same round (the machine's load drifts);
    the reported figures are the medians over rounds.
    """
    port = _free_port()
    ctx = mp.get_context("spawn")
    ready, counter = ctx.Event(), ctx.Value("l", 0)
    sink = ctx.Process(target=_sink, args=(port, ready, counter), daemon=True)
    sink.start()
    if not ready.wait(30):
        raise RuntimeError("the SMTP sink did not start")
    floors: list[float] = []
    delivers: list[float] = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            settings = Settings(
                database=DatabaseSettings(url=f"sqlite+aiosqlite:///{tmp}/bench.db"),
                mail=replace(
                    MailSettings(),
                    host="127.0.0.1",
                    port=port,
                    sender="Bench <panel@bench.example>",
                    pool_size=connections,
                    batch_size=batch,
                ),
                base_url="http://127.0.0.1:8000",
                secret_key=SECRET,
            )
            panel_id, round_id = await _seed(settings, n)
            enqueue_s = await _enqueue(settings, panel_id, round_id)
            messages = await _floor_messages(settings, n)
            for i in range(rounds):
                if i:
                    await _requeue(settings)
                floors.append(
                    min([await _floor(port, messages, connections, lowlevel=low) for low in (False, True)])
                )
                delivers.append(await _deliver_all(settings, n))
    finally:
        sink.kill()
    ratios = [f / d for f, d in zip(floors, delivers, strict=True)]
    deliver_s, floor_s = statistics.median(delivers), statistics.median(floors)
    return {
        "n": n,
        "connections": connections,
        "batch_size": batch,
        "rounds": rounds,
        "render_enqueue_s": round(enqueue_s, 3),
        "deliver_s": round(deliver_s, 3),
        "floor_s": round(floor_s, 3),
        "floor_msgs_per_s": round(n / floor_s, 1),
        "ratios": [round(r, 3) for r in ratios],
        "end_to_end_ratio": round(floor_s / (enqueue_s + deliver_s), 3),
        "sink_received": counter.value,
        "msgs_per_s": round(n / deliver_s, 1),
        "ratio_vs_floor": round(statistics.median(ratios), 3),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    result = asyncio.run(main(args.n, args.connections, args.batch, args.rounds))
    print(json.dumps(result))
