"""API of the round aggregate: rounds, the monitoring of an open round, the frozen results of a closed one, and
what the round page does: schedule a round, open, close and remind it, finish the panel, review suggestions.

Each write calls the round page's use case (:mod:`delphi.web.rounds`), so the checks, the mail queued and the
audit events are the page's: a refused transition is a 409 problem whose ``actions`` are the blockers the page
lists, a schedule with bad dates a 422 listing every problem, and a failure that is nobody's fault a 503
(:class:`~delphi.errors.ActionFailed`, logged with its traceback, rolled back) rather than a 500.  Open, close,
remind and finish take an ``Idempotency-Key`` (:mod:`delphi.web.api.idempotency`): a retry with the same key
answers the first body and sends no mail twice.  Every write is for the panel's editors.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, TypeVar

import msgspec
from litestar import Request, Response, get, post, put
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import Account, Round
from delphi.domain import Actor
from delphi.errors import DelphiError, InvalidInput, PreconditionsUnmet
from delphi.panels import listing
from delphi.panels.imports import MAX_STATEMENT
from delphi.results import monitoring, round_results
from delphi.results.frame import Frame, load_frame
from delphi.results.scope_row import FROZEN_FIGURES
from delphi.rounds import moderation, previews, schedule, transitions
from delphi.rounds.lookup import get_round as find_round
from delphi.settings import Settings
from delphi.web import schemas
from delphi.web.api.idempotency import IdempotencyKeyHeader, once
from delphi.web.api.panels import panel_schema
from delphi.web.api.problems import CONFLICT, PROBLEMS, problem_spec
from delphi.web.guards import EDITORS_ONLY, PanelAccess
from delphi.web.schemas import MAX_ID, RoundNumber, RowId

log = logging.getLogger("delphi.web")

_T = TypeVar("_T")

REFUSED = {
    409: problem_spec(
        "Not possible in the round's or the panel's current state; `actions` lists what to do first."
    )
}
FAILED = {
    503: problem_spec("An unexpected problem on the server; nothing was changed. Try again in a few minutes.")
}
SCHEDULE_INVALID = {
    422: problem_spec("The dates or reminders cannot be accepted; `errors` lists every problem at once.")
}
REVIEW_INVALID = {
    422: problem_spec("The decision cannot be carried out as sent (e.g. merge without `merge_into`).")
}

#: Reminder offsets the use case accepts: 1 hour to 90 days before the closing date (checked with the dates).
MAX_REMINDERS = 20


def round_schema(frame: Frame, r: Round) -> schemas.Round:
    return schemas.Round(
        number=r.number,
        status=r.status,
        opens_at=r.opens_at,
        closes_at=r.closes_at,
        opened_at=r.opened_at,
        closed_at=r.closed_at,
        statements=frame.asked(r.number),
        reminder_hours=[int(h) for h in r.reminder_offsets_hours or []],
    )


def scope_schema(s: round_results.ScopeFigures) -> schemas.ScopeResult:
    return schemas.ScopeResult(
        scope=s.scope,
        group_id=s.group_id,
        name=s.name,
        **{name: getattr(s, name) for name in FROZEN_FIGURES},
        counts=list(s.counts),
        suppressed=s.suppressed,
        shown_to_panellists=s.shown_to_panellists,
    )


def statement_result(r: round_results.StatementResult) -> schemas.StatementResult:
    return schemas.StatementResult(
        statement_id=r.statement_id,
        version=r.version,
        section=r.section,
        text=r.text,
        verdict=r.verdict,
        flags=sorted(r.flags),
        lived_experience_split=r.lived_split,
        sensitivity=r.sensitivity,
        divergence_test=r.divergence_test,
        divergence_p=r.divergence_p,
        stability=r.stability,
        pooled=scope_schema(r.pooled) if r.pooled else None,
        groups=[scope_schema(g) for g in r.groups],
    )


@get("/panels/{panel_id:int}/rounds", responses=PROBLEMS, summary="Rounds with their dates and statements")
async def list_rounds(panel_access: PanelAccess, db_session: AsyncSession) -> list[schemas.Round]:
    frame = await load_frame(db_session, panel_access.panel)
    return [round_schema(frame, r) for r in frame.rounds]


@get("/panels/{panel_id:int}/rounds/{number:int}", responses=PROBLEMS, summary="One round")
async def get_round(
    panel_access: PanelAccess, number: RoundNumber, db_session: AsyncSession
) -> schemas.Round:
    frame = await load_frame(db_session, panel_access.panel)
    r = frame.round_numbered(number)
    return round_schema(frame, r)


@get(
    "/panels/{panel_id:int}/rounds/{number:int}/monitor",
    responses={**PROBLEMS, **CONFLICT},
    summary="Response per group, and who has not submitted (no ratings, no e-mails)",
)
async def get_monitor(
    panel_access: PanelAccess, number: RoundNumber, db_session: AsyncSession
) -> schemas.Monitor:
    frame = await load_frame(db_session, panel_access.panel)
    round_ = frame.monitored_round(number)
    progress = await monitoring.load_progress(db_session, round_)
    return schemas.Monitor(
        round=round_.number,
        status=round_.status,
        groups=[
            schemas.GroupProgress(
                g.group_id,
                g.name,
                g.invited,
                g.opened,
                g.started,
                g.submitted,
                g.bounced,
                g.withdrawn,
                g.response_rate,
            )
            for g in monitoring.summarise(progress, frame.groups)
        ],
        awaiting=[
            schemas.Awaiting(p.pseudonym, p.group_id, p.opened, p.started, p.answers, p.last_activity)
            for p in monitoring.awaiting(progress)
        ],
    )


@get(
    "/panels/{panel_id:int}/rounds/{number:int}/results",
    responses={**PROBLEMS, **CONFLICT},
    summary="Frozen results of a closed round, per statement, pooled and per group",
)
async def get_results(
    panel_access: PanelAccess, number: RoundNumber, db_session: AsyncSession
) -> schemas.RoundResults:
    frame = await load_frame(db_session, panel_access.panel)
    round_ = frame.closed_round(number)
    results = await round_results.load_round_results(db_session, round_, frame.groups, frame.panel.k_min)
    return schemas.RoundResults(
        round=number,
        rule=frame.rule.describe() if frame.rule else "",
        analysis_population=frame.panel.analysis_population,
        k_min=frame.panel.k_min,
        statements=[statement_result(r) for r in results],
    )


# --- writes: the round page's actions -------------------------------------------------------------------------


class Schedule(msgspec.Struct, forbid_unknown_fields=True):
    """A round's dates and reminders, as the round page's schedule form sets them.

    Times are ISO 8601; one without an offset is read as UTC.  An open round keeps its opening date (what is
    sent as ``opens_at`` is ignored) and may move its closing date and reminders; a closed round takes none."""

    closes_at: Annotated[
        datetime | None, msgspec.Meta(description="When the round closes; required, in the future.")
    ] = None
    opens_at: Annotated[
        datetime | None,
        msgspec.Meta(description="When the round opens by itself; null: when a facilitator opens it."),
    ] = None
    reminder_hours: Annotated[
        list[int],
        msgspec.Meta(
            max_length=MAX_REMINDERS,
            description="Hours before the closing date at which reminders go, each 1 to 2160 (90 days); "
            "duplicates count once.",
        ),
    ] = msgspec.field(default_factory=list)


class Reminder(msgspec.Struct, forbid_unknown_fields=True):
    """A reminder now to everyone who has not sent the round."""

    even_if_recent: Annotated[
        bool,
        msgspec.Meta(
            description="Send even though the last reminder went less than 12 hours ago (refused, 409, "
            "without it)."
        ),
    ] = False


class ReminderQueued(msgspec.Struct):
    """The reminder queued: ``queued`` mails, to ``not_started`` panellists who had saved nothing and
    ``started`` ones who had saved answers without sending them."""

    queued: int
    not_started: int
    started: int


class Suggestion(msgspec.Struct):
    """A panellist's suggestion awaiting review (no panellist named): a new statement, or a rewording of the
    statement ``statement_id`` (``original``: its wording), made in round ``round``."""

    id: int
    round: int
    kind: Literal["new", "rewording"]
    section: str
    text: str
    statement_id: int | None
    original: str | None
    created_at: datetime


class Review(msgspec.Struct, forbid_unknown_fields=True):
    """The decision on a suggestion: ``accept`` it into the draft round (as a new statement, or as a rewording
    of its statement), with ``text`` as its wording when given; ``merge`` it into the statement
    ``merge_into``; or ``reject`` it."""

    decision: Literal["accept", "merge", "reject"]
    text: (
        Annotated[
            str,
            msgspec.Meta(
                description="The wording to accept (default: the panellist's).", max_length=MAX_STATEMENT
            ),
        ]
        | None
    ) = None
    merge_into: Annotated[int, msgspec.Meta(ge=1, le=MAX_ID)] | None = None


class Reviewed(msgspec.Struct):
    """The suggestion's new ``status`` (accepted, merged, rejected) and ``statement_id``: the statement it
    became or was merged into (null when rejected)."""

    suggestion_id: int
    status: str
    statement_id: int | None


def _utc(value: datetime | None, field: str) -> datetime | None:
    """``value`` in UTC (a time without an offset is taken as UTC, as on the page); InvalidInput when the
    offset moves it out of the calendar."""
    if value is None:
        return None
    try:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except OverflowError:
        raise InvalidInput("Enter a date and time between the years 1 and 9999.", field=field) from None


async def _guarded(what: str, panel_id: int, act: Callable[[], Awaitable[_T]]) -> _T:
    """``act()``; a DelphiError goes through as the refusal it is, any other failure is logged with its
    traceback and becomes :func:`_unexpected` (the transaction is rolled back with the error answer)."""
    try:
        return await act()
    except DelphiError:
        raise
    except Exception:
        log.exception("panel %s: %s failed", panel_id, what)
        raise transitions.unexpected_failure(what) from None


async def _round_answer(session: AsyncSession, access: PanelAccess, number: int) -> schemas.Round:
    """Round ``number`` as it stands after the change (flushed first)."""
    await session.flush()
    frame = await load_frame(session, access.panel)
    return round_schema(frame, frame.round_numbered(number))


@put(
    "/panels/{panel_id:int}/rounds/{number:int}/schedule",
    responses={**PROBLEMS, **CONFLICT, **SCHEDULE_INVALID},
    summary="Set a round's opening and closing dates and its reminders (facilitators)",
)
async def put_schedule(
    panel_access: PanelAccess,
    number: RoundNumber,
    data: Schedule,
    db_session: AsyncSession,
    account: Account,
) -> schemas.Round:
    """The round page's schedule form: every problem with the dates and reminders at once (422), a closed
    round refused (409)."""
    panel = panel_access.panel
    round_ = await find_round(db_session, panel, number)
    opens_at, closes_at = _utc(data.opens_at, "opens_at"), _utc(data.closes_at, "closes_at")
    try:
        await schedule.set_schedule(
            db_session,
            panel,
            round_,
            opens_at=opens_at,
            closes_at=closes_at,
            reminder_hours=sorted(set(data.reminder_hours), reverse=True),
            actor=Actor.account(account),
        )
    except InvalidInput as exc:  # the page's form field is "reminders", this body's "reminder_hours"
        errors = [("reminder_hours" if f == "reminders" else f, m) for f, m in exc.errors]
        raise InvalidInput(exc.message, field=errors[0][0], errors=errors) from None
    return await _round_answer(db_session, panel_access, number)


async def _transition(
    request: Request,
    session: AsyncSession,
    settings: Settings,
    access: PanelAccess,
    account: Account,
    key: str | None,
    number: int,
    verb: str,
    use_case: Callable[..., Awaitable[Any]],
) -> Response[schemas.Round]:
    """Run ``use_case`` (:func:`transitions.open_round` or :func:`transitions.close_round`) on round
    ``number`` once per ``key`` and answer the round as it stands after it."""
    panel = access.panel

    async def run() -> schemas.Round:
        async def act() -> schemas.Round:
            round_ = await find_round(session, panel, number)
            await use_case(session, panel, round_, settings=settings, actor=Actor.account(account))
            return await _round_answer(session, access, number)

        return await _guarded(f"{verb} round {number}", panel.id, act)

    return await once(request, session, account, key, 200, run)


@post(
    "/panels/{panel_id:int}/rounds/{number:int}/open",
    status_code=200,
    responses={**PROBLEMS, **REFUSED, **FAILED},
    summary="Open a draft round and queue its invitations (facilitators)",
)
async def open_round(
    panel_access: PanelAccess,
    number: RoundNumber,
    request: Request,
    db_session: AsyncSession,
    settings: Settings,
    account: Account,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Response[schemas.Round]:
    """Opens the round now, locks the consensus rule at round 1 and queues one invitation per invitable
    panellist; 409 with ``actions`` = what the round page lists as stopping it."""
    return await _transition(
        request,
        db_session,
        settings,
        panel_access,
        account,
        idempotency_key,
        number,
        "open",
        transitions.open_round,
    )


@post(
    "/panels/{panel_id:int}/rounds/{number:int}/close",
    status_code=200,
    responses={**PROBLEMS, **REFUSED, **FAILED},
    summary="Close an open round: freeze its results and draft the next round or finish (facilitators)",
)
async def close_round(
    panel_access: PanelAccess,
    number: RoundNumber,
    request: Request,
    db_session: AsyncSession,
    settings: Settings,
    account: Account,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Response[schemas.Round]:
    """Closes the round now: its results are frozen (``GET .../results``), and the next round is drafted or,
    after the last, the panel finishes and mails the final results; 409 with ``actions`` when it cannot."""
    return await _transition(
        request,
        db_session,
        settings,
        panel_access,
        account,
        idempotency_key,
        number,
        "close",
        transitions.close_round,
    )


def _too_soon(exc: schedule.ReminderTooSoon) -> PreconditionsUnmet:
    """The 409 for a reminder within :data:`~delphi.rounds.previews.REMINDER_INTERVAL` of the last, saying
    when that one went and to how many."""
    p = exc.preview
    hours = int(previews.REMINDER_INTERVAL.total_seconds() // 3600)
    when = p.last_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if p.last_at else "recently"
    return PreconditionsUnmet(
        f"The last reminder for round {p.round_number} went at {when} to {previews.people(p.last_count)}, "
        f"less than {hours} hours ago; nothing was sent.",
        [
            f"Wait until {hours} hours have passed since the last reminder, or send the request again with "
            '"even_if_recent": true to send another now (the same people get a second e-mail).'
        ],
    )


@post(
    "/panels/{panel_id:int}/rounds/{number:int}/remind",
    status_code=200,
    responses={**PROBLEMS, **REFUSED, **FAILED},
    summary="Remind everyone who has not sent an open round, now (facilitators)",
)
async def remind(
    panel_access: PanelAccess,
    number: RoundNumber,
    data: Reminder,
    request: Request,
    db_session: AsyncSession,
    settings: Settings,
    account: Account,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Response[ReminderQueued]:
    """Queues a reminder to the invitable panellists who have not sent the round.  Within 12 hours of the
    last manual reminder it is refused (409, saying when that one went) unless ``even_if_recent``; even then
    it confirms only that last reminder, so two requests at once still send one more, not two (the second is
    refused, as on the page)."""
    panel = panel_access.panel

    async def run() -> ReminderQueued:
        async def act() -> ReminderQueued:
            round_ = await find_round(db_session, panel, number)
            seen = schedule.reminder_stamp(round_.reminded_at) if data.even_if_recent else None
            try:
                sent = await schedule.send_reminder_now(
                    db_session,
                    panel,
                    round_,
                    settings=settings,
                    actor=Actor.account(account),
                    confirmed_after=seen,
                )
            except schedule.ReminderTooSoon as exc:
                raise _too_soon(exc) from None
            await db_session.flush()
            return ReminderQueued(sent.queued, sent.not_started, sent.started)

        return await _guarded(f"send the reminder for round {number}", panel.id, act)

    return await once(request, db_session, account, idempotency_key, 200, run)


@post(
    "/panels/{panel_id:int}/finish",
    status_code=200,
    responses={**PROBLEMS, **REFUSED, **FAILED},
    summary="Finish the panel and mail the final results (facilitators)",
)
async def finish(
    panel_access: PanelAccess,
    request: Request,
    db_session: AsyncSession,
    settings: Settings,
    account: Account,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Response[schemas.Panel]:
    """Finishes the panel: draft rounds are deleted, active panellists marked completed and the final results
    mailed to every invitable panellist; 409 while a round is open (``actions``) or once finished."""
    panel = panel_access.panel

    async def run() -> schemas.Panel:
        async def act() -> schemas.Panel:
            await transitions.finish_panel(db_session, panel, settings=settings, actor=Actor.account(account))
            await db_session.flush()
            return panel_schema(panel, panel_access.role)

        return await _guarded("finish the panel", panel.id, act)

    return await once(request, db_session, account, idempotency_key, 200, run)


@get(
    "/panels/{panel_id:int}/suggestions",
    opt=EDITORS_ONLY,
    responses=PROBLEMS,
    summary="Panellists' suggestions awaiting review, oldest first (facilitators)",
)
async def list_suggestions(panel_access: PanelAccess, db_session: AsyncSession) -> list[Suggestion]:
    """What the draft round's page lists for review: every pending suggestion of the panel."""
    numbers = {r.id: r.number for r in await listing.rounds_of(db_session, panel_access.panel.id)}
    return [
        Suggestion(
            id=s.id,
            round=numbers[s.round_id],
            kind=s.kind,
            section=s.section,
            text=s.text,
            statement_id=s.statement_id,
            original=original,
            created_at=s.created_at,
        )
        for s, original in await listing.pending_suggestions(db_session, panel_access.panel.id)
    ]


