"""API of the panel aggregate: the caller, panels, a panel's settings, groups, statements and panellists.

Creating a panel (``POST /panels``) and changing its settings (``PATCH /panels/{panel_id}``) take the settings
the API carries: the fields of :data:`delphi.panels.settings.SETTINGS` with ``api``, the same list the panel
form (:mod:`delphi.web.panel_form`) and the API's :class:`~delphi.web.schemas.Panel` are made from, so the
three cannot drift apart.  The request bodies :class:`NewPanel` and :class:`PanelChange` are generated from it
(:func:`_settings_struct`): each setting's JSON type, its label and its default.  The bodies constrain types
only; what a value may be (a scale that runs upwards, a smallest group of 1 to 50...) is the settings' own
checks, run by the page's use cases (:func:`delphi.panels.settings.create_panel`,
:func:`~delphi.panels.settings.update_panel`), so a refusal is the page's: a 422 listing every problem at once
with the form's field names and messages, a 409 for a locked rule after round 1 opened, nothing saved, and the
same audit events as the page.
"""

from __future__ import annotations

import dataclasses
import typing
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get, patch, post
from litestar.di import Provide
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import Account, Panel
from delphi.domain import Actor, PanelRole
from delphi.panels import listing
from delphi.panels.access import require_panel_creator, visible_panels
from delphi.panels.settings import (
    SETTINGS,
    Form,
    PanelInput,
    Setting,
    create_panel,
    update_panel,
)
from delphi.results.frame import rule_of
from delphi.stats import ConsensusRule
from delphi.web import schemas
from delphi.web.api.auth import AUTH_STATE_KEY, SCOPES_STATE_KEY
from delphi.web.api.problems import CONFLICT, PROBLEMS, problem_spec
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


# --- the bodies of a new panel and of a change of its settings, made from SETTINGS ----------------------------

_HINTS = typing.get_type_hints(PanelInput)
#: The settings a request body carries, in declared order (the order of its fields and of its problems).
API_SETTINGS: tuple[Setting, ...] = tuple(s for s in SETTINGS if s.api)


def _json_type(s: Setting) -> Any:
    """The JSON type of a setting in a request body: its :class:`PanelInput` type, lines as an array of
    strings, and without the ``None`` that means "keep the panel's value" in the input (``none_keeps``: left
    out of a body, a field keeps its value; null is no value of it).  ``honorarium_minor`` stays nullable:
    null is "no honorarium"."""
    t = _HINTS[s.name]
    if s.none_keeps:
        (t,) = [arg for arg in typing.get_args(t) if arg is not type(None)]
    if typing.get_origin(t) is tuple:
        t = list[typing.get_args(t)[0]]
    return t


def _json_default(s: Setting) -> Any:
    """A new panel's value of a setting left out of its body, as JSON shows it; None when there is none."""
    if s.default is dataclasses.MISSING or s.default is None:
        return None
    return list(s.default) if isinstance(s.default, tuple) else s.default


def _field(s: Setting, *, new: bool) -> tuple[Any, ...]:
    """The body field of a setting: its JSON type with its label (and for a new panel its default) documented;
    left out (``UNSET``) unless it is required (the title of a new panel)."""
    default = _json_default(s)
    if not new:
        words = "Left out: unchanged."
    elif s.form is Form.RULE:
        words = "Left out: the default preset (comet)."
    elif default is None:
        words = "Left out: not set." if s.default is not dataclasses.MISSING else "Required."
    else:
        words = f"Left out: {msgspec.json.encode(default).decode()}."
    meta = msgspec.Meta(title=s.label, description=f"{s.label}. {words}")
    annotated = Annotated[_json_type(s), meta]
    if new and s.default is dataclasses.MISSING:
        return (s.name, annotated)
    return (s.name, annotated | msgspec.UnsetType, msgspec.UNSET)


def _settings_struct(name: str, doc: str, *, new: bool) -> type[msgspec.Struct]:
    """A request body with one field per setting of :data:`API_SETTINGS` (unknown fields refused)."""
    fields = [_field(s, new=new) for s in API_SETTINGS]
    if new:  # msgspec wants the required fields first; the title is the only one
        fields.sort(key=len)
    struct = msgspec.defstruct(name, fields, forbid_unknown_fields=True, module=__name__)
    struct.__doc__ = doc
    return struct


