"""Who stayed and who left: the participant flow across rounds, per group, and an attrition-bias check.

**Flow.** For each group: invited (every panellist), then per round that has opened: *responded*
(submitted that round) and *retained* (submitted every round up to and including it). Rounds still open
count "so far".

**Attrition bias.** A *dropout of round r* submitted round r but no later closed round; a *completer*
submitted the last closed round L. For every round r < L and every statement asked in r, the round-r ratings
of the dropouts of round r are compared with the round-r ratings of the completers (only ratings of panellists
who submitted round r count): median, percent agreeing (the rule's agree band and the panel's unable policy),
the difference in percentage points (dropouts minus completers) and a two-sided Mann-Whitney U p-value
(asymptotic, tie-corrected; None when a cohort has no ratings). A large difference warns that the final result
may reflect who stayed rather than what the panel thought.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from sqlalchemy import case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import Panellist, Rating, Round, StakeholderGroup, Submission
from delphi.domain import RoundStatus
from delphi.stats.between import mann_whitney_from_counts
from delphi.stats.describe import describe_counts
from delphi.stats.settings import AnalysisSettings


@dataclass(frozen=True, slots=True)
class FlowRow:
    """One group's flow (``group_id`` None: all groups).

    ``responded[i]`` and ``retained[i]`` are for ``Flow.rounds[i]``.
    """

    group_id: int | None
    name: str
    invited: int
    responded: tuple[int, ...]
    retained: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Flow:
    """``rounds``: numbers of the rounds that have opened, ascending; ``open_rounds``: those still open."""

    rounds: tuple[int, ...]
    open_rounds: frozenset[int]
    rows: tuple[FlowRow, ...]


@dataclass(frozen=True, slots=True)
class BiasRow:
    """Dropouts of ``round`` against completers on one statement. Percentages 0-100; None where undefined."""

    round: int
    statement_id: int
    n_dropouts: int
    median_dropouts: float | None
    pct_agree_dropouts: float | None
    n_completers: int
    median_completers: float | None
    pct_agree_completers: float | None
    difference: float | None
    p_value: float | None


@dataclass(frozen=True, slots=True)
class BiasSummary:
    """Per round: people who dropped out after it, completers, the mean absolute difference in percentage
    points over statements where both cohorts rated, and how many statements differ at p < 0.05."""

    round: int
    dropouts: int
    completers: int
    mean_abs_difference: float | None
    n_significant: int


async def load_submissions(session: AsyncSession, panel_id: int) -> list[tuple[int, int]]:
    """``(panellist_id, round number)`` for every submission of the panel (one query)."""
    rows = await session.execute(
        select(Submission.panellist_id, Round.number)
        .join(Round, Round.id == Submission.round_id)
        .where(Round.panel_id == panel_id)
    )
    return [(int(p), int(n)) for p, n in rows.all()]


async def load_membership(session: AsyncSession, panel_id: int) -> list[tuple[int, int]]:
    """``(panellist_id, group_id)`` of every panellist of the panel (one query)."""
    rows = await session.execute(
        select(Panellist.id, Panellist.group_id).where(Panellist.panel_id == panel_id)
    )
    return [(int(p), int(g)) for p, g in rows.all()]


def participant_flow(
    members: Iterable[tuple[int, int]],
    submissions: Iterable[tuple[int, int]],
    rounds: Sequence[Round],
    groups: Sequence[StakeholderGroup],
) -> Flow:
    """Assemble the flow (pure). Draft rounds are left out; groups in ``groups`` order, then all groups."""
    opened = [r for r in rounds if r.status != RoundStatus.DRAFT]
    numbers = tuple(r.number for r in opened)
    done: dict[int, set[int]] = {}
    for pid, number in submissions:
        done.setdefault(pid, set()).add(number)
    member_list = list(members)

    def row(group_id: int | None, name: str, people: list[int]) -> FlowRow:
        responded, retained = [], []
        for i, number in enumerate(numbers):
            responded.append(sum(number in done.get(p, ()) for p in people))
            upto = set(numbers[: i + 1])
            retained.append(sum(upto <= done.get(p, set()) for p in people))
        return FlowRow(group_id, name, len(people), tuple(responded), tuple(retained))

    rows = [row(g.id, g.name, [p for p, gid in member_list if gid == g.id]) for g in groups]
    rows.append(row(None, "All groups", [p for p, _ in member_list]))
    return Flow(
        rounds=numbers,
        open_rounds=frozenset(r.number for r in opened if r.status == RoundStatus.OPEN),
        rows=tuple(rows),
    )


def cohorts(submissions: Iterable[tuple[int, int]], last_closed: int) -> tuple[dict[int, int], int]:
    """Dropouts per round (``{round: people whose last submitted closed round it was}``, rounds < L) and the
    number of completers (submitted round L). Only rounds up to ``last_closed`` count."""
    last: dict[int, int] = {}
    for pid, number in submissions:
        if number <= last_closed:
            last[pid] = max(last.get(pid, 0), number)
    dropouts: dict[int, int] = {}
    completers = 0
    for number in last.values():
        if number == last_closed:
            completers += 1
        else:
            dropouts[number] = dropouts.get(number, 0) + 1
    return dropouts, completers


async def load_bias_counts(
    session: AsyncSession, panel_id: int, last_closed: int
) -> list[tuple[int, int, int, int | None, bool, int]]:
    """Aggregated ratings for the bias check, one query: ``(round, statement_id, is_completer, value, unable,
    count)`` over submitted ratings of closed rounds before ``last_closed``, for dropouts of that round and
    for completers."""
    last = (
        select(Submission.panellist_id.label("pid"), func.max(Round.number).label("last_round"))
        .join(Round, Round.id == Submission.round_id)
        .where(Round.panel_id == panel_id, Round.status == RoundStatus.CLOSED, Round.number <= last_closed)
        .group_by(Submission.panellist_id)
        .subquery()
    )
    completer = case((last.c.last_round == last_closed, 1), else_=0)
    rows = await session.execute(
        select(Round.number, Rating.statement_id, completer, Rating.value, Rating.unable, func.count())
        .select_from(Rating)
        .join(Round, Round.id == Rating.round_id)
        .join(
            Submission,
            (Submission.round_id == Rating.round_id) & (Submission.panellist_id == Rating.panellist_id),
        )
        .join(last, last.c.pid == Rating.panellist_id)
        .where(
            Round.panel_id == panel_id,
            Round.status == RoundStatus.CLOSED,
            Round.number < last_closed,
            or_(last.c.last_round == last_closed, last.c.last_round == Round.number),
        )
        .group_by(Round.number, Rating.statement_id, completer, Rating.value, Rating.unable)
    )
    return [(int(r), int(s), int(c), v, bool(u), int(n)) for r, s, c, v, u, n in rows.all()]


def _num(x: float) -> float | None:
    return None if np.isnan(x) else float(x)


def attrition_bias(
    counts: Iterable[tuple[int, int, int, int | None, bool, int]],
    statement_order: dict[int, Sequence[int]],
    settings: AnalysisSettings,
    agree: tuple[int, int],
    disagree: tuple[int, int],
) -> list[BiasRow]:
    """Compare dropouts with completers per round and statement (pure).

    ``statement_order`` maps a round number to its statement ids in display order; statements without any
    counted rating still get a row (all None). Ratings off the scale are ignored.
    """
    k = settings.n_points
    table: dict[tuple[int, int], np.ndarray] = {}
    unable: dict[tuple[int, int], np.ndarray] = {}
    for number, sid, is_completer, value, is_unable, n in counts:
        key = (number, sid)
        c = table.setdefault(key, np.zeros((2, k), dtype=np.int64))
        u = unable.setdefault(key, np.zeros(2, dtype=np.int64))
        if is_unable:
            u[is_completer] += n
        elif value is not None and settings.scale_min <= value <= settings.scale_max:
            c[is_completer, value - settings.scale_min] += n
    keys = [(number, sid) for number in sorted(statement_order) for sid in statement_order[number]]
    if not keys:
        return []
    c_all = np.stack([table.get(key, np.zeros((2, k), dtype=np.int64)) for key in keys])  # (S, 2, K)
    u_all = np.stack([unable.get(key, np.zeros(2, dtype=np.int64)) for key in keys])  # (S, 2)
    desc = describe_counts(c_all, u_all, settings, agree, disagree)
    _, p = mann_whitney_from_counts(c_all[:, 0], c_all[:, 1])
    out = []
    for i, (number, sid) in enumerate(keys):
        pa_d, pa_c = _num(desc.pct_agree[i, 0]), _num(desc.pct_agree[i, 1])
        out.append(
            BiasRow(
                round=number,
                statement_id=sid,
                n_dropouts=int(desc.n[i, 0]),
                median_dropouts=_num(desc.median[i, 0]),
                pct_agree_dropouts=pa_d,
                n_completers=int(desc.n[i, 1]),
                median_completers=_num(desc.median[i, 1]),
                pct_agree_completers=pa_c,
                difference=None if pa_d is None or pa_c is None else pa_d - pa_c,
                p_value=_num(p[i]),
            )
        )
    return out


def summarise_bias(
    rows: Iterable[BiasRow], dropouts: dict[int, int], completers: int, alpha: float = 0.05
) -> list[BiasSummary]:
    """One summary per round that has dropouts or bias rows, ascending."""
    by_round: dict[int, list[BiasRow]] = {}
    for r in rows:
        by_round.setdefault(r.round, []).append(r)
    out = []
    for number in sorted(set(by_round) | set(dropouts)):
        items = by_round.get(number, [])
        diffs = [abs(r.difference) for r in items if r.difference is not None]
        out.append(
            BiasSummary(
                round=number,
                dropouts=dropouts.get(number, 0),
                completers=completers,
                mean_abs_difference=sum(diffs) / len(diffs) if diffs else None,
                n_significant=sum(r.p_value is not None and r.p_value < alpha for r in items),
            )
        )
    return out
