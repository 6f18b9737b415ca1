"""The small, shared facts of a panel every results view needs: its groups, rounds and statements.

:func:`load_frame` reads them with three queries (no N+1); views then look things up in the dicts.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from delphi import __version__
from delphi.db.models import Panel, Round, RoundStatement, StakeholderGroup, Statement
from delphi.domain import AnalysisPopulation, RoundStatus
from delphi.errors import Conflict
from delphi.rounds import lookup
from delphi.stats.rules import ConsensusRule
from delphi.stats.settings import AnalysisSettings


@dataclass(frozen=True, slots=True)
class Frame:
    """A panel with its groups (display order), rounds (by number), statements (by id) and, per round number,
    the round's RoundStatement links in the round's order (verdict and outcome are set once it closed).

    ``rule`` is None when the panel's stored rule cannot be read (a draft panel with no rule yet).
    """

    panel: Panel
    groups: tuple[StakeholderGroup, ...]
    rounds: tuple[Round, ...]
    statements: dict[int, Statement]
    links: dict[int, tuple[RoundStatement, ...]]

    @property
    def group_names(self) -> dict[int, str]:
        return {g.id: g.name for g in self.groups}

    @property
    def closed_rounds(self) -> tuple[Round, ...]:
        return tuple(r for r in self.rounds if r.status == RoundStatus.CLOSED)

    @property
    def last_closed(self) -> Round | None:
        closed = self.closed_rounds
        return closed[-1] if closed else None

    def round_by_number(self, number: int) -> Round | None:
        """Round ``number`` of the panel, or None when it has none."""
        return next((r for r in self.rounds if r.number == number), None)

    def round_numbered(self, number: int) -> Round:
        """Round ``number``; NotFound ("This panel has no round N.") when the panel has none."""
        round_ = self.round_by_number(number)
        if round_ is None:
            raise lookup.no_such_round(number)
        return round_

    def monitored_round(self, number: int | None) -> Round:
        """The round to monitor: round ``number`` when given, else the open round, else the latest that opened;
        Conflict before round 1 opens."""
        if number is not None:
            return self.round_numbered(number)
        opened = [r for r in self.rounds if r.status != RoundStatus.DRAFT]
        current = next((r for r in opened if r.status == RoundStatus.OPEN), None) or (
            opened[-1] if opened else None
        )
        if current is None:
            raise Conflict("There is nothing to monitor yet: round 1 has not opened.")
        return current

    def closed_round(self, number: int) -> Round:
        """Round ``number`` if it has closed; NotFound, or Conflict saying what to do instead, otherwise."""
        round_ = self.round_numbered(number)
        if round_.status != RoundStatus.CLOSED:
            raise Conflict(
                f"Round {number} is {round_.status}: its results appear once it closes. "
                f"Watch the responses on the monitoring page meanwhile."
            )
        return round_

    def asked(self, number: int) -> list[int]:
        """Statement ids asked in round ``number``, in the round's order ([] for an unknown round)."""
        return [link.statement_id for link in self.links.get(number, ())]

    @property
    def rule(self) -> ConsensusRule | None:
        return rule_of(self.panel)

    @property
    def analysis_settings(self) -> AnalysisSettings:
        return lookup.analysis_settings(self.panel)


def rule_of(panel: Panel) -> ConsensusRule | None:
    """The panel's consensus rule, or None when none is set or it cannot be read."""
    try:
        return lookup.panel_rule(panel) if panel.rule else None
    except ValueError:
        return None


def settings_record(panel: Panel) -> dict[str, object]:
    """Every setting that shapes the results, as a flat JSON-able dict (reports, codebook, JSON exports)."""
    rule = rule_of(panel)
    return {
        "software": f"delphi-engine {__version__}",
        "scale_min": panel.scale_min,
        "scale_max": panel.scale_max,
        "scale_labels": list(panel.scale_labels or []),
        "unable_offered": panel.allow_unable,
        "unable_label": panel.unable_label,
        "analysis_population": panel.analysis_population,
        "analysis_population_text": AnalysisPopulation(panel.analysis_population).description,
        "quantile_method": panel.quantile_method,
        "unable_policy": panel.unable_policy,
        "rule": panel.rule or None,
        "rule_text": rule.describe() if rule else "",
        "rule_locked_at": panel.rule_locked_at,
        "rule_changed_after_lock": panel.rule_changed_after_lock,
        "k_min": panel.k_min,
        "max_rounds": panel.max_rounds,
        "honorarium_minor": panel.honorarium_minor,
        "currency": panel.currency,
    }


async def load_frame(session: AsyncSession, panel: Panel) -> Frame:
    """Groups, rounds, statements and round statements of ``panel`` (four queries)."""
    groups = (
        await session.scalars(
            select(StakeholderGroup)
            .where(StakeholderGroup.panel_id == panel.id)
            .order_by(StakeholderGroup.position, StakeholderGroup.id)
        )
    ).all()
    rounds = (
        await session.scalars(select(Round).where(Round.panel_id == panel.id).order_by(Round.number))
    ).all()
    statements = (await session.scalars(select(Statement).where(Statement.panel_id == panel.id))).all()
    rows = (
        await session.execute(
            select(Round.number, RoundStatement)
            .join(Round, Round.id == RoundStatement.round_id)
            .where(Round.panel_id == panel.id)
            .order_by(Round.number, RoundStatement.position, RoundStatement.id)
        )
    ).all()
    links: dict[int, list[RoundStatement]] = {}
    for number, link in rows:
        links.setdefault(number, []).append(link)
    return Frame(
        panel=panel,
        groups=tuple(groups),
        rounds=tuple(rounds),
        statements={s.id: s for s in statements},
        links={n: tuple(v) for n, v in links.items()},
    )
