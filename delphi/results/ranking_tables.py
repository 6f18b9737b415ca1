"""The ranking questions' exports: every saved ranking in tidy long form, and the frozen figures.

``rankings``: one row per (closed round, question, panellist, item) with the rank given (1 = first); an "unable to
rank" answer is one row with ``item_id``, ``item`` and ``rank`` empty and ``unable`` 1; an item an incomplete
answer left out has an empty ``rank``. As in the ratings export (:mod:`delphi.results.tidy`) every saved answer is
in the file, sent or not, and ``counted`` says whether the round's frozen figures counted it under the panel's
analysis population. The file reads into ``delphi analyse`` (:mod:`delphi.analyse.rankings_file`), which uses every
row it is given: keep the rows with ``counted`` 1 to reproduce the frozen figures.

``ranking-results``: one row per (closed round, question, scope, item): the frozen n, W, chi-squared, df, p and
verdict of the scope (repeated on each of its items' rows) and the item's place in the scope's consensus order,
mean, median and sum of ranks. Groups under k are included, flagged (``suppressed``, ``shown_to_panellists``),
as in the round summaries.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import (
    Panellist,
    RankAnswer,
    RankingItem,
    RankingQuestion,
    RankingResult,
    Round,
    RoundRanking,
    Submission,
)
from delphi.domain import POOLED_SCOPE, AnalysisPopulation, RoundStatus, group_scope
from delphi.results.frame import Frame
from delphi.results.rankings import VERDICTS, scope_figures, shown_scopes
from delphi.results.tables import ANSWER_LANGUAGE, Column, Table

ANSWERS_NAME = "rankings"
RESULTS_NAME = "ranking-results"

_YES_NO = "1 = yes, 0 = no"


def answer_columns(frame: Frame) -> tuple[Column, ...]:
    p = frame.panel
    return (
        Column("round", "Round number, from 1.", "integer"),
        Column("question_id", "Ranking question id.", "integer"),
        Column("question", "The ranking question's wording.", "text"),
        Column("panellist", "The panellist's pseudonym (the only identity in any export).", "text"),
        Column("group", "The panellist's stakeholder group.", "text"),
        Column("item_id", "Item id; empty on an 'unable to rank' row.", "integer"),
        Column("item", "The item's wording; empty on an 'unable to rank' row.", "text"),
        Column(
            "rank",
            "The rank the panellist gave the item, 1 = first (tied items share a rank where the question allows "
            "ties); empty for an item left unranked and on an 'unable to rank' row.",
            "number",
            "1 = first",
        ),
        Column(
            "unable",
            "1 on the one row of an 'unable to rank' answer, else 0.",
            "boolean",
            _YES_NO,
        ),
        Column(
            "counted",
            "1 if the round's frozen ranking figures count this answer (complete rankings only enter W). This "
            f"panel's analysis population is '{p.analysis_population}': "
            f"{AnalysisPopulation(p.analysis_population).description}",
            "boolean",
            _YES_NO,
        ),
        ANSWER_LANGUAGE,
    )


def result_columns(frame: Frame) -> tuple[Column, ...]:
    p = frame.panel
    return (
        Column("round", "Round number, from 1.", "integer"),
        Column("question_id", "Ranking question id.", "integer"),
        Column("question", "The ranking question's wording.", "text"),
        Column("group", "all for the whole panel, else the stakeholder group's name.", "text"),
        Column("group_id", "The group's id; empty for the whole panel.", "integer"),
        Column("n", "Complete rankings counted (they alone enter W and the ranks).", "integer"),
        Column("n_unable", "'Unable to rank' answers counted.", "integer"),
        Column(
            "w",
            "Kendall's coefficient of concordance W, corrected for ties (0 = no agreement on the order, 1 = "
            "everyone gave the same order); empty when undefined (fewer than 2 complete rankings).",
            "number",
            "0-1",
        ),
        Column("chi2", "Friedman's chi-squared, m (n - 1) W, for W's test.", "number"),
        Column("df", "Degrees of freedom of chi2: items - 1.", "integer"),
        Column("pvalue", "p-value of chi2 (large-sample chi-squared approximation).", "number"),
        Column(
            "verdict",
            f"Under the ranking rule (W at least {p.ranking_w_min:g}, at least {max(p.k_min, 2)} complete "
            "rankings): "
            + ", ".join(f"{k} ({v.lower()})" for k, v in VERDICTS.items())
            + ". On 'all' rows the "
            "rule's verdict, on group rows the group's own.",
            "text",
        ),
        Column("item_id", "Item id.", "integer"),
        Column("item", "The item's wording.", "text"),
        Column("place", "The item's place in this scope's order by mean rank (1 = first).", "integer"),
        Column(
            "mean_rank", "Mean rank of the item over the complete rankings (ties as mid-ranks).", "number"
        ),
        Column("median_rank", "Median rank of the item.", "number"),
        Column("rank_sum", "Sum of the item's ranks (R_j in Kendall's W).", "number"),
        Column(
            "suppressed",
            f"1 for a group with fewer than k = {p.k_min} complete rankings (hidden from panellists).",
            "boolean",
            _YES_NO,
        ),
        Column(
            "shown_to_panellists",
            "1 if panellists could be shown these figures; 0 for a group under k, a group hidden so that a "
            "smaller group's answers cannot be worked out by subtraction, or a question fewer than k ranked.",
            "boolean",
            _YES_NO,
        ),
    )


def _rank(value: Any) -> int | float | None:
    """A stored rank as a number (an integer when whole), None when missing or unreadable."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    if x != x:
        return None
    return int(x) if x.is_integer() else x


