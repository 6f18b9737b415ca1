"""Run Alembic from code: upgrade, downgrade, current revision, and "do the models match the migrations?"."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection

from alembic import command
from delphi.db.engine import make_engine
from delphi.db.models import Base
from delphi.resources import ALEMBIC_DIR
from delphi.settings import DatabaseSettings


def alembic_config(db: DatabaseSettings) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(ALEMBIC_DIR))
    cfg.attributes["database_url"] = db.url
    return cfg


def upgrade(db: DatabaseSettings, revision: str = "head") -> None:
    """Apply migrations up to ``revision`` (blocking; call from a thread inside an event loop)."""
    command.upgrade(alembic_config(db), revision)


def downgrade(db: DatabaseSettings, revision: str) -> None:
    command.downgrade(alembic_config(db), revision)


def _diff(connection: Connection) -> list[object]:
    ctx = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(ctx, Base.metadata))


async def model_drift(db: DatabaseSettings) -> list[object]:
    """Differences between the migrated database and the models; empty when they match."""
    engine = make_engine(db, null_pool=True)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(_diff)
    finally:
        await engine.dispose()


async def current_revision(db: DatabaseSettings) -> str | None:
    engine = make_engine(db, null_pool=True)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(lambda c: MigrationContext.configure(c).get_current_revision())
    finally:
        await engine.dispose()
