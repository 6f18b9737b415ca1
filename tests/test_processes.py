"""Two web processes and two ``delphi worker`` processes on one PostgreSQL database, as "Running at scale" in
the README describes: nothing is stored twice, nothing is lost, no mail goes twice.

The set-up (all real processes on loopback, one scratch database, a real aiosmtpd sink):

* two ``uvicorn --factory delphi.asgi:app_from_env`` processes with the in-process mail worker off
  (:class:`tests.adversarial.live.LiveServer`), and two ``delphi worker`` processes claiming mail in batches of
  :data:`BATCH` (so the 200 invitations are shared between them rather than taken in one claim);
* a panel of :data:`PANELLISTS` consented panellists and an open round 1 of :data:`STATEMENTS` statements; the
  round's invitations are queued as opening it queues them (:func:`delphi.rounds.mailing.round_opened`).

Each panellist opens the link from their invitation on one of the two web processes (alternately), answers every
statement there, changes some answers through the *other* process (each change sent after the previous save was
acknowledged, so the last acknowledged value must win across processes), and submits on both processes at once.
A facilitator's manual reminder (:func:`delphi.rounds.schedule.send_reminder_now`) is queued while the saves run;
nobody submits before it is queued, so it goes to everyone.

Mail is matched to its outbox row by Message-ID (stable per row, :func:`delphi.mail.compose.stable_message_id`).
The claim takes rows with ``FOR UPDATE SKIP LOCKED`` (:mod:`delphi.mail.claim`), so two workers never hold one
row: duplicates must be zero, not merely at most the in-flight batch.  Saves per second across both web
processes and mail per second across both workers are printed, never asserted (see docs/benchmarks.md,
"Several processes").
"""

from __future__ import annotations

import asyncio
import random
import re
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from delphi.db.engine import make_engine, make_sessionmaker
from delphi.db.models import OutboxMessage, Panel, Panellist, Rating, Round, Submission
from delphi.domain import SYSTEM
from delphi.mail.compose import sender_domain, stable_message_id
from delphi.rounds import mailing, schedule
from delphi.security import derive_key
from delphi.settings import DatabaseSettings, MailSettings, Settings
from tests.adversarial.live import (
    LiveServer,
    PanellistClient,
    Process,
    Seeded,
    fetch_all,
    gather_bounded,
    scalar,
    scratch_database,
    seed_panel,
    worker_process,
)
from tests.conftest import POSTGRES_URL, TEST_SECRET
from tests.smtp import SmtpSink

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not POSTGRES_URL, reason="several processes on one database need PostgreSQL"),
]

PANELLISTS = 200
STATEMENTS = 10
#: Panellists talking to the web processes at once.
CONCURRENCY = 40
#: Answers each panellist changes afterwards (through the other web process).
CHANGES = 3
#: ``DELPHI_MAIL_BATCH_SIZE`` of the workers: rows one claim takes (a worker claims the next batch while one is
#: sent, so at most twice this is in flight per worker).
BATCH = 20
#: Acknowledged saves after which the reminder is queued: half of what the first :data:`CONCURRENCY` panellists
#: save before they wait for it (a higher figure would leave them all waiting, and nobody else let in).
REMIND_AFTER = CONCURRENCY * STATEMENTS // 2
#: Seconds the whole test may take before it fails (and its fixtures stop every process).
WITHIN = 150
SENDER = "Delphi test <panel@test.example>"
LINK = re.compile(r"/p/([A-Za-z0-9_\-]+)")


# --- the processes -------------------------------------------------------------------------------------------


@dataclass
class Cluster:
    url: str
    sink: SmtpSink
    servers: list[LiveServer]
    workers: list[Process]

    def check_alive(self) -> None:
        for proc in [*self.servers, *self.workers]:
            assert proc.alive, f"{proc.argv[-1]} exited:\n{proc.output()[-3000:]}"


