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


async def test_panels_locked_before_the_population_setting_keep_counting_every_saved_answer(
    empty_db_url: str,
) -> None:
    """Results frozen before the setting existed counted every saved answer, so those panels say ``all``; a
    panel still in draft takes the new default, ``submitted``."""
    from sqlalchemy import text

    from delphi.db.engine import make_engine

    db = DatabaseSettings(url=empty_db_url)
    await asyncio.to_thread(upgrade, db, "20915be3f830")
    engine = make_engine(db, null_pool=True)
    columns = (
        "title, description, consent_text, scale_min, scale_max, scale_labels, allow_unable, unable_label, "
        "rule, quantile_method, unable_policy, max_rounds, k_min, currency, suggestions_after_round1, "
        "ask_reason_outside_iqr, status, created_at, rule_changed_after_lock, rule_locked_at"
    )
    values = (
        "'{t}', '', '', 1, 9, '[]', true, 'Unable', '{{}}', 'linear', 'exclude', 3, 3, 'GBP', false, false, "
        "'{s}', '2026-11-01 00:00:00', false, {locked}"
    )
    try:
        async with engine.begin() as conn:
            for title, status, locked in (
                ("locked", "running", "'2026-11-02 00:00:00'"),
                ("draft", "draft", "NULL"),
            ):
                await conn.execute(
                    text(
                        f"INSERT INTO panels ({columns}) VALUES "
                        + "("
                        + values.format(t=title, s=status, locked=locked)
                        + ")"
                    )
                )
        await asyncio.to_thread(upgrade, db)
        async with engine.connect() as conn:
            rows = dict((await conn.execute(text("SELECT title, analysis_population FROM panels"))).all())
    finally:
        await engine.dispose()
    assert rows == {"locked": "all", "draft": "submitted"}
    assert await model_drift(db) == []
