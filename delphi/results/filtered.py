"""A closed round's results for the panellists who gave one answer to a baseline question, disclosure-controlled.

The facilitator round results page offers "Show results for panellists who answered <choice> to <question>" for
every single- and multiple-choice baseline question.  The subset is the respondents of the round (the panel's
analysis population: those with a saved row for one of the round's statements, the columns of :func:`delphi.db
.queries.load_rating_matrix`) who consented, were not erased, and whose answer includes the choice ("Prefer not to
say" matches no choice).  Its figures are computed afresh under the panel's rule and analysis settings
(``docs/statistics.md`` §2-3: type 7 quartiles by default, IQR = Q3 - Q1, agreement shares over the ratings given);
nothing is stored.

What is read (issue 17): counts, never the ratings.  Two ``GROUP BY`` queries (:func:`_tallies`) count the round's
ratings per statement, group, scale point and stored answer to each choice question, and its respondents per
group and stored answer; a choice's subset is the sum over the stored answers that include it, and its figures
come from :func:`delphi.stats.analysis.analyse_tabulation` on those counts (the same result as analysing the
ratings).  The unfiltered figures are the frozen ones, as before; only where one is missing are every
respondent's ratings counted too.

Disclosure control (BRIEF §7).  The unfiltered figures are on the same page, so a reader can subtract: the
*complement* (the round's other respondents) is as exposed as the subset.  A choice may be used only when

* the subset and the complement each hold 0 or at least ``k`` respondents (``Panel.k_min``), and
* for every statement of the round, the subset and the complement each cover 0 or at least ``k`` ratings and 0
  or at least ``k`` people who answered (ratings plus "unable"), the complement being the frozen pooled figures
  minus the subset's (:func:`complement`).

Within an allowed subset, a group's figures are shown only when the group has at least ``k`` ratings in the
subset (:func:`delphi.stats.disclosure.decide` on the subset's scopes), its complement in the group (frozen group
minus subset group) covers 0 or at least ``k`` ratings and people, and the hidden groups together leave 0 or at
least ``k`` in the subset and in the complement (:func:`shown_groups`).  The verdict is given under a pooled rule,
or under a per-group rule only when no group of the subset or of its complement has 1 to ``k - 1`` ratings.

A request naming a question or choice the panel does not have, or a choice refused by the rules above, raises
:class:`FilterRefused` (HTTP 400 with the reason); never a 500.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import ColumnElement, Text, and_, case, cast, func, literal_column, select
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import (
    BaselineAnswer,
    BaselineQuestion,
    Panellist,
    Rating,
    Round,
    RoundResult,
    RoundStatement,
)
from delphi.db.queries import in_population, panel_group_ids, round_statement_ids
from delphi.domain import POOLED_SCOPE, AnalysisPopulation, BaselineKind, group_scope
from delphi.errors import DelphiError
from delphi.results.frame import Frame
from delphi.stats import VERDICT_LABELS, ScopeStats, Tabulation, rule_by_name
from delphi.stats.analysis import analyse_tabulation
from delphi.stats.disclosure import GROUP_SCOPES, ScopeCounts, decide, safe_total
from delphi.stats.settings import AnalysisSettings

__all__ = [
    "FilterOption",
    "FilterQuestion",
    "FilterRefused",
    "FilteredResults",
    "FilteredScope",
    "FilteredStatement",
    "complement",
    "filter_options",
    "load_filtered_results",
    "parse_selection",
    "refusal",
    "shown_groups",
]

#: Kinds of baseline question a filter can read.
FILTER_KINDS = frozenset({BaselineKind.SINGLE, BaselineKind.MULTIPLE})

_SELECTION = re.compile(r"^(\d{1,12}):(\d{1,6})$")


class FilterRefused(DelphiError):
    """A filter that cannot be applied: unknown question or choice, or one that would disclose fewer than k."""

    status_code = 400


@dataclass(frozen=True, slots=True)
class FilterOption:
    """One choice of a question as the filter offers it: ``value`` (``"<question id>:<choice index>"``, the
    query-string value), the choice's text, and ``reason`` why it is disabled (``""`` when allowed)."""

    value: str
    choice: str
    reason: str

    @property
    def allowed(self) -> bool:
        return not self.reason


