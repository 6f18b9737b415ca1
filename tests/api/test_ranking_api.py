"""The API's ranking results of a round: the frozen figures as the team's pages show them, in the OpenAPI schema."""

from __future__ import annotations

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import RankingResult
from delphi.domain import PanelRole
from delphi.settings import Settings
from tests.results.helpers import OUTSIDER, PROBLEM, RESEARCHER, bearer, create_token, login
from tests.results.ranking_study import ITEMS, QUESTION, build_ranking_study
from tests.study import add_role


async def test_a_researchers_token_reads_a_rounds_ranking_results_with_the_change_from_the_round_before(
    session: AsyncSession, client: AsyncTestClient, settings: Settings
) -> None:
    rs = await build_ranking_study(session, settings)
    await add_role(session, rs.study, RESEARCHER, PanelRole.RESEARCHER)
    await login(client, RESEARCHER)
    token = await create_token(client)
    client.cookies.clear()
    response = await client.get(
        f"/api/v1/panels/{rs.study.panel.id}/rounds/2/rankings", headers=bearer(token)
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["analysis_population"] == "submitted" and body["w_min"] == 0.7 and body["k_min"] == 3
    assert "Only the answers of panellists who sent the round count" in body["analysis_population_text"]
    [q] = body["questions"]
    frozen = await session.scalar(
        select(RankingResult).where(RankingResult.round_id == rs.rounds[2].id, RankingResult.scope == "all")
    )
    assert frozen is not None
    assert q["text"] == QUESTION and q["verdict"] == "in" and q["pooled"]["w"] == frozen.w
    assert [i["text"] for i in q["pooled"]["items"]] == list(ITEMS)
    assert q["compared"] and q["w_change"] == pytest.approx(frozen.w - q["previous_w"])
    assert {c["pseudonym"]: c["rho"] for c in q["correlations"]}["P-013"] == pytest.approx(-1.0)
    experts = next(g for g in q["groups"] if g["name"] == "Experts")
    assert experts["suppressed"] and not experts["shown_to_panellists"]


async def test_an_open_round_has_no_ranking_results_yet_and_an_outsider_none_at_all(
    session: AsyncSession, client: AsyncTestClient, settings: Settings
) -> None:
    rs = await build_ranking_study(session, settings, rounds=1)
    await login(client, "owner@facilitators.example")
    response = await client.get(f"/api/v1/panels/{rs.study.panel.id}/rounds/2/rankings")
    assert response.status_code == 409 and response.headers["content-type"].startswith(PROBLEM)
    assert "Round 2 is draft" in response.json()["detail"]
    first = await client.get(f"/api/v1/panels/{rs.study.panel.id}/rounds/1/rankings")
    assert first.status_code == 200 and not first.json()["questions"][0]["compared"]
    await add_role(session, rs.study, OUTSIDER, None)
    client.cookies.clear()
    await login(client, OUTSIDER)
    hidden = await client.get(f"/api/v1/panels/{rs.study.panel.id}/rounds/1/rankings")
    assert hidden.status_code == 404


async def test_the_openapi_schema_lists_the_ranking_results(client: AsyncTestClient) -> None:
    schema = (await client.get("/schema/openapi.json")).json()
    operation = schema["paths"]["/api/v1/panels/{panel_id}/rounds/{number}/rankings"]["get"]
    assert {"200", "404", "409"} <= set(operation["responses"])
    names = set(schema["components"]["schemas"])
    assert {"RoundRankingResults", "RankingQuestionResult", "RankingScope"} <= names
