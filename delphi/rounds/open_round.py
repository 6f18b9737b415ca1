"""Closing an open round (idea generation), which :func:`delphi.rounds.transitions.close_round` hands over to.

An open round has free-text answers, not ratings: nothing is frozen and nothing is classified.  Closing it drafts
the next round empty (the facilitator fills it with statements made from the answers,
:mod:`delphi.panels.from_answers`) and never finishes the panel, since an open round is always followed by a
rating round (:func:`delphi.rounds.lifecycle.open_blockers` requires ``max_rounds >= 2``).

Changes rows in the caller's session and commits nothing; the caller holds the round's lock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import distinct, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from delphi import audit
from delphi.db.models import IdeaAnswer, OpenQuestion, Panel, Panellist, Round
from delphi.db.queries import in_population
from delphi.domain import Actor, AnalysisPopulation, RoundStatus
from delphi.rounds import closing


@dataclass(frozen=True, slots=True)
class OpenClose:
    """What closing an open round did: ``answers`` and ``respondents`` counted in the panel's analysis population
    (non-empty answers; people with at least one), and the number of the round drafted after it."""

    answers: int
    respondents: int
    next_round: int


async def count_open_questions(session: AsyncSession, panel_id: int) -> int:
    """How many open questions the panel has (for the open blockers of an open round)."""
    return int(
        await session.scalar(
            select(func.count()).select_from(OpenQuestion).where(OpenQuestion.panel_id == panel_id)
        )
        or 0
    )


async def count_answers(session: AsyncSession, panel: Panel, round_: Round) -> tuple[int, int]:
    """``(answers, respondents)`` of ``round_`` in the panel's analysis population (one query)."""
    population = AnalysisPopulation(panel.analysis_population)
    row = (
        await session.execute(
            select(func.count(IdeaAnswer.id), func.count(distinct(IdeaAnswer.panellist_id)))
            .join(Panellist, Panellist.id == IdeaAnswer.panellist_id)
            .where(IdeaAnswer.round_id == round_.id, in_population(round_.id, population))
        )
    ).one()
    return int(row[0] or 0), int(row[1] or 0)


async def close_open_round(
    session: AsyncSession, panel: Panel, round_: Round, *, now: datetime, actor: Actor
) -> OpenClose:
    """Close the open-kind ``round_`` (its status already checked open by the caller, under the round's lock):
    mark it closed at ``now``, draft round ``n + 1`` with no statements, record ``round.closed`` with the
    answers and respondents.  No statistics are frozen, no verdicts given, the panel does not finish."""
    round_.status = RoundStatus.CLOSED
    round_.closed_at = now
    answers, respondents = await count_answers(session, panel, round_)
    nxt = await closing.draft_next(session, panel, round_, [])
    audit.record(
        session,
        actor=actor,
        panel_id=panel.id,
        action="round.closed",
        detail={
            "round": round_.number,
            "kind": "open",
            "answers": answers,
            "respondents": respondents,
            "verdicts": {},
            "carried_forward": 0,
            "finished": False,
        },
    )
    return OpenClose(answers=answers, respondents=respondents, next_round=nxt.number)
