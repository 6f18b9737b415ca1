"""The e-mail texts API (/api/v1/panels/{id}/mail-texts): every panellist mail as the panel words it, saving one
with the page's placeholder checks and audit event, restoring the shipped wording; editors only; on both
backends."""

from __future__ import annotations

import html

from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import AuditEvent, MailText, PanelLanguage
from delphi.mail.texts import DEFAULTS, EDITABLE_KINDS, problems
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
    login,
    post_form,
    world_and_token,
)

SUBJECT, BODY = "  Thank you, {name} ", "We have your answers for round {round_number}.\n\n{link}\n"


async def stored(session: AsyncSession, panel_id: int) -> list[tuple[str, str, str]]:
    """The panel's own texts as ``(kind, subject, body)``, from what the app has committed."""
    await session.commit()
    rows = await session.scalars(
        select(MailText).where(MailText.panel_id == panel_id).order_by(MailText.kind)
    )
    return [(r.kind, r.subject, r.body) for r in rows]


async def events(session: AsyncSession, panel_id: int) -> list[tuple[str, dict]]:
    await session.commit()
    rows = await session.execute(
        select(AuditEvent.action, AuditEvent.detail)
        .where(AuditEvent.panel_id == panel_id, AuditEvent.action.like("mail_text.%"))
        .order_by(AuditEvent.id)
    )
    return [(a, d or {}) for a, d in rows.all()]