@dataclass(frozen=True, slots=True)
class FilterQuestion:
    """A single- or multiple-choice baseline question with its options, in the panel's order."""

    question_id: int
    text: str
    options: tuple[FilterOption, ...]


@dataclass(frozen=True, slots=True)
class FilteredScope:
    """One scope of the subset (everyone in it, or a group).  When ``shown`` is False every figure is None.

    ``n`` ratings, ``n_unable`` "unable" answers; ``median``, ``q1``, ``q3``, ``iqr`` in scale points (None
    where undefined); ``pct_agree``, ``pct_disagree`` 0-100; ``verdict`` that scope's own verdict label.
    """

    name: str
    shown: bool
    n: int | None = None
    n_unable: int | None = None
    median: float | None = None
    q1: float | None = None
    q3: float | None = None
    iqr: float | None = None
    pct_agree: float | None = None
    pct_disagree: float | None = None
    verdict: str | None = None


@dataclass(frozen=True, slots=True)
class FilteredStatement:
    """One statement's figures in the subset; ``verdict`` under the panel's rule, None when withheld."""

    statement_id: int
    pooled: FilteredScope
    groups: tuple[FilteredScope, ...]
    verdict: str | None


@dataclass(frozen=True, slots=True)
class FilteredResults:
    """The figures of an allowed filter: ``n`` respondents in the subset of ``total`` in the round."""

    value: str
    question: str
    choice: str
    n: int
    total: int
    statements: tuple[FilteredStatement, ...]


def parse_selection(value: str) -> tuple[int, int]:
    """``"<question id>:<choice index>"`` as two ints; FilterRefused for anything else."""
    m = _SELECTION.match(value or "")
    if m is None:
        raise FilterRefused(
            "Choose a baseline answer from the list: the filter must name a question and one of its choices."
        )
    return int(m.group(1)), int(m.group(2))


def complement(whole: ScopeCounts, part: ScopeCounts) -> ScopeCounts | None:
    """``whole`` minus ``part`` (ratings and "unable"); None when ``part`` is bigger (inconsistent input)."""
    n, unable = whole.n - part.n, whole.n_unable - part.n_unable
    if n < 0 or unable < 0:
        return None
    return ScopeCounts(n, unable)


def _safe(s: ScopeCounts | None, k: int) -> bool:
    return s is not None and safe_total(s.n, k) and safe_total(s.people, k)


def refusal(
    respondents: int,
    total: int,
    subset: Sequence[ScopeCounts],
    whole: Sequence[ScopeCounts],
    k: int,
    names: Sequence[str] = (),
) -> str:
    """Why a subset may not be shown, ``""`` when it may (pure).

    ``respondents`` of the round's ``total`` respondents are in the subset; ``subset[i]`` and ``whole[i]`` are
    statement i's pooled counts in the subset and in the unfiltered results; ``names[i]`` how to name statement
    i in the reason (default: its position, from 1).  The complement is ``whole - subset`` everywhere.
    """
    k = max(1, int(k))
    if respondents == 0:
        return "no panellist who answered this round gave this answer"
    if respondents < k:
        return f"fewer than {k} panellists gave this answer"
    if not safe_total(total - respondents, k):
        return f"all but fewer than {k} of the panellists who answered this round gave this answer"
    for i, (part, all_) in enumerate(zip(subset, whole, strict=True)):
        name = names[i] if i < len(names) else str(i + 1)
        if not _safe(part, k):
            return f"fewer than {k} panellists who gave this answer rated statement {name}"
        if not _safe(complement(all_, part), k):
            return f"all but fewer than {k} of the panellists who rated statement {name} gave this answer"
    return ""


