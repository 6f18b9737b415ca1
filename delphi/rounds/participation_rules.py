"""Pure rules of taking part in a round: answers on the scale, open rounds, pages, plain-word figures.

No SQLAlchemy, no Litestar, no I/O: :mod:`delphi.rounds.participation` loads facts and asks these functions.

Messages a panellist may read are *issues*: an English msgid with ``%(name)s`` parameters, so the web layer
can translate them through the panellist's gettext catalog (see :class:`Issue` and :func:`fail`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as dc_field
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

from delphi.domain import PanellistStatus, RoundStatus
from delphi.errors import Conflict, DelphiError, NotFound
from delphi.formatting import round_half_up

#: Statements shown on one rating page at most; a section longer than this is split over pages.
PER_PAGE = 5
#: Longest comment, reason and suggestion accepted, in characters.
MAX_COMMENT = 5000
MAX_REASON = 2000
MAX_SUGGESTION = 2000
#: The answer value that means "unable to rate".
UNABLE = "unable"


def N_(msgid: str) -> str:
    """Mark ``msgid`` for extraction without translating it now."""
    return msgid


# --- issues -------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Issue:
    """A problem a panellist can fix: ``field`` (a form field id or ""), an English ``msgid``, its params."""

    field: str
    msgid: str
    params: Mapping[str, Any] = dc_field(default_factory=dict)

    def text(self, gettext: Callable[[str], str] | None = None) -> str:
        """The message, translated by ``gettext`` when given, with its parameters filled in."""
        template = gettext(self.msgid) if gettext else self.msgid
        return template % dict(self.params) if self.params else template


E = TypeVar("E", bound=DelphiError)


def fail(cls: type[E], msgid: str, *, field: str = "", **params: Any) -> E:
    """An error of class ``cls`` whose message is ``msgid % params``, carrying its :class:`Issue` list.

    The web layer reads ``exc.issues`` to translate; everything else reads ``exc.message`` (English).
    """
    issue = Issue(field, msgid, params)
    exc = cls(issue.text(), field=field or None)
    exc.issues = [issue]  # type: ignore[attr-defined]
    if hasattr(exc, "errors"):
        exc.errors = [(field, issue.text())]  # type: ignore[attr-defined]
    return exc


def fail_many(cls: type[E], issues: Sequence[Issue]) -> E:
    """One error for several issues (a page of answers); its message is the first issue's."""
    first = issues[0]
    exc = cls(first.text(), field=first.field or None)
    exc.issues = list(issues)  # type: ignore[attr-defined]
    if hasattr(exc, "errors"):
        exc.errors = [(i.field, i.text()) for i in issues]  # type: ignore[attr-defined]
    return exc


# --- answers ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Scale:
    """A panel's scale: points ``lo..hi``, one label per point ("" where none), and "unable" if offered."""

    lo: int
    hi: int
    labels: tuple[str, ...] = ()
    allow_unable: bool = True
    unable_label: str = "Unable to rate"

    @property
    def points(self) -> list[int]:
        return list(range(self.lo, self.hi + 1))

    def label(self, value: int) -> str:
        """The label of one point, "" when it has none (or the labels list is short)."""
        i = value - self.lo
        return str(self.labels[i]) if 0 <= i < len(self.labels) and self.labels[i] else ""


@dataclass(frozen=True, slots=True)
class Answer:
    """A parsed answer: ``value`` on the scale, or ``unable`` True (then value is None)."""

    value: int | None
    unable: bool = False

    @property
    def given(self) -> bool:
        return self.value is not None or self.unable


def parse_answer(raw: object, scale: Scale, field: str = "") -> Answer | Issue:
    """Read a submitted answer: a whole number on the scale, or ``"unable"`` when the panel offers it.

    Accepts ints and strings (form values); ``bool`` is refused.  Returns an :class:`Issue` for anything else,
    so a page can report every bad answer at once.
    """
    if isinstance(raw, str):
        text = raw.strip()
        if text.lower() == UNABLE:
            if scale.allow_unable:
                return Answer(None, True)
            return Issue(
                field, N_("This panel does not offer “unable to rate”. Choose a number from the scale.")
            )
        try:
            raw = int(text, 10)
        except ValueError:
            return Issue(
                field,
                N_("Choose a number from %(lo)s to %(hi)s."),
                {"lo": scale.lo, "hi": scale.hi},
            )
    if isinstance(raw, bool) or not isinstance(raw, int) or not scale.lo <= raw <= scale.hi:
        return Issue(field, N_("Choose a number from %(lo)s to %(hi)s."), {"lo": scale.lo, "hi": scale.hi})
    return Answer(raw, False)