async def test_the_list_gives_every_kind_in_the_shipped_wording_with_its_placeholders(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    world, token = await world_and_token(session, client, settings, FACILITATOR)
    listed = await client.get(f"/api/v1/panels/{world.pid}/mail-texts", headers=bearer(token))
    assert listed.status_code == 200, listed.text
    body = listed.json()
    assert [t["kind"] for t in body] == list(EDITABLE_KINDS)
    reminder = next(t for t in body if t["kind"] == "reminder")
    assert (reminder["subject"], reminder["body"]) == (
        DEFAULTS["reminder"].subject,
        DEFAULTS["reminder"].body,
    )
    assert reminder["customised"] is False and reminder["updated_at"] is None
    assert reminder["label"] and reminder["translations"] == []
    names = {p["name"]: p["description"] for p in reminder["placeholders"]}
    assert {"name", "link", "rated", "total", "closes_at"} <= set(names)
    assert names["link"] == "the panellist's personal link (required in the body)"
    one = await client.get(f"/api/v1/panels/{world.pid}/mail-texts/reminder", headers=bearer(token))
    assert one.status_code == 200 and one.json() == reminder


async def test_a_text_saved_through_the_api_is_stored_and_audited_as_the_page_saves_it(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    world, token = await world_and_token(session, client, settings, OWNER)
    url = f"/api/v1/panels/{world.pid}/mail-texts/receipt"
    saved = await client.put(url, json={"subject": SUBJECT, "body": BODY}, headers=bearer(token))
    assert saved.status_code == 200, saved.text
    body = saved.json()
    assert (body["subject"], body["body"]) == (
        SUBJECT.strip(),
        BODY.strip(),
    )  # trimmed, as the page stores it
    assert body["customised"] is True and body["updated_at"] is not None
    assert (await client.get(url, headers=bearer(token))).json() == body
    by_api = await stored(session, world.pid)
    assert by_api == [("receipt", SUBJECT.strip(), BODY.strip())]

    await login(client, OWNER)  # the page, on another kind: the same row and the same event
    page = f"/panels/{world.pid}/mail/texts/reminder"
    posted = await post_form(client, page, {"subject": SUBJECT, "body": BODY, "action": "save"})
    assert posted.status_code == 303, posted.text
    assert await stored(session, world.pid) == [*by_api, ("reminder", SUBJECT.strip(), BODY.strip())]
    assert [a for a, _ in await events(session, world.pid)] == ["mail_text.saved", "mail_text.saved"]
    [(_, api_detail), (_, page_detail)] = await events(session, world.pid)
    assert set(api_detail) == set(page_detail) == {"kind"}


async def test_a_refused_text_lists_every_problem_of_the_page_and_nothing_is_saved(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    world, token = await world_and_token(session, client, settings, OWNER)
    subject, body = "About {panel_title}\nnext line", "Hello {nme}, {0} answers {"
    found = problems("reminder", subject, body)
    assert len(found) >= 5 and {f for f, _ in found} == {"subject", "body"}
    refused = await client.put(
        f"/api/v1/panels/{world.pid}/mail-texts/reminder",
        json={"subject": subject, "body": body},
        headers=bearer(token),
    )
    assert refused.status_code == 422 and refused.headers["content-type"].startswith(PROBLEM)
    assert refused.json()["errors"] == [{"field": f, "message": m} for f, m in found]
    assert any("must contain {link}" in m for _, m in found)
    await login(client, OWNER)
    page = await post_form(
        client,
        f"/panels/{world.pid}/mail/texts/reminder",
        {"subject": subject, "body": body, "action": "save"},
    )
    assert page.status_code == 422
    shown = html.unescape(page.text)
    assert all(m in shown for _, m in found)  # the page lists the same problems
    assert await stored(session, world.pid) == [] and await events(session, world.pid) == []


async def test_a_kind_that_cannot_be_worded_is_a_404_and_a_shapeless_body_a_400_naming_each_field(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    world, token = await world_and_token(session, client, settings, OWNER)
    base = f"/api/v1/panels/{world.pid}/mail-texts"
    for unknown in (
        await client.get(f"{base}/password_reset", headers=bearer(token)),
        await client.put(
            f"{base}/password_reset", json={"subject": "Hi", "body": "{link}"}, headers=bearer(token)
        ),
        await client.delete(f"{base}/password_reset", headers=bearer(token)),
    ):
        assert unknown.status_code == 404 and unknown.headers["content-type"].startswith(PROBLEM)
        assert unknown.json()["detail"].startswith("There is no such e-mail to word")
    shapeless = await client.put(
        f"{base}/invitation", json={"subject": 3, "colour": "red"}, headers=bearer(token)
    )
    assert shapeless.status_code == 400
    assert [e["field"] for e in shapeless.json()["errors"]] == ["subject", "body", "colour"]
    too_long = await client.put(
        f"{base}/invitation", json={"subject": "Hi", "body": "{link}" + "x" * 20_000}, headers=bearer(token)
    )
    assert too_long.status_code == 400 and [e["field"] for e in too_long.json()["errors"]] == ["body"]
    assert await stored(session, world.pid) == []


async def test_restoring_brings_the_shipped_wording_back_once_and_is_a_no_op_after(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    world, token = await world_and_token(session, client, settings, OWNER)
    url = f"/api/v1/panels/{world.pid}/mail-texts/invitation"
    assert (
        await client.put(url, json={"subject": "Hi", "body": "{link}"}, headers=bearer(token))
    ).status_code == 200
    restored = await client.delete(url, headers=bearer(token))
    assert restored.status_code == 204 and restored.content == b""
    shown = (await client.get(url, headers=bearer(token))).json()
    assert shown["customised"] is False and shown["subject"] == DEFAULTS["invitation"].subject
    again = await client.delete(url, headers=bearer(token))
    assert again.status_code == 204
    assert await stored(session, world.pid) == []
    assert [a for a, _ in await events(session, world.pid)] == ["mail_text.saved", "mail_text.restored"]


async def test_the_list_says_per_further_language_whether_the_panels_own_text_is_translated(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    world, token = await world_and_token(session, client, settings, OWNER)
    session.add(PanelLanguage(panel_id=world.pid, language="cy"))
    await session.commit()
    base = f"/api/v1/panels/{world.pid}"
    assert (
        await client.put(
            f"{base}/mail-texts/reminder", json={"subject": "Hi", "body": "{link}"}, headers=bearer(token)
        )
    ).status_code == 200
    [state] = (await client.get(f"{base}/mail-texts/reminder", headers=bearer(token))).json()["translations"]
    assert (state["language"], state["name"], state["state"]) == ("cy", "Welsh", "missing")
    assert state["description"] == "Not translated: the primary wording is sent"
    texts = {"mail.reminder.subject": "Helo", "mail.reminder.body": "Dyma {link}"}
    put = await client.put(f"{base}/translations/cy", json={"texts": texts}, headers=bearer(token))
    assert put.status_code == 200, put.text
    [state] = (await client.get(f"{base}/mail-texts/reminder", headers=bearer(token))).json()["translations"]
    assert state["state"] == "translated"


async def test_researchers_may_not_read_or_change_the_texts_and_outsiders_find_no_panel(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    world = await build_world(session, settings, rounds=1)
    tokens = {}
    for who in (RESEARCHER, OUTSIDER):
        await login(client, who)
        tokens[who] = await create_token(client, scopes="read write")
        client.cookies.clear()
    base = f"/api/v1/panels/{world.pid}/mail-texts"
    change = {"subject": "Hi", "body": "{link}"}
    for who, status in ((RESEARCHER, 403), (OUTSIDER, 404)):
        headers = bearer(tokens[who])
        for response in (
            await client.get(base, headers=headers),
            await client.get(f"{base}/reminder", headers=headers),
            await client.put(f"{base}/reminder", json=change, headers=headers),
            await client.delete(f"{base}/reminder", headers=headers),
        ):
            assert response.status_code == status, (who, response.request.method, response.text)
            assert response.headers["content-type"].startswith(PROBLEM)
    assert await stored(session, world.pid) == []
