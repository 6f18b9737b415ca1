"""The final consensus list as panellists may see it: the results page and the "final results" e-mail.

Researchers' exports read :func:`delphi.rounds.final.final_consensus_list` unchanged.  Panellists get the same list
after disclosure control (:mod:`delphi.rounds.released`): a statement's figures only when at least k people
rated it, and its decision (verdict and "agreed in round n") only where the verdict is releasable in every round
it speaks for.  A statement whose decision is withheld has the verdict :data:`WITHHELD`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import Panel, Round
from delphi.domain import RoundStatus
from delphi.rounds.final import CONSENSUS, FinalConsensusList, FinalStatement, final_consensus_list
from delphi.rounds.released import ReleasedScopes, load_released, rule_scope

__all__ = ["WITHHELD", "ShownFinalList", "shown_final_list", "shown_statement"]

#: The verdict of a statement whose decision panellists may not be shown.
WITHHELD = "withheld"


@dataclass(frozen=True, slots=True)
class ShownFinalList(FinalConsensusList):
    """A panel's final list for panellists, in the panel's statement order; ``rounds_closed`` rounds in all.

    Buckets: :attr:`consensus_in`, :attr:`consensus_out`, :attr:`no_consensus` (none or insufficient) and
    :attr:`withheld` (decision not shown) cover every statement once.
    """

    @property
    def no_consensus(self) -> list[FinalStatement]:
        return [s for s in self.statements if s.verdict not in CONSENSUS and s.verdict != WITHHELD]

    @property
    def withheld(self) -> list[FinalStatement]:
        return [s for s in self.statements if s.verdict == WITHHELD]


def shown_statement(
    statement: FinalStatement, released: Mapping[int, ReleasedScopes], scope: str
) -> FinalStatement:
    """``statement`` with only what panellists may see.  Pure.

    ``released`` maps a round number to the statement's released scopes in that round (missing: no result);
    ``scope`` is the rule's scope.  The figures stay only when the last round's pooled figures are released;
    the verdict becomes :data:`WITHHELD` (and ``consensus_round`` None) unless the last round's verdict is
    releasable; ``consensus_round`` moves later, to the first round from which every verdict of the run to the
    end is releasable, so it never reports a withheld round's verdict.
    """
    last = released.get(statement.last_round)
    figures = statement.figures if last is not None and last.release.pooled else None
    if last is None or not last.verdict_released(scope):
        return dataclasses.replace(statement, figures=figures, verdict=WITHHELD, consensus_round=None)
    since = statement.consensus_round
    if since is not None:
        run = [r for r in statement.rounds if r >= since]
        since = None
        for number in reversed(run):
            scopes = released.get(number)
            if scopes is None or not scopes.verdict_released(scope):
                break
            since = number
    return dataclasses.replace(statement, figures=figures, consensus_round=since)


async def shown_final_list(session: AsyncSession, panel: Panel) -> ShownFinalList:
    """The final consensus list of ``panel`` as panellists may see it (five queries)."""
    final = await final_consensus_list(session, panel.id)
    if not final.statements:
        return ShownFinalList(panel.id, final.rounds_closed, ())
    number_of = dict(
        (
            await session.execute(
                select(Round.id, Round.number).where(
                    Round.panel_id == panel.id, Round.status == RoundStatus.CLOSED
                )
            )
        ).all()
    )
    by_pair = await load_released(session, panel, number_of)
    per_statement: dict[int, dict[int, ReleasedScopes]] = {}
    for (round_id, sid), scopes in by_pair.items():
        per_statement.setdefault(sid, {})[number_of[round_id]] = scopes
    scope = rule_scope(panel)
    statements = tuple(
        shown_statement(s, per_statement.get(s.statement_id, {}), scope) for s in final.statements
    )
    return ShownFinalList(panel.id, final.rounds_closed, statements)
