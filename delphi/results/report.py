"""The report: everything an ACCORD/CREDES-style write-up needs, assembled from frozen data.

Sections: aims; panel composition by group; the consensus definition and when it was fixed (with any change
after that); rounds with dates and response; the participant flow per round and group; statements added,
dropped or reworded per round with provenance; per-statement results per round, pooled and per group (groups
under k shown but marked, the report being for facilitators and researchers), with the published reasons for
ratings outside the middle half; how comments and suggestions were handled; the stopping rule applied and the
stopping advice of each round (:mod:`delphi.stats.stopping`); the final list; the attrition check; the languages
used, who translated them and how many answered in each per round, small counts hidden
(:mod:`delphi.results.languages`, shown only for a panel with more than one); every setting used. Statements are named by :mod:`delphi.panels.numbering` ("S4.2") as on every page and export. Reads only; a
draft panel gives a report with empty sections.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from delphi import audit
from delphi.db.models import (
    AuditEvent,
    Panellist,
    Rating,
    Round,
    RoundResult,
    Statement,
    Submission,
    Suggestion,
)
from delphi.db.queries import in_population
from delphi.domain import (
    POOLED_SCOPE,
    AnalysisPopulation,
    CommentStatus,
    PanellistStatus,
    PanelStatus,
    RoundStatus,
    SuggestionStatus,
    group_scope,
)
from delphi.panels.numbering import panel_statement_labels
from delphi.results import attrition
from delphi.results.characteristics import Characteristics, load_characteristics
from delphi.results.frame import Frame, settings_record
from delphi.results.ideas import Provenance, load_provenance
from delphi.results.languages import Languages, load_languages
from delphi.results.rankings import RankingReport, report_section
from delphi.results.reasons import Reason, load_closed_round_reasons
from delphi.rounds.final import FinalConsensusList, final_consensus_list
from delphi.stats.presets import Preset, preset_of
from delphi.stats.stopping import ListAdvice, list_advice, statement_advice

WORDS = {"in": "consensus to include", "out": "consensus to exclude"}
#: Audit actions that concern the consensus rule: the registry's ``rule.*`` actions, and settings changes (kept
#: by :func:`rule_events` when they changed the rule). Their wording is the registry's (:func:`delphi.audit.describe`).
RULE_ACTIONS = (*(a for a in audit.ACTIONS if a.startswith("rule.")), "panel.updated")


@dataclass(frozen=True, slots=True)
class GroupComposition:
    """Panellists of one group by current status (``group_id`` None: all groups)."""

    group_id: int | None
    name: str
    lived_experience: bool
    invited: int
    withdrawn: int
    bounced: int
    erased: int


@dataclass(frozen=True, slots=True)
class RuleEvent:
    """An audit event about the rule: when it was recorded, its action and its sentence from the audit registry."""

    created_at: datetime
    action: str
    text: str


@dataclass(frozen=True, slots=True)
class RoundLine:
    """A round's dates and response: ``submitted`` panellists sent it; ``counted`` panellists have answers
    the round's results count under the panel's analysis population (equal to those who sent it and answered
    under ``submitted``; everyone with a saved answer under ``all``)."""

    number: int
    status: str
    opened_at: datetime | None
    closes_at: datetime | None
    closed_at: datetime | None
    statements: int
    submitted: int
    counted: int


@dataclass(frozen=True, slots=True)
class Change:
    """A statement entering or leaving round ``round``.

    ``kind``: ``initial`` (asked in round 1), ``added``, ``reworded``, ``settled`` (left after consensus),
    ``dropped`` (left without consensus); ``detail`` says where it came from or why it left.
    """

    round: int
    kind: str
    statement_id: int
    text: str
    detail: str


@dataclass(frozen=True, slots=True)
class GroupCell:
    """One group's figures for a statement in one round; ``small`` when it has fewer than k ratings (panellists
    were not shown them; the report shows them, marked)."""

    name: str
    n: int
    median: float | None
    iqr: float | None
    pct_agree: float | None
    small: bool


@dataclass(frozen=True, slots=True)
class Cell:
    """A statement's pooled result in one round, with each group's (``groups``, in display order) and, under a
    balanced rule, the group-balanced figures that decided the verdict (``balanced``, see
    :attr:`delphi.results.round_results.StatementResult.balanced`)."""

    median: float | None
    iqr: float | None
    pct_agree: float | None
    verdict: str
    n: int | None = None
    groups: tuple[GroupCell, ...] = ()
    balanced: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Handling:
    """How one round's comments and suggestions were handled (counts).

    Comments: ``received`` non-empty comments, of which ``published``, ``hidden`` and ``pending`` by status and
    ``edited`` (worded anew by a facilitator, any status). Suggestions made in the round: ``suggestions`` in all,
    ``accepted`` (became a statement), ``merged`` (folded into a statement), ``rejected`` and ``undecided``.
    """

    round: int
    received: int = 0
    published: int = 0
    hidden: int = 0
    pending: int = 0
    edited: int = 0
    suggestions: int = 0
    accepted: int = 0
    merged: int = 0
    rejected: int = 0
    undecided: int = 0


@dataclass(frozen=True, slots=True)
class SuggestionResult:
    """A suggestion accepted or merged: its round, kind, ``status`` and the statement that came of it."""

    round: int
    kind: str
    status: str
    statement_id: int
    label: str
    text: str


@dataclass(frozen=True, slots=True)
class StoppingRule:
    """The stopping rule applied: at most ``max_rounds`` rounds; ``ended`` is ``settled`` (no statement left
    without consensus), ``max_rounds`` (the last round allowed closed), ``by_hand`` (a facilitator finished the
    panel) or ``running``; ``text`` says it in words; ``advice`` is each closed round's stopping advice."""

    max_rounds: int
    ended: str
    text: str
    advice: tuple[tuple[int, ListAdvice], ...] = ()