@pytest.fixture
async def pg_url(tmp_path: Path) -> AsyncIterator[str]:
    """A PostgreSQL database of this test's own (created next to ``DELPHI_TEST_POSTGRES_URL``'s, then dropped)."""
    async with scratch_database("postgresql", tmp_path, POSTGRES_URL) as url:
        yield url


@pytest.fixture
def cluster(pg_url: str, tmp_path: Path, smtp_sink: SmtpSink) -> Iterator[Cluster]:
    """Two web processes and two workers on ``pg_url`` (not started: the test seeds first); every process is
    stopped afterwards, whether the test passed or not."""
    servers = [LiveServer(pg_url, tmp_path, trusted_proxies="127.0.0.1") for _ in range(2)]
    workers = [
        worker_process(
            pg_url, tmp_path, smtp_sink.port, base_url=servers[0].base_url, mail_batch_size=str(BATCH)
        )
        for _ in range(2)
    ]
    try:
        yield Cluster(pg_url, smtp_sink, servers, workers)
    finally:
        for proc in [*workers, *servers]:
            proc.stop()


@pytest.fixture
def report(capsys: pytest.CaptureFixture[str]) -> Callable[[str], None]:
    def say(line: str) -> None:
        with capsys.disabled():
            print(line, flush=True)

    return say


# --- the panellists ------------------------------------------------------------------------------------------


@dataclass
class Tally:
    saves: int = 0
    #: ``time.perf_counter()`` when the first save was sent and when the last one was acknowledged.
    first_save: float = float("inf")
    last_save: float = 0.0
    requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    #: (panellist id, statement id) -> value last acknowledged by a web process.
    last: dict[tuple[int, int], int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    enough_saves: asyncio.Event = field(default_factory=asyncio.Event)
    reminded: asyncio.Event = field(default_factory=asyncio.Event)

    def note(self, what: str, response: httpx.Response, ok: tuple[int, ...]) -> bool:
        self.requests += 1
        self.statuses[response.status_code] += 1
        if response.status_code not in ok:
            self.problems.append(f"{what}: {response.status_code} {response.text[:200]}")
            return False
        return True


async def panellist_session(
    cluster: Cluster, n: int, pid: int, token: str, statements: list[int], tally: Tally
) -> None:
    """Sign in on web process ``n % 2``, answer every statement, change :data:`CHANGES` answers through the other
    process, wait for the reminder, then submit on both processes at once."""
    rng = random.Random(n)
    home, other = cluster.servers[n % 2], cluster.servers[(n + 1) % 2]
    async with PanellistClient(home.base_url, token, n) as client:
        for response in await client.sign_in(consent=False):  # consented already: link, then a CSRF token
            tally.note(f"sign in P{pid}", response, ok=(200, 303))

        async def save(sid: int, value: int, base: str) -> None:
            tally.first_save = min(tally.first_save, time.perf_counter())
            response = await client.http.post(
                f"{base}/panel/ratings/{sid}", json={"answer": value}, headers={"x-csrftoken": client.csrf}
            )
            if tally.note(f"save P{pid} s{sid}", response, ok=(200,)):
                tally.saves += 1
                tally.last_save = time.perf_counter()
                tally.last[(pid, sid)] = value
                if tally.saves >= REMIND_AFTER:
                    tally.enough_saves.set()

        for sid in statements:
            await save(sid, rng.randint(1, 9), home.base_url)
        for sid in rng.sample(statements, CHANGES):
            changed = rng.choice([v for v in range(1, 10) if v != tally.last.get((pid, sid))])
            await save(sid, changed, other.base_url)
        await tally.reminded.wait()
        answers = await asyncio.gather(
            *(
                client.http.post(f"{s.base_url}/panel/submit", data={"_csrf_token": client.csrf})
                for s in (home, other)
            )
        )
        for response in answers:
            tally.note(f"submit P{pid}", response, ok=(303,))


async def remind_when_saves_run(url: str, seeded: Seeded, tally: Tally) -> int:
    """Once :data:`REMIND_AFTER` saves are acknowledged, the facilitator's manual reminder; returns mails queued."""
    await tally.enough_saves.wait()
    engine = make_engine(DatabaseSettings(url=url), null_pool=True)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            panel = await session.get_one(Panel, seeded.panel_id)
            round_ = await session.get_one(Round, seeded.round_id)
            sent = await schedule.send_reminder_now(
                session, panel, round_, settings=_settings(url), actor=SYSTEM
            )
    finally:
        await engine.dispose()
    tally.reminded.set()
    return sent.queued


def _settings(url: str) -> Settings:
    return Settings(
        database=DatabaseSettings(url=url),
        mail=MailSettings(host="127.0.0.1", port=1, sender=SENDER),
        base_url="http://127.0.0.1",
        secret_key=TEST_SECRET,
        worker_in_process=False,
    )


async def queue_invitations(url: str, seeded: Seeded) -> int:
    """Round 1's invitations, as opening the round queues them."""
    engine = make_engine(DatabaseSettings(url=url), null_pool=True)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            panel = await session.get_one(Panel, seeded.panel_id)
            round_ = await session.get_one(Round, seeded.round_id)
            people = (
                await session.scalars(
                    select(Panellist).where(Panellist.panel_id == panel.id).order_by(Panellist.id)
                )
            ).all()
            return await mailing.round_opened(session, panel, round_, people)
    finally:
        await engine.dispose()


async def wait_until(
    cluster: Cluster, predicate: Callable[[], Awaitable[bool]], within: float, what: str
) -> None:
    deadline = time.monotonic() + within
    while not await predicate():
        cluster.check_alive()
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within} s waiting for {what}")
        await asyncio.sleep(0.05)


