"""A round's transitions: open it, close it (freeze, classify, draft the next), finish the panel.

Each function loads what it needs, asks :mod:`delphi.rounds.lifecycle` for the decisions, changes rows in the
caller's session, enqueues mail through the outbox and writes an audit event.  None commits: the caller's
transaction makes the whole change happen or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from delphi import audit
from delphi.db.locks import begin_write
from delphi.db.models import (
    Panel,
    Panellist,
    RankingQuestion,
    Round,
    RoundRanking,
    RoundStatement,
    StakeholderGroup,
    Statement,
    utcnow,
)
from delphi.domain import Actor, PanellistStatus, PanelStatus, RoundStatus, StatementStatus
from delphi.errors import ActionFailed, Conflict, PreconditionsUnmet
from delphi.locale import same_language
from delphi.panels import translation_gaps
from delphi.panels.settings import rule_fit_problems
from delphi.panels.translations import further_languages
from delphi.rounds import closing, lifecycle, mailing, ranking_close
from delphi.rounds import open_round as open_kind
from delphi.rounds.lookup import panel_rule
from delphi.rounds.recipients import count_invitable, invitable_addressees, reader_languages
from delphi.settings import Settings


async def open_facts(session: AsyncSession, panel: Panel, round_: Round) -> lifecycle.PanelFacts:
    """What :func:`lifecycle.open_blockers` needs to know about ``panel`` and ``round_`` (the round to open)."""
    n_groups = await session.scalar(
        select(func.count()).select_from(StakeholderGroup).where(StakeholderGroup.panel_id == panel.id)
    )
    n_statements = await session.scalar(
        select(func.count()).select_from(RoundStatement).where(RoundStatement.round_id == round_.id)
    )
    n_rankings = await session.scalar(
        select(func.count()).select_from(RoundRanking).where(RoundRanking.round_id == round_.id)
    )
    previous = await session.scalar(
        select(Round.status).where(Round.panel_id == panel.id, Round.number == round_.number - 1)
    )
    try:
        panel_rule(panel)
        rule_ok = True
    except (ValueError, TypeError, KeyError):
        rule_ok = False
    return lifecycle.PanelFacts(
        round_number=round_.number,
        round_status=round_.status,
        n_groups=n_groups or 0,
        n_statements=n_statements or 0,
        n_invitable_panellists=await count_invitable(session, panel.id),
        has_contact=bool((panel.contact_name or "").strip() and (panel.contact_email or "").strip()),
        rule_is_valid=rule_ok,
        rule_problems=tuple(rule_fit_problems(panel)) if rule_ok else (),
        previous_round_status=previous,
        closes_at=round_.closes_at,
        opens_at=round_.opens_at,
        max_rounds=panel.max_rounds,
        panel_finished=panel.status == PanelStatus.FINISHED,
        round_kind=round_.kind,
        n_rankings=n_rankings or 0,
        n_open_questions=await open_kind.count_open_questions(session, panel.id)
        if round_.kind == "open"
        else 0,
        translation_actions=tuple(await translation_actions(session, panel, round_)),
    )


async def translation_gaps_of(
    session: AsyncSession, panel: Panel, round_: Round
) -> list[translation_gaps.LanguageGap]:
    """Each language of the panel, and each one its invitable panellists read, with what ``round_`` lacks in it."""
    readers = await reader_languages(session, panel.id)
    further = [r.language for r in await further_languages(session, panel.id)]
    if not further and all(same_language(lang, panel.language) for lang in readers):
        return []  # one language only: nothing to compare
    items = await translation_gaps.round_items(session, panel, round_)
    stored = await translation_gaps.stored_translations(session, panel.id)
    return translation_gaps.language_gaps(items, stored, panel.language, further, readers)


async def translation_actions(session: AsyncSession, panel: Panel, round_: Round) -> list[str]:
    """The open check's translation actions for ``round_`` (:func:`translation_gaps.gap_actions`)."""
    return translation_gaps.gap_actions(await translation_gaps_of(session, panel, round_), round_.number)


