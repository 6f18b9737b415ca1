"""Panellist use cases: links, consent, rating, submitting, withdrawing, suggesting, feedback, results.

Every function works in the caller's transaction (the web layer commits on success and rolls back on an error
answer); checks come first, so a refused write leaves nothing half-saved.  The pure rules live in
:mod:`delphi.rounds.participation_rules`; this module loads facts, asks the rules and writes.

Ratings are written with one SQL upsert per answer (``INSERT ... ON CONFLICT (round_id, statement_id,
panellist_id) DO UPDATE``), so two tabs, a double click or a replayed request change nothing twice.
Submitting inserts the unique Submission with ``ON CONFLICT DO NOTHING`` and is therefore idempotent too.

Errors are :class:`delphi.errors.DelphiError` subclasses from :mod:`delphi.rounds.participation_rules`, whose
``issues`` carry translatable messages.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from delphi import audit
from delphi.db.locks import begin_write, round_share_lock
from delphi.db.models import (
    Panel,
    Panellist,
    Rating,
    Round,
    RoundStatement,
    Statement,
    Submission,
    Suggestion,
    utcnow,
)
from delphi.domain import (
    Actor,
    PanellistStatus,
    PanelStatus,
    RoundStatus,
    SuggestionKind,
)
from delphi.errors import InvalidInput
from delphi.rounds import participation_rules as rules
from delphi.rounds.participation_feedback import (
    Distribution,
    GroupFeedback,
    StatementFeedback,
    load_feedback,
)
from delphi.rounds.participation_rules import (
    MAX_SUGGESTION,
    N_,
    ConsentNeeded,
    Issue,
    LinkNotValid,
    NoRoundOpen,
    NotFinished,
    PageSpec,
    RoundClosed,
    Scale,
    SessionEnded,
    StatementNotInRound,
    SuggestionsClosed,
    fail,
    fail_many,
)
from delphi.rounds.rating_writes import CleanInput, RatingInput, clean_input, upsert_params, upsert_statement
from delphi.security import panellist_token, token_digest

__all__ = [
    "ANSWERED",
    "Distribution",
    "FinalResultsView",
    "GroupFeedback",
    "Overview",
    "Progress",
    "RatingInput",
    "RatingPage",
    "Receipt",
    "Review",
    "SaveResult",
    "StatementFeedback",
    "StatementView",
    "current_round",
    "exchange_link",
    "load_feedback",
    "load_final_results",
    "load_rating_page",
    "load_receipt",
    "load_review",
    "overview",
    "panellist_for_session",
    "panellist_for_token",
    "rating_pages",
    "record_consent",
    "reissue_link",
    "save_rating",
    "save_ratings",
    "submit",
    "suggest",
    "suggestable_statements",
    "withdraw",
]


#: A rating row that answers its statement: a point on the scale or "unable to rate".
ANSWERED = or_(Rating.value.is_not(None), Rating.unable.is_(True))


# --- shapes -------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Progress:
    """``answered`` statements (a rating or "unable") of ``total`` in the round."""

    answered: int
    total: int

    @property
    def complete(self) -> bool:
        return self.total > 0 and self.answered >= self.total


@dataclass(frozen=True, slots=True)
class SaveResult:
    """What one saved answer looks like now, and the panellist's progress in the round."""

    statement_id: int
    value: int | None
    unable: bool
    outside_iqr: bool
    progress: Progress
    saved_at: datetime


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
        return pooled is not None and rules.outside_iqr(self.value, pooled.q1, pooled.q3)


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


@dataclass(frozen=True, slots=True)
class Receipt:
    """A panellist's submission of a round, and the honorarium owed (None when the panel pays none).

    ``owed_round_minor`` is the amount for this round, ``owed_total_minor`` for every round submitted so far.
    ``created`` is True only for the request that made the submission (then the receipt mail was enqueued).
    """

    round_number: int
    submitted_at: datetime
    closes_at: datetime | None
    progress: Progress
    owed_round_minor: int | None
    owed_total_minor: int | None
    currency: str
    created: bool = False


