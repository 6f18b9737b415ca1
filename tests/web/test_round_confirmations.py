"""Confirmation pages before a round action: what it will do in numbers, and a post without ``confirm`` does
nothing.

The study (tests/study.py, ``rounds=0``): 14 panellists, round 1 open with its 4 statements; P-002 saved answers
without sending them, P-003 saved nothing, P-014 bounced (after sending), the 11 others sent theirs.
"""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

from litestar.testing import AsyncTestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import AuditEvent, OutboxMessage, Panellist, Round, utcnow
from delphi.settings import Settings
from tests.factories import make_account
from tests.results.helpers import OWNER, RESEARCHER, build_world, login, post_form
from tests.study import study_panel


def text_of(html: str) -> str:
    body = re.sub(r"<(script|style|svg)\b.*?</\1>", " ", html, flags=re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", body)).split())


async def n_mails(session: AsyncSession, kind: str) -> int:
    session.expire_all()
    n = await session.scalar(
        select(func.count()).select_from(OutboxMessage).where(OutboxMessage.kind == kind)
    )
    return int(n or 0)


async def token_hash(session: AsyncSession, panellist_id: int) -> str | None:
    session.expire_all()
    return await session.scalar(select(Panellist.token_hash).where(Panellist.id == panellist_id))


async def round_status(session: AsyncSession, panel_id: int, number: int) -> str | None:
    session.expire_all()
    return await session.scalar(
        select(Round.status).where(Round.panel_id == panel_id, Round.number == number)
    )


async def test_close_confirmation_says_unsent_drafts_will_not_count_when_only_submitted_answers_count(
    session: AsyncSession, client: AsyncTestClient, settings: Settings
) -> None:
    world = await build_world(session, settings, rounds=0, population="submitted")
    await login(client, OWNER)
    page = await client.get(f"/panels/{world.pid}/rounds/1/close")
    assert page.status_code == 200
    text = text_of(page.text)
    assert "This closes round 1: its 4 statements get their results by the consensus rule" in text
    assert "12 panellists sent their answers." in text
    assert "1 panellist has saved answers but not sent them; their drafts will not count" in text
    assert "1 panellist who could take part saved no answer." in text
    assert "13 panellists get the final results" in text  # everyone but P-014, who bounced
    assert 'name="confirm"' in page.text


async def test_close_confirmation_says_unsent_drafts_count_when_every_saved_answer_counts(
    session: AsyncSession, client: AsyncTestClient, settings: Settings
) -> None:
    world = await build_world(session, settings, rounds=0, population="all")
    await login(client, OWNER)
    text = text_of((await client.get(f"/panels/{world.pid}/rounds/1/close")).text)
    assert "1 panellist has saved answers but not sent them; their saved answers count too" in text
    assert "will not count" not in text


async def test_posting_close_without_confirm_shows_the_confirmation_and_closes_nothing(
    session: AsyncSession, client: AsyncTestClient, settings: Settings
) -> None:
    world = await build_world(session, settings, rounds=0)
    pid = world.pid
    await login(client, OWNER)
    response = await post_form(client, f"/panels/{pid}/rounds/1/close")
    assert response.status_code == 200
    assert "Close round 1?" in response.text
    assert await round_status(session, pid, 1) == "open"
    closed = await session.scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "round.closed")
    )
    assert closed == 0
    confirmed = await post_form(client, f"/panels/{pid}/rounds/1/close", {"confirm": "1"})
    assert confirmed.status_code == 303
    assert await round_status(session, pid, 1) == "closed"


async def test_open_confirmation_counts_the_invitations_and_a_post_without_confirm_sends_none(
    session: AsyncSession, client: AsyncTestClient
) -> None:
    study = await study_panel(session, await make_account(session, OWNER))
    study.rounds[1] = await session.scalar(select(Round).where(Round.panel_id == study.panel.id))
    study.rounds[1].closes_at = utcnow() + timedelta(days=7)
    await session.commit()
    pid = study.panel.id
    base = f"/panels/{pid}/rounds/1"
    await login(client, OWNER)
    text = text_of((await client.get(f"{base}/open")).text)
    assert "This sends 14 invitations, one to each panellist who can be invited." in text
    assert "Panellists can answer 4 statements until" in text
    assert "are fixed from now on" in text  # round 1 locks the rule

    unconfirmed = await post_form(client, f"{base}/open")
    assert unconfirmed.status_code == 200 and "Open round 1?" in unconfirmed.text
    assert await n_mails(session, "invitation") == 0
    assert await round_status(session, pid, 1) == "draft"

    assert (await post_form(client, f"{base}/open", {"confirm": "1"})).status_code == 303
    assert await n_mails(session, "invitation") == 14
    assert await round_status(session, pid, 1) == "open"