@post(
    "/panels/{panel_id:int}/suggestions/{suggestion_id:int}",
    status_code=200,
    responses={**PROBLEMS, **CONFLICT, **REVIEW_INVALID},
    summary="Accept, merge or reject a suggestion (facilitators)",
)
async def review_suggestion(
    panel_access: PanelAccess,
    suggestion_id: RowId,
    data: Review,
    db_session: AsyncSession,
    account: Account,
) -> Reviewed:
    """The round page's review: an accepted suggestion enters the draft round with its provenance (409 when
    no round is being drafted, or when the suggestion was reviewed already)."""
    panel = panel_access.panel
    made = await moderation.review_suggestion(
        db_session,
        panel,
        suggestion_id,
        data.decision,
        Actor.account(account),
        text=None if data.text is None else data.text.replace("\x00", ""),  # as the page's form reads it
        merge_into=data.merge_into,
    )
    await db_session.flush()
    status = {"accept": "accepted", "merge": "merged", "reject": "rejected"}[data.decision]
    target = made.id if made is not None else (data.merge_into if data.decision == "merge" else None)
    return Reviewed(suggestion_id, status, target)


HANDLERS: list[Any] = [
    list_rounds,
    get_round,
    get_monitor,
    get_results,
    put_schedule,
    open_round,
    close_round,
    remind,
    finish,
    list_suggestions,
    review_suggestion,
]
