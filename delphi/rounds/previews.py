"""What a round action is about to do, in numbers, for the confirmation page before it: open a round, close it,
finish the panel, send a reminder now.

Each ``preview_*`` reads the counts the action would act on (nothing is changed, nothing queued) into a small
frozen dataclass; its ``sentences()`` is the pure wording of the consequences ("This sends 30 invitations."),
and ``blockers`` the actions a person must take first (the same lists the action itself refuses with).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import AuditEvent, Panel, Panellist, Rating, Round, RoundStatement, Submission, utcnow
from delphi.db.queries import ANSWERED
from delphi.domain import AnalysisPopulation, PanelStatus, RoundStatus
from delphi.formatting import format_datetime
from delphi.panels.settings import rule_fit_problems
from delphi.rounds import lifecycle
from delphi.rounds.lookup import panel_rule
from delphi.rounds.recipients import count_invitable, invitable
from delphi.rounds.transitions import open_facts

#: Shortest time between two manual reminders of a round before the facilitator must confirm a second one
#: (:func:`delphi.rounds.schedule.send_reminder_now`); a double click or a second facilitator is refused.
REMINDER_INTERVAL = timedelta(hours=12)


def people(n: int, one: str = "panellist", many: str = "panellists") -> str:
    """``"1 panellist"``, ``"0 panellists"``, ``"30 panellists"`` (pure)."""
    return f"{n} {one if n == 1 else many}"


def _rule_text(panel: Panel) -> str:
    try:
        return panel_rule(panel).describe()
    except (ValueError, TypeError, KeyError):
        return "no consensus rule chosen yet"


async def _n_statements(session: AsyncSession, round_: Round) -> int:
    n = await session.scalar(
        select(func.count()).select_from(RoundStatement).where(RoundStatement.round_id == round_.id)
    )
    return int(n or 0)


@dataclass(frozen=True, slots=True)
class OpenPreview:
    """Opening draft round ``round_number``: ``mails`` invitations (round 1) or "round N is open" mails,
    ``statements`` asked until ``closes_at`` (UTC, None when not set); ``locks_rule``: round 1 fixes the
    consensus rule ``rule_text`` and which answers count (``population``)."""

    round_number: int
    mails: int
    statements: int
    closes_at: datetime | None
    locks_rule: bool
    rule_text: str
    population: str
    blockers: tuple[str, ...]

    def sentences(self) -> list[str]:
        n = self.round_number
        what = "invitation" if n == 1 else f"e-mail saying round {n} is open"
        whats = "invitations" if n == 1 else f"e-mails saying round {n} is open"
        out = [
            f"This sends {self.mails} {what if self.mails == 1 else whats}, one to each panellist who can be invited."
        ]
        until = format_datetime(self.closes_at) if self.closes_at else "its closing date"
        out.append(
            f"Panellists can answer {people(self.statements, 'statement', 'statements')} until {until}."
        )
        if self.locks_rule:
            out.append(
                f"The consensus rule ({self.rule_text}) and which answers count "
                f"({AnalysisPopulation(self.population).label.lower()}) are fixed from now on; a later change is "
                "recorded in the audit trail and flagged in every report."
            )
        return out


async def preview_open(
    session: AsyncSession, panel: Panel, round_: Round, now: datetime | None = None
) -> OpenPreview:
    """What opening ``round_`` would do at ``now`` (default: the current time, UTC); blockers as
    :func:`lifecycle.open_blockers`."""
    facts = await open_facts(session, panel, round_)
    return OpenPreview(
        round_number=round_.number,
        mails=facts.n_invitable_panellists,
        statements=facts.n_statements,
        closes_at=round_.closes_at,
        locks_rule=panel.rule_locked_at is None,
        rule_text=_rule_text(panel),
        population=panel.analysis_population,
        blockers=tuple(lifecycle.open_blockers(facts, now or utcnow())),
    )


@dataclass(frozen=True, slots=True)
class ClosePreview:
    """Closing open round ``round_number``: ``statements`` classified by ``rule_text``; ``submitted``
    panellists sent the round, ``drafts`` saved answers without sending it, ``not_started`` (invitable, not
    submitted) saved nothing; ``population`` says whether drafts count; ``last_round``: the panel's last allowed
    round (``max_rounds``), so closing finishes it and mails the final results to ``final_recipients``."""

    round_number: int
    statements: int
    rule_text: str
    population: str
    submitted: int
    drafts: int
    not_started: int
    last_round: bool
    max_rounds: int
    final_recipients: int
    blockers: tuple[str, ...]

    def sentences(self) -> list[str]:
        n = self.round_number
        out = [
            f"This closes round {n}: its {people(self.statements, 'statement', 'statements')} get their results "
            f"by the consensus rule: {self.rule_text}.",
            f"{people(self.submitted)} sent their answers.",
        ]
        if self.drafts == 0:
            out.append("Nobody has answers saved but not sent.")
        elif self.population == AnalysisPopulation.ALL:
            have = "has" if self.drafts == 1 else "have"
            out.append(
                f"{people(self.drafts)} {have} saved answers but not sent them; their saved answers count too "
                "(this panel counts every saved answer)."
            )
        else:
            have = "has" if self.drafts == 1 else "have"
            out.append(
                f"{people(self.drafts)} {have} saved answers but not sent them; their drafts will not count "
                "(this panel counts submitted answers only)."
            )
        if self.not_started:
            out.append(f"{people(self.not_started)} who could take part saved no answer.")
        out.append(f"Nobody can change their round {n} answers after it closes.")
        if self.last_round:
            out.append(
                f"Round {n} is the panel's last round (it allows {self.max_rounds}): the panel finishes and "
                f"{people(self.final_recipients)} get the final results by e-mail."
            )
        else:
            out.append(
                f"Statements the panel has not settled go into a draft round {n + 1}. If none are left, the panel "
                f"finishes instead and {people(self.final_recipients)} get the final results by e-mail."
            )
        return out


async def _round_people(session: AsyncSession, panel: Panel, round_: Round) -> tuple[int, int, int]:
    """``(submitted, drafts, started)`` of ``round_``: panellists who sent it, who saved an answer (a rating or
    "unable") without sending it, and invitable ones who have not submitted but saved anything."""
    submitted = await session.scalar(
        select(func.count()).select_from(Submission).where(Submission.round_id == round_.id)
    )
    sent = select(Submission.panellist_id).where(Submission.round_id == round_.id)
    drafts = await session.scalar(
        select(func.count(func.distinct(Rating.panellist_id))).where(
            Rating.round_id == round_.id, ANSWERED, Rating.panellist_id.not_in(sent)
        )
    )
    started = await session.scalar(
        select(func.count())
        .select_from(Panellist)
        .where(
            invitable(panel.id, not_submitted_round_id=round_.id),
            Panellist.id.in_(select(Rating.panellist_id).where(Rating.round_id == round_.id)),
        )
    )
    return int(submitted or 0), int(drafts or 0), int(started or 0)


async def _awaiting(session: AsyncSession, panel: Panel, round_: Round) -> int:
    n = await session.scalar(
        select(func.count())
        .select_from(Panellist)
        .where(invitable(panel.id, not_submitted_round_id=round_.id))
    )
    return int(n or 0)


async def preview_close(session: AsyncSession, panel: Panel, round_: Round) -> ClosePreview:
    """What closing ``round_`` would do; blockers as :func:`lifecycle.close_blockers`."""
    submitted, drafts, started = await _round_people(session, panel, round_)
    awaiting = await _awaiting(session, panel, round_)
    return ClosePreview(
        round_number=round_.number,
        statements=await _n_statements(session, round_),
        rule_text=_rule_text(panel),
        population=panel.analysis_population,
        submitted=submitted,
        drafts=drafts,
        not_started=awaiting - started,
        last_round=round_.number >= panel.max_rounds,
        max_rounds=panel.max_rounds,
        final_recipients=await count_invitable(session, panel.id),
        blockers=tuple(lifecycle.close_blockers(round_.status, round_.number, rule_fit_problems(panel))),
    )


@dataclass(frozen=True, slots=True)
class FinishPreview:
    """Finishing the panel now: ``recipients`` get the final results; ``draft_rounds`` (numbers) are deleted."""

    recipients: int
    draft_rounds: tuple[int, ...]
    blockers: tuple[str, ...]

    def sentences(self) -> list[str]:
        out = [
            "The panel finishes: no more rounds, and nobody can change an answer.",
            f"{people(self.recipients)} get the final results by e-mail.",
        ]
        for n in self.draft_rounds:
            out.append(f"Draft round {n} and its list of statements are deleted.")
        return out


async def preview_finish(session: AsyncSession, panel: Panel) -> FinishPreview:
    """What :func:`delphi.rounds.transitions.finish_panel` would do; blockers as the refusals it raises."""
    rounds = (
        await session.execute(select(Round.number, Round.status).where(Round.panel_id == panel.id))
    ).all()
    blockers: list[str] = []
    if panel.status == PanelStatus.FINISHED:
        blockers.append("This panel has finished already.")
    blockers += [f"Close round {n} first." for n, status in rounds if status == RoundStatus.OPEN]
    return FinishPreview(
        recipients=await count_invitable(session, panel.id),
        draft_rounds=tuple(sorted(n for n, status in rounds if status == RoundStatus.DRAFT)),
        blockers=tuple(blockers),
    )


@dataclass(frozen=True, slots=True)
class ReminderPreview:
    """A manual reminder now: to ``not_started`` panellists who saved nothing and ``started`` ones who saved
    answers but did not send them (both invitable, not submitted).  ``last_at`` (UTC) and ``last_count``: the
    last manual reminder of the round (None, 0 when none); ``too_soon``: it went less than
    :data:`REMINDER_INTERVAL` ago, so sending another needs a confirmation."""

    round_number: int
    not_started: int
    started: int
    last_at: datetime | None
    last_count: int
    too_soon: bool
    blockers: tuple[str, ...]

    @property
    def total(self) -> int:
        return self.not_started + self.started

    def sentences(self) -> list[str]:
        out = [
            f"This sends a reminder to {people(self.total)} who have not sent their round {self.round_number} "
            f"answers: {self.not_started} who have not started and {self.started} who started but have not sent.",
        ]
        if self.last_at is not None:
            out.append(
                f"The last reminder went on {format_datetime(self.last_at)} to {people(self.last_count)}."
            )
        if self.too_soon:
            hours = int(REMINDER_INTERVAL.total_seconds() // 3600)
            out.append(
                f"That is less than {hours} hours ago. Send another only if you are sure: the same people get "
                "a second e-mail."
            )
        return out


def reminder_too_soon(last_at: datetime | None, now: datetime) -> bool:
    """True when a manual reminder went less than :data:`REMINDER_INTERVAL` before ``now`` (pure; both UTC)."""
    return last_at is not None and now - last_at < REMINDER_INTERVAL


async def last_reminder_count(session: AsyncSession, panel: Panel, round_: Round) -> int:
    """How many the last manual reminder of ``round_`` was queued for (its ``round.reminded`` audit event); 0
    when it sent none."""
    events = await session.scalars(
        select(AuditEvent)
        .where(AuditEvent.panel_id == panel.id, AuditEvent.action == "round.reminded")
        .order_by(AuditEvent.id.desc())
        .limit(50)
    )
    for e in events:
        d = e.detail or {}
        if d.get("round") == round_.number and str(d.get("reminder", "")).startswith("manual"):
            return int(d.get("recipients", 0))
    return 0


async def preview_reminder(
    session: AsyncSession, panel: Panel, round_: Round, now: datetime | None = None
) -> ReminderPreview:
    """Who a reminder sent at ``now`` (default: the current time, UTC) would reach, and when the last went."""
    now = now or utcnow()
    _, _, started = await _round_people(session, panel, round_)
    awaiting = await _awaiting(session, panel, round_)
    blockers = () if round_.status == RoundStatus.OPEN else (f"Round {round_.number} is not open.",)
    return ReminderPreview(
        round_number=round_.number,
        not_started=awaiting - started,
        started=started,
        last_at=round_.reminded_at,
        last_count=await last_reminder_count(session, panel, round_) if round_.reminded_at else 0,
        too_soon=reminder_too_soon(round_.reminded_at, now),
        blockers=blockers,
    )
