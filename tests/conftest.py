"""Shared fixtures: a clean database per test on SQLite, and on PostgreSQL too when DELPHI_TEST_POSTGRES_URL is set.

Every test that asks for ``db_url`` (directly or through ``engine``, ``session``, ``settings``, ``app`` or
``client``) runs once per backend.  SQLite gets a fresh file per test; PostgreSQL gets its tables truncated.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from delphi.app import create_app
from delphi.db.engine import make_engine, make_sessionmaker
from delphi.db.models import Base
from delphi.settings import DatabaseSettings, MailSettings, Settings, asyncpg_url

pytest_plugins = ["tests.smtp"]

# In CI, property tests draw the same examples every run, so a green run on a developer's machine with CI=true
# is the run CI repeats; locally they stay random and keep exploring.
hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")

POSTGRES_URL = os.environ.get("DELPHI_TEST_POSTGRES_URL", "").strip()
BACKENDS = ["sqlite", *(["postgresql"] if POSTGRES_URL else [])]
TEST_SECRET = "test-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"
_pg_schema_ready = False


def _postgres_url() -> str:
    return asyncpg_url(POSTGRES_URL)


async def _reset_postgres(url: str) -> None:
    global _pg_schema_ready
    engine = make_engine(DatabaseSettings(url=url), null_pool=True)
    try:
        async with engine.begin() as conn:
            if not _pg_schema_ready:
                await conn.execute(text("DROP SCHEMA public CASCADE"))
                await conn.execute(text("CREATE SCHEMA public"))
                await conn.run_sync(Base.metadata.create_all)
                _pg_schema_ready = True
            else:
                names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
                await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    finally:
        await engine.dispose()


async def create_schema(url: str) -> None:
    """Create every table of the models in the (empty) database at ``url``."""
    engine = make_engine(DatabaseSettings(url=url), null_pool=True)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)
    finally:
        await engine.dispose()


@pytest.fixture(params=BACKENDS)
async def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """URL of an empty, schema-ready database for this test."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"
        await create_schema(url)
    else:
        url = _postgres_url()
        await _reset_postgres(url)
    return url


@pytest.fixture
async def empty_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """URL of a database with no tables at all (for migration tests); one per backend."""
    global _pg_schema_ready
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
        return
    url = _postgres_url()
    engine = make_engine(DatabaseSettings(url=url), null_pool=True)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
    finally:
        await engine.dispose()
    _pg_schema_ready = False  # the next test rebuilds the schema from the models
    yield url


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "empty_db_url" in metafunc.fixturenames:
        metafunc.parametrize("empty_db_url", BACKENDS, indirect=True)


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    eng = make_engine(DatabaseSettings(url=db_url), null_pool=True)
    yield eng
    await eng.dispose()


@pytest.fixture
async def session(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    async with make_sessionmaker(engine)() as s:
        yield s


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database=DatabaseSettings(url=db_url, pool_size=5),
        mail=MailSettings(
            host="127.0.0.1", port=1, sender="Delphi test <panel@test.example>", max_attempts=3
        ),
        base_url="http://testserver.local",
        secret_key=TEST_SECRET,
        worker_in_process=False,
        var_dir=tmp_path / "var",
    )


@pytest.fixture
def app(settings: Settings) -> Litestar:
    return create_app(settings)


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[AsyncTestClient]:
    async with AsyncTestClient(app=app, base_url="http://testserver.local") as c:
        yield c
