"""Saves during a large panellist import, on SQLite, through the use cases (no HTTP).

    .venv/bin/python bench/imports.py [--rows 20000] [--savers 64] [--floor-seconds 3]

One SQLite file, one process, one event loop (as a SQLite deployment serves: one web process).  Two panels,
each with round 1 open (so imported panellists are late joiners, invited at once); ``--savers`` consented
panellists of the first keep saving random answers through the background save
(:class:`delphi.participation.save_queue.SaveQueue`, the group-commit writer), each waiting 50-250 ms between
saves.  Three phases, each with the same savers:

* floor: saves alone for ``--floor-seconds``;
* before: ``--rows`` panellists imported as the page did until now: the whole file in one transaction
  (:func:`delphi.panels.panellists.import_panellists`, then one :func:`delphi.rounds.mailing.invite_late_joiner`
  per panellist), into the first panel;
* after: ``--rows`` other panellists imported as the page does now: the file previewed, then written
  :data:`~delphi.panels.panellists.CHUNK_ROWS` rows a transaction
  (:func:`~delphi.panels.panellists.import_panellists_in_chunks`, late joiners invited per chunk), into the
  second panel.

Reported per phase: the saves' p50, p99 and max (ms) over the saves sent while the import ran, those that
failed (their batch did not get the write lock within SQLite's 15 s busy timeout), and the import's seconds.
"after" runs before "before", so that the saves the old import stalls cannot spill into it.  ``ratio_*`` is a phase's p99 over the floor's.  Goal: ``p99_ms_after`` < 500.  The last line is a JSON
object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import select  # noqa: E402

from delphi.db.engine import make_engine, make_sessionmaker  # noqa: E402
from delphi.db.models import Base, Panel, Panellist  # noqa: E402
from delphi.panels.panellists import (  # noqa: E402
    CHUNK_ROWS,
    import_panellists,
    import_panellists_in_chunks,
    preview_panellist_import,
)
from delphi.participation.checks import RatingInput  # noqa: E402
from delphi.participation.save_queue import SaveQueue  # noqa: E402
from delphi.rounds import mailing  # noqa: E402
from delphi.settings import DatabaseSettings  # noqa: E402
from tests.factories import ACTOR, build_panel  # noqa: E402

SECRET = "bench-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"


def people(n: int, prefix: str) -> str:
    rows = [f"{prefix}{i}@example.org,Service users,Person {i},en" for i in range(n)]
    return "\n".join(["email,group,name,language", *rows]) + "\n"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


async def main(rows: int, savers: int, floor_seconds: float, chunk_rows: int) -> dict[str, Any]:
    folder = tempfile.mkdtemp(prefix="delphi-bench-imports-")
    engine = make_engine(DatabaseSettings(url=f"sqlite+aiosqlite:///{folder}/bench.db"))
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    maker = make_sessionmaker(engine)
    async with maker() as session, session.begin():
        saving = await build_panel(
            session, panellists=savers, consented=True, sections=(("S", 20),), email="saver{n}@example.org"
        )
        other = await build_panel(session, panellists=1, email="other{n}@example.org")
    people_ids = [saving.panellist.id, *(p.id for p, _ in saving.others)][:savers]
    statements = [s.id for s in saving.statements]
    queue = SaveQueue(engine)
    latencies: list[tuple[float, float]] = []  # (sent at, seconds)
    failed: list[float] = []  # when the saves were sent that failed
    stop = asyncio.Event()

    async def saver(pid: int) -> None:
        rng = random.Random(pid)
        while not stop.is_set():
            sent = time.perf_counter()
            result = await queue.save(pid, 1, RatingInput(rng.choice(statements), rng.randint(1, 9)))
            latencies.append((sent, time.perf_counter() - sent))
            if result is None:  # its batch failed: the lock was not had within the busy timeout (15 s)
                failed.append(sent)
            await asyncio.sleep(rng.uniform(0.05, 0.25))

    async def before() -> None:
        async with maker() as session, session.begin():
            panel = await session.get(Panel, saving.panel.id)
            assert panel is not None
            created = await import_panellists(
                session, panel, people(rows, "old"), secret_key=SECRET, actor=ACTOR
            )
            for p in created:
                await mailing.invite_late_joiner(session, panel, p)

    async def after() -> None:
        async with maker() as session:
            panel = await session.get(Panel, other.panel.id)
            assert panel is not None
            parsed = await preview_panellist_import(session, panel, people(rows, "new"))
            await import_panellists_in_chunks(
                session,
                panel,
                parsed,
                secret_key=SECRET,
                actor=ACTOR,
                chunk_rows=chunk_rows,
                on_chunk=lambda s, created: mailing.invite_late_joiners(s, panel, created),
            )

    tasks = [asyncio.create_task(saver(pid)) for pid in people_ids]
    await asyncio.sleep(1.0)  # warm up
    phases: dict[str, dict[str, float]] = {}
    for name, work in (("floor", None), ("after", after), ("before", before)):
        start = time.perf_counter()
        if work is None:
            await asyncio.sleep(floor_seconds)
        else:
            await work()
        end = time.perf_counter()
        await asyncio.sleep(2.0)  # the saves sent during the import that are still waiting complete
        during = [s for sent, s in latencies if start <= sent <= end]
        phases[name] = {
            "seconds": round(end - start, 2),
            "saves": len(during),
            "p50_ms": round(1000 * percentile(during, 0.5), 1),
            "p99_ms": round(1000 * percentile(during, 0.99), 1),
            "max_ms": round(1000 * max(during, default=float("nan")), 1),
            "failed": sum(start <= sent <= end for sent in failed),
        }
        print(name, phases[name], flush=True)
    stop.set()
    await asyncio.gather(*tasks)
    await queue.aclose()
    async with maker() as session:
        imported = len((await session.scalars(select(Panellist.id))).all()) - savers - 1
    await engine.dispose()
    assert imported == 2 * rows, imported
    floor = phases["floor"]["p99_ms"]
    out: dict[str, Any] = {"rows": rows, "savers": savers, "chunk_rows": chunk_rows}
    for name, figures in phases.items():
        for key, value in figures.items():
            out[f"{key}_{name}"] = value
    out["ratio_before"] = round(phases["before"]["p99_ms"] / floor, 1)
    out["ratio_after"] = round(phases["after"]["p99_ms"] / floor, 1)
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--savers", type=int, default=64)
    parser.add_argument("--floor-seconds", type=float, default=3.0)
    parser.add_argument("--chunk-rows", type=int, default=CHUNK_ROWS)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main(args.rows, args.savers, args.floor_seconds, args.chunk_rows))))
