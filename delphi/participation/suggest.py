"""Panellists' suggestions: a new statement, or a rewording of one asked in this round.

Works in the caller's transaction, after the checks every write passes (:func:`~delphi.participation.saving.
write_target`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from delphi import audit
from delphi.db.models import Panellist, Suggestion, utcnow
from delphi.domain import SuggestionKind
from delphi.errors import InvalidInput
from delphi.participation import checks
from delphi.participation.facts import load_facts, statements_by_id
from delphi.participation.issues import N_, SuggestionsClosed, fail, fail_many
from delphi.participation.links import actor_of
from delphi.participation.saving import write_target


async def suggest(
    session: AsyncSession,
    panellist: Panellist,
    *,
    text: object,
    statement_id: int | None = None,
    section: object = "",
    now: datetime | None = None,
) -> Suggestion:
    """Record a suggestion: a new statement (``statement_id`` None) or a rewording of one in this round.

    Allowed while the round is open, in round 1 or when the panel takes suggestions later too; otherwise
    :class:`SuggestionsClosed`.  Raises :class:`~delphi.errors.InvalidInput` for empty or too long text.
    """
    now = now or utcnow()
    target = await write_target(session, panellist, [statement_id] if statement_id is not None else [], now)
    if not checks.suggestions_allowed(target.round_number, target.panel.suggestions_after_round1):
        raise fail(SuggestionsClosed, N_("This panel is not taking suggestions in this round."))
    cleaned = checks.clean_suggestion(text, section)
    if isinstance(cleaned, list):
        raise fail_many(InvalidInput, cleaned)
    body, where = cleaned
    row = Suggestion(
        panel_id=target.panel.id,
        round_id=target.round_id,
        panellist_id=panellist.id,
        kind=SuggestionKind.REWORDING if statement_id is not None else SuggestionKind.NEW,
        statement_id=statement_id,
        section=where,
        text=body,
        created_at=now,
    )
    session.add(row)
    await session.flush()
    audit.record(
        session,
        actor=actor_of(panellist),
        action="suggestion.created",
        panel_id=target.panel.id,
        detail={"suggestion_id": row.id, "kind": row.kind, "round": target.round_number},
    )
    return row


async def suggestable_statements(session: AsyncSession, panellist: Panellist) -> list[tuple[int, str]]:
    """``(id, text)`` of the current round's statements, in order, for the rewording choice."""
    facts = await load_facts(session, panellist)
    statements = await statements_by_id(session, facts.statement_ids)
    return [(sid, statements[sid].text) for sid in facts.statement_ids if sid in statements]
