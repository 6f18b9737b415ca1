"""Every results page, the report, the exports, the codebook and the API state the analysis population, and
the counts they show agree with it.

The study (tests/study.py) has P-001's round-2 answers saved and never sent: 13 of the 14
panellists sent round 2, so under ``submitted`` round 2's pooled n is 13 and under ``all`` it is 14.
"""

from __future__ import annotations

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.domain import AnalysisPopulation
from delphi.settings import Settings
from tests.results.helpers import OWNER, build_world, login, read_csv
from tests.results.test_pages import text_of

POPULATIONS = [AnalysisPopulation.SUBMITTED, AnalysisPopulation.ALL]


def round2_n(population: AnalysisPopulation) -> int:
    return 13 if population == AnalysisPopulation.SUBMITTED else 14


@pytest.mark.parametrize("population", POPULATIONS)
async def test_results_pages_and_report_state_the_population_and_count_by_it(
    session: AsyncSession, client: AsyncTestClient, settings: Settings, population: AnalysisPopulation
) -> None:
    world = await build_world(session, settings, population=population, unsent_draft=True)
    await login(client, OWNER)
    for path in ("/rounds/2/results", "/final", "/monitor?round=2", "/exports"):
        response = await client.get(f"/panels/{world.pid}{path}")
        assert response.status_code == 200, path
        assert f"Answers counted: {population.description}" in text_of(response.text), path
    report = text_of((await client.get(f"/panels/{world.pid}/report")).text)
    assert f"Answers counted {population.description}" in report
    # round, status, opened, closed, statements, submitted, counted
    assert f"2 closed 9 March 2026 15 March 2026 2 13 {round2_n(population)}" in report


@pytest.mark.parametrize("population", POPULATIONS)
async def test_exports_and_codebook_state_the_population_and_count_by_it(
    session: AsyncSession, client: AsyncTestClient, settings: Settings, population: AnalysisPopulation
) -> None:
    world = await build_world(session, settings, population=population, unsent_draft=True)
    await login(client, OWNER)
    base = f"/panels/{world.pid}/exports"
    summaries = read_csv((await client.get(f"{base}/round-summaries.csv")).content)
    head = summaries[0]
    rows = [dict(zip(head, r, strict=True)) for r in summaries[1:]]
    assert {r["population"] for r in rows} == {population.value}
    assert {r["n"] for r in rows if r["round"] == "2" and r["group"] == "all"} == {str(round2_n(population))}
    ratings = read_csv((await client.get(f"{base}/ratings.csv")).content)
    tidy = [dict(zip(ratings[0], r, strict=True)) for r in ratings[1:]]
    draft = [r for r in tidy if r["submitted"] == "0"]
    assert len(draft) == 2 and {r["panellist"] for r in draft} == {"P-001"}
    expected = "1" if population == AnalysisPopulation.ALL else "0"
    assert {r["counted"] for r in draft} == {expected}
    assert {r["counted"] for r in tidy if r["submitted"] == "1"} == {"1"}
    codebook = read_csv((await client.get(f"{base}/codebook.csv")).content)
    setting = {r[1]: r for r in codebook[1:] if r[0] == "settings"}
    assert setting["analysis_population"][4] == population.value
    assert population.description in setting["analysis_population"][5]


@pytest.mark.parametrize("population", POPULATIONS)
async def test_the_api_states_the_population_beside_the_figures(
    session: AsyncSession, client: AsyncTestClient, settings: Settings, population: AnalysisPopulation
) -> None:
    world = await build_world(session, settings, population=population, unsent_draft=True)
    await login(client, OWNER)
    api = f"/api/v1/panels/{world.pid}"
    assert (await client.get(api)).json()["analysis_population"] == population.value
    results = (await client.get(f"{api}/rounds/2/results")).json()
    assert results["analysis_population"] == population.value
    assert {s["pooled"]["n"] for s in results["statements"]} == {round2_n(population)}
    final = (await client.get(f"{api}/final")).json()
    assert final["analysis_population"] == population.value
