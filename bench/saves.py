"""Saving one rating over HTTP on the real server, against the same app's authenticated no-database route.

    .venv/bin/python bench/saves.py [--seconds 5] [--seconds-200 2.5] [--rounds 2] [--import-rows 20000]
                                    (PostgreSQL via DELPHI_BENCH_POSTGRES_URL or DELPHI_TEST_POSTGRES_URL)

For each backend (SQLite, and PostgreSQL when a URL is given: the bench creates a scratch database next to it
and drops it afterwards) the app runs under uvicorn as a separate process on a free 127.0.0.1 port, one worker
process, with the access log off and the in-process mail worker off.  The server's app is the production app
plus one bench-only route (``bench/_saves_server.py``; the production entry point never has it).  200
panellists (consented, in an open round of 50 statements) sign in through their personal links; then, on one
keep-alive connection each, the first 64 (then all 200) send as fast as the server answers:

* bare floor: ``GET /healthz/live`` (``{"status": "ok"}``; no session, no CSRF, no body, no database);
* floor: ``POST /panel/bench-floor/{id}``, the same request as the save (session cookie, CSRF header, JSON
  body), which decrypts the cookie, checks its lifetimes and the CSRF token, parses the body and answers a
  fixed result of the save's shape without touching the database;
* save: ``POST /panel/ratings/{id}`` with ``{"answer": n}`` and the CSRF header, a random answer to the next
  statement, as ``panellist.js`` sends it.

The three alternate for ``--rounds`` rounds of ``--seconds`` each (``--seconds-200`` with 200 clients), so a
drifting machine load hits them alike; a ratio is the median over rounds of saves per second over floor
requests per second.  Latency percentiles are over every save of a client count.  The load generator is a
minimal HTTP/1.1 client on raw asyncio streams with prepared request bytes, so it costs far less CPU per
request than the server and does not hide the server's rate.

On SQLite, last: a facilitator imports ``--import-rows`` panellists into the same panel through the real
import page (``POST /panels/{id}/panellists/import``: the preview, then the confirmation, each one request,
in the same server process; ``--import-rows 0`` skips it) while 64 panellists keep saving; ``p99_ms_during_import_sqlite`` is over the saves
sent from the preview's start to the confirmation's answer.

After the runs, every acknowledged save is compared with the database: ``lost_writes`` counts (panellist,
statement) pairs whose stored answer is not the last one the server acknowledged.

Goal: ``ratio`` >= 0.6 on both backends; p99 < 50 ms with 64 clients and < 150 ms with 200; p99 < 500 ms
during the import; zero lost writes.  The last line printed is a JSON object: ``ratio_sqlite``,
``ratio_postgres``, ``p99_ms_64_sqlite``, ``p99_ms_64_postgres``, ``p99_ms_200_sqlite``, ``p99_ms_200_postgres``,
``lost_writes``, ``p99_ms_during_import_sqlite``, and the bare-floor ratios, rates and percentiles behind them
(None for a backend or scenario not run).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from bench._saves_server import FLOOR_PREFIX
from delphi.accounts import create_account
from delphi.db.engine import make_engine, make_sessionmaker
from delphi.db.models import PanelAccess, Panellist, Rating
from delphi.settings import DatabaseSettings
from tests.adversarial.live import (
    HOST,
    LiveServer,
    PanellistClient,
    Seeded,
    fetch_all,
    scalar,
    scratch_database,
    seed_panel,
)
from tests.helpers import PASSWORD, csrf_from

STATEMENTS = 50
CLIENT_COUNTS = (64, 200)
FACTORY = "bench._saves_server:app_with_floor"
FACILITATOR = "bench@facilitators.example"
KINDS = ("bare", "floor", "save")


class Connection:
    """One keep-alive HTTP/1.1 connection sending prepared requests and reading ``Content-Length`` bodies."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(HOST, self.port)

    async def request(self, raw: bytes) -> tuple[int, bytes]:
        assert self.reader is not None and self.writer is not None
        self.writer.write(raw)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.lower() == b"content-length":
                length = int(value)
        body = await self.reader.readexactly(length) if length else b""
        return status, body

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            try:
                await self.writer.wait_closed()
            except OSError:
                pass


@dataclass
class Client:
    """A signed-in panellist: the cookie header and CSRF token a browser would send."""

    number: int
    panellist_id: int
    cookie: str
    csrf: str
    #: statement id -> last acknowledged answer
    acked: dict[int, int] = field(default_factory=dict)


