"""Use cases that configure a panel before and between rounds: the panel itself, groups, statements, panellists.

Each function checks its input, changes rows in the caller's session, writes an audit event and never commits.
Errors are :class:`~delphi.errors.DelphiError` subclasses with messages for the facilitator.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from delphi import audit, security
from delphi.db.models import (
    Panel,
    PanelAccess,
    Panellist,
    Round,
    RoundStatement,
    StakeholderGroup,
    Statement,
    utcnow,
)
from delphi.domain import (
    Actor,
    AnalysisPopulation,
    PanellistStatus,
    PanelRole,
    PanelStatus,
    RoundStatus,
    StatementStatus,
)
from delphi.errors import Conflict, InvalidInput, NotFound
from delphi.rounds import imports


@dataclass(frozen=True, slots=True)
class PanelInput:
    """Validated panel settings from the panel form or the API."""

    title: str
    description: str = ""
    consent_text: str = ""
    scale_min: int = 1
    scale_max: int = 9
    scale_labels: tuple[str, ...] = ()
    allow_unable: bool = True
    unable_label: str = "Unable to rate"
    rule: dict[str, Any] | None = None
    analysis_population: str = AnalysisPopulation.SUBMITTED
    quantile_method: str = "linear"
    unable_policy: str = "exclude"
    max_rounds: int = 3
    k_min: int = 3
    honorarium_minor: int | None = None
    currency: str = "GBP"
    suggestions_after_round1: bool = False
    ask_reason_outside_iqr: bool = False


def validate_panel_input(
    data: PanelInput, current_rule: dict[str, Any] | None = None
) -> list[tuple[str, str]]:
    """Problems with the panel settings as ``(field, message)`` pairs, every one of them; empty when valid.

    The consensus rule (``data.rule``, or ``current_rule`` when the input leaves the rule as it is) must be
    readable and fit the scale of ``data`` (:func:`delphi.stats.rules.rule_problems`): each conflict is one
    ``("rule", sentence)`` pair.
    """
    from delphi.stats import ConsensusRule, rule_problems

    errors: list[tuple[str, str]] = []
    if not 1 <= len(data.title.strip()) <= 300:
        errors.append(("title", "Enter a title of 1 to 300 characters."))
    if not (0 <= data.scale_min < data.scale_max <= 100) or data.scale_max - data.scale_min > 20:
        errors.append(("scale_max", "The scale must run upwards, from 0 or more, with at most 21 points."))
    elif data.scale_labels and len(data.scale_labels) != data.scale_max - data.scale_min + 1:
        n = data.scale_max - data.scale_min + 1
        errors.append(("scale_labels", f"Give one label per line for each of the {n} scale points, or none."))
    if any(len(label) > 100 for label in data.scale_labels):
        errors.append(("scale_labels", "Each scale label can have at most 100 characters."))
    if data.allow_unable and not 1 <= len(data.unable_label.strip()) <= 100:
        errors.append(("unable_label", "Enter the words for 'unable to rate' (1 to 100 characters)."))
    if data.quantile_method not in ("linear", "weibull", "hinges"):
        errors.append(("quantile_method", "Choose a quantile method: linear, weibull or hinges."))
    if data.analysis_population not in tuple(AnalysisPopulation):
        errors.append(
            ("analysis_population", "Choose which answers count: submitted only, or every saved one.")
        )
    if data.unable_policy not in ("exclude", "include"):
        errors.append(("unable_policy", "Choose whether 'unable to rate' counts in the denominator."))
    if not 1 <= data.max_rounds <= 10:
        errors.append(("max_rounds", "The maximum number of rounds must be from 1 to 10."))
    if not 1 <= data.k_min <= 50:
        errors.append(("k_min", "The smallest group shown must be from 1 to 50 people."))
    if data.honorarium_minor is not None and not 0 <= data.honorarium_minor <= 100_000_00:
        errors.append(("honorarium", "The honorarium must be between 0 and 100,000."))
    if len(data.currency) != 3 or not data.currency.isalpha():
        errors.append(("currency", "The currency must be a three-letter code such as GBP."))
    rule_data = data.rule if data.rule is not None else current_rule
    if rule_data is not None:
        try:
            rule = ConsensusRule.from_dict(rule_data)
        except (ValueError, TypeError, KeyError) as exc:
            errors.append(("rule", f"The consensus rule is not valid: {exc}."))
        else:
            errors += [("rule", problem) for problem in rule_problems(rule, data.scale_min, data.scale_max)]
    return errors


def rule_fit_problems(panel: Panel) -> list[str]:
    """Why the panel's stored consensus rule cannot be applied to its scale; empty when it can.

    One sentence per problem: an unreadable rule, or each conflict :func:`delphi.stats.rules.rule_problems`
    finds (bands off the scale, RAND/UCLA off 1-9).  Panels saved before rules were checked against scales
    can hold such a rule, locked; opening and closing rounds ask this first and say what to do instead.
    """
    from delphi.stats import ConsensusRule, rule_problems

    try:
        rule = ConsensusRule.from_dict(panel.rule)
    except (ValueError, TypeError, KeyError) as exc:
        return [f"The consensus rule is not valid: {exc}."]
    return rule_problems(rule, panel.scale_min, panel.scale_max)


def _apply(panel: Panel, data: PanelInput) -> None:
    panel.title = data.title.strip()
    panel.description = data.description.strip()
    panel.consent_text = data.consent_text.strip()
    panel.scale_min, panel.scale_max = data.scale_min, data.scale_max
    panel.scale_labels = list(data.scale_labels)
    panel.allow_unable = data.allow_unable
    panel.unable_label = data.unable_label.strip() or "Unable to rate"
    panel.quantile_method, panel.unable_policy = data.quantile_method, data.unable_policy
    panel.analysis_population = data.analysis_population
    panel.max_rounds, panel.k_min = data.max_rounds, data.k_min
    panel.honorarium_minor, panel.currency = data.honorarium_minor, data.currency.upper()
    panel.suggestions_after_round1 = data.suggestions_after_round1
    panel.ask_reason_outside_iqr = data.ask_reason_outside_iqr
    if data.rule is not None:
        panel.rule = data.rule


async def create_panel(session: AsyncSession, data: PanelInput, owner_account_id: int, actor: Actor) -> Panel:
    """Create a panel owned by ``owner_account_id``, with a draft round 1. Raises InvalidInput."""
    from delphi.stats import rule_by_name

    default_rule = rule_by_name("comet").to_dict()
    errors = validate_panel_input(data, current_rule=default_rule)
    if errors:
        raise InvalidInput(errors[0][1], field=errors[0][0], errors=errors)
    panel = Panel()
    _apply(panel, data)
    if not panel.rule:
        panel.rule = default_rule
    session.add(panel)
    await session.flush()
    session.add(PanelAccess(panel_id=panel.id, account_id=owner_account_id, role=PanelRole.OWNER))
    session.add(
        Round(panel_id=panel.id, number=1, status=RoundStatus.DRAFT, reminder_offsets_hours=[168, 48])
    )
    audit.record(
        session,
        actor=actor,
        panel_id=panel.id,
        action="panel.created",
        detail={"title": panel.title},
    )
    await session.flush()
    return panel


async def update_panel(session: AsyncSession, panel: Panel, data: PanelInput, actor: Actor) -> list[str]:
    """Change a panel's settings; returns the names of the fields that changed.

    Once round 1 has opened the consensus rule, the scale, the quantile method and the unable policy are locked:
    changing them raises Conflict with the reason.  One exception: a locked rule that cannot be applied to the
    panel's scale (:func:`rule_fit_problems`, e.g. RAND/UCLA locked on a 1-5 scale before rules were checked
    against scales) would stop every round from closing, so it may be replaced by a rule that fits.  That change
    sets ``rule_changed_after_lock`` (flagged in every report and export) and writes a ``rule.changed`` audit
    event with the old rule, the new one and the reason.  The input is checked as a whole first: InvalidInput
    lists every problem, and nothing is changed.
    """
    errors = validate_panel_input(data, current_rule=panel.rule)
    if errors:
        raise InvalidInput(errors[0][1], field=errors[0][0], errors=errors)
    if panel.status == PanelStatus.FINISHED:
        raise Conflict("This panel has finished; its settings can no longer change.")
    before = _snapshot(panel)
    locked = panel.rule_locked_at is not None
    repair = rule_fit_problems(panel) if locked else []
    if locked:
        frozen = {
            "rule": "the consensus rule",
            "analysis_population": "which answers count",
            "scale_min": "the scale",
            "scale_max": "the scale",
            "quantile_method": "the quantile method",
            "unable_policy": "how 'unable to rate' is counted",
            "allow_unable": "whether 'unable to rate' is offered",
        }
        probe = Panel()
        _apply(probe, data)
        probe.rule = data.rule if data.rule is not None else panel.rule
        for name, what in frozen.items():
            if name == "rule" and repair:
                continue  # the locked rule cannot be applied: replacing it is recorded and flagged below
            if getattr(probe, name) != getattr(panel, name):
                when = panel.rule_locked_at.strftime("%-d %B %Y")
                raise Conflict(
                    f"You cannot change {what}: it was locked when round 1 opened on {when}, so that every "
                    "round is judged by the definition fixed in advance.",
                    field=name,
                )
    _apply(panel, data)
    if repair and panel.rule != before["rule"]:
        panel.rule_changed_after_lock = True
        audit.record(
            session,
            actor=actor,
            panel_id=panel.id,
            action="rule.changed",
            detail={"before": before["rule"], "after": panel.rule, "after_lock": True, "reason": repair},
        )
    after = _snapshot(panel)
    changed = sorted(k for k in after if after[k] != before[k])
    if changed:
        audit.record(
            session,
            actor=actor,
            panel_id=panel.id,
            action="panel.updated",
            detail={"fields": changed},
        )
    return changed


def _snapshot(panel: Panel) -> dict[str, Any]:
    names = (
        "title",
        "description",
        "consent_text",
        "scale_min",
        "scale_max",
        "scale_labels",
        "allow_unable",
        "unable_label",
        "rule",
        "analysis_population",
        "quantile_method",
        "unable_policy",
        "max_rounds",
        "k_min",
        "honorarium_minor",
        "currency",
        "suggestions_after_round1",
        "ask_reason_outside_iqr",
    )
    return {n: getattr(panel, n) for n in names}


# --- groups -------------------------------------------------------------------------------------------------------


async def add_group(
    session: AsyncSession, panel: Panel, name: str, actor: Actor, lived_experience: bool = False
) -> StakeholderGroup:
    label = " ".join((name or "").split())
    if not 1 <= len(label) <= 100:
        raise InvalidInput("Enter a group name of 1 to 100 characters.", field="name")
    existing = (
        await session.scalars(select(StakeholderGroup).where(StakeholderGroup.panel_id == panel.id))
    ).all()
    if any(g.name.lower() == label.lower() for g in existing):
        raise Conflict(f"There is a group called {label!r} already.", field="name")
    if panel.rule_locked_at is not None:
        raise Conflict(
            "Groups cannot be added after round 1 has opened: results per group would not compare."
        )
    group = StakeholderGroup(
        panel_id=panel.id, name=label, position=len(existing), is_lived_experience=lived_experience
    )
    session.add(group)
    await session.flush()
    audit.record(
        session,
        actor=actor,
        panel_id=panel.id,
        action="group.added",
        detail={"group_id": group.id, "name": label},
    )
    return group


async def delete_group(session: AsyncSession, panel: Panel, group_id: int, actor: Actor) -> None:
    group = await session.get(StakeholderGroup, group_id)
    if group is None or group.panel_id != panel.id:
        raise NotFound("There is no such group on this panel.")
    used = await session.scalar(
        select(func.count()).select_from(Panellist).where(Panellist.group_id == group_id)
    )
    if used:
        raise Conflict(f"The group {group.name!r} has {used} panellist(s); move or remove them first.")
    await session.delete(group)
    audit.record(
        session,
        actor=actor,
        panel_id=panel.id,
        action="group.deleted",
        detail={"group_id": group_id, "name": group.name},
    )


# --- statements ---------------------------------------------------------------------------------------------------


async def draft_round(session: AsyncSession, panel_id: int) -> Round | None:
    """The panel's draft round (the one being prepared), if any."""
    return await session.scalar(
        select(Round)
        .where(Round.panel_id == panel_id, Round.status == RoundStatus.DRAFT)
        .order_by(Round.number)
    )


