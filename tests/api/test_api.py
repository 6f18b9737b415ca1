"""The JSON API: token and session authentication, token scopes (the session cookie only reads), problem
bodies, OpenAPI."""

from __future__ import annotations

import re

from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.app import CSRF_COOKIE
from delphi.db.models import ApiToken, AuditEvent
from delphi.results.exports import CATALOG
from delphi.settings import Settings
from tests.results.helpers import (
    FACILITATOR,
    OUTSIDER,
    OWNER,
    PROBLEM,
    RESEARCHER,
    bearer,
    build_world,
    create_token,
    csrf_token,
    login,
    post_form,
    read_csv,
    world_and_token,
)
from tests.study import PENDING_COMMENT, PUBLISHED_COMMENT


async def test_a_token_created_on_the_account_page_is_shown_once_and_stored_hashed(
    session: AsyncSession, client: AsyncTestClient, settings: Settings
) -> None:
    await build_world(session, settings, rounds=1)
    await login(client, RESEARCHER)
    token = await create_token(client)
    listing = await client.get("/account/tokens")
    assert "R script" in listing.text and token not in listing.text
    await session.commit()
    stored = (await session.scalars(select(ApiToken.token_hash))).all()
    assert len(stored) == 1 and stored[0] != token and len(stored[0]) == 64
    refused = await post_form(client, "/account/tokens", {"name": ""})
    assert refused.status_code == 422 and "Give the token a name" in refused.text


async def test_a_token_authenticates_api_requests_without_a_session(
    session: AsyncSession, client: AsyncTestClient, settings: Settings
) -> None:
    world, token = await world_and_token(session, client, settings, RESEARCHER)
    me = await client.get("/api/v1/me", headers=bearer(token))
    assert me.status_code == 200
    assert me.json()["email"] == RESEARCHER and me.json()["authenticated_by"] == "token"
    panels = await client.get("/api/v1/panels", headers=bearer(token))
    assert [(p["id"], p["role"]) for p in panels.json()] == [(world.pid, "researcher")]


async def test_a_revoked_or_wrong_token_is_a_401_problem(
    session: AsyncSession, client: AsyncTestClient, settings: Settings
) -> None:
    await build_world(session, settings, rounds=1)
    await login(client, OWNER)
    token = await create_token(client)
    token_id = int(
        re.search(r"/account/tokens/(\d+)/revoke", (await client.get("/account/tokens")).text).group(1)
    )
    assert (await post_form(client, f"/account/tokens/{token_id}/revoke")).status_code == 303
    for headers in (
        bearer(token),
        bearer("not-a-token"),
        {"Authorization": "Basic b3duZXI6cHc="},
        bearer(""),
    ):
        response = await client.get("/api/v1/me", headers=headers)  # the session cookie does not rescue it
        assert response.status_code == 401, headers
        assert response.headers["content-type"].startswith(PROBLEM)
        body = response.json()
        assert body["status"] == 401 and "token" in body["detail"]
        assert response.headers["www-authenticate"].startswith("Bearer")
    await session.commit()
    assert "api_token.revoked" in (await session.scalars(select(AuditEvent.action))).all()


async def test_one_account_cannot_revoke_anothers_token(
    session: AsyncSession, client: AsyncTestClient, settings: Settings
) -> None:
    await build_world(session, settings, rounds=1)
    await login(client, OWNER)
    token = await create_token(client)
    token_id = int(
        re.search(r"/account/tokens/(\d+)/revoke", (await client.get("/account/tokens")).text).group(1)
    )
    client.cookies.clear()
    await login(client, OUTSIDER)
    assert (await post_form(client, f"/account/tokens/{token_id}/revoke")).status_code == 404
    assert (await client.get("/api/v1/me", headers=bearer(token))).status_code == 200


async def test_without_credentials_the_api_answers_401_problem(client: AsyncTestClient) -> None:
    response = await client.get("/api/v1/panels")
    assert response.status_code == 401
    assert response.headers["content-type"].startswith(PROBLEM)


