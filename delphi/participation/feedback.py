"""Last round's feedback for the statements of a round, as a panellist sees it (BRIEF §4 step 5).

Reads only frozen data: the pooled and per-group ``RoundResult`` rows of the latest closed round in which each
statement (or the statement it rewords) was asked, the panellist's own rating then, and the comments the
facilitator published.  Disclosure control is applied here (:func:`delphi.rounds.released.release_scopes`), so
no page can show what it withholds: nothing when fewer than k rated, no group under k, and no group whose figures
with the others shown would give a hidden group's away.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import Panel, Rating, Round, RoundResult
from delphi.domain import POOLED_SCOPE, CommentStatus, RoundStatus
from delphi.participation.facts import statements_by_id
from delphi.rounds import figures
from delphi.rounds.released import (
    Distribution,
    GroupFeedback,
    feedback_figures,
    load_groups,
    release_scopes,
)

__all__ = ["Distribution", "GroupFeedback", "StatementFeedback", "feedback_figures", "load_feedback"]


@dataclass(frozen=True, slots=True)
class StatementFeedback:
    """What the panel said about a statement (or the statement it rewords) in the last round it was asked."""

    round_number: int
    #: The whole panel's figures; None when fewer than k people rated (then ``groups`` and ``comments`` are
    #: empty too, and the page says only that too few people answered).
    pooled: Distribution | None
    groups: tuple[GroupFeedback, ...]
    #: The panellist's own answer then: a value, "unable" (``own_unable``), or neither (did not rate).
    own_value: int | None
    own_unable: bool
    #: Published comments and published reasons (for ratings outside the middle half), anonymous, oldest first.
    comments: tuple[str, ...]
    #: The earlier wording, when this statement rewords the one rated last round; else None.
    previous_text: str | None
    #: That earlier statement's id (its text's translation key, ``statement.<id>``); None with no earlier wording.
    previous_id: int | None = None


#: (round id, statement id) -> that statement's frozen RoundResult rows in that round, by scope.
_Results = dict[tuple[int, int], dict[str, RoundResult]]


async def _earlier_results(
    session: AsyncSession, panel: Panel, rnd: Round, statement_ids: set[int]
) -> tuple[_Results, dict[int, int]]:
    """The RoundResult rows of ``statement_ids`` in the panel's closed rounds before ``rnd``, and those rounds'
    numbers by id."""
    rows = (
        await session.execute(
            select(RoundResult, Round.number)
            .join(Round, Round.id == RoundResult.round_id)
            .where(
                Round.panel_id == panel.id,
                Round.number < rnd.number,
                Round.status == RoundStatus.CLOSED,
                RoundResult.statement_id.in_(list(statement_ids)),
            )
        )
    ).all()
    by_key: _Results = {}
    numbers: dict[int, int] = {}
    for result, number in rows:
        by_key.setdefault((result.round_id, result.statement_id), {})[result.scope] = result
        numbers[result.round_id] = number
    return by_key, numbers


def _sources(
    candidates: dict[int, list[int]], by_key: _Results, numbers: dict[int, int]
) -> dict[int, tuple[int, int]]:
    """Statement -> (round id, source statement id) of its feedback: of the statement's ``candidates`` (itself,
    then its parent) with a pooled row, the latest round wins; within one round the statement beats its
    parent.  Statements with no such row are absent."""
    source: dict[int, tuple[int, int]] = {}
    for sid, ids in candidates.items():
        ranked = [
            ((numbers[round_id], -ids.index(rsid)), (round_id, rsid))
            for (round_id, rsid), scopes in by_key.items()
            if rsid in ids and POOLED_SCOPE in scopes
        ]
        if ranked:
            source[sid] = max(ranked)[1]
    return source


def _in_pairs(pairs: set[tuple[int, int]]) -> Any:
    """SQL condition: the rating's (round id, statement id) is one of ``pairs``."""
    return or_(*(and_(Rating.round_id == a, Rating.statement_id == b) for a, b in pairs))


