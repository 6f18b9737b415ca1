"""Ranking questions' results for the team: per round and question, pooled and per group, and between rounds.

Spearman's rho of two rankings of n items without ties is 1 - 6 sum(d^2) / (n (n^2 - 1)) (Siegel & Castellan
1988, section 9.5, eq. 9.7): swapping two neighbours of four items gives 1 - 6 * 2 / 60 = 0.8; swapping two
items two places apart 1 - 6 * 8 / 60 = 0.2; the reversed order -1.
"""

from __future__ import annotations

import html
import re

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from delphi import audit
from delphi.db.models import RankingItem, RankingResult
from delphi.domain import Actor, PanelRole
from delphi.results import rankings
from delphi.results.frame import load_frame
from delphi.settings import Settings
from tests.results.helpers import RESEARCHER, login
from tests.results.ranking_study import ITEMS, QUESTION, build_ranking_study
from tests.study import add_role


def items(n: int = 4) -> list[RankingItem]:
    return [RankingItem(id=10 + i, question_id=1, text=f"item {i}", position=i) for i in range(n)]


def ranks(values: list[int]) -> dict[str, int]:
    return {str(10 + i): r for i, r in enumerate(values)}


def text_of(markup: str) -> str:
    body = re.sub(r"<(script|style|svg)\b.*?</\1>", " ", markup, flags=re.S)
    return html.unescape(" ".join(re.sub(r"<[^>]+>", " ", body).split()))


def test_each_panellists_rho_with_their_own_previous_ranking_follows_spearmans_formula() -> None:
    people = {1: ("P-001", "Users"), 2: ("P-002", "Users"), 3: ("P-003", "Staff"), 4: ("P-004", "Staff")}
    before = {1: ranks([1, 2, 3, 4]), 2: ranks([1, 2, 3, 4]), 3: ranks([1, 2, 3, 4]), 4: ranks([1, 2, 3, 4])}
    after = {1: ranks([2, 1, 3, 4]), 2: ranks([3, 2, 1, 4]), 3: ranks([4, 3, 2, 1]), 4: ranks([1, 2, 3, 4])}
    out = rankings.correlations(before, after, items(), people)
    assert [(c.pseudonym, c.group) for c in out] == [
        ("P-001", "Users"),
        ("P-002", "Users"),
        ("P-003", "Staff"),
        ("P-004", "Staff"),
    ]
    assert [c.rho for c in out] == pytest.approx([0.8, 0.2, -1.0, 1.0])
    assert rankings.median_rho(out) == pytest.approx(0.5)


def test_only_panellists_with_complete_rankings_in_both_rounds_are_compared() -> None:
    people = {1: ("P-001", ""), 2: ("P-002", ""), 3: ("P-003", "")}
    before = {1: ranks([1, 2, 3, 4]), 2: {"10": 1, "11": 2}}
    after = {1: ranks([1, 2, 3, 4]), 2: ranks([1, 2, 3, 4]), 3: ranks([1, 2, 3, 4])}
    out = rankings.correlations(before, after, items(), people)
    assert [c.pseudonym for c in out] == ["P-001"], "P-002's first ranking was incomplete, P-003 is new"


def test_a_ranking_that_ties_every_item_has_no_rho() -> None:
    out = rankings.correlations(
        {1: ranks([1, 1, 1, 1])}, {1: ranks([1, 2, 3, 4])}, items(), {1: ("P-001", "")}
    )
    assert [c.rho for c in out] == [None]
    assert rankings.median_rho(out) is None


