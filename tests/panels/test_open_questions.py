"""Setting up an open round 1: choosing the kind, and adding, editing, reordering and deleting its questions."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import AuditEvent, RoundStatement, Statement
from delphi.errors import Conflict, InvalidInput, NotFound
from delphi.panels import open_questions as oq
from delphi.panels import statements
from tests.factories import ACTOR, build_panel


async def _draft(session: AsyncSession, **panel_kw):  # type: ignore[no-untyped-def]
    return await build_panel(
        session, sections=(), round_status="draft", panel_kw={"status": "draft", **panel_kw}
    )


async def test_round_one_becomes_an_open_round_and_back_while_it_is_a_draft(session: AsyncSession) -> None:
    world = await _draft(session)
    assert (await oq.set_round_kind(session, world.panel, "open", ACTOR)).kind == "open"
    assert await oq.round_one_is_open_kind(session, world.panel)
    assert (await oq.set_round_kind(session, world.panel, "rating", ACTOR)).kind == "rating"
    actions = (await session.scalars(select(AuditEvent.action))).all()
    assert actions.count("round.kind_set") == 2


async def test_an_unknown_kind_is_refused_and_an_opened_round_keeps_its_kind(session: AsyncSession) -> None:
    world = await _draft(session)
    with pytest.raises(InvalidInput):
        await oq.set_round_kind(session, world.panel, "survey", ACTOR)
    world.round.status = "open"  # type: ignore[union-attr]
    with pytest.raises(Conflict):
        await oq.set_round_kind(session, world.panel, "open", ACTOR)


async def test_questions_are_added_in_order_edited_moved_and_deleted(session: AsyncSession) -> None:
    world = await _draft(session)
    panel = world.panel
    first = await oq.add_question(session, panel, "  What should services   do? ", "", ACTOR)
    second = await oq.add_question(session, panel, "What gets in the way?", "Think of last year.", ACTOR)
    assert first.text == "What should services do?"
    assert [q.id for q in await oq.list_questions(session, panel.id)] == [first.id, second.id]
    await oq.move_question(session, panel, second.id, -1, ACTOR)
    assert [q.id for q in await oq.list_questions(session, panel.id)] == [second.id, first.id]
    await oq.move_question(session, panel, second.id, -1, ACTOR)  # at the top already: nothing changes
    assert [q.id for q in await oq.list_questions(session, panel.id)] == [second.id, first.id]
    edited = await oq.edit_question(
        session, panel, first.id, "What should services do first?", "One idea a box.", ACTOR
    )
    assert (edited.text, edited.hint) == ("What should services do first?", "One idea a box.")
    await oq.delete_question(session, panel, second.id, ACTOR)
    assert [q.id for q in await oq.list_questions(session, panel.id)] == [first.id]
    actions = (await session.scalars(select(AuditEvent.action).order_by(AuditEvent.id))).all()
    assert [a for a in actions if a.startswith("open_question.")] == [
        "open_question.added",
        "open_question.added",
        "open_question.moved",
        "open_question.edited",
        "open_question.deleted",
    ]


async def test_a_question_without_text_and_a_long_hint_are_both_reported(session: AsyncSession) -> None:
    world = await _draft(session)
    with pytest.raises(InvalidInput) as err:
        await oq.add_question(session, world.panel, "   ", "x" * (oq.MAX_HINT + 1), ACTOR)
    assert [f for f, _ in err.value.errors] == ["text", "hint"]
    assert await oq.list_questions(session, world.panel.id) == []


async def test_questions_are_fixed_once_round_one_opens(session: AsyncSession) -> None:
    world = await _draft(session)
    q = await oq.add_question(session, world.panel, "What helps?", "", ACTOR)
    world.round.status = "open"  # type: ignore[union-attr]
    with pytest.raises(Conflict):
        await oq.add_question(session, world.panel, "Another?", "", ACTOR)
    with pytest.raises(Conflict):
        await oq.edit_question(session, world.panel, q.id, "Changed?", "", ACTOR)
    with pytest.raises(Conflict):
        await oq.delete_question(session, world.panel, q.id, ACTOR)


async def test_another_panels_question_is_not_found(session: AsyncSession) -> None:
    mine = await _draft(session)
    other = await build_panel(
        session, sections=(), round_status="draft", email="other{n}@example.org", panel_kw={"status": "draft"}
    )
    theirs = await oq.add_question(session, other.panel, "Their question?", "", ACTOR)
    with pytest.raises(NotFound):
        await oq.edit_question(session, mine.panel, theirs.id, "Mine now?", "", ACTOR)


async def test_statements_are_refused_while_round_one_is_an_open_round_draft(session: AsyncSession) -> None:
    """Statements added now would land in round 1, which asks no statements (and could then not open): adding,
    importing and including one are refused with the reason, and nothing is saved."""
    world = await _draft(session)
    panel = world.panel
    kept = await statements.add_statement(
        session, panel, "Asked while round 1 still rated statements.", "", ACTOR
    )
    await statements.set_in_draft(session, panel, kept.id, False, ACTOR)
    await oq.set_round_kind(session, panel, "open", ACTOR)
    refusals = []
    with pytest.raises(Conflict) as added:
        await statements.add_statement(session, panel, "Offer a peer mentor.", "", ACTOR)
    refusals.append(added.value.message)
    with pytest.raises(Conflict) as imported:
        await statements.import_statements(session, panel, "Offer a peer mentor.\nTalk honestly.", ACTOR)
    refusals.append(imported.value.message)
    with pytest.raises(Conflict) as included:
        await statements.set_in_draft(session, panel, kept.id, True, ACTOR)
    refusals.append(included.value.message)
    assert refusals == [statements.OPEN_ROUND_REFUSAL] * 3
    assert statements.OPEN_ROUND_REFUSAL.startswith("Round 1 asks open questions; statements are made from")
    assert (await session.scalars(select(Statement.text))).all() == [kept.text]
    assert (await session.scalars(select(RoundStatement.id))).all() == []


async def test_statements_are_added_again_once_round_one_asks_statements_to_rate(
    session: AsyncSession,
) -> None:
    world = await _draft(session)
    await oq.set_round_kind(session, world.panel, "open", ACTOR)
    await oq.set_round_kind(session, world.panel, "rating", ACTOR)
    added = await statements.add_statement(session, world.panel, "Offer a peer mentor.", "", ACTOR)
    rows = (await session.scalars(select(RoundStatement.statement_id))).all()
    assert rows == [added.id]
