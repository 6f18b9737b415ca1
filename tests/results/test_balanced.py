"""Balanced scope: the group-weighted figures that decided the verdict are frozen at close, shown on the round
page and exported beside the unweighted pooled ones (three groups of different sizes, worked by hand)."""

from __future__ import annotations

import dataclasses
import re

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import RoundStatement
from delphi.domain import Actor
from delphi.results.frame import load_frame
from delphi.results.summaries import summaries_table
from delphi.rounds import transitions
from delphi.settings import Settings
from delphi.stats import rule_by_name
from tests.factories import build_panel, rate_everyone
from tests.results.helpers import login

OWNER = "owner.balanced@facilitators.example"


async def closed_balanced_round(session: AsyncSession, settings: Settings):
    """Service users 5 people all rate 9, practitioners 3 all rate 5, experts 2 all rate 8 (scale 1-9, agree
    7-9, disagree 1-3; COMET's 70% agree and under 15% disagree, with each group weighing the same).

    Unweighted: 7 of 10 agree = 70% (in, had the rule been pooled); sorted 5 5 5 8 8 9 9 9 9 9, so type 7
    median (8 + 9) / 2 = 8.5, Q1 = 5 + 0.25 (8 - 5) = 5.75, Q3 = 9.
    Balanced: agree (100 + 0 + 100) / 3 = 66.67% < 70%: no consensus; each group weighs 1/3, so the weighted
    distribution is 5: 1/3, 8: 1/3, 9: 1/3 and the inverted-CDF median is 8 (CDF 2/3 >= 0.5), Q1 = 5, Q3 = 9,
    IQR 4.
    """
    rule = dataclasses.replace(rule_by_name("comet"), scope="balanced")
    world = await build_panel(
        session,
        panellists=[5, 3, 2],
        groups=("Service users", "Practitioners", "Experts"),
        sections=(("Care", ["Peer support at every service."]),),
        panel_kw={"rule": rule.to_dict(), "max_rounds": 3, "k_min": 2},
        access={"owner": OWNER},
    )
    await rate_everyone(
        session, world.panel, world.round, {"Service users": [9], "Practitioners": [5], "Experts": [8]}
    )
    sync = session.sync_session
    autoflush, sync.autoflush = sync.autoflush, True
    try:
        await transitions.close_round(
            session,
            world.panel,
            world.round,
            now=world.round.closes_at,
            settings=settings,
            actor=Actor.account(world.accounts["owner"]),
        )
        await session.flush()
    finally:
        sync.autoflush = autoflush
    await session.commit()
    return world


async def test_the_balanced_figures_that_decided_the_verdict_are_frozen_at_close(
    session: AsyncSession, settings: Settings
) -> None:
    world = await closed_balanced_round(session, settings)
    link = await session.scalar(select(RoundStatement).where(RoundStatement.round_id == world.round.id))
    assert link.verdict == "none"
    b = link.outcome["balanced"]
    assert b["pct_agree"] == pytest.approx(200 / 3)
    assert b["pct_disagree"] == 0
    assert (b["median"], b["q1"], b["q3"], b["iqr"]) == (8, 5, 9, 4)
    assert b["verdict"] == "none"


async def test_the_round_summaries_export_carries_both_the_pooled_and_the_weighted_figures(
    session: AsyncSession, settings: Settings
) -> None:
    world = await closed_balanced_round(session, settings)
    table = await summaries_table(session, await load_frame(session, world.panel))
    names = [c.name for c in table.columns]
    row = dict(zip(names, table.rows[0], strict=True))
    assert row["group"] == "all" and row["decided_by"] == "balanced"
    assert row["pct_agree"] == pytest.approx(70.0) and row["median"] == 8.5 and row["q1"] == 5.75
    assert row["balanced_pct_agree"] == pytest.approx(200 / 3)
    assert (row["balanced_median"], row["balanced_q1"], row["balanced_q3"], row["balanced_iqr"]) == (
        8,
        5,
        9,
        4,
    )
    assert row["stability"] == "no_comparison"
    assert row["statement_label"] == "S1"
    group_row = dict(zip(names, table.rows[1], strict=True))
    assert group_row["balanced_pct_agree"] is None, "weighted figures are statement-level: pooled rows only"


async def test_the_round_page_shows_the_weighted_row_as_the_one_that_decided(
    session: AsyncSession, client: AsyncTestClient, settings: Settings
) -> None:
    world = await closed_balanced_round(session, settings)
    await login(client, OWNER)
    html = (await client.get(f"/panels/{world.panel.id}/rounds/1/results")).text
    page = " ".join(re.sub(r"<(svg|style|script)\b.*?</\1>|<[^>]+>", " ", html, flags=re.S).split())
    assert "All panellists 10 0 8.5 3.25 (5.75–9) 70% 0%" in page
    assert "Groups weighted equally decided the verdict 10 – 8 4 (5–9) 67% 0% No consensus" in page
    assert "the verdict comes from the row" in page
    assert "Is another round likely to change anything?" in page