async def _next_position(session: AsyncSession, panel_id: int) -> int:
    top = await session.scalar(select(func.max(Statement.position)).where(Statement.panel_id == panel_id))
    return 0 if top is None else top + 1


async def _add_to_round(session: AsyncSession, round_: Round, statement_id: int) -> None:
    top = await session.scalar(
        select(func.max(RoundStatement.position)).where(RoundStatement.round_id == round_.id)
    )
    session.add(
        RoundStatement(round_id=round_.id, statement_id=statement_id, position=0 if top is None else top + 1)
    )


def _check_statement_text(text: str, section: str) -> tuple[str, str]:
    body, sec = " ".join((text or "").split()), " ".join((section or "").split())
    if not 1 <= len(body) <= imports.MAX_STATEMENT:
        raise InvalidInput(f"Enter the statement (1 to {imports.MAX_STATEMENT} characters).", field="text")
    if len(sec) > 200:
        raise InvalidInput("The section name can have at most 200 characters.", field="section")
    return body, sec


async def add_statement(
    session: AsyncSession,
    panel: Panel,
    text: str,
    section: str,
    actor: Actor,
    *,
    origin: str = "facilitator",
    origin_round: int | None = None,
) -> Statement:
    """Add a statement to the panel and to its draft round (if one is being prepared)."""
    if panel.status == PanelStatus.FINISHED:
        raise Conflict("This panel has finished; statements can no longer be added.")
    body, sec = _check_statement_text(text, section)
    statement = Statement(
        panel_id=panel.id,
        text=body,
        section=sec,
        position=await _next_position(session, panel.id),
        origin=origin,
        origin_round=origin_round,
    )
    session.add(statement)
    await session.flush()
    draft = await draft_round(session, panel.id)
    if draft is not None:
        await _add_to_round(session, draft, statement.id)
    audit.record(
        session,
        actor=actor,
        panel_id=panel.id,
        action="statement.added",
        detail={"statement_id": statement.id, "origin": origin},
    )
    return statement


