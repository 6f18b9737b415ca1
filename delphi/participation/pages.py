"""What a panellist's pages show: where they stand, a page of statements to rate, and the review of the round.

Reads only, in the caller's transaction.  A closed round loads too (read-only: ``overview.accepts_answers``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import Panel, Panellist, Rating, Round, utcnow
from delphi.domain import PanelStatus, RoundKind
from delphi.participation import checks, paging
from delphi.participation.checks import Scale
from delphi.participation.facts import (
    Progress,
    RoundFacts,
    answered_ids,
    load_facts,
    require_round,
    scale_of,
    statements_by_id,
    submitted_at,
)
from delphi.participation.feedback import StatementFeedback, load_feedback
from delphi.participation.issues import N_, NoRoundOpen, fail
from delphi.participation.paging import PageSpec
from delphi.rounds import figures


@dataclass(slots=True)
class StatementView:
    """A statement on a rating or review page with the panellist's saved answer."""

    id: int
    section: str
    text: str
    page: int
    value: int | None = None
    unable: bool = False
    comment: str = ""
    reason: str = ""
    feedback: StatementFeedback | None = None

    @property
    def answered(self) -> bool:
        return self.value is not None or self.unable

    @property
    def outside_iqr(self) -> bool:
        fb = self.feedback
        pooled = fb.pooled if fb is not None else None
        return pooled is not None and figures.outside_iqr(self.value, pooled.q1, pooled.q3)


@dataclass(frozen=True, slots=True)
class Overview:
    """Where a panellist stands.

    The panel; the current round (open, or the latest closed; None before round 1); whether it takes answers
    now; progress; the submission time; consent; whether suggestions are open; the page to resume on.
    """

    panel: Panel
    round: Round | None
    accepts_answers: bool
    progress: Progress
    submitted_at: datetime | None
    consented: bool
    suggestions_open: bool
    resume_page: int


@dataclass(frozen=True, slots=True)
class RatingPage:
    """One page of statements to rate; ``items`` carry the saved answers and, from round 2, the feedback."""

    overview: Overview
    scale: Scale
    pages: tuple[PageSpec, ...]
    page: PageSpec
    items: tuple[StatementView, ...]
    agree_band: tuple[int, int]
    ask_reason: bool
    k_min: int


@dataclass(frozen=True, slots=True)
class Review:
    """Every statement of the round with its answer, in order; ``missing`` are ids still to answer."""

    overview: Overview
    scale: Scale
    pages: tuple[PageSpec, ...]
    items: tuple[StatementView, ...]
    missing: tuple[int, ...]


async def _pages(session: AsyncSession, facts: RoundFacts) -> list[PageSpec]:
    statements = await statements_by_id(session, facts.statement_ids)
    return paging.paginate(
        [(sid, statements[sid].section if sid in statements else "") for sid in facts.statement_ids]
    )


def _require_consent(panellist: Panellist) -> None:
    refusal = checks.consent_refusal(panellist.consented_at is not None)
    if refusal is not None:
        raise refusal


async def rating_pages(session: AsyncSession, panellist: Panellist) -> list[PageSpec]:
    """The rating pages of the current round (empty before round 1)."""
    return await _pages(session, await load_facts(session, panellist))


async def overview(session: AsyncSession, panellist: Panellist, now: datetime | None = None) -> Overview:
    """Where the panellist stands now; see :class:`Overview`."""
    now = now or utcnow()
    facts = await load_facts(session, panellist)
    return await _overview_from(session, panellist, facts, now)


