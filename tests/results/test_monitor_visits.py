""" "Opened" on the monitor means opened in this round: a visit while the round is open (a RoundVisit) or an
answer saved in it; a visit in an earlier round does not count.

The study (tests/study.py) with ``rounds=1``: round 1 closed, round 2 drafted; every panellist visited their
link in round 1 (``first_visit_at``).
"""

from __future__ import annotations

import asyncio
import re

from litestar.testing import AsyncTestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from delphi.db.engine import make_sessionmaker
from delphi.db.models import Panellist, RoundVisit
from delphi.participation.links import record_round_visit
from delphi.results import monitoring
from delphi.settings import Settings
from tests.results.helpers import OWNER, build_world, login, sign_in_panellist
from tests.study import open_round


async def visits(session: AsyncSession, round_id: int) -> int:
    session.expire_all()
    n = await session.scalar(
        select(func.count()).select_from(RoundVisit).where(RoundVisit.round_id == round_id)
    )
    return int(n or 0)


async def test_opened_counts_only_this_rounds_visits_not_an_earlier_rounds(
    session: AsyncSession, settings: Settings
) -> None:
    world = await build_world(session, settings, rounds=1)
    r2 = await open_round(session, world.study, 2)
    assert all(p.first_visit_at is not None for p in world.study.panellists)
    progress = await monitoring.load_progress(session, r2)
    assert sum(p.opened for p in progress) == 0, "a visit in round 1 is no visit in round 2"
    assert await record_round_visit(session, world.study.panellists[4])
    progress = await monitoring.load_progress(session, r2)
    assert [p.pseudonym for p in progress if p.opened] == ["P-005"]
    total = monitoring.summarise(progress, list(world.study.groups.values()))[-1]
    assert (total.invited, total.opened, total.started) == (14, 1, 0)


async def test_a_round_visit_is_recorded_once_and_only_while_a_round_is_open(
    session: AsyncSession, settings: Settings
) -> None:
    world = await build_world(session, settings, rounds=1)
    person = world.study.panellists[0]
    assert not await record_round_visit(session, person), "no round is open: nothing to record"
    r2 = await open_round(session, world.study, 2)
    assert await record_round_visit(session, person)
    assert not await record_round_visit(session, person)
    assert await visits(session, r2.id) == 1


async def test_two_visits_at_once_record_one_row_and_neither_fails(
    engine: AsyncEngine, session: AsyncSession, settings: Settings
) -> None:
    world = await build_world(session, settings, rounds=1)
    r2 = await open_round(session, world.study, 2)
    round_id, person_id = r2.id, world.study.panellists[0].id
    await session.commit()

    async def visit() -> None:
        async with make_sessionmaker(engine)() as s, s.begin():
            p = await s.get(Panellist, person_id)
            assert p is not None
            await record_round_visit(s, p)

    await asyncio.gather(visit(), visit())
    assert await visits(session, round_id) == 1


async def test_opening_the_personal_link_in_an_open_round_records_the_visit(
    session: AsyncSession, client: AsyncTestClient, settings: Settings
) -> None:
    world = await build_world(session, settings, rounds=1)
    r2 = await open_round(session, world.study, 2)
    round_id = r2.id
    await session.commit()
    await sign_in_panellist(client, world.study.tokens[2])
    await client.get("/panel")
    assert await visits(session, round_id) == 1


async def test_a_closed_rounds_monitor_is_titled_with_its_closing_date(
    session: AsyncSession, client: AsyncTestClient, settings: Settings
) -> None:
    world = await build_world(session, settings, rounds=1)
    await login(client, OWNER)
    response = await client.get(f"/panels/{world.pid}/monitor?round=1")
    assert response.status_code == 200
    assert re.search(r"Round 1 \(closed \d{1,2} \w+ \d{4}\): who took part", response.text)
    assert "so far" not in response.text