async def import_statements(
    session: AsyncSession, panel: Panel, data: bytes | str, actor: Actor
) -> list[Statement]:
    """Import statements from CSV or pasted lines; nothing is imported when any line has a problem."""
    parsed = imports.parse_statements(data)
    if not parsed.ok:
        errors = [(f"line {line}", msg) for line, msg in parsed.problems]
        raise InvalidInput(
            "Nothing was imported: " + "; ".join(f"line {ln}: {m}" for ln, m in parsed.problems[:5]),
            field="statements",
            errors=errors,
        )
    added = []
    for row in parsed.rows:
        added.append(await add_statement(session, panel, row.text, row.section, actor))
    return added


async def asked_in_opened_round(session: AsyncSession, statement_id: int) -> bool:
    return bool(
        await session.scalar(
            select(func.count())
            .select_from(RoundStatement)
            .join(Round, Round.id == RoundStatement.round_id)
            .where(RoundStatement.statement_id == statement_id, Round.status != RoundStatus.DRAFT)
        )
    )


async def edit_statement(
    session: AsyncSession, panel: Panel, statement_id: int, text: str, section: str, actor: Actor
) -> Statement:
    """Edit a statement. One never asked in an opened round changes in place; one already asked gets a new
    version (``parent_id`` → the old one) that replaces it in the draft round, so past results keep their wording.
    """
    statement = await get_statement(session, panel, statement_id)
    body, sec = _check_statement_text(text, section)
    if not await asked_in_opened_round(session, statement.id):
        changed = body != statement.text or sec != statement.section
        statement.text, statement.section = body, sec
        if changed:
            audit.record(
                session,
                actor=actor,
                panel_id=panel.id,
                action="statement.edited",
                detail={"statement_id": statement.id},
            )
        return statement
    draft = await draft_round(session, panel.id)
    if draft is None:
        raise Conflict("This statement was asked already; reword it when the next round is being prepared.")
    return await reword_statement(session, panel, draft, statement, body, sec, actor)


