"""The panellist's journey over HTTP, on SQLite and PostgreSQL: link, consent, rating, resume, submit, change,
close, withdraw; and the refusals (off the scale, another panel's statement, after close, before consent)."""

from __future__ import annotations

import re
from datetime import timedelta

from litestar.testing import AsyncTestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from delphi.db.models import AuditEvent, OutboxMessage, Panellist, Rating, Round, Submission, utcnow
from delphi.domain import Actor
from delphi.panels.links import reissue_link
from tests.conftest import TEST_SECRET
from tests.factories import World, build_panel, make_groups, make_panel, make_statements
from tests.panellist.conftest import enter, form_token, new_session


async def count(engine: AsyncEngine, model, *where) -> int:  # type: ignore[no-untyped-def]
    async with new_session(engine) as s:
        return int(await s.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def rating_of(engine: AsyncEngine, w: World, statement_index: int) -> Rating | None:
    async with new_session(engine) as s:
        return await s.scalar(
            select(Rating).where(
                Rating.round_id == w.round.id,
                Rating.statement_id == w.statements[statement_index].id,
                Rating.panellist_id == w.panellist.id,
            )
        )


async def save_json(client: AsyncTestClient, token: str, statement_id: int, body: dict):  # type: ignore[no-untyped-def]
    return await client.post(
        f"/panel/ratings/{statement_id}",
        json=body,
        headers={"x-csrftoken": token, "accept": "application/json"},
    )


def page_one_answers(w: World, values: list[object]) -> dict[str, str]:
    return {f"s{w.statements[i].id}": str(v) for i, v in enumerate(values)}


# --- the link -----------------------------------------------------------------------------------------------


async def test_link_is_exchanged_for_a_session_and_the_token_leaves_the_url(client, world) -> None:
    response = await client.get(f"/p/{world.token}", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/panel"
    assert response.headers["referrer-policy"] == "no-referrer"
    cookie = response.headers.get("set-cookie", "")
    assert "delphi_session=" in cookie and "httponly" in cookie.lower() and "samesite=lax" in cookie.lower()
    assert world.token not in cookie
    follow = await client.get("/panel", follow_redirects=False)
    assert follow.status_code == 303 and follow.headers["location"] == "/panel/consent"


async def test_first_visit_marks_the_panellist_active(client, world, engine) -> None:
    await enter(client, world.token)
    async with new_session(engine) as s:
        person = await s.get(Panellist, world.panellist.id)
        assert person is not None
        assert person.status == "active" and person.first_visit_at is not None


async def test_unknown_and_withdrawn_links_get_the_same_kind_page(client, world, engine, session) -> None:
    unknown = await client.get("/p/" + "x" * 43)
    other, other_token = world.panellist, world.token
    other.status, other.withdrawn_at = "withdrawn", utcnow()
    session.add(other)
    await session.commit()
    withdrawn = await client.get(f"/p/{other_token}")
    assert unknown.status_code == withdrawn.status_code == 404
    assert "This link does not work" in unknown.text
    assert "the panel contact named at the end of the e-mail that brought you here" in unknown.text
    strip = re.compile(r'name="_csrf_token" value="[^"]*"')
    assert strip.sub("", unknown.text) == strip.sub("", withdrawn.text)


async def test_reissued_link_ends_the_old_link_and_old_sessions(client, world, engine, settings) -> None:
    await enter(client, world.token)
    assert (await client.get("/panel/consent")).status_code == 200
    async with new_session(engine) as s, s.begin():
        person = await s.get(Panellist, world.panellist.id)
        assert person is not None
        new_token = await reissue_link(s, person, settings, Actor("account:lead@example.org"))
    assert new_token != world.token
    old_session = await client.get("/panel/consent")
    assert old_session.status_code == 403 and "This link does not work" in old_session.text
    assert (await client.get(f"/p/{world.token}")).status_code == 404
    await enter(client, new_token)
    assert (await client.get("/panel/consent")).status_code == 200
    assert await count(engine, AuditEvent, AuditEvent.action == "panellist.link_reissued") == 1


async def test_panel_pages_need_a_session(client, world) -> None:
    response = await client.get("/panel/rate")
    assert response.status_code == 403
    assert "personal link" in response.text or "This link does not work" in response.text
    problem = await client.post("/panel/ratings/1", json={"answer": 5})
    assert problem.status_code == 403  # CSRF or session: either way nothing is saved


# --- consent ------------------------------------------------------------------------------------------------


async def test_consent_is_recorded_with_its_time_and_rating_waits_for_it(client, world, engine) -> None:
    await enter(client, world.token)
    assert (await client.get("/panel/rate", follow_redirects=False)).headers["location"] == "/panel/consent"
    token = await form_token(client, "/panel/consent")
    refused = await save_json(client, token, world.statements[0].id, {"answer": 5})
    assert refused.status_code == 409
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert "agree to take part" in refused.json()["detail"]
    missing = await client.post("/panel/consent", data={"_csrf_token": token})
    assert missing.status_code == 400
    assert 'class="error-summary"' in missing.text and 'href="#consent"' in missing.text
    agreed = await client.post(
        "/panel/consent", data={"_csrf_token": token, "consent": "yes"}, follow_redirects=False
    )
    assert agreed.status_code == 303
    async with new_session(engine) as s:
        person = await s.get(Panellist, world.panellist.id)
        assert person is not None and person.consented_at is not None
    assert await count(engine, Rating) == 0
    assert await count(engine, AuditEvent, AuditEvent.action == "panellist.consented") == 1


# --- rating -------------------------------------------------------------------------------------------------


async def test_rating_page_is_a_real_radio_group_per_statement(client, consented_world) -> None:
    w = consented_world
    await enter(client, w.token)
    page = await client.get("/panel/rate?page=1")
    assert page.status_code == 200
    html = page.text
    assert html.count('<fieldset class="rating"') == 3  # section "Information" has 3 statements
    first = w.statements[0].id
    assert f'type="radio" id="s{first}" name="s{first}" value="1"' in html  # the error summary's target
    for v in range(2, 10):
        assert f'type="radio" id="s{first}-{v}" name="s{first}" value="{v}"' in html
    assert 'value="unable"' in html and "Unable to rate" in html
    assert "Strongly disagree" in html and "Strongly agree" in html
    assert "0 of 7 rated" in html
    assert ' style="' not in html and "<script>" not in html


async def test_a_page_save_stores_every_answer_and_moves_on(client, consented_world, engine) -> None:
    w = consented_world
    await enter(client, w.token)
    token = await form_token(client, "/panel/rate?page=1")
    data = {
        "_csrf_token": token,
        **page_one_answers(w, [7, "unable", 3]),
        f"c{w.statements[0].id}": "Clear and fair.",
        "action": "next",
    }
    response = await client.post("/panel/rate?page=1", data=data, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/panel/rate?page=2"
    first, second = await rating_of(engine, w, 0), await rating_of(engine, w, 1)
    assert first is not None and first.value == 7 and first.comment == "Clear and fair."
    assert second is not None and second.value is None and second.unable
    page2 = await client.get("/panel/rate?page=2")
    assert "3 of 7 rated" in page2.text


async def test_closing_the_browser_loses_nothing_and_coming_back_resumes(client, consented_world) -> None:
    w = consented_world
    await enter(client, w.token)
    token = await form_token(client, "/panel/rate?page=1")
    await client.post(
        "/panel/rate?page=1", data={"_csrf_token": token, **page_one_answers(w, [8, 8, 9]), "action": "later"}
    )
    client.cookies.clear()  # the browser is closed: no session, no CSRF cookie
    assert (await client.get("/panel")).status_code == 403
    await enter(client, w.token)
    home = await client.get("/panel")
    assert "You have rated 3 of 7 statements." in home.text
    assert 'href="/panel/rate?page=2"' in home.text
    resumed = await client.get("/panel/rate")
    assert "Choice statement 1" in resumed.text
    back = await client.get("/panel/rate?page=1")
    assert f'name="s{w.statements[0].id}" value="8" checked' in back.text


async def test_background_save_answers_json_and_a_replay_changes_nothing(
    client, consented_world, engine
) -> None:
    w = consented_world
    await enter(client, w.token)
    token = await form_token(client, "/panel/rate?page=1")
    sid = w.statements[0].id
    first = await save_json(client, token, sid, {"answer": 6})
    assert first.status_code == 200, first.text
    assert first.json() | {"saved_at": None} == {
        "statement_id": sid,
        "value": 6,
        "unable": False,
        "outside_iqr": False,
        "answered": 1,
        "total": 7,
        "saved_at": None,
    }
    again = await save_json(client, token, sid, {"answer": 6})
    assert again.json()["answered"] == 1
    comment = await save_json(client, token, sid, {"comment": "Needs plainer words"})
    assert comment.json()["value"] == 6  # a comment alone keeps the rating
    assert await count(engine, Rating) == 1
    saved = await rating_of(engine, w, 0)
    assert saved is not None and saved.value == 6 and saved.comment == "Needs plainer words"


async def test_a_changed_published_comment_goes_back_to_moderation(client, consented_world, engine) -> None:
    w = consented_world
    await enter(client, w.token)
    token = await form_token(client, "/panel/rate?page=1")
    sid = w.statements[0].id
    await save_json(client, token, sid, {"answer": 6, "comment": "First words"})
    async with new_session(engine) as s, s.begin():
        row = await s.scalar(select(Rating).where(Rating.statement_id == sid))
        assert row is not None
        row.comment_status = "published"
    await save_json(client, token, sid, {"answer": 7, "comment": "First words"})
    kept = await rating_of(engine, w, 0)
    assert kept is not None and kept.comment_status == "published"
    await save_json(client, token, sid, {"comment": "Other words"})
    changed = await rating_of(engine, w, 0)
    assert changed is not None and changed.comment_status == "pending"


async def test_off_scale_rating_is_refused_with_a_message_and_nothing_is_saved(
    client, consented_world, engine
) -> None:
    w = consented_world
    await enter(client, w.token)
    token = await form_token(client, "/panel/rate?page=1")
    bad_id = w.statements[1].id
    response = await client.post(
        "/panel/rate?page=1", data={"_csrf_token": token, **page_one_answers(w, [7, 12, 4]), "action": "next"}
    )
    assert response.status_code == 400
    assert 'class="error-summary"' in response.text
    assert f'href="#s{bad_id}"' in response.text and "Choose a number from 1 to 9." in response.text
    assert f'name="s{w.statements[0].id}" value="7" checked' in response.text  # what was typed is shown again
    assert await count(engine, Rating) == 0
    problem = await save_json(client, token, bad_id, {"answer": 0})
    assert problem.status_code == 422
    assert problem.json()["errors"] == [{"field": f"s{bad_id}", "message": "Choose a number from 1 to 9."}]
    for junk in ({"answer": True}, {"answer": "seven"}, {"answer": 5.5}, {"comment": 3}):
        assert (await save_json(client, token, bad_id, junk)).status_code == 422, junk
    assert (
        await client.post(f"/panel/ratings/{bad_id}", content=b"[1", headers={"x-csrftoken": token})
    ).status_code == 422
    assert await count(engine, Rating) == 0


async def test_unable_is_refused_where_the_panel_does_not_offer_it(client, session, engine) -> None:
    w = await build_panel(session, consented=True, panel_kw={"allow_unable": False})
    await session.commit()
    await enter(client, w.token)
    page = await client.get("/panel/rate?page=1")
    assert 'value="unable"' not in page.text
    token = await form_token(client, "/panel/rate?page=1")
    response = await save_json(client, token, w.statements[0].id, {"answer": "unable"})
    assert response.status_code == 422
    assert await count(engine, Rating) == 0


async def test_another_panels_statement_is_unreachable(client, consented_world, session, engine) -> None:
    w = consented_world
    other_panel = await make_panel(session, title="Another panel")
    await make_groups(session, other_panel)
    other_statements = await make_statements(session, other_panel, (("Elsewhere", 1),))
    await session.commit()
    await enter(client, w.token)
    token = await form_token(client, "/panel/rate?page=1")
    foreign = other_statements[0].id
    response = await save_json(client, token, foreign, {"answer": 5})
    assert response.status_code == 404
    assert "not part of the current round" in response.json()["detail"]
    form = await client.post(
        "/panel/rate?page=1", data={"_csrf_token": token, f"s{w.statements[0].id}": "5", f"s{foreign}": "5"}
    )
    assert form.status_code == 404 and "not part of the current round" in form.text
    assert await count(engine, Rating) == 0
    page = await client.get("/panel/review")
    assert "Elsewhere" not in page.text


# --- submitting ---------------------------------------------------------------------------------------------


async def answer_all(client: AsyncTestClient, w: World, token: str, value: int = 7) -> None:
    for st in w.statements:
        response = await save_json(client, token, st.id, {"answer": value})
        assert response.status_code == 200, response.text


async def test_submit_needs_every_answer_then_gives_a_receipt_once(client, consented_world, engine) -> None:
    w = consented_world
    await enter(client, w.token)
    token = await form_token(client, "/panel/review")
    early = await client.post("/panel/submit", data={"_csrf_token": token})
    assert early.status_code == 400
    assert 'class="error-summary"' in early.text and f'href="#s{w.statements[0].id}"' in early.text
    assert await count(engine, Submission) == 0
    await answer_all(client, w, token)
    sent = await client.post("/panel/submit", data={"_csrf_token": token}, follow_redirects=False)
    assert sent.status_code == 303 and sent.headers["location"] == "/panel/done"
    receipt = await client.get("/panel/done")
    assert "Thank you – your answers are in" in receipt.text and "7 of 7" in receipt.text
    again = await client.post("/panel/submit", data={"_csrf_token": token}, follow_redirects=False)
    assert again.status_code == 303
    assert await count(engine, Submission) == 1
    assert await count(engine, AuditEvent, AuditEvent.action == "round.submitted") == 1
    assert await count(engine, OutboxMessage, OutboxMessage.kind == "receipt") == 1


async def test_the_receipt_says_what_honorarium_is_owed(client, session) -> None:
    w = await build_panel(session, consented=True, panel_kw={"honorarium_minor": 1500, "currency": "GBP"})
    await session.commit()
    await enter(client, w.token)
    token = await form_token(client, "/panel/review")
    await answer_all(client, w, token)
    await client.post("/panel/submit", data={"_csrf_token": token})
    receipt = await client.get("/panel/done")
    assert "Payment for this round" in receipt.text and "£15.00" in receipt.text


async def test_answers_can_be_changed_after_submitting_until_the_round_closes(
    client, consented_world, engine
) -> None:
    w = consented_world
    await enter(client, w.token)
    token = await form_token(client, "/panel/review")
    await answer_all(client, w, token)
    await client.post("/panel/submit", data={"_csrf_token": token})
    changed = await save_json(client, token, w.statements[2].id, {"answer": 2})
    assert changed.status_code == 200
    row = await rating_of(engine, w, 2)
    assert row is not None and row.value == 2
    review = await client.get("/panel/review")
    assert "You sent your answers on" in review.text
    assert await count(engine, Submission) == 1


async def test_a_closed_round_is_read_only(client, consented_world, engine) -> None:
    w = consented_world
    await enter(client, w.token)
    token = await form_token(client, "/panel/rate?page=1")
    await save_json(client, token, w.statements[0].id, {"answer": 4})
    async with new_session(engine) as s, s.begin():
        rnd = await s.get(Round, w.round.id)
        assert rnd is not None
        rnd.status, rnd.closed_at = "closed", utcnow()
    page = await client.get("/panel/rate?page=1", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == "/panel/review"
    review = await client.get("/panel/review")
    assert "This round has closed" in review.text and "Send my answers" not in review.text
    assert "<strong>4</strong>" in review.text
    refused = await save_json(client, token, w.statements[0].id, {"answer": 9})
    assert refused.status_code == 409 and "has closed" in refused.json()["detail"]
    form = await client.post("/panel/rate?page=1", data={"_csrf_token": token, f"s{w.statements[0].id}": "9"})
    assert form.status_code == 409 and "has closed" in form.text
    submit = await client.post("/panel/submit", data={"_csrf_token": token})
    assert submit.status_code == 409
    row = await rating_of(engine, w, 0)
    assert row is not None and row.value == 4


async def test_a_round_past_its_closing_time_takes_no_answers(client, consented_world, engine) -> None:
    w = consented_world
    async with new_session(engine) as s, s.begin():
        rnd = await s.get(Round, w.round.id)
        assert rnd is not None
        rnd.closes_at = utcnow() - timedelta(minutes=1)
    await enter(client, w.token)
    token = await form_token(client, "/panel/leave")
    assert (await save_json(client, token, w.statements[0].id, {"answer": 5})).status_code == 409
    assert await count(engine, Rating) == 0


# --- leaving ------------------------------------------------------------------------------------------------


async def test_leaving_stops_the_link_and_tells_the_facilitator(client, consented_world, engine) -> None:
    w = consented_world
    await enter(client, w.token)
    token = await form_token(client, "/panel/leave")
    left = await client.post("/panel/leave", data={"_csrf_token": token})
    assert left.status_code == 200 and "You have left the panel" in left.text
    async with new_session(engine) as s:
        person = await s.get(Panellist, w.panellist.id)
        assert person is not None and person.status == "withdrawn" and person.withdrawn_at is not None
        event = await s.scalar(select(AuditEvent).where(AuditEvent.action == "panellist.withdrawn"))
        assert event is not None and event.detail == {"panellist": "P-001", "how": "page"}
    assert (await client.get("/panel")).status_code == 403
    assert (await client.get(f"/p/{w.token}")).status_code == 404


async def test_leave_link_shows_a_confirm_page_first(client, consented_world, engine) -> None:
    w = consented_world
    response = await client.get(f"/p/{w.token}/leave", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/panel/leave"
    page = await client.get("/panel/leave")
    assert "Yes, leave the panel" in page.text
    async with new_session(engine) as s:
        person = await s.get(Panellist, w.panellist.id)
        assert person is not None and person.status != "withdrawn"


async def test_one_click_unsubscribe_withdraws_without_csrf_but_needs_the_token(
    client, consented_world, engine
) -> None:
    w = consented_world
    unknown = await client.post("/p/" + "y" * 43 + "/leave", data={"List-Unsubscribe": "One-Click"})
    assert unknown.status_code == 404
    no_body = await client.post(f"/p/{w.token}/leave", data={})
    assert no_body.status_code == 400
    async with new_session(engine) as s:
        assert (await s.get(Panellist, w.panellist.id)).status != "withdrawn"  # type: ignore[union-attr]
    done = await client.post(f"/p/{w.token}/leave", data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200 and "You have left the panel" in done.text
    replay = await client.post(f"/p/{w.token}/leave", data={"List-Unsubscribe": "One-Click"})
    assert replay.status_code == 200
    assert await count(engine, AuditEvent, AuditEvent.action == "panellist.withdrawn") == 1
    async with new_session(engine) as s:
        assert (await s.get(Panellist, w.panellist.id)).status == "withdrawn"  # type: ignore[union-attr]


# --- no round, hub states -----------------------------------------------------------------------------------


async def test_before_round_one_the_panel_page_says_to_wait(client, session: AsyncSession) -> None:
    panel = await make_panel(session)
    groups = await make_groups(session, panel)
    from tests.factories import make_panellist

    _, token = await make_panellist(session, panel, groups[0], consented=True)
    await session.commit()
    await enter(client, token)
    home = await client.get("/panel")
    assert "The first round has not started yet" in home.text
    assert (await client.get("/panel/rate", follow_redirects=False)).headers["location"] == "/panel"


async def test_tokens_are_derived_from_the_secret_and_never_stored(consented_world, engine) -> None:
    from delphi.security import panellist_token, token_digest

    w = consented_world
    assert len(w.token) >= 43  # 256 bits in URL-safe base64
    assert w.token == panellist_token(TEST_SECRET, w.panellist.id, 1)
    async with new_session(engine) as s:
        person = await s.get(Panellist, w.panellist.id)
        assert person is not None and person.token_hash == token_digest(w.token) != w.token
