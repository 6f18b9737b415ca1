"""Concurrent rating load on the real server (uvicorn as a separate process, loopback, SQLite and PostgreSQL).

200 panellists, at most 40 at a time, each: opens the personal link, agrees, saves an answer to each of 50
statements through the JSON background-save endpoint (with comments now and then), changes earlier answers,
replays a save (the same request twice at once, as a double click or a retried POST would) and submits twice
at once.  Afterwards the database must hold exactly each person's last acknowledged answer, one submission per
person, one receipt in the outbox, and no request may have ended in a 5xx.
"""

from __future__ import annotations

import asyncio
import random
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
import pytest
from sqlalchemy import func, select

from delphi.db.models import AuditEvent, OutboxMessage, Rating, Submission
from tests.adversarial.live import (
    LiveServer,
    PanellistClient,
    Person,
    fetch_all,
    gather_bounded,
    scalar,
    seed_panel,
)

CLIENTS = 200
STATEMENTS = 50
CONCURRENCY = 40
ANSWERS: list[object] = [*range(1, 10), "unable"]


@dataclass
class Tally:
    statuses: Counter[int] = field(default_factory=Counter)
    #: (panellist id, statement id) -> (value, unable, comment) last acknowledged by the server.
    last: dict[tuple[int, int], tuple[int | None, bool, str]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    requests: int = 0

    def note(self, what: str, response: httpx.Response, ok: tuple[int, ...] = (200,)) -> None:
        self.requests += 1
        self.statuses[response.status_code] += 1
        if response.status_code not in ok:
            self.problems.append(f"{what}: {response.status_code} {response.text[:200]}")


def expected_row(answer: object, comment: str, before: tuple[int | None, bool, str] | None):
    """What the row must hold after saving ``answer`` (and ``comment``: "" keeps the saved one here)."""
    kept = before[2] if before else ""
    text = comment or kept
    if answer == "unable":
        return (None, True, text)
    return (int(answer), False, text)  # type: ignore[call-overload]


async def panellist_session(
    base_url: str, n: int, person: Person, statements: list[int], tally: Tally
) -> None:
    rng = random.Random(n)
    async with PanellistClient(base_url, person.token, n) as client:
        for response in await client.sign_in():
            tally.note("sign in", response, ok=(200, 303))
        order = statements[:]
        rng.shuffle(order)
        rated: list[int] = []

        async def save(sid: int, answer: object, comment: str = "") -> None:
            fields = {"comment": comment} if comment else {}
            response = await client.save(sid, answer, **fields)
            tally.note(f"save P{person.id} s{sid}", response)
            if response.status_code == 200:
                key = (person.id, sid)
                tally.last[key] = expected_row(answer, comment, tally.last.get(key))
                body = response.json()
                if body["unable"] != (answer == "unable") or (answer != "unable" and body["value"] != answer):
                    tally.problems.append(f"save P{person.id} s{sid} answered {body} for {answer!r}")

        for sid in order:
            comment = f"Kommentar Nr. {rng.randrange(10_000)} – “quoted” ✓" if rng.random() < 0.1 else ""
            await save(sid, rng.choice(ANSWERS), comment)
            rated.append(sid)
            if rng.random() < 0.15:  # change an earlier answer
                await save(rng.choice(rated), rng.choice(ANSWERS))
            if rng.random() < 0.05:  # a replayed request: the same save twice at the same moment
                sid2, answer = rng.choice(rated), rng.choice(ANSWERS)
                a, b = await asyncio.gather(client.save(sid2, answer), client.save(sid2, answer))
                for response in (a, b):
                    tally.note(f"replay P{person.id} s{sid2}", response)
                if a.status_code == b.status_code == 200:
                    key = (person.id, sid2)
                    tally.last[key] = expected_row(answer, "", tally.last.get(key))
        first, second = await asyncio.gather(client.submit(), client.submit())
        for response in (first, second):
            tally.note(f"submit P{person.id}", response, ok=(303,))
            if response.status_code == 303 and response.headers.get("location") != "/panel/done":
                tally.problems.append(f"submit P{person.id} went to {response.headers.get('location')}")
        if rng.random() < 0.3:  # answers can still change after submitting, until the round closes
            await save(rng.choice(rated), rng.choice(ANSWERS))


@pytest.mark.slow
async def test_concurrent_panellists_leave_exactly_their_last_answers_and_one_submission_each(
    live_db_url: str, live_server: LiveServer, report: Callable[[str], None]
) -> None:
    seeded = await seed_panel(live_db_url, panellists=CLIENTS, statements=STATEMENTS)
    await asyncio.to_thread(live_server.start)
    tally = Tally()
    started = time.perf_counter()
    await gather_bounded(
        CONCURRENCY,
        [
            panellist_session(live_server.base_url, n, person, seeded.statement_ids, tally)
            for n, person in enumerate(seeded.people, start=1)
        ],
    )
    elapsed = time.perf_counter() - started
    report(
        f"\nload: {CLIENTS} panellists, {tally.requests} requests in {elapsed:.1f} s "
        f"({tally.requests / elapsed:.0f}/s); statuses {dict(sorted(tally.statuses.items()))}"
    )

    assert not [s for s in tally.statuses if s >= 500], tally.problems[:20]
    assert tally.problems == []
    log = live_server.output()
    assert "Traceback" not in log and not re.search(r'HTTP/1\.1" 5\d\d', log), log[-3000:]

    rows = await fetch_all(
        live_db_url,
        select(Rating.panellist_id, Rating.statement_id, Rating.value, Rating.unable, Rating.comment).where(
            Rating.round_id == seeded.round_id
        ),
    )
    stored = {(p, s): (v, bool(u), c) for p, s, v, u, c in rows}
    assert len(rows) == len(stored) == CLIENTS * STATEMENTS
    wrong = {k: (stored.get(k), v) for k, v in tally.last.items() if stored.get(k) != v}
    assert wrong == {}, (
        f"{len(wrong)} ratings differ from the last acknowledged save, e.g. {list(wrong.items())[:5]}"
    )
    assert set(stored) == set(tally.last)

    per_person = await fetch_all(
        live_db_url,
        select(Submission.panellist_id, func.count())
        .where(Submission.round_id == seeded.round_id)
        .group_by(Submission.panellist_id),
    )
    assert len(per_person) == CLIENTS and {n for _, n in per_person} == {1}
    assert (
        await scalar(
            live_db_url,
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "round.submitted"),
        )
        == CLIENTS
    )
    assert (
        await scalar(
            live_db_url,
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.dedupe_key.like("receipt:%")),
        )
        == CLIENTS
    )
