"""Counting a round's ratings in SQL gives exactly the table the statistics core builds from the matrix."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import (
    Panel,
    Panellist,
    Rating,
    Round,
    RoundStatement,
    StakeholderGroup,
    Statement,
    Submission,
)
from delphi.db.queries import count_round_ratings, load_rating_matrix
from delphi.domain import AnalysisPopulation
from delphi.stats import AnalysisSettings, analyse_round, analyse_tabulation, rule_by_name, tabulate


async def seeded_round(session: AsyncSession) -> tuple[int, int]:
    panel = Panel(title="P", rule=rule_by_name("comet").to_dict())
    session.add(panel)
    await session.flush()
    groups = [StakeholderGroup(panel_id=panel.id, name=n, position=i) for i, n in enumerate("ABC")]
    session.add_all(groups)
    round_ = Round(panel_id=panel.id, number=1, status="open")
    session.add(round_)
    await session.flush()
    statements = [Statement(panel_id=panel.id, text=f"S{i}", position=i) for i in range(5)]
    session.add_all(statements)
    people = [
        Panellist(panel_id=panel.id, group_id=groups[i % 3].id, email=f"p{i}@x.org", pseudonym=f"P-{i}")
        for i in range(17)
    ]
    session.add_all(people)
    await session.flush()
    session.add_all(
        [
            RoundStatement(round_id=round_.id, statement_id=s.id, position=4 - i)
            for i, s in enumerate(statements)
        ]
    )
    rng = np.random.default_rng(3)
    rows = []
    for p in people[:-1]:  # the last person never answers
        for s in statements:
            kind = rng.integers(0, 12)
            if kind == 0:
                continue  # no row at all
            rows.append(
                {
                    "round_id": round_.id,
                    "statement_id": s.id,
                    "panellist_id": p.id,
                    "value": None if kind in (1, 2) else int(rng.integers(1, 10)),
                    "unable": kind == 1,
                }
            )
    await session.execute(insert(Rating), rows)
    # two out of three panellists sent the round; the others left drafts
    session.add_all([Submission(round_id=round_.id, panellist_id=p.id) for p in people if p.id % 3])
    await session.flush()
    return panel.id, round_.id


@pytest.mark.parametrize("population", list(AnalysisPopulation))
async def test_sql_counts_equal_the_tabulated_matrix(
    session: AsyncSession, population: AnalysisPopulation
) -> None:
    panel_id, round_id = await seeded_round(session)
    settings = AnalysisSettings()
    counted = await count_round_ratings(session, panel_id, round_id, 1, 9, population=population)
    matrix = await load_rating_matrix(session, panel_id, round_id, population=population)
    assert counted.statement_ids.tolist() == matrix.statement_ids.tolist()
    table = tabulate(matrix.values, matrix.unable, matrix.group_index, len(matrix.group_ids), settings)
    np.testing.assert_array_equal(counted.tabulation.counts, table.counts)
    np.testing.assert_array_equal(counted.tabulation.n_unable, table.n_unable)
    np.testing.assert_array_equal(counted.tabulation.group_size, table.group_size)
    rule = rule_by_name("comet")
    from_counts = analyse_tabulation(counted.tabulation, rule, settings).records()
    from_matrix = analyse_round(matrix.values, matrix.unable, matrix.group_index, 3, rule, settings).records()
    assert from_counts == from_matrix


async def test_the_submitted_population_leaves_out_exactly_the_unsent_drafts(session: AsyncSession) -> None:
    panel_id, round_id = await seeded_round(session)
    every = await load_rating_matrix(session, panel_id, round_id, population=AnalysisPopulation.ALL)
    sent = await load_rating_matrix(session, panel_id, round_id, population=AnalysisPopulation.SUBMITTED)
    submitted = set((await session.scalars(select(Submission.panellist_id))).all())
    assert set(sent.panellist_ids.tolist()) == submitted & set(every.panellist_ids.tolist())
    assert 0 < len(sent.panellist_ids) < len(every.panellist_ids)
    keep = np.isin(every.panellist_ids, sent.panellist_ids)
    np.testing.assert_array_equal(every.values[:, keep], sent.values)
    counted = await count_round_ratings(
        session, panel_id, round_id, 1, 9, population=AnalysisPopulation.SUBMITTED
    )
    assert int(counted.tabulation.group_size.sum()) == len(sent.panellist_ids)
