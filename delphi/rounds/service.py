"""Round use cases: schedule, open, remind, close (freeze results, carry forward), finish.

Each function loads what it needs, asks :mod:`delphi.rounds.lifecycle` and :mod:`delphi.stats` for decisions,
changes rows in the caller's session, enqueues mail through the outbox and writes an audit event.  None commits:
the caller's transaction makes the whole change happen or not at all.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from delphi import audit
from delphi.db.locks import begin_write
from delphi.db.models import (
    Panel,
    Panellist,
    Rating,
    Round,
    RoundResult,
    RoundStatement,
    StakeholderGroup,
    Statement,
    Submission,
    Suggestion,
    utcnow,
)
from delphi.db.queries import count_round_ratings, load_rating_matrix
from delphi.domain import (
    POOLED_SCOPE,
    SYSTEM,
    Actor,
    AnalysisPopulation,
    CommentStatus,
    PanellistStatus,
    PanelStatus,
    RoundStatus,
    StatementOrigin,
    StatementStatus,
    SuggestionKind,
    SuggestionStatus,
    group_scope,
)
from delphi.errors import Conflict, InvalidInput, NotFound, PreconditionsUnmet
from delphi.rounds import lifecycle, mailing, setup
from delphi.settings import Settings
from delphi.stats import AnalysisSettings, ConsensusRule, analyse_tabulation, stability

log = logging.getLogger("delphi.rounds")

#: Panellist states that still receive round mail.
INVITABLE = (PanellistStatus.INVITED, PanellistStatus.ACTIVE, PanellistStatus.COMPLETED)


def panel_rule(panel: Panel) -> ConsensusRule:
    return ConsensusRule.from_dict(panel.rule)


def analysis_settings(panel: Panel) -> AnalysisSettings:
    return AnalysisSettings(
        scale_min=panel.scale_min,
        scale_max=panel.scale_max,
        quantile_method=panel.quantile_method,
        unable_policy=panel.unable_policy,
    )


async def get_round(session: AsyncSession, panel: Panel, number: int) -> Round:
    round_ = await session.scalar(select(Round).where(Round.panel_id == panel.id, Round.number == number))
    if round_ is None:
        raise NotFound(f"This panel has no round {number}.")
    return round_


async def set_schedule(
    session: AsyncSession,
    panel: Panel,
    round_: Round,
    *,
    opens_at: datetime | None,
    closes_at: datetime | None,
    reminder_hours: list[int],
    now: datetime,
    actor: Actor,
) -> None:
    """Set a round's opening and closing dates and reminder offsets (hours before closing).

    A draft round takes all three; an open round can move its closing date (to extend it) and its reminders.
    Raises InvalidInput listing every problem.
    """
    if round_.status == RoundStatus.CLOSED:
        raise Conflict(f"Round {round_.number} is closed; its dates can no longer change.")
    if round_.status == RoundStatus.OPEN:
        opens_at = None
    problems = lifecycle.schedule_problems(opens_at, closes_at, reminder_hours, now)
    if closes_at is None:
        problems.insert(0, ("closes_at", "Enter a closing date."))
    if problems:
        raise InvalidInput(problems[0][1], field=problems[0][0], errors=problems)
    if round_.status == RoundStatus.DRAFT:
        round_.opens_at = opens_at
    round_.closes_at = closes_at
    round_.reminder_offsets_hours = list(reminder_hours)
    round_.reminders_sent = [h for h in round_.reminders_sent or [] if h in reminder_hours]
    audit.record(
        session,
        actor=actor,
        panel_id=panel.id,
        action="round.scheduled",
        detail={
            "round": round_.number,
            "opens_at": opens_at.isoformat() if opens_at else None,
            "closes_at": closes_at.isoformat() if closes_at else None,
            "reminder_hours": reminder_hours,
        },
    )


async def open_facts(session: AsyncSession, panel: Panel, round_: Round) -> lifecycle.PanelFacts:
    n_groups = await session.scalar(
        select(func.count()).select_from(StakeholderGroup).where(StakeholderGroup.panel_id == panel.id)
    )
    n_statements = await session.scalar(
        select(func.count()).select_from(RoundStatement).where(RoundStatement.round_id == round_.id)
    )
    n_invitable = await session.scalar(
        select(func.count())
        .select_from(Panellist)
        .where(Panellist.panel_id == panel.id, Panellist.status.in_(INVITABLE), Panellist.email.is_not(None))
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
        n_invitable_panellists=n_invitable or 0,
        rule_is_valid=rule_ok,
        rule_problems=tuple(setup.rule_fit_problems(panel)) if rule_ok else (),
        previous_round_status=previous,
        closes_at=round_.closes_at,
        opens_at=round_.opens_at,
        max_rounds=panel.max_rounds,
        panel_finished=panel.status == PanelStatus.FINISHED,
    )


async def open_round(
    session: AsyncSession, panel: Panel, round_: Round, *, now: datetime, settings: Settings, actor: Actor
) -> int:
    """Open a draft round and enqueue one invitation per invitable panellist; returns how many were queued.

    Round 1 locks the consensus rule.  Raises PreconditionsUnmet listing what to do first.
    """
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
            detail={"rule": panel.rule, "analysis_population": panel.analysis_population},
        )
    panel.status = PanelStatus.RUNNING
    round_.status = RoundStatus.OPEN
    round_.opened_at = now
    round_.opens_at = round_.opens_at or now
    round_.reminders_sent = [h for h in round_.reminder_offsets_hours if now >= _reminder_time(round_, h)]
    await session.execute(
        update(Statement)
        .where(
            Statement.id.in_(select(RoundStatement.statement_id).where(RoundStatement.round_id == round_.id))
        )
        .values(status=StatementStatus.ACTIVE)
    )
    await session.execute(
        update(Panellist)
        .where(Panellist.panel_id == panel.id, Panellist.status == PanellistStatus.COMPLETED)
        .values(status=PanellistStatus.ACTIVE)
    )
    recipients = (
        await session.scalars(
            select(Panellist)
            .where(
                Panellist.panel_id == panel.id, Panellist.status.in_(INVITABLE), Panellist.email.is_not(None)
            )
            .order_by(Panellist.id)
        )
    ).all()
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


def _reminder_time(round_: Round, hours: int) -> datetime:
    from datetime import timedelta

    assert round_.closes_at is not None  # opened rounds always have one (open_blockers)
    return round_.closes_at - timedelta(hours=hours)


async def send_due_reminders(
    session: AsyncSession,
    panel: Panel,
    round_: Round,
    *,
    now: datetime,
    settings: Settings,
    actor: Actor = SYSTEM,
) -> int:
    """Enqueue the reminder that is due (if any) to panellists who have not submitted; returns how many."""
    due = lifecycle.due_reminders(round_.closes_at, round_.reminder_offsets_hours, round_.reminders_sent, now)
    if not due:
        return 0
    round_.reminders_sent = sorted({*round_.reminders_sent, *due}, reverse=True)
    return await _remind(session, panel, round_, f"{min(due)}h", settings, actor)


async def send_reminder_now(
    session: AsyncSession, panel: Panel, round_: Round, *, now: datetime, settings: Settings, actor: Actor
) -> int:
    """A facilitator's extra reminder to everyone who has not submitted yet."""
    if round_.status != RoundStatus.OPEN:
        raise Conflict(f"Round {round_.number} is not open, so there is nobody to remind.")
    return await _remind(session, panel, round_, f"manual-{int(now.timestamp())}", settings, actor)


