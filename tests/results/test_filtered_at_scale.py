"""The round results filtered by a baseline answer read counts (SQL aggregates per statement, group, scale point
and stored answer), never the round's rating matrix: pinned here against the matrix reading they replace.

The reference below is the matrix computation the filter used until issue 17 (every rating loaded with
:func:`delphi.db.queries.load_rating_matrix`, every baseline answer as an object, the subset as a column mask),
kept as the oracle.  The study (tests/study.py, k = 3, 14 panellists) is given answers that reach the edges:
"prefer not to say", a choice stored twice, several choices ticked, a panellist who never consented, one erased
with their ratings kept (still a respondent, no longer counted in a subset), and one erased with their ratings
deleted after the close (so the frozen figures and the ratings left disagree).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import BaselineAnswer, BaselineQuestion, Panellist
from delphi.db.queries import load_rating_matrix
from delphi.domain import POOLED_SCOPE, Actor, AnalysisPopulation, BaselineKind, group_scope
from delphi.panels.panellists import erase_panellist
from delphi.results import filtered
from delphi.results.characteristics import answers_by_question, counted_people
from delphi.results.frame import Frame, load_frame
from delphi.settings import Settings
from delphi.stats import analyse_round
from delphi.stats.disclosure import GROUP_SCOPES, ScopeCounts
from tests.results.helpers import World, build_world

YEARS = ["Under 5", "5 or more", "Rarely asked"]
ROLES = ["Clinician", "Manager", "Carer"]


async def _world(session: AsyncSession, settings: Settings) -> tuple[World, list[BaselineQuestion]]:
    world = await build_world(session, settings, rounds=2)
    years = BaselineQuestion(panel_id=world.pid, kind="single", text="Years", choices=YEARS)
    roles = BaselineQuestion(panel_id=world.pid, kind="multiple", text="Roles", choices=ROLES, position=1)
    session.add_all([years, roles])
    await session.flush()
    people = world.study.panellists
    for i, p in enumerate(people):
        if i == 4:
            session.add(BaselineAnswer(panellist_id=p.id, question_id=years.id, prefer_not=True))
        elif i == 6:
            session.add(
                BaselineAnswer(panellist_id=p.id, question_id=years.id, chosen=["Under 5", "Under 5"])
            )
        else:
            session.add(BaselineAnswer(panellist_id=p.id, question_id=years.id, chosen=[YEARS[i % 3]]))
        ticked = [ROLES[0]] if i < 9 else [] if i == 13 else [ROLES[1], ROLES[2]] if i % 2 else [ROLES[1]]
        if i in (2, 3):
            ticked.append(ROLES[2])
        session.add(BaselineAnswer(panellist_id=p.id, question_id=roles.id, chosen=ticked))
    people[10].consented_at = None
    await session.flush()
    actor = Actor("system")
    await erase_panellist(session, world.study.panel, people[11].id, delete_ratings=False, actor=actor)
    await erase_panellist(session, world.study.panel, people[12].id, delete_ratings=True, actor=actor)
    await session.commit()
    return world, [years, roles]


# --- the matrix reading, as the filter did it until issue 17 ---------------------------------------------------


async def _matrix_data(session: AsyncSession, frame: Frame, round_id: int) -> dict:
    panel = frame.panel
    matrix = await load_rating_matrix(
        session, panel.id, round_id, population=AnalysisPopulation(panel.analysis_population)
    )
    questions, answers = await answers_by_question(session, panel.id)
    counted = frozenset(p.id for p in await counted_people(session, panel.id))
    frozen = await filtered._frozen_counts(session, round_id)
    return {
        "m": matrix,
        "questions": [q for q in questions if q.kind in (BaselineKind.SINGLE, BaselineKind.MULTIPLE)],
        "answers": answers,
        "counted": counted,
        "frozen": frozen,
    }


def _mask(d: dict, question: BaselineQuestion, choice: str) -> np.ndarray:
    mine = d["answers"].get(question.id, {})
    ids = [
        pid
        for pid, a in mine.items()
        if pid in d["counted"] and not a.prefer_not and choice in (a.chosen or ())
    ]
    return np.isin(d["m"].panellist_ids, np.asarray(ids, dtype=np.int64))


def _counts(m, mask: np.ndarray, groups: np.ndarray | None = None) -> list[ScopeCounts]:
    cols = mask if groups is None else mask & groups
    rated = (~np.isnan(m.values[:, cols])).sum(axis=1)
    unable = m.unable[:, cols].sum(axis=1)
    return [ScopeCounts(int(n), int(u)) for n, u in zip(rated.tolist(), unable.tolist(), strict=True)]


def _whole(d: dict, scope: str, fallback: list[ScopeCounts]) -> list[ScopeCounts]:
    return [
        d["frozen"].get((int(sid), scope), fallback[i]) for i, sid in enumerate(d["m"].statement_ids.tolist())
    ]


def _reason(d: dict, mask: np.ndarray, k: int, labels: Mapping[int, str]) -> str:
    m = d["m"]
    everyone = np.ones(len(m.panellist_ids), bool)
    return filtered.refusal(
        int(mask.sum()),
        len(mask),
        _counts(m, mask),
        _whole(d, POOLED_SCOPE, _counts(m, everyone)),
        k,
        [labels.get(int(s), str(s)) for s in m.statement_ids.tolist()],
    )


def _reference_options(d: dict, k: int, labels: Mapping[int, str]) -> list[filtered.FilterQuestion]:
    return [
        filtered.FilterQuestion(
            q.id,
            q.text,
            tuple(
                filtered.FilterOption(f"{q.id}:{i}", str(c), _reason(d, _mask(d, q, c), k, labels))
                for i, c in enumerate(q.choices)
            ),
        )
        for q in d["questions"]
    ]


def _reference_results(
    d: dict, frame: Frame, question: BaselineQuestion, index: int
) -> filtered.FilteredResults | str:
    """The subset's figures, or the refusal's message."""
    choice = str(question.choices[index])
    k = max(1, int(frame.panel.k_min))
    mask = _mask(d, question, choice)
    why = _reason(d, mask, k, {})
    if why:
        return f"Results for “{choice}” cannot be shown: {why}."
    m = d["m"]
    g_count = len(m.group_ids)
    analysis = analyse_round(
        m.values[:, mask],
        m.unable[:, mask],
        m.group_index[mask] if g_count else None,
        max(g_count, 1),
        frame.rule,
        frame.analysis_settings,
    )
    everyone = np.ones(len(m.panellist_ids), bool)
    sub_pooled = _counts(m, mask)
    whole_pooled = _whole(d, POOLED_SCOPE, _counts(m, everyone))
    sub_groups = [_counts(m, mask, m.group_index == g) for g in range(g_count)]
    whole_groups = [
        _whole(d, group_scope(int(gid)), _counts(m, everyone, m.group_index == g))
        for g, gid in enumerate(m.group_ids.tolist())
    ]
    names = [grp.name for grp in frame.groups]
    verdicts = analysis.verdict_labels()
    per_group_rule = frame.rule is not None and frame.rule.scope in GROUP_SCOPES
    statements = []
    for i, sid in enumerate(m.statement_ids.tolist()):
        sg = [sub_groups[g][i] for g in range(g_count)]
        wg = [whole_groups[g][i] for g in range(g_count)]
        shown = filtered.shown_groups(sub_pooled[i], sg, whole_pooled[i], wg, k)
        scopes = tuple(
            filtered._scope(analysis.groups[g], i, names[g])
            if shown[g]
            else filtered.FilteredScope(names[g], False)
            for g in range(g_count)
        )
        small = any(
            0 < c.n < k or 0 < c.people < k
            for c in [
                *sg,
                *(filtered.complement(w, s) or ScopeCounts(0) for w, s in zip(wg, sg, strict=True)),
            ]
        )
        statements.append(
            filtered.FilteredStatement(
                int(sid),
                filtered._scope(analysis.pooled, i, "Panellists who gave this answer"),
                scopes,
                None if per_group_rule and small else verdicts[i],
            )
        )
    return filtered.FilteredResults(
        f"{question.id}:{index}", question.text, choice, int(mask.sum()), len(mask), tuple(statements)
    )


# --- the pins --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("population", ["submitted", "all"])
@pytest.mark.parametrize("k", [1, 2, 3, 4])
async def test_every_filter_choice_is_allowed_refused_and_figured_as_the_matrix_reading_gave(
    session: AsyncSession, settings: Settings, population: str, k: int
) -> None:
    world, questions = await _world(session, settings)
    panel = world.study.panel
    panel.analysis_population = population
    panel.k_min = k
    await session.flush()
    frame = await load_frame(session, panel)
    round_ = world.study.rounds[1]
    reference = await _matrix_data(session, frame, round_.id)
    labels = {int(s): f"1.{i + 1}" for i, s in enumerate(reference["m"].statement_ids.tolist())}
    expected_options = _reference_options(reference, k, labels)
    assert await filtered.filter_options(session, frame, round_, labels) == expected_options
    allowed = 0
    for question in questions:
        for index in range(len(question.choices)):
            expected = _reference_results(reference, frame, question, index)
            try:
                got, options = await filtered.load_filtered_results(
                    session, frame, round_, f"{question.id}:{index}"
                )
            except filtered.FilterRefused as refused:
                assert str(refused) == expected
                continue
            assert got == expected
            assert options == _reference_options(reference, k, {})
            allowed += 1
    assert allowed >= 2, "the study should allow some filters at every k tried"


async def test_a_respondent_erased_with_ratings_kept_counts_in_the_total_but_in_no_subset(
    session: AsyncSession, settings: Settings
) -> None:
    world, (years, _) = await _world(session, settings)
    panel = world.study.panel
    panel.k_min = 1
    frame = await load_frame(session, panel)
    round_ = world.study.rounds[1]
    erased = await session.scalar(select(Panellist).where(Panellist.id == world.study.panellists[11].id))
    assert erased is not None and erased.erased_at is not None
    result, _ = await filtered.load_filtered_results(session, frame, round_, f"{years.id}:2")
    # 14 sent round 1, less the one erased with their ratings deleted: 13 respondents.  "Rarely asked"
    # (i % 3 == 2): panellists 2, 5, 8 and 11, the last erased with their ratings kept -> 3 in the subset.
    assert (result.choice, result.total, result.n) == ("Rarely asked", 13, 3)
