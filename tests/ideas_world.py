"""A panel whose round 1 is an open round (idea generation), for the open-round tests: rows written directly."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import OpenQuestion, utcnow
from tests.factories import World, build_panel


@dataclass
class IdeasWorld:
    """:class:`~tests.factories.World` with round 1 an open round and its two open questions."""

    world: World
    questions: list[OpenQuestion]


async def build_ideas_panel(
    session: AsyncSession,
    *,
    round_status: str = "open",
    panellists: int = 4,
    consented: bool = True,
    **panel_kw,
) -> IdeasWorld:
    """A panel with two groups, no statements, ``panellists`` people (consented unless told) and round 1 an
    open round in ``round_status`` closing in a week, asking "What helps?" and "What gets in the way?"."""
    world = await build_panel(
        session,
        sections=(),
        panellists=panellists,
        consented=consented,
        round_status=round_status,
        round_kw={"kind": "open", "closes_in": timedelta(days=7)},
        panel_kw={"max_rounds": 3, **panel_kw},
    )
    questions = [
        OpenQuestion(panel_id=world.panel.id, text="What helps?", hint="One idea a box.", position=0),
        OpenQuestion(panel_id=world.panel.id, text="What gets in the way?", position=1),
    ]
    session.add_all(questions)
    await session.flush()
    if round_status == "draft":
        world.round.opened_at = None  # type: ignore[union-attr]
        world.round.closes_at = utcnow() + timedelta(days=7)  # type: ignore[union-attr]
    return IdeasWorld(world, questions)
