"""Ranking questions on the panellist's side: the questions of the current round with the saved answers, one
question's page (with last round's released order from round 2), and saving an answer.

Every function works in the caller's transaction, like :mod:`delphi.participation.saving`: checks come first and
a refused answer writes nothing.  An answer is written with one upsert (``ON CONFLICT (round_id, question_id,
panellist_id) DO UPDATE``), so a double post or two tabs change nothing twice.

What a panellist may send (:func:`clean_ranking`, pure):

* a rank for *every* item (form fields ``i<item id>``, whole numbers 1..number of items), or
* "unable to rank" (``unable``); ranks sent with it are ignored and nothing but "unable" is stored.

Without ties each rank is used once (the ranks are then exactly 1..n).  With ties allowed
(``RankingQuestion.allow_ties``) ranks may repeat, and any ranks from 1 to n are accepted and stored as given:
competition ranking ("1, 1, 3, 4"), dense ranking ("1, 1, 2, 3") or any other numbering; only the order counts,
because the close re-ranks every answer with mid-ranks (:mod:`delphi.stats.ranking`).  Refused, all problems
listed at once (issues keyed by field ``i<item id>``, or ``""`` for one that no field shows): nothing chosen and
not "unable"; a rank that is not a whole number or outside 1..n; an item left without a rank while others have
one (a partial ranking); a repeated rank when ties are not allowed; an item id that is not one of the question's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.dialect import dialect_name, insert_for
from delphi.db.models import (
    Panel,
    Panellist,
    RankAnswer,
    RankingItem,
    RankingQuestion,
    RankingResult,
    Round,
    RoundRanking,
    utcnow,
)
from delphi.domain import POOLED_SCOPE, RoundStatus
from delphi.errors import InvalidInput, NotFound
from delphi.formatting import shorten
from delphi.panels.translations import Wording
from delphi.participation import checks
from delphi.participation.facts import load_facts, require_round
from delphi.participation.issues import N_, Issue, fail, fail_many
from delphi.participation.pages import Overview, overview
from delphi.participation.pages import rating_pages as rating_page_specs
from delphi.participation.saving import write_target
from delphi.participation.writes import answer_language
from delphi.rounds.ranking_figures import RankingRelease, load_ranking_release

__all__ = [
    "CleanRanking",
    "RankItemView",
    "RankingFeedback",
    "RankingInput",
    "RankingNotInRound",
    "RankingPage",
    "RankingSaved",
    "RankingView",
    "clean_ranking",
    "load_rank_page",
    "missing_ranking_issues",
    "rankings_of_round",
    "round_rankings",
    "save_ranking",
    "unanswered_rankings",
]


class RankingNotInRound(NotFound):
    """A ranking question that is not asked in the current round (unknown, another round's or another panel's:
    one answer for all)."""


def not_in_round() -> RankingNotInRound:
    return fail(RankingNotInRound, N_("This question is not part of the current round."))


# --- the pure check -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RankingInput:
    """A posted answer: ``ranks`` maps an item id to what was chosen for it (digits, "" for nothing);
    ``unable`` is the "Unable to rank" box."""

    question_id: int
    ranks: Mapping[int, object] = field(default_factory=dict)
    unable: bool = False


@dataclass(frozen=True, slots=True)
class CleanRanking:
    """A checked answer as stored: ``ranks`` {str(item id): rank} for every item, or ``unable`` (ranks {})."""

    ranks: dict[str, int]
    unable: bool


def _rank_of(raw: object, n: int) -> int | None:
    """A chosen rank 1..n, or None when it is not one (``bool`` too)."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, str):
        text = raw.strip()
        if not (text.isascii() and text.isdigit()) or len(text) > 6:
            return None
        raw = int(text)
    if not isinstance(raw, int) or not 1 <= raw <= n:
        return None
    return raw


def _blank(raw: object) -> bool:
    return raw is None or (isinstance(raw, str) and raw.strip() == "")


