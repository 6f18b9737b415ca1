"""The browser tests' database: three panels, one per stage, and a person per journey."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from delphi.db.engine import make_sessionmaker
from delphi.db.models import RoundStatement, Statement
from tests import factories as f

USERS = [0, 0, 1, 1, 1, 2, 4, 4, 3]
PRACTITIONERS = [0, 0, 0, 0, 0, 1, 1, 0, 0]


@dataclass(frozen=True)
class Person:
    token: str
    panellist_id: int
    round_id: int
    statement_ids: tuple[int, ...]


async def seed(engine: AsyncEngine) -> dict[str, Person]:
    people: dict[str, Person] = {}
    async with make_sessionmaker(engine)() as s, s.begin():
        # Panel A: round 1 open, paid, suggestions welcome.
        a = await f.make_panel(
            s, title="Involving people in decisions about their treatment", honorarium_minor=1500
        )
        ga = await f.make_groups(s, a)
        sa = await f.make_statements(s, a, (("Information before treatment", 3), ("Choice of services", 4)))
        ra = await f.make_round(s, a, sa, 1)
        for n, (who, consented) in enumerate(
            (("phone", False), ("desktop", False), ("nojs", True), ("leaver", True)), start=1
        ):
            person, token = await f.make_panellist(s, a, ga[n % 2], n, consented=consented)
            people[who] = Person(token, person.id, ra.id, tuple(x.id for x in sa))

        # Panel B: round 1 closed with results and a published comment, round 2 open; reasons asked.
        b = await f.make_panel(s, title="Round two panel", ask_reason_outside_iqr=True, k_min=3)
        users, practitioners = await f.make_groups(s, b)
        sb = await f.make_statements(s, b, (("Agreeing the plan", 3),))
        me, token = await f.make_panellist(s, b, users, 1, consented=True)
        other, _ = await f.make_panellist(s, b, practitioners, 2, consented=True)
        r1 = await f.make_round(s, b, sb, 1, status="closed")
        for st in sb:
            await f.add_result(s, r1, st, [x + y for x, y in zip(USERS, PRACTITIONERS, strict=True)])
            await f.add_result(s, r1, st, USERS, group=users)
            await f.add_result(s, r1, st, PRACTITIONERS, group=practitioners)
            await f.add_rating(s, r1, st, me, 7)
        await f.add_rating(
            s, r1, sb[0], other, 8, comment="Ask the person what they want first.", comment_status="published"
        )
        r2 = await f.make_round(s, b, sb, 2)
        people["feedback"] = Person(token, me.id, r2.id, tuple(x.id for x in sb))

        # Panel C: finished after one round.
        c = await f.make_panel(s, title="Finished panel", honorarium_minor=1500)
        gc = await f.make_groups(s, c)
        sc = await f.make_statements(s, c, (("Choice of services", 3),))
        rc = await f.make_round(s, c, sc, 1, status="closed")
        for st, verdict, counts in (
            (sc[0], "in", [0, 0, 0, 0, 0, 1, 4, 4, 3]),
            (sc[1], "out", [5, 4, 2, 1, 0, 0, 0, 0, 0]),
            (sc[2], "none", [1, 1, 2, 2, 2, 2, 1, 1, 0]),
        ):
            await f.add_result(s, rc, st, counts, verdict=verdict)
            row = await s.scalar(
                select(RoundStatement).where(
                    RoundStatement.round_id == rc.id, RoundStatement.statement_id == st.id
                )
            )
            assert row is not None
            row.verdict = verdict
        c.status = "finished"
        done, token = await f.make_panellist(s, c, gc[0], 1, consented=True)
        people["results"] = Person(token, done.id, rc.id, tuple(x.id for x in sc))
        assert await s.scalar(select(Statement.id).limit(1)) is not None
    return people