@dataclass(frozen=True, slots=True)
class FinalResultsView:
    """The panel's final results for a panellist: the consensus list and their own rounds."""

    panel: Panel
    final: Any  # delphi.rounds.final_shown.ShownFinalList
    rounds_taken_part: int
    owed_total_minor: int | None


@dataclass(slots=True)
class _RoundFacts:
    panel: Panel
    round: Round | None
    statement_ids: list[int] = field(default_factory=list)


# --- links and sessions -------------------------------------------------------------------------------------


def actor_of(panellist: Panellist) -> Actor:
    """Audit actor of a panellist: their pseudonym only, never an address."""
    return Actor.panellist(panellist.pseudonym)


async def exchange_link(session: AsyncSession, token: str, now: datetime | None = None) -> Panellist:
    """The panellist whose current link ``token`` is; records the first visit (invited → active).

    Raises :class:`LinkNotValid` (the same for an unknown, re-issued or withdrawn link, and for erased data),
    so the answer reveals nothing about whether anybody is on a panel.
    """
    now = now or utcnow()
    if not token or len(token) > 200:
        raise fail(LinkNotValid, N_("This link does not work."))
    panellist = await session.scalar(select(Panellist).where(Panellist.token_hash == token_digest(token)))
    if panellist is None or not rules.link_usable(panellist.status, panellist.erased_at is not None):
        raise fail(LinkNotValid, N_("This link does not work."))
    if panellist.first_visit_at is None:
        panellist.first_visit_at = now
    if panellist.status == PanellistStatus.INVITED:
        panellist.status = PanellistStatus.ACTIVE
    return panellist


async def panellist_for_token(session: AsyncSession, token: str) -> Panellist:
    """The panellist whose current link ``token`` is, whatever their status (for the one-click withdrawal).

    Raises :class:`LinkNotValid` for an unknown or re-issued token and for erased data.
    """
    if not token or len(token) > 200:
        raise fail(LinkNotValid, N_("This link does not work."))
    panellist = await session.scalar(select(Panellist).where(Panellist.token_hash == token_digest(token)))
    if panellist is None or panellist.erased_at is not None:
        raise fail(LinkNotValid, N_("This link does not work."))
    return panellist


async def panellist_for_session(session: AsyncSession, panellist_id: object, version: object) -> Panellist:
    """The panellist a session cookie names, if the session is still valid.

    A session is valid while its ``version`` equals the panellist's ``session_version`` (re-issuing a link
    bumps it) and the panellist has neither withdrawn nor been erased; else :class:`SessionEnded`.
    """
    if not isinstance(panellist_id, int) or not isinstance(version, int):
        raise fail(SessionEnded, N_("Please open the personal link in your e-mail to continue."))
    panellist = await session.get(Panellist, panellist_id)
    if (
        panellist is None
        or panellist.session_version != version
        or not rules.link_usable(panellist.status, panellist.erased_at is not None)
    ):
        raise fail(SessionEnded, N_("Please open the personal link in your e-mail to continue."))
    return panellist


async def reissue_link(
    session: AsyncSession,
    panellist: Panellist,
    settings: Any,
    actor: Actor,
    now: datetime | None = None,
) -> str:
    """Give a panellist a new personal link; the old link and every session made with it stop working.

    Bumps ``session_version``, stores the SHA-256 of the new token and writes a ``panellist.link_reissued``
    audit event.  Returns the new token (``settings.secret_key`` derives it); the caller e-mails the link
    ``{base_url}/p/{token}`` (through the outbox) and never stores the token.
    """
    now = now or utcnow()
    panellist.session_version = (panellist.session_version or 1) + 1
    token = panellist_token(settings.secret_key, panellist.id, panellist.session_version)
    panellist.token_hash = token_digest(token)
    panellist.token_issued_at = now
    audit.record(
        session,
        actor=actor,
        action="panellist.link_reissued",
        panel_id=panellist.panel_id,
        detail={"panellist": panellist.pseudonym, "session_version": panellist.session_version},
    )
    return token


