"""The frozen results of a closed round, per statement, pooled and per group, with flags and filters.

Reads what :func:`delphi.rounds.transitions.close_round` froze (RoundResult rows, RoundStatement verdict and
outcome); never recomputes. Two queries: the round's statements with their outcomes, and its result rows.

Flags (a statement may carry several):

* ``divergent``: the rule is met in at least one group and not in another (groups with too few ratings
  for a verdict are ignored); ``lived_split`` says in addition whether a lived-experience group (e.g. service
  users) is on a different side from the others;
* ``suppressed``: at least one group has fewer ratings than the panel's k (shown to facilitators, marked;
  hidden from panellists, with as many other groups as disclosure control hides to protect it: each scope's
  ``shown_to_panellists`` says what panellists were shown, by :func:`delphi.stats.disclosure.decide`);
* ``sensitive``: at least one of the standard alternative definitions gives another verdict.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import Round, RoundResult, RoundStatement, StakeholderGroup, Statement
from delphi.domain import POOLED_SCOPE, group_scope
from delphi.results.scope_row import FROZEN_FIGURES
from delphi.rounds.released import scope_counts
from delphi.stats.disclosure import decide
from delphi.stats.presets import PRESETS, SENSITIVITY_RULE_NAMES
from delphi.stats.stopping import ListAdvice, list_advice, statement_advice

#: Flag keys and their labels, in display order.
FLAGS: dict[str, str] = {
    "divergent": "Groups diverge",
    "suppressed": "Group under k",
    "sensitive": "Verdict depends on the definition",
}
#: Verdict labels as frozen at close, in display order.
VERDICTS: dict[str, str] = {
    "in": "Consensus in",
    "out": "Consensus out",
    "none": "No consensus",
    "insufficient": "Too few ratings",
}
#: Names of the alternative definitions (:data:`delphi.stats.presets.SENSITIVITY_RULE_NAMES`), in plain words.
SENSITIVITY_LABELS: dict[str, str] = {name: PRESETS[name].label for name in SENSITIVITY_RULE_NAMES}


@dataclass(frozen=True, slots=True)
class ScopeFigures:
    """One scope's frozen figures. ``group_id`` None for the pooled panel.

    ``n`` to ``verdict`` are :data:`delphi.results.scope_row.FROZEN_FIGURES`, copied by name from the result row.
    ``pct_*`` are percentages 0-100 (None where undefined); ``counts`` ratings per scale point, lowest first;
    ``suppressed`` is true for a group with fewer than k ratings; ``shown_to_panellists`` whether panellists
    see this scope's figures (false for a group under k, for a group hidden so that a smaller one's ratings
    cannot be worked out, and for every scope of a statement fewer than k rated); ``stats`` every other frozen
    statistic.
    """

    scope: str
    group_id: int | None
    name: str
    lived_experience: bool
    n: int
    n_unable: int
    median: float | None
    q1: float | None
    q3: float | None
    iqr: float | None
    pct_agree: float | None
    pct_disagree: float | None
    verdict: str
    counts: tuple[int, ...]
    suppressed: bool
    shown_to_panellists: bool = True
    stats: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class StatementResult:
    """One statement's results in one closed round."""

    statement_id: int
    version: int
    parent_id: int | None
    section: str
    text: str
    position: int
    verdict: str
    pooled: ScopeFigures | None
    groups: tuple[ScopeFigures, ...]
    sensitivity: dict[str, str]
    divergence_test: str
    divergence_p: float | None
    stability: dict[str, Any] | None
    flags: frozenset[str]
    lived_split: bool
    #: Under a balanced rule, the group-balanced figures that decided the verdict (``median``, ``q1``, ``q3``,
    #: ``iqr`` in scale points; ``pct_agree``, ``pct_disagree`` as the mean of the group shares, 0-100;
    #: ``verdict``), frozen at close; None under another rule or for a round closed before they were frozen.
    balanced: dict[str, Any] | None = None


async def load_round_results(
    session: AsyncSession, round_: Round, groups: Sequence[StakeholderGroup], k_min: int
) -> list[StatementResult]:
    """The round's statements in round order with their frozen figures (two queries).

    A statement with no RoundResult rows (a round closed before results were frozen) has ``pooled`` None and
    no groups.
    """
    links = (
        await session.execute(
            select(RoundStatement, Statement)
            .join(Statement, Statement.id == RoundStatement.statement_id)
            .where(RoundStatement.round_id == round_.id)
            .order_by(RoundStatement.position, RoundStatement.id)
        )
    ).all()
    results = (await session.scalars(select(RoundResult).where(RoundResult.round_id == round_.id))).all()
    return assemble(links, results, groups, k_min)


def figures(
    row: RoundResult, group: StakeholderGroup | None, k_min: int, shown_to_panellists: bool = True
) -> ScopeFigures:
    """A RoundResult row as :class:`ScopeFigures`; groups with ``n < k_min`` are marked suppressed."""
    return ScopeFigures(
        scope=row.scope,
        group_id=row.group_id,
        name=group.name if group is not None else "All panellists",
        lived_experience=bool(group is not None and group.is_lived_experience),
        **{name: getattr(row, name) for name in FROZEN_FIGURES},
        counts=tuple(int(c) for c in row.counts or ()),
        suppressed=group is not None and row.n < k_min,
        shown_to_panellists=shown_to_panellists,
        stats=dict(row.stats or {}),
    )


