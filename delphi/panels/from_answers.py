"""Turning an open round's answers into statements: group answers under a theme, then make a draft statement
from a theme (or from hand-picked answers) in the next draft round, with its provenance.

A statement made here has ``origin`` :attr:`~delphi.domain.StatementOrigin.OPEN_ROUND`, ``origin_round`` the open
round's number, and one :class:`~delphi.db.models.StatementSource` per answer it was made from.  It is added by
:func:`delphi.panels.statements.add_statement`, so it joins the draft round (round 2 after the open round 1
closed) like any other statement.  Each function checks everything first (every problem listed at once), changes
rows in the caller's session, writes an audit event and never commits.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from delphi import audit
from delphi.db.models import IdeaAnswer, Panel, Round, Statement, StatementSource
from delphi.domain import Actor, RoundKind, RoundStatus, StatementOrigin
from delphi.errors import Conflict, InvalidInput
from delphi.panels import imports
from delphi.panels.statements import add_statement, draft_round

#: Longest theme name, in characters (the column's width).
MAX_THEME = 200


async def open_round_of(session: AsyncSession, panel: Panel) -> Round | None:
    """The panel's open-kind round (round 1 when it asks open questions), None when it has none."""
    return await session.scalar(
        select(Round).where(Round.panel_id == panel.id, Round.kind == RoundKind.OPEN).order_by(Round.number)
    )


async def _answers(session: AsyncSession, round_: Round, answer_ids: Collection[int]) -> list[IdeaAnswer]:
    """The answers ``answer_ids`` of ``round_`` (ids of other rounds or panels are left out)."""
    if not answer_ids:
        return []
    rows = await session.scalars(
        select(IdeaAnswer)
        .where(IdeaAnswer.round_id == round_.id, IdeaAnswer.id.in_(list(answer_ids)))
        .order_by(IdeaAnswer.id)
    )
    return list(rows.all())


def clean_theme(theme: str) -> str:
    """The theme with spaces collapsed; InvalidInput over :data:`MAX_THEME` characters."""
    name = " ".join((theme or "").split())
    if len(name) > MAX_THEME:
        raise InvalidInput(f"A theme can have at most {MAX_THEME} characters.", field="theme")
    return name


async def set_theme(
    session: AsyncSession, panel: Panel, answer_ids: Collection[int], theme: str, actor: Actor
) -> int:
    """Give the chosen answers of the panel's open round the theme ``theme`` ("" ungroups them); returns how
    many changed.  InvalidInput listing every problem: no answer chosen, an id that is not an answer of this
    panel's open round, a theme too long."""
    errors: list[tuple[str, str]] = []
    try:
        name = clean_theme(theme)
    except InvalidInput as exc:
        errors.append(("theme", exc.message))
        name = ""
    round_ = await open_round_of(session, panel)
    if round_ is None:
        raise Conflict("This panel has no open round, so there are no answers to group.")
    wanted = set(answer_ids)
    found = await _answers(session, round_, wanted)
    if not wanted:
        errors.append(("answers", "Choose at least one answer to give the theme to."))
    elif len(found) != len(wanted):
        errors.append(("answers", "Some chosen answers are not answers to this panel's open round."))
    if errors:
        raise InvalidInput(errors[0][1], field=errors[0][0], errors=errors)
    await session.execute(
        update(IdeaAnswer).where(IdeaAnswer.id.in_([a.id for a in found])).values(theme=name)
    )
    audit.record(
        session,
        actor=actor,
        panel_id=panel.id,
        action="idea.themed",
        detail={"count": len(found), "theme": name or "(none)"},
    )
    return len(found)


async def make_statement(
    session: AsyncSession,
    panel: Panel,
    text: str,
    section: str,
    actor: Actor,
    *,
    theme: str = "",
    answer_ids: Collection[int] = (),
) -> Statement:
    """Draft a statement in the next draft round from the answers of theme ``theme`` and/or the hand-picked
    ``answer_ids``, with a :class:`StatementSource` per answer.

    InvalidInput listing every problem at once: the statement's text (1 to 2000 characters) or section (at
    most 200), no answers (an unknown or empty theme, nothing chosen), a chosen id that is not an answer of the
    panel's open round.  Conflict while the open round has not closed (the statement would have no round to
    join) or when the panel has no open round.
    """
    round_ = await open_round_of(session, panel)
    if round_ is None:
        raise Conflict("This panel has no open round; add statements on the statements page instead.")
    draft = await draft_round(session, panel.id)
    if round_.status != RoundStatus.CLOSED or draft is None or draft.number <= round_.number:
        raise Conflict(
            f"Round {round_.number} must close first: statements made from its answers go into the next round."
        )
    errors: list[tuple[str, str]] = []
    body, sec = " ".join((text or "").split()), " ".join((section or "").split())
    if not 1 <= len(body) <= imports.MAX_STATEMENT:
        errors.append(("text", f"Enter the statement (1 to {imports.MAX_STATEMENT} characters)."))
    if len(sec) > 200:
        errors.append(("section", "The section name can have at most 200 characters."))
    name = " ".join((theme or "").split())
    sources: dict[int, IdeaAnswer] = {}
    if name:
        themed = await session.scalars(
            select(IdeaAnswer).where(IdeaAnswer.round_id == round_.id, IdeaAnswer.theme == name)
        )
        sources.update({a.id: a for a in themed.all()})
        if not sources:
            errors.append(("from_theme", f"No answer has the theme “{name}”."))
    picked = set(answer_ids)
    found = await _answers(session, round_, picked)
    if len(found) != len(picked):
        errors.append(("answers", "Some chosen answers are not answers to this panel's open round."))
    sources.update({a.id: a for a in found})
    if not sources and not any(f in ("from_theme", "answers") for f, _ in errors):
        errors.append(("answers", "Choose a theme or at least one answer to make the statement from."))
    if errors:
        raise InvalidInput(errors[0][1], field=errors[0][0], errors=errors)
    statement = await add_statement(
        session, panel, body, sec, actor, origin=StatementOrigin.OPEN_ROUND, origin_round=round_.number
    )
    session.add_all([StatementSource(statement_id=statement.id, answer_id=aid) for aid in sorted(sources)])
    await session.flush()
    audit.record(
        session,
        actor=actor,
        panel_id=panel.id,
        action="statement.from_answers",
        detail={"statement_id": statement.id, "round": draft.number, "answers": len(sources)},
    )
    return statement