def shown_groups(
    sub_pooled: ScopeCounts,
    sub_groups: Sequence[ScopeCounts],
    whole_pooled: ScopeCounts,
    whole_groups: Sequence[ScopeCounts],
    k: int,
) -> tuple[bool, ...]:
    """Which groups of one statement's subset may be shown (pure), groups in display order.

    Starts from :func:`delphi.stats.disclosure.decide` on the subset (a group with fewer than ``k`` ratings is
    hidden, and as many more as keep the hidden subset remainder at 0 or ``>= k``); then hides a group whose
    complement (``whole_groups[g] - sub_groups[g]``) covers 1 to ``k - 1`` ratings or people; then, while the
    hidden remainder of the subset or of the complement covers 1 to ``k - 1``, the smallest group still shown.
    Hiding every group leaves the pooled subset and complement, which :func:`refusal` has checked.
    """
    k = max(1, int(k))
    release = decide(sub_pooled, sub_groups, k)
    comp = [complement(w, s) for w, s in zip(whole_groups, sub_groups, strict=True)]
    shown = [
        bool(on) and _safe(c, k) and _safe(s, k)
        for on, c, s in zip(release.groups, comp, sub_groups, strict=True)
    ]
    comp_pooled = complement(whole_pooled, sub_pooled) or ScopeCounts(0)
    order = sorted(range(len(sub_groups)), key=lambda g: (sub_groups[g].n, g))

    def rest(pooled: ScopeCounts, groups: Sequence[ScopeCounts | None]) -> ScopeCounts | None:
        n = pooled.n - sum(g.n for g, on in zip(groups, shown, strict=True) if on and g is not None)
        u = pooled.n_unable - sum(
            g.n_unable for g, on in zip(groups, shown, strict=True) if on and g is not None
        )
        return ScopeCounts(n, u) if n >= 0 and u >= 0 else None

    while not (_safe(rest(sub_pooled, sub_groups), k) and _safe(rest(comp_pooled, comp), k)):
        nxt = next((g for g in order if shown[g]), None)
        if nxt is None:
            break
        shown[nxt] = False
    return tuple(shown)


def _num(value: float) -> float | None:
    v = float(value)
    return None if math.isnan(v) else v


async def _frozen_counts(session: AsyncSession, round_id: int) -> dict[tuple[int, str], ScopeCounts]:
    """``{(statement id, scope key): counts}`` of the round's frozen results (what the page shows unfiltered)."""
    rows = await session.execute(
        select(RoundResult.statement_id, RoundResult.scope, RoundResult.n, RoundResult.n_unable).where(
            RoundResult.round_id == round_id
        )
    )
    return {(int(sid), scope): ScopeCounts(int(n), int(u)) for sid, scope, n, u in rows.all()}


@dataclass(slots=True)
class _Tally:
    """The ratings of one kind of panellist, counted (never the ratings themselves).

    ``counts`` int64 (S, G + 1, K) ratings per statement, group and scale point (scale_min first); ``unable``
    (S, G + 1) "unable" answers; ``people`` (G + 1,) respondents.  The last group slot holds panellists whose
    group is not one of the panel's (none in a sound database), so they count in the pooled figures only.
    ``off_scale`` is a stored rating off the scale, if any (a damaged database: analysing it raises).
    """

    counts: np.ndarray
    unable: np.ndarray
    people: np.ndarray
    off_scale: int | None = None

    @staticmethod
    def empty(n_statements: int, n_groups: int, n_points: int) -> _Tally:
        return _Tally(
            np.zeros((n_statements, n_groups + 1, n_points), np.int64),
            np.zeros((n_statements, n_groups + 1), np.int64),
            np.zeros(n_groups + 1, np.int64),
        )

    def add(self, other: _Tally) -> _Tally:
        return _Tally(
            self.counts + other.counts,
            self.unable + other.unable,
            self.people + other.people,
            self.off_scale if self.off_scale is not None else other.off_scale,
        )

    def scope(self, group: int | None = None) -> list[ScopeCounts]:
        """Per statement, the counts pooled (``group`` None) or of group index ``group``."""
        if group is None:
            rated, unable = self.counts.sum(axis=(1, 2)), self.unable.sum(axis=1)
        else:
            rated, unable = self.counts[:, group, :].sum(axis=1), self.unable[:, group]
        return [ScopeCounts(int(n), int(u)) for n, u in zip(rated.tolist(), unable.tolist(), strict=True)]

    @property
    def respondents(self) -> int:
        return int(self.people.sum())


@dataclass(frozen=True, slots=True)
class _Data:
    """What the filter reads for a closed round: its statement and group ids (display order), the filtering
    questions, ``answers[(question id, answer)]`` the tally of the counted respondents who gave that stored
    answer (``chosen`` as stored JSON text, "prefer not to say" left out), ``everyone`` the tally of every
    respondent (None until needed: only when a frozen figure is missing), and the frozen counts."""

    statement_ids: list[int]
    group_ids: list[int]
    n_points: int
    questions: list[BaselineQuestion]
    answers: dict[tuple[int, str], _Tally]
    total: int
    frozen: dict[tuple[int, str], ScopeCounts]
    everyone: _Tally | None


