"""Suggestions: a new statement or a rewording, in round 1 (later only when the panel allows it)."""

from __future__ import annotations

from sqlalchemy import select

from delphi.db.models import AuditEvent, Round, Suggestion
from tests.factories import build_panel, make_round
from tests.panellist.conftest import enter, form_token, new_session


async def test_a_new_statement_and_a_rewording_are_recorded_for_the_facilitator(
    client, consented_world, engine
) -> None:
    w = consented_world
    await enter(client, w.token)
    token = await form_token(client, "/panel/suggest")
    sent = await client.post(
        "/panel/suggest",
        data={
            "_csrf_token": token,
            "kind": "new",
            "text": "Peer mentors at the first meeting.",
            "section": "",
        },
        follow_redirects=False,
    )
    assert sent.status_code == 303 and sent.headers["location"] == "/panel/suggest?sent=1"
    assert (
        "Thank you. The research team will look at your suggestion"
        in (await client.get(sent.headers["location"])).text
    )
    target = w.statements[1].id
    await client.post(
        "/panel/suggest",
        data={"_csrf_token": token, "kind": "rewording", "statement": str(target), "text": "Say it simply."},
    )
    async with new_session(engine) as s:
        rows = (await s.scalars(select(Suggestion).order_by(Suggestion.id))).all()
        assert [(r.kind, r.statement_id, r.text, r.round_id, r.status) for r in rows] == [
            ("new", None, "Peer mentors at the first meeting.", w.round.id, "pending"),
            ("rewording", target, "Say it simply.", w.round.id, "pending"),
        ]
        events = (await s.scalars(select(AuditEvent).where(AuditEvent.action == "suggestion.created"))).all()
        assert len(events) == 2 and all(e.actor == "panellist:P-001" for e in events)


async def test_a_suggestion_form_with_mistakes_is_shown_again_with_the_reasons(
    client, consented_world, engine
) -> None:
    w = consented_world
    await enter(client, w.token)
    token = await form_token(client, "/panel/suggest")
    no_statement = await client.post(
        "/panel/suggest", data={"_csrf_token": token, "kind": "rewording", "text": "Better words"}
    )
    assert no_statement.status_code == 400
    assert 'href="#statement"' in no_statement.text and "Better words" in no_statement.text
    empty = await client.post("/panel/suggest", data={"_csrf_token": token, "kind": "new", "text": "  "})
    assert empty.status_code == 400 and 'href="#text"' in empty.text
    async with new_session(engine) as s:
        assert (await s.scalars(select(Suggestion))).all() == []


async def test_later_rounds_take_suggestions_only_when_the_panel_allows(client, session, engine) -> None:
    w = await build_panel(session, consented=True)
    w.round.status = "closed"
    session.add(w.round)
    await make_round(session, w.panel, w.statements, 2)
    await session.commit()
    await enter(client, w.token)
    page = await client.get("/panel/suggest")
    assert "not taking suggestions" in page.text
    token = await form_token(client, "/panel/leave")
    refused = await client.post("/panel/suggest", data={"_csrf_token": token, "kind": "new", "text": "Idea"})
    assert refused.status_code == 409
    async with new_session(engine) as s, s.begin():
        panel = await s.get(type(w.panel), w.panel.id)
        assert panel is not None
        panel.suggestions_after_round1 = True
    accepted = await client.post(
        "/panel/suggest", data={"_csrf_token": token, "kind": "new", "text": "Idea"}, follow_redirects=False
    )
    assert accepted.status_code == 303
    async with new_session(engine) as s:
        rows = (await s.scalars(select(Suggestion))).all()
        round2 = await s.scalar(select(Round).where(Round.number == 2))
        assert len(rows) == 1 and round2 is not None and rows[0].round_id == round2.id


async def test_a_rewording_of_a_number_no_statement_can_have_is_refused_with_the_reason(
    client, consented_world, engine
) -> None:
    """2**31 is past PostgreSQL's integer ids (it answered 500); "²" passes str.isdigit but not int()."""
    w = consented_world
    await enter(client, w.token)
    token = await form_token(client, "/panel/suggest")
    for raw in (str(2**31), "9" * 30, "²"):
        sent = await client.post(
            "/panel/suggest",
            data={"_csrf_token": token, "kind": "rewording", "statement": raw, "text": "Better words"},
        )
        assert sent.status_code == 400, raw
        assert 'href="#statement"' in sent.text
    async with new_session(engine) as s:
        assert (await s.scalars(select(Suggestion))).all() == []
