"""Rating pages: a round's statements split into pages by section, and where a panellist resumes.

Pure: no SQLAlchemy, no Litestar, no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

#: Statements shown on one rating page at most; a section longer than this is split over pages.
PER_PAGE = 5


@dataclass(frozen=True, slots=True)
class PageSpec:
    """One rating page: its 1-based ``number``, the ``section`` heading and the statement ids on it."""

    number: int
    section: str
    statement_ids: tuple[int, ...]
    #: 1-based part of a section split over several pages, and how many parts it has.
    part: int = 1
    parts: int = 1


def paginate(statements: Sequence[tuple[int, str]], per_page: int = PER_PAGE) -> list[PageSpec]:
    """Split ``(statement id, section)`` pairs, already in round order, into pages.

    A page never mixes sections; a section with more than ``per_page`` statements fills several pages.  A
    section that comes back after another keeps its order (the pairs are not regrouped).  Empty input: [].
    """
    if per_page < 1:
        raise ValueError("per_page must be at least 1")
    runs: list[tuple[str, list[int]]] = []
    for sid, section in statements:
        if runs and runs[-1][0] == section:
            runs[-1][1].append(sid)
        else:
            runs.append((section, [sid]))
    pages: list[PageSpec] = []
    for section, ids in runs:
        chunks = [ids[i : i + per_page] for i in range(0, len(ids), per_page)]
        for part, chunk in enumerate(chunks, start=1):
            pages.append(PageSpec(len(pages) + 1, section, tuple(chunk), part, len(chunks)))
    return pages


def page_of(pages: Sequence[PageSpec], statement_id: int) -> int | None:
    """Number of the page showing ``statement_id``, or None."""
    for page in pages:
        if statement_id in page.statement_ids:
            return page.number
    return None


def resume_page(pages: Sequence[PageSpec], answered: set[int] | frozenset[int]) -> int:
    """The page to continue on: the first with an unanswered statement, else the last page; 1 when none."""
    for page in pages:
        if any(sid not in answered for sid in page.statement_ids):
            return page.number
    return pages[-1].number if pages else 1


def unanswered(statement_ids: Sequence[int], answered: set[int] | frozenset[int]) -> list[int]:
    """Statement ids, in order, that still need an answer (a rating or "unable") before submitting."""
    return [sid for sid in statement_ids if sid not in answered]


def next_ranking(rankings: Sequence[tuple[int, bool]]) -> int | None:
    """The ranking question that follows the last rating page: ``rankings`` are ``(question id, answered)`` in
    the round's order; the first not answered yet, else the first (all answered: the step after the ratings is
    still the first question); None when the round asks none."""
    for qid, answered in rankings:
        if not answered:
            return qid
    return rankings[0][0] if rankings else None


def resume_ranking(all_rated: bool, rankings: Sequence[tuple[int, bool]], page_count: int) -> int | None:
    """The ranking question a panellist resumes at, or None for the rating page :func:`resume_page` gives.

    While a statement is unanswered (``all_rated`` False): None.  Once every statement is answered: the first
    ranking question not answered yet; when all are answered too, None (the last rating page, as without
    rankings) unless the round has no rating pages (``page_count`` 0), then the first ranking question.
    """
    if not all_rated:
        return None
    for qid, answered in rankings:
        if not answered:
            return qid
    return rankings[0][0] if rankings and page_count == 0 else None
