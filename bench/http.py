"""Saving one rating over HTTP on the real server, against the same app's no-database JSON route (the floor).

    .venv/bin/python bench/http.py [--clients 64] [--seconds 5] [--rounds 2]
                                   (PostgreSQL via DELPHI_BENCH_POSTGRES_URL or DELPHI_TEST_POSTGRES_URL)

For each backend (SQLite, and PostgreSQL when a URL is given: the bench creates a scratch database next to it
and drops it afterwards) the app runs under uvicorn as a separate process on a free 127.0.0.1 port, one worker
process, with the access log off and the in-process mail worker off.  ``--clients`` panellists (consented, in
an open round of 50 statements) sign in through their personal links; then, on one keep-alive connection each:

* floor: ``GET /healthz/live`` (``{"status": "ok"}``, no database) as fast as the server answers;
* save: ``POST /panel/ratings/{id}`` with ``{"answer": n}`` and the CSRF header, a random answer to the next
  statement, as ``panellist.js`` sends it.

Floor and save alternate for ``--rounds`` rounds of ``--seconds`` each (a drifting machine load hits both
alike); the ratio is the median over rounds of saves per second over floor requests per second.  Latency
percentiles are over every save.  The load generator is a minimal HTTP/1.1 client on raw asyncio streams with
prepared request bytes, so it costs far less CPU per request than the server and does not hide the server's
rate.  After the runs, every acknowledged save is compared with the database: ``lost_writes`` counts
(panellist, statement) pairs whose stored answer is not the last one the server acknowledged.

Goal: ratio >= 0.4 and p99 < 50 ms on both backends, with zero lost writes.  The last line printed is a JSON
object: ``ratio_vs_floor_sqlite``, ``ratio_vs_floor_postgres``, ``p99_ms_sqlite``, ``p99_ms_postgres``,
``lost_writes``, and the rates and percentiles behind them.
"""

from __future__ import annotations

import sys

# This file is named like the standard library's ``http`` package, which uvicorn and httpx import: take the
# script's own folder off the import path before anything else is imported.
sys.path[:] = [p for p in sys.path if p not in ("", __file__.rsplit("/", 1)[0])]

import argparse  # noqa: E402
import asyncio  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from sqlalchemy import select  # noqa: E402

from delphi.db.models import Rating  # noqa: E402
from tests.adversarial.live import (  # noqa: E402
    HOST,
    LiveServer,
    PanellistClient,
    fetch_all,
    scratch_database,
    seed_panel,
)

STATEMENTS = 50


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