def get_request(path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: {HOST}\r\nAccept: application/json\r\n\r\n".encode()


def post_request(client: Client, path: str, answer: int) -> bytes:
    """The background save's request (``panellist.js``) to ``path``: JSON body, CSRF header, session cookie."""
    body = json.dumps({"answer": answer}).encode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {HOST}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        f"Accept: application/json\r\nx-csrftoken: {client.csrf}\r\nCookie: {client.cookie}\r\n\r\n"
    )
    return head.encode() + body


async def sign_in(base_url: str, people: list[Any]) -> list[Client]:
    clients = []
    for n, person in enumerate(people, start=1):
        async with PanellistClient(base_url, person.token, n) as pc:
            for response in await pc.sign_in(consent=False):
                if response.status_code >= 400:
                    raise RuntimeError(f"sign-in failed: {response.status_code} {response.text[:200]}")
            await pc.read_csrf("/panel/rate")
            cookie = "; ".join(f"{c.name}={c.value}" for c in pc.http.cookies.jar)
            clients.append(Client(n, person.id, cookie, pc.csrf))
    return clients


@dataclass
class Run:
    """One kind's run: requests answered 2xx, every latency (s) and the errors."""

    done: int = 0
    latencies: list[float] = field(default_factory=list)
    errors: int = 0


async def drive(
    port: int, clients: list[Client], statements: list[int], kind: str, going: Callable[[], bool]
) -> Run:
    """Every client sends ``kind`` requests (``bare``, ``floor`` or ``save``) back to back while ``going()``."""
    run = Run()
    live = get_request("/healthz/live")

    async def one(client: Client) -> None:
        rng = random.Random(client.number * 7919 + KINDS.index(kind))
        conn = Connection(port)
        await conn.open()
        i = rng.randrange(len(statements))
        try:
            while going():
                sid, answer = statements[i % len(statements)], rng.randint(1, 9)
                i += 1
                if kind == "bare":
                    raw = live
                else:
                    path = f"/panel/ratings/{sid}" if kind == "save" else f"{FLOOR_PREFIX}/{sid}"
                    raw = post_request(client, path, answer)
                t0 = time.perf_counter()
                status, _ = await conn.request(raw)
                run.latencies.append(time.perf_counter() - t0)
                if 200 <= status < 300:
                    run.done += 1
                    if kind == "save":
                        client.acked[sid] = answer
                else:
                    run.errors += 1
        finally:
            await conn.close()

    await asyncio.gather(*(one(c) for c in clients))
    return run


def for_seconds(seconds: float) -> Callable[[], bool]:
    stop_at = time.perf_counter() + seconds
    return lambda: time.perf_counter() < stop_at


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


async def compare(
    port: int, clients: list[Client], statements: list[int], seconds: float, rounds: int
) -> dict[str, Any]:
    """``rounds`` rounds of bare floor, floor and save, ``seconds`` each: the median rates and ratios, the
    save latency percentiles (ms) and the errors."""
    rates: dict[str, list[float]] = {k: [] for k in KINDS}
    ratio, ratio_bare, save_latency, errors = [], [], [], 0
    for _ in range(rounds):
        for kind in KINDS:
            run = await drive(port, clients, statements, kind, for_seconds(seconds))
            rates[kind].append(run.done / seconds)
            errors += run.errors
            if kind == "save":
                save_latency += run.latencies
        ratio.append(rates["save"][-1] / rates["floor"][-1])
        ratio_bare.append(rates["save"][-1] / rates["bare"][-1])
    return {
        "ratio": statistics.median(ratio),
        "ratio_bare": statistics.median(ratio_bare),
        **{f"{k}_rps": statistics.median(v) for k, v in rates.items()},
        "p50_ms": percentile(save_latency, 0.50) * 1000,
        "p99_ms": percentile(save_latency, 0.99) * 1000,
        "saves": len(save_latency),
        "errors": errors,
    }


def import_csv(rows: int) -> str:
    """A panellist CSV of ``rows`` new people spread over the seeded panel's two groups."""
    groups = ("Service users", "Practitioners")
    lines = [f"import{n}@bench.example,{groups[n % 2]},Imported {n},en" for n in range(1, rows + 1)]
    return "email,group,name,language\n" + "\n".join(lines) + "\n"


