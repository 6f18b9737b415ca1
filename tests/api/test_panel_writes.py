"""Creating a panel, changing its settings and its groups through the API: the pages' use cases, rules, messages
and audit events, with RFC 9457 problems for refusals."""

from __future__ import annotations

import html
from typing import Any

from litestar.testing import AsyncTestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import AuditEvent, Panel, Round, StakeholderGroup
from delphi.panels.consent_text import DEFAULT_CONSENT_TEXT
from delphi.panels.settings import NINE_POINT_LABELS, SETTINGS, PanelInput, default_rule, validate_panel_input
from delphi.settings import Settings
from delphi.stats import rule_by_name
from delphi.web import panel_form
from delphi.web.api.panels import NewPanel, PanelChange
from tests.results.helpers import (
    OUTSIDER,
    OWNER,
    PROBLEM,
    RESEARCHER,
    bearer,
    login,
    post_form,
    world_and_token,
)

#: A panel as the new panel form posts it, and the same settings as an API body.
FORM = {
    "title": "Treatment decisions",
    "description": "What matters when choosing a treatment",
    "consent_text": DEFAULT_CONSENT_TEXT,
    "scale_min": "1",
    "scale_max": "9",
    "scale_labels": "\n".join(NINE_POINT_LABELS),
    "allow_unable": "on",
    "unable_label": "Can't say",
    "quantile_method": "weibull",
    "analysis_population": "all",
    "unable_policy": "exclude",
    "max_rounds": "4",
    "k_min": "5",
    "honorarium": "15.00",
    "currency": "EUR",
    "contact_name": "The research team",
    "contact_email": "research-team@university.example",
    "contact_phone": "",
    "discreet_name": "",
    "rule_name": "agree75",
    "rule_scope": "every_group",
    "agree_band": "7-9",
    "disagree_band": "1-3",
    "min_ratings": "2",
    "ranking_w_min": "0.8",
}
BODY: dict[str, Any] = {
    "title": "Treatment decisions",
    "description": "What matters when choosing a treatment",
    "scale_min": 1,
    "scale_max": 9,
    "scale_labels": list(NINE_POINT_LABELS),
    "allow_unable": True,
    "unable_label": "Can't say",
    "quantile_method": "weibull",
    "analysis_population": "all",
    "unable_policy": "exclude",
    "max_rounds": 4,
    "k_min": 5,
    "honorarium_minor": 1500,
    "currency": "EUR",
    "contact_name": "The research team",
    "contact_email": "research-team@university.example",
    "contact_phone": "",
    "discreet": False,
    "discreet_name": "",
    "rule": rule_by_name("agree75", scope="every_group").to_dict(),
    "ranking_w_min": 0.8,
}