def clean_text(raw: object, limit: int, field: str) -> str | Issue:
    """Strip a comment, reason or suggestion; an :class:`Issue` when not text or longer than ``limit``."""
    if raw is None:
        return ""
    if not isinstance(raw, str):
        return Issue(field, N_("This answer must be text."))
    text = raw.replace("\x00", "").replace("\r\n", "\n").strip()
    if len(text) > limit:
        return Issue(
            field,
            N_("This is %(n)s characters long. Please shorten it to %(limit)s characters or fewer."),
            {"n": len(text), "limit": limit},
        )
    return text


# --- state checks -------------------------------------------------------------------------------------------


def round_accepts_answers(status: str, closes_at: datetime | None, now: datetime) -> bool:
    """True while a round is open and its closing time (if any) has not passed."""
    return status == RoundStatus.OPEN and (closes_at is None or now < closes_at)


def link_usable(status: str, erased: bool) -> bool:
    """A personal link works unless the person withdrew or their data was erased."""
    return status != PanellistStatus.WITHDRAWN and not erased


def suggestions_allowed(round_number: int, after_round1: bool) -> bool:
    """Panellists may suggest statements in round 1, and in later rounds when the panel allows it."""
    return round_number == 1 or after_round1


def outside_iqr(value: int | None, q1: float | None, q3: float | None) -> bool:
    """True when a rating lies outside last round's interquartile range ``[q1, q3]`` (bounds inclusive).

    False when there is no rating or no range to compare with.
    """
    if value is None or q1 is None or q3 is None:
        return False
    return value < q1 or value > q3


# --- pages --------------------------------------------------------------------------------------------------


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


# --- figures in plain words ---------------------------------------------------------------------------------


def agree_band(rule: Mapping[str, Any] | None, lo: int, hi: int) -> tuple[int, int]:
    """The agree band of a panel's stored rule (``{"agree": [7, 9], ...}``).

    Falls back to the top third of the scale (7-9 on 1-9, 4-5 on 1-5) when the rule is empty or malformed, so
    feedback still reads sensibly for a panel whose rule was never set.
    """
    band = (rule or {}).get("agree")
    if (
        isinstance(band, list | tuple)
        and len(band) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) for v in band)
        and lo <= band[0] <= band[1] <= hi
    ):
        return int(band[0]), int(band[1])
    width = max(1, (hi - lo + 1) // 3)
    return hi - width + 1, hi


def count_in_band(counts: Sequence[int], scale_min: int, band: tuple[int, int]) -> int:
    """Ratings in an inclusive band, from counts per scale point (``scale_min`` first)."""
    return sum(int(c) for i, c in enumerate(counts) if band[0] <= scale_min + i <= band[1])


def percent(part: int, whole: int) -> int | None:
    """Whole percentage, halves rounded up (7 of 8 → 88) by :func:`delphi.formatting.round_half_up`, the rule
    of every surface; None when ``whole`` is 0."""
    if whole <= 0:
        return None
    return int(round_half_up(Decimal(100 * part) / Decimal(whole)))


def band_text(band: tuple[int, int]) -> str:
    """``"7–9"``, or ``"9"`` for a one-point band."""
    return str(band[0]) if band[0] == band[1] else f"{band[0]}–{band[1]}"


def number_text(x: float | None) -> str:
    """A statistic as people write it: 6.0 → "6", 6.25 → "6.25", 6.333 → "6.33"; "" for None."""
    if x is None:
        return ""
    text = f"{round(float(x), 2):.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


# --- errors -------------------------------------------------------------------------------------------------


class LinkNotValid(NotFound):
    """A link that is unknown, re-issued, or belongs to someone who left: one answer for all three."""


class SessionEnded(DelphiError):
    """No valid panellist session (never opened the link, link re-issued since, or left the panel)."""

    status_code = 403


class ConsentNeeded(Conflict):
    """A write before the panellist agreed to take part."""


class NoRoundOpen(Conflict):
    """Nothing to rate: round 1 has not opened, or the round has no statements."""


class RoundClosed(Conflict):
    """A write after the round closed (by hand or at its closing time)."""


class StatementNotInRound(NotFound):
    """A statement that is not asked in the current round (another round's, or another panel's)."""


class SuggestionsClosed(Conflict):
    """A suggestion in a round where the panel does not take them."""


class NotFinished(NotFound):
    """Final results asked for before the panel finished."""
