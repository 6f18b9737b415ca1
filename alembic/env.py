"""Alembic environment: async engine, URL from the Delphi settings unless the caller set one."""

from __future__ import annotations

import asyncio

from sqlalchemy.engine import Connection

from alembic import context
from delphi.db.engine import make_engine
from delphi.db.models import Base
from delphi.settings import DatabaseSettings, load_settings

config = context.config
target_metadata = Base.metadata


def _database() -> DatabaseSettings:
    url = config.attributes.get("database_url") or config.get_main_option("sqlalchemy.url")
    if url:
        return DatabaseSettings(url=url)
    return load_settings(require_secret=False).database


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_online() -> None:
    engine = make_engine(_database(), null_pool=True)
    async with engine.connect() as connection:
        await connection.run_sync(_configure)
    await engine.dispose()


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
    elif context.is_offline_mode():
        context.configure(url=_database().url, target_metadata=target_metadata, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
    else:
        asyncio.run(_run_online())


run()
