"""API of a panel's results across rounds: attrition, the final consensus list and the exports; with the ranking
results of a round (:mod:`delphi.web.api.rankings`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Response, get
from litestar.openapi.spec import OpenAPIMediaType, Operation, Schema
from litestar.openapi.spec.enums import OpenAPIFormat, OpenAPIType
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.results import attrition, exports, report
from delphi.results.frame import load_frame
from delphi.rounds.final import final_consensus_list
from delphi.web import schemas
from delphi.web.api import rankings
from delphi.web.api.problems import CONFLICT, PROBLEMS, problem_spec
from delphi.web.guards import PanelAccess
from delphi.web.results import export_response
from delphi.web.schemas import ExportFile


@get("/panels/{panel_id:int}/attrition", responses=PROBLEMS, summary="Participant flow and attrition check")
async def get_attrition(panel_access: PanelAccess, db_session: AsyncSession) -> schemas.Attrition:
    panel_id = panel_access.panel.id
    frame = await load_frame(db_session, panel_access.panel)
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
async def get_final(panel_access: PanelAccess, db_session: AsyncSession) -> schemas.FinalList:
    panel = panel_access.panel
    final = await final_consensus_list(db_session, panel.id)
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
async def list_exports(panel_access: PanelAccess, db_session: AsyncSession) -> list[schemas.Export]:
    frame = await load_frame(db_session, panel_access.panel)
    has_results = frame.last_closed is not None
    base = f"/api/v1/panels/{panel_access.panel.id}/exports"
    return [
        schemas.Export(
            name=s.name,
            title=s.title,
            description=s.description,
            formats=list(s.formats),
            urls={f: f"{base}/{s.name}.{f}" for f in s.formats},
            available=has_results or not s.needs_results,
        )
        for s in exports.available(panel_access.role, sees_contacts=panel_access.sees_contacts)
    ]


@dataclass
class ExportOperation(Operation):
    """Documents the export's 200 answer in every format it can take."""

    def __post_init__(self) -> None:
        ok = (self.responses or {}).get("200")
        if ok is not None and not isinstance(ok, dict) and hasattr(ok, "content"):
            binary = Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY)
            ok.description = "The file: CSV, XLSX, JSON or ZIP as the extension says."
            ok.content = {
                "text/csv": OpenAPIMediaType(schema=Schema(type=OpenAPIType.STRING)),
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": OpenAPIMediaType(
                    schema=binary
                ),
                "application/json": OpenAPIMediaType(schema=Schema(type=OpenAPIType.OBJECT)),
                "application/zip": OpenAPIMediaType(schema=binary),
            }


@get(
    "/panels/{panel_id:int}/exports/{filename:str}",
    responses={**PROBLEMS, **CONFLICT, 400: problem_spec("A format the export does not come in.")},
    summary="Download an export, e.g. final-list.csv",
    operation_class=ExportOperation,
)
async def download_export(
    panel_access: PanelAccess, filename: ExportFile, db_session: AsyncSession
) -> Response[bytes]:
    frame = await load_frame(db_session, panel_access.panel)
    return await export_response(
        db_session, frame, panel_access.role, filename, sees_contacts=panel_access.sees_contacts
    )


HANDLERS: list[Any] = [get_attrition, get_final, list_exports, download_export, *rankings.HANDLERS]