async def _questions(
    session: AsyncSession, panel_id: int
) -> tuple[dict[int, RankingQuestion], dict[int, list[RankingItem]]]:
    """The panel's ranking questions by id and their items in order (two queries)."""
    questions = {
        q.id: q
        for q in (
            await session.scalars(select(RankingQuestion).where(RankingQuestion.panel_id == panel_id))
        ).all()
    }
    items: dict[int, list[RankingItem]] = {}
    if questions:
        for item in (
            await session.scalars(
                select(RankingItem)
                .where(RankingItem.question_id.in_(list(questions)))
                .order_by(RankingItem.position, RankingItem.id)
            )
        ).all():
            items.setdefault(item.question_id, []).append(item)
    return questions, items


def answer_rows(
    answers: Iterable[tuple[int, RankAnswer, str, int | None, bool]],
    questions: Mapping[int, RankingQuestion],
    items: Mapping[int, Sequence[RankingItem]],
    group_names: Mapping[int, str],
    population: AnalysisPopulation,
) -> list[tuple[Any, ...]]:
    """Rows of the rankings table (pure) from ``(round number, answer, pseudonym, group id, submitted)``, in the
    given order; an answer's items in the question's order, each row with the answer's language ("" unknown)."""
    out: list[tuple[Any, ...]] = []
    for number, a, pseudonym, group_id, submitted in answers:
        q = questions.get(a.question_id)
        text = q.text if q is not None else ""
        group = group_names.get(group_id, "") if group_id is not None else ""
        counted = population == AnalysisPopulation.ALL or submitted
        head = (number, a.question_id, text, pseudonym, group)
        language = a.language or ""
        if a.unable:
            out.append((*head, None, None, None, True, counted, language))
            continue
        ranks = dict(a.ranks or {})
        for item in items.get(a.question_id, ()):
            out.append((*head, item.id, item.text, _rank(ranks.get(str(item.id))), False, counted, language))
    return out


async def rankings_table(session: AsyncSession, frame: Frame) -> Table:
    """Every saved ranking of the panel's closed rounds (three queries), by round, question, pseudonym."""
    questions, items = await _questions(session, frame.panel.id)
    rows = (
        await session.execute(
            select(Round.number, RankAnswer, Panellist.pseudonym, Panellist.group_id, Submission.id)
            .join(Round, Round.id == RankAnswer.round_id)
            .join(Panellist, Panellist.id == RankAnswer.panellist_id)
            .join(RankingQuestion, RankingQuestion.id == RankAnswer.question_id)
            .outerjoin(
                Submission,
                (Submission.round_id == RankAnswer.round_id)
                & (Submission.panellist_id == RankAnswer.panellist_id),
            )
            .where(Round.panel_id == frame.panel.id, Round.status == RoundStatus.CLOSED)
            .order_by(Round.number, RankingQuestion.position, RankingQuestion.id, Panellist.pseudonym)
        )
    ).all()
    data = answer_rows(
        ((int(n), a, str(s), g, sub is not None) for n, a, s, g, sub in rows),
        questions,
        items,
        frame.group_names,
        AnalysisPopulation(frame.panel.analysis_population),
    )
    return Table(ANSWERS_NAME, "Every ranking, in tidy long form", answer_columns(frame), data)


async def ranking_results_table(session: AsyncSession, frame: Frame) -> Table:
    """The frozen ranking figures of every closed round (four queries): per round, question (round order), scope
    (whole panel, then groups in display order) and item (the scope's consensus order)."""
    questions, items = await _questions(session, frame.panel.id)
    closed = {r.id: r.number for r in frame.closed_rounds}
    links = (
        await session.scalars(
            select(RoundRanking)
            .where(RoundRanking.round_id.in_(list(closed)))
            .order_by(RoundRanking.position, RoundRanking.id)
        )
    ).all()
    results = (
        await session.scalars(select(RankingResult).where(RankingResult.round_id.in_(list(closed))))
    ).all()
    by_key: dict[tuple[int, int], dict[str, RankingResult]] = {}
    for row in results:
        by_key.setdefault((row.round_id, row.question_id), {})[row.scope] = row
    k = frame.panel.k_min
    data: list[tuple[Any, ...]] = []
    for link in sorted(links, key=lambda x: (closed[x.round_id], x.position, x.id)):
        q = questions.get(link.question_id)
        rows = by_key.get((link.round_id, link.question_id), {})
        shown = shown_scopes(rows, frame.groups, k)
        its = items.get(link.question_id, [])
        scopes = [(POOLED_SCOPE, None)] + [(group_scope(g.id), g) for g in frame.groups]
        for key, group in scopes:
            row = rows.get(key)
            if row is None:
                continue
            s = scope_figures(row, its, group, k, key in shown)
            verdict = (link.verdict or s.verdict) if group is None else s.verdict
            for i in s.items:
                data.append(
                    (
                        closed[link.round_id],
                        link.question_id,
                        q.text if q is not None else "",
                        "all" if group is None else group.name,
                        s.group_id,
                        s.n,
                        s.n_unable,
                        s.w,
                        s.chi2,
                        s.df,
                        s.pvalue,
                        verdict,
                        i.item_id,
                        i.text,
                        i.place,
                        i.mean_rank,
                        i.median_rank,
                        i.rank_sum,
                        s.suppressed,
                        s.shown_to_panellists,
                    )
                )
    return Table(
        RESULTS_NAME,
        "Frozen ranking figures per round, question, group and item",
        result_columns(frame),
        data,
    )
