"""The languages and translations API (/api/v1/panels/{id}/languages, /translations/{lang}): the languages page's
rules and audit event, one language's sheet with each text's state, and saving translations by key with every
problem at once; readers look, editors change; on both backends."""

from __future__ import annotations

from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import AuditEvent, PanelLanguage, Translation, utcnow
from delphi.panels.translating import MAX_TRANSLATION_LENGTH
from delphi.panels.translation_gaps import round_items
from delphi.panels.translations import translated_round
from delphi.settings import Settings
from tests.results.helpers import (
    OUTSIDER,
    OWNER,
    PROBLEM,
    RESEARCHER,
    World,
    bearer,
    build_world,
    create_token,
    login,
    world_and_token,
)


async def draft_panel(
    session: AsyncSession, client: AsyncTestClient, settings: Settings
) -> tuple[World, int, str]:
    """The world, its other panel (a draft: round 1 not yet open, owned by the outsider) and the outsider's
    token that may read and change."""
    world, token = await world_and_token(session, client, settings, OUTSIDER)
    return world, world.other.panel.id, token


async def languages_rows(session: AsyncSession, panel_id: int) -> list[tuple[str, str]]:
    await session.commit()  # a fresh snapshot: what the app has committed since
    rows = await session.scalars(
        select(PanelLanguage).where(PanelLanguage.panel_id == panel_id).order_by(PanelLanguage.id)
    )
    return [(r.language, r.translated_by or "") for r in rows]


async def translations(session: AsyncSession, panel_id: int) -> dict[str, tuple[str, str]]:
    await session.commit()
    rows = await session.scalars(select(Translation).where(Translation.panel_id == panel_id))
    return {r.key: (r.text, r.source) for r in rows}


async def events(session: AsyncSession, panel_id: int, action: str) -> list[dict]:
    await session.commit()
    rows = await session.scalars(
        select(AuditEvent.detail)
        .where(AuditEvent.panel_id == panel_id, AuditEvent.action == action)
        .order_by(AuditEvent.id)
    )
    return [d or {} for d in rows]


async def offer_welsh(client: AsyncTestClient, panel_id: int, token: str) -> None:
    response = await client.put(
        f"/api/v1/panels/{panel_id}/languages",
        json={"primary": "en", "further": {"cy": ""}},
        headers=bearer(token),
    )
    assert response.status_code == 200, response.text


# --- languages -----------------------------------------------------------------------------------------------


