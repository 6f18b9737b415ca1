"""An open round 1 through its life: what it needs to open, closing it (nothing frozen, round 2 drafted empty, the
panel carries on), statements made from its answers joining round 2 with their sources, and round 2 running as
any rating round."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import (
    AuditEvent,
    IdeaAnswer,
    Rating,
    Round,
    RoundResult,
    RoundStatement,
    StatementSource,
    Submission,
    utcnow,
)
from delphi.errors import Conflict, InvalidInput, PreconditionsUnmet
from delphi.panels import from_answers
from delphi.rounds import lifecycle, transitions
from delphi.settings import Settings
from tests.factories import ACTOR, make_statements
from tests.ideas_world import IdeasWorld, build_ideas_panel


def _facts(**kw) -> lifecycle.PanelFacts:  # type: ignore[no-untyped-def]
    base = dict(
        round_number=1,
        round_status="draft",
        n_groups=2,
        n_statements=0,
        n_invitable_panellists=3,
        rule_is_valid=True,
        previous_round_status=None,
        closes_at=utcnow() + timedelta(days=3),
        opens_at=None,
        max_rounds=3,
        round_kind="open",
        n_open_questions=2,
    )
    return lifecycle.PanelFacts(**(base | kw))


def test_an_open_round_needs_an_open_question_instead_of_a_statement() -> None:
    assert lifecycle.open_blockers(_facts(), utcnow()) == []
    assert lifecycle.open_blockers(_facts(n_open_questions=0), utcnow()) == [
        "Add at least one open question to round 1."
    ]
    assert lifecycle.open_blockers(_facts(n_statements=2), utcnow()) == [
        "Drop the statements from round 1: an open round asks open questions only."
    ]


def test_an_open_round_must_be_followed_by_a_rating_round() -> None:
    assert lifecycle.open_blockers(_facts(max_rounds=1), utcnow()) == [
        "Raise the panel's maximum number of rounds to at least 2: an open round is followed by at least one "
        "rating round."
    ]


async def test_an_open_round_without_questions_does_not_open(
    session: AsyncSession, settings: Settings
) -> None:
    w = await build_ideas_panel(session, round_status="draft", status="draft")
    for q in w.questions:
        await session.delete(q)
    await session.flush()
    with pytest.raises(PreconditionsUnmet) as err:
        await transitions.open_round(session, w.world.panel, w.world.round, settings=settings, actor=ACTOR)
    assert err.value.actions == ["Add at least one open question to round 1."]


async def _answered(session: AsyncSession, settings: Settings) -> IdeasWorld:
    """Round 1 opened through the use case; three panellists answered (two submitted), one did not."""
    w = await build_ideas_panel(session, round_status="draft", status="draft")
    await transitions.open_round(session, w.world.panel, w.world.round, settings=settings, actor=ACTOR)
    q1, q2 = w.questions
    people = [p for p, _ in w.world.people]
    rows = [
        (people[0], q1, 1, "Peer support", "peer"),
        (people[0], q1, 2, "Evening opening", "hours"),
        (people[1], q1, 1, "Someone who has been there", "peer"),
        (people[1], q2, 1, "Waiting lists", ""),
        (people[2], q2, 1, "Opening hours", "hours"),
    ]
    for p, q, slot, text, theme in rows:
        session.add(
            IdeaAnswer(
                round_id=w.world.round.id,
                question_id=q.id,
                panellist_id=p.id,
                slot=slot,
                text=text,
                theme=theme,
            )
        )  # type: ignore[union-attr]
    session.add_all([Submission(round_id=w.world.round.id, panellist_id=p.id) for p in people[:2]])  # type: ignore[union-attr]
    await session.flush()
    return w


async def test_closing_an_open_round_drafts_round_two_empty_and_the_panel_carries_on(
    session: AsyncSession, settings: Settings
) -> None:
    w = await _answered(session, settings)
    outcome = await transitions.close_round(
        session, w.world.panel, w.world.round, settings=settings, actor=ACTOR
    )
    assert (outcome.verdicts, outcome.carried, outcome.finished, outcome.next_round) == ({}, [], False, 2)
    assert w.world.panel.status == "running"
    round2 = await session.scalar(select(Round).where(Round.panel_id == w.world.panel.id, Round.number == 2))
    assert round2 is not None and round2.status == "draft" and round2.kind == "rating"
    assert await session.scalar(select(func.count()).select_from(RoundStatement)) == 0
    assert await session.scalar(select(func.count()).select_from(RoundResult)) == 0
    closed = await session.scalar(select(AuditEvent).where(AuditEvent.action == "round.closed"))
    assert closed is not None
    # only submitted answers count by default: P-001's two and P-002's two
    assert (closed.detail["answers"], closed.detail["respondents"], closed.detail["finished"]) == (
        4,
        2,
        False,
    )


async def test_the_closing_audit_counts_every_saved_answer_when_the_panel_counts_them_all(
    session: AsyncSession, settings: Settings
) -> None:
    w = await _answered(session, settings)
    w.world.panel.analysis_population = "all"
    await transitions.close_round(session, w.world.panel, w.world.round, settings=settings, actor=ACTOR)
    closed = await session.scalar(select(AuditEvent).where(AuditEvent.action == "round.closed"))
    assert closed is not None and (closed.detail["answers"], closed.detail["respondents"]) == (5, 3)


async def test_statements_cannot_be_made_from_answers_before_the_open_round_closes(
    session: AsyncSession, settings: Settings
) -> None:
    w = await _answered(session, settings)
    with pytest.raises(Conflict):
        await from_answers.make_statement(
            session, w.world.panel, "Offer peer support.", "", ACTOR, theme="peer"
        )


async def test_a_statement_made_from_a_theme_joins_round_two_with_its_sources_and_round_two_runs(
    session: AsyncSession, settings: Settings
) -> None:
    w = await _answered(session, settings)
    panel = w.world.panel
    await transitions.close_round(session, panel, w.world.round, settings=settings, actor=ACTOR)
    peer = await from_answers.make_statement(
        session, panel, "Offer peer support.", "Support", ACTOR, theme="peer"
    )
    waits = (await session.scalars(select(IdeaAnswer.id).where(IdeaAnswer.text == "Waiting lists"))).all()
    short = await from_answers.make_statement(
        session, panel, "Keep waits short.", "", ACTOR, answer_ids=waits
    )
    assert (peer.origin, peer.origin_round) == ("open_round", 1)
    sources = (
        await session.execute(
            select(StatementSource.statement_id, IdeaAnswer.text)
            .join(IdeaAnswer, IdeaAnswer.id == StatementSource.answer_id)
            .order_by(StatementSource.statement_id, IdeaAnswer.id)
        )
    ).all()
    assert [tuple(r) for r in sources] == [
        (peer.id, "Peer support"),
        (peer.id, "Someone who has been there"),
        (short.id, "Waiting lists"),
    ]
    round2 = await session.scalar(select(Round).where(Round.panel_id == panel.id, Round.number == 2))
    assert round2 is not None
    asked = (
        await session.scalars(select(RoundStatement.statement_id).where(RoundStatement.round_id == round2.id))
    ).all()
    assert sorted(asked) == sorted([peer.id, short.id])
    # round 2 opens and closes like any rating round
    round2.closes_at = utcnow() + timedelta(days=5)
    await transitions.open_round(session, panel, round2, settings=settings, actor=ACTOR)
    for p, _ in w.world.people:
        for sid in (peer.id, short.id):
            session.add(Rating(round_id=round2.id, statement_id=sid, panellist_id=p.id, value=9))
        session.add(Submission(round_id=round2.id, panellist_id=p.id))
    await session.flush()
    outcome = await transitions.close_round(session, panel, round2, settings=settings, actor=ACTOR)
    assert outcome.verdicts == {peer.id: "in", short.id: "in"}
    assert outcome.finished
    assert await session.scalar(
        select(func.count()).select_from(RoundResult).where(RoundResult.round_id == round2.id)
    )


async def test_making_a_statement_lists_every_problem_at_once(
    session: AsyncSession, settings: Settings
) -> None:
    w = await _answered(session, settings)
    await transitions.close_round(session, w.world.panel, w.world.round, settings=settings, actor=ACTOR)
    with pytest.raises(InvalidInput) as err:
        await from_answers.make_statement(session, w.world.panel, "  ", "", ACTOR, theme="nobody used this")
    assert [f for f, _ in err.value.errors] == ["text", "from_theme"]
    with pytest.raises(InvalidInput) as err:
        await from_answers.make_statement(session, w.world.panel, "A statement.", "", ACTOR)
    assert [f for f, _ in err.value.errors] == ["answers"]


async def test_round_one_with_statements_is_asked_to_drop_them(
    session: AsyncSession, settings: Settings
) -> None:
    w = await build_ideas_panel(session, round_status="draft", status="draft")
    (statement,) = await make_statements(session, w.world.panel, (("", ["A statement"]),))
    session.add(RoundStatement(round_id=w.world.round.id, statement_id=statement.id))  # type: ignore[union-attr]
    await session.flush()
    opening, _ = await transitions.round_blockers(session, w.world.panel, w.world.round)  # type: ignore[arg-type]
    assert opening == ["Drop the statements from round 1: an open round asks open questions only."]


async def test_the_monitor_counts_a_panellist_with_any_answer_as_started(
    session: AsyncSession, settings: Settings
) -> None:
    from delphi.results.monitoring import load_progress

    w = await _answered(session, settings)
    started = {p.pseudonym: (p.started, p.answers) for p in await load_progress(session, w.world.round)}  # type: ignore[arg-type]
    assert started == {"P-001": (True, 2), "P-002": (True, 2), "P-003": (True, 1), "P-004": (False, 0)}
