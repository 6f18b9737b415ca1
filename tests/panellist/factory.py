"""Rows for panellist tests, written directly (no facilitator service): panel, groups, statements, panellists,
rounds with their statements, frozen results and ratings.

Every helper adds to the given session and flushes; the caller commits.  Tokens are derived exactly as the
application derives them (``panellist_token(secret, id, session_version)``), so ``/p/{token}`` works.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import (
    Panel,
    Panellist,
    Rating,
    Round,
    RoundResult,
    RoundStatement,
    StakeholderGroup,
    Statement,
    utcnow,
)
from delphi.domain import POOLED_SCOPE, CommentStatus, group_scope
from delphi.security import panellist_token, token_digest
from tests.conftest import TEST_SECRET

NINE_LABELS = ["Strongly disagree", "", "", "", "Neither agree nor disagree", "", "", "", "Strongly agree"]
COMET = {
    "name": "comet",
    "criterion": {
        "kind": "percent",
        "threshold": 70.0,
        "inclusive": True,
        "max_opposite": 15.0,
        "max_opposite_inclusive": False,
    },
    "agree": [7, 9],
    "disagree": [1, 3],
    "scope": "pooled",
    "min_ratings": 2,
}


@dataclass
class World:
    """One panel ready for a panellist: its groups, statements, first panellist (with token) and round."""

    panel: Panel
    groups: list[StakeholderGroup]
    statements: list[Statement]
    panellist: Panellist
    token: str
    round: Round
    others: list[tuple[Panellist, str]] = field(default_factory=list)


async def make_panel(
    session: AsyncSession, title: str = "Involving people in their treatment", **kw
) -> Panel:
    panel = Panel(
        title=title,
        description="We want to agree how services should involve people in decisions.",
        consent_text="Taking part is voluntary.\n\nYour answers are stored without your name.",
        scale_labels=NINE_LABELS,
        rule=COMET,
        status="running",
        **kw,
    )
    session.add(panel)
    await session.flush()
    return panel


async def make_groups(
    session: AsyncSession, panel: Panel, names: Sequence[str] = ("Service users", "Practitioners")
):
    groups = [StakeholderGroup(panel_id=panel.id, name=n, position=i) for i, n in enumerate(names)]
    session.add_all(groups)
    await session.flush()
    return groups


async def make_statements(
    session: AsyncSession,
    panel: Panel,
    sections: Sequence[tuple[str, int]] = (("Information", 3), ("Choice", 4)),
) -> list[Statement]:
    rows = []
    pos = 0
    for section, n in sections:
        for i in range(n):
            pos += 1
            rows.append(
                Statement(
                    panel_id=panel.id, section=section, text=f"{section} statement {i + 1}", position=pos
                )
            )
    session.add_all(rows)
    await session.flush()
    return rows


async def make_panellist(
    session: AsyncSession, panel: Panel, group: StakeholderGroup, n: int = 1, *, consented: bool = False, **kw
) -> tuple[Panellist, str]:
    """A panellist with a working link; returns it and its token."""
    person = Panellist(
        panel_id=panel.id,
        group_id=group.id,
        email=f"person{n}.{panel.id}@example.org",
        pseudonym=f"P-{n:03d}",
        consented_at=utcnow() if consented else None,
        **kw,
    )
    session.add(person)
    await session.flush()
    token = panellist_token(TEST_SECRET, person.id, person.session_version)
    person.token_hash = token_digest(token)
    person.token_issued_at = utcnow()
    await session.flush()
    return person, token


async def make_round(
    session: AsyncSession,
    panel: Panel,
    statements: Sequence[Statement],
    number: int = 1,
    *,
    status: str = "open",
    closes_in: timedelta | None = timedelta(days=7),
) -> Round:
    now = utcnow()
    rnd = Round(
        panel_id=panel.id,
        number=number,
        status=status,
        opened_at=now - timedelta(days=1) if status != "draft" else None,
        closes_at=now + closes_in if closes_in is not None else None,
        closed_at=now if status == "closed" else None,
    )
    session.add(rnd)
    await session.flush()
    session.add_all(
        [RoundStatement(round_id=rnd.id, statement_id=s.id, position=i) for i, s in enumerate(statements)]
    )
    await session.flush()
    return rnd


def figures(counts: Sequence[int], scale_min: int = 1) -> dict:
    """n, median, q1, q3, iqr (type 7 quartiles) of a distribution given as counts per scale point."""
    values = np.repeat(np.arange(scale_min, scale_min + len(counts)), counts)
    if values.size == 0:
        return {"n": 0, "median": None, "q1": None, "q3": None, "iqr": None}
    q1, med, q3 = (float(x) for x in np.percentile(values, [25, 50, 75]))
    return {"n": int(values.size), "median": med, "q1": q1, "q3": q3, "iqr": q3 - q1}


async def add_result(
    session: AsyncSession,
    rnd: Round,
    statement: Statement,
    counts: Sequence[int],
    *,
    group: StakeholderGroup | None = None,
    n_unable: int = 0,
    verdict: str = "none",
) -> RoundResult:
    f = figures(counts)
    n = f["n"]
    agree = sum(counts[6:9]) if len(counts) >= 9 else 0
    disagree = sum(counts[0:3])
    row = RoundResult(
        round_id=rnd.id,
        statement_id=statement.id,
        scope=group_scope(group.id) if group else POOLED_SCOPE,
        group_id=group.id if group else None,
        n=n,
        n_unable=n_unable,
        median=f["median"],
        q1=f["q1"],
        q3=f["q3"],
        iqr=f["iqr"],
        pct_agree=100 * agree / n if n else None,
        pct_disagree=100 * disagree / n if n else None,
        verdict=verdict,
        counts=list(counts),
    )
    session.add(row)
    await session.flush()
    return row


async def add_rating(
    session: AsyncSession,
    rnd: Round,
    statement: Statement,
    panellist: Panellist,
    value: int | None,
    *,
    unable: bool = False,
    comment: str = "",
    comment_status: str = CommentStatus.PENDING,
) -> Rating:
    row = Rating(
        round_id=rnd.id,
        statement_id=statement.id,
        panellist_id=panellist.id,
        value=value,
        unable=unable,
        comment=comment,
        comment_status=comment_status,
    )
    session.add(row)
    await session.flush()
    return row


async def make_world(
    session: AsyncSession,
    *,
    consented: bool = False,
    panel_kw: dict | None = None,
    round_status: str = "open",
) -> World:
    """A running panel with two groups, seven statements in two sections, one panellist and round 1."""
    panel = await make_panel(session, **(panel_kw or {}))
    groups = await make_groups(session, panel)
    statements = await make_statements(session, panel)
    person, token = await make_panellist(session, panel, groups[0], consented=consented)
    rnd = await make_round(session, panel, statements, status=round_status)
    return World(panel, groups, statements, person, token, rnd)