async def _remind(
    session: AsyncSession, panel: Panel, round_: Round, tag: str, settings: Settings, actor: Actor
) -> int:
    submitted = select(Submission.panellist_id).where(Submission.round_id == round_.id)
    recipients = (
        await session.scalars(
            select(Panellist)
            .where(
                Panellist.panel_id == panel.id,
                Panellist.status.in_(INVITABLE),
                Panellist.email.is_not(None),
                Panellist.id.not_in(submitted),
            )
            .order_by(Panellist.id)
        )
    ).all()
    queued = await mailing.reminder(session, panel, round_, recipients, tag)
    audit.record(
        session,
        actor=actor,
        panel_id=panel.id,
        action="round.reminded",
        detail={"round": round_.number, "reminder": tag, "recipients": queued},
    )
    return queued


@dataclass(frozen=True, slots=True)
class CloseOutcome:
    verdicts: dict[int, str]
    carried: list[int]
    finished: bool
    next_round: int | None


async def close_round(
    session: AsyncSession,
    panel: Panel,
    round_: Round,
    *,
    now: datetime,
    settings: Settings,
    actor: Actor,
    carry_policy: str = "unsettled",
) -> CloseOutcome:
    """Close an open round: freeze its results, classify every statement and prepare what comes next.

    Writes one RoundResult per statement and scope (pooled, and each group), the verdict and flags on each
    RoundStatement, stability against the previous round, then either drafts the next round with the
    carried-forward statements or finishes the panel (mailing the final results).

    Takes the round's lock first (:mod:`delphi.db.locks`) and re-reads its status under it: saves in flight are
    in the result, later ones see the round closed, and a second close (facilitator and deadline at once) is
    refused as "closed already".
    """
    await begin_write(session)
    await session.refresh(round_, with_for_update=True)
    blockers = lifecycle.close_blockers(round_.status, round_.number, setup.rule_fit_problems(panel))
    if blockers:
        raise PreconditionsUnmet(f"Round {round_.number} cannot close.", blockers)
    round_.status = RoundStatus.CLOSED
    round_.closed_at = now
    rule, stats_settings = panel_rule(panel), analysis_settings(panel)
    population = AnalysisPopulation(panel.analysis_population)
    tally = await count_round_ratings(
        session, panel.id, round_.id, panel.scale_min, panel.scale_max, population=population
    )
    n_groups = len(tally.group_ids)
    analysis = analyse_tabulation(tally.tabulation, rule, stats_settings)
    stab = await _stability(session, panel, round_, tally.statement_ids, rule, stats_settings, population)

    sids = tally.statement_ids.tolist()
    gids = tally.group_ids.tolist()
    result_rows: list[dict[str, Any]] = []
    for rec in analysis.records():
        gi = rec.pop("group_index")
        i = rec.pop("statement_index")
        rec.pop("scope")
        result_rows.append(
            {
                "round_id": round_.id,
                "statement_id": sids[i],
                "scope": POOLED_SCOPE if gi is None else group_scope(gids[gi]),
                "group_id": None if gi is None else gids[gi],
                "n": rec["n"],
                "n_unable": rec["n_unable"],
                "median": rec["median"],
                "q1": rec["q1"],
                "q3": rec["q3"],
                "iqr": rec["iqr"],
                "pct_agree": rec["pct_agree"],
                "pct_disagree": rec["pct_disagree"],
                "verdict": rec["verdict"],
                "counts": rec.pop("counts"),
                "stats": rec,
                "computed_at": now,
            }
        )
    if result_rows:
        await session.execute(insert(RoundResult), result_rows)

    k = panel.k_min
    group_n = [[int(x) for x in g.n.tolist()] for g in analysis.groups]
    lived = set(
        (
            await session.scalars(
                select(StakeholderGroup.id).where(
                    StakeholderGroup.panel_id == panel.id, StakeholderGroup.is_lived_experience.is_(True)
                )
            )
        ).all()
    )
    links = {
        rs.statement_id: rs
        for rs in (
            await session.scalars(select(RoundStatement).where(RoundStatement.round_id == round_.id))
        ).all()
    }
    verdicts: dict[int, str] = {}
    for rec in analysis.statement_records():
        i = rec["statement_index"]
        sid = sids[i]
        verdict = rec["verdict"]
        verdicts[sid] = verdict
        outcome = {
            "sensitivity": rec["sensitivity"],
            "sensitive": any(v != verdict for v in rec["sensitivity"].values()),
            "divergence_test": rec["divergence_test"],
            "divergence_statistic": rec["divergence_statistic"],
            "divergence_p": rec["divergence_p"],
            "split": rec["split"],
            "suppressed_groups": [gids[g] for g in range(n_groups) if group_n[g][i] < k],
            "lived_experience_split": bool(rec["split"] and lived),
            "stability": _stability_record(stab, i),
        }
        link = links[sid]
        link.verdict = verdict
        link.outcome = outcome

    carried = lifecycle.carry_forward(verdicts, carry_policy)
    for sid, verdict in verdicts.items():
        if verdict in ("in", "out"):
            await session.execute(
                update(Statement)
                .where(Statement.id == sid)
                .values(
                    status=StatementStatus.RETIRED_IN if verdict == "in" else StatementStatus.RETIRED_OUT,
                    status_round=round_.number,
                )
            )
    finished = lifecycle.finished_after_close(round_.number, panel.max_rounds, len(carried))
    next_number = None
    if finished:
        await finish_panel(session, panel, now=now, settings=settings, actor=actor)
    else:
        next_number = round_.number + 1
        nxt = Round(
            panel_id=panel.id,
            number=next_number,
            status=RoundStatus.DRAFT,
            reminder_offsets_hours=list(round_.reminder_offsets_hours),
        )
        session.add(nxt)
        await session.flush()
        if carried:
            await session.execute(
                insert(RoundStatement),
                [
                    {"round_id": nxt.id, "statement_id": sid, "position": links[sid].position, "outcome": {}}
                    for sid in carried
                ],
            )
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
            "respondents": int(tally.tabulation.group_size.sum()),
            "finished": finished,
        },
    )
    return CloseOutcome(verdicts=verdicts, carried=carried, finished=finished, next_round=next_number)