async def test_the_session_cookie_reads_through_the_api_but_never_changes_anything(
    session: AsyncSession, client: AsyncTestClient, settings: Settings
) -> None:
    world = await build_world(session, settings, rounds=1)
    await login(client, FACILITATOR)
    me = (await client.get("/api/v1/me")).json()
    assert me["authenticated_by"] == "session" and me["scopes"] == ["read"]
    url = f"/api/v1/panels/{world.pid}/rounds/1/comments/{world.study.comments['pending']}"
    token = await csrf_token(client)
    assert client.cookies.get(CSRF_COOKIE) == token
    for headers in ({}, {"x-csrftoken": token}):  # the CSRF header changes nothing: the cookie only reads
        refused = await client.put(url, json={"status": "published"}, headers=headers)
        assert refused.status_code == 403 and refused.headers["content-type"].startswith(PROBLEM)
        assert "API token that may read and change" in refused.json()["detail"]
        assert 'error="insufficient_scope"' in refused.headers["www-authenticate"]
    await session.commit()
    comment = (await client.get(f"/api/v1/panels/{world.pid}/rounds/1/comments")).json()
    assert {c["status"] for c in comment if c["text"] == PENDING_COMMENT} == {"pending"}


async def test_a_read_only_token_reads_and_is_refused_every_change_with_insufficient_scope(
    session: AsyncSession, client: AsyncTestClient, settings: Settings
) -> None:
    world, token = await world_and_token(session, client, settings, FACILITATOR, scopes="read")
    me = (await client.get("/api/v1/me", headers=bearer(token))).json()
    assert me["authenticated_by"] == "token" and me["scopes"] == ["read"]
    url = f"/api/v1/panels/{world.pid}/rounds/1/comments/{world.study.comments['pending']}"
    refused = await client.put(url, json={"status": "published"}, headers=bearer(token))
    assert refused.status_code == 403 and refused.headers["content-type"].startswith(PROBLEM)
    assert "may only read" in refused.json()["detail"]
    assert refused.headers["www-authenticate"] == 'Bearer error="insufficient_scope", scope="write"'
    await session.commit()
    stored = (await session.scalars(select(ApiToken.scopes))).all()
    assert stored == ["read"]


async def test_a_token_is_read_only_unless_its_owner_lets_it_change_things(
    session: AsyncSession, client: AsyncTestClient, settings: Settings
) -> None:
    await build_world(session, settings, rounds=1)
    await login(client, FACILITATOR)
    plain = await post_form(client, "/account/tokens", {"name": "no choice made"})
    assert plain.status_code == 201
    writer = await create_token(client, "importer", scopes="read write")
    assert (await client.get("/api/v1/me", headers=bearer(writer))).json()["scopes"] == ["read", "write"]
    listing = (await client.get("/account/tokens")).text
    assert "read and change" in listing
    refused = await post_form(client, "/account/tokens", {"name": "", "scopes": "admin"})
    assert refused.status_code == 422
    assert "Give the token a name" in refused.text and "Choose what the token may do" in refused.text
    await session.commit()
    rows = (await session.execute(select(ApiToken.name, ApiToken.scopes).order_by(ApiToken.id))).all()
    assert [tuple(r) for r in rows] == [("no choice made", "read"), ("importer", "read write")]


async def test_token_writes_need_no_csrf_header_and_follow_the_panel_role(
    session: AsyncSession, client: AsyncTestClient, settings: Settings
) -> None:
    world, token = await world_and_token(session, client, settings, FACILITATOR)
    url = f"/api/v1/panels/{world.pid}/rounds/1/comments/{world.study.comments['published']}"
    response = await client.put(url, json={"status": "hidden"}, headers=bearer(token))
    assert response.status_code == 200 and response.json()["status"] == "hidden"
    bad = await client.put(url, json={"status": "deleted"}, headers=bearer(token))
    assert bad.status_code == 400 and bad.headers["content-type"].startswith(PROBLEM)