async def create(client: AsyncTestClient, token: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post("/api/v1/panels", json=body, headers=bearer(token))
    assert response.status_code == 201, response.text
    return response.json()


async def panel_count(session: AsyncSession) -> int:
    return await session.scalar(select(func.count()).select_from(Panel)) or 0


async def events(session: AsyncSession, panel_id: int) -> list[tuple[str, Any]]:
    """The panel's audit events as ``(action, detail)``, oldest first, ids of groups left out."""
    rows = await session.execute(
        select(AuditEvent.action, AuditEvent.detail)
        .where(AuditEvent.panel_id == panel_id)
        .order_by(AuditEvent.id)
    )
    return [(action, {k: v for k, v in (detail or {}).items() if k != "group_id"}) for action, detail in rows]


def stored_settings(panel: Panel) -> dict[str, Any]:
    return {s.name: getattr(panel, s.name) for s in SETTINGS}


# --- panels --------------------------------------------------------------------------------------------------


def test_the_bodies_carry_exactly_the_settings_the_api_shows() -> None:
    api = [s.name for s in SETTINGS if s.api]
    for struct in (NewPanel, PanelChange):
        assert list(struct.__struct_fields__) == api
    assert (
        NewPanel.__struct_config__.forbid_unknown_fields
        and PanelChange.__struct_config__.forbid_unknown_fields
    )


async def test_a_panel_created_with_a_title_only_has_the_defaults_a_draft_round_and_its_location(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    _, token = await world_and_token(session, client, settings, OWNER)
    response = await client.post("/api/v1/panels", json={"title": "  New panel "}, headers=bearer(token))
    assert response.status_code == 201, response.text
    body = response.json()
    assert response.headers["location"] == f"/api/v1/panels/{body['id']}"
    assert (await client.get(response.headers["location"], headers=bearer(token))).json() == body
    assert body["title"] == "New panel" and body["role"] == "owner" and body["status"] == "draft"
    assert (body["scale_min"], body["scale_max"], body["k_min"], body["max_rounds"]) == (1, 9, 3, 3)
    assert body["rule"] == default_rule() and body["honorarium_minor"] is None and body["currency"] == "GBP"
    assert body["contact_email"] == "" and body["discreet"] is False
    panel = await session.get(Panel, body["id"])
    assert panel is not None and panel.consent_text == DEFAULT_CONSENT_TEXT  # the form's suggestion
    rounds = (await session.scalars(select(Round.status).where(Round.panel_id == panel.id))).all()
    assert rounds == ["draft"]


async def test_a_panel_created_with_settings_stores_them_as_the_new_panel_form_does(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    _, token = await world_and_token(session, client, settings, OWNER)
    body = await create(client, token, {**BODY, "currency": "eur"})
    assert {k: body[k] for k in BODY} == {**BODY, "rule": body["rule"]}
    assert body["rule"]["name"] == "agree75" and body["rule"]["scope"] == "every_group"
    await login(client, OWNER)
    page = await post_form(client, "/panels", FORM)
    assert page.status_code == 303, page.text
    by_page = await session.scalar(select(Panel).order_by(Panel.id.desc()).limit(1))
    by_api = await session.get(Panel, body["id"])
    assert by_page is not None and by_api is not None and by_page.id != by_api.id
    assert stored_settings(by_api) == stored_settings(by_page)


async def test_every_problem_of_a_new_panel_is_listed_at_once_with_the_pages_words_and_nothing_is_made(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    _, token = await world_and_token(session, client, settings, OWNER)
    before = await panel_count(session)
    bad = {"title": " ", "k_min": 0, "scale_min": 5, "scale_max": 2, "currency": "pounds"}
    response = await client.post("/api/v1/panels", json=bad, headers=bearer(token))
    assert response.status_code == 422
    assert response.headers["content-type"].startswith(PROBLEM)
    page_problems = validate_panel_input(
        PanelInput(title=" ", k_min=0, scale_min=5, scale_max=2, currency="pounds"), default_rule()
    )
    assert [(e["field"], e["message"]) for e in response.json()["errors"]] == page_problems
    assert {"title", "scale_max", "k_min", "currency", "rule"} <= {field for field, _ in page_problems}
    assert await panel_count(session) == before


async def test_words_for_unable_to_rate_over_100_characters_are_refused_even_when_the_panel_does_not_offer_it(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    """They are stored either way (a 100-character column): PostgreSQL refused the row with a 500 before."""
    _, token = await world_and_token(session, client, settings, OWNER)
    before = await panel_count(session)
    body = {"title": "Take-home doses", "allow_unable": False, "unable_label": "x" * 150}
    response = await client.post("/api/v1/panels", json=body, headers=bearer(token))
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == ["unable_label"]
    assert await panel_count(session) == before


async def test_a_body_outside_the_schema_is_a_400_naming_every_wrong_field(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    world, token = await world_and_token(session, client, settings, OWNER)
    before = await panel_count(session)
    wrong = {"k_min": "three", "scale_labels": "Low", "colour": "blue"}
    response = await client.post("/api/v1/panels", json=wrong, headers=bearer(token))
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == ["title", "scale_labels", "k_min", "colour"]
    changed = await client.patch(
        f"/api/v1/panels/{world.pid}", json={"contact_name": None}, headers=bearer(token)
    )
    assert changed.status_code == 400  # null is no name: leave the field out to keep it
    assert await panel_count(session) == before


async def test_a_change_of_one_setting_leaves_every_other_and_is_audited_as_on_the_page(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    _, token = await world_and_token(session, client, settings, OWNER)
    before = await create(client, token, BODY)
    url = f"/api/v1/panels/{before['id']}"
    response = await client.patch(url, json={"k_min": 7}, headers=bearer(token))
    assert response.status_code == 200, response.text
    assert response.json() == {**before, "k_min": 7}
    unchanged = await client.patch(url, json={}, headers=bearer(token))
    assert unchanged.status_code == 200 and unchanged.json() == {**before, "k_min": 7}
    cleared = await client.patch(url, json={"honorarium_minor": None}, headers=bearer(token))
    assert cleared.json()["honorarium_minor"] is None
    assert await events(session, before["id"]) == [
        ("panel.created", {"title": "Treatment decisions"}),
        ("panel.updated", {"fields": ["k_min"]}),
        ("panel.updated", {"fields": ["honorarium_minor"]}),
    ]


async def test_the_audit_events_of_the_api_are_the_pages(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    _, token = await world_and_token(session, client, settings, OWNER)
    by_api = (await create(client, token, BODY))["id"]
    change = {"k_min": 7, "title": "Choices"}
    api = await client.patch(f"/api/v1/panels/{by_api}", json=change, headers=bearer(token))
    assert api.status_code == 200
    await login(client, OWNER)
    assert (await post_form(client, "/panels", FORM)).status_code == 303
    by_page = await session.scalar(select(func.max(Panel.id)))
    changed = {**FORM, "k_min": "7", "title": "Choices"}
    settings_page = await post_form(client, f"/panels/{by_page}/settings", changed)
    assert settings_page.status_code == 303, settings_page.text
    assert await events(session, by_api) == await events(session, by_page)
    assert [action for action, _ in await events(session, by_api)] == ["panel.created", "panel.updated"]


async def test_every_problem_of_a_change_is_listed_at_once_and_nothing_is_saved(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    _, token = await world_and_token(session, client, settings, OWNER)
    before = await create(client, token, BODY)
    url = f"/api/v1/panels/{before['id']}"
    bad = {"k_min": 99, "scale_min": 9, "scale_max": 3, "title": "Renamed"}
    response = await client.patch(url, json=bad, headers=bearer(token))
    assert response.status_code == 422
    fields = [e["field"] for e in response.json()["errors"]]
    assert "scale_max" in fields and "k_min" in fields
    assert (await client.get(url, headers=bearer(token))).json() == before
    assert [action for action, _ in await events(session, before["id"])] == ["panel.created"]


async def test_a_locked_setting_is_refused_after_round_one_opened_as_the_settings_page_refuses_it(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    world, token = await world_and_token(session, client, settings, OWNER)  # round 1 has closed
    url = f"/api/v1/panels/{world.pid}"
    before = (await client.get(url, headers=bearer(token))).json()
    assert before["rule_locked_at"] is not None
    response = await client.patch(url, json={"quantile_method": "hinges", "k_min": 4}, headers=bearer(token))
    assert response.status_code == 409
    detail = response.json()["detail"]
    assert detail.startswith("You cannot change the quantile method: it was locked when round 1 opened")
    assert (await client.get(url, headers=bearer(token))).json() == before
    # The settings page refuses the same change with the same sentence.
    panel = await session.get(Panel, world.pid)
    assert panel is not None
    await session.refresh(panel)
    shown = panel_form.form_values(panel)
    form = {k: ("on" if v is True else str(v)) for k, v in shown.items() if v is not False and v is not None}
    await login(client, OWNER)
    changed = {**form, "quantile_method": "hinges", "k_min": "4"}
    page = await post_form(client, f"/panels/{world.pid}/settings", changed)
    assert page.status_code == 409
    assert html.unescape(page.text).count(detail) >= 1
    # A locked setting sent as it is changes nothing, so the rest of the change goes through.
    as_it_is = {"quantile_method": before["quantile_method"], "k_min": 4}
    same = await client.patch(url, json=as_it_is, headers=bearer(token))
    assert same.status_code == 200 and same.json() == {**before, "k_min": 4}


async def test_a_researcher_may_neither_create_nor_change_a_panel(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    world, token = await world_and_token(session, client, settings, RESEARCHER)
    before = await panel_count(session)
    created = await client.post("/api/v1/panels", json=BODY, headers=bearer(token))
    assert created.status_code == 403 and "researcher account" in created.json()["detail"]
    changed = await client.patch(f"/api/v1/panels/{world.pid}", json={"k_min": 4}, headers=bearer(token))
    assert changed.status_code == 403
    added = await client.post(f"/api/v1/panels/{world.pid}/groups", json={"name": "X"}, headers=bearer(token))
    assert added.status_code == 403
    assert await panel_count(session) == before


async def test_an_account_not_on_the_panel_finds_no_panel_and_no_group(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    world, token = await world_and_token(session, client, settings, OUTSIDER)
    base = f"/api/v1/panels/{world.pid}"
    group = world.study.groups["users"].id
    for method, url, body in (
        ("PATCH", base, {"k_min": 4}),
        ("POST", f"{base}/groups", {"name": "X"}),
        ("PATCH", f"{base}/groups/{group}", {"name": "X"}),
        ("DELETE", f"{base}/groups/{group}", None),
    ):
        response = await client.request(method, url, json=body, headers=bearer(token))
        assert response.status_code == 404, (method, url)
        assert response.headers["content-type"].startswith(PROBLEM)


# --- groups --------------------------------------------------------------------------------------------------


async def test_groups_are_added_renamed_and_deleted_with_the_pages_audit_events(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    _, token = await world_and_token(session, client, settings, OWNER)
    pid = (await create(client, token, {"title": "Groups"}))["id"]
    base = f"/api/v1/panels/{pid}/groups"
    new = {"name": " Service  users ", "lived_experience": True}
    added = await client.post(base, json=new, headers=bearer(token))
    assert added.status_code == 201, added.text
    group = added.json()
    assert group == {
        "id": group["id"],
        "name": "Service users",
        "lived_experience": True,
        "position": 0,
        "panellists": 0,
    }
    assert added.headers["location"] == f"{base}/{group['id']}"
    assert (await client.get(added.headers["location"], headers=bearer(token))).json() == group
    second = await client.post(base, json={"name": "Clinicians"}, headers=bearer(token))
    assert second.json()["position"] == 1 and second.json()["lived_experience"] is False
    renamed = await client.patch(f"{base}/{group['id']}", json={"name": "Patients"}, headers=bearer(token))
    assert renamed.status_code == 200 and renamed.json() == {**group, "name": "Patients"}
    deleted = await client.delete(f"{base}/{second.json()['id']}", headers=bearer(token))
    assert deleted.status_code == 204
    assert (await client.get(f"{base}/{second.json()['id']}", headers=bearer(token))).status_code == 404
    assert [g["name"] for g in (await client.get(base, headers=bearer(token))).json()] == ["Patients"]
    # The same on the page gives the same events.
    await login(client, OWNER)
    assert (await post_form(client, "/panels", {"title": "Groups"})).status_code == 303
    by_page = await session.scalar(select(func.max(Panel.id)))
    page = f"/panels/{by_page}/groups"
    await post_form(client, page, {"name": " Service  users ", "lived_experience": "on"})
    await post_form(client, page, {"name": "Clinicians"})
    ids = (
        await session.scalars(
            select(StakeholderGroup.id)
            .where(StakeholderGroup.panel_id == by_page)
            .order_by(StakeholderGroup.id)
        )
    ).all()
    await post_form(client, f"{page}/{ids[0]}/rename", {"name": "Patients"})
    await post_form(client, f"{page}/{ids[1]}/delete", {})
    assert await events(session, pid) == await events(session, by_page)
    assert [a for a, _ in await events(session, pid)] == [
        "panel.created",
        "group.added",
        "group.added",
        "group.renamed",
        "group.deleted",
    ]


async def test_group_refusals_are_the_pages_as_problems_and_change_nothing(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    world, token = await world_and_token(session, client, settings, OWNER)
    pid = (await create(client, token, {"title": "Groups"}))["id"]
    base = f"/api/v1/panels/{pid}/groups"
    users = (await client.post(base, json={"name": "Users"}, headers=bearer(token))).json()
    cases: list[tuple[str, str, Any, int, str]] = [
        ("POST", base, {"name": "   "}, 422, "Enter a group name of 1 to 100 characters."),
        ("POST", base, {"name": "x" * 101}, 422, "Enter a group name of 1 to 100 characters."),
        ("POST", base, {"name": "USERS"}, 409, "There is a group called 'USERS' already."),
        ("POST", base, {"title": "Users"}, 400, ""),
        ("PATCH", f"{base}/{users['id']}", {"name": ""}, 422, "Enter a group name"),
        ("PATCH", f"{base}/999999", {"name": "Carers"}, 404, "There is no such group on this panel."),
        ("DELETE", f"{base}/999999", None, 404, "There is no such group on this panel."),
        ("GET", f"{base}/999999", None, 404, "There is no such group on this panel."),
        # A group of the world's panel is no group of this one.
        ("PATCH", f"{base}/{world.study.groups['users'].id}", {"name": "Carers"}, 404, "no such group"),
        ("DELETE", f"{base}/{world.study.groups['users'].id}", None, 404, "no such group"),
        # Round 1 of the world's panel has opened: no group is added; one with panellists is not deleted.
        ("POST", f"/api/v1/panels/{world.pid}/groups", {"name": "Carers"}, 409, "after round 1 has opened"),
        (
            "DELETE",
            f"/api/v1/panels/{world.pid}/groups/{world.study.groups['users'].id}",
            None,
            409,
            "panellist(s); move or remove them first",
        ),
    ]
    before = await events(session, pid), await events(session, world.pid)
    for method, url, body, status, words in cases:
        response = await client.request(method, url, json=body, headers=bearer(token))
        assert response.status_code == status, (method, url, response.text)
        assert response.headers["content-type"].startswith(PROBLEM)
        assert words in response.json()["detail"], (method, url, response.json())
    assert (await events(session, pid), await events(session, world.pid)) == before
    kept = (await client.get(f"/api/v1/panels/{world.pid}/groups", headers=bearer(token))).json()
    assert world.study.groups["users"].id in [g["id"] for g in kept]


async def test_a_group_is_renamed_after_round_one_opened_as_on_the_page(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    world, token = await world_and_token(session, client, settings, OWNER)
    group = world.study.groups["users"]
    url = f"/api/v1/panels/{world.pid}/groups/{group.id}"
    renamed = await client.patch(url, json={"name": "Service users"}, headers=bearer(token))
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["name"] == "Service users" and renamed.json()["panellists"] > 0