def _stability_record(stab: Any, i: int) -> dict[str, Any] | None:
    if stab is None:
        return None
    rows, st = stab
    j = rows[i]
    if j < 0:
        return None

    def val(a: np.ndarray) -> Any:
        x = a[j].item()
        return None if isinstance(x, float) and np.isnan(x) else x

    return {
        "n_paired": val(st.n_paired),
        "wilcoxon_p": val(st.wilcoxon_p),
        "wilcoxon_exact": val(st.wilcoxon_exact),
        "pct_changed_category": val(st.pct_changed_category),
        "iqr_prev": val(st.iqr_prev),
        "iqr_cur": val(st.iqr_cur),
        "delta_iqr": val(st.delta_iqr),
    }


async def _stability(
    session: AsyncSession,
    panel: Panel,
    round_: Round,
    statement_ids: np.ndarray,
    rule: ConsensusRule,
    settings: AnalysisSettings,
    population: AnalysisPopulation,
) -> tuple[np.ndarray, Any] | None:
    """Stability of each statement against its previous round (the same statement, or the one it rewords).

    Only the statements asked in both rounds are loaded, as paired matrices, each round's answers restricted to
    the panel's analysis ``population`` (the answers its frozen results counted).  Returns ``(row_of_statement,
    Stability)`` where ``row_of_statement[i]`` is the row in the Stability arrays of statement ``i`` of this round,
    or -1 when it was not asked in the previous round; None for round 1.
    """
    if round_.number == 1:
        return None
    prev_round = await session.scalar(
        select(Round).where(Round.panel_id == panel.id, Round.number == round_.number - 1)
    )
    if prev_round is None:
        return None
    asked_before = set(
        (
            await session.scalars(
                select(RoundStatement.statement_id).where(RoundStatement.round_id == prev_round.id)
            )
        ).all()
    )
    parents = dict(
        (
            await session.execute(
                select(Statement.id, Statement.parent_id).where(Statement.id.in_(statement_ids.tolist()))
            )
        ).all()
    )
    source_of = {}
    for sid in statement_ids.tolist():
        source = sid if sid in asked_before else parents.get(sid)
        if source in asked_before:
            source_of[sid] = source
    rows = np.full(len(statement_ids), -1, np.int64)
    if not source_of:
        return rows, None
    cur = await load_rating_matrix(session, panel.id, round_.id, only=list(source_of), population=population)
    prev = await load_rating_matrix(
        session, panel.id, prev_round.id, only=list(set(source_of.values())), population=population
    )
    prev_row = {sid: r for r, sid in enumerate(prev.statement_ids.tolist())}
    cur_row = {sid: r for r, sid in enumerate(cur.statement_ids.tolist())}
    position = {sid: i for i, sid in enumerate(statement_ids.tolist())}
    pairs = [
        (position[sid], cur_row[sid], prev_row[src])
        for sid, src in source_of.items()
        if sid in cur_row and src in prev_row
    ]
    if not pairs:
        return rows, None
    people = np.union1d(cur.panellist_ids, prev.panellist_ids)
    ci = np.searchsorted(people, cur.panellist_ids)
    pi = np.searchsorted(people, prev.panellist_ids)
    cur_rows = np.array([c for _, c, _ in pairs])
    prev_rows = np.array([p for _, _, p in pairs])
    a = np.full((len(pairs), len(people)), np.nan)
    au = np.zeros_like(a, dtype=bool)
    b = np.full_like(a, np.nan)
    bu = np.zeros_like(au)
    a[:, pi] = prev.values[prev_rows]
    au[:, pi] = prev.unable[prev_rows]
    b[:, ci] = cur.values[cur_rows]
    bu[:, ci] = cur.unable[cur_rows]
    st = stability(a, b, au, bu, settings, rule)
    rows[[i for i, _, _ in pairs]] = np.arange(len(pairs))
    return rows, st


