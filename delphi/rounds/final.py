"""The final consensus list of a panel: every statement's last verdict and figures, as plain dataclasses.

Used by the panellists' results page and by researchers' exports, so it returns frozen dataclasses with
plain values (no ORM objects) and reads only frozen data: ``RoundStatement.verdict`` and the pooled
``RoundResult`` of closed rounds.

Which statements are listed: every statement asked in at least one closed round, except one that was
reworded later (a statement whose ``parent_id`` points at it was itself asked in a closed round); the
rewording stands in its place and carries the earlier wordings in ``earlier_texts``.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import Round, RoundResult, RoundStatement, Statement
from delphi.domain import POOLED_SCOPE, RoundStatus

__all__ = ["CONSENSUS", "FinalConsensusList", "FinalFigures", "FinalStatement", "final_consensus_list"]

#: Verdicts that are consensus (to include or to exclude).
CONSENSUS = frozenset({"in", "out"})


@dataclass(frozen=True, slots=True)
class FinalFigures:
    """The pooled figures of a statement in its last rated round (a copy of the frozen RoundResult).

    ``counts`` per scale point from the panel's ``scale_min``; percentages 0-100; None where undefined.
    """

    round_number: int
    n: int
    n_unable: int
    median: float | None
    q1: float | None
    q3: float | None
    iqr: float | None
    pct_agree: float | None
    pct_disagree: float | None
    counts: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class FinalStatement:
    """One statement of the final list.

    ``verdict``: ``"in"``, ``"out"``, ``"none"`` or ``"insufficient"`` in the last closed round it was rated
    in (``last_round``); ``consensus_round``: the round from which that in/out verdict held without a break to
    the end (None without consensus); ``rounds``: every closed round number it was asked in, ascending;
    ``earlier_texts``: the wordings it replaced, oldest first; ``figures``: None when no pooled result exists.
    """

    statement_id: int
    section: str
    text: str
    position: int
    status: str
    origin: str
    origin_round: int | None
    verdict: str
    last_round: int
    consensus_round: int | None
    rounds: tuple[int, ...]
    earlier_texts: tuple[str, ...]
    figures: FinalFigures | None

    @property
    def consensus(self) -> bool:
        return self.verdict in CONSENSUS


@dataclass(frozen=True, slots=True)
class FinalConsensusList:
    """A panel's final list, in the panel's statement order; ``rounds_closed`` closed rounds in all."""

    panel_id: int
    rounds_closed: int
    statements: tuple[FinalStatement, ...]

    @property
    def consensus_in(self) -> list[FinalStatement]:
        return [s for s in self.statements if s.verdict == "in"]

    @property
    def consensus_out(self) -> list[FinalStatement]:
        return [s for s in self.statements if s.verdict == "out"]

    @property
    def no_consensus(self) -> list[FinalStatement]:
        """Statements without consensus: verdict "none" or "insufficient" (too few ratings)."""
        return [s for s in self.statements if s.verdict not in CONSENSUS]

    @property
    def reworded(self) -> list[FinalStatement]:
        return [s for s in self.statements if s.earlier_texts]


def consensus_since(verdicts_by_round: list[tuple[int, str]]) -> int | None:
    """First round of the unbroken run of the last verdict, if that verdict is consensus.

    ``verdicts_by_round``: ``(round number, verdict)`` ascending.
    ``[(1, "none"), (2, "in"), (3, "in")]`` → 2; ``[(1, "in"), (2, "none")]`` → None; ``[]`` → None.
    """
    if not verdicts_by_round or verdicts_by_round[-1][1] not in CONSENSUS:
        return None
    final = verdicts_by_round[-1][1]
    since = verdicts_by_round[-1][0]
    for number, verdict in reversed(verdicts_by_round):
        if verdict != final:
            break
        since = number
    return since


async def final_consensus_list(session: AsyncSession, panel_id: int) -> FinalConsensusList:
    """Build the final consensus list of ``panel_id`` from its closed rounds (three queries).

    A panel with no closed round gives an empty list.  A RoundStatement without a verdict (a round closed
    before verdicts were stored) falls back to the pooled RoundResult's verdict, then to ``"insufficient"``.
    """
    closed = (
        await session.execute(
            select(Round.id, Round.number).where(
                Round.panel_id == panel_id, Round.status == RoundStatus.CLOSED
            )
        )
    ).all()
    number_of = {rid: number for rid, number in closed}
    statements = {
        s.id: s
        for s in (
            await session.scalars(
                select(Statement)
                .where(Statement.panel_id == panel_id)
                .order_by(Statement.position, Statement.id)
            )
        ).all()
    }
    if not number_of:
        return FinalConsensusList(panel_id, 0, ())
    asked = (
        await session.execute(
            select(RoundStatement.round_id, RoundStatement.statement_id, RoundStatement.verdict).where(
                RoundStatement.round_id.in_(list(number_of))
            )
        )
    ).all()
    pooled = {
        (r.round_id, r.statement_id): r
        for r in (
            await session.scalars(
                select(RoundResult).where(
                    RoundResult.round_id.in_(list(number_of)), RoundResult.scope == POOLED_SCOPE
                )
            )
        ).all()
    }
    history: dict[int, list[tuple[int, str, int]]] = {}  # statement -> [(round number, verdict, round id)]
    for round_id, sid, verdict in asked:
        result = pooled.get((round_id, sid))
        v = verdict or (result.verdict if result is not None else None) or "insufficient"
        history.setdefault(sid, []).append((number_of[round_id], v, round_id))
    superseded = {s.parent_id for sid, s in statements.items() if sid in history and s.parent_id is not None}
    out = [
        _final_statement(st, sorted(history[sid]), pooled, statements)
        for sid, st in statements.items()
        if sid in history and sid not in superseded
    ]
    return FinalConsensusList(panel_id, len(number_of), tuple(out))


def _figures(result: RoundResult | None, round_number: int) -> FinalFigures | None:
    """The pooled figures of ``result`` (the statement's last round ``round_number``), or None without one."""
    if result is None:
        return None
    return FinalFigures(
        round_number=round_number,
        n=result.n,
        n_unable=result.n_unable,
        median=result.median,
        q1=result.q1,
        q3=result.q3,
        iqr=result.iqr,
        pct_agree=result.pct_agree,
        pct_disagree=result.pct_disagree,
        counts=tuple(int(c or 0) for c in (result.counts or [])),
    )


def _earlier_texts(st: Statement, statements: dict[int, Statement]) -> tuple[str, ...]:
    """The wordings ``st`` replaced, oldest first, following ``parent_id`` (a loop in the chain stops it)."""
    earlier: list[str] = []
    parent_id, seen = st.parent_id, {st.id}
    while parent_id is not None and parent_id in statements and parent_id not in seen:
        seen.add(parent_id)
        earlier.append(statements[parent_id].text)
        parent_id = statements[parent_id].parent_id
    return tuple(reversed(earlier))


def _final_statement(
    st: Statement,
    rounds: list[tuple[int, str, int]],
    pooled: dict[tuple[int, int], RoundResult],
    statements: dict[int, Statement],
) -> FinalStatement:
    """One statement's entry from its ``rounds`` ((round number, verdict, round id), in round order)."""
    last_number, last_verdict, last_round_id = rounds[-1]
    return FinalStatement(
        statement_id=st.id,
        section=st.section,
        text=st.text,
        position=st.position,
        status=st.status,
        origin=st.origin,
        origin_round=st.origin_round,
        verdict=last_verdict,
        last_round=last_number,
        consensus_round=consensus_since([(n, v) for n, v, _ in rounds]),
        rounds=tuple(n for n, _, _ in rounds),
        earlier_texts=_earlier_texts(st, statements),
        figures=_figures(pooled.get((last_round_id, st.id)), last_number),
    )
