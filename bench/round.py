"""Close a round and open the next for 10,000 panellists × 200 statements, on SQLite and PostgreSQL.

For each backend a first process builds the panel (round 1 open, every panellist has rated every statement,
nine in ten have sent it, so the close counts the default analysis population, submitted answers only);
a second, fresh process then times ``close_round`` (freeze results, carry forward) plus scheduling and opening
round 2 (one rendered "round 2 is open" mail per panellist in the outbox), each in one transaction, and reports
its own peak RSS.  Goal: at most 10 s and 500 MB.

    python bench/round.py [--panellists 10000] [--statements 200]     (PostgreSQL via DELPHI_BENCH_POSTGRES_URL
                                                                       or DELPHI_TEST_POSTGRES_URL when set)

Last line: ``{"seconds_sqlite": ..., "seconds_postgres": ..., "peak_rss_mb": ...}``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import numpy as np
from sqlalchemy import insert, select, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from delphi.db.engine import make_engine, make_sessionmaker  # noqa: E402
from delphi.db.models import (  # noqa: E402
    Base,
    Panel,
    Panellist,
    Rating,
    Round,
    RoundStatement,
    StakeholderGroup,
    Submission,
    utcnow,
)
from delphi.domain import Actor  # noqa: E402
from delphi.panels.groups import add_group  # noqa: E402
from delphi.panels.settings import PanelInput, create_panel  # noqa: E402
from delphi.panels.statements import import_statements  # noqa: E402
from delphi.rounds import lookup, schedule, transitions  # noqa: E402
from delphi.settings import DatabaseSettings, Settings  # noqa: E402

SECRET = "bench-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"
ACTOR = Actor("account:bench@example.org")


async def build(url: str, n_people: int, n_statements: int) -> None:
    engine = make_engine(DatabaseSettings(url=url), null_pool=True)
    async with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
        await conn.run_sync(Base.metadata.create_all)
    maker = make_sessionmaker(engine)
    now = utcnow()
    async with maker() as session, session.begin():
        from delphi.accounts import create_account

        account = await create_account(
            session, email="bench@example.org", password="bench password 1", role="facilitator"
        )
        panel = await create_panel(session, PanelInput(title="Bench panel", max_rounds=3), account.id, ACTOR)
        for name in ("Service users", "Practitioners", "Experts"):
            await add_group(session, panel, name, ACTOR)
        await import_statements(
            session, panel, "\n".join(f"Statement {i}" for i in range(n_statements)), ACTOR
        )
        groups = (await session.scalars(select(StakeholderGroup.id).order_by(StakeholderGroup.id))).all()
        await session.execute(
            insert(Panellist),
            [
                {
                    "panel_id": panel.id,
                    "group_id": groups[i % 3],
                    "email": f"p{i}@example.org",
                    "name": "",
                    "pseudonym": f"P-{i:05d}",
                    "language": "en",
                    "status": "active",
                    "session_version": 1,
                }
                for i in range(n_people)
            ],
        )
        round1 = await lookup.get_round(session, panel, 1)
        await schedule.set_schedule(
            session,
            panel,
            round1,
            opens_at=None,
            closes_at=now + timedelta(days=5),
            reminder_hours=[],
            now=now,
            actor=ACTOR,
        )
        round1.status, round1.opened_at, panel.status, panel.rule_locked_at = "open", now, "running", now
        panel_id, round_id = panel.id, round1.id
    async with maker() as session:
        sids = (
            await session.scalars(
                select(RoundStatement.statement_id)
                .where(RoundStatement.round_id == round_id)
                .order_by(RoundStatement.position)
            )
        ).all()
        pids = (
            await session.scalars(
                select(Panellist.id).where(Panellist.panel_id == panel_id).order_by(Panellist.id)
            )
        ).all()
    rng = np.random.default_rng(7)
    means = rng.uniform(3, 8.5, len(sids))
    for start in range(0, len(pids), 500):
        chunk = pids[start : start + 500]
        values = np.clip(np.rint(rng.normal(means[:, None], 1.5, (len(sids), len(chunk)))), 1, 9).astype(int)
        rows = [
            {
                "round_id": round_id,
                "statement_id": sid,
                "panellist_id": pid,
                "value": int(values[i, j]),
                "unable": False,
            }
            for j, pid in enumerate(chunk)
            for i, sid in enumerate(sids)
        ]
        async with maker() as session, session.begin():
            await session.execute(insert(Rating), rows)
    # nine in ten sent the round; the others' answers are drafts, which the default population leaves out
    async with maker() as session, session.begin():
        await session.execute(
            insert(Submission),
            [{"round_id": round_id, "panellist_id": pid} for i, pid in enumerate(pids) if i % 10],
        )
    await engine.dispose()


async def run(url: str) -> float:
    engine = make_engine(DatabaseSettings(url=url), null_pool=True)
    settings = Settings(database=DatabaseSettings(url=url), secret_key=SECRET, worker_in_process=False)
    maker = make_sessionmaker(engine)
    t0 = time.perf_counter()
    async with maker() as session, session.begin():
        panel = await session.scalar(select(Panel))
        round1 = await session.scalar(select(Round).where(Round.number == 1))
        now = utcnow()
        await transitions.close_round(session, panel, round1, now=now, settings=settings, actor=ACTOR)
    async with maker() as session, session.begin():
        panel = await session.scalar(select(Panel))
        round2 = await lookup.get_round(session, panel, 2)
        await schedule.set_schedule(
            session,
            panel,
            round2,
            opens_at=None,
            closes_at=now + timedelta(days=7),
            reminder_hours=[48],
            now=now,
            actor=ACTOR,
        )
        await transitions.open_round(session, panel, round2, now=now, settings=settings, actor=ACTOR)
    elapsed = time.perf_counter() - t0
    await engine.dispose()
    return elapsed


def child(args: argparse.Namespace) -> None:
    if args.phase == "build":
        asyncio.run(build(args.url, args.panellists, args.statements))
        return
    seconds = asyncio.run(run(args.url))
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": round(seconds, 3), "peak_rss_mb": round(rss_mb, 1)}))


def measure(url: str, args: argparse.Namespace) -> dict[str, float]:
    base = [
        sys.executable,
        __file__,
        "--url",
        url,
        "--panellists",
        str(args.panellists),
        "--statements",
        str(args.statements),
    ]
    t0 = time.perf_counter()
    subprocess.run([*base, "--phase", "build"], check=True)
    print(f"  built in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    out = subprocess.run([*base, "--phase", "run"], check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--panellists", type=int, default=10_000)
    parser.add_argument("--statements", type=int, default=200)
    parser.add_argument("--phase", choices=("build", "run"))
    parser.add_argument("--url")
    args = parser.parse_args()
    if args.phase:
        child(args)
        return
    results: dict[str, float | None] = {"seconds_sqlite": None, "seconds_postgres": None}
    peak = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        print(f"SQLite: {args.panellists} panellists × {args.statements} statements", file=sys.stderr)
        r = measure(f"sqlite+aiosqlite:///{tmp}/bench.db", args)
        results["seconds_sqlite"], peak = r["seconds"], max(peak, r["peak_rss_mb"])
        print(f"  close + open: {r['seconds']} s, peak RSS {r['peak_rss_mb']} MB", file=sys.stderr)
    pg = os.environ.get("DELPHI_BENCH_POSTGRES_URL") or os.environ.get("DELPHI_TEST_POSTGRES_URL")
    if pg:
        print("PostgreSQL", file=sys.stderr)
        r = measure(pg, args)
        results["seconds_postgres"], peak = r["seconds"], max(peak, r["peak_rss_mb"])
        print(f"  close + open: {r['seconds']} s, peak RSS {r['peak_rss_mb']} MB", file=sys.stderr)
    print(json.dumps({**results, "peak_rss_mb": peak}))


if __name__ == "__main__":
    main()