async def record_consent(session: AsyncSession, panellist: Panellist, now: datetime | None = None) -> None:
    """Record consent with its time (once; agreeing again keeps the first time) and audit it."""
    if panellist.consented_at is not None:
        return
    panellist.consented_at = now or utcnow()
    if panellist.status == PanellistStatus.INVITED:
        panellist.status = PanellistStatus.ACTIVE
    audit.record(
        session, actor=actor_of(panellist), action="panellist.consented", panel_id=panellist.panel_id
    )


async def withdraw(
    session: AsyncSession, panellist: Panellist, how: str = "page", now: datetime | None = None
) -> bool:
    """Withdraw a panellist from the panel; True if this call did it, False when they had left already.

    Sets status ``withdrawn`` and ``withdrawn_at`` and writes a ``panellist.withdrawn`` audit event (``how``:
    ``"page"`` or ``"one-click"``), which the facilitator sees.  Mail delivery cancels every message to a
    withdrawn panellist, so no further mail goes out.  Saved ratings are kept (erasure is the facilitator's).
    """
    if panellist.status == PanellistStatus.WITHDRAWN:
        return False
    panellist.status = PanellistStatus.WITHDRAWN
    panellist.withdrawn_at = now or utcnow()
    audit.record(
        session,
        actor=actor_of(panellist),
        action="panellist.withdrawn",
        panel_id=panellist.panel_id,
        detail={"panellist": panellist.pseudonym, "how": how},
    )
    return True


# --- rounds -------------------------------------------------------------------------------------------------


async def current_round(session: AsyncSession, panel_id: int, *, for_write: bool = False) -> Round | None:
    """The panel's open round, else its latest closed round; None before round 1 opens (drafts are hidden).

    ``for_write``: read it afresh (not from the session's identity map) and, on PostgreSQL, share-lock its row
    until the transaction ends, so a close waits for this transaction (call :func:`begin_write` first)."""
    stmt = (
        select(Round)
        .where(Round.panel_id == panel_id, Round.status.in_([RoundStatus.OPEN, RoundStatus.CLOSED]))
        .order_by(Round.number.desc())
        .limit(1)
    )
    if for_write:
        stmt = round_share_lock(stmt, _dialect(session), Round).execution_options(populate_existing=True)
    return await session.scalar(stmt)


def scale_of(panel: Panel | Any) -> Scale:
    """The rating scale of ``panel``: a :class:`Panel` or any row with its scale columns."""
    return Scale(
        lo=panel.scale_min,
        hi=panel.scale_max,
        labels=tuple(str(x or "") for x in (panel.scale_labels or [])),
        allow_unable=panel.allow_unable,
        unable_label=panel.unable_label or "Unable to rate",
    )


async def _facts(session: AsyncSession, panellist: Panellist) -> _RoundFacts:
    panel = await session.get(Panel, panellist.panel_id)
    if panel is None:  # the panel was deleted under the session
        raise fail(SessionEnded, N_("Please open the personal link in your e-mail to continue."))
    rnd = await current_round(session, panel.id)
    facts = _RoundFacts(panel, rnd)
    if rnd is not None:
        facts.statement_ids = list(
            (
                await session.scalars(
                    select(RoundStatement.statement_id)
                    .where(RoundStatement.round_id == rnd.id)
                    .order_by(RoundStatement.position, RoundStatement.id)
                )
            ).all()
        )
    return facts


async def _answered_ids(session: AsyncSession, round_id: int, panellist_id: int) -> set[int]:
    rows = await session.scalars(
        select(Rating.statement_id).where(
            Rating.round_id == round_id,
            Rating.panellist_id == panellist_id,
            ANSWERED,
        )
    )
    return set(rows.all())