def lived_experience_split(groups: Iterable[ScopeFigures]) -> bool:
    """True when a lived-experience group's verdict differs from another group's ("insufficient" ignored)."""
    decided = [g for g in groups if g.verdict != "insufficient"]
    lived = {g.verdict for g in decided if g.lived_experience}
    others = {g.verdict for g in decided if not g.lived_experience}
    return bool(lived and others and lived != others)


def assemble(
    links: Iterable[tuple[RoundStatement, Statement]],
    results: Iterable[RoundResult],
    groups: Sequence[StakeholderGroup],
    k_min: int,
) -> list[StatementResult]:
    """Join round statements with their result rows (pure). Groups come in ``groups`` order."""
    by_statement: dict[int, dict[str, RoundResult]] = {}
    for row in results:
        by_statement.setdefault(row.statement_id, {})[row.scope] = row
    out = []
    for link, statement in links:
        rows = by_statement.get(statement.id, {})
        pooled_row = rows.get(POOLED_SCOPE)
        shown = shown_to_panellists(rows, groups, k_min)
        group_figures = tuple(
            figures(rows[group_scope(g.id)], g, k_min, group_scope(g.id) in shown)
            for g in groups
            if group_scope(g.id) in rows
        )
        outcome = dict(link.outcome or {})
        sensitivity = dict(outcome.get("sensitivity") or {})
        verdict = link.verdict or (pooled_row.verdict if pooled_row is not None else "insufficient")
        flags = set()
        if outcome.get("split"):
            flags.add("divergent")
        if any(g.suppressed for g in group_figures):
            flags.add("suppressed")
        if any(v != verdict for v in sensitivity.values()):
            flags.add("sensitive")
        out.append(
            StatementResult(
                statement_id=statement.id,
                version=statement.version,
                parent_id=statement.parent_id,
                section=statement.section,
                text=statement.text,
                position=link.position,
                verdict=verdict,
                pooled=figures(pooled_row, None, k_min, POOLED_SCOPE in shown)
                if pooled_row is not None
                else None,
                groups=group_figures,
                sensitivity=sensitivity,
                divergence_test=str(outcome.get("divergence_test") or ""),
                divergence_p=outcome.get("divergence_p"),
                stability=outcome.get("stability"),
                flags=frozenset(flags),
                lived_split=lived_experience_split(group_figures),
                balanced=outcome.get("balanced"),
            )
        )
    return out


def shown_to_panellists(
    rows: Mapping[str, RoundResult], groups: Sequence[StakeholderGroup], k_min: int
) -> frozenset[str]:
    """The scope keys of one statement's rows that panellists were shown (the disclosure decision of
    :func:`delphi.stats.disclosure.decide` on the frozen rows, as every panellist page applies it).

    ``rows`` maps scope keys (``"all"``, ``"group:<id>"``) to rows; ``groups`` in display order.  Empty when
    there is no pooled row or fewer than ``k_min`` rated.
    """
    pooled = rows.get(POOLED_SCOPE)
    if pooled is None:
        return frozenset()
    present = [g for g in groups if group_scope(g.id) in rows]
    release = decide(scope_counts(pooled), [scope_counts(rows[group_scope(g.id)]) for g in present], k_min)
    if not release.pooled:
        return frozenset()
    return frozenset(
        {POOLED_SCOPE} | {group_scope(g.id) for g, on in zip(present, release.groups, strict=True) if on}
    )


def filter_results(
    results: Iterable[StatementResult],
    *,
    verdict: str | None = None,
    section: str | None = None,
    flag: str | None = None,
) -> list[StatementResult]:
    """Statements matching every given filter; ``None`` or ``""`` means "any"."""
    return [
        r
        for r in results
        if (not verdict or r.verdict == verdict)
        and (section is None or section == "" or r.section == section)
        and (not flag or flag in r.flags)
    ]


def sections(results: Iterable[StatementResult]) -> list[str]:
    """Distinct sections in order of first appearance (``""`` included when some statement has none)."""
    seen: dict[str, None] = {}
    for r in results:
        seen.setdefault(r.section, None)
    return list(seen)


def tally(results: Iterable[StatementResult]) -> dict[str, int]:
    """Statements per verdict and per flag, e.g. ``{"in": 3, ..., "divergent": 1, ...}``.

    Every verdict and flag is a key, with 0 when no statement has it.
    """
    items = list(results)
    counts = {v: sum(r.verdict == v for r in items) for v in VERDICTS}
    counts.update({f: sum(f in r.flags for r in items) for f in FLAGS})
    return counts


async def previous_verdicts(session: AsyncSession, round_: Round) -> dict[int, str]:
    """``{statement id: verdict}`` of the round before ``round_`` (one query; ``{}`` for round 1)."""
    if round_.number <= 1:
        return {}
    rows = await session.execute(
        select(RoundStatement.statement_id, RoundStatement.verdict)
        .join(Round, Round.id == RoundStatement.round_id)
        .where(Round.panel_id == round_.panel_id, Round.number == round_.number - 1)
    )
    return {int(sid): v for sid, v in rows.all() if v}


def stopping(results: Iterable[StatementResult], previous: Mapping[int, str]) -> ListAdvice:
    """The stopping advice of a closed round (:mod:`delphi.stats.stopping`), pure: each statement's frozen
    stability and its verdict against ``previous`` (verdicts of the round before, by statement id; a rewording
    is compared with the version it rewords)."""
    items = []
    for r in results:
        before = previous.get(r.statement_id)
        if before is None and r.parent_id is not None:
            before = previous.get(r.parent_id)
        items.append((statement_advice(r.statement_id, r.stability, r.verdict, before), r.verdict))
    return list_advice(items)