NewPanel = _settings_struct(
    "NewPanel",
    "The body of a new panel: its title and any of its settings; one left out takes its default.",
    new=True,
)
PanelChange = _settings_struct(
    "PanelChange",
    "The body of a change of a panel's settings: the ones to change; one left out keeps its value.",
    new=False,
)


def _normalised_rule(value: dict[str, Any]) -> dict[str, Any]:
    """A consensus rule as it is stored (:meth:`ConsensusRule.to_dict`, every field filled in); a rule that
    cannot be read is passed on as sent, for the settings' check to report."""
    try:
        return ConsensusRule.from_dict(value).to_dict()
    except (ValueError, TypeError, KeyError):
        return value


def _sent(data: msgspec.Struct) -> dict[str, Any]:
    """The settings a body sends, by name, as :class:`PanelInput` takes them: lines as a tuple, the rule as
    stored; the fields left out are not in it."""
    out: dict[str, Any] = {}
    for s in API_SETTINGS:
        value = getattr(data, s.name)
        if value is msgspec.UNSET:
            continue
        if s.form is Form.LINES:
            value = tuple(value)
        elif s.form is Form.RULE:
            value = _normalised_rule(value)
        out[s.name] = value
    return out


def new_panel_input(data: msgspec.Struct) -> PanelInput:
    """The input of a new panel from a :class:`NewPanel` body.  A setting left out takes its default; one the
    API does not carry (the consent text, two options of later rounds) takes what the new panel form
    suggests for it, as when a facilitator leaves it as the form shows it."""
    suggested = {s.name: s.suggested for s in SETTINGS if not s.api and s.suggested is not None}
    return PanelInput(**{**suggested, **_sent(data)})


def changed_panel_input(panel: Panel, data: msgspec.Struct) -> PanelInput:
    """The input of a change of ``panel``'s settings from a :class:`PanelChange` body: the panel's values,
    with the settings the body sends in their place (the rule left out keeps the panel's)."""
    current: dict[str, Any] = {}
    for s in SETTINGS:
        value = getattr(panel, s.name)
        if s.form is Form.LINES:
            value = tuple(value or ())
        elif s.form is Form.RULE:
            value = None  # keep the panel's (checked against the scale as the panel's current rule)
        current[s.name] = value
    return PanelInput(**{**current, **_sent(data)})


async def provide_creator(account: Account) -> Account:
    """The account, if it may create panels (facilitators and admins); a 403 with the reason otherwise, before
    the body is read."""
    require_panel_creator(account)
    return account


INVALID = {422: problem_spec("The settings are not acceptable; `errors` lists every problem.")}


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


@post(
    "/panels",
    status_code=201,
    dependencies={"creator": Provide(provide_creator)},
    responses={**PROBLEMS, **INVALID},
    summary="Create a panel, with a draft round 1 (facilitators and admins)",
)
async def create(data: NewPanel, db_session: AsyncSession, creator: Account) -> Response[schemas.Panel]:
    panel = await create_panel(db_session, new_panel_input(data), creator.id, Actor.account(creator))
    return Response(
        panel_schema(panel, PanelRole.OWNER),
        status_code=201,
        headers={"Location": f"/api/v1/panels/{panel.id}"},
    )


@patch(
    "/panels/{panel_id:int}",
    responses={**PROBLEMS, **CONFLICT, **INVALID},
    summary="Change a panel's settings (facilitators; the locked ones not after round 1 opened)",
)
async def change(
    panel_access: PanelAccess,
    data: PanelChange,
    db_session: AsyncSession,
    account: Account,
) -> schemas.Panel:
    panel = panel_access.panel
    await update_panel(db_session, panel, changed_panel_input(panel, data), Actor.account(account))
    await db_session.flush()
    return panel_schema(panel, panel_access.role)


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
        schemas.Panellist(
            row_id, pseudonym, group_id, status, email if owner else None, name if owner else None
        )
        for row_id, pseudonym, group_id, status, email, name in await listing.panellist_rows(
            db_session, panel_access.panel.id
        )
    ]


HANDLERS: list[Any] = [
    me,
    list_panels,
    get_panel,
    create,
    change,
    list_groups,
    list_statements,
    list_panellists,
]