@dataclass(frozen=True, slots=True)
class ResultLine:
    """One statement's results across the closed rounds (``cells[i]`` for ``Report.result_rounds[i]``)."""

    statement_id: int
    version: int
    section: str
    text: str
    cells: tuple[Cell | None, ...]
    label: str = ""


@dataclass(frozen=True, slots=True)
class Report:
    frame: Frame
    settings: dict[str, Any]
    composition: tuple[GroupComposition, ...]
    rule_events: tuple[RuleEvent, ...]
    rounds: tuple[RoundLine, ...]
    flow: attrition.Flow
    changes: tuple[Change, ...]
    result_rounds: tuple[int, ...]
    results: tuple[ResultLine, ...]
    final: FinalConsensusList
    bias: tuple[attrition.BiasSummary, ...]
    #: Published reasons for ratings outside the previous round's middle half, as ``(round, reason)``.
    reasons: tuple[tuple[int, Reason], ...] = ()
    #: Reasons of closed rounds not published (pending or hidden): counted, never shown in the report.
    reasons_withheld: int = 0
    #: The preset the panel's rule is (its description is shown with the rule's sentence), or None.
    rule_preset: Preset | None = None
    #: ``{statement id: "S4.2"}`` (:mod:`delphi.panels.numbering`).
    labels: Mapping[int, str] = field(default_factory=dict)
    handling: tuple[Handling, ...] = ()
    suggestion_results: tuple[SuggestionResult, ...] = ()
    stopping: StoppingRule | None = None
    #: The participants' characteristics (baseline questions), None when the panel asks none.
    characteristics: Characteristics | None = None
    #: The ranking questions: the ranking rule, and each question's rounds, W trend and final order.
    rankings: RankingReport | None = None
    #: Statements made from an open round's answers: their source answers and versions (empty without one).
    provenance: tuple[Provenance, ...] = ()
    #: The languages section (see :attr:`Languages.shown` for whether the report prints it).
    languages: Languages | None = None


def composition(rows: Iterable[tuple[int, str, bool, int]], frame: Frame) -> tuple[GroupComposition, ...]:
    """From ``(group_id, status, erased, count)`` rows, per group in display order then all groups (pure)."""
    items = list(rows)

    def make(
        group_id: int | None, name: str, lived: bool, part: list[tuple[int, str, bool, int]]
    ) -> GroupComposition:
        return GroupComposition(
            group_id=group_id,
            name=name,
            lived_experience=lived,
            invited=sum(n for *_, n in part),
            withdrawn=sum(n for _, s, _, n in part if s == PanellistStatus.WITHDRAWN),
            bounced=sum(n for _, s, _, n in part if s == PanellistStatus.BOUNCED),
            erased=sum(n for _, _, e, n in part if e),
        )

    out = [
        make(g.id, g.name, g.is_lived_experience, [r for r in items if r[0] == g.id]) for g in frame.groups
    ]
    out.append(make(None, "All groups", False, items))
    return tuple(out)