def test_items_come_in_the_order_of_their_mean_rank_and_an_item_without_figures_last() -> None:
    row = RankingResult(
        scope="all",
        group_id=None,
        n=3,
        n_unable=0,
        w=0.5,
        chi2=4.5,
        df=3,
        pvalue=0.2,
        verdict="none",
        items=[
            {"item_id": 10, "mean_rank": 2.5, "median_rank": 3, "rank_sum": 7.5},
            {"item_id": 11, "mean_rank": 1.0, "median_rank": 1, "rank_sum": 3},
            {"item_id": 13, "mean_rank": 2.5, "median_rank": 2, "rank_sum": 7.5},
        ],
        stats={},
    )
    s = rankings.scope_figures(row, items(), None, 3)
    assert [(i.item_id, i.place) for i in s.items] == [(11, 1), (10, 2), (13, 3), (12, 4)]
    assert s.items[-1].mean_rank is None
    assert (s.name, s.suppressed) == ("All panellists", False)


async def test_round_results_show_w_mean_ranks_and_every_group_with_the_small_one_marked(
    session: AsyncSession, settings: Settings
) -> None:
    rs = await build_ranking_study(session, settings)
    frame = await load_frame(session, rs.study.panel)
    result = await rankings.load_round_rankings(session, frame.panel, rs.rounds[1], frame.groups)
    assert result.population.value == "submitted"
    assert "Kendall's W is at least 0.7" in result.rule
    [q] = result.questions
    frozen = await session.scalar(
        select(RankingResult).where(RankingResult.round_id == rs.rounds[1].id, RankingResult.scope == "all")
    )
    assert frozen is not None and q.pooled is not None
    assert (q.pooled.w, q.pooled.n, q.pooled.n_unable) == (frozen.w, 13, 1), "P-006 was unable to rank"
    assert [i.text for i in q.pooled.items] == list(ITEMS), "round 1's order by mean rank is A, B, C, D"
    assert q.verdict == "none" and not q.compared and q.correlations == ()
    by_name = {g.name: g for g in q.groups}
    assert list(by_name) == ["Service users", "Practitioners", "Experts"]
    assert by_name["Experts"].suppressed and not by_name["Experts"].shown_to_panellists
    # To protect the 2 experts, disclosure control hides the smaller of the other groups from panellists too.
    assert not by_name["Service users"].suppressed and not by_name["Service users"].shown_to_panellists
    assert by_name["Practitioners"].shown_to_panellists and q.pooled.shown_to_panellists


async def test_the_second_round_gives_the_change_in_w_and_each_counted_panellists_rho(
    session: AsyncSession, settings: Settings
) -> None:
    rs = await build_ranking_study(session, settings)
    frame = await load_frame(session, rs.study.panel)
    one, two = [
        (await rankings.load_round_rankings(session, frame.panel, rs.rounds[n], frame.groups)).questions[0]
        for n in (1, 2)
    ]
    assert one.pooled is not None and two.pooled is not None
    assert two.compared and two.previous_w == one.pooled.w
    assert two.w_change == pytest.approx(two.pooled.w - one.pooled.w)
    assert two.verdict == "in" and two.pooled.w > 0.9
    rho = {c.pseudonym: c.rho for c in two.correlations}
    # P-001 sent nothing in round 2 (its saved draft is not counted); P-006 was unable to rank in round 1.
    assert "P-001" not in rho and "P-006" not in rho
    assert len(rho) == 12
    assert rho["P-002"] == pytest.approx(0.8)  # [1, 3, 2, 4] -> [1, 2, 3, 4]
    assert rho["P-009"] == pytest.approx(0.4)  # [3, 1, 2, 4] -> [1, 2, 3, 4]: 1 - 6 * 6 / 60
    assert rho["P-013"] == pytest.approx(-1.0)  # the expert reversed their order
    assert two.median_rho == pytest.approx(0.8)


async def test_under_the_all_answers_population_the_unsent_draft_is_compared_too(
    session: AsyncSession, settings: Settings
) -> None:
    rs = await build_ranking_study(session, settings, population="all")
    frame = await load_frame(session, rs.study.panel)
    result = await rankings.load_round_rankings(session, frame.panel, rs.rounds[2], frame.groups)
    assert result.population.value == "all"
    rho = {c.pseudonym: c.rho for c in result.questions[0].correlations}
    assert rho["P-001"] == pytest.approx(-1.0), "P-001's saved draft reverses their round-1 order"


