"""The web process SIGKILLed while panellists are saving, then started again on the same database.

Twenty panellists keep saving answers with long comments; each comment names its panellist, statement, value
and sequence number and is padded to 4,000 characters, so a row that mixed two requests, or held a cut-off
comment, would show.  After the kill and a restart, every panellist's review page (reached with the session
cookie the browser already has) must show, for every statement, the last answer the server acknowledged, or
the one answer that was in flight when the process died (its fate was never reported to the panellist).
"""

from __future__ import annotations

import asyncio
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
import pytest
from sqlalchemy import select

from delphi.db.models import Panellist, Rating
from tests.adversarial.live import (
    LiveServer,
    PanellistClient,
    Person,
    fetch_all,
    review_answers,
    seed_panel,
)

PANELLISTS = 20
STATEMENTS = 30
#: Acknowledged saves before the kill.
KILL_AFTER = 400
PAD = 4000
COMMENT = re.compile(r"^(P-\d{4})/s(\d+)/v(\d)/n(\d+) (x+)$")


@dataclass
class Writer:
    person: Person
    client: PanellistClient
    #: statement id -> (value, comment) the server acknowledged last
    acked: dict[int, tuple[int, str]] = field(default_factory=dict)
    #: the save that was sent and never answered (the process died under it)
    in_flight: tuple[int, int, str] | None = None
    seq: int = 0


def comment_for(person: Person, sid: int, value: int, seq: int) -> str:
    head = f"{person.pseudonym}/s{sid}/v{value}/n{seq} "
    return head + "x" * (PAD - len(head))


async def keep_saving(writer: Writer, statements: list[int], acked_total: list[int]) -> None:
    rng = random.Random(writer.person.id)
    while True:
        sid, value = rng.choice(statements), rng.randint(1, 9)
        writer.seq += 1
        comment = comment_for(writer.person, sid, value, writer.seq)
        writer.in_flight = (sid, value, comment)
        try:
            response = await writer.client.save(sid, value, comment=comment)
        except httpx.TransportError:
            return  # the server died with this request in flight
        assert response.status_code == 200, response.text
        writer.acked[sid] = (value, comment)
        writer.in_flight = None
        acked_total[0] += 1


@pytest.mark.slow
async def test_a_killed_web_process_loses_no_acknowledged_rating_and_half_writes_none(
    live_db_url: str, live_server: LiveServer, report: Callable[[str], None]
) -> None:
    seeded = await seed_panel(live_db_url, panellists=PANELLISTS, statements=STATEMENTS)
    await asyncio.to_thread(live_server.start)
    writers = []
    for n, person in enumerate(seeded.people, start=1):
        client = PanellistClient(live_server.base_url, person.token, n)
        for response in await client.sign_in():
            assert response.status_code in (200, 303), response.text
        writers.append(Writer(person, client))
    try:
        acked_total = [0]
        tasks = [asyncio.create_task(keep_saving(w, seeded.statement_ids, acked_total)) for w in writers]
        async with asyncio.timeout(120):
            while acked_total[0] < KILL_AFTER:  # noqa: ASYNC110 - polled: the writers only count
                await asyncio.sleep(0.01)
        live_server.kill()
        await asyncio.gather(*tasks)
        in_flight = sum(1 for w in writers if w.in_flight is not None)
        report(f"\nweb kill: {acked_total[0]} saves acknowledged, {in_flight} in flight at SIGKILL")
        assert in_flight > 0, "the process should have died with saves in flight"

        # Nothing half-written: every row's comment is whole and names this row's panellist, statement, value.
        pseudonyms = {p.id: p.pseudonym for p in seeded.people}
        rows = await fetch_all(
            live_db_url,
            select(Rating.panellist_id, Rating.statement_id, Rating.value, Rating.comment).where(
                Rating.round_id == seeded.round_id
            ),
        )
        for pid, sid, value, comment in rows:
            m = COMMENT.match(comment)
            assert m, f"a stored comment is not whole: {comment[:80]!r}… ({len(comment)} characters)"
            assert (m.group(1), int(m.group(2)), int(m.group(3))) == (pseudonyms[pid], sid, value)
            assert len(comment) == PAD

        await asyncio.to_thread(live_server.start)
        for w in writers:
            response = await w.client.http.get("/panel/review")
            assert response.status_code == 200, response.text
            shown = review_answers(response.text)
            for sid, (value, comment) in w.acked.items():
                allowed = {(value, comment)}
                if w.in_flight is not None and w.in_flight[0] == sid:
                    allowed.add(w.in_flight[1:])
                assert shown[sid] in allowed, (w.person.pseudonym, sid, shown[sid][0], value)
        still = await fetch_all(live_db_url, select(Panellist.id).where(Panellist.status == "active"))
        assert len(still) == PANELLISTS
    finally:
        for w in writers:
            await w.client.http.aclose()