def save_request(client: Client, statement_id: int, answer: int) -> bytes:
    body = json.dumps({"answer": answer}).encode()
    head = (
        f"POST /panel/ratings/{statement_id} HTTP/1.1\r\nHost: {HOST}\r\n"
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


async def drive(
    port: int, clients: list[Client], statements: list[int], seconds: float, *, floor: bool
) -> tuple[int, list[float], int]:
    """Run every client for ``seconds``; returns (requests answered 2xx, latencies in s, errors)."""
    stop_at = time.perf_counter() + seconds
    latencies: list[float] = []
    errors = 0
    done = 0
    live = get_request("/healthz/live")

    async def run(client: Client) -> None:
        nonlocal errors, done
        rng = random.Random(client.number * 7919 + int(floor))
        conn = Connection(port)
        await conn.open()
        i = rng.randrange(len(statements))
        try:
            while time.perf_counter() < stop_at:
                if floor:
                    raw, sid, answer = live, 0, 0
                else:
                    sid, answer = statements[i % len(statements)], rng.randint(1, 9)
                    i += 1
                    raw = save_request(client, sid, answer)
                t0 = time.perf_counter()
                status, _ = await conn.request(raw)
                latencies.append(time.perf_counter() - t0)
                if 200 <= status < 300:
                    done += 1
                    if not floor:
                        client.acked[sid] = answer
                else:
                    errors += 1
        finally:
            await conn.close()

    await asyncio.gather(*(run(c) for c in clients))
    return done, latencies, errors


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


async def measure(backend: str, args: argparse.Namespace, postgres_url: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-http-") as tmp:
        async with scratch_database(backend, Path(tmp), postgres_url) as url:
            seeded = await seed_panel(url, panellists=args.clients, statements=STATEMENTS, consented=True)
            server = LiveServer(url, Path(tmp), access_log=False, log_level="WARNING")
            server.argv[server.argv.index("--log-level") + 1] = "warning"
            await asyncio.to_thread(server.start)
            try:
                clients = await sign_in(server.base_url, seeded.people)
                # warm up both routes (imports, pools, caches)
                await drive(server.port, clients, seeded.statement_ids, 1.0, floor=True)
                await drive(server.port, clients, seeded.statement_ids, 1.0, floor=False)
                ratios, floors, saves, save_latency, floor_latency, errors = [], [], [], [], [], 0
                for _ in range(args.rounds):
                    n_floor, lat_floor, err_f = await drive(
                        server.port, clients, seeded.statement_ids, args.seconds, floor=True
                    )
                    n_save, lat_save, err_s = await drive(
                        server.port, clients, seeded.statement_ids, args.seconds, floor=False
                    )
                    floors.append(n_floor / args.seconds)
                    saves.append(n_save / args.seconds)
                    ratios.append(saves[-1] / floors[-1])
                    save_latency += lat_save
                    floor_latency += lat_floor
                    errors += err_f + err_s
            finally:
                server.stop()
            rows = await fetch_all(
                url,
                select(Rating.panellist_id, Rating.statement_id, Rating.value).where(
                    Rating.round_id == seeded.round_id
                ),
            )
            stored = {(p, s): v for p, s, v in rows}
            lost = sum(
                1
                for c in clients
                for sid, answer in c.acked.items()
                if stored.get((c.panellist_id, sid)) != answer
            )
            if errors:
                print(f"{backend}: {errors} requests answered with an error status", file=sys.stderr)
            log = server.output()
            if "Traceback" in log:
                print(f"{backend}: the server logged errors:\n{log[-2000:]}", file=sys.stderr)
    result = {
        "ratio": statistics.median(ratios),
        "floor_rps": statistics.median(floors),
        "save_rps": statistics.median(saves),
        "p50_ms": percentile(save_latency, 0.50) * 1000,
        "p99_ms": percentile(save_latency, 0.99) * 1000,
        "floor_p99_ms": percentile(floor_latency, 0.99) * 1000,
        "saves": len(save_latency),
        "errors": errors,
        "lost_writes": lost,
    }
    print(
        f"{backend}: floor {result['floor_rps']:.0f} req/s, save {result['save_rps']:.0f} req/s "
        f"(ratio {result['ratio']:.2f}), save p50 {result['p50_ms']:.1f} ms, p99 {result['p99_ms']:.1f} ms, "
        f"floor p99 {result['floor_p99_ms']:.1f} ms, {result['saves']} saves, lost {lost}",
        flush=True,
    )
    return result


async def main(args: argparse.Namespace) -> dict[str, Any]:
    pg = os.environ.get("DELPHI_BENCH_POSTGRES_URL") or os.environ.get("DELPHI_TEST_POSTGRES_URL") or ""
    results: dict[str, dict[str, Any] | None] = {"sqlite": await measure("sqlite", args, "")}
    results["postgres"] = await measure("postgresql", args, pg) if pg else None
    out: dict[str, Any] = {}
    for name, r in results.items():
        out[f"ratio_vs_floor_{name}"] = round(r["ratio"], 3) if r else None
        out[f"p99_ms_{name}"] = round(r["p99_ms"], 1) if r else None
    out["lost_writes"] = sum(r["lost_writes"] for r in results.values() if r)
    for name, r in results.items():
        if r:
            out[f"save_rps_{name}"] = round(r["save_rps"])
            out[f"floor_rps_{name}"] = round(r["floor_rps"])
            out[f"p50_ms_{name}"] = round(r["p50_ms"], 1)
            out[f"errors_{name}"] = r["errors"]
    out["clients"] = args.clients
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=2)
    parsed = parser.parse_args()
    _ = httpx  # the sign-in uses httpx through PanellistClient
    print(json.dumps(asyncio.run(main(parsed))))
