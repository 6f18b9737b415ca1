"""Shared fixtures: a clean database per test on SQLite, and on PostgreSQL too when DELPHI_TEST_POSTGRES_URL is set.

Every test that asks for ``db_url`` (directly or through ``engine``, ``session``, ``settings``, ``app`` or
``client``) runs once per backend.  SQLite gets a copy of a schema-ready file built once per session
(``shutil.copyfile`` takes ~0.2 ms, ``create_all`` ~30 ms); PostgreSQL gets its tables truncated.

Safe under pytest-xdist: each worker (``gw0``, ``gw1``, ...) builds its own SQLite template in its own temporary
folder and uses a PostgreSQL database of its own, ``<name>_gw0`` next to ``DELPHI_TEST_POSTGRES_URL``'s,
created on first use.  Password hashing in this process is argon2id at its lowest cost (see
:func:`cheap_password_hashing`).
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from advanced_alchemy.extensions.litestar import SQLAlchemyAsyncConfig
from argon2 import PasswordHasher
from hypothesis import settings as hypothesis_settings
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from delphi import security
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
#: The pytest-xdist worker this process is ("gw0", "gw1", ...), or "" when the run is not distributed.
XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
_pg_schema_ready = False
_pg_database_ready = False


async def admin_execute(url: str, statement: str) -> None:
    """Run ``statement`` (CREATE/DROP DATABASE: outside a transaction) on the server of ``url``."""
    engine = make_engine(DatabaseSettings(url=url), null_pool=True)
    try:
        async with engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text(statement))
    finally:
        await engine.dispose()


def _postgres_url() -> str:
    """The asyncpg URL of this process's database: ``DELPHI_TEST_POSTGRES_URL``'s, with ``_<worker>`` appended
    to the database name under xdist."""
    url = make_url(asyncpg_url(POSTGRES_URL))
    if XDIST_WORKER:
        url = url.set(database=f"{url.database}_{XDIST_WORKER}")
    return url.render_as_string(hide_password=False)


async def _ensure_postgres_database(url: str) -> None:
    """Create this worker's database on first use (no-op when the run is not distributed)."""
    global _pg_database_ready
    if _pg_database_ready or not XDIST_WORKER:
        return
    name = make_url(url).database
    admin = asyncpg_url(POSTGRES_URL)
    engine = make_engine(DatabaseSettings(url=admin), null_pool=True)
    try:
        async with engine.connect() as conn:
            exists = await conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
    finally:
        await engine.dispose()
    if not exists:
        await admin_execute(admin, f'CREATE DATABASE "{name}"')
    _pg_database_ready = True


async def _reset_postgres(url: str) -> None:
    """Empty every table (the first call of the session drops the schema and creates it from the models)."""
    global _pg_schema_ready
    await _ensure_postgres_database(url)
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


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file with the models' schema and no rows, built once per session (per xdist worker).

    Built on a thread of its own: ``asyncio.run`` there leaves the test loop of this thread alone.  The file is
    whole on disk (the last connection's close checkpoints the WAL), so copying it gives a working database.
    """
    path = tmp_path_factory.mktemp("schema") / "template.db"
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, create_schema(f"sqlite+aiosqlite:///{path}")).result()
    return path


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashing() -> Iterator[None]:
    """argon2id at its lowest cost (1 pass, 1 MiB, 1 lane) for password hashing in this process.

    The code path and the hash format are production's; only the cost differs, ~1 ms per hash or verification
    instead of ~50-200 ms (a login test verifies dozens).  Servers tests start as processes keep the real cost.
    """
    hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(security, "_hasher", hasher)
        patch.setattr(security, "_DUMMY_HASH", hasher.hash("no account has this password"))
        yield


@pytest.fixture(autouse=True)
def fresh_database_config_keys() -> Iterator[None]:
    """Forget, after each test, the state keys advanced-alchemy's database config reserved for the apps it made.

    Each ``SQLAlchemyAsyncConfig`` reserves its session-scope and app-state keys in registries on its class, so
    that two configs of one app never share them, and finds the next free key by recursion: a process that made
    about 950 apps (a test worker does, one or more per test) hits Python's recursion limit.  A server makes one
    app; a test's apps are gone when it ends, so their keys are freed here.
    """
    yield
    for registry in (
        "_SESSION_SCOPE_KEY_REGISTRY",
        "_ENGINE_APP_STATE_KEY_REGISTRY",
        "_SESSIONMAKER_APP_STATE_KEY_REGISTRY",
    ):
        getattr(SQLAlchemyAsyncConfig, registry).clear()


@pytest.fixture(params=BACKENDS)
async def db_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> str:
    """URL of an empty, schema-ready database for this test."""
    if request.param == "sqlite":
        path = tmp_path / "test.db"
        shutil.copyfile(sqlite_template, path)
        return f"sqlite+aiosqlite:///{path}"
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
    await _ensure_postgres_database(url)
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
