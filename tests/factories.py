"""The one panel factory of the tests: rows written directly (no facilitator service), so a test states only
what it needs.

:func:`build_panel` makes a running panel with groups, statements in sections, panellists with working links
and (unless ``round_status=None``) round 1 asking every statement; the ``make_*`` helpers add one kind of row
each, and ``add_result``/``add_rating`` frozen results and answers.  Every helper adds to the given session and
flushes; the caller commits.  Tokens are derived exactly as the application derives them
(``panellist_token(secret, id, session_version)``), so ``/p/{token}`` works.
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
from delphi.domain import POOLED_SCOPE, CommentStatus, PanellistStatus, group_scope
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
    """One panel ready for panellists: its groups, statements, first panellist (with token), the other
    panellists (with tokens) and round 1 (None when :func:`build_panel` was asked for no round)."""

    panel: Panel
    groups: list[StakeholderGroup]
    statements: list[Statement]
    panellist: Panellist
    token: str
    round: Round | None
    others: list[tuple[Panellist, str]] = field(default_factory=list)

    @property
    def people(self) -> list[tuple[Panellist, str]]:
        """Every panellist with their link token, in the order made (the first is :attr:`panellist`)."""
        return [(self.panellist, self.token), *self.others]


async def make_panel(
    session: AsyncSession, title: str = "Involving people in their treatment", **kw
) -> Panel:
    """A running panel on the nine-point scale under :data:`COMET`; ``kw`` sets or overrides any column."""
    columns = {
        "description": "We want to agree how services should involve people in decisions.",
        "consent_text": "Taking part is voluntary.\n\nYour answers are stored without your name.",
        "scale_labels": NINE_LABELS,
        "rule": COMET,
        "status": "running",
    }
    panel = Panel(title=title, **(columns | kw))
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
    (made,) = await make_panellists(session, panel, [group], 1, first=n, consented=consented, **kw)
    return made


async def make_panellists(
    session: AsyncSession,
    panel: Panel,
    groups: Sequence[StakeholderGroup],
    count: int,
    *,
    first: int = 1,
    consented: bool = False,
    pseudonym: str = "P-{n:03d}",
    **kw,
) -> list[tuple[Panellist, str]]:
    """``count`` panellists numbered from ``first`` (e-mail ``person<n>.<panel id>@example.org``, pseudonym
    ``pseudonym`` formatted with ``n``), spread over ``groups`` in turn, each with a working link; a consented
    one is active.  Two flushes whatever ``count`` (load tests make hundreds)."""
    people = [
        Panellist(
            panel_id=panel.id,
            group_id=groups[i % len(groups)].id,
            email=f"person{n}.{panel.id}@example.org",
            pseudonym=pseudonym.format(n=n),
            consented_at=utcnow() if consented else None,
            **({"status": PanellistStatus.ACTIVE} if consented else {}),
            **kw,
        )
        for i, n in enumerate(range(first, first + count))
    ]
    session.add_all(people)
    await session.flush()
    tokens = [panellist_token(TEST_SECRET, p.id, p.session_version) for p in people]
    for person, token in zip(people, tokens, strict=True):
        person.token_hash = token_digest(token)
        person.token_issued_at = utcnow()
    await session.flush()
    return list(zip(people, tokens, strict=True))


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


async def build_panel(
    session: AsyncSession,
    *,
    panellists: int = 1,
    consented: bool = False,
    pseudonym: str = "P-{n:03d}",
    sections: Sequence[tuple[str, int]] = (("Information", 3), ("Choice", 4)),
    groups: Sequence[str] = ("Service users", "Practitioners"),
    round_status: str | None = "open",
    panel_kw: dict | None = None,
) -> World:
    """A running panel (``panel_kw`` overrides its columns) with ``groups``, statements in ``sections``
    (``(name, count)``: seven in two sections by default), ``panellists`` people spread over the groups in turn
    (the first in the first group; ``pseudonym`` as in :func:`make_panellists`) and round 1 in ``round_status`` asking every statement (None: no round)."""
    panel = await make_panel(session, **(panel_kw or {}))
    made_groups = await make_groups(session, panel, groups)
    statements = await make_statements(session, panel, sections)
    people = await make_panellists(
        session, panel, made_groups, panellists, consented=consented, pseudonym=pseudonym
    )
    rnd = await make_round(session, panel, statements, status=round_status) if round_status else None
    (person, token), *others = people
    return World(panel, made_groups, statements, person, token, rnd, others)
