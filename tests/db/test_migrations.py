"""Alembic migrations create exactly the schema the models describe, on every backend."""

from __future__ import annotations

import asyncio

from delphi.db.migrations import current_revision, downgrade, model_drift, upgrade
from delphi.settings import DatabaseSettings


async def test_upgrade_from_empty_to_head_matches_the_models(empty_db_url: str) -> None:
    db = DatabaseSettings(url=empty_db_url)
    await asyncio.to_thread(upgrade, db)
    assert await current_revision(db) is not None
    assert await model_drift(db) == []


async def test_downgrade_to_base_and_upgrade_again_round_trips(empty_db_url: str) -> None:
    db = DatabaseSettings(url=empty_db_url)
    await asyncio.to_thread(upgrade, db)
    await asyncio.to_thread(downgrade, db, "base")
    assert await current_revision(db) is None
    await asyncio.to_thread(upgrade, db)
    assert await model_drift(db) == []
