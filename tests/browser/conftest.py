"""Real Chromium against the real app: uvicorn on a free loopback port, a seeded temporary SQLite database.

Requirements: Debian's ``chromium`` (``/usr/bin/chromium``), the Python ``playwright`` package (never
``playwright install``: the system Chromium is used) and axe-core from npm (``npm ci`` at the repository root).
When one is missing the tests skip with instructions, or fail with them when ``DELPHI_REQUIRE_BROWSER=1``
(CI sets it).
"""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from delphi.db.engine import make_engine
from delphi.db.models import Base
from delphi.settings import DatabaseSettings
from tests.browser import seed
from tests.browser.serving import live_settings, serving

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def missing_requirements() -> str | None:
    """A sentence saying what is missing and how to install it, or None when everything is there."""
    problems = []
    if not CHROMIUM.exists():
        problems.append("Chromium is missing: install Debian's package with `apt-get install -y chromium`")
    if not AXE.exists():
        problems.append(
            "axe-core is missing: run `npm ci` in the repository root (it reads package-lock.json)"
        )
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        problems.append(
            "Playwright for Python is missing: `pip install -e '.[test]'` (do not run `playwright install`)"
        )
    return "; ".join(problems) + "." if problems else None


@pytest.fixture(autouse=True)
def _require_browser() -> None:
    reason = missing_requirements()
    if reason is None:
        return
    if os.environ.get("DELPHI_REQUIRE_BROWSER") == "1":
        pytest.fail("Browser tests are required here (DELPHI_REQUIRE_BROWSER=1) but cannot run. " + reason)
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveServer:
    """The running app: its base URL, database URL and the seeded people (token per role)."""

    base_url: str
    db_url: str
    people: dict[str, seed.Person] = field(default_factory=dict)

    def link(self, who: str) -> str:
        return f"{self.base_url}/p/{self.people[who].token}"


async def _prepare(db_url: str) -> dict[str, seed.Person]:
    engine = make_engine(DatabaseSettings(url=db_url), null_pool=True)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)
        return await seed.seed(engine)
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    if missing_requirements() is not None:
        pytest.skip("browser requirements missing")
    from delphi.app import create_app

    tmp = tmp_path_factory.mktemp("browser")
    db_url = f"sqlite+aiosqlite:///{tmp / 'browser.db'}"
    people = asyncio.run(_prepare(db_url))
    port = free_port()
    settings = live_settings(db_url, port, tmp / "var")
    with serving(create_app(settings), port, "uvicorn-browser-tests"):
        yield LiveServer(f"http://127.0.0.1:{port}", db_url, people)


@pytest.fixture
async def browser() -> AsyncIterator[object]:
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        chromium = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            await chromium.close()
