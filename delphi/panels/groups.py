"""A panel's stakeholder groups: add one before round 1 opens, rename one at any time, delete one nobody is in.

Each function checks its input, changes rows in the caller's session, writes an audit event and never commits.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from delphi import audit
from delphi.db.models import Panel, Panellist, StakeholderGroup
from delphi.domain import Actor
from delphi.errors import Conflict, InvalidInput
from delphi.panels.owned import of_panel


async def add_group(
    session: AsyncSession, panel: Panel, name: str, actor: Actor, lived_experience: bool = False
) -> StakeholderGroup:
    """Add a group named ``name`` (spaces collapsed, 1-100 characters, unique on the panel ignoring case) last in
    the panel's order.  Conflict once round 1 has opened: results per group would not compare."""
    label = " ".join((name or "").split())
    if not 1 <= len(label) <= 100:
        raise InvalidInput("Enter a group name of 1 to 100 characters.", field="name")
    existing = (
        await session.scalars(select(StakeholderGroup).where(StakeholderGroup.panel_id == panel.id))
    ).all()
    if any(g.name.lower() == label.lower() for g in existing):
        raise Conflict(f"There is a group called {label!r} already.", field="name")
    if panel.rule_locked_at is not None:
        raise Conflict(
            "Groups cannot be added after round 1 has opened: results per group would not compare."
        )
    group = StakeholderGroup(
        panel_id=panel.id, name=label, position=len(existing), is_lived_experience=lived_experience
    )
    session.add(group)
    await session.flush()
    audit.record(
        session,
        actor=actor,
        panel_id=panel.id,
        action="group.added",
        detail={"group_id": group.id, "name": label},
    )
    return group


async def delete_group(session: AsyncSession, panel: Panel, group_id: int, actor: Actor) -> None:
    """Delete a group of the panel; NotFound for another panel's, Conflict while panellists are in it."""
    group = await of_panel(session, StakeholderGroup, group_id, panel, "group")
    used = await session.scalar(
        select(func.count()).select_from(Panellist).where(Panellist.group_id == group_id)
    )
    if used:
        raise Conflict(f"The group {group.name!r} has {used} panellist(s); move or remove them first.")
    await session.delete(group)
    audit.record(
        session,
        actor=actor,
        panel_id=panel.id,
        action="group.deleted",
        detail={"group_id": group_id, "name": group.name},
    )


async def rename_group(
    session: AsyncSession, panel: Panel, group_id: int, name: str, actor: Actor
) -> StakeholderGroup:
    """Rename a group of the panel to ``name`` (spaces collapsed, 1-100 characters, unique on the panel ignoring
    case; the group's own name in other capitals is allowed).  Allowed at any time: a name is a label, and
    results, ratings and panellists refer to the group by its id.  NotFound for another panel's group; an
    unchanged name changes nothing and records nothing; the audit event keeps the old and the new name."""
    group = await of_panel(session, StakeholderGroup, group_id, panel, "group")
    label = " ".join((name or "").split())
    if not 1 <= len(label) <= 100:
        raise InvalidInput("Enter a group name of 1 to 100 characters.", field="name")
    others = (
        await session.scalars(
            select(StakeholderGroup.name).where(
                StakeholderGroup.panel_id == panel.id, StakeholderGroup.id != group.id
            )
        )
    ).all()
    if any(other.lower() == label.lower() for other in others):
        raise Conflict(f"There is a group called {label!r} already.", field="name")
    if label == group.name:
        return group
    old, group.name = group.name, label
    await session.flush()
    audit.record(
        session,
        actor=actor,
        panel_id=panel.id,
        action="group.renamed",
        detail={"group_id": group.id, "old": old, "new": label},
    )
    return group