async def _progress(session: AsyncSession, round_id: int, panellist_id: int) -> Progress:
    """Answered and total statements of a round for one panellist, in one query."""
    total = (
        select(func.count())
        .select_from(RoundStatement)
        .where(RoundStatement.round_id == round_id)
        .scalar_subquery()
    )
    answered = (
        select(func.count())
        .select_from(Rating)
        .join(
            RoundStatement,
            and_(
                RoundStatement.round_id == Rating.round_id, RoundStatement.statement_id == Rating.statement_id
            ),
        )
        .where(
            Rating.round_id == round_id,
            Rating.panellist_id == panellist_id,
            ANSWERED,
        )
        .scalar_subquery()
    )
    row = (await session.execute(select(answered, total))).one()
    return Progress(int(row[0]), int(row[1]))


async def _submitted_at(session: AsyncSession, round_id: int, panellist_id: int) -> datetime | None:
    return await session.scalar(
        select(Submission.submitted_at).where(
            Submission.round_id == round_id, Submission.panellist_id == panellist_id
        )
    )


def _pages(facts: _RoundFacts, sections: dict[int, str]) -> list[PageSpec]:
    return rules.paginate([(sid, sections.get(sid, "")) for sid in facts.statement_ids])


async def _statements(session: AsyncSession, ids: Sequence[int]) -> dict[int, Statement]:
    if not ids:
        return {}
    rows = await session.scalars(select(Statement).where(Statement.id.in_(list(ids))))
    return {s.id: s for s in rows.all()}


async def rating_pages(session: AsyncSession, panellist: Panellist) -> list[PageSpec]:
    """The rating pages of the current round (empty before round 1)."""
    facts = await _facts(session, panellist)
    statements = await _statements(session, facts.statement_ids)
    return _pages(facts, {sid: s.section for sid, s in statements.items()})


async def overview(session: AsyncSession, panellist: Panellist, now: datetime | None = None) -> Overview:
    """Where the panellist stands now; see :class:`Overview`."""
    now = now or utcnow()
    facts = await _facts(session, panellist)
    return await _overview_from(session, panellist, facts, now)


async def _overview_from(
    session: AsyncSession,
    panellist: Panellist,
    facts: _RoundFacts,
    now: datetime,
    pages: list[PageSpec] | None = None,
) -> Overview:
    rnd = facts.round
    if rnd is None:
        return Overview(
            facts.panel, None, False, Progress(0, 0), None, panellist.consented_at is not None, False, 1
        )
    answered = await _answered_ids(session, rnd.id, panellist.id)
    answered &= set(facts.statement_ids)
    if pages is None:
        statements = await _statements(session, facts.statement_ids)
        pages = _pages(facts, {sid: s.section for sid, s in statements.items()})
    accepts = rules.round_accepts_answers(rnd.status, rnd.closes_at, now)
    return Overview(
        panel=facts.panel,
        round=rnd,
        accepts_answers=accepts,
        progress=Progress(len(answered), len(facts.statement_ids)),
        submitted_at=await _submitted_at(session, rnd.id, panellist.id),
        consented=panellist.consented_at is not None,
        suggestions_open=accepts
        and facts.panel.status != PanelStatus.FINISHED
        and rules.suggestions_allowed(rnd.number, facts.panel.suggestions_after_round1),
        resume_page=rules.resume_page(pages, answered),
    )


# --- rating -------------------------------------------------------------------------------------------------


