"""Pure rules of the round lifecycle: what must happen before a round can open or close, reminders that are due,
which statements carry forward, when a panel is finished.

No I/O: callers gather small fact records from the database and act on the answers.  A refused transition is
answered with a list of *actions a person can take* ("Add at least one statement to round 1"), never a bare no.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from delphi.domain import RoundStatus

#: Verdicts that mean the panel has not settled a statement; these carry forward by default.
UNSETTLED = frozenset({"none", "insufficient"})
#: Longest round we accept, to catch a mistyped year.
MAX_ROUND_LENGTH = timedelta(days=366)


@dataclass(frozen=True, slots=True)
class PanelFacts:
    """What the open-round check needs to know about a panel and the round to open."""

    round_number: int
    round_status: str
    n_groups: int
    n_statements: int
    n_invitable_panellists: int
    rule_is_valid: bool
    previous_round_status: str | None
    closes_at: datetime | None
    opens_at: datetime | None
    max_rounds: int
    panel_finished: bool = False
    #: Why the (readable) rule cannot be applied to the panel's scale; see
    #: :func:`delphi.panels.settings.rule_fit_problems`.
    rule_problems: tuple[str, ...] = ()
    #: Whether the panel has a contact (a name and an e-mail address) for panellists' pages and mail.
    has_contact: bool = True
    #: What the round asks (:class:`delphi.domain.RoundKind`); an open round needs open questions instead of
    #: statements, and at least one rating round after it.
    round_kind: str = "rating"
    n_open_questions: int = 0
    #: Ranking questions the round asks (a rating round may ask rankings only).
    n_rankings: int = 0
    #: What to translate first, one action per language an invitable panellist reads and the round lacks
    #: (:func:`delphi.panels.translation_gaps.gap_actions`).
    translation_actions: tuple[str, ...] = ()


def open_blockers(facts: PanelFacts, now: datetime) -> list[str]:
    """Actions that must be taken before the round can open; empty when it can.

    ``now`` is timezone-aware UTC.  Order follows the facilitator's page from top to bottom.
    """
    n = facts.round_number
    if facts.panel_finished:
        return ["This panel has finished; start a new panel to ask again."]
    if facts.round_status != RoundStatus.DRAFT:
        return [f"Round {n} is {facts.round_status} already; only a draft round can be opened."]
    actions: list[str] = []
    if n > facts.max_rounds:
        actions.append(f"Raise the panel's maximum number of rounds to at least {n}.")
    if facts.previous_round_status is not None and facts.previous_round_status != RoundStatus.CLOSED:
        actions.append(f"Close round {n - 1} first.")
    if not facts.rule_is_valid:
        actions.append("Choose a consensus rule in the panel settings.")
    elif facts.rule_problems:
        actions.append(
            "Change the consensus rule in the panel settings to one that fits the scale: "
            + " ".join(facts.rule_problems)
        )
    if not facts.has_contact:
        actions.append(
            "Add a panel contact (name and e-mail) in the panel settings: panellists see it on every page and "
            "in every mail."
        )
    if facts.n_groups == 0:
        actions.append("Add at least one stakeholder group.")
    if facts.round_kind == "open":
        if facts.n_open_questions == 0:
            actions.append(f"Add at least one open question to round {n}.")
        if facts.n_statements:
            actions.append(f"Drop the statements from round {n}: an open round asks open questions only.")
        if facts.max_rounds < 2:
            actions.append(
                "Raise the panel's maximum number of rounds to at least 2: an open round is followed by at least "
                "one rating round."
            )
    elif facts.n_statements == 0 and facts.n_rankings == 0:
        actions.append(f"Add at least one statement or ranking question to round {n}.")
    if facts.n_invitable_panellists == 0:
        actions.append("Add at least one panellist who can be invited.")
    actions.extend(facts.translation_actions)
    if facts.closes_at is None:
        actions.append(f"Set a closing date for round {n}.")
    elif facts.closes_at <= now:
        actions.append(f"Set a closing date for round {n} that is in the future.")
    return actions


def close_blockers(round_status: str, round_number: int, rule_problems: Sequence[str] = ()) -> list[str]:
    """Actions needed before a round can close: it must be open, and its rule must fit the scale.

    ``rule_problems`` are the sentences of :func:`delphi.panels.settings.rule_fit_problems` (empty when the rule
    fits).  A rule that does not fit was locked before rules were checked against scales: it is listed, then how
    to replace it.
    """
    if round_status == RoundStatus.OPEN:
        if not rule_problems:
            return []
        return [
            *rule_problems,
            "Change the consensus rule in the panel settings to one that fits the scale, then close the round "
            "again. The rule was fixed when round 1 opened, so the change is recorded in the audit trail and "
            "flagged in every report. Until then the round stays open and answers can still be saved.",
        ]
    if round_status == RoundStatus.DRAFT:
        return [f"Open round {round_number} first; a draft round has no answers to close."]
    return [f"Round {round_number} is closed already."]


def schedule_problems(
    opens_at: datetime | None, closes_at: datetime | None, reminder_hours: Sequence[int], now: datetime
) -> list[tuple[str, str]]:
    """Check a round's dates; returns ``(field, message)`` pairs, empty when fine.

    ``opens_at`` None means "when the facilitator opens it".  ``reminder_hours`` are hours before ``closes_at``.
    """
    problems: list[tuple[str, str]] = []
    if closes_at is not None and closes_at <= now:
        problems.append(("closes_at", "The closing date must be in the future."))
    if opens_at is not None and opens_at < now - timedelta(minutes=5):
        problems.append(("opens_at", "The opening date cannot be in the past."))
    if opens_at is not None and closes_at is not None and closes_at <= opens_at:
        problems.append(("closes_at", "The closing date must be after the opening date."))
    start = opens_at or now
    if closes_at is not None and closes_at - start > MAX_ROUND_LENGTH:
        problems.append(("closes_at", "A round can last at most a year; check the closing date."))
    for hours in reminder_hours:
        if hours <= 0 or hours > 24 * 90:
            problems.append(
                ("reminders", "Reminders must be between 1 hour and 90 days before the closing date.")
            )
            break
    return problems


def parse_reminder_hours(text: str) -> tuple[list[int], str | None]:
    """Parse reminder offsets like ``"7d, 2d, 12h"`` or ``"7, 2"`` (days) into hours, largest first.

    Returns ``(hours, error message or None)``.
    """
    hours: set[int] = set()
    for raw in text.replace(";", ",").split(","):
        item = raw.strip().lower()
        if not item:
            continue
        unit = 24
        if item.endswith("h"):
            unit, item = 1, item[:-1].strip()
        elif item.endswith("d"):
            item = item[:-1].strip()
        if not item.isdigit() or int(item) == 0:
            return [], f"{raw.strip()!r} is not a reminder time: write days like 7d or hours like 12h."
        hours.add(int(item) * unit)
    return sorted(hours, reverse=True), None


def reminder_time(closes_at: datetime, hours: int) -> datetime:
    """When the reminder ``hours`` before ``closes_at`` falls due (same timezone as ``closes_at``)."""
    return closes_at - timedelta(hours=hours)


def due_reminders(
    closes_at: datetime | None, offsets_hours: Iterable[int], already_sent: Iterable[int], now: datetime
) -> list[int]:
    """Every reminder offset (hours before closing) that is due at ``now`` and not yet sent, largest first.

    An offset is due once ``now >= closes_at - offset`` (:func:`reminder_time`) and while the round has not
    reached ``closes_at``; none is due without a ``closes_at``.  When several fell due together (a worker that
    was down) all of them are returned: it is the caller, :func:`delphi.rounds.schedule.send_due_reminders`, that
    sends one reminder (tagged with the smallest, i.e. latest, offset) rather than a burst, and marks all of them
    sent.
    """
    if closes_at is None or now >= closes_at:
        return []
    sent = set(already_sent)
    due = [h for h in offsets_hours if h not in sent and now >= reminder_time(closes_at, h)]
    return sorted(due, reverse=True)


def carry_forward(verdicts: Mapping[int, str], policy: str = "unsettled") -> list[int]:
    """Statement ids that go into the next round's draft, in the given order.

    ``policy``: ``"unsettled"`` (default: no consensus or too few ratings), ``"all"`` (ask everything again), or
    ``"none"``.  Raises ValueError for another policy.
    """
    if policy == "unsettled":
        return [sid for sid, v in verdicts.items() if v in UNSETTLED]
    if policy == "all":
        return list(verdicts)
    if policy == "none":
        return []
    raise ValueError(f"unknown carry-forward policy {policy!r}; use unsettled, all or none")


def finished_after_close(
    round_number: int, max_rounds: int, n_carried: int, n_rankings_carried: int = 0
) -> bool:
    """True when closing this round finishes the panel: nothing left to ask (no statement and no ranking question
    carried forward), or the last allowed round."""
    return (n_carried == 0 and n_rankings_carried == 0) or round_number >= max_rounds


def round_is_due_to_close(status: str, closes_at: datetime | None, now: datetime) -> bool:
    return status == RoundStatus.OPEN and closes_at is not None and now >= closes_at


def round_is_due_to_open(status: str, opens_at: datetime | None, now: datetime) -> bool:
    return status == RoundStatus.DRAFT and opens_at is not None and now >= opens_at
