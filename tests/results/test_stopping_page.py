"""The stopping advice on the round results page after each close (criterion in docs/statistics.md §7)."""

from __future__ import annotations

import re

from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import Round
from delphi.results import round_results
from delphi.results.frame import load_frame
from delphi.settings import Settings
from tests.results.helpers import FACILITATOR, build_world, login


def text_of(html: str) -> str:
    return " ".join(re.sub(r"<(svg|style|script)\b.*?</\1>|<[^>]+>", " ", html, flags=re.S).split())


async def test_round_one_has_no_comparison_and_round_two_names_each_statements_state(
    session: AsyncSession, client: AsyncTestClient, settings: Settings
) -> None:
    world = await build_world(session, settings, rounds=2)
    await login(client, FACILITATOR)
    first = text_of((await client.get(f"/panels/{world.pid}/rounds/1/results")).text)
    assert "Is another round likely to change anything?" in first
    assert "cannot be compared with a previous round yet" in first
    assert "first round: no comparison" in first

    frame = await load_frame(session, world.study.panel)
    round2 = await session.scalar(select(Round).where(Round.panel_id == world.pid, Round.number == 2))
    results = await round_results.load_round_results(session, round2, frame.groups, frame.panel.k_min)
    advice = round_results.stopping(results, await round_results.previous_verdicts(session, round2))
    states = {a.statement_id: a for a in advice.statements}
    second = text_of((await client.get(f"/panels/{world.pid}/rounds/2/results")).text)
    assert advice.text in second
    for r in results:
        a = states[r.statement_id]
        if r.stability and r.stability.get("n_paired"):
            assert a.state in ("stable", "moving")
            assert (a.state == "stable") == (
                r.stability["pct_changed_category"] < 15
                and (r.stability["wilcoxon_p"] is None or r.stability["wilcoxon_p"] >= 0.05)
                and abs(r.stability["delta_iqr"] or 0) < 1
            ) or (a.reasons and "verdict changed" in a.reasons[-1])
        else:
            assert a.state == "no_comparison"
    assert any(a.state != "no_comparison" for a in advice.statements), "round 2 compares with round 1"