async def round_blockers(
    session: AsyncSession, panel: Panel, round_: Round, now: datetime | None = None
) -> tuple[list[str], list[str]]:
    """``(open blockers, close blockers)`` of the round page: what stops a draft ``round_`` opening at ``now``
    (default: the current time, UTC) and what stops an open one closing; each list empty in any other state."""
    opening = closing_ = []
    if round_.status == RoundStatus.DRAFT:
        opening = lifecycle.open_blockers(await open_facts(session, panel, round_), now or utcnow())
    elif round_.status == RoundStatus.OPEN:
        closing_ = lifecycle.close_blockers(round_.status, round_.number, rule_fit_problems(panel))
    return opening, closing_


async def open_round(
    session: AsyncSession,
    panel: Panel,
    round_: Round,
    *,
    now: datetime | None = None,
    settings: Settings,
    actor: Actor,
) -> int:
    """Open a draft round and enqueue one invitation per invitable panellist; returns how many were queued.

    Round 1 locks the consensus rule.  Reminders whose time has passed already count as sent.  Raises
    PreconditionsUnmet listing what to do first.  ``now`` defaults to the current time (UTC).
    """
    now = now or utcnow()
    blockers = lifecycle.open_blockers(await open_facts(session, panel, round_), now)
    if blockers:
        raise PreconditionsUnmet(f"Round {round_.number} cannot open yet.", blockers)
    if panel.rule_locked_at is None:
        panel.rule_locked_at = now
        audit.record(
            session,
            actor=actor,
            panel_id=panel.id,
            action="rule.locked",
            detail={
                "rule": panel.rule,
                "analysis_population": panel.analysis_population,
                "ranking_w_min": panel.ranking_w_min,
            },
        )
    panel.status = PanelStatus.RUNNING
    round_.status = RoundStatus.OPEN
    round_.opened_at = now
    round_.opens_at = round_.opens_at or now
    assert round_.closes_at is not None  # open_blockers requires one
    round_.reminders_sent = [
        h for h in round_.reminder_offsets_hours if now >= lifecycle.reminder_time(round_.closes_at, h)
    ]
    await session.execute(
        update(Statement)
        .where(
            Statement.id.in_(select(RoundStatement.statement_id).where(RoundStatement.round_id == round_.id))
        )
        .values(status=StatementStatus.ACTIVE)
    )
    await session.execute(
        update(RankingQuestion)
        .where(
            RankingQuestion.id.in_(select(RoundRanking.question_id).where(RoundRanking.round_id == round_.id))
        )
        .values(status=StatementStatus.ACTIVE)
    )
    await session.execute(
        update(Panellist)
        .where(Panellist.panel_id == panel.id, Panellist.status == PanellistStatus.COMPLETED)
        .values(status=PanellistStatus.ACTIVE)
    )
    recipients = await invitable_addressees(session, panel.id)
    queued = await mailing.round_opened(session, panel, round_, recipients)
    audit.record(
        session,
        actor=actor,
        panel_id=panel.id,
        action="round.opened",
        detail={
            "round": round_.number,
            "invitations": queued,
            "closes_at": round_.closes_at.isoformat() if round_.closes_at else None,
        },
    )
    return queued


@dataclass(frozen=True, slots=True)
class CloseOutcome:
    """``verdicts``: ``{statement_id: verdict}`` of the closed round; ``carried``: statement ids asked again;
    ``finished``: the close finished the panel; ``next_round``: the drafted round's number (None if finished)."""

    verdicts: dict[int, str]
    carried: list[int]
    finished: bool
    next_round: int | None


