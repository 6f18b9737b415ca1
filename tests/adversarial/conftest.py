"""Fixtures for adversarial tests: a scratch database per test and backend, and live servers on loopback.

``live_db_url`` runs a test once per backend (SQLite always, PostgreSQL when ``DELPHI_TEST_POSTGRES_URL`` is
set), in a database of its own (see :func:`tests.adversarial.live.scratch_database`).  ``live_server`` starts
the app under uvicorn on it and stops (or, if a test killed it, reaps) the process afterwards.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

from tests.adversarial.live import LiveServer, scratch_database
from tests.conftest import BACKENDS, POSTGRES_URL


@pytest.fixture(params=BACKENDS)
async def live_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    async with scratch_database(request.param, tmp_path, POSTGRES_URL) as url:
        yield url


@pytest.fixture
def live_server(live_db_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    """The app under uvicorn (not yet started: the test seeds first, then calls ``start()``)."""
    server = LiveServer(live_db_url, tmp_path)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def report(capsys: pytest.CaptureFixture[str]) -> Callable[[str], None]:
    """Print a line of figures to the terminal even while pytest captures output (CI shows the counts)."""

    def say(line: str) -> None:
        with capsys.disabled():
            print(line, flush=True)

    return say