def statement_changes(
    frame: Frame, rounds: Sequence[Round], labels: Mapping[int, str] | None = None
) -> tuple[Change, ...]:
    """Statements entering and leaving each opened round (pure), with provenance.

    A statement new in round n is ``reworded`` when its parent was asked in an earlier round, else ``added``
    (``initial`` in round 1); one asked in round n - 1 but not in n has ``settled`` when its verdict there was
    in or out, else it was ``dropped`` (or replaced by its rewording, which is reported as ``reworded``).
    A rewording's detail names its parent by ``labels`` (statement numbers), else by id.
    """
    labels = labels or {}
    out: list[Change] = []
    seen: set[int] = set()
    previous: list[int] = []
    verdict_prev: dict[int, str | None] = {}
    statements = frame.statements
    for r in rounds:
        if r.status == RoundStatus.DRAFT:
            continue
        asked = frame.asked(r.number)
        asked_set = set(asked)
        reworded_parents = {statements[s].parent_id for s in asked if s in statements}
        for sid in previous:
            if sid in asked_set or sid in reworded_parents:
                continue
            st = statements.get(sid)
            verdict = verdict_prev.get(sid)
            text = st.text if st else ""
            if verdict in ("in", "out"):
                out.append(
                    Change(r.number, "settled", sid, text, f"{WORDS[verdict]} in round {r.number - 1}")
                )
            else:
                out.append(
                    Change(
                        r.number,
                        "dropped",
                        sid,
                        text,
                        f"no consensus in round {r.number - 1}; not asked again",
                    )
                )
        for sid in asked:
            if sid in seen:
                continue
            st = statements.get(sid)
            if st is None:
                continue
            if st.origin == "panellist":
                source = (
                    f"suggested by a panellist in round {st.origin_round}"
                    if st.origin_round
                    else "suggested by a panellist"
                )
            else:
                source = "written by the facilitators"
            if st.parent_id is not None and st.parent_id in seen:
                out.append(
                    Change(
                        r.number,
                        "reworded",
                        sid,
                        st.text,
                        f"rewording of {labels.get(st.parent_id, f'statement {st.parent_id}')}; {source}",
                    )
                )
            elif r.number == 1:
                out.append(Change(r.number, "initial", sid, st.text, source))
            else:
                out.append(Change(r.number, "added", sid, st.text, source))
        seen |= asked_set
        previous = asked
        verdict_prev = {link.statement_id: link.verdict for link in frame.links.get(r.number, ())}
    return tuple(out)


def result_lines(
    frame: Frame,
    pooled: Mapping[tuple[int, int], RoundResult],
    by_group: Mapping[tuple[int, int, int], RoundResult] | None = None,
    labels: Mapping[int, str] | None = None,
) -> tuple[tuple[int, ...], tuple[ResultLine, ...]]:
    """Per-statement results per closed round (pure); statements in the panel's order.

    ``pooled`` maps ``(round number, statement id)`` to the pooled RoundResult, ``by_group`` ``(round number,
    statement id, group id)`` to a group's; the verdict shown is the rule's verdict under its scope
    (RoundStatement.verdict), else the pooled one. Groups with fewer than the panel's k ratings are marked
    ``small``.
    """
    by_group = by_group or {}
    labels = labels or {}
    k = frame.panel.k_min
    outcomes = {
        (n, link.statement_id): dict(link.outcome or {})
        for n in (r.number for r in frame.closed_rounds)
        for link in frame.links.get(n, ())
    }
    numbers = tuple(r.number for r in frame.closed_rounds)
    verdicts = {(n, link.statement_id): link.verdict for n in numbers for link in frame.links.get(n, ())}
    asked = {sid for n in numbers for sid in frame.asked(n)}
    ordered = sorted(
        (frame.statements[s] for s in asked if s in frame.statements),
        key=lambda s: (s.position, s.version, s.id),
    )
    lines = []
    for st in ordered:
        cells: list[Cell | None] = []
        for n in numbers:
            row = pooled.get((n, st.id))
            if (n, st.id) not in verdicts:
                cells.append(None)
                continue
            groups = tuple(
                GroupCell(g.name, g_row.n, g_row.median, g_row.iqr, g_row.pct_agree, g_row.n < k)
                for g in frame.groups
                if (g_row := by_group.get((n, st.id, g.id))) is not None
            )
            cells.append(
                Cell(
                    median=row.median if row else None,
                    iqr=row.iqr if row else None,
                    pct_agree=row.pct_agree if row else None,
                    verdict=verdicts[(n, st.id)] or (row.verdict if row else "insufficient"),
                    n=row.n if row else None,
                    groups=groups,
                    balanced=outcomes.get((n, st.id), {}).get("balanced"),
                )
            )
        lines.append(ResultLine(st.id, st.version, st.section, st.text, tuple(cells), labels.get(st.id, "")))
    return numbers, tuple(lines)