def _respondent(round_id: int, population: AnalysisPopulation) -> ColumnElement[bool]:
    """The condition on ``Panellist`` of a column of :func:`delphi.db.queries.load_rating_matrix`'s matrix: a
    saved row for one of the round's statements, in the analysis ``population``."""
    asked = select(RoundStatement.statement_id).where(RoundStatement.round_id == round_id)
    saved = (
        select(Rating.id)
        .where(
            Rating.round_id == round_id, Rating.panellist_id == Panellist.id, Rating.statement_id.in_(asked)
        )
        .exists()
    )
    return and_(saved, in_population(round_id, population))


_COUNTED = and_(Panellist.consented_at.is_not(None), Panellist.erased_at.is_(None))


async def _tallies(
    session: AsyncSession,
    round_id: int,
    population: AnalysisPopulation,
    statement_ids: list[int],
    group_ids: list[int],
    settings: AnalysisSettings,
    question_ids: list[int] | None,
) -> dict[tuple[int, str], _Tally]:
    """Two ``GROUP BY`` queries: the round's ratings and respondents counted per statement, group, scale point
    and stored answer to each of ``question_ids`` (the counted respondents who did not prefer not to say), or,
    with ``question_ids`` None, of everyone (key ``(0, "")``).  The same figures as the matrix's columns."""
    s_index = {sid: i for i, sid in enumerate(statement_ids)}
    g_index = {gid: g for g, gid in enumerate(group_ids)}
    other = len(group_ids)
    lo, n_points = settings.scale_min, settings.n_points
    out: dict[tuple[int, str], _Tally] = {}

    def tally(key: tuple[int, str]) -> _Tally:
        if key not in out:
            out[key] = _Tally.empty(len(statement_ids), len(group_ids), n_points)
        return out[key]

    if question_ids is None:
        keys: tuple[Any, ...] = ()  # one tally: the key columns are constants, not grouped by
        joined = select(literal_column("0"), literal_column("''")).select_from(Panellist)
        where: list[ColumnElement[bool]] = []
    else:
        if not question_ids:
            return out
        keys = (BaselineAnswer.question_id, cast(BaselineAnswer.chosen, Text))
        joined = (
            select(*keys)
            .select_from(Panellist)
            .join(BaselineAnswer, BaselineAnswer.panellist_id == Panellist.id)
        )
        where = [
            BaselineAnswer.question_id.in_(question_ids),
            BaselineAnswer.prefer_not.is_not(True),
            _COUNTED,
        ]
    code = (func.coalesce(Rating.value, literal_column("-1")) + literal_column("1")) * literal_column(
        "2"
    ) + case((Rating.unable, literal_column("1")), else_=literal_column("0"))
    conn = await session.connection()
    rows = await conn.execute(
        joined.add_columns(Rating.statement_id, Panellist.group_id, code, func.count())
        .join(Rating, Rating.panellist_id == Panellist.id)
        .where(
            Rating.round_id == round_id,
            Rating.statement_id.in_(statement_ids),
            in_population(round_id, population),
            *where,
        )
        .group_by(*keys, Rating.statement_id, Panellist.group_id, code)
    )
    for qid, answer, sid, gid, c, n in rows:
        t = tally((int(qid), str(answer)))
        i, g = s_index[int(sid)], g_index.get(gid, other)
        value, unable = int(c) // 2 - 1, int(c) % 2 == 1
        if unable:
            t.unable[i, g] += n
        elif value >= 0:  # -1: a row saved with a comment alone
            if lo <= value < lo + n_points:
                t.counts[i, g, value - lo] += n
            else:
                t.off_scale = value
    people = await conn.execute(
        joined.add_columns(Panellist.group_id, func.count())
        .where(_respondent(round_id, population), *where)
        .group_by(*keys, Panellist.group_id)
    )
    for qid, answer, gid, n in people:
        tally((int(qid), str(answer))).people[g_index.get(gid, other)] += n
    return out


