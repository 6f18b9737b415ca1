"""A national panel on PostgreSQL: 100,000 panellists × 200 statements × 3 groups (20 million ratings).

    .venv/bin/python bench/scale.py [--panellists 100000] [--statements 200] [--repeat 3]
                                    (PostgreSQL via --url, DELPHI_BENCH_POSTGRES_URL or DELPHI_TEST_POSTGRES_URL)

The bench creates a scratch database next to the URL it is given and drops it afterwards (``--keep``: it names it
``<database>_scale``, replacing any of that name, keeps it and prints its URL, for ``EXPLAIN ANALYZE`` of a page's
queries on the national panel as the pages left it).  It builds the panel
through the use cases (owner account, panel, three groups, the statements, round 1's schedule) and adds the
panellists with one server-side ``INSERT ... SELECT generate_series``; then, each measured in a fresh process
that reports its own peak RSS (``resource.getrusage``):

* **invitations**: ``transitions.open_round`` of round 1, which renders and queues one invitation per panellist
  (``delphi.rounds.mailing.round_opened``) in one transaction.  Floor: the same rows copied server-side into a
  table shaped like the outbox (its unique dedupe key included), ``INSERT ... SELECT`` in one statement;
* then the round's answers are seeded server-side (every panellist rates every statement, values from a fixed
  formula around a per-statement centre, 3% "unable"; 5% of panellists comment on 10 statements; nine in ten
  send the round, so the default analysis population, submitted answers only, leaves a tenth out) and the
  tables are ``VACUUM ANALYZE``d;
* **close and open**: ``transitions.close_round`` of round 1 (freeze pooled and per-group results, classify,
  draft round 2), then scheduling and ``open_round`` of round 2 (one "round 2 is open" mail per panellist),
  each in one transaction, as ``bench/round.py`` does.  Floor: a bare ``SELECT count(*)`` over round 1's
  ratings (the least any close must read), best of three;
* then round 2 gets some activity (70% of panellists visited, 5% rated every statement, 2% sent it);
* **pages**: the owner signs in through the login form of the real app (in-process test client) and fetches
  round 1's results, the monitor (round 2 open), the panellists and the mail pages, ``--repeat`` times each;
  a page's time is its median.  Floor: ``GET /healthz/live`` through the same client, median of 20.

Goal (issue 17): close and open ≤ 30 s with peak RSS ≤ 500 MB; invitations ≤ 20 s; every page ≤ 1 s.  Each
figure is printed with its ratio to its floor (how many floors it costs).  The last line printed is a JSON
object: ``seconds_close_open``, ``peak_rss_mb`` (the close/open process), ``seconds_enqueue``, ``max_page_ms``,
and the figures behind them (floors and ratios, each page's ms and bytes, seed seconds, sizes, the number of
results frozen and mails queued).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from delphi.accounts import create_account  # noqa: E402
from delphi.db.engine import make_engine, make_sessionmaker  # noqa: E402
from delphi.db.models import OutboxMessage, Panel, Round, RoundResult, utcnow  # noqa: E402
from delphi.domain import Actor  # noqa: E402
from delphi.panels.groups import add_group  # noqa: E402
from delphi.panels.settings import PanelInput, create_panel  # noqa: E402
from delphi.panels.statements import import_statements  # noqa: E402
from delphi.rounds import lookup, schedule, transitions  # noqa: E402
from delphi.settings import DatabaseSettings, Settings  # noqa: E402

SECRET = "bench-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"
OWNER = "owner@bench.example"
PASSWORD = "bench password 1"
ACTOR = Actor(f"account:{OWNER}")
GROUPS = ("Service users", "Practitioners", "Experts")
#: Statements commented on by 5% of the panellists, for the round's results page.
COMMENTED_STATEMENTS = 10


def settings_for(url: str, var_dir: Path | None = None) -> Settings:
    """The app's settings on the bench database (mail worker off: nothing is delivered)."""
    return Settings(
        database=DatabaseSettings(url=url),
        secret_key=SECRET,
        worker_in_process=False,
        base_url="http://testserver.local",
        var_dir=var_dir or Path(tempfile.gettempdir()) / "delphi-bench-scale",
    )


# --- seeding -------------------------------------------------------------------------------------------------


