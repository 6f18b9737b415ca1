"""API of the round aggregate: rounds, the monitoring of an open round, the frozen results of a closed one."""

from __future__ import annotations

from typing import Any

from litestar import get
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import Round
from delphi.results import monitoring, round_results
from delphi.results.frame import Frame, load_frame
from delphi.results.scope_row import FROZEN_FIGURES
from delphi.web import schemas
from delphi.web.api.problems import CONFLICT, PROBLEMS
from delphi.web.guards import PanelAccess
from delphi.web.schemas import RoundNumber


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


HANDLERS: list[Any] = [list_rounds, get_round, get_monitor, get_results]