async def close_round(
    session: AsyncSession,
    panel: Panel,
    round_: Round,
    *,
    now: datetime | None = None,
    settings: Settings,
    actor: Actor,
    carry_policy: str = "unsettled",
) -> CloseOutcome:
    """Close an open round: :func:`closing.freeze` its results, :func:`closing.classify` every statement, then
    either :func:`closing.draft_next` with the carried-forward statements (``carry_policy``, see
    :func:`lifecycle.carry_forward`) or :func:`finish_panel` (mailing the final results).

    Takes the round's lock first (:mod:`delphi.db.locks`) and re-reads its status under it: saves in flight are
    in the result, later ones see the round closed, and a second close (facilitator and deadline at once) is
    refused as "closed already".  ``now`` defaults to the current time (UTC).
    """
    now = now or utcnow()
    await begin_write(session)
    await session.refresh(round_, with_for_update=True)
    blockers = lifecycle.close_blockers(round_.status, round_.number, rule_fit_problems(panel))
    if blockers:
        raise PreconditionsUnmet(f"Round {round_.number} cannot close.", blockers)
    if round_.kind == "open":  # idea generation: nothing frozen, the next round drafted empty
        done = await open_kind.close_open_round(session, panel, round_, now=now, actor=actor)
        return CloseOutcome(verdicts={}, carried=[], finished=False, next_round=done.next_round)
    round_.status = RoundStatus.CLOSED
    round_.closed_at = now
    frozen = await closing.freeze(session, panel, round_, now=now)
    verdicts = await closing.classify(session, panel, round_, frozen)
    rankings = await ranking_close.close_rankings(session, panel, round_, now=now, carry_policy=carry_policy)
    carried = lifecycle.carry_forward(verdicts, carry_policy)
    finished = lifecycle.finished_after_close(
        round_.number, panel.max_rounds, len(carried), len(rankings.carried)
    )
    next_number = None
    if finished:
        await finish_panel(session, panel, now=now, settings=settings, actor=actor)
    else:
        nxt = await closing.draft_next(session, panel, round_, carried)
        await ranking_close.draft_rankings(session, round_, nxt, rankings.carried)
        next_number = nxt.number
    counts = {v: list(verdicts.values()).count(v) for v in ("in", "out", "none", "insufficient")}
    audit.record(
        session,
        actor=actor,
        panel_id=panel.id,
        action="round.closed",
        detail={
            "round": round_.number,
            "verdicts": counts,
            "carried_forward": len(carried),
            "ranking_verdicts": rankings.counts(),
            "rankings_carried_forward": len(rankings.carried),
            "respondents": frozen.respondents,
            "finished": finished,
        },
    )
    return CloseOutcome(verdicts=verdicts, carried=carried, finished=finished, next_round=next_number)


async def finish_panel(
    session: AsyncSession, panel: Panel, *, now: datetime | None = None, settings: Settings, actor: Actor
) -> int:
    """Mark the panel finished and mail the final results to every invitable panellist; returns mails queued
    (``now``: the current time (UTC) unless given).

    Deletes the panel's draft rounds and marks its active panellists completed.  Raises Conflict when the panel
    finished already and PreconditionsUnmet while a round is open.
    """
    if panel.status == PanelStatus.FINISHED:
        raise Conflict("This panel has finished already.")
    now = now or utcnow()
    await session.flush()
    open_round_ = await session.scalar(
        select(Round).where(Round.panel_id == panel.id, Round.status == RoundStatus.OPEN)
    )
    if open_round_ is not None:
        raise PreconditionsUnmet("The panel cannot finish yet.", [f"Close round {open_round_.number} first."])
    await session.execute(
        Round.__table__.delete().where(Round.panel_id == panel.id, Round.status == RoundStatus.DRAFT)
    )
    panel.status = PanelStatus.FINISHED
    panel.finished_at = now
    recipients = await invitable_addressees(session, panel.id)
    queued = await mailing.final_results(session, panel, recipients)
    await session.execute(
        update(Panellist)
        .where(Panellist.panel_id == panel.id, Panellist.status == PanellistStatus.ACTIVE)
        .values(status=PanellistStatus.COMPLETED)
    )
    audit.record(
        session,
        actor=actor,
        panel_id=panel.id,
        action="panel.finished",
        detail={"results_mailed": queued},
    )
    return queued


def unexpected_failure(what: str) -> ActionFailed:
    """The refusal (503) of ``what`` ("open round 2") when it failed for a reason that is no
    :class:`~delphi.errors.DelphiError` (the caller logs the cause and rolls back): nothing changed, and what
    to do next, for the round page and the API alike."""
    at = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return ActionFailed(
        f"Could not {what} because of an unexpected problem on the server. Nothing was changed.",
        [
            "Try again in a few minutes.",
            "Check the panel settings (scale and consensus rule) and the round's dates.",
            f"If it keeps failing, ask your administrator to look in the server log at {at}.",
        ],
    )