def rule_events(events: Iterable[AuditEvent]) -> tuple[RuleEvent, ...]:
    """Audit events about the rule, oldest first as given: locking, changes after locking, and panel updates
    that changed it, each with its sentence from the audit registry (pure)."""
    out = []
    for e in events:
        if e.action == "panel.updated" and "rule" not in (e.detail or {}).get("fields", []):
            continue
        out.append(RuleEvent(e.created_at, e.action, audit.describe(e.action, e.detail)))
    return tuple(out)


async def build_report(session: AsyncSession, frame: Frame) -> Report:
    """Assemble the report (about ten queries, none per statement or per panellist)."""
    panel_id = frame.panel.id
    comp_rows = (
        await session.execute(
            select(Panellist.group_id, Panellist.status, Panellist.erased_at.is_not(None), func.count())
            .where(Panellist.panel_id == panel_id)
            .group_by(Panellist.group_id, Panellist.status, Panellist.erased_at.is_not(None))
        )
    ).all()
    events = (
        await session.scalars(
            select(AuditEvent)
            .where(AuditEvent.panel_id == panel_id, AuditEvent.action.in_(RULE_ACTIONS))
            .order_by(AuditEvent.created_at, AuditEvent.id)
        )
    ).all()
    rounds = await round_lines(session, frame)
    subs = await attrition.load_submissions(session, panel_id)
    members = await attrition.load_membership(session, panel_id)
    flow = attrition.participant_flow(members, subs, frame.rounds, frame.groups)
    result_rows = (
        await session.execute(
            select(Round.number, RoundResult)
            .join(Round, Round.id == RoundResult.round_id)
            .where(Round.panel_id == panel_id, Round.status == RoundStatus.CLOSED)
        )
    ).all()
    labels = await panel_statement_labels(session, panel_id)
    numbers, lines = result_lines(
        frame,
        {(int(n), r.statement_id): r for n, r in result_rows if r.scope == POOLED_SCOPE},
        {
            (int(n), r.statement_id, r.group_id): r
            for n, r in result_rows
            if r.group_id is not None and r.scope == group_scope(r.group_id)
        },
        labels,
    )
    bias: tuple[attrition.BiasSummary, ...] = ()
    last = frame.last_closed
    if last is not None:
        dropouts, completers = attrition.cohorts(subs, last.number)
        bias = tuple(attrition.summarise_bias(await bias_rows(session, frame), dropouts, completers))
    why = await load_closed_round_reasons(session, panel_id)
    published = [(n, r) for n, r in why if r.status == CommentStatus.PUBLISHED]
    return Report(
        frame=frame,
        settings=settings_record(frame.panel),
        composition=composition([(int(g), s, bool(e), int(n)) for g, s, e, n in comp_rows], frame),
        rule_events=rule_events(events),
        rounds=rounds,
        flow=flow,
        changes=statement_changes(frame, frame.rounds, labels),
        result_rounds=numbers,
        results=lines,
        final=await final_consensus_list(session, panel_id),
        bias=bias,
        reasons=tuple(published),
        reasons_withheld=len(why) - len(published),
        rule_preset=rule_preset(frame),
        labels=labels,
        handling=await handling(session, frame),
        suggestion_results=await suggestion_results(session, panel_id, labels),
        stopping=stopping_rule(frame, await last_close(session, panel_id)),
        characteristics=await load_characteristics(session, frame.panel, frame.groups),
        rankings=await report_section(session, frame),
        provenance=tuple(await load_provenance(session, frame.panel)),
        languages=await load_languages(session, frame),
    )


