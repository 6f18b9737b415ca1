"""The mail API (/api/v1/panels/{id}/mail): the mail page's counts, failed messages and history as JSON, and
the retry of failed messages, with the page's access, masking and audit event; on both backends."""

from __future__ import annotations

from litestar.testing import AsyncTestClient
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import AuditEvent, OutboxMessage, PanelAccess
from delphi.mail import kinds
from delphi.settings import Settings
from delphi.web.mail_pages import MASKED, PAGE_SIZE
from tests.results.helpers import (
    FACILITATOR,
    OUTSIDER,
    OWNER,
    RESEARCHER,
    World,
    bearer,
    build_world,
    create_token,
    login,
)

PEOPLE = "@people.example"


async def token_of(client: AsyncTestClient, who: str) -> str:
    await login(client, who)
    token = await create_token(client, scopes="read write")
    client.cookies.clear()
    return token


async def mailed_world(session: AsyncSession, settings: Settings, *, dead: int = 2, sent: int = 1) -> World:
    """:func:`build_world` with round 1's invitation to its first panellists: ``dead`` of them could not be
    delivered (the SMTP error quoting the address), ``sent`` went out."""
    world = await build_world(session, settings, rounds=1)
    round_1 = world.study.rounds[1].id
    for n, p in enumerate(world.study.panellists[: dead + sent]):
        failed = n < dead
        session.add(
            OutboxMessage(
                dedupe_key=f"test:invite:r1:p{p.id}",
                kind=kinds.invitation.name,
                panel_id=world.pid,
                round_id=round_1,
                panellist_id=p.id,
                to_address=p.email,
                subject="Round 1 is open",
                body_text="...",
                body_html="...",
                status="dead" if failed else "sent",
                attempts=5 if failed else 1,
                last_error=f"550 5.1.1 <{p.email}>: mailbox unavailable" if failed else "",
            )
        )
    await session.commit()
    return world


async def statuses(session: AsyncSession, world: World) -> list[str]:
    await session.commit()  # a fresh snapshot: what the app has committed since
    rows = await session.scalars(
        select(OutboxMessage.status).where(OutboxMessage.panel_id == world.pid).order_by(OutboxMessage.id)
    )
    return list(rows.all())


async def retried_events(session: AsyncSession) -> int:
    await session.commit()
    return int(
        await session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "mail.retried")
        )
        or 0
    )


