"""Statement import, deleting a statement before round 1, renaming a group: the use cases on both backends."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import AuditEvent, RoundStatement, StakeholderGroup, Statement
from delphi.domain import Actor
from delphi.errors import Conflict, InvalidInput, NotFound
from delphi.panels.groups import rename_group
from delphi.panels.numbering import panel_statement_labels
from delphi.panels.statements import (
    delete_statement,
    import_statements,
    preview_statement_import,
    why_not_deletable,
)
from tests.factories import World, build_panel

ACTOR = Actor("account:fac@example.org", None)


async def draft_world(session: AsyncSession, **kw) -> World:
    """A panel with three statements (S1-S3) and two groups whose round 1 is still a draft."""
    world = await build_panel(
        session, sections=(("Access", ["One", "Two", "Three"]),), round_status="draft", **kw
    )
    await session.commit()
    return world


async def count(session: AsyncSession, model: type, *where) -> int:
    return await session.scalar(select(func.count()).select_from(model).where(*where)) or 0


async def events(session: AsyncSession, action: str) -> list[AuditEvent]:
    return list((await session.scalars(select(AuditEvent).where(AuditEvent.action == action))).all())


async def test_a_file_with_one_bad_line_imports_nothing_and_names_the_line(session: AsyncSession) -> None:
    world = await draft_world(session)
    data = "Section;Statement\r\nAccess;Offer video.\r\nAccess;\r\nAccess;Offer audio.\r\n".encode("utf-16")
    with pytest.raises(InvalidInput) as refused:
        await import_statements(session, world.panel, data, ACTOR)
    assert refused.value.errors == [("line 3", "The statement is empty.")]
    await session.rollback()
    assert await count(session, Statement) == 3


async def test_an_import_adds_each_statement_to_the_draft_round_and_never_its_header(
    session: AsyncSession,
) -> None:
    world = await draft_world(session)
    added = await import_statements(
        session,
        world.panel,
        "section;statement\nChoice;Ask first.\nChoice;Ask again.\n".encode("cp1252"),
        ACTOR,
    )
    await session.commit()
    assert [(s.section, s.text) for s in added] == [("Choice", "Ask first."), ("Choice", "Ask again.")]
    texts = (await session.scalars(select(Statement.text).order_by(Statement.id))).all()
    assert texts == ["One", "Two", "Three", "Ask first.", "Ask again."]
    assert await count(session, RoundStatement, RoundStatement.round_id == world.round.id) == 5


async def test_the_preview_flags_a_statement_the_panel_has_already(session: AsyncSession) -> None:
    world = await draft_world(session)
    preview = await preview_statement_import(session, world.panel, "  two \nFour\n")
    assert preview.problems == [(1, "The statement is on this panel already.")]
    assert [r.text for r in preview.rows] == ["Four"]


async def test_deleting_a_statement_before_round_1_removes_it_from_the_draft_and_renumbers(
    session: AsyncSession,
) -> None:
    world = await draft_world(session)
    first, second, third = world.statements
    assert (await panel_statement_labels(session, world.panel.id))[third.id] == "S3"
    await delete_statement(session, world.panel, first.id, ACTOR)
    await session.commit()
    assert await count(session, Statement) == 2
    links = (
        await session.scalars(select(RoundStatement.statement_id).order_by(RoundStatement.position))
    ).all()
    assert links == [second.id, third.id]
    assert await panel_statement_labels(session, world.panel.id) == {second.id: "S1", third.id: "S2"}
    (event,) = await events(session, "statement.deleted")
    assert event.detail == {"statement_id": first.id, "number": "S1", "text": "One"}


async def test_deleting_is_refused_once_round_1_has_opened(session: AsyncSession) -> None:
    world = await build_panel(session, sections=(("Access", ["One", "Two"]),), round_status="open")
    await session.commit()
    statement = world.statements[0]
    reason = await why_not_deletable(session, world.panel, statement)
    assert reason is not None and "only before round 1 opens" in reason
    with pytest.raises(Conflict, match="only before round 1 opens"):
        await delete_statement(session, world.panel, statement.id, ACTOR)
    await session.rollback()
    assert await count(session, Statement) == 2
    assert await count(session, RoundStatement) == 2
    assert await events(session, "statement.deleted") == []


async def test_another_panels_statement_is_not_found(session: AsyncSession) -> None:
    world = await draft_world(session)
    other = await draft_world(session)
    with pytest.raises(NotFound):
        await delete_statement(session, world.panel, other.statements[0].id, ACTOR)


async def test_a_group_is_renamed_with_old_and_new_names_in_the_audit_trail(session: AsyncSession) -> None:
    world = await draft_world(session)
    users = world.groups[0]
    await rename_group(session, world.panel, users.id, "  People who use   services ", ACTOR)
    await session.commit()
    assert (await session.get(StakeholderGroup, users.id)).name == "People who use services"
    (event,) = await events(session, "group.renamed")
    assert event.detail == {"group_id": users.id, "old": "Service users", "new": "People who use services"}


async def test_renaming_to_another_groups_name_is_refused_whatever_its_case(session: AsyncSession) -> None:
    world = await draft_world(session)
    users = world.groups[0]
    with pytest.raises(Conflict, match="There is a group called 'PRACTITIONERS' already"):
        await rename_group(session, world.panel, users.id, "PRACTITIONERS", ACTOR)
    await session.rollback()
    names = (await session.scalars(select(StakeholderGroup.name).order_by(StakeholderGroup.id))).all()
    assert names == ["Service users", "Practitioners"]


@pytest.mark.parametrize("name", ["", "   ", "x" * 101])
async def test_a_group_name_must_have_1_to_100_characters(session: AsyncSession, name: str) -> None:
    world = await draft_world(session)
    with pytest.raises(InvalidInput, match="1 to 100 characters"):
        await rename_group(session, world.panel, world.groups[0].id, name, ACTOR)


async def test_a_group_can_be_renamed_after_round_1_opened_and_change_only_its_case(
    session: AsyncSession,
) -> None:
    world = await build_panel(session, round_status="open")
    await session.commit()
    users = world.groups[0]
    await rename_group(session, world.panel, users.id, "SERVICE USERS", ACTOR)
    await rename_group(session, world.panel, users.id, "SERVICE USERS", ACTOR)  # unchanged: nothing recorded
    await session.commit()
    assert (await session.get(StakeholderGroup, users.id)).name == "SERVICE USERS"
    assert len(await events(session, "group.renamed")) == 1
