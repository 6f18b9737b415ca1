"""The real thing for adversarial tests: the app under uvicorn (or ``delphi worker``) as a separate process on a
free loopback port, its own database, seeded panels, and panellists that go through the real pages over HTTP.

* :class:`Process` starts a command with a clean ``DELPHI_*`` environment, keeps its stdout and stderr in a file
  (so tests can read every log line it wrote, uvicorn's access log included), and can be SIGKILLed and started
  again on the same port.
* :func:`scratch_database` gives each test its own database: a SQLite file, or a PostgreSQL database created
  next to ``DELPHI_TEST_POSTGRES_URL``'s (``<name>_adv_<pid>_<n>``) and dropped afterwards, so a server never
  shares the suite's database, which other tests truncate.
* :func:`seed_panel` writes an open round 1 with its statements and panellists in a few bulk statements; link
  tokens are derived exactly as the app derives them.
* :class:`PanellistClient` is one person with a browser-like cookie jar: opens the personal link, agrees, saves
  answers through the JSON background-save endpoint with the CSRF header, and submits.

Clients send ``X-Forwarded-For`` with an address of their own: uvicorn trusts it from 127.0.0.1 (its default
``forwarded_allow_ips``), as it would from a reverse proxy, so the per-address rate limit of ``/p/{token}``
sees 200 people rather than one address making 200 link visits.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.engine import make_url

from delphi.db.engine import make_engine, make_sessionmaker
from delphi.db.models import utcnow
from delphi.settings import DatabaseSettings, asyncpg_url
from delphi.stats.presets import rule_by_name
from tests.conftest import TEST_SECRET, admin_execute, create_schema
from tests.factories import build_panel
from tests.smtp import free_port

ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
CSRF_INPUT = re.compile(r'name="_csrf_token" value="([^"]+)"')
_counter = itertools.count(1)


def clean_env(**delphi: str) -> dict[str, str]:
    """The current environment without any ``DELPHI_*`` variable, plus ``delphi`` (names without the prefix)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DELPHI_")}
    env.update({f"DELPHI_{k.upper()}": str(v) for k, v in delphi.items()})
    env["PYTHONUNBUFFERED"] = "1"
    return env