async def build_panel(url: str, n_people: int, n_statements: int) -> dict[str, int]:
    """The panel through its use cases, then its panellists server-side; returns the panel's and round's ids."""
    engine = make_engine(DatabaseSettings(url=url), null_pool=True)
    maker = make_sessionmaker(engine)
    now = utcnow()
    async with maker() as session, session.begin():
        account = await create_account(session, email=OWNER, password=PASSWORD, role="facilitator")
        panel = await create_panel(
            session,
            PanelInput(
                title="National panel",
                description="What matters most in the service, asked of the whole country.",
                max_rounds=3,
                contact_name="Bench Team",
                contact_email="team@bench.example",
            ),
            account.id,
            ACTOR,
        )
        for name in GROUPS:
            await add_group(session, panel, name, ACTOR)
        await import_statements(
            session, panel, "\n".join(f"Statement number {i + 1}" for i in range(n_statements)), ACTOR
        )
        round1 = await lookup.get_round(session, panel, 1)
        await schedule.set_schedule(
            session,
            panel,
            round1,
            opens_at=None,
            closes_at=now + timedelta(days=14),
            reminder_hours=[48],
            now=now,
            actor=ACTOR,
        )
        ids = {"panel_id": panel.id, "round_id": round1.id}
    async with engine.begin() as conn:
        await conn.execute(
            text(
                """
                INSERT INTO panellists (panel_id, group_id, email, name, pseudonym, language, status,
                                        session_version, created_at)
                SELECT :panel, (SELECT array_agg(id ORDER BY position, id) FROM stakeholder_groups
                                WHERE panel_id = :panel)[1 + i % 3],
                       'p' || i || '@people.example', 'Person ' || i, 'P-' || lpad(i::text, 6, '0'), 'en',
                       'invited', 1, now()
                FROM generate_series(0, :n - 1) AS i
                """
            ),
            {"panel": ids["panel_id"], "n": n_people},
        )
    await engine.dispose()
    return ids