async def finish_panel(
    session: AsyncSession, panel: Panel, *, now: datetime, settings: Settings, actor: Actor
) -> int:
    """Mark the panel finished and mail the final results to everyone still on it; returns mails queued."""
    if panel.status == PanelStatus.FINISHED:
        raise Conflict("This panel has finished already.")
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
    recipients = (
        await session.scalars(
            select(Panellist)
            .where(
                Panellist.panel_id == panel.id, Panellist.status.in_(INVITABLE), Panellist.email.is_not(None)
            )
            .order_by(Panellist.id)
        )
    ).all()
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


# --- between rounds: suggestions and comments --------------------------------------------------------------------


async def review_suggestion(
    session: AsyncSession,
    panel: Panel,
    suggestion_id: int,
    decision: str,
    actor: Actor,
    *,
    text: str | None = None,
    merge_into: int | None = None,
) -> Statement | None:
    """Accept (as a new statement or a rewording, optionally edited), merge into an existing statement, or reject
    a panellist's suggestion.  Accepted statements enter the draft round with their provenance."""
    suggestion = await session.get(Suggestion, suggestion_id)
    if suggestion is None or suggestion.panel_id != panel.id:
        raise NotFound("There is no such suggestion on this panel.")
    if suggestion.status != SuggestionStatus.PENDING:
        raise Conflict(f"This suggestion was {suggestion.status} already.")
    origin_round = await session.scalar(select(Round.number).where(Round.id == suggestion.round_id))
    result: Statement | None = None
    if decision == "accept":
        draft = await setup.draft_round(session, panel.id)
        if draft is None:
            raise Conflict(
                "No round is being prepared; suggestions are accepted into the next round's draft."
            )
        body = text if text and text.strip() else suggestion.text
        if suggestion.kind == SuggestionKind.REWORDING and suggestion.statement_id:
            original = await setup.get_statement(session, panel, suggestion.statement_id)
            result = await setup.reword_statement(
                session,
                panel,
                draft,
                original,
                body,
                original.section,
                actor,
                origin=StatementOrigin.PANELLIST,
                origin_round=origin_round,
            )
        else:
            result = await setup.add_statement(
                session,
                panel,
                body,
                suggestion.section,
                actor,
                origin=StatementOrigin.PANELLIST,
                origin_round=origin_round,
            )
        suggestion.status = SuggestionStatus.ACCEPTED
        suggestion.result_statement_id = result.id
    elif decision == "merge":
        if merge_into is None:
            raise InvalidInput("Choose the statement this suggestion is merged into.", field="merge_into")
        target = await setup.get_statement(session, panel, merge_into)
        suggestion.status = SuggestionStatus.MERGED
        suggestion.result_statement_id = target.id
    elif decision == "reject":
        suggestion.status = SuggestionStatus.REJECTED
    else:
        raise InvalidInput("Choose accept, merge or reject.", field="decision")
    suggestion.reviewed_at = utcnow()
    audit.record(
        session,
        actor=actor,
        panel_id=panel.id,
        action=f"suggestion.{suggestion.status}",
        detail={"suggestion_id": suggestion.id, "statement_id": suggestion.result_statement_id},
    )
    return result