async def test_the_mail_list_counts_by_round_and_kind_and_shows_the_owner_addresses(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    world = await mailed_world(session, settings)
    body = (
        await client.get(f"/api/v1/panels/{world.pid}/mail", headers=bearer(await token_of(client, OWNER)))
    ).json()
    assert body["counts"] == [
        {
            "round": 1,
            "kind": "invitation",
            "kind_label": kinds.kind_label("invitation"),
            "queued": 0,
            "sending": 0,
            "sent": 1,
            "dead": 2,
            "cancelled": 0,
            "total": 3,
        }
    ]
    first, second = world.study.panellists[:2]
    assert [(m["pseudonym"], m["to_address"]) for m in body["dead"]] == [
        (second.pseudonym, second.email),
        (first.pseudonym, first.email),
    ]  # newest first
    assert body["dead"][0]["last_error"] == f"550 5.1.1 <{second.email}>: mailbox unavailable"
    assert [m["status"] for m in body["history"]] == ["sent", "dead", "dead"]
    assert body["page"] == {"number": 1, "size": PAGE_SIZE, "total": 3, "pages": 1}
    assert "body_text" not in body["history"][0] and "subject" not in body["history"][0]


async def test_a_facilitator_without_the_contact_grant_reads_pseudonyms_and_masked_errors_only(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    world = await mailed_world(session, settings)
    response = await client.get(
        f"/api/v1/panels/{world.pid}/mail", headers=bearer(await token_of(client, FACILITATOR))
    )
    assert response.status_code == 200
    assert PEOPLE not in response.text
    body = response.json()
    assert all(m["to_address"] is None for m in body["dead"] + body["history"])
    assert body["dead"][0]["last_error"] == f"550 5.1.1 <{MASKED}>: mailbox unavailable"
    await session.execute(
        update(PanelAccess)
        .where(PanelAccess.account_id == world.accounts[FACILITATOR].id, PanelAccess.panel_id == world.pid)
        .values(can_contact=True)
    )
    await session.commit()
    granted = await client.get(
        f"/api/v1/panels/{world.pid}/mail", headers=bearer(await token_of(client, FACILITATOR))
    )
    assert PEOPLE in granted.text


async def test_the_history_is_paged_like_the_page_and_a_page_past_the_last_is_a_404(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    world = await mailed_world(session, settings)
    token = await token_of(client, OWNER)
    base = f"/api/v1/panels/{world.pid}/mail"
    past = await client.get(f"{base}?page=2", headers=bearer(token))
    assert past.status_code == 404
    assert (
        past.json()["detail"] == "There is no page 2 of this list: it has 1 page. Go back to its first page."
    )
    for bad in ("0", "2147483648", "two"):
        assert (await client.get(f"{base}?page={bad}", headers=bearer(token))).status_code == 400, bad


async def test_retrying_the_chosen_failed_messages_queues_them_once_even_when_the_request_is_repeated(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    world = await mailed_world(session, settings)
    token = await token_of(client, FACILITATOR)
    dead = (await client.get(f"/api/v1/panels/{world.pid}/mail", headers=bearer(token))).json()["dead"]
    chosen = dead[0]["id"]
    sent = (await client.get(f"/api/v1/panels/{world.pid}/mail", headers=bearer(token))).json()["history"][0]
    headers = {**bearer(token), "Idempotency-Key": "retry-after-the-mail-server-came-back"}
    body = {"message_ids": [chosen, sent["id"]]}  # a message that has not failed is ignored
    first = await client.post(f"/api/v1/panels/{world.pid}/mail/retry", json=body, headers=headers)
    assert first.status_code == 200 and first.json() == {"retried": 1}
    again = await client.post(f"/api/v1/panels/{world.pid}/mail/retry", json=body, headers=headers)
    assert again.status_code == 200 and again.json() == {"retried": 1}
    assert again.headers["idempotency-replayed"] == "true"
    assert await retried_events(session) == 1
    assert sorted(await statuses(session, world)) == ["dead", "queued", "sent"]
    queued = await session.scalar(select(OutboxMessage).where(OutboxMessage.id == chosen))
    assert (queued.status, queued.attempts) == ("queued", 0)


async def test_retrying_without_ids_queues_every_failed_message_and_then_finds_none(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    world = await mailed_world(session, settings)
    token = await token_of(client, OWNER)
    target = f"/api/v1/panels/{world.pid}/mail/retry"
    assert (await client.post(target, json={}, headers=bearer(token))).json() == {"retried": 2}
    assert (await client.post(target, json={"message_ids": None}, headers=bearer(token))).json() == {
        "retried": 0
    }
    assert await retried_events(session) == 1  # nothing retried, nothing recorded
    assert sorted(await statuses(session, world)) == ["queued", "queued", "sent"]
    refused = await client.post(target, json={"message_ids": [], "all": True}, headers=bearer(token))
    assert refused.status_code == 400
    assert {e["field"] for e in refused.json()["errors"]} == {"message_ids", "all"}


async def test_the_mail_is_for_editors_only_and_other_panels_messages_are_never_retried(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    world = await mailed_world(session, settings)
    researcher = await token_of(client, RESEARCHER)
    assert (
        await client.get(f"/api/v1/panels/{world.pid}/mail", headers=bearer(researcher))
    ).status_code == 403
    refused = await client.post(f"/api/v1/panels/{world.pid}/mail/retry", json={}, headers=bearer(researcher))
    assert refused.status_code == 403
    outsider = await token_of(client, OUTSIDER)
    assert (await client.get(f"/api/v1/panels/{world.pid}/mail", headers=bearer(outsider))).status_code == 404
    ids = list(
        (await session.scalars(select(OutboxMessage.id).where(OutboxMessage.panel_id == world.pid))).all()
    )
    # The outsider's own panel: this panel's failed messages are not its to retry.
    theirs = await client.post(
        f"/api/v1/panels/{world.other.panel.id}/mail/retry",
        json={"message_ids": ids},
        headers=bearer(outsider),
    )
    assert theirs.status_code == 200 and theirs.json() == {"retried": 0}
    assert sorted(await statuses(session, world)) == ["dead", "dead", "sent"]
    assert await retried_events(session) == 0