async def _overview_from(
    session: AsyncSession,
    panellist: Panellist,
    facts: RoundFacts,
    now: datetime,
    pages: list[PageSpec] | None = None,
) -> Overview:
    rnd = facts.round
    if rnd is None:
        return Overview(
            facts.panel, None, False, Progress(0, 0), None, panellist.consented_at is not None, False, 1
        )
    answered = await answered_ids(session, rnd.id, panellist.id)
    answered &= set(facts.statement_ids)
    if pages is None:
        pages = await _pages(session, facts)
    accepts = checks.round_accepts_answers(rnd.status, rnd.closes_at, now)
    return Overview(
        panel=facts.panel,
        round=rnd,
        accepts_answers=accepts,
        progress=Progress(len(answered), len(facts.statement_ids)),
        submitted_at=await submitted_at(session, rnd.id, panellist.id),
        consented=panellist.consented_at is not None,
        suggestions_open=accepts
        and facts.panel.status != PanelStatus.FINISHED
        and rnd.kind != RoundKind.OPEN
        and checks.suggestions_allowed(rnd.number, facts.panel.suggestions_after_round1),
        resume_page=paging.resume_page(pages, answered),
    )


async def _views(
    session: AsyncSession,
    panellist: Panellist,
    round_id: int,
    ids: Sequence[int],
    pages: Sequence[PageSpec],
) -> list[StatementView]:
    """The statements ``ids`` (in that order; unknown ids skipped) with the panellist's answers in round
    ``round_id``."""
    statements = await statements_by_id(session, ids)
    ratings = {
        r.statement_id: r
        for r in (
            await session.scalars(
                select(Rating).where(
                    Rating.round_id == round_id,
                    Rating.panellist_id == panellist.id,
                    Rating.statement_id.in_(list(ids)),
                )
            )
        ).all()
    }
    views = []
    for sid in ids:
        st = statements.get(sid)
        if st is None:
            continue
        r = ratings.get(sid)
        views.append(
            StatementView(
                id=sid,
                section=st.section,
                text=st.text,
                page=paging.page_of(pages, sid) or 1,
                value=r.value if r else None,
                unable=bool(r.unable) if r else False,
                comment=r.comment if r else "",
                reason=r.reason if r else "",
            )
        )
    return views


async def load_rating_page(
    session: AsyncSession, panellist: Panellist, page: int | None = None, now: datetime | None = None
) -> RatingPage:
    """Page ``page`` (1-based; None: where to resume) of the current round, with saved answers and feedback.

    A page number past the end shows the last page.  Raises :class:`ConsentNeeded` before consent and
    :class:`NoRoundOpen` before round 1 or when the round has no statements.
    """
    now = now or utcnow()
    _require_consent(panellist)
    facts = await load_facts(session, panellist)
    rnd = require_round(facts)
    pages = await _pages(session, facts)
    ov = await _overview_from(session, panellist, facts, now, pages)
    if not pages:
        raise fail(NoRoundOpen, N_("This round has no statements to rate yet."))
    number = ov.resume_page if page is None else min(max(page, 1), len(pages))
    spec = pages[number - 1]
    items = await _views(session, panellist, rnd.id, spec.statement_ids, pages)
    feedback = await load_feedback(
        session, facts.panel, rnd, panellist.id, spec.statement_ids, include_withheld=True
    )
    for item in items:
        item.feedback = feedback.get(item.id)
    panel = facts.panel
    return RatingPage(
        overview=ov,
        scale=scale_of(panel),
        pages=tuple(pages),
        page=spec,
        items=tuple(items),
        agree_band=figures.agree_band(panel.rule, panel.scale_min, panel.scale_max),
        ask_reason=bool(panel.ask_reason_outside_iqr),
        k_min=panel.k_min,
    )


async def load_review(session: AsyncSession, panellist: Panellist, now: datetime | None = None) -> Review:
    """Every statement of the current round with the panellist's answers (read-only once the round closed).

    Raises :class:`ConsentNeeded` before consent and :class:`NoRoundOpen` before round 1.
    """
    now = now or utcnow()
    _require_consent(panellist)
    facts = await load_facts(session, panellist)
    rnd = require_round(facts)
    pages = await _pages(session, facts)
    ov = await _overview_from(session, panellist, facts, now, pages)
    items = await _views(session, panellist, rnd.id, facts.statement_ids, pages)
    answered = {i.id for i in items if i.answered}
    return Review(
        overview=ov,
        scale=scale_of(facts.panel),
        pages=tuple(pages),
        items=tuple(items),
        missing=tuple(paging.unanswered(facts.statement_ids, answered)),
    )