async def _load(session: AsyncSession, frame: Frame, round_: Round, with_everyone: bool = False) -> _Data:
    """What the filter reads for closed round ``round_``: counts, never the ratings."""
    panel = frame.panel
    population = AnalysisPopulation(panel.analysis_population)
    questions = list(
        (
            await session.scalars(
                select(BaselineQuestion)
                .where(BaselineQuestion.panel_id == panel.id, BaselineQuestion.kind.in_(FILTER_KINDS))
                .order_by(BaselineQuestion.position, BaselineQuestion.id)
            )
        ).all()
    )
    statement_ids = (await round_statement_ids(session, round_.id)).tolist()
    group_ids = (await panel_group_ids(session, panel.id)).tolist()
    settings = frame.analysis_settings
    args = (session, round_.id, population, statement_ids, group_ids, settings)
    answers = await _tallies(*args, [q.id for q in questions])
    total = await session.scalar(
        select(func.count()).select_from(Panellist).where(_respondent(round_.id, population))
    )
    frozen = await _frozen_counts(session, round_.id)
    scopes = [POOLED_SCOPE, *(group_scope(g) for g in group_ids)] if with_everyone else [POOLED_SCOPE]
    everyone = None
    if any((sid, scope) not in frozen for sid in statement_ids for scope in scopes):
        everyone = (await _tallies(*args, None)).get((0, "")) or _Tally.empty(
            len(statement_ids), len(group_ids), settings.n_points
        )
    return _Data(
        statement_ids, group_ids, settings.n_points, questions, answers, int(total or 0), frozen, everyone
    )


def _chose(answer: str, choice: str) -> bool:
    """Whether a stored ``chosen`` (JSON text) includes ``choice``."""
    try:
        chosen = json.loads(answer)
    except ValueError:
        return False
    return isinstance(chosen, list) and choice in chosen


def _subset(data: _Data, question: BaselineQuestion, choice: str) -> _Tally:
    """The tally of the counted respondents whose answer to ``question`` includes ``choice``."""
    found = _Tally.empty(len(data.statement_ids), len(data.group_ids), data.n_points)
    for (qid, answer), t in data.answers.items():
        if qid == question.id and _chose(answer, choice):
            found = found.add(t)
    return found


def _whole(data: _Data, scope: str, group: int | None) -> list[ScopeCounts]:
    """Per statement, the frozen counts of ``scope`` (``group`` its group index, None pooled); where a frozen
    figure is missing, every respondent's counts."""
    fallback = data.everyone.scope(group) if data.everyone is not None else None
    out = []
    for i, sid in enumerate(data.statement_ids):
        frozen = data.frozen.get((sid, scope))
        if frozen is None:
            assert fallback is not None, "the everyone tally is loaded whenever a frozen figure is missing"
            frozen = fallback[i]
        out.append(frozen)
    return out


def _reason(data: _Data, subset: _Tally, k: int, labels: Mapping[int, str]) -> str:
    return refusal(
        subset.respondents,
        data.total,
        subset.scope(),
        _whole(data, POOLED_SCOPE, None),
        k,
        [labels.get(s, str(s)) for s in data.statement_ids],
    )


def _options(data: _Data, k: int, labels: Mapping[int, str]) -> list[FilterQuestion]:
    return [
        FilterQuestion(
            q.id,
            q.text,
            tuple(
                FilterOption(f"{q.id}:{i}", str(c), _reason(data, _subset(data, q, str(c)), k, labels))
                for i, c in enumerate(q.choices)
            ),
        )
        for q in data.questions
    ]


async def filter_options(
    session: AsyncSession, frame: Frame, round_: Round, labels: Mapping[int, str] | None = None
) -> list[FilterQuestion]:
    """Every single- and multiple-choice baseline question of the panel with each choice allowed or refused (and
    why) for closed round ``round_``; ``[]`` when the panel asks none.  ``labels`` name statements in reasons.

    Reads counts only (:func:`_tallies`: the ratings counted per statement and stored answer in SQL), never the
    ratings, so the page costs one aggregate over the round whatever the panel's size."""
    asks = await session.scalar(
        select(func.count())
        .select_from(BaselineQuestion)
        .where(BaselineQuestion.panel_id == frame.panel.id, BaselineQuestion.kind.in_(FILTER_KINDS))
    )
    if not asks:
        return []  # nothing to filter by: the ratings are not counted
    data = await _load(session, frame, round_)
    return _options(data, frame.panel.k_min, labels or {})


