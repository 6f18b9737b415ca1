"""The facilitator's list of a panel's rounds with their counts."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import Panel, Rating, Round, RoundStatement, Submission


async def round_overview(session: AsyncSession, panel: Panel) -> list[dict[str, Any]]:
    """Every round with its statement count, respondents and submissions, oldest first."""
    rounds = (
        await session.scalars(select(Round).where(Round.panel_id == panel.id).order_by(Round.number))
    ).all()
    out = []
    for r in rounds:
        n_statements = await session.scalar(
            select(func.count()).select_from(RoundStatement).where(RoundStatement.round_id == r.id)
        )
        n_submitted = await session.scalar(
            select(func.count()).select_from(Submission).where(Submission.round_id == r.id)
        )
        n_started = await session.scalar(
            select(func.count(func.distinct(Rating.panellist_id))).where(Rating.round_id == r.id)
        )
        out.append(
            {
                "round": r,
                "n_statements": n_statements or 0,
                "n_submitted": n_submitted or 0,
                "n_started": n_started or 0,
            }
        )
    return out
