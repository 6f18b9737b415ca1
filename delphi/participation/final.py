"""The panel's final results as a panellist sees them, with the rounds they took part in."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import Panel, Panellist, Statement
from delphi.domain import PanelStatus
from delphi.participation.facts import submission_count
from delphi.participation.issues import N_, NotFinished, fail
from delphi.rounds.final_shown import ShownFinalList, shown_final_list


@dataclass(frozen=True, slots=True)
class FinalResultsView:
    """The panel's final results for a panellist: the consensus list, the rounds they submitted, the
    honorarium owed for them (None when the panel pays none), and for each reworded statement the id of its
    first wording (``first_wording``: statement id -> the id whose text is ``earlier_texts[0]``, the key of
    that text's translation)."""

    panel: Panel
    final: ShownFinalList
    rounds_taken_part: int
    owed_total_minor: int | None
    first_wording: Mapping[int, int] = field(default_factory=dict)


def first_wordings(parents: Mapping[int, int | None], statement_ids: list[int]) -> dict[int, int]:
    """For each of ``statement_ids`` that rewords another, the oldest statement of its chain (following
    ``parents``: id -> parent id; a loop stops the walk, as :mod:`delphi.rounds.final` does).  Pure."""
    out: dict[int, int] = {}
    for sid in statement_ids:
        parent, seen, oldest = parents.get(sid), {sid}, None
        while parent is not None and parent in parents and parent not in seen:
            seen.add(parent)
            oldest = parent
            parent = parents.get(parent)
        if oldest is not None:
            out[sid] = oldest
    return out


async def load_final_results(session: AsyncSession, panellist: Panellist) -> FinalResultsView:
    """The final consensus list of a finished panel as panellists may see it (disclosure control applied, see
    :mod:`delphi.rounds.final_shown`); :class:`NotFinished` before the end."""
    panel = await session.get(Panel, panellist.panel_id)
    if panel is None or panel.status != PanelStatus.FINISHED:
        raise fail(NotFinished, N_("The results will appear here when the panel has finished."))
    final = await shown_final_list(session, panel)
    n = await submission_count(session, panellist.id)
    fee = panel.honorarium_minor
    reworded = [s.statement_id for s in final.statements if s.earlier_texts]
    first: dict[int, int] = {}
    if reworded:
        rows = await session.execute(
            select(Statement.id, Statement.parent_id).where(Statement.panel_id == panel.id)
        )
        first = first_wordings(dict(rows.tuples().all()), reworded)
    return FinalResultsView(panel, final, n, fee * n if fee else None, first)
