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
from typing import Any

from sqlalchemy import Select, case, exists, func, or_, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import IdeaAnswer, Panellist, Rating, Round, RoundVisit, StakeholderGroup, Submission
from delphi.db.paging import PAGE_SIZE, Page, fetch_page
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


#: Statuses of panellists who can no longer submit.
GONE = (PanellistStatus.WITHDRAWN.value, PanellistStatus.BOUNCED.value)


#: :func:`_activity_rank` of a panellist who saved an answer in the round, of one who only opened it, and of one
#: who did neither.
STARTED, OPENED, NOT_OPENED = 2, 1, 0


def _progress_rows(round_: Round, *columns: Any) -> Select[Any]:
    """``columns`` and ``rank`` (:func:`_activity_rank`) per panellist of the round's panel, with the round's
    visit (``RoundVisit``) and submission (``Submission``) joined, at most one of each per panellist (both unique
    per round and panellist), so ``Submission.panellist_id`` is None for one who has not submitted.

    Visits and submissions come from one scan of each, hashed against the panellists; only "started" is a probe
    per panellist, of the indexed ``(round_id, panellist_id)`` pairs of ratings and an open round's answers, which
    stops at the first answer: a round where everyone rated 200 statements costs one index probe a panellist, not
    a pass over its ratings."""
    return (
        select(*columns, _activity_rank(round_).label("rank"))
        .select_from(Panellist)
        .outerjoin(RoundVisit, (RoundVisit.panellist_id == Panellist.id) & (RoundVisit.round_id == round_.id))
        .outerjoin(Submission, (Submission.panellist_id == Panellist.id) & (Submission.round_id == round_.id))
        .where(Panellist.panel_id == round_.panel_id)
    )


def _activity_rank(round_: Round) -> Any:
    """A panellist's activity in ``round_`` as one SQL integer over ``Panellist`` joined with its ``RoundVisit``
    (:func:`_progress_rows`): :data:`STARTED` (saved an answer: a rating or an open round's answer, whether or not
    a visit was recorded), :data:`OPENED` (visited only) or :data:`NOT_OPENED`.  One expression, so the answers
    are probed once a panellist: "started" is ``rank == STARTED``, "opened" is ``rank >= OPENED``, and sorting by
    it descending sorts by (started, opened)."""
    started = or_(
        exists().where(Rating.round_id == round_.id, Rating.panellist_id == Panellist.id),
        exists().where(IdeaAnswer.round_id == round_.id, IdeaAnswer.panellist_id == Panellist.id),
    )
    return case((started, STARTED), (RoundVisit.panellist_id.is_not(None), OPENED), else_=NOT_OPENED)


async def load_summary(
    session: AsyncSession, round_: Round, groups: Sequence[StakeholderGroup]
) -> list[GroupProgress]:
    """What :func:`summarise` gives over :func:`load_progress`, from one SQL aggregate (no panellist row is
    loaded): counts per group in display order, then the whole panel (``group_id`` None, "All groups").

    The aggregate counts the panellists per (group, status, activity, submitted): a few dozen rows at most,
    whatever the panel's size, added up here."""
    flags = _progress_rows(
        round_,
        Panellist.group_id.label("group_id"),
        Panellist.status.label("status"),
        case((Submission.panellist_id.is_not(None), 1), else_=0).label("submitted"),
    ).subquery()
    rows = await session.execute(
        select(flags.c.group_id, flags.c.status, flags.c.rank, flags.c.submitted, func.count()).group_by(
            flags.c.group_id, flags.c.status, flags.c.rank, flags.c.submitted
        )
    )
    by_group: dict[int, list[int]] = {}
    for group_id, status, rank, submitted, n in rows.all():
        counts = by_group.setdefault(group_id, [0] * 6)
        for i, counted in enumerate(
            (
                True,
                rank >= OPENED,
                rank == STARTED,
                bool(submitted),
                status == PanellistStatus.BOUNCED.value,
                status == PanellistStatus.WITHDRAWN.value,
            )
        ):
            counts[i] += int(n) if counted else 0
    zero = [0] * 6
    out = [GroupProgress(g.id, g.name, *by_group.get(g.id, zero)) for g in groups]
    total = [sum(c[i] for c in by_group.values()) for i in range(6)]
    out.append(GroupProgress(None, "All groups", *total))
    return out


async def awaiting_page(
    session: AsyncSession, round_: Round, number: int = 1, size: int = PAGE_SIZE
) -> tuple[list[Progress], Page]:
    """``(panellists, page)``: page ``number`` (from 1; NotFound past the last, :func:`delphi.db.paging.page_at`)
    of :func:`awaiting` (not submitted, neither withdrawn nor bounced; those who started first, then those who
    opened, then by pseudonym), ``page.total`` counting all of them. Answers and last activity are read for
    the page's panellists only: three queries whatever the panel's size."""
    flags = (
        _progress_rows(
            round_,
            Panellist.id.label("id"),
            Panellist.pseudonym.label("pseudonym"),
            Panellist.group_id.label("group_id"),
            Panellist.status.label("status"),
            Panellist.email.label("email"),
            Panellist.name.label("name"),
        )
        .where(Panellist.status.not_in(GONE), Submission.panellist_id.is_(None))
        .subquery()
    )
    query = select(flags).order_by(flags.c.rank.desc(), flags.c.pseudonym, flags.c.id)
    rows, page = await fetch_page(session, query, number, size)
    activity = await _activity(session, round_, [r.id for r in rows])
    out = []
    for r in rows:
        n, last = activity.get(r.id, (0, None))
        out.append(
            Progress(
                panellist_id=r.id,
                pseudonym=r.pseudonym,
                group_id=r.group_id,
                status=r.status,
                opened=r.rank >= OPENED,
                started=r.rank == STARTED,
                submitted=False,
                answers=n,
                last_activity=last,
                email=r.email,
                name=r.name or "",
            )
        )
    return out, page


async def _activity(
    session: AsyncSession, round_: Round, ids: list[int]
) -> dict[int, tuple[int, datetime | None]]:
    """``{panellist id: (answers saved in round_, when the last was saved)}`` for ``ids`` (absent: none)."""
    if not ids:
        return {}
    saved = union_all(
        select(Rating.panellist_id.label("pid"), Rating.updated_at.label("at")).where(
            Rating.round_id == round_.id, Rating.panellist_id.in_(ids)
        ),
        select(IdeaAnswer.panellist_id, IdeaAnswer.updated_at).where(
            IdeaAnswer.round_id == round_.id, IdeaAnswer.panellist_id.in_(ids)
        ),
    ).subquery()
    rows = await session.execute(
        select(saved.c.pid, func.count(), func.max(saved.c.at)).group_by(saved.c.pid)
    )
    return {int(pid): (int(n), last) for pid, n, last in rows.all()}