async def test_open_confirmation_of_a_round_that_cannot_open_lists_what_stops_it_without_a_button(
    session: AsyncSession, client: AsyncTestClient
) -> None:
    study = await study_panel(session, await make_account(session, OWNER))  # round 1 has no closing date
    await session.commit()
    await login(client, OWNER)
    page = await client.get(f"/panels/{study.panel.id}/rounds/1/open")
    assert page.status_code == 200
    assert "Set a closing date for round 1." in page.text
    assert 'name="confirm"' not in page.text


async def test_finish_confirmation_counts_the_final_results_mails_and_the_draft_rounds_deleted(
    session: AsyncSession, client: AsyncTestClient, settings: Settings
) -> None:
    world = await build_world(session, settings, rounds=1)  # round 1 closed, round 2 drafted
    pid = world.pid
    base = f"/panels/{pid}/rounds/2"
    await login(client, OWNER)
    text = text_of((await client.get(f"{base}/finish")).text)
    assert "14 panellists get the final results by e-mail." in text
    assert "Draft round 2 and its list of statements are deleted." in text

    assert (await post_form(client, f"{base}/finish")).status_code == 200
    assert await n_mails(session, "final_results") == 0
    assert await round_status(session, pid, 2) == "draft"

    assert (await post_form(client, f"{base}/finish", {"confirm": "1"})).status_code == 303
    assert await n_mails(session, "final_results") == 14


async def test_new_link_confirmation_says_the_old_link_stops_at_once_and_needs_confirm(
    session: AsyncSession, client: AsyncTestClient, settings: Settings
) -> None:
    world = await build_world(session, settings, rounds=0)
    person = world.study.panellists[1]
    person_id, before = person.id, person.token_hash
    url = f"/panels/{world.pid}/panellists/{person_id}/reissue"
    await login(client, OWNER)
    text = text_of((await client.get(url)).text)
    assert "P-002's old link stops working at once" in text
    assert "the invitation to round 1" in text  # round 1 is open: the new link goes now

    assert (await post_form(client, url)).status_code == 200
    assert await token_hash(session, person_id) == before
    assert (await post_form(client, url, {"confirm": "1"})).status_code == 303
    assert await token_hash(session, person_id) != before


async def test_reminder_confirmation_says_to_whom_and_the_round_page_says_what_went(
    session: AsyncSession, client: AsyncTestClient, settings: Settings
) -> None:
    world = await build_world(session, settings, rounds=0)
    base = f"/panels/{world.pid}/rounds/1"
    await login(client, OWNER)
    text = text_of((await client.get(f"{base}/remind")).text)
    assert (
        "This sends a reminder to 2 panellists who have not sent their round 1 answers: 1 who have not "
        in text
    )
    assert "and 1 who started but have not sent." in text

    assert (await post_form(client, f"{base}/remind")).status_code == 200
    assert await n_mails(session, "reminder") == 0

    sent = await post_form(client, f"{base}/remind", {"confirm": "1"})
    assert sent.status_code == 303
    page = text_of((await client.get(sent.headers["location"])).text)
    assert "Reminder sent: 2 e-mails queued, to 1 who had not started and 1 who had started" in page
    assert await n_mails(session, "reminder") == 2


async def test_a_second_reminder_within_the_interval_is_refused_until_confirmed_on_a_page_saying_the_last(
    session: AsyncSession, client: AsyncTestClient, settings: Settings
) -> None:
    world = await build_world(session, settings, rounds=0)
    base = f"/panels/{world.pid}/rounds/1"
    await login(client, OWNER)
    assert (await post_form(client, f"{base}/remind", {"confirm": "1"})).status_code == 303

    again = await post_form(client, f"{base}/remind", {"confirm": "1"})  # a double click
    assert again.status_code == 409
    text = text_of(again.text)
    assert "went less than 12 hours ago" in text
    assert re.search(r"The last reminder went on \d+ \w+ \d{4}, \d\d:\d\d UTC to 2 panellists\.", text)
    assert await n_mails(session, "reminder") == 2

    stamp = re.search(r'name="confirmed_after" value="(\d+)"', again.text)
    assert stamp is not None
    confirmed = await post_form(client, f"{base}/remind", {"confirm": "1", "confirmed_after": stamp.group(1)})
    assert confirmed.status_code == 303
    assert await n_mails(session, "reminder") == 4
    # the same confirmation posted twice (a double click on it) sends no third reminder
    twice = await post_form(client, f"{base}/remind", {"confirm": "1", "confirmed_after": stamp.group(1)})
    assert twice.status_code == 409
    assert await n_mails(session, "reminder") == 4


async def test_researchers_cannot_open_a_confirmation_page(
    session: AsyncSession, client: AsyncTestClient, settings: Settings
) -> None:
    world = await build_world(session, settings, rounds=0)
    await login(client, RESEARCHER)
    for action in ("open", "close", "remind", "finish"):
        assert (await client.get(f"/panels/{world.pid}/rounds/1/{action}")).status_code == 403
