"""A panel's statements and the draft round's list of them: add, import, edit, reword, include or drop, move,
delete (before round 1 opens).

A statement never asked in an opened round is edited in place; one already asked is reworded (a new version that
replaces it in the draft round), so past results keep their wording.  Each function checks its input, changes
rows in the caller's session, writes an audit event and never commits; errors are
:class:`~delphi.errors.DelphiError` subclasses with messages for the facilitator.
"""

from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from delphi import audit
from delphi.db.models import Panel, Rating, Round, RoundResult, RoundStatement, Statement, Suggestion
from delphi.domain import Actor, PanelStatus, RoundKind, RoundStatus, StatementStatus
from delphi.errors import Conflict, InvalidInput, NotFound
from delphi.panels import imports
from delphi.panels.numbering import panel_statement_labels
from delphi.panels.ordering import move_one_place
from delphi.panels.owned import of_panel


async def draft_round(session: AsyncSession, panel_id: int) -> Round | None:
    """The panel's draft round (the one being prepared), if any."""
    return await session.scalar(
        select(Round)
        .where(Round.panel_id == panel_id, Round.status == RoundStatus.DRAFT)
        .order_by(Round.number)
    )


#: Why a statement cannot join a draft round 1 that asks open questions (round 2 is made from its answers).
OPEN_ROUND_REFUSAL = "Round 1 asks open questions; statements are made from its answers for round 2."


def _refuse_open_round(draft: Round | None) -> None:
    """Conflict when the draft round being prepared is an open round (which asks no statements)."""
    if draft is not None and draft.kind == RoundKind.OPEN:
        raise Conflict(OPEN_ROUND_REFUSAL)


async def _next_position(session: AsyncSession, panel_id: int) -> int:
    top = await session.scalar(select(func.max(Statement.position)).where(Statement.panel_id == panel_id))
    return 0 if top is None else top + 1


async def _add_to_round(session: AsyncSession, round_: Round, statement_id: int) -> None:
    top = await session.scalar(
        select(func.max(RoundStatement.position)).where(RoundStatement.round_id == round_.id)
    )
    session.add(
        RoundStatement(round_id=round_.id, statement_id=statement_id, position=0 if top is None else top + 1)
    )


def _check_statement_text(text: str, section: str) -> tuple[str, str]:
    """``(text, section)`` with their spacing collapsed, as stored; InvalidInput listing every problem at once
    (an empty or too long statement, a section name over 200 characters), its message the first one's when
    there is one and every sentence when there are two."""
    body, sec = " ".join((text or "").split()), " ".join((section or "").split())
    errors = []
    if not 1 <= len(body) <= imports.MAX_STATEMENT:
        errors.append(("text", f"Enter the statement (1 to {imports.MAX_STATEMENT} characters)."))
    if len(sec) > 200:
        errors.append(("section", "The section name can have at most 200 characters."))
    if errors:
        raise InvalidInput(" ".join(m for _, m in errors), field=errors[0][0], errors=errors)
    return body, sec


async def add_statement(
    session: AsyncSession,
    panel: Panel,
    text: str,
    section: str,
    actor: Actor,
    *,
    origin: str = "facilitator",
    origin_round: int | None = None,
) -> Statement:
    """Add a statement to the panel and to its draft round (if one is being prepared).  Conflict when the panel
    has finished, or while the draft round is an open round 1 (:data:`OPEN_ROUND_REFUSAL`): its statements come
    from its answers once it has closed."""
    if panel.status == PanelStatus.FINISHED:
        raise Conflict("This panel has finished; statements can no longer be added.")
    draft = await draft_round(session, panel.id)
    _refuse_open_round(draft)
    body, sec = _check_statement_text(text, section)
    statement = Statement(
        panel_id=panel.id,
        text=body,
        section=sec,
        position=await _next_position(session, panel.id),
        origin=origin,
        origin_round=origin_round,
    )
    session.add(statement)
    await session.flush()
    if draft is not None:
        await _add_to_round(session, draft, statement.id)
    audit.record(
        session,
        actor=actor,
        panel_id=panel.id,
        action="statement.added",
        detail={"statement_id": statement.id, "origin": origin},
    )
    return statement


