"""Round results filtered by a baseline answer (delphi.results.filtered): figures of the subset, computed afresh,
and disclosure control on the subset and on its complement (the unfiltered figures minus the subset's).

The study (tests/study.py, k = 3) has 14 panellists who all sent round 1: service users P-001…P-006,
practitioners P-007…P-012, experts P-013 and P-014.  "Years" (single choice): "Under 5" for P-001…P-003,
P-007…P-009 and P-013 (7 people), "Rarely asked" for P-004 and P-005 (2 = k - 1), "5 or more" for the other 5.
"Roles" (multiple choice): "Clinician" ticked by everyone but the experts (12: a complement of 2 = k - 1),
"Manager" by nobody.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import BaselineAnswer, BaselineQuestion
from delphi.domain import AnalysisPopulation
from delphi.results import filtered
from delphi.results.frame import load_frame
from delphi.settings import Settings
from delphi.stats.disclosure import ScopeCounts
from tests.results.helpers import FACILITATOR, OUTSIDER, RESEARCHER, World, build_world, login

UNDER_5 = [0, 1, 2, 6, 7, 8, 12]
RARELY = [3, 4]


def text_of(html: str) -> str:
    body = re.sub(r"<(script|style|svg)\b.*?</\1>", " ", html, flags=re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", body).split())


async def _world(
    session: AsyncSession, settings: Settings
) -> tuple[World, BaselineQuestion, BaselineQuestion]:
    world = await build_world(session, settings, rounds=2)
    years = BaselineQuestion(
        panel_id=world.pid, kind="single", text="Years", choices=["Under 5", "5 or more", "Rarely asked"]
    )
    roles = BaselineQuestion(
        panel_id=world.pid, kind="multiple", text="Roles", choices=["Clinician", "Manager"], position=1
    )
    age = BaselineQuestion(panel_id=world.pid, kind="number", text="Age", position=2)
    session.add_all([years, roles, age])
    await session.flush()
    for i, p in enumerate(world.study.panellists):
        choice = "Under 5" if i in UNDER_5 else "Rarely asked" if i in RARELY else "5 or more"
        session.add(BaselineAnswer(panellist_id=p.id, question_id=years.id, chosen=[choice]))
        session.add(BaselineAnswer(panellist_id=p.id, question_id=age.id, number=30.0 + i))
        if i < 12:
            session.add(BaselineAnswer(panellist_id=p.id, question_id=roles.id, chosen=["Clinician"]))
    await session.commit()
    return world, years, roles


def _type7(values: list[float]) -> tuple[float, float, float]:
    """Q1, median, Q3 by hand: docs/statistics.md §2, type 7 (R ``quantile(x, type = 7)``): h = (n - 1)p + 1,
    Q = x[floor h] + (h - floor h)(x[floor h + 1] - x[floor h]) on the sorted ratings (1-based)."""
    x = sorted(values)

    def q(p: float) -> float:
        h = (len(x) - 1) * p + 1
        lo = int(h)
        return x[lo - 1] + (h - lo) * ((x[lo] if lo < len(x) else x[lo - 1]) - x[lo - 1])

    return q(0.25), q(0.5), q(0.75)


async def test_an_allowed_filter_gives_the_subsets_figures_computed_by_hand(
    session: AsyncSession, settings: Settings
) -> None:
    world, years, _ = await _world(session, settings)
    study = world.study
    frame = await load_frame(session, study.panel)
    result, _ = await filtered.load_filtered_results(session, frame, study.rounds[1], f"{years.id}:0")
    assert (result.n, result.total, result.choice) == (7, 14, "Under 5")
    by_id = {s.statement_id: s for s in result.statements}
    # S1, round 1: users 9, 8, 8; practitioners 8, 7, 6; expert 9 -> sorted 6 7 8 8 8 9 9 (n = 7).
    s1 = by_id[study.statements["S1"].id]
    ratings = [9, 8, 8, 8, 7, 6, 9]
    q1, med, q3 = _type7(ratings)
    assert (q1, med, q3) == (7.5, 8.0, 8.5)  # h = 2.5, 4, 5.5 on 6 7 8 8 8 9 9
    assert np.allclose(np.percentile(ratings, [25, 50, 75], method="linear"), [q1, med, q3])
    pooled = s1.pooled
    assert (pooled.n, pooled.n_unable, pooled.median, pooled.q1, pooled.q3, pooled.iqr) == (
        7,
        0,
        8,
        7.5,
        8.5,
        1,
    )
    # §3: pct_agree = 100 x (ratings in 7-9) / n = 600 / 7; none in 1-3; COMET (>= 70%, < 15%): in.
    assert pooled.pct_agree == pytest.approx(600 / 7) and pooled.pct_disagree == 0
    assert s1.verdict == "in"
    # Groups: the one expert is hidden (1 < k); the remainder would then be that rating, so the smaller of the
    # others (service users, first in order) is hidden too; practitioners 8, 7, 6 are shown.
    users, practitioners, experts = s1.groups
    assert not users.shown and not experts.shown and users.n is None
    assert practitioners.shown and (practitioners.n, practitioners.median, practitioners.iqr) == (3, 7, 1)
    # S4: 5, 6, 4 | 6, 5, 7 | 3 -> 3 4 5 5 6 6 7: median 5, Q1 = 4 + 0.5 x 1 = 4.5, Q3 = 6.
    s4 = by_id[study.statements["S4"].id].pooled
    assert (s4.n, s4.median, s4.q1, s4.q3) == (7, 5, 4.5, 6) and _type7([5, 6, 4, 6, 5, 7, 3]) == (4.5, 5, 6)


async def test_a_subset_of_k_minus_one_is_refused(session: AsyncSession, settings: Settings) -> None:
    world, years, _ = await _world(session, settings)
    frame = await load_frame(session, world.study.panel)
    round_ = world.study.rounds[1]
    options = {o.choice: o for o in (await filtered.filter_options(session, frame, round_))[0].options}
    assert options["Rarely asked"].reason == "fewer than 3 panellists gave this answer"
    assert options["Under 5"].allowed and options["5 or more"].allowed
    with pytest.raises(filtered.FilterRefused, match="fewer than 3 panellists gave this answer") as exc:
        await filtered.load_filtered_results(session, frame, round_, f"{years.id}:2")
    assert exc.value.status_code == 400


async def test_a_complement_of_k_minus_one_is_refused_against_the_subtraction_attack(
    session: AsyncSession, settings: Settings
) -> None:
    world, _, roles = await _world(session, settings)
    frame = await load_frame(session, world.study.panel)
    round_ = world.study.rounds[1]
    # 12 of 14 ticked "Clinician": everyone's figures minus theirs would be the two experts' ratings.
    with pytest.raises(filtered.FilterRefused, match="all but fewer than 3"):
        await filtered.load_filtered_results(session, frame, round_, f"{roles.id}:0")
    questions = await filtered.filter_options(session, frame, round_)
    assert [q.text for q in questions] == ["Years", "Roles"], "a number question cannot filter"
    manager = questions[1].options[1]
    assert not manager.allowed and "no panellist" in manager.reason


def test_a_statement_whose_complement_is_under_k_refuses_the_filter() -> None:
    # 10 respondents, 5 in the subset, but only 6 rated the statement: 4 of them in the subset, 2 outside.
    reason = filtered.refusal(5, 10, [ScopeCounts(4)], [ScopeCounts(6)], 3, ["1.2"])
    assert reason == "all but fewer than 3 of the panellists who rated statement 1.2 gave this answer"
    assert filtered.refusal(5, 10, [ScopeCounts(3, 1)], [ScopeCounts(8, 1)], 3, ["1.2"]) == ""
    # 2 ratings and 1 "unable" are 3 people, but the 2 ratings alone would be under k: refused too.
    assert filtered.refusal(5, 10, [ScopeCounts(2, 1)], [ScopeCounts(8, 1)], 3, ["1.2"]).startswith(
        "fewer than 3"
    )
    assert "fewer than 3 panellists who gave this answer" in filtered.refusal(
        5, 10, [ScopeCounts(2)], [ScopeCounts(8)], 3
    )


def test_a_group_whose_complement_is_under_k_is_hidden_with_a_partner() -> None:
    # Subset groups 3 and 3, whole groups 4 and 6 (k = 3): group 1's complement is 1 person, so it is hidden;
    # the complement's hidden remainder would then be 4 - 3 = 1, so group 2 is hidden too.
    shown = filtered.shown_groups(
        ScopeCounts(6), [ScopeCounts(3), ScopeCounts(3)], ScopeCounts(10), [ScopeCounts(4), ScopeCounts(6)], 3
    )
    assert shown == (False, False)
    wide = filtered.shown_groups(
        ScopeCounts(6), [ScopeCounts(3), ScopeCounts(3)], ScopeCounts(12), [ScopeCounts(6), ScopeCounts(6)], 3
    )
    assert wide == (True, True)


@pytest.mark.parametrize("value", ["999999:0", "{years}:9", "{years}", "abc", "{years}:-1", "{age}:0"])
async def test_an_unknown_question_or_choice_is_a_400_never_a_500(
    session: AsyncSession, client: AsyncTestClient, settings: Settings, value: str
) -> None:
    world, years, _ = await _world(session, settings)
    age_id = await session.scalar(select(BaselineQuestion.id).where(BaselineQuestion.text == "Age"))
    await login(client, FACILITATOR)
    url = f"/panels/{world.pid}/rounds/1/results"
    response = await client.get(url, params={"baseline": value.format(years=years.id, age=age_id)})
    assert response.status_code == 400
    assert "question" in response.text or "choice" in response.text


async def test_the_page_states_the_filter_n_and_the_analysis_population(
    session: AsyncSession, client: AsyncTestClient, settings: Settings
) -> None:
    world, years, roles = await _world(session, settings)
    await login(client, RESEARCHER)
    url = f"/panels/{world.pid}/rounds/1/results"
    plain = await client.get(url)
    assert plain.status_code == 200
    assert re.search(rf'<option value="{years.id}:2" disabled>', plain.text)
    assert "fewer than 3 panellists gave this answer" in plain.text
    assert re.search(rf'<option value="{roles.id}:0" disabled>', plain.text)
    response = await client.get(url, params={"baseline": f"{years.id}:0"})
    assert response.status_code == 200
    page = text_of(response.text)
    population = AnalysisPopulation(world.study.panel.analysis_population).description
    assert "Results for panellists who answered “Under 5” to “Years”; n = 7 of 14 respondents. " in page
    assert f"Answers counted: {population}" in page
    refused = await client.get(url, params={"baseline": f"{years.id}:2"})
    assert refused.status_code == 400 and "fewer than 3 panellists gave this answer" in refused.text
    complement = await client.get(url, params={"baseline": f"{roles.id}:0"})
    assert complement.status_code == 400 and "all but fewer than 3" in complement.text


async def test_a_facilitator_may_filter_and_an_outsider_may_not(
    session: AsyncSession, client: AsyncTestClient, settings: Settings
) -> None:
    world, years, _ = await _world(session, settings)
    url = f"/panels/{world.pid}/rounds/1/results"
    await login(client, FACILITATOR)
    assert (await client.get(url, params={"baseline": f"{years.id}:0"})).status_code == 200
    client.cookies.clear()
    await login(client, OUTSIDER)
    assert (await client.get(url, params={"baseline": f"{years.id}:0"})).status_code == 404