async def test_researchers_read_everything_but_cannot_moderate(
    session: AsyncSession, client: AsyncTestClient, settings: Settings
) -> None:
    world, token = await world_and_token(session, client, settings, RESEARCHER)
    base = f"/api/v1/panels/{world.pid}"
    for path in ("", "/groups", "/statements", "/panellists", "/rounds", "/rounds/1", "/rounds/1/monitor",
                 "/rounds/1/results", "/rounds/1/comments", "/attrition", "/final", "/exports"):  # fmt: skip
        response = await client.get(base + path, headers=bearer(token))
        assert response.status_code == 200, (path, response.text)
        assert "@people.example" not in response.text, path
    comments = (await client.get(base + "/rounds/1/comments", headers=bearer(token))).json()
    assert {c["text"] for c in comments} == {PUBLISHED_COMMENT, '=HYPERLINK("http://evil.example","click")'}
    url = f"{base}/rounds/1/comments/{world.study.comments['pending']}"
    refused = await client.put(url, json={"status": "published"}, headers=bearer(token))
    assert refused.status_code == 403 and refused.headers["content-type"].startswith(PROBLEM)


async def test_only_the_owner_gets_panellists_emails(
    session: AsyncSession, client: AsyncTestClient, settings: Settings
) -> None:
    world = await build_world(session, settings, rounds=1)
    for who, expect_email in ((OWNER, True), (FACILITATOR, False)):
        client.cookies.clear()
        await login(client, who)
        people = (await client.get(f"/api/v1/panels/{world.pid}/panellists")).json()
        assert len(people) == 14
        assert (people[0]["email"] == "panellist01@people.example") is expect_email
        assert (people[0]["email"] is None) is not expect_email


async def test_results_come_with_pooled_and_group_figures_and_flags(
    session: AsyncSession, client: AsyncTestClient, settings: Settings
) -> None:
    world, token = await world_and_token(session, client, settings, RESEARCHER)
    body = (await client.get(f"/api/v1/panels/{world.pid}/rounds/1/results", headers=bearer(token))).json()
    assert body["k_min"] == 3 and body["rule"].startswith("At least 70%")
    first = body["statements"][0]
    assert first["verdict"] == "in"
    assert first["flags"] == ["divergent", "sensitive", "suppressed"]
    assert first["pooled"]["n"] == 14 and first["pooled"]["median"] == 7.5
    assert [g["name"] for g in first["groups"]] == ["Service users", "Practitioners", "Experts"]
    assert [g["suppressed"] for g in first["groups"]] == [False, False, True]
    # experts (2) are under k; service users are hidden with them, so that pooled minus practitioners covers
    # 8 people rather than the experts' 2 (delphi.stats.disclosure)
    assert [g["shown_to_panellists"] for g in first["groups"]] == [False, True, False]
    assert first["pooled"]["shown_to_panellists"] is True
    assert first["sensitivity"]["agree75"] == "none"


async def test_api_errors_are_problem_bodies(
    session: AsyncSession, client: AsyncTestClient, settings: Settings
) -> None:
    world, token = await world_and_token(session, client, settings, OUTSIDER)
    h = bearer(token)
    cases = [
        (f"/api/v1/panels/{world.pid}", 404),  # another panel: not revealed
        (f"/api/v1/panels/{world.other.panel.id}/rounds/1/results", 409),  # round 1 is a draft
        (f"/api/v1/panels/{world.other.panel.id}/rounds/7", 404),
        (f"/api/v1/panels/{world.other.panel.id}/exports/final-list.csv", 409),  # nothing to export yet
        (f"/api/v1/panels/{world.other.panel.id}/exports/final-list.docx", 400),
        ("/api/v1/panels/99999999999", 400),  # beyond the id range: a 400, never a driver error
        ("/api/v1/panels/0", 400),
    ]
    for path, status in cases:
        response = await client.get(path, headers=h)
        assert response.status_code == status, (path, response.text)
        assert response.headers["content-type"].startswith(PROBLEM), path
        assert response.json()["status"] == status
    unknown = (
        await client.get(f"/api/v1/panels/{world.other.panel.id}/exports/final-list.docx", headers=h)
    ).json()
    assert "Formats allowed: csv, xlsx, json." in unknown["detail"]
    nothing = (
        await client.get(f"/api/v1/panels/{world.other.panel.id}/exports/ratings.csv", headers=h)
    ).json()
    assert "nothing to export yet" in nothing["detail"]