async def _own_ratings(
    session: AsyncSession, panellist_id: int, pairs: set[tuple[int, int]]
) -> dict[tuple[int, int], Rating]:
    rows = await session.scalars(select(Rating).where(Rating.panellist_id == panellist_id, _in_pairs(pairs)))
    return {(r.round_id, r.statement_id): r for r in rows.all()}


async def _published_texts(
    session: AsyncSession, pairs: set[tuple[int, int]]
) -> dict[tuple[int, int], list[str]]:
    """Published comments and reasons by (round id, statement id), oldest rating first.

    A published reason (for a rating outside the middle half) is shown like a published comment: its text
    only, with no rating and no name; the two are moderated apart.
    """
    published: dict[tuple[int, int], list[str]] = {}
    rows = await session.scalars(
        select(Rating)
        .where(
            or_(
                and_(Rating.comment_status == CommentStatus.PUBLISHED, Rating.comment != ""),
                and_(Rating.reason_status == CommentStatus.PUBLISHED, Rating.reason != ""),
            ),
            _in_pairs(pairs),
        )
        .order_by(Rating.id)
    )
    for r in rows.all():
        texts = published.setdefault((r.round_id, r.statement_id), [])
        if r.comment and r.comment_status == CommentStatus.PUBLISHED:
            texts.append(r.comment)
        if r.reason and r.reason_status == CommentStatus.PUBLISHED:
            texts.append(r.reason)
    return published


async def load_feedback(
    session: AsyncSession,
    panel: Panel,
    rnd: Round,
    panellist_id: int,
    statement_ids: Sequence[int],
    *,
    comments: bool = True,
    include_withheld: bool = False,
) -> dict[int, StatementFeedback]:
    """Last round's feedback for each statement of ``rnd`` asked before (itself or the one it rewords).

    For each statement the source is the latest closed round before ``rnd`` with a pooled RoundResult for the
    statement or, failing that, for its parent (``parent_id``).  Figures pass disclosure control
    (:func:`feedback_figures`): hidden groups have ``distribution`` None.  A statement whose pooled figures are
    withheld (fewer than ``panel.k_min`` rated) is absent unless ``include_withheld`` (then ``pooled`` is None,
    with no groups and no comments), so callers that read last round's quartiles never see withheld ones.
    Statements never asked before are absent from the result.
    """
    if not statement_ids or rnd.number <= 1:
        return {}
    statements = await statements_by_id(session, statement_ids)
    candidates = {sid: [sid] + ([s.parent_id] if s.parent_id else []) for sid, s in statements.items()}
    by_key, numbers = await _earlier_results(
        session, panel, rnd, {c for ids in candidates.values() for c in ids}
    )
    source = _sources(candidates, by_key, numbers)
    if not source:
        return {}
    pairs = set(source.values())
    own = await _own_ratings(session, panellist_id, pairs)
    published = await _published_texts(session, pairs) if comments else {}
    groups = await load_groups(session, panel.id)
    parents = await statements_by_id(session, [b for _, b in pairs if b not in statements])
    band = figures.agree_band(panel.rule, panel.scale_min, panel.scale_max)
    include_unable = panel.unable_policy == "include"
    out: dict[int, StatementFeedback] = {}
    for sid, (round_id, src) in source.items():
        released = release_scopes(by_key[(round_id, src)], groups, panel.k_min)
        if released is None:  # not reached: a source always has a pooled row
            continue
        pooled, group_views = feedback_figures(released, band, panel.scale_min, include_unable)
        if pooled is None and not include_withheld:
            continue
        mine = own.get((round_id, src))
        prev_text, prev_id = None, None
        if src != sid:
            parent = parents.get(src) or statements.get(src)
            prev_text, prev_id = (parent.text, src) if parent else (None, None)
        out[sid] = StatementFeedback(
            round_number=numbers[round_id],
            pooled=pooled,
            groups=group_views,
            own_value=mine.value if mine else None,
            own_unable=bool(mine.unable) if mine else False,
            comments=tuple(published.get((round_id, src), [])) if pooled is not None else (),
            previous_text=prev_text,
            previous_id=prev_id,
        )
    return out