async def load_filtered_results(
    session: AsyncSession,
    frame: Frame,
    round_: Round,
    selection: str,
    labels: Mapping[int, str] | None = None,
) -> tuple[FilteredResults, list[FilterQuestion]]:
    """The subset's figures for ``selection`` (``"<question id>:<choice index>"``) in closed round ``round_``,
    with the filter's options; FilterRefused (400) naming the reason for an unknown or refused choice.

    The figures come from the subset's counts per statement, group and scale point
    (:func:`delphi.stats.analysis.analyse_tabulation`, the same result as analysing its ratings)."""
    labels = labels or {}
    qid, index = parse_selection(selection)
    data = await _load(session, frame, round_, with_everyone=True)
    question = next((q for q in data.questions if q.id == qid), None)
    if question is None:
        raise FilterRefused("This panel has no such single- or multiple-choice baseline question.")
    if index >= len(question.choices):
        raise FilterRefused(f"The question “{question.text}” has no such choice.")
    choice = str(question.choices[index])
    k = max(1, int(frame.panel.k_min))
    sub = _subset(data, question, choice)
    why = _reason(data, sub, k, labels)
    if why:
        raise FilterRefused(f"Results for “{choice}” cannot be shown: {why}.")
    if sub.off_scale is not None:
        raise ValueError(f"a stored rating {sub.off_scale} lies off the scale")
    g_count = len(data.group_ids)
    settings = frame.analysis_settings
    if g_count:
        tab = Tabulation(sub.counts[:, :g_count, :], sub.unable[:, :g_count], sub.people[:g_count])
    else:  # no groups: everyone in the one column, as analyse_round without group labels
        tab = Tabulation(sub.counts, sub.unable, sub.people)
    analysis = analyse_tabulation(
        tab, frame.rule or rule_by_name("comet"), settings, has_groups=bool(g_count)
    )
    sub_pooled = sub.scope()
    whole_pooled = _whole(data, POOLED_SCOPE, None)
    sub_groups = [sub.scope(g) for g in range(g_count)]
    whole_groups = [_whole(data, group_scope(gid), g) for g, gid in enumerate(data.group_ids)]
    names = [grp.name for grp in frame.groups]
    verdicts = analysis.verdict_labels()
    per_group_rule = frame.rule is not None and frame.rule.scope in GROUP_SCOPES
    statements = []
    for i, sid in enumerate(data.statement_ids):
        sg = [sub_groups[g][i] for g in range(g_count)]
        wg = [whole_groups[g][i] for g in range(g_count)]
        shown = shown_groups(sub_pooled[i], sg, whole_pooled[i], wg, k)
        scopes = []
        for g in range(g_count):
            name = names[g] if g < len(names) else f"Group {g + 1}"
            scopes.append(_scope(analysis.groups[g], i, name) if shown[g] else FilteredScope(name, False))
        small = any(
            0 < c.n < k or 0 < c.people < k
            for c in [*sg, *(complement(w, s) or ScopeCounts(0) for w, s in zip(wg, sg, strict=True))]
        )
        statements.append(
            FilteredStatement(
                int(sid),
                _scope(analysis.pooled, i, "Panellists who gave this answer"),
                tuple(scopes),
                None if per_group_rule and small else verdicts[i],
            )
        )
    result = FilteredResults(selection, question.text, choice, sub.respondents, data.total, tuple(statements))
    return result, _options(data, k, labels)


def _scope(stats: ScopeStats, i: int, name: str) -> FilteredScope:
    """Statement ``i`` of ``stats`` as a shown :class:`FilteredScope` (NaN as None)."""
    return FilteredScope(
        name=name,
        shown=True,
        n=int(stats.n[i]),
        n_unable=int(stats.n_unable[i]),
        median=_num(stats.median[i]),
        q1=_num(stats.q1[i]),
        q3=_num(stats.q3[i]),
        iqr=_num(stats.iqr[i]),
        pct_agree=_num(stats.pct_agree[i]),
        pct_disagree=_num(stats.pct_disagree[i]),
        verdict=VERDICT_LABELS[int(stats.verdict[i])],
    )