async def preview_statement_import(
    session: AsyncSession, panel: Panel, data: bytes | str
) -> imports.ParsedImport:
    """Parse statements to import (:func:`delphi.panels.imports.parse_statements`) against the panel's
    statements (all but replaced versions), without writing anything."""
    existing = (
        await session.scalars(
            select(Statement.text).where(
                Statement.panel_id == panel.id, Statement.status != StatementStatus.WITHDRAWN
            )
        )
    ).all()
    return imports.parse_statements(data, existing)


async def import_statements(
    session: AsyncSession, panel: Panel, data: bytes | str, actor: Actor
) -> list[Statement]:
    """Import statements from a CSV file or pasted lines, as :func:`preview_statement_import` shows them.

    Nothing is imported when any line has a problem: InvalidInput then lists every problem as
    ``("line N", message)`` (``"file"`` for one about the whole file).  Each statement is added with
    :func:`add_statement` (its own audit event).
    """
    _refuse_open_round(await draft_round(session, panel.id))
    parsed = await preview_statement_import(session, panel, data)
    if not parsed.ok:
        errors = [(f"line {line}" if line else "file", msg) for line, msg in parsed.problems]
        raise InvalidInput(
            f"Nothing was imported: {len(parsed.problems)} problem(s) need fixing.",
            field="statements",
            errors=errors,
        )
    added = []
    for row in parsed.rows:
        added.append(await add_statement(session, panel, row.text, row.section, actor))
    return added


async def asked_in_opened_round(session: AsyncSession, statement_id: int) -> bool:
    """Whether a round past its draft (open or closed) asks the statement."""
    return bool(
        await session.scalar(
            select(func.count())
            .select_from(RoundStatement)
            .join(Round, Round.id == RoundStatement.round_id)
            .where(RoundStatement.statement_id == statement_id, Round.status != RoundStatus.DRAFT)
        )
    )


async def edit_statement(
    session: AsyncSession, panel: Panel, statement_id: int, text: str, section: str, actor: Actor
) -> Statement:
    """Edit a statement. One never asked in an opened round changes in place; one already asked gets a new
    version (``parent_id`` → the old one) that replaces it in the draft round, so past results keep their wording.
    An edit that changes nothing (the same words and section, spacing aside) returns the statement as it is,
    with no audit event and no new version.
    """
    statement = await get_statement(session, panel, statement_id)
    body, sec = _check_statement_text(text, section)
    if body == statement.text and sec == statement.section:
        return statement
    if not await asked_in_opened_round(session, statement.id):
        statement.text, statement.section = body, sec
        audit.record(
            session,
            actor=actor,
            panel_id=panel.id,
            action="statement.edited",
            detail={"statement_id": statement.id},
        )
        return statement
    draft = await draft_round(session, panel.id)
    if draft is None:
        raise Conflict("This statement was asked already; reword it when the next round is being prepared.")
    return await reword_statement(session, panel, draft, statement, body, sec, actor)


async def reword_statement(
    session: AsyncSession,
    panel: Panel,
    draft: Round,
    statement: Statement,
    text: str,
    section: str,
    actor: Actor,
    *,
    origin: str = "facilitator",
    origin_round: int | None = None,
) -> Statement:
    """Create a new version of ``statement`` and put it in the draft round in its place."""
    body, sec = _check_statement_text(text, section)
    new = Statement(
        panel_id=panel.id,
        text=body,
        section=sec,
        position=statement.position,
        parent_id=statement.id,
        version=statement.version + 1,
        origin=origin,
        origin_round=origin_round,
    )
    session.add(new)
    await session.flush()
    statement.status = StatementStatus.WITHDRAWN
    statement.status_round = draft.number
    link = await session.scalar(
        select(RoundStatement).where(
            RoundStatement.round_id == draft.id, RoundStatement.statement_id == statement.id
        )
    )
    if link is not None:
        link.statement_id = new.id
    else:
        await _add_to_round(session, draft, new.id)
    audit.record(
        session,
        actor=actor,
        panel_id=panel.id,
        action="statement.reworded",
        detail={"statement_id": new.id, "parent_id": statement.id, "round": draft.number},
    )
    return new


async def get_statement(session: AsyncSession, panel: Panel, statement_id: int) -> Statement:
    """A statement of ``panel``; NotFound when the id is of no statement of it."""
    return await of_panel(session, Statement, statement_id, panel, "statement")