async def test_a_round_not_yet_closed_has_no_frozen_ranking_figures(
    session: AsyncSession, settings: Settings
) -> None:
    rs = await build_ranking_study(session, settings, rounds=1)
    frame = await load_frame(session, rs.study.panel)
    draft = frame.round_by_number(2)
    assert draft is not None
    result = await rankings.load_round_rankings(session, frame.panel, draft, frame.groups)
    # Whether or not the close carried the question into the drafted round 2, nothing is frozen there yet.
    assert [q.pooled for q in result.questions] == [None] * len(result.questions)
    assert result.rule and result.population.value == "submitted"


async def test_the_round_results_page_has_a_rankings_section_stating_the_population(
    session: AsyncSession, client: AsyncTestClient, settings: Settings
) -> None:
    rs = await build_ranking_study(session, settings)
    await login(client, "owner@facilitators.example")
    response = await client.get(f"/panels/{rs.study.panel.id}/rounds/2/results")
    assert response.status_code == 200, response.text
    page = text_of(response.text)
    assert "Ranking questions" in page and QUESTION in page
    assert "Rankings counted: Only the answers of panellists who sent the round count" in page
    assert "Experts under k = 3: hidden from panellists" in page
    assert "change from round 1: +" in page
    assert "P-013 Experts -1" in page
    # the whole panel's order, first to last
    order = [page.index(f"{place} {item}") for place, item in enumerate(ITEMS, start=1)]
    assert order == sorted(order)


async def test_a_researcher_sees_the_same_ranking_results(
    session: AsyncSession, client: AsyncTestClient, settings: Settings
) -> None:
    rs = await build_ranking_study(session, settings)
    await add_role(session, rs.study, RESEARCHER, PanelRole.RESEARCHER)
    await login(client, RESEARCHER)
    response = await client.get(f"/panels/{rs.study.panel.id}/rounds/1/results")
    assert response.status_code == 200
    page = text_of(response.text)
    assert "Kendall's W = 0.5" in page and "Experts under k = 3: hidden from panellists" in page


async def test_the_report_gives_each_ranking_question_its_rounds_w_trend_and_final_order(
    session: AsyncSession, settings: Settings
) -> None:
    rs = await build_ranking_study(session, settings)
    frame = await load_frame(session, rs.study.panel)
    section = await rankings.report_section(session, frame)
    assert not section.changed_after_lock
    [line] = section.questions
    assert line.text == QUESTION and [r.round for r in line.rounds] == [1, 2]
    first, second = line.rounds
    assert first.w_change is None and second.w_change == pytest.approx(second.w - first.w)
    assert (first.verdict, second.verdict) == ("none", "in")
    assert line.final_round == 2 and [i.text for i in line.final_order] == list(ITEMS)


async def test_a_change_of_the_ranking_threshold_after_round_1_opened_is_flagged_in_the_report(
    session: AsyncSession, client: AsyncTestClient, settings: Settings
) -> None:
    rs = await build_ranking_study(session, settings)
    panel = rs.study.panel
    audit.record(
        session,
        actor=Actor.account(rs.study.owner),
        panel_id=panel.id,
        action="panel.updated",
        detail={"fields": ["ranking_w_min"]},
    )
    await session.commit()
    frame = await load_frame(session, panel)
    assert (await rankings.report_section(session, frame)).changed_after_lock
    await login(client, "owner@facilitators.example")
    response = await client.get(f"/panels/{panel.id}/report")
    assert response.status_code == 200
    page = text_of(response.text)
    assert "Ranking questions: Agreement on the order when Kendall's W is at least 0.7" in page
    assert "The ranking rule or the consensus rule was changed after it was fixed." in page
    assert "Final order (round 2, by mean rank):" in page
    assert "changed after it was fixed" in page