async def reword_statement(
    session: AsyncSession,
    panel: Panel,
    draft: Round,
    statement: Statement,
    text: str,
    section: str,
    actor: Actor,
    *,
    origin: str = "facilitator",
    origin_round: int | None = None,
) -> Statement:
    """Create a new version of ``statement`` and put it in the draft round in its place."""
    body, sec = _check_statement_text(text, section)
    new = Statement(
        panel_id=panel.id,
        text=body,
        section=sec,
        position=statement.position,
        parent_id=statement.id,
        version=statement.version + 1,
        origin=origin,
        origin_round=origin_round,
    )
    session.add(new)
    await session.flush()
    statement.status = StatementStatus.WITHDRAWN
    statement.status_round = draft.number
    link = await session.scalar(
        select(RoundStatement).where(
            RoundStatement.round_id == draft.id, RoundStatement.statement_id == statement.id
        )
    )
    if link is not None:
        link.statement_id = new.id
    else:
        await _add_to_round(session, draft, new.id)
    audit.record(
        session,
        actor=actor,
        panel_id=panel.id,
        action="statement.reworded",
        detail={"statement_id": new.id, "parent_id": statement.id, "round": draft.number},
    )
    return new


async def get_statement(session: AsyncSession, panel: Panel, statement_id: int) -> Statement:
    statement = await session.get(Statement, statement_id)
    if statement is None or statement.panel_id != panel.id:
        raise NotFound("There is no such statement on this panel.")
    return statement


