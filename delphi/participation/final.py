"""The panel's final results as a panellist sees them, with the rounds they took part in."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import Panel, Panellist
from delphi.domain import PanelStatus
from delphi.participation.facts import submission_count
from delphi.participation.issues import N_, NotFinished, fail
from delphi.rounds.final_shown import ShownFinalList, shown_final_list


@dataclass(frozen=True, slots=True)
class FinalResultsView:
    """The panel's final results for a panellist: the consensus list, the rounds they submitted, and the
    honorarium owed for them (None when the panel pays none)."""

    panel: Panel
    final: ShownFinalList
    rounds_taken_part: int
    owed_total_minor: int | None


async def load_final_results(session: AsyncSession, panellist: Panellist) -> FinalResultsView:
    """The final consensus list of a finished panel as panellists may see it (disclosure control applied, see
    :mod:`delphi.rounds.final_shown`); :class:`NotFinished` before the end."""
    panel = await session.get(Panel, panellist.panel_id)
    if panel is None or panel.status != PanelStatus.FINISHED:
        raise fail(NotFinished, N_("The results will appear here when the panel has finished."))
    final = await shown_final_list(session, panel)
    n = await submission_count(session, panellist.id)
    fee = panel.honorarium_minor
    return FinalResultsView(panel, final, n, fee * n if fee else None)