async def test_exports_download_through_the_api_with_a_token(
    session: AsyncSession, client: AsyncTestClient, settings: Settings
) -> None:
    world, token = await world_and_token(session, client, settings, RESEARCHER)
    listing = (await client.get(f"/api/v1/panels/{world.pid}/exports", headers=bearer(token))).json()
    assert {e["name"] for e in listing} == {
        "final-list", "ratings", "round-summaries", "codebook", "comments", "suggestions", "reasons", "datapackage",
        "rankings", "ranking-results", "baseline", "open-answers", "provenance",
    }  # fmt: skip
    url = next(e for e in listing if e["name"] == "ratings")["urls"]["csv"]
    response = await client.get(url, headers=bearer(token))
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert read_csv(response.content)[0][:3] == ["panellist", "group", "round"]
    owner_only = await client.get(
        f"/api/v1/panels/{world.pid}/exports/pseudonym-key.csv", headers=bearer(token)
    )
    assert owner_only.status_code == 403 and owner_only.headers["content-type"].startswith(PROBLEM)


async def test_openapi_documents_the_api_and_leaves_html_pages_out(client: AsyncTestClient) -> None:
    schema = (await client.get("/schema/openapi.json")).json()
    paths = set(schema["paths"])
    assert "/api/v1/panels/{panel_id}/rounds/{number}/results" in paths
    assert "/api/v1/panels/{panel_id}/exports/{filename}" in paths
    for path in paths:
        assert path.startswith("/api/"), f"HTML route {path} is in the OpenAPI schema"
    assert schema["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    download = schema["paths"]["/api/v1/panels/{panel_id}/exports/{filename}"]["get"]["responses"]
    assert "text/csv" in download["200"]["content"]
    assert download["404"]["content"].keys() == {PROBLEM}


async def test_openapi_lists_every_export_file_the_download_serves(client: AsyncTestClient) -> None:
    schema = (await client.get("/schema/openapi.json")).json()
    params = schema["paths"]["/api/v1/panels/{panel_id}/exports/{filename}"]["get"]["parameters"]
    (filename,) = [p for p in params if p["name"] == "filename"]
    listed = filename["schema"]["enum"]
    assert {"final-list.csv", "final-list.xlsx", "final-list.json", "ratings.csv"} <= set(listed)
    assert len(listed) == len(set(listed)) == sum(len(s.formats) for s in CATALOG)


async def test_the_api_reference_page_lists_every_operation_and_loads_nothing_from_elsewhere(
    client: AsyncTestClient,
) -> None:
    schema = (await client.get("/schema/openapi.json")).json()
    page = await client.get("/schema")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    for path, item in schema["paths"].items():
        for method in item:
            assert f"<code>{method.upper()} {path}</code>" in page.text
    assert 'href="/schema/openapi.json"' in page.text
    assert all(url.startswith(("/", "#")) for url in re.findall(r'(?:src|href)="([^"]*)"', page.text))
    assert (await client.get("/schema/reference")).text == page.text


async def test_a_body_with_several_wrong_fields_is_one_problem_listing_each_of_them(
    session: AsyncSession, client: AsyncTestClient, settings: Settings
) -> None:
    world, token = await world_and_token(session, client, settings, OWNER)
    refused = await client.post(
        f"/api/v1/panels/{world.pid}/team",
        json={"email": "not an address", "role": "admin", "can_contact": "yes"},
        headers=bearer(token),
    )
    assert refused.status_code == 400 and refused.headers["content-type"].startswith(PROBLEM)
    errors = refused.json()["errors"]
    assert [e["field"] for e in errors] == ["email", "role", "can_contact"]
    assert all(e["message"] for e in errors)
    missing = await client.post(f"/api/v1/panels/{world.pid}/team", json={}, headers=bearer(token))
    assert [e["field"] for e in missing.json()["errors"]] == ["email", "role"]
