"""API of the panel aggregate: the caller, panels, a panel's settings, groups, statements and panellists."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import Account, Panel
from delphi.domain import PanelRole
from delphi.panels import listing
from delphi.panels.access import visible_panels
from delphi.panels.settings import SETTINGS, Form
from delphi.results.frame import rule_of
from delphi.web import schemas
from delphi.web.api.auth import AUTH_STATE_KEY, SCOPES_STATE_KEY
from delphi.web.api.problems import PROBLEMS
from delphi.web.guards import PanelAccess


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


def panel_schema(p: Panel, role: PanelRole) -> schemas.Panel:
    """The panel as the API shows it to an account with ``role`` on it."""
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


@get("/me", responses=PROBLEMS, summary="The account making the request")
async def me(request: Request, account: Account) -> schemas.Me:
    how = request.state.get(AUTH_STATE_KEY, "session")
    scopes = request.state.get(SCOPES_STATE_KEY, ["read"])
    return schemas.Me(account.id, account.email, account.name, account.role, how, scopes)


@get("/panels", responses=PROBLEMS, summary="Panels you can see, newest first")
async def list_panels(db_session: AsyncSession, account: Account) -> list[schemas.PanelSummary]:
    return [
        schemas.PanelSummary(p.id, p.title, p.status, role.value, p.created_at)
        for p, role in await visible_panels(db_session, account)
    ]


@get("/panels/{panel_id:int}", responses=PROBLEMS, summary="A panel and its settings")
async def get_panel(panel_access: PanelAccess) -> schemas.Panel:
    return panel_schema(panel_access.panel, panel_access.role)


@get("/panels/{panel_id:int}/groups", responses=PROBLEMS, summary="Stakeholder groups, in display order")
async def list_groups(panel_access: PanelAccess, db_session: AsyncSession) -> list[schemas.Group]:
    rows = await listing.groups_with_counts(db_session, panel_access.panel.id)
    return [schemas.Group(g.id, g.name, g.is_lived_experience, g.position, n) for g, n in rows]


@get("/panels/{panel_id:int}/statements", responses=PROBLEMS, summary="Every statement and rewording")
async def list_statements(panel_access: PanelAccess, db_session: AsyncSession) -> list[schemas.Statement]:
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
        for s in await listing.statements_of(db_session, panel_access.panel.id)
    ]


@get(
    "/panels/{panel_id:int}/panellists",
    responses=PROBLEMS,
    summary="Panellists by pseudonym (e-mail and name only for the owner and facilitators who may contact "
    "panellists)",
)
async def list_panellists(panel_access: PanelAccess, db_session: AsyncSession) -> list[schemas.Panellist]:
    owner = panel_access.sees_contacts
    return [
        schemas.Panellist(pseudonym, group_id, status, email if owner else None, name if owner else None)
        for pseudonym, group_id, status, email, name in await listing.panellist_rows(
            db_session, panel_access.panel.id
        )
    ]


HANDLERS: list[Any] = [me, list_panels, get_panel, list_groups, list_statements, list_panellists]
