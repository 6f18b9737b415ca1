"""What panellists may see of a ranking question's frozen results: the pooled order only when at least k people
ranked, no group under k, and no group whose figures with the pooled ones would give a hidden group away (the
rules of delphi.stats.disclosure.decide, applied to RankingResult's n and n_unable)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import RankingResult, StakeholderGroup
from delphi.domain import POOLED_SCOPE, group_scope
from delphi.rounds.ranking_figures import load_ranking_release, order_items, ranking_counts, release_ranking
from delphi.stats.disclosure import remainder, safe_total
from tests.factories import make_groups, make_panel, make_round
from tests.panellist.rankings import add_ranking_result, make_ranking

TEXTS = {1: "Waiting times", 2: "Being listened to", 3: "Clear letters"}


def row(n: int, means: tuple[float, float, float] = (2.0, 1.0, 3.0), n_unable: int = 0) -> RankingResult:
    """A frozen row (not stored) of question 7 in round 5 with the given mean ranks of items 1, 2, 3."""
    return RankingResult(
        round_id=5,
        question_id=7,
        scope="",
        n=n,
        n_unable=n_unable,
        df=2,
        verdict="none",
        items=[
            {"item_id": i, "mean_rank": m, "median_rank": m, "rank_sum": m * n}
            for i, m in zip(TEXTS, means, strict=True)
        ],
    )


def groups(count: int) -> list[StakeholderGroup]:
    return [StakeholderGroup(id=100 + i, panel_id=1, name=f"Group {i + 1}", position=i) for i in range(count)]


def scopes(pooled: RankingResult, *per_group: RankingResult) -> dict[str, RankingResult]:
    out = {POOLED_SCOPE: pooled}
    for i, r in enumerate(per_group):
        out[group_scope(100 + i)] = r
    return out


def shown(release) -> list[bool]:  # type: ignore[no-untyped-def]
    return [g.figures is not None for g in release.groups]


def test_the_pooled_order_is_by_mean_rank_best_first_with_the_questions_order_breaking_ties() -> None:
    release = release_ranking(scopes(row(5, (2.0, 1.0, 2.0))), [], 3, TEXTS)
    assert release is not None and release.pooled is not None
    assert [(i.place, i.text, i.mean_rank) for i in release.pooled.items] == [
        (1, "Being listened to", 1.0),
        (2, "Waiting times", 2.0),
        (3, "Clear letters", 2.0),
    ]
    assert (release.round_id, release.question_id, release.pooled.n) == (5, 7, 5)


def test_nothing_is_released_when_fewer_than_k_people_ranked() -> None:
    release = release_ranking(scopes(row(2, n_unable=4), row(2)), groups(1), 3, TEXTS)
    assert release is not None
    assert release.pooled is None and release.groups == () and not release.release.pooled


def test_no_pooled_row_means_no_release() -> None:
    assert release_ranking({group_scope(100): row(5)}, groups(1), 3, TEXTS) is None


def test_a_group_under_k_is_hidden_and_the_others_shown_when_the_remainder_is_safe() -> None:
    # pooled 10 = 3 + 3 + 4: every group has k and the remainder is 0
    release = release_ranking(scopes(row(10), row(3), row(3), row(4)), groups(3), 3, TEXTS)
    assert release is not None and shown(release) == [True, True, True]  # remainder 0
    small = release_ranking(scopes(row(12), row(3), row(3), row(4), row(2)), groups(4), 3, TEXTS)
    assert small is not None
    # hidden: the group of 2 (under k); remainder 12 - 10 = 2 < 3, so the smallest shown (first group of 3) too
    assert shown(small) == [False, True, True, False]
    assert small.release.primary == (False, False, False, True)


def test_hiding_only_the_small_group_would_be_undone_by_subtraction_so_its_complement_is_hidden_too() -> None:
    # Two groups, 5 and 2 rankings, k = 3.  Showing group 1 alone would give group 2's rank sums away:
    # pooled rank sum - group 1's = the two hidden people's.  Both groups are hidden; pooled (7) is shown.
    pooled, big, small = row(7, (1.5, 2.0, 2.5)), row(5, (1.2, 2.0, 2.8)), row(2, (2.25, 2.0, 1.75))
    release = release_ranking(scopes(pooled, big, small), groups(2), 3, TEXTS)
    assert release is not None and release.pooled is not None
    assert shown(release) == [False, False]
    assert [g.name for g in release.groups] == ["Group 1", "Group 2"]
    # what the reader could work out: pooled minus the groups shown, which covers 0 or at least k people
    left = remainder(ranking_counts(pooled), [ranking_counts(big), ranking_counts(small)], [False, False])
    assert left is not None and safe_total(left.n, 3) and safe_total(left.people, 3)


def test_unable_to_rank_answers_count_among_the_people_a_remainder_may_reveal() -> None:
    # groups of 4 and 3 rankings and a third group with only 1 "unable to rank": that group is hidden, and
    # pooled minus the two others would say that 1 person answered "unable", so the smaller one is hidden too.
    release = release_ranking(
        scopes(row(7, n_unable=1), row(4), row(3), row(0, n_unable=1)), groups(3), 3, TEXTS
    )
    assert release is not None and shown(release) == [True, False, False]


def test_items_no_longer_in_the_question_or_without_a_mean_rank_are_left_out_of_the_order() -> None:
    items = [
        {"item_id": 1, "mean_rank": 2.0},
        {"item_id": "2", "mean_rank": 1.0, "median_rank": 1},
        {"item_id": 9, "mean_rank": 1.5},
        {"item_id": 3, "mean_rank": None},
        {"item_id": True, "mean_rank": 1.0},
    ]
    assert [(i.item_id, i.place, i.median_rank) for i in order_items(items, TEXTS)] == [
        (2, 1, 1.0),
        (1, 2, None),
    ]


async def test_the_stored_rows_of_a_round_are_released_by_the_panels_k(session: AsyncSession) -> None:
    panel = await make_panel(session, k_min=4)
    users, practitioners = await make_groups(session, panel)
    question, items = await make_ranking(session, panel)
    rnd = await make_round(session, panel, [], 1, status="closed")
    await add_ranking_result(session, rnd, question, items, [2.0, 1.0, 3.0], n=9)
    await add_ranking_result(session, rnd, question, items, [2.0, 1.0, 3.0], n=5, group=users)
    await add_ranking_result(session, rnd, question, items, [2.0, 1.0, 3.0], n=4, group=practitioners)
    await session.commit()
    texts = {i.id: i.text for i in items}
    release = await load_ranking_release(session, panel, rnd.id, question.id, texts)
    assert release is not None and release.pooled is not None
    assert [i.text for i in release.pooled.items] == ["Being listened to", "Waiting times", "Clear letters"]
    assert [(g.name, g.figures is not None) for g in release.groups] == [
        ("Service users", True),
        ("Practitioners", True),
    ]
    panel.k_min = 5  # practitioners (4) now under k: hidden, and users with them (9 - 5 = 4 < 5)
    release = await load_ranking_release(session, panel, rnd.id, question.id, texts)
    assert release is not None and [g.figures for g in release.groups] == [None, None]
    assert await load_ranking_release(session, panel, rnd.id, question.id + 1, texts) is None
