"""Watching an open round: who was invited, opened, started, submitted, bounced or withdrew, per group.

Nothing here reads a rating's value: the facilitator sees progress, never anyone's answers.

Definitions (per panellist, for one round):

* **invited**: every panellist of the panel (also those who later bounced or withdrew);
* **opened**: visited their personal link or a panellist page while this round was open (a ``RoundVisit`` of
  this round, :func:`delphi.participation.links.record_round_visit`) or saved an answer in this round; a visit
  in an earlier round does not count;
* **started**: saved at least one answer (rating, "unable", comment, or an open round's free-text answer) in
  this round;
* **submitted**: marked this round complete;
* **bounced** / **withdrawn**: the panellist's current status;
* **response rate**: submitted / invited, in percent (the denominator keeps bounced and withdrawn people, so
  the rate is what was achieved out of everyone asked; the counts beside it show why).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import IdeaAnswer, Panellist, Rating, Round, RoundVisit, StakeholderGroup, Submission
from delphi.domain import PanellistStatus


@dataclass(frozen=True, slots=True)
class Progress:
    """One panellist's progress in one round. ``email`` and ``name`` are for the owner's eyes only."""

    panellist_id: int
    pseudonym: str
    group_id: int
    status: str
    opened: bool
    started: bool
    submitted: bool
    answers: int
    last_activity: datetime | None
    email: str | None
    name: str


@dataclass(frozen=True, slots=True)
class GroupProgress:
    """Counts for one group (``group_id`` None: the whole panel); ``response_rate`` in percent, None if none
    were invited."""

    group_id: int | None
    name: str
    invited: int
    opened: int
    started: int
    submitted: int
    bounced: int
    withdrawn: int

    @property
    def response_rate(self) -> float | None:
        return 100.0 * self.submitted / self.invited if self.invited else None

    @property
    def not_submitted(self) -> int:
        return self.invited - self.submitted


async def load_progress(session: AsyncSession, round_: Round) -> list[Progress]:
    """Every panellist of the round's panel with their progress in it, by pseudonym (one query)."""
    saved = union_all(  # ratings, and an open round's answers (a panellist with any answer has started)
        select(Rating.panellist_id.label("pid"), Rating.id.label("id"), Rating.updated_at.label("at")).where(
            Rating.round_id == round_.id
        ),
        select(IdeaAnswer.panellist_id, IdeaAnswer.id, IdeaAnswer.updated_at).where(
            IdeaAnswer.round_id == round_.id
        ),
    ).subquery()
    answers = (
        select(
            saved.c.pid.label("pid"),
            func.count(saved.c.id).label("answers"),
            func.max(saved.c.at).label("last"),
        )
        .group_by(saved.c.pid)
        .subquery()
    )
    rows = await session.execute(
        select(
            Panellist.id,
            Panellist.pseudonym,
            Panellist.group_id,
            Panellist.status,
            RoundVisit.opened_at,
            Panellist.email,
            Panellist.name,
            answers.c.answers,
            answers.c.last,
            Submission.submitted_at,
        )
        .outerjoin(answers, answers.c.pid == Panellist.id)
        .outerjoin(Submission, (Submission.panellist_id == Panellist.id) & (Submission.round_id == round_.id))
        .outerjoin(RoundVisit, (RoundVisit.panellist_id == Panellist.id) & (RoundVisit.round_id == round_.id))
        .where(Panellist.panel_id == round_.panel_id)
        .order_by(Panellist.pseudonym)
    )
    out = []
    for pid, pseudonym, group_id, status, visited_at, email, name, n_answers, last, submitted_at in rows:
        n = int(n_answers or 0)
        out.append(
            Progress(
                panellist_id=pid,
                pseudonym=pseudonym,
                group_id=group_id,
                status=status,
                opened=visited_at is not None or n > 0,
                started=n > 0,
                submitted=submitted_at is not None,
                answers=n,
                last_activity=max((t for t in (last, submitted_at) if t is not None), default=None),
                email=email,
                name=name or "",
            )
        )
    return out


def summarise(progress: Iterable[Progress], groups: Sequence[StakeholderGroup]) -> list[GroupProgress]:
    """Counts per group in display order, then the whole panel (``group_id`` None, name "All groups").

    A group without panellists appears with zeros (its rate is None).
    """
    rows = list(progress)

    def count(name: str, group_id: int | None, items: list[Progress]) -> GroupProgress:
        return GroupProgress(
            group_id=group_id,
            name=name,
            invited=len(items),
            opened=sum(p.opened for p in items),
            started=sum(p.started for p in items),
            submitted=sum(p.submitted for p in items),
            bounced=sum(p.status == PanellistStatus.BOUNCED for p in items),
            withdrawn=sum(p.status == PanellistStatus.WITHDRAWN for p in items),
        )

    out = [count(g.name, g.id, [p for p in rows if p.group_id == g.id]) for g in groups]
    out.append(count("All groups", None, rows))
    return out


def awaiting(progress: Iterable[Progress]) -> list[Progress]:
    """Panellists who can still submit: not submitted, not withdrawn, not bounced; those who started first."""
    still = [
        p
        for p in progress
        if not p.submitted and p.status not in (PanellistStatus.WITHDRAWN, PanellistStatus.BOUNCED)
    ]
    return sorted(still, key=lambda p: (not p.started, not p.opened, p.pseudonym))
