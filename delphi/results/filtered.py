"""A closed round's results for the panellists who gave one answer to a baseline question, disclosure-controlled.

The facilitator round results page offers "Show results for panellists who answered <choice> to <question>" for
every single- and multiple-choice baseline question.  The subset is the respondents of the round (the panel's
analysis population: those with a saved answer in the round's rating matrix, :func:`delphi.db.queries
.load_rating_matrix`) who consented, were not erased, and whose answer includes the choice ("Prefer not to say"
matches no choice).  Its figures are computed afresh from the round's ratings with
:func:`delphi.stats.analyse_round` under the panel's rule and analysis settings (``docs/statistics.md`` §2-3: type 7
quartiles by default, IQR = Q3 - Q1, agreement shares over the ratings given); nothing is stored.

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

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import BaselineAnswer, BaselineQuestion, Round, RoundResult
from delphi.db.queries import RatingMatrix, load_rating_matrix
from delphi.domain import POOLED_SCOPE, AnalysisPopulation, BaselineKind, group_scope
from delphi.errors import DelphiError
from delphi.results.characteristics import answers_by_question, counted_people
from delphi.results.frame import Frame
from delphi.stats import VERDICT_LABELS, ScopeStats, analyse_round
from delphi.stats.disclosure import GROUP_SCOPES, ScopeCounts, decide, safe_total

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


@dataclass(frozen=True, slots=True)
class _Data:
    matrix: RatingMatrix
    questions: list[BaselineQuestion]
    answers: dict[int, dict[int, BaselineAnswer]]
    counted: frozenset[int]
    frozen: dict[tuple[int, str], ScopeCounts]


async def _load(
    session: AsyncSession,
    frame: Frame,
    round_: Round,
    baseline: tuple[list[BaselineQuestion], dict[int, dict[int, BaselineAnswer]]],
) -> _Data:
    """What the filter reads for closed round ``round_``, with the panel's ``baseline`` questions and answers
    (:func:`answers_by_question`, loaded by the caller)."""
    panel = frame.panel
    matrix = await load_rating_matrix(
        session, panel.id, round_.id, population=AnalysisPopulation(panel.analysis_population)
    )
    questions, answers = baseline
    questions = [q for q in questions if q.kind in FILTER_KINDS]
    counted = frozenset(p.id for p in await counted_people(session, panel.id))
    return _Data(matrix, questions, answers, counted, await _frozen_counts(session, round_.id))


def _mask(data: _Data, question: BaselineQuestion, choice: str) -> np.ndarray:
    """Respondents (columns of the matrix) who gave ``choice`` to ``question``."""
    mine = data.answers.get(question.id, {})
    ids = [
        pid
        for pid, a in mine.items()
        if pid in data.counted and not a.prefer_not and choice in (a.chosen or ())
    ]
    return np.isin(data.matrix.panellist_ids, np.asarray(ids, dtype=np.int64))


def _counts(matrix: RatingMatrix, mask: np.ndarray, groups: np.ndarray | None = None) -> list[ScopeCounts]:
    """Per statement, the counts of the columns in ``mask`` (and, given ``groups``, of that group index)."""
    cols = mask if groups is None else mask & groups
    rated = (~np.isnan(matrix.values[:, cols])).sum(axis=1)
    unable = matrix.unable[:, cols].sum(axis=1)
    return [ScopeCounts(int(n), int(u)) for n, u in zip(rated.tolist(), unable.tolist(), strict=True)]


def _whole(data: _Data, scope: str, fallback: list[ScopeCounts]) -> list[ScopeCounts]:
    sids = data.matrix.statement_ids.tolist()
    return [data.frozen.get((int(sid), scope), fallback[i]) for i, sid in enumerate(sids)]


def _reason(data: _Data, mask: np.ndarray, k: int, labels: Mapping[int, str]) -> str:
    everyone = np.ones(len(data.matrix.panellist_ids), bool)
    sids = data.matrix.statement_ids.tolist()
    return refusal(
        int(mask.sum()),
        len(mask),
        _counts(data.matrix, mask),
        _whole(data, POOLED_SCOPE, _counts(data.matrix, everyone)),
        k,
        [labels.get(int(s), str(s)) for s in sids],
    )


def _options(data: _Data, k: int, labels: Mapping[int, str]) -> list[FilterQuestion]:
    return [
        FilterQuestion(
            q.id,
            q.text,
            tuple(
                FilterOption(f"{q.id}:{i}", str(c), _reason(data, _mask(data, q, c), k, labels))
                for i, c in enumerate(q.choices)
            ),
        )
        for q in data.questions
    ]


async def filter_options(
    session: AsyncSession, frame: Frame, round_: Round, labels: Mapping[int, str] | None = None
) -> list[FilterQuestion]:
    """Every single- and multiple-choice baseline question of the panel with each choice allowed or refused (and
    why) for closed round ``round_``; ``[]`` when the panel asks none.  ``labels`` name statements in reasons."""
    baseline = await answers_by_question(session, frame.panel.id)
    if not any(q.kind in FILTER_KINDS for q in baseline[0]):
        return []  # nothing to filter by: the ratings are not loaded
    data = await _load(session, frame, round_, baseline)
    return _options(data, frame.panel.k_min, labels or {})


async def load_filtered_results(
    session: AsyncSession,
    frame: Frame,
    round_: Round,
    selection: str,
    labels: Mapping[int, str] | None = None,
) -> tuple[FilteredResults, list[FilterQuestion]]:
    """The subset's figures for ``selection`` (``"<question id>:<choice index>"``) in closed round ``round_``,
    with the filter's options; FilterRefused (400) naming the reason for an unknown or refused choice."""
    labels = labels or {}
    qid, index = parse_selection(selection)
    data = await _load(session, frame, round_, await answers_by_question(session, frame.panel.id))
    question = next((q for q in data.questions if q.id == qid), None)
    if question is None:
        raise FilterRefused("This panel has no such single- or multiple-choice baseline question.")
    if index >= len(question.choices):
        raise FilterRefused(f"The question “{question.text}” has no such choice.")
    choice = str(question.choices[index])
    k = max(1, int(frame.panel.k_min))
    mask = _mask(data, question, choice)
    why = _reason(data, mask, k, labels)
    if why:
        raise FilterRefused(f"Results for “{choice}” cannot be shown: {why}.")
    m = data.matrix
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
    whole_pooled = _whole(data, POOLED_SCOPE, _counts(m, everyone))
    sub_groups = [_counts(m, mask, m.group_index == g) for g in range(g_count)]
    whole_groups = [
        _whole(data, group_scope(int(gid)), _counts(m, everyone, m.group_index == g))
        for g, gid in enumerate(m.group_ids.tolist())
    ]
    names = [grp.name for grp in frame.groups]
    verdicts = analysis.verdict_labels()
    per_group_rule = frame.rule is not None and frame.rule.scope in GROUP_SCOPES
    statements = []
    for i, sid in enumerate(m.statement_ids.tolist()):
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
    result = FilteredResults(selection, question.text, choice, int(mask.sum()), len(mask), tuple(statements))
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
