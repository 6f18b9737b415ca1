"""Engine and session factory for the configured database.

SQLite connections get WAL journaling, a busy timeout and foreign keys, so the single-process default behaves well
under concurrent requests; PostgreSQL uses a plain pool.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool

from delphi.settings import DatabaseSettings

#: What every SQLite connection is opened with: wait up to 15 s for the write lock (the pragmas say it again).
_SQLITE_CONNECT = {"timeout": 15}


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.close()


def make_engine(db: DatabaseSettings, *, null_pool: bool = False) -> AsyncEngine:
    """Create the async engine for ``db.url``; creates the SQLite file's folder when missing.

    ``null_pool`` opens a connection per checkout (tests, one-shot CLI commands).
    """
    url = make_url(db.url)
    kwargs: dict[str, object] = {"echo": db.echo}
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = dict(_SQLITE_CONNECT)
        if null_pool:
            kwargs["poolclass"] = NullPool
    elif null_pool:
        kwargs["poolclass"] = NullPool
    else:
        kwargs.update(pool_size=db.pool_size, max_overflow=db.pool_size, pool_pre_ping=True)
    engine = create_async_engine(url, **kwargs)
    if url.get_backend_name() == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


def sqlite_thread_engine(engine: AsyncEngine) -> Engine:
    """A synchronous engine on the SQLite file of ``engine`` (Python's own ``sqlite3`` driver, the same
    pragmas and busy timeout), for work that runs whole in one worker thread.

    Through ``aiosqlite`` every statement costs three or four hand-overs between the event loop and the
    driver's thread (a cursor, the statement, its rows, the cursor's close), about 60 µs of CPU each; a
    transaction run whole in one thread costs one.  Its connections may be closed from another thread than
    the one that used them (``check_same_thread`` off: the caller keeps each to one thread at a time).
    ValueError for a database that is not SQLite.
    """
    if engine.dialect.name != "sqlite":
        raise ValueError(f"not a SQLite engine: {engine.dialect.name}")
    url = engine.url.set(drivername="sqlite")
    sync = create_engine(url, connect_args={**_SQLITE_CONNECT, "check_same_thread": False})
    event.listen(sync, "connect", _sqlite_pragmas)
    return sync


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


async def database_error(session: AsyncSession) -> str | None:
    """None when the database answers a trivial query; else the name of the error (any driver error means
    unreachable, for a health check)."""
    try:
        await session.execute(text("SELECT 1"))
    except Exception as exc:
        return type(exc).__name__
    return None