async def set_in_draft(
    session: AsyncSession, panel: Panel, statement_id: int, include: bool, actor: Actor
) -> None:
    """Add a statement to, or drop it from, the draft round."""
    draft = await draft_round(session, panel.id)
    if draft is None:
        raise Conflict(
            "No round is being prepared; statements can be added to or dropped from a draft round only."
        )
    statement = await get_statement(session, panel, statement_id)
    link = await session.scalar(
        select(RoundStatement).where(
            RoundStatement.round_id == draft.id, RoundStatement.statement_id == statement_id
        )
    )
    if include and link is None:
        statement.status = StatementStatus.ACTIVE
        await _add_to_round(session, draft, statement_id)
        action = "statement.included"
    elif not include and link is not None:
        await session.delete(link)
        action = "statement.dropped"
    else:
        return
    audit.record(
        session,
        actor=actor,
        panel_id=panel.id,
        action=action,
        detail={"statement_id": statement_id, "round": draft.number},
    )


async def move_statement(
    session: AsyncSession, panel: Panel, statement_id: int, direction: int, actor: Actor
) -> None:
    """Move a statement one place up (-1) or down (+1) in the panel's order (and in the draft round)."""
    statements = (
        await session.scalars(
            select(Statement).where(Statement.panel_id == panel.id).order_by(Statement.position, Statement.id)
        )
    ).all()
    ids = [s.id for s in statements]
    if statement_id not in ids:
        raise NotFound("There is no such statement on this panel.")
    i = ids.index(statement_id)
    j = i + (1 if direction > 0 else -1)
    if not 0 <= j < len(ids):
        return
    statements[i], statements[j] = statements[j], statements[i]
    for pos, s in enumerate(statements):
        s.position = pos
    draft = await draft_round(session, panel.id)
    if draft is not None:
        order = {s.id: s.position for s in statements}
        links = (
            await session.scalars(select(RoundStatement).where(RoundStatement.round_id == draft.id))
        ).all()
        for link in links:
            link.position = order.get(link.statement_id, link.position)
    audit.record(
        session,
        actor=actor,
        panel_id=panel.id,
        action="statement.moved",
        detail={"statement_id": statement_id, "direction": direction},
    )


# --- panellists ---------------------------------------------------------------------------------------------------


async def _new_pseudonym(session: AsyncSession, panel_id: int, taken: set[str] | None = None) -> str:
    """A random pseudonym P-0000 .. P-9999 (P-00000... when a panel grows past 5,000) unused on the panel."""
    if taken is None:
        taken = set(
            (await session.scalars(select(Panellist.pseudonym).where(Panellist.panel_id == panel_id))).all()
        )
    digits = 4 if len(taken) < 5_000 else 6
    while True:
        candidate = f"P-{secrets.randbelow(10**digits):0{digits}d}"
        if candidate not in taken:
            taken.add(candidate)
            return candidate


async def get_panellist(session: AsyncSession, panel: Panel, panellist_id: int) -> Panellist:
    """A panellist of ``panel``; InvalidInput when the id is of no panellist of it."""
    p = await session.get(Panellist, panellist_id)
    if p is None or p.panel_id != panel.id:
        raise InvalidInput("There is no such panellist on this panel.")
    return p


async def add_panellist(
    session: AsyncSession,
    panel: Panel,
    *,
    email: str,
    group_id: int,
    name: str = "",
    language: str = "en",
    secret_key: str,
    actor: Actor,
) -> Panellist:
    """Add one panellist; the e-mail must be new to the panel. Their link token's digest is stored at once."""
    groups = (
        await session.scalars(select(StakeholderGroup).where(StakeholderGroup.panel_id == panel.id))
    ).all()
    by_id = {g.id: g for g in groups}
    if group_id not in by_id:
        raise InvalidInput("Choose the panellist's stakeholder group.", field="group_id")
    existing = set(
        (await session.scalars(select(Panellist.email).where(Panellist.panel_id == panel.id))).all()
    )
    parsed = imports.parse_panellists(
        f"email,group,name,language\n{_csv_cell(email)},{_csv_cell(by_id[group_id].name)},{_csv_cell(name)},"
        f"{_csv_cell(language or 'en')}\n",
        [g.name for g in groups],
        {e for e in existing if e},
    )
    if parsed.problems:
        field = "email" if "mail" in parsed.problems[0][1] else "name"
        raise InvalidInput(parsed.problems[0][1], field=field)
    row = parsed.rows[0]
    (created,) = await _insert_panellists(session, panel, [row], {g.name: g.id for g in groups}, secret_key)
    audit.record(
        session,
        actor=actor,
        panel_id=panel.id,
        action="panellist.added",
        detail={"pseudonym": created.pseudonym},
    )
    return created


