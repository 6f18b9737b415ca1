"""The round page's actions through the API: schedule, open, close, remind, finish, review suggestions.

The world (:func:`tests.results.helpers.world_and_token`): the study with round 1 closed and round 2 drafted
(no closing date yet), ``max_rounds=2``, 14 invitable panellists.  Every answer is checked against what the
round page's use cases leave behind: the round's state, the mail queued in the outbox and the audit trail.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import AuditEvent, OutboxMessage, Round, Statement, Suggestion
from delphi.rounds import schedule, transitions
from delphi.settings import Settings
from tests.results.helpers import OWNER, PROBLEM, RESEARCHER, World, bearer, world_and_token
from tests.study import SUGGESTED_NEW, SUGGESTED_REWORDING


def _at(days: float) -> str:
    """ISO 8601 UTC ``days`` from now."""
    return (datetime.now(UTC) + timedelta(days=days)).replace(microsecond=0).isoformat()


async def _count(session: AsyncSession, model: Any, *where: Any) -> int:
    return await session.scalar(select(func.count()).select_from(model).where(*where)) or 0


async def _events(session: AsyncSession, action: str) -> int:
    return await _count(session, AuditEvent, AuditEvent.action == action)


async def _round(session: AsyncSession, world: World, number: int) -> Round:
    """Round ``number`` as the database holds it now (re-read, not the session's copy)."""
    found = await session.scalar(
        select(Round)
        .where(Round.panel_id == world.pid, Round.number == number)
        .execution_options(populate_existing=True)
    )
    assert found is not None
    return found


async def _owner(session: AsyncSession, client: AsyncTestClient, settings: Settings) -> tuple[World, dict]:
    world, token = await world_and_token(session, client, settings, OWNER)
    return world, bearer(token)


async def _scheduled(client: AsyncTestClient, world: World, auth: dict, number: int = 2) -> None:
    response = await client.put(
        f"/api/v1/panels/{world.pid}/rounds/{number}/schedule",
        json={"closes_at": _at(7), "reminder_hours": [48]},
        headers=auth,
    )
    assert response.status_code == 200, response.text


async def _opened(client: AsyncTestClient, world: World, auth: dict) -> None:
    await _scheduled(client, world, auth)
    response = await client.post(f"/api/v1/panels/{world.pid}/rounds/2/open", headers=auth)
    assert response.status_code == 200, response.text


# --- schedule ---------------------------------------------------------------------------------------------------


async def test_a_schedule_sets_the_dates_and_reminders_and_answers_the_round(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    world, auth = await _owner(session, client, settings)
    opens, closes = _at(1), _at(8)
    response = await client.put(
        f"/api/v1/panels/{world.pid}/rounds/2/schedule",
        json={"opens_at": opens, "closes_at": closes, "reminder_hours": [12, 48, 48]},
        headers=auth,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["number"] == 2 and body["status"] == "draft"
    assert body["reminder_hours"] == [48, 12]  # largest first, once each
    assert datetime.fromisoformat(body["closes_at"]) == datetime.fromisoformat(closes)
    assert datetime.fromisoformat(body["opens_at"]) == datetime.fromisoformat(opens)
    round_ = await _round(session, world, 2)
    assert round_.reminder_offsets_hours == [48, 12]
    assert round_.closes_at == datetime.fromisoformat(closes)
    listed = (await client.get(f"/api/v1/panels/{world.pid}/rounds/2", headers=auth)).json()
    assert listed["reminder_hours"] == [48, 12]
    assert await _events(session, "round.scheduled") == 1


async def test_a_time_without_an_offset_is_read_as_utc_as_on_the_page(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    world, auth = await _owner(session, client, settings)
    naive = (datetime.now(UTC) + timedelta(days=5)).replace(microsecond=0, tzinfo=None)
    response = await client.put(
        f"/api/v1/panels/{world.pid}/rounds/2/schedule",
        json={"closes_at": naive.isoformat()},
        headers=auth,
    )
    assert response.status_code == 200, response.text
    assert (await _round(session, world, 2)).closes_at == naive.replace(tzinfo=UTC)


async def test_a_schedule_is_refused_with_every_problem_at_once_and_nothing_saved(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    world, auth = await _owner(session, client, settings)
    url = f"/api/v1/panels/{world.pid}/rounds/2/schedule"
    response = await client.put(
        url, json={"opens_at": _at(-2), "closes_at": _at(-3), "reminder_hours": [0, 24]}, headers=auth
    )
    assert response.status_code == 422
    assert response.headers["content-type"].startswith(PROBLEM)
    errors = response.json()["errors"]
    assert {e["field"] for e in errors} == {"opens_at", "closes_at", "reminder_hours"}
    assert any("future" in e["message"] for e in errors if e["field"] == "closes_at")
    assert any("after the opening date" in e["message"] for e in errors if e["field"] == "closes_at")
    missing = await client.put(url, json={"reminder_hours": [24 * 91]}, headers=auth)
    assert missing.status_code == 422
    assert [(e["field"], e["message"]) for e in missing.json()["errors"]] == [
        ("closes_at", "Enter a closing date."),
        ("reminder_hours", "Reminders must be between 1 hour and 90 days before the closing date."),
    ]
    round_ = await _round(session, world, 2)
    assert round_.closes_at is None and round_.opens_at is None
    assert await _events(session, "round.scheduled") == 0


async def test_a_schedule_outside_the_body_s_schema_or_for_a_closed_round_is_refused(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    world, auth = await _owner(session, client, settings)
    base = f"/api/v1/panels/{world.pid}/rounds"
    wrong = await client.put(
        f"{base}/2/schedule", json={"closes_at": "soon", "reminders": "7d"}, headers=auth
    )
    assert wrong.status_code == 400
    assert {e["field"] for e in wrong.json()["errors"]} == {"closes_at", "reminders"}
    closed = await client.put(f"{base}/1/schedule", json={"closes_at": _at(3)}, headers=auth)
    assert closed.status_code == 409 and "closed" in closed.json()["detail"]
    absent = await client.put(f"{base}/9/schedule", json={"closes_at": _at(3)}, headers=auth)
    assert absent.status_code == 404


# --- open ------------------------------------------------------------------------------------------------------


async def test_opening_with_blockers_is_a_409_listing_what_the_round_page_lists(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    world, auth = await _owner(session, client, settings)
    response = await client.post(f"/api/v1/panels/{world.pid}/rounds/2/open", headers=auth)
    assert response.status_code == 409
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    page_lists, _ = await transitions.round_blockers(
        session, world.study.panel, await _round(session, world, 2)
    )
    assert body["actions"] == page_lists and "Set a closing date for round 2." in body["actions"]
    assert body["detail"] == "Round 2 cannot open yet."
    assert (await _round(session, world, 2)).status == "draft"
    assert await _count(session, OutboxMessage) == 0


async def test_opening_queues_one_invitation_per_panellist_and_answers_the_open_round(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    world, auth = await _owner(session, client, settings)
    await _scheduled(client, world, auth)
    response = await client.post(f"/api/v1/panels/{world.pid}/rounds/2/open", headers=auth)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "open" and body["opened_at"] is not None and body["statements"]
    assert await _count(session, OutboxMessage) == len(world.study.panellists) == 14
    assert await _events(session, "round.opened") == 1


async def test_a_retried_open_with_the_same_key_answers_the_first_body_and_sends_nothing_twice(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    world, auth = await _owner(session, client, settings)
    await _scheduled(client, world, auth)
    url = f"/api/v1/panels/{world.pid}/rounds/2/open"
    keyed = {**auth, "Idempotency-Key": "open-round-2"}
    first = await client.post(url, headers=keyed)
    assert first.status_code == 200 and "Idempotency-Replayed" not in first.headers
    mails = await _count(session, OutboxMessage)
    again = await client.post(url, headers=keyed)
    assert again.status_code == 200 and again.headers["Idempotency-Replayed"] == "true"
    assert again.json() == first.json()
    assert await _count(session, OutboxMessage) == mails == 14
    assert await _events(session, "round.opened") == 1
    unkeyed = await client.post(url, headers=auth)  # without a key: the page's refusal
    assert unkeyed.status_code == 409
    assert unkeyed.json()["actions"] == ["Round 2 is open already; only a draft round can be opened."]
    assert await _count(session, OutboxMessage) == mails


# --- close -----------------------------------------------------------------------------------------------------


async def test_closing_freezes_results_that_the_api_reads_and_a_retry_closes_nothing_twice(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    world, auth = await _owner(session, client, settings)
    await _opened(client, world, auth)
    base = f"/api/v1/panels/{world.pid}/rounds/2"
    early = await client.get(f"{base}/results", headers=auth)
    assert early.status_code == 409  # not closed yet
    mails = await _count(session, OutboxMessage)
    keyed = {**auth, "Idempotency-Key": "close-round-2"}
    closed = await client.post(f"{base}/close", headers=keyed)
    assert closed.status_code == 200, closed.text
    assert closed.json()["status"] == "closed" and closed.json()["closed_at"] is not None
    finished_mails = await _count(session, OutboxMessage)
    assert finished_mails == mails + 14  # the last round: the panel finished and mailed the final results
    again = await client.post(f"{base}/close", headers=keyed)
    assert again.status_code == 200 and again.headers["Idempotency-Replayed"] == "true"
    assert again.json() == closed.json()
    assert await _count(session, OutboxMessage) == finished_mails
    assert await _events(session, "round.closed") == 1 + 1  # round 1 by the study, round 2 once here
    results = await client.get(f"{base}/results", headers=auth)
    assert results.status_code == 200
    assert {s["statement_id"] for s in results.json()["statements"]} == set(closed.json()["statements"])
    unkeyed = await client.post(f"{base}/close", headers=auth)
    assert unkeyed.status_code == 409 and unkeyed.json()["actions"]


async def test_closing_a_draft_round_is_a_409_with_the_blockers(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    world, auth = await _owner(session, client, settings)
    response = await client.post(f"/api/v1/panels/{world.pid}/rounds/2/close", headers=auth)
    assert response.status_code == 409
    assert response.json()["detail"] == "Round 2 cannot close." and response.json()["actions"]
    assert (await _round(session, world, 2)).status == "draft"


async def test_an_unexpected_failure_is_a_503_saying_nothing_changed_without_a_traceback(
    client: AsyncTestClient, session: AsyncSession, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    world, auth = await _owner(session, client, settings)
    await _opened(client, world, auth)

    async def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the statistics library is missing a function")

    monkeypatch.setattr(transitions, "close_round", broken)
    response = await client.post(
        f"/api/v1/panels/{world.pid}/rounds/2/close", headers={**auth, "Idempotency-Key": "k"}
    )
    assert response.status_code == 503
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["detail"] == (
        "Could not close round 2 because of an unexpected problem on the server. Nothing was changed."
    )
    assert body["actions"][0] == "Try again in a few minutes."  # what the round page says to do next
    assert "Traceback" not in response.text and "statistics library" not in response.text
    assert (await _round(session, world, 2)).status == "open"
    monkeypatch.undo()  # the failure left no stored answer: the retry with the same key closes the round
    retried = await client.post(
        f"/api/v1/panels/{world.pid}/rounds/2/close", headers={**auth, "Idempotency-Key": "k"}
    )
    assert retried.status_code == 200 and "Idempotency-Replayed" not in retried.headers


# --- remind ----------------------------------------------------------------------------------------------------


async def test_a_reminder_goes_to_everyone_who_has_not_sent_and_a_second_within_12_hours_needs_even_if_recent(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    world, auth = await _owner(session, client, settings)
    await _opened(client, world, auth)
    url = f"/api/v1/panels/{world.pid}/rounds/2/remind"
    before = await _count(session, OutboxMessage)
    sent = await client.post(url, json={}, headers=auth)
    assert sent.status_code == 200, sent.text
    assert sent.json() == {"queued": 14, "not_started": 14, "started": 0}
    assert await _count(session, OutboxMessage) == before + 14
    reminded_at = (await _round(session, world, 2)).reminded_at
    assert reminded_at is not None
    too_soon = await client.post(url, json={"even_if_recent": False}, headers=auth)
    assert too_soon.status_code == 409
    body = too_soon.json()
    assert reminded_at.strftime("%Y-%m-%dT%H:%M:%SZ") in body["detail"]
    assert "to 14 panellists" in body["detail"] and "even_if_recent" in body["actions"][0]
    assert await _count(session, OutboxMessage) == before + 14
    anyway = await client.post(url, json={"even_if_recent": True}, headers=auth)
    assert anyway.status_code == 200 and anyway.json()["queued"] == 14
    assert await _count(session, OutboxMessage) == before + 28
    assert await _events(session, "round.reminded") == 2


async def test_a_retried_reminder_with_the_same_key_sends_nothing_twice(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    world, auth = await _owner(session, client, settings)
    await _opened(client, world, auth)
    url = f"/api/v1/panels/{world.pid}/rounds/2/remind"
    keyed = {**auth, "Idempotency-Key": "remind-2-monday"}
    first = await client.post(url, json={"even_if_recent": True}, headers=keyed)
    assert first.status_code == 200
    mails = await _count(session, OutboxMessage)
    again = await client.post(url, json={"even_if_recent": True}, headers=keyed)
    assert again.status_code == 200 and again.headers["Idempotency-Replayed"] == "true"
    assert again.json() == first.json()
    assert await _count(session, OutboxMessage) == mails
    assert await _events(session, "round.reminded") == 1
    other_body = await client.post(url, json={"even_if_recent": False}, headers=keyed)
    assert other_body.status_code == 422  # the same key for another request
    assert other_body.json()["errors"][0]["field"] == "Idempotency-Key"


async def test_a_confirmation_of_an_older_reminder_does_not_send_another(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    """What keeps a double request to one reminder: ``even_if_recent`` confirms the last reminder the request
    saw, and a reminder sent meanwhile (by the other request) is a newer one."""
    world, auth = await _owner(session, client, settings)
    await _opened(client, world, auth)
    url = f"/api/v1/panels/{world.pid}/rounds/2/remind"
    assert (await client.post(url, json={}, headers=auth)).status_code == 200
    round_ = await _round(session, world, 2)
    seen = round_.reminded_at
    assert seen is not None
    calls: list[Any] = []
    original = schedule.send_reminder_now

    async def meanwhile(session_: AsyncSession, panel: Any, round_arg: Round, **kw: Any) -> Any:
        # The other request's reminder lands between this request's reading and its lock.
        await session_.execute(
            update(Round).where(Round.id == round_arg.id).values(reminded_at=seen + timedelta(seconds=1))
        )
        calls.append(kw["confirmed_after"])
        return await original(session_, panel, round_arg, **kw)

    mails = await _count(session, OutboxMessage)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(schedule, "send_reminder_now", meanwhile)
        refused = await client.post(url, json={"even_if_recent": True}, headers=auth)
    assert calls and calls[0] == schedule.reminder_stamp(seen)
    assert refused.status_code == 409
    assert await _count(session, OutboxMessage) == mails


async def test_a_reminder_for_a_round_that_is_not_open_is_a_409(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    world, auth = await _owner(session, client, settings)
    response = await client.post(f"/api/v1/panels/{world.pid}/rounds/2/remind", json={}, headers=auth)
    assert response.status_code == 409 and "not open" in response.json()["detail"]
    assert await _count(session, OutboxMessage) == 0


# --- finish ----------------------------------------------------------------------------------------------------


async def test_finishing_mails_the_final_results_once_and_answers_the_finished_panel(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    world, auth = await _owner(session, client, settings)
    url = f"/api/v1/panels/{world.pid}/finish"
    keyed = {**auth, "Idempotency-Key": "finish"}
    finished = await client.post(url, headers=keyed)
    assert finished.status_code == 200, finished.text
    body = finished.json()
    assert body["id"] == world.pid and body["status"] == "finished" and body["finished_at"]
    assert await _count(session, OutboxMessage) == 14
    again = await client.post(url, headers=keyed)
    assert again.headers["Idempotency-Replayed"] == "true" and again.json() == body
    assert await _count(session, OutboxMessage) == 14
    assert await _events(session, "panel.finished") == 1
    rounds = (await client.get(f"/api/v1/panels/{world.pid}/rounds", headers=auth)).json()
    assert [r["number"] for r in rounds] == [1]  # the draft round 2 went
    unkeyed = await client.post(url, headers=auth)
    assert unkeyed.status_code == 409 and "finished already" in unkeyed.json()["detail"]


async def test_finishing_while_a_round_is_open_is_a_409_saying_to_close_it(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    world, auth = await _owner(session, client, settings)
    await _opened(client, world, auth)
    mails = await _count(session, OutboxMessage)
    response = await client.post(f"/api/v1/panels/{world.pid}/finish", headers=auth)
    assert response.status_code == 409
    assert response.json()["actions"] == ["Close round 2 first."]
    assert await _count(session, OutboxMessage) == mails


# --- suggestions -----------------------------------------------------------------------------------------------


async def _suggest(session: AsyncSession, world: World) -> dict[str, int]:
    """Two pending round-1 suggestions: a new statement (P-009) and a rewording of S4 (P-008)."""
    study = world.study
    round1 = await _round(session, world, 1)
    new = Suggestion(
        panel_id=world.pid,
        round_id=round1.id,
        panellist_id=study.panellists[8].id,
        kind="new",
        section="Access",
        text=SUGGESTED_NEW,
    )
    rewording = Suggestion(
        panel_id=world.pid,
        round_id=round1.id,
        panellist_id=study.panellists[7].id,
        kind="rewording",
        statement_id=study.statements["S4"].id,
        section="Care",
        text=SUGGESTED_REWORDING,
    )
    session.add_all([new, rewording])
    await session.commit()
    return {"new": new.id, "rewording": rewording.id}


async def test_pending_suggestions_are_listed_and_reviewed_as_on_the_round_page(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    world, auth = await _owner(session, client, settings)
    ids = await _suggest(session, world)
    base = f"/api/v1/panels/{world.pid}/suggestions"
    listed = await client.get(base, headers=auth)
    assert listed.status_code == 200
    by_kind = {s["kind"]: s for s in listed.json()}
    assert by_kind["rewording"]["original"] == "Take-home doses after a month."
    assert by_kind["rewording"]["statement_id"] == world.study.statements["S4"].id
    assert by_kind["new"]["original"] is None and by_kind["new"]["round"] == 1
    assert "panellist" not in listed.text and "P-00" not in listed.text  # nobody named
    accepted = await client.post(
        f"{base}/{ids['rewording']}",
        json={"decision": "accept", "text": "Take-home doses once treatment is stable\x00 for four weeks."},
        headers=auth,
    )
    assert accepted.status_code == 200, accepted.text
    result = accepted.json()
    assert result["status"] == "accepted" and result["suggestion_id"] == ids["rewording"]
    statement = await session.get(Statement, result["statement_id"])
    assert statement is not None and statement.origin == "panellist" and statement.origin_round == 1
    assert statement.text == "Take-home doses once treatment is stable for four weeks."
    round2 = (await client.get(f"/api/v1/panels/{world.pid}/rounds/2", headers=auth)).json()
    assert result["statement_id"] in round2["statements"]
    rejected = await client.post(f"{base}/{ids['new']}", json={"decision": "reject"}, headers=auth)
    assert rejected.json() == {"suggestion_id": ids["new"], "status": "rejected", "statement_id": None}
    assert (await client.get(base, headers=auth)).json() == []
    assert await _events(session, "suggestion.accepted") == 1
    assert await _events(session, "suggestion.rejected") == 1
    twice = await client.post(f"{base}/{ids['new']}", json={"decision": "reject"}, headers=auth)
    assert twice.status_code == 409 and "rejected already" in twice.json()["detail"]


async def test_a_suggestion_review_is_refused_with_its_reason(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    world, auth = await _owner(session, client, settings)
    ids = await _suggest(session, world)
    base = f"/api/v1/panels/{world.pid}/suggestions"
    no_target = await client.post(f"{base}/{ids['new']}", json={"decision": "merge"}, headers=auth)
    assert no_target.status_code == 422 and no_target.json()["errors"][0]["field"] == "merge_into"
    unknown = await client.post(f"{base}/{ids['new']}", json={"decision": "maybe"}, headers=auth)
    assert unknown.status_code == 400 and unknown.json()["errors"][0]["field"] == "decision"
    absent = await client.post(f"{base}/999999", json={"decision": "reject"}, headers=auth)
    assert absent.status_code == 404
    merged = await client.post(
        f"{base}/{ids['new']}",
        json={"decision": "merge", "merge_into": world.study.statements["S1"].id},
        headers=auth,
    )
    assert merged.json() == {
        "suggestion_id": ids["new"],
        "status": "merged",
        "statement_id": world.study.statements["S1"].id,
    }
    still = await session.scalar(select(Suggestion.status).where(Suggestion.id == ids["rewording"]))
    assert still == "pending"


# --- who may -----------------------------------------------------------------------------------------------------


async def test_a_researcher_may_neither_act_on_rounds_nor_see_the_suggestions(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    world, token = await world_and_token(session, client, settings, RESEARCHER)
    auth = bearer(token)
    base = f"/api/v1/panels/{world.pid}"
    requests = [
        ("PUT", f"{base}/rounds/2/schedule", {"closes_at": _at(7)}),
        ("POST", f"{base}/rounds/2/open", None),
        ("POST", f"{base}/rounds/1/close", None),
        ("POST", f"{base}/rounds/2/remind", {}),
        ("POST", f"{base}/finish", None),
        ("GET", f"{base}/suggestions", None),
        ("POST", f"{base}/suggestions/1", {"decision": "reject"}),
    ]
    for method, url, body in requests:
        response = await client.request(method, url, json=body, headers=auth)
        assert response.status_code == 403, (method, url, response.text)
        assert response.headers["content-type"].startswith(PROBLEM)
    assert (await _round(session, world, 2)).closes_at is None
    assert await _count(session, OutboxMessage) == 0