async def test_the_languages_are_set_as_the_page_sets_them_and_recorded_once_per_change(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    _, pid, token = await draft_panel(session, client, settings)
    url = f"/api/v1/panels/{pid}/languages"
    shown = (await client.get(url, headers=bearer(token))).json()
    assert (shown["primary"], shown["primary_name"], shown["primary_locked"], shown["further"]) == (
        "en",
        "English",
        False,
        [],
    )
    assert {"language": "cy", "name": "Welsh"} in shown["choices"]
    change = {"primary": "en", "further": {"CY": "  Gwen   Evans ", "es": ""}}
    saved = await client.put(url, json=change, headers=bearer(token))
    assert saved.status_code == 200, saved.text
    assert saved.json()["further"] == [
        {"language": "cy", "name": "Welsh", "translated_by": "Gwen Evans"},
        {"language": "es", "name": "Spanish", "translated_by": ""},
    ]
    assert (await client.get(url, headers=bearer(token))).json() == saved.json()
    assert await languages_rows(session, pid) == [("cy", "Gwen Evans"), ("es", "")]
    assert (await client.put(url, json=change, headers=bearer(token))).status_code == 200  # no change
    [event] = await events(session, pid, "languages.changed")
    assert event["after"] == "English (en); further: Welsh (cy, translated by Gwen Evans), Spanish (es)"

    fewer = await client.put(url, json={"primary": "cy", "further": {}}, headers=bearer(token))
    assert fewer.status_code == 200 and (fewer.json()["primary"], fewer.json()["further"]) == ("cy", [])
    assert await languages_rows(session, pid) == []
    assert len(await events(session, pid, "languages.changed")) == 2


async def test_refused_languages_list_every_problem_by_the_bodys_fields_and_change_nothing(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    _, pid, token = await draft_panel(session, client, settings)
    url = f"/api/v1/panels/{pid}/languages"
    bad = {"primary": "fr", "further": {"en": "", "xx": "", "cy": "x" * 301}}
    refused = await client.put(url, json=bad, headers=bearer(token))
    assert refused.status_code == 422 and refused.headers["content-type"].startswith(PROBLEM)
    errors = refused.json()["errors"]
    assert [e["field"] for e in errors] == ["primary", "further", "further", "further.cy"]
    assert errors[0]["message"].startswith("“fr” cannot be the primary language")
    assert "not in “xx”" in errors[1]["message"]
    assert errors[2]["message"].startswith("English (en) is the primary language, so it cannot be a further")
    assert errors[3]["message"] == "Shorten who translated Welsh to at most 300 characters (301 given)."
    shapeless = await client.put(url, json={"primary": "en", "further": ["cy"]}, headers=bearer(token))
    assert shapeless.status_code == 400 and [e["field"] for e in shapeless.json()["errors"]] == ["further"]
    assert await languages_rows(session, pid) == []
    assert await events(session, pid, "languages.changed") == []


async def test_the_primary_language_stays_once_round_one_has_opened_and_readers_only_look(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    world, token = await world_and_token(session, client, settings, OWNER)  # round 1 closed
    url = f"/api/v1/panels/{world.pid}/languages"
    assert (await client.get(url, headers=bearer(token))).json()["primary_locked"] is True
    refused = await client.put(url, json={"primary": "cy", "further": {}}, headers=bearer(token))
    assert refused.status_code == 422
    [error] = refused.json()["errors"]
    assert error["field"] == "primary"
    assert error["message"].startswith("The primary language stays English (en): round 1 has opened")
    await login(client, RESEARCHER)
    reader = await create_token(client, scopes="read write")
    client.cookies.clear()
    assert (await client.get(url, headers=bearer(reader))).status_code == 200
    denied = await client.put(url, json={"primary": "en", "further": {"cy": ""}}, headers=bearer(reader))
    assert denied.status_code == 403 and denied.headers["content-type"].startswith(PROBLEM)
    assert await languages_rows(session, world.pid) == []


# --- translations --------------------------------------------------------------------------------------------


async def test_the_sheet_lists_every_text_of_the_round_as_missing_and_names_why_a_language_has_none(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    world, pid, token = await draft_panel(session, client, settings)
    base = f"/api/v1/panels/{pid}/translations"
    not_offered = await client.get(f"{base}/cy", headers=bearer(token))
    assert not_offered.status_code == 404 and not_offered.headers["content-type"].startswith(PROBLEM)
    assert not_offered.json()["detail"].startswith("This panel is not offered in “cy”.")
    await offer_welsh(client, pid, token)
    primary = await client.get(f"{base}/EN", headers=bearer(token))
    assert primary.status_code == 404
    assert (
        primary.json()["detail"]
        == "English is this panel's primary language: its texts are written, not translated."
    )

    sheet = (await client.get(f"{base}/cy", headers=bearer(token))).json()
    round_ = await translated_round(session, pid)
    assert round_ is not None
    items = await round_items(session, world.other.panel, round_)
    assert [(t["key"], t["group"], t["label"], t["source"]) for t in sheet["texts"]] == [
        (it.key, it.group, it.label, it.source) for it in items
    ]
    assert {(t["state"], t["text"], t["old_source"]) for t in sheet["texts"]} == {("missing", "", "")}
    assert sheet["counts"] == {"missing": len(items), "outdated": 0, "done": 0}
    assert (sheet["language"], sheet["name"], sheet["native_name"], sheet["direction"]) == (
        "cy",
        "Welsh",
        "Cymraeg",
        "ltr",
    )
    assert (sheet["primary"], sheet["round_number"], sheet["complete"]) == ("en", 1, False)


async def test_translations_are_saved_by_key_recorded_and_a_blank_one_removed(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    world, pid, token = await draft_panel(session, client, settings)
    await offer_welsh(client, pid, token)
    s1, s2 = world.other.statements["S1"], world.other.statements["S2"]
    k1, k2 = f"statement.{s1.id}", f"statement.{s2.id}"
    url = f"/api/v1/panels/{pid}/translations/cy"
    texts = {k1: "  Apwyntiadau o fewn yr wythnos.\r\n ", k2: "Gweithwyr cymheiriaid."}
    saved = await client.put(url, json={"texts": texts}, headers=bearer(token))
    assert saved.status_code == 200, saved.text
    body = saved.json()
    assert (body["saved"], body["deleted"]) == (2, 0)
    rows = {t["key"]: t for t in body["sheet"]["texts"]}
    assert (rows[k1]["state"], rows[k1]["text"]) == ("done", "Apwyntiadau o fewn yr wythnos.")
    assert body["sheet"]["counts"]["done"] == 2
    assert (await translations(session, pid))[k1] == ("Apwyntiadau o fewn yr wythnos.", s1.text)
    [event] = await events(session, pid, "translations.saved")
    assert (event["language"], event["round"], event["saved"], event["deleted"]) == ("cy", 1, 2, 0)

    to_do = (await client.get(f"{url}?show=missing", headers=bearer(token))).json()
    assert k1 not in {t["key"] for t in to_do["texts"]} and to_do["counts"]["done"] == 2
    same = await client.put(
        url, json={"texts": {k1: "Apwyntiadau o fewn yr wythnos."}}, headers=bearer(token)
    )
    assert (same.json()["saved"], same.json()["deleted"]) == (
        0,
        0,
    )  # unchanged: nothing written, nothing recorded
    removed = await client.put(url, json={"texts": {k2: " "}}, headers=bearer(token))
    assert (removed.json()["saved"], removed.json()["deleted"]) == (0, 1)
    assert set(await translations(session, pid)) == {k1}
    assert len(await events(session, pid, "translations.saved")) == 2


async def test_a_refused_save_lists_every_problem_at_once_and_saves_nothing(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    world, pid, token = await draft_panel(session, client, settings)
    await offer_welsh(client, pid, token)
    base = f"/api/v1/panels/{pid}"
    own = {"subject": "Hello {name}", "body": "Come in: {link}"}
    assert (
        await client.put(f"{base}/mail-texts/invitation", json=own, headers=bearer(token))
    ).status_code == 200
    s1, s2 = world.other.statements["S1"], world.other.statements["S2"]
    texts = {
        f"statement.{s1.id}": "Da.",
        "statement.999999": "Dim.",
        f"statement.{s2.id}": "y" * (MAX_TRANSLATION_LENGTH + 1),
        "mail.invitation.body": "Dewch i mewn.",
    }
    refused = await client.put(
        f"{base}/translations/cy", json={"texts": texts, "confirmed": ["nope"]}, headers=bearer(token)
    )
    assert refused.status_code == 422 and refused.headers["content-type"].startswith(PROBLEM)
    errors = refused.json()["errors"]
    assert [e["field"] for e in errors] == ["texts", f"statement.{s2.id}", "mail.invitation.body"]
    assert errors[0]["message"] == (
        "These are not texts of round 1, so nothing was saved: “nope”, “statement.999999”. "
        "Reload the page to see the texts it needs now."
    )
    assert errors[1]["message"] == f"Statement {s2.id}: shorten the translation to at most 10,000 characters."
    assert "must contain {link}" in errors[2]["message"]
    shapeless = await client.put(
        f"{base}/translations/cy", json={"texts": {"a": 3}, "x": 1}, headers=bearer(token)
    )
    assert shapeless.status_code == 400 and [e["field"] for e in shapeless.json()["errors"]] == ["texts", "x"]
    assert await translations(session, pid) == {}
    assert await events(session, pid, "translations.saved") == []


async def test_an_outdated_translation_shows_its_old_source_and_is_confirmed_as_it_is(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    world, pid, token = await draft_panel(session, client, settings)
    await offer_welsh(client, pid, token)
    s1 = world.other.statements["S1"]
    key = f"statement.{s1.id}"
    session.add(
        Translation(
            panel_id=pid,
            language="cy",
            key=key,
            text="Hen gyfieithiad.",
            source="An older wording.",
            updated_at=utcnow(),
        )
    )
    await session.commit()
    url = f"/api/v1/panels/{pid}/translations/cy"
    [row] = [t for t in (await client.get(url, headers=bearer(token))).json()["texts"] if t["key"] == key]
    assert (row["state"], row["text"], row["old_source"]) == (
        "outdated",
        "Hen gyfieithiad.",
        "An older wording.",
    )
    kept = await client.put(url, json={"texts": {key: "Hen gyfieithiad."}}, headers=bearer(token))
    assert kept.json()["saved"] == 0  # sent unchanged, not confirmed: still outdated
    confirmed = await client.put(url, json={"texts": {}, "confirmed": [key]}, headers=bearer(token))
    assert confirmed.status_code == 200 and confirmed.json()["saved"] == 1
    [row] = [t for t in confirmed.json()["sheet"]["texts"] if t["key"] == key]
    assert (row["state"], row["old_source"]) == ("done", "")
    assert (await translations(session, pid))[key] == ("Hen gyfieithiad.", s1.text)


async def test_researchers_read_a_sheet_but_do_not_save_and_outsiders_find_no_panel(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    world = await build_world(session, settings, rounds=1)
    session.add(PanelLanguage(panel_id=world.pid, language="cy"))
    await session.commit()
    tokens = {}
    for who in (RESEARCHER, OUTSIDER):
        await login(client, who)
        tokens[who] = await create_token(client, scopes="read write")
        client.cookies.clear()
    url = f"/api/v1/panels/{world.pid}/translations/cy"
    key = f"statement.{world.study.statements['S2'].id}"
    sheet = await client.get(url, headers=bearer(tokens[RESEARCHER]))
    assert sheet.status_code == 200 and sheet.json()["round_number"] == 2  # the round being prepared
    for who, status in ((RESEARCHER, 403), (OUTSIDER, 404)):
        put = await client.put(url, json={"texts": {key: "Da."}}, headers=bearer(tokens[who]))
        assert put.status_code == status and put.headers["content-type"].startswith(PROBLEM)
    assert (await client.get(url, headers=bearer(tokens[OUTSIDER]))).status_code == 404
    assert await translations(session, world.pid) == {}