def _csv_cell(value: str) -> str:
    return '"' + (value or "").replace('"', '""') + '"'


async def preview_panellist_import(
    session: AsyncSession, panel: Panel, data: bytes | str
) -> imports.ParsedImport:
    groups = (
        await session.scalars(select(StakeholderGroup.name).where(StakeholderGroup.panel_id == panel.id))
    ).all()
    existing = (await session.scalars(select(Panellist.email).where(Panellist.panel_id == panel.id))).all()
    return imports.parse_panellists(data, groups, {e for e in existing if e})


async def import_panellists(
    session: AsyncSession, panel: Panel, data: bytes | str, *, secret_key: str, actor: Actor
) -> list[Panellist]:
    """Import a panellist CSV; imports nothing and raises InvalidInput listing every bad row if any is bad."""
    parsed = await preview_panellist_import(session, panel, data)
    if not parsed.ok:
        errors = [(f"line {line}", msg) for line, msg in parsed.problems]
        raise InvalidInput(
            f"Nothing was imported: {len(parsed.problems)} row(s) need fixing.", field="file", errors=errors
        )
    groups = (
        await session.scalars(select(StakeholderGroup).where(StakeholderGroup.panel_id == panel.id))
    ).all()
    created = await _insert_panellists(
        session, panel, parsed.rows, {g.name: g.id for g in groups}, secret_key
    )
    audit.record(
        session,
        actor=actor,
        panel_id=panel.id,
        action="panellist.imported",
        detail={"count": len(created)},
    )
    return created


async def _insert_panellists(
    session: AsyncSession,
    panel: Panel,
    rows: list[imports.PanellistRow],
    group_ids: dict[str, int],
    secret_key: str,
) -> list[Panellist]:
    taken = set(
        (await session.scalars(select(Panellist.pseudonym).where(Panellist.panel_id == panel.id))).all()
    )
    created = []
    for row in rows:
        p = Panellist(
            panel_id=panel.id,
            group_id=group_ids[row.group],
            email=row.email,
            name=row.name,
            language=row.language,
            pseudonym=await _new_pseudonym(session, panel.id, taken),
            status=PanellistStatus.INVITED,
            session_version=1,
        )
        session.add(p)
        created.append(p)
    await session.flush()
    now = utcnow()
    for p in created:
        p.token_hash = security.token_digest(security.panellist_token(secret_key, p.id, p.session_version))
        p.token_issued_at = now
    await session.flush()
    return created


async def erase_panellist(
    session: AsyncSession, panel: Panel, panellist_id: int, *, delete_ratings: bool, actor: Actor
) -> None:
    """Erase a panellist's personal data (e-mail, name, link); keep or delete their pseudonymous ratings.

    Queued mail to them is cancelled.  The pseudonym stays so that published results do not change.
    """
    from delphi.db.models import OutboxMessage, Rating, Submission

    p = await session.get(Panellist, panellist_id)
    if p is None or p.panel_id != panel.id:
        raise NotFound("There is no such panellist on this panel.")
    p.email, p.name, p.token_hash = None, "", None
    p.session_version += 1
    p.erased_at = utcnow()
    if p.status not in (PanellistStatus.WITHDRAWN,):
        p.status = PanellistStatus.WITHDRAWN
        p.withdrawn_at = p.withdrawn_at or p.erased_at
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.panellist_id == p.id, OutboxMessage.status.in_(("queued", "sending")))
        .values(status="cancelled", to_address="", body_text="", body_html="")
    )
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.panellist_id == p.id)
        .values(to_address="", body_text="", body_html="")
    )
    if delete_ratings:
        await session.execute(Rating.__table__.delete().where(Rating.panellist_id == p.id))
        await session.execute(Submission.__table__.delete().where(Submission.panellist_id == p.id))
    audit.record(
        session,
        actor=actor,
        panel_id=panel.id,
        action="panellist.erased",
        detail={"pseudonym": p.pseudonym, "ratings_deleted": delete_ratings},
    )