async def round_lines(session: AsyncSession, frame: Frame) -> tuple[RoundLine, ...]:
    """Each round's dates, statements, submissions and panellists counted (two queries)."""
    submitted = dict(
        (
            await session.execute(
                select(Round.number, func.count(Submission.id))
                .join(Submission, Submission.round_id == Round.id)
                .where(Round.panel_id == frame.panel.id)
                .group_by(Round.number)
            )
        ).all()
    )
    population = AnalysisPopulation(frame.panel.analysis_population)
    counted = dict(
        (
            await session.execute(
                select(Round.number, func.count(func.distinct(Rating.panellist_id)))
                .join(Rating, Rating.round_id == Round.id)
                .join(Panellist, Panellist.id == Rating.panellist_id)
                .where(Round.panel_id == frame.panel.id, in_population(Rating.round_id, population))
                .group_by(Round.number)
            )
        ).all()
    )
    return tuple(
        RoundLine(
            r.number,
            r.status,
            r.opened_at,
            r.closes_at,
            r.closed_at,
            len(frame.asked(r.number)),
            int(submitted.get(r.number, 0)),
            int(counted.get(r.number, 0)),
        )
        for r in frame.rounds
    )


async def bias_rows(session: AsyncSession, frame: Frame) -> list[attrition.BiasRow]:
    """The attrition-bias rows of the panel (one query); empty before two rounds have closed."""
    last = frame.last_closed
    rule = frame.rule
    if last is None or last.number < 2:
        return []
    agree, disagree = (rule.agree, rule.disagree) if rule else default_bands(frame)
    counts = await attrition.load_bias_counts(session, frame.panel.id, last.number)
    order = {r.number: frame.asked(r.number) for r in frame.closed_rounds if r.number < last.number}
    return attrition.attrition_bias(counts, order, frame.analysis_settings, agree, disagree)


def rule_preset(frame: Frame) -> Preset | None:
    """The preset the panel's rule is on the panel's scale (:func:`delphi.stats.presets.preset_of`), else None."""
    rule = frame.rule
    return preset_of(rule, frame.panel.scale_max - frame.panel.scale_min + 1) if rule else None


