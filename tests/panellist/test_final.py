"""The final consensus list (delphi.rounds.final) and the panellists' results page."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import RoundStatement, Statement, Submission
from delphi.rounds.final import consensus_since, final_consensus_list
from tests.factories import (
    add_result,
    make_groups,
    make_panel,
    make_panellist,
    make_round,
    make_statements,
)
from tests.panellist.conftest import enter


def test_consensus_counts_from_the_start_of_the_final_unbroken_run() -> None:
    assert consensus_since([(1, "none"), (2, "in"), (3, "in")]) == 2
    assert consensus_since([(1, "in"), (2, "none"), (3, "in")]) == 3
    assert consensus_since([(1, "out")]) == 1
    assert consensus_since([(1, "in"), (2, "none")]) is None
    assert consensus_since([(1, "insufficient")]) is None
    assert consensus_since([]) is None


async def set_verdict(session: AsyncSession, round_id: int, statement_id: int, verdict: str) -> None:
    row = await session.scalar(
        select(RoundStatement).where(
            RoundStatement.round_id == round_id, RoundStatement.statement_id == statement_id
        )
    )
    assert row is not None
    row.verdict = verdict


@pytest.fixture
async def finished(session: AsyncSession):  # type: ignore[no-untyped-def]
    """Two closed rounds: a agreed in r1; b agreed in r2; c reworded to c2, excluded in r2; d never agreed;
    e a draft statement never asked."""
    panel = await make_panel(session, honorarium_minor=1500)
    groups = await make_groups(session, panel)
    a, b, c, d, e = await make_statements(session, panel, (("Information", 2), ("Choice", 3)))
    me, token = await make_panellist(session, panel, groups[0], consented=True)
    r1 = await make_round(session, panel, [a, b, c, d], 1, status="closed")
    for st, verdict in ((a, "in"), (b, "none"), (c, "none"), (d, "none")):
        await set_verdict(session, r1.id, st.id, verdict)
        await add_result(session, r1, st, [0, 0, 0, 0, 1, 1, 4, 3, 2], verdict=verdict)
    c2 = Statement(
        panel_id=panel.id, section="Choice", text="Choice, reworded", parent_id=c.id, version=2, position=3
    )
    session.add(c2)
    await session.flush()
    r2 = await make_round(session, panel, [b, c2, d], 2, status="closed")
    for st, verdict in ((b, "in"), (c2, "out"), (d, "insufficient")):
        await set_verdict(session, r2.id, st.id, verdict)
        await add_result(
            session,
            r2,
            st,
            [5, 4, 1, 0, 0, 0, 0, 0, 1] if verdict == "out" else [0, 0, 0, 0, 0, 1, 4, 4, 2],
            verdict=verdict,
        )
    session.add_all(
        [Submission(round_id=r1.id, panellist_id=me.id), Submission(round_id=r2.id, panellist_id=me.id)]
    )
    panel.status = "finished"
    await session.commit()
    return panel, token, (a, b, c, c2, d, e)


async def test_the_final_list_takes_each_statements_last_closed_round(session, finished) -> None:
    panel, _, (a, b, _c, c2, d, _e) = finished
    final = await final_consensus_list(session, panel.id)
    assert final.rounds_closed == 2
    by_id = {s.statement_id: s for s in final.statements}
    assert set(by_id) == {a.id, b.id, c2.id, d.id}  # c replaced by its rewording; e never asked
    assert [s.statement_id for s in final.consensus_in] == [a.id, b.id]
    assert [s.statement_id for s in final.consensus_out] == [c2.id]
    assert [s.statement_id for s in final.no_consensus] == [d.id]
    assert (by_id[a.id].verdict, by_id[a.id].last_round, by_id[a.id].consensus_round) == ("in", 1, 1)
    assert (by_id[b.id].consensus_round, by_id[b.id].rounds) == (2, (1, 2))
    assert by_id[c2.id].earlier_texts == ("Choice statement 1",)
    assert by_id[d.id].verdict == "insufficient" and by_id[d.id].consensus_round is None
    fig = by_id[c2.id].figures
    assert fig is not None and fig.round_number == 2 and fig.n == 11 and fig.counts[0] == 5


async def test_a_panel_without_closed_rounds_has_an_empty_list(session) -> None:
    panel = await make_panel(session)
    await session.commit()
    final = await final_consensus_list(session, panel.id)
    assert final.statements == () and final.rounds_closed == 0


async def test_panellists_see_the_results_page_when_the_panel_finishes(client, finished) -> None:
    _, token, _statements = finished
    await enter(client, token)
    home = await client.get("/panel", follow_redirects=False)
    assert home.status_code == 303 and home.headers["location"] == "/panel/results"
    page = await client.get("/panel/results")
    assert page.status_code == 200
    html = page.text
    assert "The panel took 2 rounds." in html
    assert "The panel agreed to keep 2 statements." in html and "Agreed in round 2." in html
    assert "Choice, reworded" in html and "It first read:" in html
    assert "you are owed £30.00 in total" in html
    assert html.index("Information statement 1") < html.index("Statements the panel agreed to leave out")
    assert html.index("Choice statement 2") > html.index("Statements without agreement")
    assert "Choice statement 3" not in html  # never asked
    assert ' style="' not in html


async def test_results_wait_for_the_panel_to_finish(client, consented_world) -> None:
    await enter(client, consented_world.token)
    page = await client.get("/panel/results")
    assert page.status_code == 404 and "when the panel has finished" in page.text