#: What a facilitator moderates on a rating: the attribute with the text and the one with its status.
MODERATED = {"comment": ("comment", "comment_status"), "reason": ("reason", "reason_status")}


async def moderate(
    session: AsyncSession, panel: Panel, number: int, rating_id: int, what: str, publish: bool, actor: Actor
) -> Rating:
    """Publish (shown anonymously to panellists in the next round's feedback, and in exports and the report) or
    hide a rating's ``what``: its ``"comment"`` or its ``"reason"`` for a rating outside last round's middle
    half; returns the rating.

    Each text has its own status (``comment_status``, ``reason_status``): publishing a comment must not release
    a reason nobody has read, and either can identify someone on its own; an edited text goes back to pending.
    Publishing is refused (Conflict) once round ``number + 1`` has opened, since its panellists have seen round
    ``number``'s feedback; hiding is always allowed, so a text that identifies someone can be taken down at any
    time.  Raises NotFound when the rating is not in round ``number`` of the panel or has no such text.
    """
    text_attr, status_attr = MODERATED[what]
    round_ = await get_round(session, panel, number)
    rating = await session.get(Rating, rating_id)
    if rating is None or rating.round_id != round_.id or not getattr(rating, text_attr):
        raise NotFound(f"There is no such {what} in this round.")
    if publish:
        following = await session.scalar(
            select(Round.status).where(Round.panel_id == panel.id, Round.number == number + 1)
        )
        if following is not None and following != RoundStatus.DRAFT:
            raise Conflict(
                f"Round {number + 1} has opened, so {what}s from round {number} can no longer be published; "
                "you can still hide one."
            )
    setattr(rating, status_attr, CommentStatus.PUBLISHED if publish else CommentStatus.HIDDEN)
    audit.record(
        session,
        actor=actor,
        panel_id=panel.id,
        action=f"{what}.published" if publish else f"{what}.hidden",
        detail={"rating_id": rating.id, "round": round_.number},
    )
    return rating


async def round_overview(session: AsyncSession, panel: Panel) -> list[dict[str, Any]]:
    """Every round with its statement count, respondents and submissions, oldest first."""
    rounds = (
        await session.scalars(select(Round).where(Round.panel_id == panel.id).order_by(Round.number))
    ).all()
    out = []
    for r in rounds:
        n_statements = await session.scalar(
            select(func.count()).select_from(RoundStatement).where(RoundStatement.round_id == r.id)
        )
        n_submitted = await session.scalar(
            select(func.count()).select_from(Submission).where(Submission.round_id == r.id)
        )
        n_started = await session.scalar(
            select(func.count(func.distinct(Rating.panellist_id))).where(Rating.round_id == r.id)
        )
        out.append(
            {
                "round": r,
                "n_statements": n_statements or 0,
                "n_submitted": n_submitted or 0,
                "n_started": n_started or 0,
            }
        )
    return out