def clean_ranking(
    items: Sequence[tuple[int, str]], allow_ties: bool, ranks: Mapping[int, object], unable: bool
) -> CleanRanking | list[Issue]:
    """Check a posted answer against the question's ``items`` (``(id, text)`` in order); the answer to store,
    or every problem (see the module docstring).  Pure."""
    n = len(items)
    known = {iid for iid, _ in items}
    issues: list[Issue] = []
    if any(iid not in known for iid in ranks):
        issues.append(
            Issue("", N_("The answer named an item that is not part of this question. Rank the items shown."))
        )
    if unable:
        return issues or CleanRanking({}, True)
    chosen: dict[int, int] = {}
    blank: list[tuple[int, str]] = []
    for iid, text in items:
        raw = ranks.get(iid)
        if _blank(raw):
            blank.append((iid, text))
            continue
        rank = _rank_of(raw, n)
        if rank is None:
            issues.append(
                Issue(
                    f"i{iid}",
                    N_("Choose a rank from 1 to %(n)s for “%(text)s”."),
                    {"n": n, "text": shorten(text)},
                )
            )
        else:
            chosen[iid] = rank
    if len(blank) == n and not issues:
        return [
            Issue(
                f"i{items[0][0]}" if items else "",
                N_("Put the items in order: give each a rank, or tick “Unable to rank”."),
            )
        ]
    for iid, text in blank:
        issues.append(
            Issue(
                f"i{iid}",
                N_("Give “%(text)s” a rank too. Rank every item, or tick “Unable to rank”."),
                {"text": shorten(text)},
            )
        )
    if not allow_ties:
        first_with: dict[int, str] = {}
        for iid, text in items:
            rank = chosen.get(iid)
            if rank is None:
                continue
            if rank in first_with:
                issues.append(
                    Issue(
                        f"i{iid}",
                        N_("“%(first)s” and “%(other)s” both have rank %(rank)s. Use each rank once."),
                        {"first": shorten(first_with[rank]), "other": shorten(text), "rank": rank},
                    )
                )
            else:
                first_with[rank] = text
    if issues:
        return issues
    return CleanRanking({str(iid): rank for iid, rank in chosen.items()}, False)


# --- reading ------------------------------------------------------------------------------------------------


@dataclass(slots=True)
class RankItemView:
    """An item of a ranking question with the rank the panellist gave it (None: none yet)."""

    id: int
    text: str
    rank: int | None = None


@dataclass(slots=True)
class RankingView:
    """A ranking question of the round: ``number`` 1-based among the round's ranking questions, its items in
    order with the saved ranks, and "unable" when that was the answer."""

    id: int
    text: str
    allow_ties: bool
    number: int
    items: list[RankItemView]
    unable: bool = False

    @property
    def answered(self) -> bool:
        """Answered: "unable to rank", or a rank for every item (a question without items counts as not)."""
        return self.unable or (bool(self.items) and all(i.rank is not None for i in self.items))

    @property
    def order(self) -> list[RankItemView]:
        """The ranked items by rank, best first (ties in the question's order); [] when not answered."""
        if not self.answered or self.unable:
            return []
        return sorted(self.items, key=lambda i: i.rank or 0)


@dataclass(frozen=True, slots=True)
class RankingFeedback:
    """Last round's result for the question (from round 2): the released figures (``release.pooled`` None
    when too few ranked) and the panellist's own order then (``own``, best first; ``own_unable``)."""

    round_number: int
    release: RankingRelease
    own: tuple[RankItemView, ...]
    own_unable: bool

    @property
    def own_ranks(self) -> dict[int, int]:
        """The panellist's own ranks then, item id -> rank ({} when they did not rank)."""
        return {i.id: i.rank for i in self.own if i.rank is not None}


@dataclass(frozen=True, slots=True)
class RankingPage:
    """One ranking question's page: where the panellist stands, the question, its place among the round's
    ``total`` ranking questions, the next and previous ones (ids or None) and last round's feedback.
    ``rating_pages`` is how many rating pages come first (the ranking questions are the round's later steps:
    this question is step ``rating_pages + question.number`` of ``rating_pages + total``)."""

    overview: Overview
    question: RankingView
    total: int
    next_id: int | None
    previous_id: int | None
    feedback: RankingFeedback | None
    k_min: int
    rating_pages: int = 0


@dataclass(frozen=True, slots=True)
class RankingSaved:
    """A saved answer: the question, and the next ranking question of the round (None after the last)."""

    question_id: int
    next_id: int | None
    unable: bool


