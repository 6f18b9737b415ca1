"""What the round use cases read off a panel: its round by number, its consensus rule, its analysis settings."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import Panel, Round
from delphi.errors import NotFound
from delphi.stats import AnalysisSettings, ConsensusRule


def panel_rule(panel: Panel) -> ConsensusRule:
    """The panel's stored consensus rule (pure); raises ValueError, TypeError or KeyError when it cannot be read.

    :func:`delphi.results.frame.rule_of` is the lenient reading (None instead of an error) for the results views.
    """
    return ConsensusRule.from_dict(panel.rule)


def analysis_settings(panel: Panel) -> AnalysisSettings:
    """The panel's scale, quantile method and unable policy as :class:`AnalysisSettings` (pure)."""
    return AnalysisSettings(
        scale_min=panel.scale_min,
        scale_max=panel.scale_max,
        quantile_method=panel.quantile_method,
        unable_policy=panel.unable_policy,
    )


async def get_round(session: AsyncSession, panel: Panel, number: int) -> Round:
    """Round ``number`` (1-based) of ``panel``; raises NotFound when the panel has no such round."""
    round_ = await session.scalar(select(Round).where(Round.panel_id == panel.id, Round.number == number))
    if round_ is None:
        raise no_such_round(number)
    return round_


def no_such_round(number: int) -> NotFound:
    """The refusal for a round number the panel does not have (pages, API and use cases alike)."""
    return NotFound(f"This panel has no round {number}.")