async def seed_round1(url: str, round_id: int, n_statements: int) -> None:
    """Every panellist rates every statement of round 1 (server-side, a few statements a statement), nine in ten
    send it, 5% comment on the first statements; then the tables are analysed."""
    engine = make_engine(DatabaseSettings(url=url), null_pool=True)
    per_chunk = max(1, 2_000_000 // max(1, await _count(engine, "panellists")))
    kept = await _drop_keys(engine, "ratings")
    for start in range(0, n_statements, per_chunk):
        async with engine.begin() as conn:
            await conn.execute(text("SET LOCAL synchronous_commit = off"))
            # value: a per-statement centre (3..8) plus a spread of -2..+2 from a fixed hash of the pair
            await conn.execute(
                text(
                    """
                    INSERT INTO ratings (round_id, statement_id, panellist_id, value, unable, comment,
                                         comment_status, reason, reason_status, language, created_at,
                                         updated_at)
                    SELECT rs.round_id, rs.statement_id, p.id,
                           CASE WHEN (p.id * 7 + rs.position * 13) % 33 = 0 THEN NULL
                                ELSE least(9, greatest(1, 3 + rs.position % 6
                                     + ((p.id * 2654435761 + rs.statement_id * 40503) % 5) - 2)) END,
                           (p.id * 7 + rs.position * 13) % 33 = 0,
                           CASE WHEN p.id % 20 = 0 AND rs.position < :commented
                                THEN 'A comment on statement ' || rs.position || ' from ' || p.pseudonym
                                ELSE '' END,
                           'pending', '', 'pending', 'en', now(), now()
                    FROM round_statements rs CROSS JOIN panellists p
                    WHERE rs.round_id = :round AND rs.position >= :lo AND rs.position < :hi
                      AND p.panel_id = (SELECT panel_id FROM rounds WHERE id = :round)
                    """
                ),
                {"round": round_id, "lo": start, "hi": start + per_chunk, "commented": COMMENTED_STATEMENTS},
            )
    await _restore_keys(engine, kept)
    async with engine.begin() as conn:
        await conn.execute(
            text(
                """
                INSERT INTO submissions (round_id, panellist_id, submitted_at, language)
                SELECT :round, p.id, now(), 'en' FROM panellists p
                WHERE p.panel_id = (SELECT panel_id FROM rounds WHERE id = :round) AND p.id % 10 <> 0
                """
            ),
            {"round": round_id},
        )
        await conn.execute(
            text(
                """
                INSERT INTO round_visits (round_id, panellist_id, opened_at)
                SELECT :round, p.id, now() FROM panellists p
                WHERE p.panel_id = (SELECT panel_id FROM rounds WHERE id = :round)
                """
            ),
            {"round": round_id},
        )
        await conn.execute(
            text(
                "UPDATE panellists SET status = 'active', consented_at = now(), first_visit_at = now() "
                "WHERE panel_id = (SELECT panel_id FROM rounds WHERE id = :round)"
            ),
            {"round": round_id},
        )
    await vacuum(url)
    await engine.dispose()


async def seed_round2(url: str, round_id: int) -> None:
    """Round 2 under way: 70% of the panellists visited, 5% rated every statement, 2% sent it."""
    engine = make_engine(DatabaseSettings(url=url), null_pool=True)
    async with engine.begin() as conn:
        params = {"round": round_id}
        await conn.execute(
            text(
                """
                INSERT INTO round_visits (round_id, panellist_id, opened_at)
                SELECT :round, p.id, now() FROM panellists p
                WHERE p.panel_id = (SELECT panel_id FROM rounds WHERE id = :round) AND p.id % 10 < 7
                """
            ),
            params,
        )
        await conn.execute(
            text(
                """
                INSERT INTO ratings (round_id, statement_id, panellist_id, value, unable, comment,
                                     comment_status, reason, reason_status, language, created_at, updated_at)
                SELECT rs.round_id, rs.statement_id, p.id, 1 + (p.id + rs.position) % 9, false, '',
                       'pending', '', 'pending', 'en', now(), now()
                FROM round_statements rs CROSS JOIN panellists p
                WHERE rs.round_id = :round AND p.id % 20 = 1
                  AND p.panel_id = (SELECT panel_id FROM rounds WHERE id = :round)
                """
            ),
            params,
        )
        await conn.execute(
            text(
                """
                INSERT INTO submissions (round_id, panellist_id, submitted_at, language)
                SELECT :round, p.id, now(), 'en' FROM panellists p
                WHERE p.panel_id = (SELECT panel_id FROM rounds WHERE id = :round) AND p.id % 50 = 1
                """
            ),
            params,
        )
    await vacuum(url)
    await engine.dispose()


async def _drop_keys(engine: Any, table: str) -> list[str]:
    """Drop ``table``'s foreign keys, unique constraints and secondary indexes (its primary key stays) for a bulk
    seed; returns the statements that put them back (:func:`_restore_keys`).  Building an index once over
    20 million rows is many times faster than keeping it up to date row by row, and so is checking a foreign
    key in one join."""
    async with engine.begin() as conn:
        constraints = (
            await conn.execute(
                text(
                    "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                    "WHERE conrelid = CAST(:t AS regclass) AND contype IN ('f', 'u') ORDER BY contype DESC"
                ),
                {"t": table},
            )
        ).all()
        indexes = (
            await conn.execute(
                text(
                    "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = :t AND indexname NOT IN "
                    "(SELECT conname FROM pg_constraint WHERE conrelid = CAST(:t AS regclass))"
                ),
                {"t": table},
            )
        ).all()
        for name, _ in constraints:
            await conn.execute(text(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"'))
        for name, _ in indexes:
            await conn.execute(text(f'DROP INDEX "{name}"'))
    return [f'ALTER TABLE {table} ADD CONSTRAINT "{n}" {d}' for n, d in reversed(constraints)] + [
        d for _, d in indexes
    ]


async def _restore_keys(engine: Any, statements: list[str]) -> None:
    """Run :func:`_drop_keys`' statements: the unique constraints and indexes built, the foreign keys checked."""
    async with engine.begin() as conn:
        await conn.execute(text("SET LOCAL maintenance_work_mem = '512MB'"))
        for statement in statements:
            await conn.execute(text(statement))


async def vacuum(url: str) -> None:
    """``VACUUM ANALYZE`` the whole database (outside a transaction), as a running server's autovacuum would."""
    engine = make_engine(DatabaseSettings(url=url), null_pool=True)
    async with engine.connect() as conn:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text("VACUUM ANALYZE"))
    await engine.dispose()


async def _count(engine: Any, table: str) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one())


# --- floors --------------------------------------------------------------------------------------------------


async def count_floor(url: str, round_id: int) -> float:
    """Seconds of a bare ``SELECT count(*)`` over the round's ratings, best of three."""
    engine = make_engine(DatabaseSettings(url=url), null_pool=True)
    best = float("inf")
    async with engine.connect() as conn:
        for _ in range(3):
            t0 = time.perf_counter()
            await conn.execute(text("SELECT count(*) FROM ratings WHERE round_id = :r"), {"r": round_id})
            best = min(best, time.perf_counter() - t0)
    await engine.dispose()
    return best


async def enqueue_floor(url: str, round_id: int) -> float:
    """Seconds to copy the round's queued mail server-side into a table shaped like the outbox, with its indexes
    and its unique key (a logged table, so the copy writes the same WAL; no foreign keys to check)."""
    engine = make_engine(DatabaseSettings(url=url), null_pool=True)
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE outbox_floor (LIKE outbox_messages INCLUDING ALL)"))
        t0 = time.perf_counter()
        await conn.execute(
            text("INSERT INTO outbox_floor SELECT * FROM outbox_messages WHERE round_id = :r"),
            {"r": round_id},
        )
        seconds = time.perf_counter() - t0
        await conn.execute(text("DROP TABLE outbox_floor"))
    await engine.dispose()
    return seconds


# --- the measured use cases, each in a fresh process ---------------------------------------------------------


async def invite(url: str) -> dict[str, Any]:
    """Open round 1: one rendered invitation per panellist queued, in one transaction."""
    engine = make_engine(DatabaseSettings(url=url), null_pool=True)
    settings = settings_for(url)
    maker = make_sessionmaker(engine)
    t0 = time.perf_counter()
    async with maker() as session, session.begin():
        panel = await session.scalar(select(Panel))
        round1 = await lookup.get_round(session, panel, 1)
        queued = await transitions.open_round(session, panel, round1, settings=settings, actor=ACTOR)
    seconds = time.perf_counter() - t0
    await engine.dispose()
    return {"seconds": seconds, "queued": queued}


async def close_open(url: str) -> dict[str, Any]:
    """Close round 1 and open round 2, each in one transaction (as the pages do)."""
    engine = make_engine(DatabaseSettings(url=url), null_pool=True)
    settings = settings_for(url)
    maker = make_sessionmaker(engine)
    t0 = time.perf_counter()
    async with maker() as session, session.begin():
        panel = await session.scalar(select(Panel))
        round1 = await lookup.get_round(session, panel, 1)
        now = utcnow()
        await transitions.close_round(session, panel, round1, now=now, settings=settings, actor=ACTOR)
    t_close = time.perf_counter() - t0
    async with maker() as session, session.begin():
        panel = await session.scalar(select(Panel))
        round2 = await lookup.get_round(session, panel, 2)
        await schedule.set_schedule(
            session,
            panel,
            round2,
            opens_at=None,
            closes_at=now + timedelta(days=14),
            reminder_hours=[48],
            now=now,
            actor=ACTOR,
        )
        queued = await transitions.open_round(session, panel, round2, now=now, settings=settings, actor=ACTOR)
    seconds = time.perf_counter() - t0
    async with maker() as session:
        frozen = await session.scalar(
            select(func.count()).select_from(RoundResult).where(RoundResult.round_id == round1.id)
        )
        round2_id = round2.id
    await engine.dispose()
    return {
        "seconds": seconds,
        "seconds_close": t_close,
        "seconds_open": seconds - t_close,
        "queued": queued,
        "results_frozen": int(frozen or 0),
        "round2_id": round2_id,
    }


def peak_rss_mb() -> float:
    """This process's peak resident set (MB): ``VmHWM``, which starts afresh at ``exec`` (``ru_maxrss`` keeps
    the high-water mark of the parent that forked this process)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(args: argparse.Namespace) -> None:
    """Run one measured phase and print its figures with this process's peak RSS (MB) as JSON."""
    base_rss = peak_rss_mb()
    phase = invite(args.url) if args.phase == "invite" else close_open(args.url)
    profile_dir = os.environ.get("DELPHI_BENCH_PROFILE")  # a folder: write each phase's cProfile there
    if profile_dir:
        import cProfile

        with cProfile.Profile() as prof:
            out = asyncio.run(phase)
        prof.dump_stats(str(Path(profile_dir) / f"scale-{args.phase}.prof"))
    else:
        out = asyncio.run(phase)
    out["peak_rss_mb"] = peak_rss_mb()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    out["cpu_seconds"] = usage.ru_utime + usage.ru_stime
    out["start_rss_mb"] = base_rss
    print(json.dumps(out))


def in_child(url: str, phase: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--url", url, "--phase", phase], check=True, capture_output=True, text=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


# --- the facilitator's pages ----------------------------------------------------------------------------------


async def pages(url: str, panel_id: int, repeat: int, var_dir: Path) -> dict[str, Any]:
    """Each facilitator page's median time (ms) and size (bytes) through the real app, signed in as the owner,
    and the ``/healthz/live`` floor through the same client."""
    import logging
    import re

    from litestar.testing import AsyncTestClient

    from delphi.app import create_app

    logging.getLogger("httpx").setLevel(logging.WARNING)
    app = create_app(settings_for(url, var_dir))
    paths = {
        "results": f"/panels/{panel_id}/rounds/1/results",
        "monitor": f"/panels/{panel_id}/monitor",
        "panellists": f"/panels/{panel_id}/panellists",
        "mail": f"/panels/{panel_id}/mail",
    }
    out: dict[str, Any] = {}
    async with AsyncTestClient(app=app, base_url="http://testserver.local") as client:
        login_page = await client.get("/login")
        token = re.search(r'name="_csrf_token" value="([^"]+)"', login_page.text)
        assert token is not None, "no CSRF token on the login page"
        signed_in = await client.post(
            "/login",
            data={"email": OWNER, "password": PASSWORD, "_csrf_token": token.group(1)},
            follow_redirects=False,
        )
        assert signed_in.status_code == 303, signed_in.text
        floor = []
        for _ in range(20):
            t0 = time.perf_counter()
            r = await client.get("/healthz/live")
            floor.append((time.perf_counter() - t0) * 1000)
            assert r.status_code == 200
        out["floor_page_ms"] = statistics.median(floor)
        for name, path in paths.items():
            times, size = [], 0
            for _ in range(repeat):
                t0 = time.perf_counter()
                r = await client.get(path)
                times.append((time.perf_counter() - t0) * 1000)
                assert r.status_code == 200, (path, r.status_code, r.text[:500])
                size = len(r.content)
            out[f"{name}_ms"] = statistics.median(times)
            out[f"{name}_bytes"] = size
    return out


# --- the run ---------------------------------------------------------------------------------------------------


async def run(args: argparse.Namespace, postgres_url: str) -> dict[str, Any]:
    from tests.adversarial.live import scratch_database

    sizes = {"panellists": args.panellists, "statements": args.statements, "groups": len(GROUPS)}
    result: dict[str, Any] = {**sizes}
    with tempfile.TemporaryDirectory() as tmp:
        database = (
            kept_database(postgres_url)
            if args.keep
            else scratch_database("postgresql", Path(tmp), postgres_url)
        )
        async with database as url:
            say(f"PostgreSQL scratch database; {args.panellists:,} panellists × {args.statements} statements")
            t0 = time.perf_counter()
            ids = await build_panel(url, args.panellists, args.statements)
            await vacuum(url)
            result["seed_panel_seconds"] = time.perf_counter() - t0
            say(f"  panel and panellists seeded in {result['seed_panel_seconds']:.1f} s")

            inv = in_child(url, "invite")
            result["seconds_enqueue"] = inv["seconds"]
            result["invitations_queued"] = inv["queued"]
            result["peak_rss_mb_enqueue"] = inv["peak_rss_mb"]
            result["cpu_seconds_enqueue"] = inv["cpu_seconds"]
            result["floor_seconds_enqueue"] = await enqueue_floor(url, ids["round_id"])
            say(
                f"  invitations: {inv['queued']:,} queued in {inv['seconds']:.2f} s "
                f"(floor {result['floor_seconds_enqueue']:.2f} s; {inv['cpu_seconds']:.1f} s CPU), "
                f"peak RSS {inv['peak_rss_mb']:.0f} MB"
            )

            t0 = time.perf_counter()
            await seed_round1(url, ids["round_id"], args.statements)
            result["seed_ratings_seconds"] = time.perf_counter() - t0
            engine = make_engine(DatabaseSettings(url=url), null_pool=True)
            result["ratings"] = await _count(engine, "ratings")
            await engine.dispose()
            say(f"  {result['ratings']:,} ratings seeded in {result['seed_ratings_seconds']:.1f} s")

            result["floor_seconds_count"] = await count_floor(url, ids["round_id"])
            co = in_child(url, "close")
            result["seconds_close_open"] = co["seconds"]
            result["seconds_close"] = co["seconds_close"]
            result["seconds_open"] = co["seconds_open"]
            result["peak_rss_mb"] = co["peak_rss_mb"]
            result["start_rss_mb"] = co["start_rss_mb"]
            result["cpu_seconds_close_open"] = co["cpu_seconds"]
            result["results_frozen"] = co["results_frozen"]
            result["round_open_mails_queued"] = co["queued"]
            say(
                f"  close {co['seconds_close']:.2f} s + open {co['seconds_open']:.2f} s "
                f"(count floor {result['floor_seconds_count']:.2f} s; {co['cpu_seconds']:.1f} s CPU), "
                f"peak RSS {co['peak_rss_mb']:.0f} MB (from {co['start_rss_mb']:.0f}), "
                f"{co['results_frozen']} results frozen, {co['queued']:,} mails queued"
            )

            t0 = time.perf_counter()
            await seed_round2(url, co["round2_id"])
            result["seed_round2_seconds"] = time.perf_counter() - t0
            page = await pages(url, ids["panel_id"], args.repeat, Path(tmp) / "var")
            result.update(page)
            names = ("results", "monitor", "panellists", "mail")
            result["max_page_ms"] = max(page[f"{n}_ms"] for n in names)
            for n in names:
                say(f"  {n}: {page[f'{n}_ms']:.0f} ms, {page[f'{n}_bytes']:,} bytes")
            say(f"  floor /healthz/live: {page['floor_page_ms']:.1f} ms")
            async with make_sessionmaker(make_engine(DatabaseSettings(url=url), null_pool=True))() as s:
                result["outbox_rows"] = int(
                    await s.scalar(select(func.count()).select_from(OutboxMessage)) or 0
                )
                result["rounds"] = int(await s.scalar(select(func.count()).select_from(Round)) or 0)
    result["ratio_close_open"] = result["seconds_close_open"] / max(result["floor_seconds_count"], 1e-9)
    result["ratio_enqueue"] = result["seconds_enqueue"] / max(result["floor_seconds_enqueue"], 1e-9)
    result["ratio_page"] = result["max_page_ms"] / max(result["floor_page_ms"], 1e-9)
    say(
        f"ratios to the floors: close+open {result['ratio_close_open']:.1f}×, "
        f"enqueue {result['ratio_enqueue']:.1f}×, slowest page {result['ratio_page']:.0f}×"
    )
    return {k: round(v, 3) if isinstance(v, float) else v for k, v in result.items()}


@contextlib.asynccontextmanager
async def kept_database(postgres_url: str) -> AsyncIterator[str]:
    """A fresh, schema-ready database ``<database>_scale`` next to ``postgres_url`` (one of that name dropped
    first), left in place afterwards; its URL is printed when the run ends."""
    from sqlalchemy.engine import make_url

    from delphi.settings import asyncpg_url
    from tests.conftest import admin_execute, create_schema

    base = make_url(asyncpg_url(postgres_url))
    admin = base.render_as_string(hide_password=False)
    name = f"{base.database}_scale"
    await admin_execute(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin_execute(admin, f'CREATE DATABASE "{name}"')
    url = base.set(database=name).render_as_string(hide_password=False)
    await create_schema(url)
    yield url
    say(f"database kept: {url}")


def say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--panellists", type=int, default=100_000)
    parser.add_argument("--statements", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3, help="fetches of each page (median taken)")
    parser.add_argument("--url", help="PostgreSQL URL next to which the scratch database is made")
    parser.add_argument(
        "--keep", action="store_true", help="keep the database (<database>_scale) and print its URL"
    )
    parser.add_argument("--phase", choices=("invite", "close"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        child(args)
        return
    url = (
        args.url or os.environ.get("DELPHI_BENCH_POSTGRES_URL") or os.environ.get("DELPHI_TEST_POSTGRES_URL")
    )
    if not url:
        parser.error("give --url or set DELPHI_BENCH_POSTGRES_URL (the bench needs PostgreSQL)")
    print(json.dumps(asyncio.run(run(args, url))))


if __name__ == "__main__":
    main()
