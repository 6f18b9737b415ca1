"""API of a panel's stakeholder groups: read one, add one, rename one, delete one, for the panel's editors.

The same use cases as the groups page (:mod:`delphi.panels.groups`), so the same rules, messages and audit
events: a name of 1 to 100 characters once its spacing is collapsed (422 otherwise), unique on the panel
ignoring case (409); groups are added only before round 1 opens (409 after), renamed at any time, and deleted
only while nobody is in them (409 naming how many are).  A group that is another panel's, or none, is a 404.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Response, delete, get, patch, post
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import Account
from delphi.domain import Actor
from delphi.errors import NotFound
from delphi.panels import groups, listing
from delphi.web import schemas
from delphi.web.api.problems import PROBLEMS, problem_spec
from delphi.web.guards import PanelAccess
from delphi.web.schemas import RowId

INVALID = {422: problem_spec("The group's name is empty or too long; `errors` says so.")}
#: Refusals by the panel's state or its other groups.
REFUSED = {
    409: problem_spec(
        "A group of that name exists already, round 1 has opened (no group is added after), or the group "
        "still has panellists (none is deleted then); `detail` says which."
    )
}

_NAME = (
    "The group's name: 1 to 100 characters once its spacing is collapsed, not the name of another group of "
    "the panel (ignoring case)."
)


class NewGroup(msgspec.Struct, forbid_unknown_fields=True):
    """The body of a new group; it comes last in the panel's order."""

    name: Annotated[str, msgspec.Meta(description=_NAME)]
    lived_experience: Annotated[
        bool,
        msgspec.Meta(
            description="Whether it is the group of people with lived experience (e.g. service users), whose "
            "view the divergence flag compares with the others'."
        ),
    ] = False


class GroupChange(msgspec.Struct, forbid_unknown_fields=True):
    """The body of a renaming, the one change a group takes (at any time: results refer to it by its id)."""

    name: Annotated[str, msgspec.Meta(description=_NAME)]


def _url(access: PanelAccess, group_id: int) -> str:
    return f"/api/v1/panels/{access.panel.id}/groups/{group_id}"


async def _group_schema(db_session: AsyncSession, access: PanelAccess, group_id: int) -> schemas.Group:
    """The panel's group ``group_id`` with the number of panellists in it; 404 when the panel has no such group
    (the same words as the use cases')."""
    for g, n in await listing.groups_with_counts(db_session, access.panel.id):
        if g.id == group_id:
            return schemas.Group(g.id, g.name, g.is_lived_experience, g.position, n)
    raise NotFound("There is no such group on this panel.")


@get("/panels/{panel_id:int}/groups/{group_id:int}", responses=PROBLEMS, summary="A stakeholder group")
async def get_group(panel_access: PanelAccess, group_id: RowId, db_session: AsyncSession) -> schemas.Group:
    return await _group_schema(db_session, panel_access, group_id)


@post(
    "/panels/{panel_id:int}/groups",
    status_code=201,
    responses={**PROBLEMS, **REFUSED, **INVALID},
    summary="Add a stakeholder group (facilitators; before round 1 opens)",
)
async def add_group(
    panel_access: PanelAccess, data: NewGroup, db_session: AsyncSession, account: Account
) -> Response[schemas.Group]:
    group = await groups.add_group(
        db_session,
        panel_access.panel,
        data.name,
        Actor.account(account),
        lived_experience=data.lived_experience,
    )
    await db_session.flush()
    return Response(
        schemas.Group(group.id, group.name, group.is_lived_experience, group.position, 0),
        status_code=201,
        headers={"Location": _url(panel_access, group.id)},
    )


@patch(
    "/panels/{panel_id:int}/groups/{group_id:int}",
    responses={**PROBLEMS, **REFUSED, **INVALID},
    summary="Rename a stakeholder group (facilitators; at any time)",
)
async def rename_group(
    panel_access: PanelAccess,
    group_id: RowId,
    data: GroupChange,
    db_session: AsyncSession,
    account: Account,
) -> schemas.Group:
    await groups.rename_group(db_session, panel_access.panel, group_id, data.name, Actor.account(account))
    await db_session.flush()
    return await _group_schema(db_session, panel_access, group_id)


@delete(
    "/panels/{panel_id:int}/groups/{group_id:int}",
    responses={**PROBLEMS, **REFUSED},
    summary="Delete a stakeholder group nobody is in (facilitators)",
)
async def delete_group(
    panel_access: PanelAccess, group_id: RowId, db_session: AsyncSession, account: Account
) -> None:
    await groups.delete_group(db_session, panel_access.panel, group_id, Actor.account(account))
    await db_session.flush()


HANDLERS: list[Any] = [get_group, add_group, rename_group, delete_group]