async def add_facilitator(url: str, panel_id: int) -> None:
    engine = make_engine(DatabaseSettings(url=url), null_pool=True)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            account = await create_account(session, email=FACILITATOR, password=PASSWORD, role="facilitator")
            session.add(PanelAccess(panel_id=panel_id, account_id=account.id, role="owner"))
    finally:
        await engine.dispose()


async def during_import(
    server: LiveServer, url: str, clients: list[Client], seeded: Seeded, rows: int
) -> dict[str, Any]:
    """``clients`` save while a facilitator previews and confirms a ``rows``-row import through the page of
    ``server`` (whose database is at ``url``)."""
    await add_facilitator(url, seeded.panel_id)
    page = f"/panels/{seeded.panel_id}/panellists"
    text = import_csv(rows)
    async with httpx.AsyncClient(
        base_url=server.base_url, headers={"x-forwarded-for": "10.255.0.1"}, timeout=httpx.Timeout(1800.0)
    ) as fac:
        token = csrf_from((await fac.get("/login")).text)
        response = await fac.post(
            "/login", data={"email": FACILITATOR, "password": PASSWORD, "_csrf_token": token}
        )
        if response.status_code != 303:
            raise RuntimeError(f"facilitator sign-in failed: {response.status_code} {response.text[:300]}")
        token = csrf_from((await fac.get(page)).text)
        finished = asyncio.Event()

        async def facilitator() -> tuple[float, float]:
            try:
                t0 = time.perf_counter()
                preview = await fac.post(f"{page}/import", data={"csv_text": text, "_csrf_token": token})
                t1 = time.perf_counter()
                if preview.status_code != 200:
                    raise RuntimeError(f"import preview: {preview.status_code} {preview.text[:300]}")
                confirm = await fac.post(
                    f"{page}/import", data={"csv_text": text, "confirm": "1", "_csrf_token": token}
                )
                t2 = time.perf_counter()
                if confirm.status_code != 303:
                    raise RuntimeError(f"import confirmation: {confirm.status_code} {confirm.text[:300]}")
                return t1 - t0, t2 - t1
            finally:
                finished.set()

        saving = asyncio.create_task(
            drive(server.port, clients, seeded.statement_ids, "save", lambda: not finished.is_set())
        )
        preview_s, confirm_s = await facilitator()
        run = await saving
    imported = await scalar(
        url, select(func.count()).select_from(Panellist).where(Panellist.panel_id == seeded.panel_id)
    )
    if imported != len(seeded.people) + rows:
        raise RuntimeError(f"the import left {imported} panellists, not {len(seeded.people) + rows}")
    return {
        "rows": rows,
        "preview_s": preview_s,
        "confirm_s": confirm_s,
        "p50_ms": percentile(run.latencies, 0.50) * 1000,
        "p99_ms": percentile(run.latencies, 0.99) * 1000,
        "max_ms": max(run.latencies, default=float("nan")) * 1000,
        "saves": run.done,
        "errors": run.errors,
    }