async def set_in_draft(
    session: AsyncSession, panel: Panel, statement_id: int, include: bool, actor: Actor
) -> None:
    """Add a statement to, or drop it from, the draft round."""
    draft = await draft_round(session, panel.id)
    if draft is None:
        raise Conflict(
            "No round is being prepared; statements can be added to or dropped from a draft round only."
        )
    statement = await get_statement(session, panel, statement_id)
    link = await session.scalar(
        select(RoundStatement).where(
            RoundStatement.round_id == draft.id, RoundStatement.statement_id == statement_id
        )
    )
    if include and link is None:
        _refuse_open_round(draft)
        statement.status = StatementStatus.ACTIVE
        await _add_to_round(session, draft, statement_id)
        action = "statement.included"
    elif not include and link is not None:
        await session.delete(link)
        action = "statement.dropped"
    else:
        return
    audit.record(
        session,
        actor=actor,
        panel_id=panel.id,
        action=action,
        detail={"statement_id": statement_id, "round": draft.number},
    )


async def move_statement(
    session: AsyncSession, panel: Panel, statement_id: int, direction: int, actor: Actor
) -> None:
    """Move a statement one place up (-1) or down (+1) in the panel's order (and in the draft round)."""
    statements = (
        await session.scalars(
            select(Statement).where(Statement.panel_id == panel.id).order_by(Statement.position, Statement.id)
        )
    ).all()
    if statement_id not in {s.id for s in statements}:
        raise NotFound("There is no such statement on this panel.")
    if not move_one_place(list(statements), statement_id, down=direction > 0):
        return
    draft = await draft_round(session, panel.id)
    if draft is not None:
        order = {s.id: s.position for s in statements}
        links = (
            await session.scalars(select(RoundStatement).where(RoundStatement.round_id == draft.id))
        ).all()
        for link in links:
            link.position = order.get(link.statement_id, link.position)
    audit.record(
        session,
        actor=actor,
        panel_id=panel.id,
        action="statement.moved",
        detail={"statement_id": statement_id, "direction": direction},
    )


async def deleting_allowed(session: AsyncSession, panel: Panel) -> bool:
    """Whether the panel's statements may be deleted at all: while no round has opened (the rule is not yet
    locked and every round is a draft)."""
    if panel.rule_locked_at is not None:
        return False
    opened = await session.scalar(
        select(func.count())
        .select_from(Round)
        .where(Round.panel_id == panel.id, Round.status != RoundStatus.DRAFT)
    )
    return not opened


async def why_not_deletable(session: AsyncSession, panel: Panel, statement: Statement) -> str | None:
    """Why ``statement`` cannot be deleted, as a sentence for the facilitator; None when it can.

    A statement can be deleted only while no round of the panel has opened (round 1 still a draft), because
    from then on results, numbers and panellists' answers refer to it.  Answers, results, suggestions or a
    rewording pointing at it also keep it (none exist before round 1 opens; checked so that nothing breaks).
    """
    if not await deleting_allowed(session, panel):
        return (
            "Statements can be deleted only before round 1 opens. Round 1 has opened, so results refer to this "
            "statement; drop it from the next round instead."
        )
    for model, column in (
        (Rating, Rating.statement_id),
        (RoundResult, RoundResult.statement_id),
        (Suggestion, Suggestion.statement_id),
        (Suggestion, Suggestion.result_statement_id),
        (Statement, Statement.parent_id),
    ):
        if await session.scalar(select(func.count()).select_from(model).where(column == statement.id)):
            return "Answers, results, suggestions or a new version refer to this statement; it cannot be deleted."
    return None


async def delete_statement(session: AsyncSession, panel: Panel, statement_id: int, actor: Actor) -> None:
    """Delete a statement of ``panel`` and its place in the draft round 1 (NotFound for another panel's).

    Conflict, with the reason of :func:`why_not_deletable`, once a round has opened.  The statements after it
    are renumbered (:mod:`delphi.panels.numbering` numbers the remaining ones in order); the audit event keeps
    the number and text it had.
    """
    statement = await get_statement(session, panel, statement_id)
    reason = await why_not_deletable(session, panel, statement)
    if reason is not None:
        raise Conflict(reason)
    number = (await panel_statement_labels(session, panel.id)).get(statement.id, "")
    text = statement.text
    await session.execute(delete(RoundStatement).where(RoundStatement.statement_id == statement.id))
    await session.delete(statement)
    await session.flush()
    audit.record(
        session,
        actor=actor,
        panel_id=panel.id,
        action="statement.deleted",
        detail={"statement_id": statement_id, "number": number, "text": text[:200]},
    )
