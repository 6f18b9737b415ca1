"""What a panellist may save, checked in one place: answers on the scale, text limits, a valid session (one that
has not run out or been signed out), consent, an open round and statements of that round.

Every writer asks these functions: the rating page's save (:func:`delphi.participation.saving.save_ratings`),
the single save (:func:`~delphi.participation.saving.save_rating`), the grouped background save
(:mod:`delphi.participation.save_batch`), submitting and suggesting.  The refusals come back as the error to
raise (or None), so the full paths raise them and the grouped save, which never phrases an error, only asks
whether there is one.

Pure: no SQLAlchemy, no Litestar, no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from delphi.domain import PanellistStatus, RoundStatus
from delphi.errors import DelphiError
from delphi.participation.issues import (
    N_,
    ConsentNeeded,
    Issue,
    NoRoundOpen,
    RoundClosed,
    StatementNotInRound,
    fail,
)

#: Longest comment, reason, suggestion and suggested section accepted, in characters.
MAX_COMMENT = 5000
MAX_REASON = 2000
MAX_SUGGESTION = 2000
MAX_SECTION = 200
#: The answer value that means "unable to rate".
UNABLE = "unable"


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


@dataclass(frozen=True, slots=True)
class RatingInput:
    """One statement's answer as sent by a form or the JSON endpoint.

    ``answer``: a scale point (int or digits), ``"unable"``, or None to leave the saved answer as it is.
    ``comment``/``reason``: text, or None to leave the saved text as it is ("" clears it).
    """

    statement_id: int
    answer: object = None
    comment: object = None
    reason: object = None


@dataclass(frozen=True, slots=True)
class CleanInput:
    """A :class:`RatingInput` checked against the scale: a parsed answer and trimmed text (None = keep)."""

    statement_id: int
    answer: Answer | None
    comment: str | None
    reason: str | None

    @property
    def empty(self) -> bool:
        return self.answer is None and not self.comment and not self.reason

    @property
    def shape(self) -> tuple[bool, bool, bool]:
        """Which fields the write changes: (answer, comment, reason)."""
        return (self.answer is not None, self.comment is not None, self.reason is not None)


def clean_input(item: RatingInput, scale: Scale) -> CleanInput | list[Issue]:
    """Parse ``item`` against ``scale``; the issues (fields ``s<id>``, ``c<id>``, ``r<id>``) when it is bad."""
    issues: list[Issue] = []
    answer: Answer | None = None
    sid = item.statement_id
    if item.answer is not None and item.answer != "":
        parsed = parse_answer(item.answer, scale, field=f"s{sid}")
        if isinstance(parsed, Issue):
            issues.append(parsed)
        else:
            answer = parsed
    comment = clean_text(item.comment, MAX_COMMENT, f"c{sid}") if item.comment is not None else None
    reason = clean_text(item.reason, MAX_REASON, f"r{sid}") if item.reason is not None else None
    if isinstance(comment, Issue):
        issues.append(comment)
    if isinstance(reason, Issue):
        issues.append(reason)
    if issues:
        return issues
    return CleanInput(sid, answer, comment, reason)  # type: ignore[arg-type]


def clean_inputs(items: Sequence[RatingInput], scale: Scale) -> tuple[list[CleanInput], list[Issue]]:
    """:func:`clean_input` for a page of answers: the cleaned items in order, and every issue of the bad ones
    (a page with any issue must save nothing)."""
    cleaned: list[CleanInput] = []
    issues: list[Issue] = []
    for item in items:
        result = clean_input(item, scale)
        if isinstance(result, list):
            issues.extend(result)
        else:
            cleaned.append(result)
    return cleaned, issues


def clean_suggestion(text: object, section: object) -> tuple[str, str] | list[Issue]:
    """A suggestion's trimmed ``(text, section)``; issues (fields ``text``, ``section``) when the text is empty
    or either is too long (:data:`MAX_SUGGESTION`, :data:`MAX_SECTION`) or not text."""
    body = clean_text(text, MAX_SUGGESTION, "text")
    where = clean_text(section, MAX_SECTION, "section")
    issues = [x for x in (body, where) if isinstance(x, Issue)]
    if not issues and not body:
        issues.append(Issue("text", N_("Write your suggestion in the box.")))
    if issues:
        return issues
    return str(body), str(where)


# --- who may write, and when --------------------------------------------------------------------------------


def link_usable(status: str, erased: bool) -> bool:
    """A personal link works unless the person withdrew or their data was erased."""
    return status != PanellistStatus.WITHDRAWN and not erased


def session_valid(
    status: str,
    erased: bool,
    session_version: int,
    cookie_version: object,
    *,
    ended_at: datetime | None,
    started: object,
) -> bool:
    """A session cookie still counts: made with the panellist's current link (``cookie_version`` equals their
    ``session_version``; re-issuing a link bumps it) by someone whose link works (:func:`link_usable`), and
    not signed out since it started (:func:`signed_out_since`; ``ended_at`` is ``Panellist.sessions_ended_at``,
    ``started`` the cookie's start stamp)."""
    return (
        session_version == cookie_version
        and link_usable(status, erased)
        and not signed_out_since(started, ended_at)
    )


def epoch_stamp(value: object) -> float | None:
    """A cookie's time stamp as epoch seconds; None for anything that is not a finite number (``bool`` too)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def signed_out_since(started: object, ended_at: datetime | None) -> bool:
    """Whether the panellist signed out (``ended_at``, ``Panellist.sessions_ended_at``, UTC-aware) at or after
    the session started (``started``: epoch seconds, sub-second, from the cookie).

    Signing out ends every session started before it, on any browser; a session started later (their personal
    link opened again) is not affected.  A ``started`` that is missing or not a number counts as ended when the
    panellist has ever signed out.
    """
    if ended_at is None:
        return False
    start = epoch_stamp(started)
    return start is None or start <= ended_at.timestamp()


def session_timed_out(
    started: object, last_used: object, now: float, idle: timedelta, longest: timedelta
) -> bool:
    """Whether a panellist session has run out at ``now``: more than ``idle`` since ``last_used`` or more than
    ``longest`` since ``started`` (all three epoch seconds; ``settings.sessions.panellist_idle`` and
    ``panellist_max``).

    A stamp that is missing or not a number (a cookie from before sessions carried them) has run out too.
    """
    start, seen = epoch_stamp(started), epoch_stamp(last_used)
    if start is None or seen is None:
        return True
    return now - seen > idle.total_seconds() or now - start > longest.total_seconds()


def round_accepts_answers(status: str, closes_at: datetime | None, now: datetime) -> bool:
    """True while a round is open and its closing time (if any) has not passed."""
    return status == RoundStatus.OPEN and (closes_at is None or now < closes_at)


def suggestions_allowed(round_number: int, after_round1: bool) -> bool:
    """Panellists may suggest statements in round 1, and in later rounds when the panel allows it."""
    return round_number == 1 or after_round1


def consent_refusal(consented: bool) -> ConsentNeeded | None:
    """:class:`ConsentNeeded` before the panellist agreed to take part; None after."""
    if consented:
        return None
    return fail(
        ConsentNeeded, N_("Please read the information about this panel and agree to take part first.")
    )


def no_round_open() -> NoRoundOpen:
    """The answer when the panel has no round (round 1 has not opened)."""
    return fail(NoRoundOpen, N_("No round is open at the moment. We will e-mail you when one opens."))


def round_refusal(status: str, closes_at: datetime | None, number: int, now: datetime) -> RoundClosed | None:
    """:class:`RoundClosed` when round ``number`` takes no answers at ``now`` (closed by hand, or its
    ``closes_at`` passed); None while it is open.  No round at all is :func:`no_round_open`."""
    if round_accepts_answers(status, closes_at, now):
        return None
    return fail(
        RoundClosed,
        N_("Round %(n)s has closed, so answers can no longer be changed. Thank you for taking part."),
        n=number,
    )


def statements_refusal(wanted: Collection[int], in_round: Collection[int]) -> StatementNotInRound | None:
    """:class:`StatementNotInRound` when any of ``wanted`` is not among the round's statements ``in_round`` (a
    statement of another panel or round is "not in this round", whatever it is); None when all are."""
    if all(sid in in_round for sid in wanted):
        return None
    return fail(StatementNotInRound, N_("This statement is not part of the current round."))


def write_refusal(
    *,
    consented: bool,
    round_status: str,
    closes_at: datetime | None,
    round_number: int,
    wanted: Collection[int],
    in_round: Collection[int],
    now: datetime,
) -> DelphiError | None:
    """The first reason a panellist may not write answers to ``wanted`` in the panel's current round now, in
    the order consent, the round open and its closing time not passed, every statement in that round; None
    when they may.

    The full paths (:func:`delphi.participation.saving.write_target`) ask the three parts one by one in this
    order, as they load what each needs.
    """
    return (
        consent_refusal(consented)
        or round_refusal(round_status, closes_at, round_number, now)
        or statements_refusal(wanted, in_round)
    )