def default_bands(frame: Frame) -> tuple[tuple[int, int], tuple[int, int]]:
    """Top and bottom third of the scale, for a panel without a readable rule."""
    lo, hi = frame.panel.scale_min, frame.panel.scale_max
    third = max((hi - lo + 1) // 3, 1)
    return (hi - third + 1, hi), (lo, lo + third - 1)


async def handling(session: AsyncSession, frame: Frame) -> tuple[Handling, ...]:
    """Comments and suggestions per opened round, by status (two queries); rounds without any give zeros."""
    panel_id = frame.panel.id
    comment_rows = (
        await session.execute(
            select(
                Round.number,
                Rating.comment_status,
                func.count(),
                func.count(Rating.comment_edited_at),
            )
            .join(Round, Round.id == Rating.round_id)
            .where(Round.panel_id == panel_id, Rating.comment != "")
            .group_by(Round.number, Rating.comment_status)
        )
    ).all()
    suggestion_rows = (
        await session.execute(
            select(Round.number, Suggestion.status, func.count())
            .join(Round, Round.id == Suggestion.round_id)
            .where(Suggestion.panel_id == panel_id)
            .group_by(Round.number, Suggestion.status)
        )
    ).all()
    return handling_lines(
        [r.number for r in frame.rounds if r.status != RoundStatus.DRAFT],
        [(int(n), s, int(c), int(e)) for n, s, c, e in comment_rows],
        [(int(n), s, int(c)) for n, s, c in suggestion_rows],
    )


def handling_lines(
    numbers: Sequence[int],
    comments: Iterable[tuple[int, str, int, int]],
    suggestions: Iterable[tuple[int, str, int]],
) -> tuple[Handling, ...]:
    """:class:`Handling` per round in ``numbers`` from ``(round, comment status, count, edited)`` and
    ``(round, suggestion status, count)`` rows (pure); a round only in the rows is added in order."""
    acc: dict[int, dict[str, int]] = {n: {} for n in numbers}
    status_key = {
        CommentStatus.PUBLISHED: "published",
        CommentStatus.HIDDEN: "hidden",
        CommentStatus.PENDING: "pending",
    }
    for n, status, count, edited in comments:
        d = acc.setdefault(n, {})
        d["received"] = d.get("received", 0) + count
        d["edited"] = d.get("edited", 0) + edited
        key = status_key.get(status, "pending")
        d[key] = d.get(key, 0) + count
    suggestion_key = {
        SuggestionStatus.ACCEPTED: "accepted",
        SuggestionStatus.MERGED: "merged",
        SuggestionStatus.REJECTED: "rejected",
        SuggestionStatus.PENDING: "undecided",
    }
    for n, status, count in suggestions:
        d = acc.setdefault(n, {})
        d["suggestions"] = d.get("suggestions", 0) + count
        key = suggestion_key.get(status, "undecided")
        d[key] = d.get(key, 0) + count
    return tuple(Handling(n, **acc[n]) for n in sorted(acc))


async def suggestion_results(
    session: AsyncSession, panel_id: int, labels: Mapping[int, str]
) -> tuple[SuggestionResult, ...]:
    """Accepted and merged suggestions with the statement that came of each, by round (one query)."""
    target = func.coalesce(Suggestion.result_statement_id, Suggestion.statement_id)
    rows = (
        await session.execute(
            select(Round.number, Suggestion.kind, Suggestion.status, Statement.id, Statement.text)
            .join(Round, Round.id == Suggestion.round_id)
            .join(Statement, Statement.id == target)
            .where(
                Suggestion.panel_id == panel_id,
                Suggestion.status.in_((SuggestionStatus.ACCEPTED, SuggestionStatus.MERGED)),
            )
            .order_by(Round.number, Suggestion.id)
        )
    ).all()
    return tuple(
        SuggestionResult(int(n), kind, status, sid, labels.get(sid, ""), text)
        for n, kind, status, sid, text in rows
    )


async def last_close(session: AsyncSession, panel_id: int) -> dict[str, Any] | None:
    """The detail of the panel's last ``round.closed`` audit event (one query), None before any close."""
    event = await session.scalar(
        select(AuditEvent)
        .where(AuditEvent.panel_id == panel_id, AuditEvent.action == "round.closed")
        .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
        .limit(1)
    )
    return dict(event.detail or {}) if event is not None else None


def round_advice(frame: Frame, number: int) -> ListAdvice:
    """The stopping advice of closed round ``number`` from the frame's frozen outcomes (pure; see
    :func:`delphi.results.round_results.stopping`, which gives the same for the round page)."""
    before = {x.statement_id: x.verdict for x in frame.links.get(number - 1, ()) if x.verdict}
    items = []
    for link in frame.links.get(number, ()):
        verdict = link.verdict or "insufficient"
        previous = before.get(link.statement_id)
        st = frame.statements.get(link.statement_id)
        if previous is None and st is not None and st.parent_id is not None:
            previous = before.get(st.parent_id)
        stab = (link.outcome or {}).get("stability")
        items.append((statement_advice(link.statement_id, stab, verdict, previous), verdict))
    return list_advice(items)


def stopping_rule(frame: Frame, close: Mapping[str, Any] | None) -> StoppingRule:
    """The stopping rule applied (pure), from the panel, its closed rounds and ``close``, the detail of its last
    ``round.closed`` event (``finished``: whether that close finished the panel; ``carried_forward``: statements
    left for another round)."""
    panel = frame.panel
    m = panel.max_rounds
    advice = tuple((r.number, round_advice(frame, r.number)) for r in frame.closed_rounds)
    rule = f"At most {m} round{'s' if m != 1 else ''}; statements with consensus leave the list after their round"
    if panel.status != PanelStatus.FINISHED:
        return StoppingRule(m, "running", f"{rule}. The panel has not finished.", advice)
    if close and close.get("finished"):
        last = close.get("round")
        if not close.get("carried_forward"):
            return StoppingRule(
                m,
                "settled",
                f"{rule}. It ended after round {last}: no statement was left to ask again.",
                advice,
            )
        return StoppingRule(
            m, "max_rounds", f"{rule}. It ended when round {last}, the last round allowed, closed.", advice
        )
    done = len(frame.closed_rounds)
    return StoppingRule(
        m,
        "by_hand",
        f"{rule}. A facilitator finished the panel by hand after {done} round{'s' if done != 1 else ''}.",
        advice,
    )