# --- databases ----------------------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def scratch_database(backend: str, workdir: Path, postgres_url: str = "") -> AsyncIterator[str]:
    """A new, schema-ready database for one test: a SQLite file in ``workdir`` or a fresh PostgreSQL database."""
    if backend == "sqlite":
        url = f"sqlite+aiosqlite:///{workdir / 'live.db'}"
        await create_schema(url)
        yield url
        return
    base = make_url(asyncpg_url(postgres_url))
    admin = base.render_as_string(hide_password=False)
    name = f"{base.database}_adv_{os.getpid()}_{next(_counter)}"
    await admin_execute(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin_execute(admin, f'CREATE DATABASE "{name}"')
    try:
        url = base.set(database=name).render_as_string(hide_password=False)
        await create_schema(url)
        yield url
    finally:
        await admin_execute(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- seeding ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Person:
    id: int
    token: str
    email: str
    pseudonym: str


@dataclass
class Seeded:
    panel_id: int
    round_id: int
    statement_ids: list[int]
    people: list[Person] = field(default_factory=list)


async def seed_panel(url: str, *, panellists: int, statements: int, consented: bool = False) -> Seeded:
    """:func:`tests.factories.build_panel` in the database at ``url``: an open round 1 of ``statements``
    statements (one section per 10) under the COMET preset, asked of ``panellists`` people in two groups, who
    have not opened their links yet (unless ``consented``)."""
    sections = [(f"Section {k // 10 + 1}", min(10, statements - k)) for k in range(0, statements, 10)]
    engine = make_engine(DatabaseSettings(url=url), null_pool=True)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            world = await build_panel(
                session,
                panellists=panellists,
                consented=consented,
                pseudonym="P-{n:04d}",
                sections=sections,
                panel_kw={"rule": rule_by_name("comet").to_dict(), "rule_locked_at": utcnow()},
            )
            assert world.round is not None
            people = [Person(p.id, token, p.email, p.pseudonym) for p, token in world.people]
            return Seeded(world.panel.id, world.round.id, [st.id for st in world.statements], people)
    finally:
        await engine.dispose()


async def fetch_all(url: str, statement: Any) -> list[Any]:
    engine = make_engine(DatabaseSettings(url=url), null_pool=True)
    try:
        async with engine.connect() as conn:
            return list((await conn.execute(statement)).all())
    finally:
        await engine.dispose()


async def scalar(url: str, statement: Any) -> Any:
    rows = await fetch_all(url, statement)
    return rows[0][0] if rows else None


# --- processes ----------------------------------------------------------------------------------------------


class Process:
    """A child process (the web app or a worker) whose output goes to ``log_path``; restartable."""

    def __init__(self, argv: Sequence[str], env: dict[str, str], log_path: Path) -> None:
        self.argv = list(argv)
        self.env = env
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        assert self.proc is None or self.proc.poll() is not None, "already running"
        log = self.log_path.open("ab")
        log.write(f"\n=== start {self.starts + 1}: {' '.join(self.argv)}\n".encode())
        log.flush()
        self.proc = subprocess.Popen(
            self.argv, env=self.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()
        self.starts += 1

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL: no cleanup, no finally blocks, no flushing; a power cut as far as the process knows."""
        if self.alive:
            assert self.proc is not None
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=30)

    def stop(self, timeout: float = 15) -> None:
        if not self.alive:
            return
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def output(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""


class LiveServer(Process):
    """``uvicorn --factory delphi.asgi:app_from_env`` on 127.0.0.1, configured only through ``DELPHI_*``."""

    def __init__(
        self,
        db_url: str,
        workdir: Path,
        *,
        access_log: bool = True,
        worker_in_process: bool = False,
        port: int | None = None,
        **env: str,
    ) -> None:
        self.port = port or free_port()
        self.base_url = f"http://{HOST}:{self.port}"
        settings = {
            "database_url": db_url,
            "secret_key": TEST_SECRET,
            "base_url": self.base_url,
            "worker_in_process": "1" if worker_in_process else "0",
            "log_level": "INFO",
            "var_dir": str(workdir / "var"),
            "mail_from": "Delphi test <panel@test.example>",
            **env,
        }
        argv = [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "delphi.asgi:app_from_env",
            "--host",
            HOST,
            "--port",
            str(self.port),
            "--log-level",
            "info",
            "--timeout-graceful-shutdown",
            "5",
            # as a reverse proxy would keep them: no idle connection is closed under a client mid-test
            "--timeout-keep-alive",
            "75",
        ]
        if not access_log:
            argv.append("--no-access-log")
        super().__init__(argv, clean_env(**settings), workdir / f"server-{self.port}.log")

    def start(self, timeout: float = 60) -> None:
        super().start()
        deadline = time.monotonic() + timeout
        while True:
            if not self.alive:
                raise RuntimeError(f"the server exited at start:\n{self.output()[-3000:]}")
            try:
                if httpx.get(f"{self.base_url}/healthz/live", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(f"the server did not answer within {timeout} s:\n{self.output()[-3000:]}")
            time.sleep(0.1)


def worker_process(db_url: str, workdir: Path, smtp_port: int, *, base_url: str, **env: str) -> Process:
    """``delphi worker`` (the console script's module) delivering to ``127.0.0.1:smtp_port``."""
    settings = {
        "database_url": db_url,
        "secret_key": TEST_SECRET,
        "base_url": base_url,
        "smtp_host": HOST,
        "smtp_port": str(smtp_port),
        "mail_from": "Delphi test <panel@test.example>",
        "log_level": "INFO",
        "worker_interval": "0.2",
        **env,
    }
    argv = [sys.executable, "-c", "from delphi.cli import main; main()", "worker"]
    return Process(argv, clean_env(**settings), workdir / f"worker-{next(_counter)}.log")


# --- a panellist over HTTP ----------------------------------------------------------------------------------


class PanellistClient:
    """One panellist with their own cookies, talking to a live server like a browser (without JavaScript
    except for the background saves, which are what ``panellist.js`` sends)."""

    def __init__(self, base_url: str, token: str, number: int, **client_kw: Any) -> None:
        self.token = token
        self.csrf = ""
        ip = f"10.{(number >> 16) & 255}.{(number >> 8) & 255}.{number & 255}"
        self.http = httpx.AsyncClient(
            base_url=base_url,
            headers={"x-forwarded-for": ip},
            follow_redirects=False,
            timeout=httpx.Timeout(60.0),
            **client_kw,
        )

    async def __aenter__(self) -> PanellistClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.http.aclose()

    async def open_link(self) -> httpx.Response:
        return await self.http.get(f"/p/{self.token}")

    async def read_csrf(self, path: str) -> httpx.Response:
        response = await self.http.get(path)
        match = CSRF_INPUT.search(response.text)
        if match:
            self.csrf = match.group(1)
        return response

    async def sign_in(self, consent: bool = True) -> list[httpx.Response]:
        """Open the link and agree to take part; every response, in order (all must be 2xx/3xx)."""
        out = [await self.open_link()]
        out.append(await self.read_csrf("/panel/consent"))
        if consent:
            out.append(
                await self.http.post("/panel/consent", data={"consent": "yes", "_csrf_token": self.csrf})
            )
        return out

    async def save(self, statement_id: int, answer: object, **fields: object) -> httpx.Response:
        return await self.http.post(
            f"/panel/ratings/{statement_id}",
            json={"answer": answer, **fields},
            headers={"x-csrftoken": self.csrf},
        )

    async def submit(self) -> httpx.Response:
        return await self.http.post("/panel/submit", data={"_csrf_token": self.csrf})


def review_answers(html: str) -> dict[int, tuple[int | None, str]]:
    """``{statement id: (value or None, comment)}`` as the review page shows them."""
    out: dict[int, tuple[int | None, str]] = {}
    for block in re.split(r'(?=<div id="s\d+")', html):
        m = re.match(r'<div id="s(\d+)"', block)
        if not m:
            continue
        sid = int(m.group(1))
        dd = block.split("<dd>", 1)[1].split("</dd>", 1)[0] if "<dd>" in block else ""
        value = re.search(r"<strong>(\d+)</strong>", dd)
        comment = re.search(r'<span class="muted">[^<:]*:\s*(.*?)</span>', dd, re.S)
        out[sid] = (int(value.group(1)) if value else None, comment.group(1).strip() if comment else "")
    return out


async def gather_bounded(limit: int, coros: Sequence[Any]) -> list[Any]:
    """Run ``coros`` with at most ``limit`` at a time; results in order (exceptions re-raised)."""
    gate = asyncio.Semaphore(limit)

    async def one(coro: Any) -> Any:
        async with gate:
            return await coro

    return await asyncio.gather(*(one(c) for c in coros))


__all__ = [
    "HOST",
    "LiveServer",
    "PanellistClient",
    "Person",
    "Process",
    "Seeded",
    "fetch_all",
    "gather_bounded",
    "review_answers",
    "scalar",
    "scratch_database",
    "seed_panel",
    "worker_process",
]
