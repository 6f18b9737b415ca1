"""The JSON API under ``/api/v1``: panels, groups, statements, panellists, rounds, results and exports.

Authentication: the session cookie of a signed-in account, or ``Authorization: Bearer <token>`` with a per-account
API token (created and revoked on ``/account/tokens``). A wrong or revoked token is a 401 even when a session
cookie is present too. The CSRF middleware skips ``/api/``, so a state-changing request authenticated by the
session cookie must carry the CSRF cookie's token in ``x-csrftoken`` (403 otherwise); token requests need none.

Authorization is the pages': :func:`delphi.web.guards.load_panel` with READERS for reading and EDITORS for
moderating; e-mail addresses appear for the panel's owner only. Every error is an ``application/problem+json``
body (:mod:`delphi.web.errors`).
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Any

import msgspec
from litestar import Request, Response, Router, get, put
from litestar.di import Provide
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.middleware.csrf import CSRF_SECRET_LENGTH, generate_csrf_hash
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import OpenAPIMediaType, Operation, Schema
from litestar.openapi.spec.enums import OpenAPIFormat, OpenAPIType
from sqlalchemy.ext.asyncio import AsyncSession

from delphi import accounts
from delphi.db.models import Account, Panel, Round
from delphi.domain import Actor, CommentStatus, PanelRole
from delphi.errors import NotFound
from delphi.panels import listing
from delphi.panels.settings import SETTINGS, Form
from delphi.results import attrition, comments, exports, monitoring, reasons, report, round_results
from delphi.results.frame import Frame, load_frame, rule_of
from delphi.results.scope_row import FROZEN_FIGURES
from delphi.rounds import moderation
from delphi.rounds.final import final_consensus_list
from delphi.web import schemas
from delphi.web.deps import optional_account
from delphi.web.guards import EDITORS, OWNERS, READERS, load_panel, visible_panels
from delphi.web.results import (
    closed_round,
    export_response,
    monitored_round,
)
from delphi.web.schemas import ExportFile, PanelId, RoundNumber, RowId

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
AUTH_STATE_KEY = "api_auth"


class Problem(msgspec.Struct):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str


def _problem(description: str) -> ResponseSpec:
    return ResponseSpec(Problem, description=description, media_type="application/problem+json")


PROBLEMS = {
    400: _problem("A path parameter, query parameter or the body is not valid; `errors` says which."),
    401: _problem("Not signed in, or the API token is wrong or revoked."),
    403: _problem("Your role on this panel does not allow this, or the CSRF header is missing."),
    404: _problem("No such panel (or no access to it), round or item."),
}
CONFLICT = {409: _problem("Not available in the current state, e.g. a round that has not closed.")}


# --- authentication ----------------------------------------------------------------------------------------------


def csrf_header_valid(request: Request) -> bool:
    """True when ``x-csrftoken`` carries the same signed token as the CSRF cookie (Litestar's format)."""
    config = request.app.csrf_config
    if config is None:
        return True
    header = request.headers.get(config.header_name) or ""
    cookie = request.cookies.get(config.cookie_name) or ""

    def secret_of(token: str) -> str | None:
        if len(token) <= CSRF_SECRET_LENGTH:
            return None
        secret, signature = token[:CSRF_SECRET_LENGTH], token[CSRF_SECRET_LENGTH:]
        expected = generate_csrf_hash(token=secret, secret=config.secret)
        return secret if hmac.compare_digest(signature, expected) else None

    a, b = secret_of(header), secret_of(cookie)
    return a is not None and b is not None and hmac.compare_digest(a, b)


def bearer_token(request: Request) -> str | None:
    """The token of an ``Authorization: Bearer ...`` header; "" for a malformed one; None without the header."""
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, token = header.strip().partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


async def provide_api_account(request: Request, db_session: AsyncSession) -> Account:
    """The account behind an API request: its bearer token, else its session cookie (with the CSRF rule)."""
    token = bearer_token(request)
    if token is not None:
        account = await accounts.account_for_token(db_session, token) if token else None
        if account is None:
            raise NotAuthorizedException(
                "The API token is wrong or has been revoked. Create a new one on /account/tokens.",
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        request.state[AUTH_STATE_KEY] = "token"
        return account
    account = await optional_account(request, db_session)
    if account is None:
        raise NotAuthorizedException(
            "Sign in, or send an API token as 'Authorization: Bearer <token>'.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if request.method not in SAFE_METHODS and not csrf_header_valid(request):
        raise PermissionDeniedException(
            "A change made with the session cookie must send the anti-forgery token (the delphi_csrf cookie's "
            "value) in the x-csrftoken header; or authenticate with an API token instead."
        )
    request.state[AUTH_STATE_KEY] = "session"
    return account


# --- converters ----------------------------------------------------------------------------------------------------


def _setting_values(p: Panel) -> dict[str, Any]:
    """The panel's settings the API shows (``api`` in :data:`delphi.panels.settings.SETTINGS`), by name: scale
    labels as a list of strings, an empty rule as None, everything else as stored."""
    out: dict[str, Any] = {}
    for s in SETTINGS:
        if s.api:
            value = getattr(p, s.name)
            if s.form is Form.LINES:
                value = [str(x) for x in value or []]
            elif s.form is Form.RULE:
                value = value or None
            out[s.name] = value
    return out


def panel_schema(frame: Frame, role: PanelRole) -> schemas.Panel:
    p = frame.panel
    rule = rule_of(p)
    return schemas.Panel(
        id=p.id,
        status=p.status,
        role=role.value,
        rule_text=rule.describe() if rule else "",
        rule_locked_at=p.rule_locked_at,
        rule_changed_after_lock=p.rule_changed_after_lock,
        created_at=p.created_at,
        finished_at=p.finished_at,
        **_setting_values(p),
    )


def round_schema(frame: Frame, r: Round) -> schemas.Round:
    return schemas.Round(
        number=r.number,
        status=r.status,
        opens_at=r.opens_at,
        closes_at=r.closes_at,
        opened_at=r.opened_at,
        closed_at=r.closed_at,
        statements=frame.asked(r.number),
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


def comment_schema(c: comments.Comment) -> schemas.Comment:
    return schemas.Comment(c.rating_id, c.statement_id, c.pseudonym, c.group_id, c.text, c.status)


def reason_schema(r: reasons.Reason) -> schemas.Reason:
    return schemas.Reason(
        r.rating_id, r.statement_id, r.pseudonym, r.group_id, r.value, r.unable, r.text, r.status
    )


async def _frame(session: AsyncSession, account: Account, panel_id: int) -> tuple[Frame, PanelRole]:
    panel, role = await load_panel(session, account, panel_id, READERS)
    return await load_frame(session, panel), role


# --- handlers ------------------------------------------------------------------------------------------------------


@get("/me", responses=PROBLEMS, summary="The account making the request")
async def me(request: Request, account: Account) -> schemas.Me:
    how = request.state.get(AUTH_STATE_KEY, "session")
    return schemas.Me(account.id, account.email, account.name, account.role, how)


@get("/panels", responses=PROBLEMS, summary="Panels you can see, newest first")
async def list_panels(db_session: AsyncSession, account: Account) -> list[schemas.PanelSummary]:
    return [
        schemas.PanelSummary(p.id, p.title, p.status, role.value, p.created_at)
        for p, role in await visible_panels(db_session, account)
    ]


@get("/panels/{panel_id:int}", responses=PROBLEMS, summary="A panel and its settings")
async def get_panel(panel_id: PanelId, db_session: AsyncSession, account: Account) -> schemas.Panel:
    frame, role = await _frame(db_session, account, panel_id)
    return panel_schema(frame, role)


@get("/panels/{panel_id:int}/groups", responses=PROBLEMS, summary="Stakeholder groups, in display order")
async def list_groups(panel_id: PanelId, db_session: AsyncSession, account: Account) -> list[schemas.Group]:
    await load_panel(db_session, account, panel_id, READERS)
    rows = await listing.groups_with_counts(db_session, panel_id)
    return [schemas.Group(g.id, g.name, g.is_lived_experience, g.position, n) for g, n in rows]


@get("/panels/{panel_id:int}/statements", responses=PROBLEMS, summary="Every statement and rewording")
async def list_statements(
    panel_id: PanelId, db_session: AsyncSession, account: Account
) -> list[schemas.Statement]:
    await load_panel(db_session, account, panel_id, READERS)
    return [
        schemas.Statement(
            s.id,
            s.section,
            s.text,
            s.position,
            s.version,
            s.parent_id,
            s.origin,
            s.origin_round,
            s.status,
            s.status_round,
        )
        for s in await listing.statements_of(db_session, panel_id)
    ]


@get(
    "/panels/{panel_id:int}/panellists",
    responses=PROBLEMS,
    summary="Panellists by pseudonym (e-mail and name for the owner only)",
)
async def list_panellists(
    panel_id: PanelId, db_session: AsyncSession, account: Account
) -> list[schemas.Panellist]:
    _, role = await load_panel(db_session, account, panel_id, READERS)
    owner = role in OWNERS
    return [
        schemas.Panellist(pseudonym, group_id, status, email if owner else None, name if owner else None)
        for pseudonym, group_id, status, email, name in await listing.panellist_rows(db_session, panel_id)
    ]


@get("/panels/{panel_id:int}/rounds", responses=PROBLEMS, summary="Rounds with their dates and statements")
async def list_rounds(panel_id: PanelId, db_session: AsyncSession, account: Account) -> list[schemas.Round]:
    frame, _ = await _frame(db_session, account, panel_id)
    return [round_schema(frame, r) for r in frame.rounds]


@get("/panels/{panel_id:int}/rounds/{number:int}", responses=PROBLEMS, summary="One round")
async def get_round(
    panel_id: PanelId, number: RoundNumber, db_session: AsyncSession, account: Account
) -> schemas.Round:
    frame, _ = await _frame(db_session, account, panel_id)
    r = frame.round_by_number(number)
    if r is None:
        raise NotFound(f"This panel has no round {number}.")
    return round_schema(frame, r)


@get(
    "/panels/{panel_id:int}/rounds/{number:int}/monitor",
    responses={**PROBLEMS, **CONFLICT},
    summary="Response per group, and who has not submitted (no ratings, no e-mails)",
)
async def get_monitor(
    panel_id: PanelId, number: RoundNumber, db_session: AsyncSession, account: Account
) -> schemas.Monitor:
    frame, _ = await _frame(db_session, account, panel_id)
    round_ = monitored_round(frame, number)
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
    panel_id: PanelId, number: RoundNumber, db_session: AsyncSession, account: Account
) -> schemas.RoundResults:
    frame, _ = await _frame(db_session, account, panel_id)
    round_ = closed_round(frame, number)
    results = await round_results.load_round_results(db_session, round_, frame.groups, frame.panel.k_min)
    return schemas.RoundResults(
        round=number,
        rule=frame.rule.describe() if frame.rule else "",
        analysis_population=frame.panel.analysis_population,
        k_min=frame.panel.k_min,
        statements=[
            schemas.StatementResult(
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
            for r in results
        ],
    )


async def _moderate(
    db_session: AsyncSession,
    account: Account,
    panel_id: int,
    number: int,
    rating_id: int,
    what: str,
    data: schemas.Moderation,
) -> None:
    """Publish or hide a rating's ``what`` (``"comment"`` or ``"reason"``) as ``data`` asks (editors only)."""
    panel, _ = await load_panel(db_session, account, panel_id, EDITORS)
    publish = data.status == CommentStatus.PUBLISHED
    await moderation.moderate(db_session, panel, number, rating_id, what, publish, Actor.account(account))


@get(
    "/panels/{panel_id:int}/rounds/{number:int}/comments",
    responses=PROBLEMS,
    summary="Comments of a round (researchers: published ones only)",
)
async def list_comments(
    panel_id: PanelId, number: RoundNumber, db_session: AsyncSession, account: Account
) -> list[schemas.Comment]:
    frame, role = await _frame(db_session, account, panel_id)
    round_ = frame.round_by_number(number)
    if round_ is None:
        raise NotFound(f"This panel has no round {number}.")
    rows = await comments.load_comments(db_session, round_.id, published_only=role not in EDITORS)
    return [comment_schema(c) for c in rows]


@put(
    "/panels/{panel_id:int}/rounds/{number:int}/comments/{rating_id:int}",
    responses={**PROBLEMS, **CONFLICT},
    summary="Publish or hide a comment (facilitators)",
)
async def moderate(
    panel_id: PanelId,
    number: RoundNumber,
    rating_id: RowId,
    data: schemas.Moderation,
    db_session: AsyncSession,
    account: Account,
) -> schemas.Comment:
    await _moderate(db_session, account, panel_id, number, rating_id, "comment", data)
    await db_session.flush()
    comment = await comments.load_comment(db_session, rating_id)
    assert comment is not None  # moderation.moderate found it
    return comment_schema(comment)


@get(
    "/panels/{panel_id:int}/rounds/{number:int}/reasons",
    responses={**PROBLEMS, **CONFLICT},
    summary="Reasons for ratings outside the previous round's middle half, in a closed round "
    "(researchers: published ones only)",
)
async def list_reasons(
    panel_id: PanelId, number: RoundNumber, db_session: AsyncSession, account: Account
) -> list[schemas.Reason]:
    """The access of the round's results page: readers of the panel, once the round has closed."""
    frame, role = await _frame(db_session, account, panel_id)
    round_ = closed_round(frame, number)
    rows = await reasons.load_reasons(db_session, round_.id, published_only=role not in EDITORS)
    return [reason_schema(r) for r in rows]


@put(
    "/panels/{panel_id:int}/rounds/{number:int}/reasons/{rating_id:int}",
    responses={**PROBLEMS, **CONFLICT},
    summary="Publish or hide a reason (facilitators)",
)
async def moderate_reason_api(
    panel_id: PanelId,
    number: RoundNumber,
    rating_id: RowId,
    data: schemas.Moderation,
    db_session: AsyncSession,
    account: Account,
) -> schemas.Reason:
    await _moderate(db_session, account, panel_id, number, rating_id, "reason", data)
    await db_session.flush()
    reason = await reasons.load_reason(db_session, rating_id)
    assert reason is not None  # moderation.moderate found it
    return reason_schema(reason)


@get("/panels/{panel_id:int}/attrition", responses=PROBLEMS, summary="Participant flow and attrition check")
async def get_attrition(panel_id: PanelId, db_session: AsyncSession, account: Account) -> schemas.Attrition:
    frame, _ = await _frame(db_session, account, panel_id)
    subs = await attrition.load_submissions(db_session, panel_id)
    members = await attrition.load_membership(db_session, panel_id)
    flow = attrition.participant_flow(members, subs, frame.rounds, frame.groups)
    bias = await report.bias_rows(db_session, frame)
    return schemas.Attrition(
        rounds=list(flow.rounds),
        open_rounds=sorted(flow.open_rounds),
        flow=[
            schemas.FlowRow(r.group_id, r.name, r.invited, list(r.responded), list(r.retained))
            for r in flow.rows
        ],
        bias=[
            schemas.BiasRow(
                b.round,
                b.statement_id,
                b.n_dropouts,
                b.median_dropouts,
                b.pct_agree_dropouts,
                b.n_completers,
                b.median_completers,
                b.pct_agree_completers,
                b.difference,
                b.p_value,
            )
            for b in bias
        ],
    )


@get("/panels/{panel_id:int}/final", responses=PROBLEMS, summary="The final consensus list")
async def get_final(panel_id: PanelId, db_session: AsyncSession, account: Account) -> schemas.FinalList:
    panel, _ = await load_panel(db_session, account, panel_id, READERS)
    final = await final_consensus_list(db_session, panel_id)
    return schemas.FinalList(
        rounds_closed=final.rounds_closed,
        analysis_population=panel.analysis_population,
        statements=[
            schemas.FinalStatement(
                statement_id=s.statement_id,
                section=s.section,
                text=s.text,
                verdict=s.verdict,
                consensus_round=s.consensus_round,
                last_round=s.last_round,
                rounds=list(s.rounds),
                earlier_texts=list(s.earlier_texts),
                n=s.figures.n if s.figures else None,
                median=s.figures.median if s.figures else None,
                iqr=s.figures.iqr if s.figures else None,
                pct_agree=s.figures.pct_agree if s.figures else None,
                pct_disagree=s.figures.pct_disagree if s.figures else None,
            )
            for s in final.statements
        ],
    )


@get("/panels/{panel_id:int}/exports", responses=PROBLEMS, summary="Exports you may download")
async def list_exports(panel_id: PanelId, db_session: AsyncSession, account: Account) -> list[schemas.Export]:
    frame, role = await _frame(db_session, account, panel_id)
    has_results = frame.last_closed is not None
    base = f"/api/v1/panels/{panel_id}/exports"
    return [
        schemas.Export(
            name=s.name,
            title=s.title,
            description=s.description,
            formats=list(s.formats),
            urls={f: f"{base}/{s.name}.{f}" for f in s.formats},
            available=has_results or not s.needs_results,
        )
        for s in exports.available(role)
    ]


@dataclass
class ExportOperation(Operation):
    """Documents the export's 200 answer in every format it can take."""

    def __post_init__(self) -> None:
        ok = (self.responses or {}).get("200")
        if ok is not None and not isinstance(ok, dict) and hasattr(ok, "content"):
            binary = Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY)
            ok.description = "The file: CSV, XLSX or JSON as the extension says."
            ok.content = {
                "text/csv": OpenAPIMediaType(schema=Schema(type=OpenAPIType.STRING)),
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": OpenAPIMediaType(
                    schema=binary
                ),
                "application/json": OpenAPIMediaType(schema=Schema(type=OpenAPIType.OBJECT)),
            }


@get(
    "/panels/{panel_id:int}/exports/{filename:str}",
    responses={**PROBLEMS, **CONFLICT, 400: _problem("A format the export does not come in.")},
    summary="Download an export, e.g. final-list.csv",
    operation_class=ExportOperation,
)
async def download_export(
    panel_id: PanelId, filename: ExportFile, db_session: AsyncSession, account: Account
) -> Response[bytes]:
    frame, role = await _frame(db_session, account, panel_id)
    return await export_response(db_session, frame, role, filename)


HANDLERS: list[Any] = [
    me,
    list_panels,
    get_panel,
    list_groups,
    list_statements,
    list_panellists,
    list_rounds,
    get_round,
    get_monitor,
    get_results,
    list_comments,
    moderate,
    list_reasons,
    moderate_reason_api,
    get_attrition,
    get_final,
    list_exports,
    download_export,
]


def api_router() -> Router:
    """The ``/api/v1`` router; its ``account`` dependency accepts a bearer token or the session cookie."""
    return Router(
        path="/api/v1",
        route_handlers=HANDLERS,
        dependencies={"account": Provide(provide_api_account)},
        tags=["API v1"],
    )