async def _views(
    session: AsyncSession,
    panellist: Panellist,
    facts: _RoundFacts,
    ids: Sequence[int],
    pages: Sequence[PageSpec],
) -> list[StatementView]:
    assert facts.round is not None
    statements = await _statements(session, ids)
    ratings = {
        r.statement_id: r
        for r in (
            await session.scalars(
                select(Rating).where(
                    Rating.round_id == facts.round.id,
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
                page=rules.page_of(pages, sid) or 1,
                value=r.value if r else None,
                unable=bool(r.unable) if r else False,
                comment=r.comment if r else "",
                reason=r.reason if r else "",
            )
        )
    return views


def _require_consent(panellist: Panellist) -> None:
    if panellist.consented_at is None:
        raise fail(
            ConsentNeeded, N_("Please read the information about this panel and agree to take part first.")
        )


def _require_round(facts: _RoundFacts) -> Round:
    if facts.round is None:
        raise fail(NoRoundOpen, N_("No round is open at the moment. We will e-mail you when one opens."))
    return facts.round


async def load_rating_page(
    session: AsyncSession, panellist: Panellist, page: int | None = None, now: datetime | None = None
) -> RatingPage:
    """Page ``page`` (1-based; None: where to resume) of the current round, with saved answers and feedback.

    A page number past the end shows the last page.  Raises :class:`ConsentNeeded` before consent and
    :class:`NoRoundOpen` before round 1.  A closed round loads too (read-only: ``overview.accepts_answers``).
    """
    now = now or utcnow()
    _require_consent(panellist)
    facts = await _facts(session, panellist)
    rnd = _require_round(facts)
    statements = await _statements(session, facts.statement_ids)
    pages = _pages(facts, {sid: s.section for sid, s in statements.items()})
    ov = await _overview_from(session, panellist, facts, now, pages)
    if not pages:
        raise fail(NoRoundOpen, N_("This round has no statements to rate yet."))
    number = ov.resume_page if page is None else min(max(page, 1), len(pages))
    spec = pages[number - 1]
    items = await _views(session, panellist, facts, spec.statement_ids, pages)
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
        agree_band=rules.agree_band(panel.rule, panel.scale_min, panel.scale_max),
        ask_reason=bool(panel.ask_reason_outside_iqr),
        k_min=panel.k_min,
    )


async def load_review(session: AsyncSession, panellist: Panellist, now: datetime | None = None) -> Review:
    """Every statement of the current round with the panellist's answers (read-only once the round closed)."""
    now = now or utcnow()
    _require_consent(panellist)
    facts = await _facts(session, panellist)
    _require_round(facts)
    statements = await _statements(session, facts.statement_ids)
    pages = _pages(facts, {sid: s.section for sid, s in statements.items()})
    ov = await _overview_from(session, panellist, facts, now, pages)
    items = await _views(session, panellist, facts, facts.statement_ids, pages)
    answered = {i.id for i in items if i.answered}
    return Review(
        overview=ov,
        scale=scale_of(facts.panel),
        pages=tuple(pages),
        items=tuple(items),
        missing=tuple(rules.unanswered(facts.statement_ids, answered)),
    )


@dataclass(frozen=True, slots=True)
class _WriteTarget:
    panel: Panel
    round_id: int
    round_number: int
    scale: Scale


async def _write_target(
    session: AsyncSession, panellist: Panellist, statement_ids: Iterable[int], now: datetime
) -> _WriteTarget:
    """Check that the panellist may write answers to ``statement_ids`` now; the panel and round to write to.

    Order of checks: consent, an open round, the closing time, then every statement in that round (a statement
    of another panel or round is "not in this round", whatever it is).  The transaction takes the write lock
    first (:func:`~delphi.db.locks.begin_write`; the round row's share lock on PostgreSQL), so a close commits
    either before these checks or after this transaction's write.
    """
    _require_consent(panellist)
    await begin_write(session)
    panel = await session.get(Panel, panellist.panel_id)
    if panel is None:
        raise fail(SessionEnded, N_("Please open the personal link in your e-mail to continue."))
    rnd = await current_round(session, panel.id, for_write=True)
    if rnd is None:
        raise fail(NoRoundOpen, N_("No round is open at the moment. We will e-mail you when one opens."))
    if not rules.round_accepts_answers(rnd.status, rnd.closes_at, now):
        raise fail(
            RoundClosed,
            N_("Round %(n)s has closed, so answers can no longer be changed. Thank you for taking part."),
            n=rnd.number,
        )
    wanted = set(statement_ids)
    if wanted:
        present = set(
            (
                await session.scalars(
                    select(RoundStatement.statement_id).where(
                        RoundStatement.round_id == rnd.id, RoundStatement.statement_id.in_(list(wanted))
                    )
                )
            ).all()
        )
        if wanted - present:
            raise fail(StatementNotInRound, N_("This statement is not part of the current round."))
    return _WriteTarget(panel, rnd.id, rnd.number, scale_of(panel))


def _dialect(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


async def save_rating(
    session: AsyncSession, panellist: Panellist, item: RatingInput, now: datetime | None = None
) -> SaveResult:
    """Save one statement's answer with one upsert, in the caller's transaction.

    The rating page's background saves are written in groups by :mod:`delphi.rounds.save_queue`, which applies
    the same checks; this is the path for whatever a group may not write, and it phrases the refusal.  Raises :class:`ConsentNeeded`, :class:`NoRoundOpen`, :class:`RoundClosed`, :class:`StatementNotInRound` or
    :class:`~delphi.errors.InvalidInput` (off the scale, text too long) before writing anything.
    """
    now = now or utcnow()
    target = await _write_target(session, panellist, [item.statement_id], now)
    clean = clean_input(item, target.scale)
    if isinstance(clean, list):
        raise fail_many(InvalidInput, clean)
    await session.execute(
        upsert_statement(_dialect(session), clean.shape),
        upsert_params(target.round_id, panellist.id, clean, now),
    )
    row = (
        await session.execute(
            select(Rating.value, Rating.unable).where(
                Rating.round_id == target.round_id,
                Rating.statement_id == item.statement_id,
                Rating.panellist_id == panellist.id,
            )
        )
    ).one()
    outside = False
    if target.panel.ask_reason_outside_iqr and row.value is not None:
        rnd = await session.get(Round, target.round_id)
        assert rnd is not None
        fb = await load_feedback(
            session, target.panel, rnd, panellist.id, [item.statement_id], comments=False
        )
        if item.statement_id in fb:
            pooled = fb[item.statement_id].pooled
            outside = rules.outside_iqr(row.value, pooled.q1, pooled.q3)
    return SaveResult(
        statement_id=item.statement_id,
        value=row.value,
        unable=bool(row.unable),
        outside_iqr=outside,
        progress=await _progress(session, target.round_id, panellist.id),
        saved_at=now,
    )


async def save_ratings(
    session: AsyncSession, panellist: Panellist, items: Sequence[RatingInput], now: datetime | None = None
) -> Progress:
    """Save a page of answers in the caller's transaction: all or nothing.

    Every item is checked first; any problem raises :class:`~delphi.errors.InvalidInput` with one issue per
    bad field (``s<id>``, ``c<id>``, ``r<id>``) and nothing is written.  Items with no answer and no text that
    have nothing saved yet are skipped (an untouched statement leaves no row).
    """
    now = now or utcnow()
    target = await _write_target(session, panellist, [i.statement_id for i in items], now)
    cleaned: list[CleanInput] = []
    issues: list[Issue] = []
    for item in items:
        result = clean_input(item, target.scale)
        if isinstance(result, list):
            issues.extend(result)
        else:
            cleaned.append(result)
    if issues:
        raise fail_many(InvalidInput, issues)
    existing = set(
        (
            await session.scalars(
                select(Rating.statement_id).where(
                    Rating.round_id == target.round_id,
                    Rating.panellist_id == panellist.id,
                    Rating.statement_id.in_([c.statement_id for c in cleaned]),
                )
            )
        ).all()
    )
    dialect = _dialect(session)
    for clean in cleaned:
        if clean.empty and clean.statement_id not in existing:
            continue
        await session.execute(
            upsert_statement(dialect, clean.shape), upsert_params(target.round_id, panellist.id, clean, now)
        )
    return await _progress(session, target.round_id, panellist.id)


# --- submitting ---------------------------------------------------------------------------------------------


async def _submission_count(session: AsyncSession, panellist_id: int) -> int:
    return int(
        await session.scalar(
            select(func.count()).select_from(Submission).where(Submission.panellist_id == panellist_id)
        )
        or 0
    )


def _receipt(
    panel: Panel, rnd: Round, submitted_at: datetime, progress: Progress, n_submitted: int, created: bool
) -> Receipt:
    fee = panel.honorarium_minor
    return Receipt(
        round_number=rnd.number,
        submitted_at=submitted_at,
        closes_at=rnd.closes_at,
        progress=progress,
        owed_round_minor=fee if fee else None,
        owed_total_minor=fee * n_submitted if fee else None,
        currency=panel.currency,
        created=created,
    )


async def submit(
    session: AsyncSession, panellist: Panellist, *, send_receipt: bool = True, now: datetime | None = None
) -> Receipt:
    """Mark the panellist's current round complete; idempotent.

    Requires consent, an open round and an answer (a rating or "unable") to every statement; missing answers
    raise :class:`~delphi.errors.InvalidInput` with one issue per statement (field ``s<id>``).  The first call
    inserts the Submission, writes a ``round.submitted`` audit event and (unless ``send_receipt`` is false)
    enqueues the receipt e-mail (dedupe key ``receipt:r<round id>:p<panellist id>``); later calls return the
    same receipt with ``created`` False.  Answers can still be changed until the round closes.
    """
    now = now or utcnow()
    target = await _write_target(session, panellist, [], now)
    facts = await _facts(session, panellist)
    rnd = _require_round(facts)
    answered = await _answered_ids(session, rnd.id, panellist.id)
    missing = rules.unanswered(facts.statement_ids, answered)
    if missing:
        statements = await _statements(session, missing)
        raise fail_many(
            InvalidInput,
            [
                Issue(
                    f"s{sid}",
                    N_("Rate “%(text)s”, or choose “%(unable)s”.")
                    if target.scale.allow_unable
                    else N_("Rate “%(text)s”."),
                    {
                        "text": _short(statements[sid].text) if sid in statements else str(sid),
                        "unable": target.scale.unable_label,
                    },
                )
                for sid in missing
            ],
        )
    dialect = _dialect(session)
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    stmt = (
        insert(Submission)
        .values(round_id=rnd.id, panellist_id=panellist.id, submitted_at=now)
        .on_conflict_do_nothing(index_elements=["round_id", "panellist_id"])
        .returning(Submission.id)
    )
    created = (await session.execute(stmt)).scalar_one_or_none() is not None
    submitted_at = await _submitted_at(session, rnd.id, panellist.id) or now
    progress = Progress(len(facts.statement_ids), len(facts.statement_ids))
    receipt = _receipt(
        facts.panel, rnd, submitted_at, progress, await _submission_count(session, panellist.id), created
    )
    if created:
        audit.record(
            session,
            actor=actor_of(panellist),
            action="round.submitted",
            panel_id=facts.panel.id,
            detail={"round": rnd.number, "panellist": panellist.pseudonym},
        )
        if send_receipt:
            await _enqueue_receipt(session, panellist, facts.panel, rnd, submitted_at)
    return receipt


def _short(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


async def _enqueue_receipt(
    session: AsyncSession, panellist: Panellist, panel: Panel, rnd: Round, submitted_at: datetime
) -> None:
    """Put the receipt e-mail in the outbox, in this transaction; nothing when the address was erased."""
    from delphi.mail.kinds import RECEIPT, receipt_context, receipt_key
    from delphi.mail.outbox import enqueue_mail

    if not panellist.email:
        return
    await enqueue_mail(
        session,
        RECEIPT,
        receipt_context(panel, rnd, panellist, submitted_at=submitted_at),
        to_address=panellist.email,
        dedupe_key=receipt_key(rnd.id, panellist.id),
        language=panellist.language,
        panel_id=panel.id,
        round_id=rnd.id,
        panellist_id=panellist.id,
    )


async def load_receipt(session: AsyncSession, panellist: Panellist) -> Receipt | None:
    """The receipt of the current round, or None when the panellist has not submitted it."""
    facts = await _facts(session, panellist)
    if facts.round is None:
        return None
    submitted_at = await _submitted_at(session, facts.round.id, panellist.id)
    if submitted_at is None:
        return None
    progress = await _progress(session, facts.round.id, panellist.id)
    return _receipt(
        facts.panel,
        facts.round,
        submitted_at,
        progress,
        await _submission_count(session, panellist.id),
        False,
    )


# --- suggestions --------------------------------------------------------------------------------------------


async def suggest(
    session: AsyncSession,
    panellist: Panellist,
    *,
    text: object,
    statement_id: int | None = None,
    section: object = "",
    now: datetime | None = None,
) -> Suggestion:
    """Record a suggestion: a new statement (``statement_id`` None) or a rewording of one in this round.

    Allowed while the round is open, in round 1 or when the panel takes suggestions later too; otherwise
    :class:`SuggestionsClosed`.  Raises :class:`~delphi.errors.InvalidInput` for empty or too long text.
    """
    now = now or utcnow()
    target = await _write_target(session, panellist, [statement_id] if statement_id is not None else [], now)
    if not rules.suggestions_allowed(target.round_number, target.panel.suggestions_after_round1):
        raise fail(SuggestionsClosed, N_("This panel is not taking suggestions in this round."))
    body = rules.clean_text(text, MAX_SUGGESTION, "text")
    where = rules.clean_text(section, 200, "section")
    issues = [x for x in (body, where) if isinstance(x, Issue)]
    if not issues and not body:
        issues.append(Issue("text", N_("Write your suggestion in the box.")))
    if issues:
        raise fail_many(InvalidInput, issues)
    row = Suggestion(
        panel_id=target.panel.id,
        round_id=target.round_id,
        panellist_id=panellist.id,
        kind=SuggestionKind.REWORDING if statement_id is not None else SuggestionKind.NEW,
        statement_id=statement_id,
        section=str(where),
        text=str(body),
        created_at=now,
    )
    session.add(row)
    await session.flush()
    audit.record(
        session,
        actor=actor_of(panellist),
        action="suggestion.created",
        panel_id=target.panel.id,
        detail={"suggestion_id": row.id, "kind": row.kind, "round": target.round_number},
    )
    return row


async def suggestable_statements(session: AsyncSession, panellist: Panellist) -> list[tuple[int, str]]:
    """``(id, text)`` of the current round's statements, in order, for the rewording choice."""
    facts = await _facts(session, panellist)
    statements = await _statements(session, facts.statement_ids)
    return [(sid, statements[sid].text) for sid in facts.statement_ids if sid in statements]


# --- final results ------------------------------------------------------------------------------------------


async def load_final_results(session: AsyncSession, panellist: Panellist) -> FinalResultsView:
    """The final consensus list of a finished panel as panellists may see it (disclosure control applied, see
    :mod:`delphi.rounds.final_shown`); :class:`NotFinished` before the end."""
    from delphi.rounds.final_shown import shown_final_list

    panel = await session.get(Panel, panellist.panel_id)
    if panel is None or panel.status != PanelStatus.FINISHED:
        raise fail(NotFinished, N_("The results will appear here when the panel has finished."))
    final = await shown_final_list(session, panel)
    n = await _submission_count(session, panellist.id)
    fee = panel.honorarium_minor
    return FinalResultsView(panel, final, n, fee * n if fee else None)