async def _asked(session: AsyncSession, round_id: int) -> list[RankingQuestion]:
    """The ranking questions round ``round_id`` asks, in its order."""
    return list(
        (
            await session.scalars(
                select(RankingQuestion)
                .join(RoundRanking, RoundRanking.question_id == RankingQuestion.id)
                .where(RoundRanking.round_id == round_id)
                .order_by(RoundRanking.position, RoundRanking.id)
            )
        ).all()
    )


async def _items(session: AsyncSession, question_ids: Sequence[int]) -> dict[int, list[RankingItem]]:
    if not question_ids:
        return {}
    out: dict[int, list[RankingItem]] = {q: [] for q in question_ids}
    rows = await session.scalars(
        select(RankingItem)
        .where(RankingItem.question_id.in_(list(question_ids)))
        .order_by(RankingItem.position, RankingItem.id)
    )
    for item in rows.all():
        out[item.question_id].append(item)
    return out


async def _answers(
    session: AsyncSession, round_id: int, panellist_id: int, question_ids: Sequence[int]
) -> dict[int, RankAnswer]:
    if not question_ids:
        return {}
    rows = await session.scalars(
        select(RankAnswer).where(
            RankAnswer.round_id == round_id,
            RankAnswer.panellist_id == panellist_id,
            RankAnswer.question_id.in_(list(question_ids)),
        )
    )
    return {a.question_id: a for a in rows.all()}


def _saved_rank(answer: RankAnswer | None, item_id: int) -> int | None:
    if answer is None or answer.unable:
        return None
    value = (answer.ranks or {}).get(str(item_id))
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _view(
    question: RankingQuestion, number: int, items: list[RankingItem], answer: RankAnswer | None
) -> RankingView:
    return RankingView(
        id=question.id,
        text=question.text,
        allow_ties=bool(question.allow_ties),
        number=number,
        items=[RankItemView(i.id, i.text, _saved_rank(answer, i.id)) for i in items],
        unable=bool(answer.unable) if answer is not None else False,
    )


async def rankings_of_round(session: AsyncSession, round_id: int, panellist_id: int) -> list[RankingView]:
    """Every ranking question of round ``round_id`` in order, with the panellist's saved answers.  Three
    queries whatever the number of questions."""
    questions = await _asked(session, round_id)
    ids = [q.id for q in questions]
    items = await _items(session, ids)
    answers = await _answers(session, round_id, panellist_id, ids)
    return [_view(q, n, items[q.id], answers.get(q.id)) for n, q in enumerate(questions, start=1)]


async def round_rankings(session: AsyncSession, panellist: Panellist) -> list[RankingView]:
    """The ranking questions of the panellist's current round (open, or the latest closed) with the saved
    answers, in the round's order; [] before round 1 or when the round asks none."""
    facts = await load_facts(session, panellist)
    if facts.round is None:
        return []
    return await rankings_of_round(session, facts.round.id, panellist.id)


async def unanswered_rankings(session: AsyncSession, round_id: int, panellist_id: int) -> list[RankingView]:
    """The ranking questions of the round the panellist has neither ranked nor marked "unable to rank"."""
    return [view for view in await rankings_of_round(session, round_id, panellist_id) if not view.answered]


def missing_ranking_issues(unanswered: Sequence[RankingView], w: Wording | None = None) -> list[Issue]:
    """One issue per unanswered ranking question (:func:`unanswered_rankings`; field ``rk<question id>``, the
    question's row on the review page), quoting the question in the language of ``w`` (as written without)."""
    return [
        Issue(
            f"rk{view.id}",
            N_("Rank the items of “%(text)s”, or choose “Unable to rank”."),
            {"text": shorten(w.ranking(view.id, view.text) if w is not None else view.text)},
        )
        for view in unanswered
    ]


async def _feedback(
    session: AsyncSession, panel: Panel, rnd: Round, panellist_id: int, view: RankingView
) -> RankingFeedback | None:
    """The released result of the latest closed round before ``rnd`` that froze a pooled row for the
    question, with the panellist's own answer in that round; None when there is none (round 1)."""
    found = (
        await session.execute(
            select(RankingResult.round_id, Round.number)
            .join(Round, Round.id == RankingResult.round_id)
            .where(
                Round.panel_id == panel.id,
                Round.number < rnd.number,
                Round.status == RoundStatus.CLOSED,
                RankingResult.question_id == view.id,
                RankingResult.scope == POOLED_SCOPE,
            )
            .order_by(Round.number.desc())
            .limit(1)
        )
    ).first()
    if found is None:
        return None
    texts = {i.id: i.text for i in view.items}
    release = await load_ranking_release(session, panel, found.round_id, view.id, texts)
    if release is None:
        return None
    own = (await _answers(session, found.round_id, panellist_id, [view.id])).get(view.id)
    ranked = [RankItemView(i.id, i.text, _saved_rank(own, i.id)) for i in view.items]
    order = tuple(sorted((i for i in ranked if i.rank is not None), key=lambda i: i.rank or 0))
    return RankingFeedback(found.number, release, order, bool(own.unable) if own is not None else False)