async def measure(backend: str, args: argparse.Namespace, postgres_url: str) -> dict[str, Any]:
    """Every client count (and on SQLite the import) on one server over one scratch database."""
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench-saves-") as tmp:
        async with scratch_database(backend, Path(tmp), postgres_url) as url:
            seeded = await seed_panel(
                url, panellists=max(CLIENT_COUNTS), statements=STATEMENTS, consented=True
            )
            server = LiveServer(url, Path(tmp), access_log=False, log_level="WARNING")
            server.argv[server.argv.index("delphi.asgi:app_from_env")] = FACTORY
            server.argv[server.argv.index("--log-level") + 1] = "warning"
            await asyncio.to_thread(server.start)
            try:
                everyone = await sign_in(server.base_url, seeded.people)
                for kind in KINDS:  # warm up every route (imports, pools, caches)
                    await drive(server.port, everyone[:64], seeded.statement_ids, kind, for_seconds(1.0))
                for n in CLIENT_COUNTS:
                    seconds = args.seconds if n == CLIENT_COUNTS[0] else args.seconds_200
                    r = await compare(server.port, everyone[:n], seeded.statement_ids, seconds, args.rounds)
                    out[n] = r
                    print(
                        f"{backend}, {n} clients: bare {r['bare_rps']:.0f} req/s, floor {r['floor_rps']:.0f} "
                        f"req/s, save {r['save_rps']:.0f} req/s (ratio {r['ratio']:.2f}, to bare "
                        f"{r['ratio_bare']:.2f}), save p50 {r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms, "
                        f"{r['saves']} saves, {r['errors']} errors",
                        flush=True,
                    )
                if backend == "sqlite" and args.import_rows > 0:
                    imp = await during_import(server, url, everyone[:64], seeded, args.import_rows)
                    out["import"] = imp
                    print(
                        f"{backend}, {imp['rows']:,}-row import (preview {imp['preview_s']:.1f} s, "
                        f"confirmation {imp['confirm_s']:.1f} s) while 64 save: p50 {imp['p50_ms']:.1f} ms, "
                        f"p99 {imp['p99_ms']:.1f} ms, max {imp['max_ms']:.0f} ms, {imp['saves']} saves, "
                        f"{imp['errors']} errors",
                        flush=True,
                    )
            finally:
                server.stop()
            rows = await fetch_all(
                url,
                select(Rating.panellist_id, Rating.statement_id, Rating.value).where(
                    Rating.round_id == seeded.round_id
                ),
            )
            stored = {(p, s): v for p, s, v in rows}
            out["lost_writes"] = sum(
                1
                for c in everyone
                for sid, answer in c.acked.items()
                if stored.get((c.panellist_id, sid)) != answer
            )
            print(f"{backend}: lost writes {out['lost_writes']}", flush=True)
            log = server.output()
            if "Traceback" in log:
                print(f"{backend}: the server logged errors:\n{log[-2000:]}", file=sys.stderr)
    return out


def summary(results: dict[str, dict[str, Any] | None], args: argparse.Namespace) -> dict[str, Any]:
    """The last line's object: the goal keys first, then what lies behind them."""
    small, large = CLIENT_COUNTS

    def pick(name: str, n: int, key: str, digits: int = 1) -> float | None:
        r = results.get(name)
        return round(r[n][key], digits) if r else None

    out: dict[str, Any] = {}
    for name in results:
        out[f"ratio_{name}"] = pick(name, small, "ratio", 3)
    for n in CLIENT_COUNTS:
        for name in results:
            out[f"p99_ms_{n}_{name}"] = pick(name, n, "p99_ms")
    out["lost_writes"] = sum(r["lost_writes"] for r in results.values() if r)
    imp = (results.get("sqlite") or {}).get("import")
    out["p99_ms_during_import_sqlite"] = round(imp["p99_ms"], 1) if imp else None
    for name in results:
        out[f"ratio_bare_{name}"] = pick(name, small, "ratio_bare", 3)
        out[f"ratio_{large}_{name}"] = pick(name, large, "ratio", 3)
    for name, r in results.items():
        if r:
            for n in CLIENT_COUNTS:
                for key in ("save_rps", "floor_rps", "bare_rps"):
                    out[f"{key}_{n}_{name}"] = round(r[n][key])
                out[f"p50_ms_{n}_{name}"] = round(r[n]["p50_ms"], 1)
                out[f"errors_{n}_{name}"] = r[n]["errors"]
    if imp:
        out["import_rows"] = imp["rows"]
        out["import_preview_s"] = round(imp["preview_s"], 2)
        out["import_confirm_s"] = round(imp["confirm_s"], 2)
        out["max_ms_during_import_sqlite"] = round(imp["max_ms"])
        out["errors_during_import_sqlite"] = imp["errors"]
    out["seconds"], out["seconds_200"], out["rounds"] = args.seconds, args.seconds_200, args.rounds
    return out


async def main(args: argparse.Namespace) -> dict[str, Any]:
    pg = os.environ.get("DELPHI_BENCH_POSTGRES_URL") or os.environ.get("DELPHI_TEST_POSTGRES_URL") or ""
    results: dict[str, dict[str, Any] | None] = {"sqlite": await measure("sqlite", args, "")}
    results["postgres"] = await measure("postgresql", args, pg) if pg else None
    return summary(results, args)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="each kind's run with 64 clients")
    parser.add_argument("--seconds-200", type=float, default=2.5, help="each kind's run with 200 clients")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--import-rows", type=int, default=20_000, help="0: no import scenario")
    parsed = parser.parse_args()
    print(json.dumps(asyncio.run(main(parsed))))