# --- the test ------------------------------------------------------------------------------------------------


async def test_two_web_and_two_worker_processes_store_each_last_answer_once_and_send_each_mail_once(
    cluster: Cluster, report: Callable[[str], None]
) -> None:
    async with asyncio.timeout(WITHIN):  # a hang fails the test (the fixtures then stop every process)
        await _scenario(cluster, report)


async def _scenario(cluster: Cluster, report: Callable[[str], None]) -> None:
    url, sink = cluster.url, cluster.sink
    seeded = await seed_panel(url, panellists=PANELLISTS, statements=STATEMENTS, consented=True)
    by_email = {p.email: p for p in seeded.people}
    await asyncio.gather(*(asyncio.to_thread(s.start) for s in cluster.servers))
    for worker in cluster.workers:
        worker.start()

    async def workers_ready() -> bool:
        return all(" started (every " in w.output() for w in cluster.workers)

    await wait_until(cluster, workers_ready, 60, "the workers to start")

    # The invitations, delivered by both workers (timed from their commit); each panellist uses their link.
    assert await queue_invitations(url, seeded) == PANELLISTS
    started = time.perf_counter()
    await wait_until(cluster, lambda: _at_least(sink, PANELLISTS), 60, "the invitations")
    invite_s = time.perf_counter() - started
    tokens: dict[int, str] = {}
    for received in sink.messages():
        person = by_email[received.rcpt_tos[0]]
        match = LINK.search(received.message.get_body(("plain",)).get_content())
        assert match is not None, "an invitation without a personal link"
        tokens[person.id] = match.group(1)
    assert tokens == {p.id: p.token for p in seeded.people}

    tally = Tally()
    started = time.perf_counter()
    reminder = asyncio.create_task(remind_when_saves_run(url, seeded, tally))
    await gather_bounded(
        CONCURRENCY,
        [
            panellist_session(cluster, n, p.id, tokens[p.id], seeded.statement_ids, tally)
            for n, p in enumerate(seeded.people, start=1)
        ],
    )
    sessions_s = time.perf_counter() - started
    reminded = await reminder
    assert tally.problems == [], tally.problems[:20]
    assert reminded == PANELLISTS  # nobody had submitted yet

    # Every queued mail sent (invitations, the reminder, receipts), none left queued or claimed.
    async def settled() -> bool:
        pending = await scalar(
            url,
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.status.in_(("queued", "sending"))),
        )
        return pending == 0

    started = time.perf_counter()
    await wait_until(cluster, settled, 60, "the outbox to empty")
    drain_s = time.perf_counter() - started
    await asyncio.sleep(0.5)  # a straggling duplicate, if any, would arrive now
    cluster.check_alive()
    for proc in [*cluster.workers, *cluster.servers]:
        proc.stop()

    outbox = await fetch_all(
        url,
        select(
            OutboxMessage.dedupe_key, OutboxMessage.status, OutboxMessage.to_address, OutboxMessage.claimed_by
        ),
    )
    key = derive_key(TEST_SECRET, "message-id")
    domain = sender_domain(SENDER)
    expected = {stable_message_id(key, k, domain): (k, to) for k, _status, to, _by in outbox}
    messages = sink.messages()
    got = Counter(str(m.message["Message-ID"]) for m in messages)
    duplicates = len(messages) - len(got)
    by_worker = Counter(by for *_, by in outbox)
    kinds = Counter(k.split(":", 1)[0] for k, *_ in outbox)
    saves_s = tally.last_save - tally.first_save
    report(
        f"\nprocesses: 2 web + 2 workers on PostgreSQL, {PANELLISTS} panellists x {STATEMENTS} statements; "
        f"{tally.saves} saves in {saves_s:.1f} s ({tally.saves / saves_s:.0f} saves/s across both web "
        f"processes); {tally.requests} requests in {sessions_s:.1f} s ({tally.requests / sessions_s:.0f}/s); "
        f"{PANELLISTS} invitations delivered in {invite_s:.2f} s ({PANELLISTS / invite_s:.0f} mails/s across "
        f"both workers); {len(messages)} mails received ({dict(kinds)}), {duplicates} duplicates; "
        f"per worker {sorted(by_worker.values())}; outbox drained {drain_s:.1f} s after the last request"
    )

    # Mail: each outbox row reached its panellist exactly once (row locks: no duplicates at all).
    assert {status for _, status, _, _ in outbox} == {"sent"}
    assert kinds == {"invitation": PANELLISTS, "reminder": PANELLISTS, "receipt": PANELLISTS}
    assert set(got) == set(expected)
    assert duplicates == 0 and max(got.values()) == 1, [k for k, c in got.items() if c > 1][:10]
    assert all(m.rcpt_tos == (expected[str(m.message["Message-ID"])][1],) for m in messages)
    per_person = Counter(
        (m.rcpt_tos[0], expected[str(m.message["Message-ID"])][0].split(":")[0]) for m in messages
    )
    assert set(per_person.values()) == {1} and len(per_person) == 3 * PANELLISTS
    assert len(by_worker) == 2 and min(by_worker.values()) > 0, f"the work was not shared: {by_worker}"

    # Answers: exactly the last acknowledged value, one row per (panellist, statement); one submission each.
    rows = await fetch_all(
        url,
        select(Rating.panellist_id, Rating.statement_id, Rating.value).where(
            Rating.round_id == seeded.round_id
        ),
    )
    stored = {(p, s): v for p, s, v in rows}
    assert len(rows) == len(stored) == PANELLISTS * STATEMENTS
    wrong = {k: (stored.get(k), v) for k, v in tally.last.items() if stored.get(k) != v}
    assert wrong == {}, (
        f"{len(wrong)} answers differ from the last acknowledged save: {list(wrong.items())[:5]}"
    )
    submissions = await fetch_all(
        url,
        select(Submission.panellist_id, func.count())
        .where(Submission.round_id == seeded.round_id)
        .group_by(Submission.panellist_id),
    )
    assert len(submissions) == PANELLISTS and {c for _, c in submissions} == {1}

    for proc in [*cluster.servers, *cluster.workers]:
        log = proc.output()
        assert "Traceback" not in log and not re.search(r'HTTP/1\.1" 5\d\d', log), log[-3000:]


async def _at_least(sink: SmtpSink, count: int) -> bool:
    return len(sink.received) >= count