async def load_rank_page(
    session: AsyncSession, panellist: Panellist, question_id: int, now: datetime | None = None
) -> RankingPage:
    """The page of ranking question ``question_id`` in the panellist's current round, with the saved answer
    and, from round 2, last round's released result.  A closed round loads too (``overview.accepts_answers``
    False).

    Raises :class:`~delphi.participation.issues.ConsentNeeded` before consent,
    :class:`~delphi.participation.issues.NoRoundOpen` before round 1 and :class:`RankingNotInRound` for a
    question the round does not ask (whoever's it is).
    """
    now = now or utcnow()
    refusal = checks.consent_refusal(panellist.consented_at is not None)
    if refusal is not None:
        raise refusal
    facts = await load_facts(session, panellist)
    rnd = require_round(facts)
    views = await rankings_of_round(session, rnd.id, panellist.id)
    index = next((n for n, v in enumerate(views) if v.id == question_id), None)
    if index is None:
        raise not_in_round()
    view = views[index]
    return RankingPage(
        overview=await overview(session, panellist, now),
        question=view,
        total=len(views),
        next_id=views[index + 1].id if index + 1 < len(views) else None,
        previous_id=views[index - 1].id if index > 0 else None,
        feedback=await _feedback(session, facts.panel, rnd, panellist.id, view),
        k_min=facts.panel.k_min,
        rating_pages=len(await rating_page_specs(session, panellist)),
    )


async def save_ranking(
    session: AsyncSession,
    panellist: Panellist,
    answer: RankingInput,
    now: datetime | None = None,
    *,
    item_text: Callable[[int, str], str] | None = None,
) -> RankingSaved:
    """Save one ranking question's answer with one upsert, in the caller's transaction.

    The write checks of ratings first (:func:`~delphi.participation.saving.write_target`: consent, an open
    round, its closing time not passed, under the write lock), then the question asked in that round
    (:class:`RankingNotInRound`), then :func:`clean_ranking`: every problem in one
    :class:`~delphi.errors.InvalidInput`.  Nothing is written on any refusal.  Saving the same answer again
    changes only ``updated_at`` (and ``language``, the panellist's at the time, if they switched).
    ``item_text`` (``(item id, text) -> text``, e.g. :meth:`~delphi.panels.translations.Wording.item`) words the
    items that refusals quote, in the panellist's language.
    """
    now = now or utcnow()
    target = await write_target(session, panellist, [], now)
    questions = await _asked(session, target.round_id)
    index = next((n for n, q in enumerate(questions) if q.id == answer.question_id), None)
    if index is None:
        raise not_in_round()
    question = questions[index]
    items = (await _items(session, [question.id]))[question.id]
    clean = clean_ranking(
        [(i.id, item_text(i.id, i.text) if item_text else i.text) for i in items],
        bool(question.allow_ties),
        answer.ranks,
        answer.unable,
    )
    if isinstance(clean, list):
        raise fail_many(InvalidInput, clean)
    stmt = insert_for(dialect_name(session), RankAnswer.__table__)
    stmt = stmt.values(
        round_id=target.round_id,
        question_id=question.id,
        panellist_id=panellist.id,
        ranks=clean.ranks,
        unable=clean.unable,
        language=answer_language(panellist.language),
        created_at=now,
        updated_at=now,
    ).on_conflict_do_update(
        index_elements=["round_id", "question_id", "panellist_id"],
        set_={
            "ranks": stmt.excluded.ranks,
            "unable": stmt.excluded.unable,
            "language": stmt.excluded.language,
            "updated_at": stmt.excluded.updated_at,
        },
    )
    await session.execute(stmt)
    following = questions[index + 1].id if index + 1 < len(questions) else None
    return RankingSaved(question.id, following, clean.unable)
