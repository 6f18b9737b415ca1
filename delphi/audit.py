"""Append-only audit trail: one row per state change, written in the caller's transaction.

Every action the code records is registered in :data:`ACTIONS` with a short label and a plain-language sentence
built from the event's detail, so the audit page reads as sentences (:func:`describe`); :func:`record` refuses an
action that is not registered, so a new action cannot be recorded without its sentence.  Details hold ids,
pseudonyms, counts and labels: never a panellist's e-mail or a token.  The one exception to "no free text" is an
edited comment or reason (:data:`REDACTIONS`): its detail keeps the panellist's original wording, which may
identify someone, so the audit page shows it only to the panel's editors (owner and facilitators, who moderate
and read every text as written anyway), never to researchers.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import AuditEvent, utcnow
from delphi.domain import Actor
from delphi.stats.rules import ConsensusRule


@dataclass(frozen=True, slots=True)
class ActionText:
    """How an audit action reads: a short ``label`` ("Round opened") and a ``sentence`` template whose
    ``{fields}`` are keys of the event's detail."""

    label: str
    sentence: str

    @property
    def fields(self) -> frozenset[str]:
        """The detail keys the sentence uses."""
        return frozenset(f for _, f, _, _ in string.Formatter().parse(self.sentence) if f)


#: Every recorded action and how it reads; :func:`record` refuses any other.
ACTIONS: Mapping[str, ActionText] = MappingProxyType(
    {
        # accounts and API tokens
        "account.created": ActionText("Account created", "An account with the {role} role was created."),
        "account.locked": ActionText(
            "Account locked", "An account was locked for a while after too many failed sign-ins."
        ),
        "account.password_changed": ActionText(
            "Password changed", "The account's password was changed on its account page."
        ),
        "account.password_reset_requested": ActionText(
            "Password reset asked for", "A link to choose a new password was e-mailed to the account."
        ),
        "account.password_reset": ActionText(
            "Password reset", "The account's password was reset through an e-mailed link."
        ),
        "account.password_set": ActionText(
            "Password set", "The account's password was set from the command line."
        ),
        "account.deactivated": ActionText("Account deactivated", "The account was deactivated."),
        "api_token.created": ActionText("API token created", "API token “{name}” was created."),
        "api_token.revoked": ActionText("API token revoked", "API token “{name}” was revoked."),
        "session.ended": ActionText("Signed out", "A browser signed out (session {session_id})."),
        "sessions.revoked": ActionText(
            "Sessions ended", "{count} signed-in session(s) of an account were ended: {reason}."
        ),
        # the panel and its settings
        "panel.created": ActionText("Panel created", "Panel “{title}” was created."),
        "panel.updated": ActionText("Settings changed", "Panel settings changed: {fields}."),
        "panel.finished": ActionText(
            "Panel finished", "The panel finished; {results_mailed} results e-mails were queued."
        ),
        # a panel's languages and the translations of its texts
        "languages.changed": ActionText(
            "Languages changed", "The panel's languages changed from {before} to {after}."
        ),
        "translations.saved": ActionText(
            "Translations saved",
            "Translations into {language_name} ({language}) for round {round} were saved: "
            "{saved} saved, {deleted} removed.",
        ),
        "rule.locked": ActionText(
            "Rule locked",
            "The consensus rule ({rule}) and the analysis population ({analysis_population}) were locked.",
        ),
        "rule.changed": ActionText(
            "Rule changed after locking",
            "The consensus rule was changed from {before} to {after} after it was locked. Why: {reason}",
        ),
        # the panel's team (``member``: a team member's address, never a panellist's)
        "team.shared": ActionText(
            "Access shared",
            "{member} was given access to the panel as {role} (may contact panellists: {can_contact}).",
        ),
        "team.invited": ActionText(
            "Team member invited",
            "{member} was invited to the panel as {role} (may contact panellists: {can_contact}).",
        ),
        "team.invitation_resent": ActionText(
            "Invitation sent again",
            "The invitation to {member} was sent again; the earlier link stopped working.",
        ),
        "team.invitation_revoked": ActionText(
            "Invitation withdrawn", "The invitation to {member} was withdrawn; its link stopped working."
        ),
        "team.invitation_accepted": ActionText(
            "Invitation accepted", "{member} accepted the invitation and joined the panel as {role}."
        ),
        "team.changed": ActionText(
            "Access changed",
            "{member}'s access changed from {was} to {role} (may contact panellists: {can_contact}).",
        ),
        "team.revoked": ActionText("Access revoked", "{member}'s access to the panel ({role}) was revoked."),
        "group.added": ActionText("Group added", "Stakeholder group “{name}” was added."),
        "group.deleted": ActionText("Group deleted", "Stakeholder group “{name}” was deleted."),
        "group.renamed": ActionText("Group renamed", "Stakeholder group “{old}” was renamed “{new}”."),
        # baseline questions (the panellists' characteristics)
        "baseline.added": ActionText(
            "Baseline question added", "Baseline question “{text}” ({kind}) was added."
        ),
        "baseline.edited": ActionText(
            "Baseline question edited", "Baseline question {question_id} changed: {fields}."
        ),
        "baseline.deleted": ActionText(
            "Baseline question deleted",
            "Baseline question “{text}” was deleted with its {answers_deleted} answer(s).",
        ),
        "baseline.moved": ActionText(
            "Baseline question moved", "Baseline question {question_id} was moved {direction}."
        ),
        # statements
        "statement.added": ActionText("Statement added", "Statement {statement_id} was added ({origin})."),
        "statement.edited": ActionText("Statement edited", "Statement {statement_id} was edited."),
        "statement.reworded": ActionText(
            "Statement reworded",
            "Statement {parent_id} was reworded for round {round}; the new version is statement {statement_id}.",
        ),
        "statement.included": ActionText(
            "Statement included", "Statement {statement_id} was added to draft round {round}."
        ),
        "statement.dropped": ActionText(
            "Statement dropped", "Statement {statement_id} was dropped from draft round {round}."
        ),
        "statement.moved": ActionText("Statement moved", "Statement {statement_id} was moved {direction}."),
        "statement.deleted": ActionText(
            "Statement deleted",
            "Statement {statement_id} ({number}: “{text}”) was deleted before round 1; "
            "the others were renumbered.",
        ),
        # an open round 1: its questions, and statements drafted from the answers
        "round.kind_set": ActionText("Round type chosen", "Round {round} was set to ask {kind}."),
        "open_question.added": ActionText("Open question added", "Open question {question_id} was added."),
        "open_question.edited": ActionText("Open question edited", "Open question {question_id} was edited."),
        "open_question.deleted": ActionText(
            "Open question deleted", "Open question {question_id} (“{text}”) was deleted."
        ),
        "open_question.moved": ActionText(
            "Open question moved", "Open question {question_id} was moved {direction}."
        ),
        "idea.themed": ActionText(
            "Answers grouped", "{count} open-round answer(s) were given the theme “{theme}”."
        ),
        "statement.from_answers": ActionText(
            "Statement drafted from answers",
            "Statement {statement_id} was drafted for round {round} from {answers} open-round answer(s).",
        ),
        # ranking questions
        "ranking.added": ActionText(
            "Ranking question added", "Ranking question {question_id} was added with {items} items."
        ),
        "ranking.edited": ActionText("Ranking question edited", "Ranking question {question_id} was edited."),
        "ranking.deleted": ActionText(
            "Ranking question deleted", "Ranking question {question_id} (“{text}”) was deleted."
        ),
        "ranking.included": ActionText(
            "Ranking question added to round", "Ranking question {question_id} was added to round {round}."
        ),
        "ranking.dropped": ActionText(
            "Ranking question dropped", "Ranking question {question_id} was dropped from round {round}."
        ),
        # panellists
        "panellist.added": ActionText("Panellist added", "Panellist {pseudonym} was added."),
        "panellist.imported": ActionText("Panellists imported", "{count} panellists were imported."),
        "panellist.erased": ActionText(
            "Panellist erased",
            "Panellist {pseudonym}'s personal data was erased (ratings deleted too: {ratings_deleted}).",
        ),
        "panellist.link_reissued": ActionText(
            "Link re-issued",
            "Panellist {panellist} was given a new personal link; the old one stopped working.",
        ),
        "panellist.card_printed": ActionText(
            "Invitation cards printed",
            "{count} invitation card(s) with a new personal link were printed ({choice}): {panellists}; "
            "their old links stopped working.",
        ),
        "payment.recorded": ActionText(
            "Payment recorded",
            "A payment of {amount} ({method}, {paid_on}) to panellist {panellist} was recorded.",
        ),
        "payment.deleted": ActionText(
            "Payment deleted",
            "The payment of {amount} ({method}, {paid_on}) to panellist {panellist} was deleted as a mistake.",
        ),
        "panellist.consented": ActionText("Consent given", "A panellist gave their consent."),
        "panellist.withdrawn": ActionText(
            "Panellist withdrew", "Panellist {panellist} withdrew from the panel ({how})."
        ),
        "panellist.signed_out": ActionText(
            "Panellist signed out", "Panellist {panellist} signed out of the panel pages ({how})."
        ),
        "panellist.language_changed": ActionText(
            "Language changed", "Panellist {panellist} changed their language from {previous} to {language}."
        ),
        # rounds
        "round.scheduled": ActionText(
            "Round scheduled",
            "Round {round} was scheduled: opens {opens_at}, closes {closes_at}; "
            "reminder hours before the close: {reminder_hours}.",
        ),
        "round.opened": ActionText("Round opened", "Round {round} opened; {invitations} invitations queued."),
        "round.open_failed": ActionText(
            "Round could not open", "Round {round} could not open at its scheduled time: {reason}"
        ),
        "round.reminded": ActionText(
            "Reminder queued", "Round {round}: {reminder} queued for {recipients} panellists."
        ),
        "round.submitted": ActionText(
            "Answers submitted", "Panellist {panellist} submitted their answers to round {round}."
        ),
        "round.closed": ActionText(
            "Round closed",
            "Round {round} closed with {respondents} respondents; verdicts: {verdicts}; "
            "{carried_forward} statements carried forward.",
        ),
        "round.close_failed": ActionText(
            "Round could not close", "Round {round} could not close at its deadline: {reason}"
        ),
        # suggestions and moderation
        "suggestion.created": ActionText(
            "Suggestion made", "A panellist made suggestion {suggestion_id} ({kind}) in round {round}."
        ),
        "suggestion.accepted": ActionText(
            "Suggestion accepted", "Suggestion {suggestion_id} was accepted as statement {statement_id}."
        ),
        "suggestion.merged": ActionText(
            "Suggestion merged", "Suggestion {suggestion_id} was merged into statement {statement_id}."
        ),
        "suggestion.rejected": ActionText("Suggestion rejected", "Suggestion {suggestion_id} was rejected."),
        "comment.published": ActionText(
            "Comment published", "A comment from round {round} (rating {rating_id}) was published."
        ),
        "comment.hidden": ActionText(
            "Comment hidden", "A comment from round {round} (rating {rating_id}) was hidden."
        ),
        "reason.published": ActionText(
            "Reason published", "A reason from round {round} (rating {rating_id}) was published."
        ),
        "reason.hidden": ActionText(
            "Reason hidden", "A reason from round {round} (rating {rating_id}) was hidden."
        ),
        # The wording before and after an edit is in the detail (``original``, ``edited``), never in the
        # sentence: the audit page shows it to the panel's editors only (see REDACTIONS).
        "comment.redacted": ActionText(
            "Comment edited",
            "A comment from round {round} on statement {statement} (rating {rating_id}) was edited; "
            "panellists see only the edited wording.",
        ),
        "reason.redacted": ActionText(
            "Reason edited",
            "A reason from round {round} on statement {statement} (rating {rating_id}) was edited; "
            "panellists see only the edited wording.",
        ),
        # mail
        "mail.bounced": ActionText(
            "E-mail bounced", "A {kind} e-mail to panellist {pseudonym} bounced (SMTP {smtp_code})."
        ),
        "mail.retried": ActionText("E-mail retried", "{count} undelivered e-mails were queued again."),
        "mail_text.saved": ActionText(
            "E-mail text changed", "The panel's own wording of the {kind} e-mail was saved."
        ),
        "mail_text.restored": ActionText(
            "E-mail text restored", "The {kind} e-mail went back to the shipped wording."
        ),
        "translations.imported": ActionText(
            "Translations imported",
            "{texts} translated texts were imported from the file “{filename}” ({counts}); "
            "{changed_sources} line(s) had a primary text that has changed since.",
        ),
    }
)


#: Actions whose detail holds a panellist's original wording (``original``) and its edit (``edited``).
REDACTIONS = frozenset({"comment.redacted", "reason.redacted"})


def redaction_wording(action: str, detail: Mapping[str, Any] | None) -> tuple[str, str] | None:
    """``(original, edited)`` wording of a redaction event, None for any other event or a detail without them.

    Only for those who may read what panellists wrote before moderation: the panel's editors."""
    if action not in REDACTIONS or not detail:
        return None
    original, edited = detail.get("original"), detail.get("edited")
    if not isinstance(original, str) or not isinstance(edited, str):
        return None
    return original, edited


def record(
    session: AsyncSession,
    *,
    actor: Actor,
    action: str,
    panel_id: int | None = None,
    account_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add an audit event to ``session`` (no flush, no commit: the caller's transaction decides).

    ``actor`` is an :class:`~delphi.domain.Actor` (its label is recorded, and its account unless ``account_id``
    names the account acted on); ``action`` a registered dotted verb such as ``round.opened`` (else
    ValueError); ``detail`` a small JSON-able dict that never holds a panellist's e-mail or a token.
    """
    if not isinstance(actor, Actor):
        raise TypeError(f"audit.record takes an Actor, not {type(actor).__name__}")
    if action not in ACTIONS:
        raise ValueError(f"Audit action {action!r} is not registered in delphi.audit.ACTIONS")
    event = AuditEvent(
        panel_id=panel_id,
        account_id=account_id if account_id is not None else actor.account_id,
        actor=actor.label,
        action=action,
        detail=detail or {},
        created_at=utcnow(),
    )
    session.add(event)
    return event


def describe(action: str, detail: Mapping[str, Any] | None) -> str:
    """The event as a plain-language sentence; never raises.

    An unknown action, or a detail without a key the sentence needs, gives a fallback sentence naming the action.
    """
    text = ACTIONS.get(action)
    if text is None:
        return f"Recorded “{action}”."
    try:
        values = {k: _plain(k, v) for k, v in dict(detail or {}).items()}
        return text.sentence.format_map(values)
    except (KeyError, IndexError, ValueError, TypeError, AttributeError):
        return f"{text.label} ({action})."


def who(actor: str) -> str:
    """Plain words for a recorded actor label: "system", "account:<email>" or "panellist:<pseudonym>"."""
    kind, _, name = actor.partition(":")
    if kind == "account" and name:
        return name
    if kind == "panellist" and name:
        return f"Panellist {name}"
    return "The system" if actor == "system" else actor


def _plain(key: str, value: Any) -> str:
    if value is None:
        return "by hand" if key.endswith("_at") else "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if key in _RULES and isinstance(value, Mapping):
        try:
            return f"“{ConsensusRule.from_dict(dict(value)).describe()}”"
        except (ValueError, TypeError, KeyError):
            pass
    if isinstance(value, Mapping):
        return ", ".join(f"{k} {_plain(str(k), v)}" for k, v in value.items()) or "none"
    if key == "reminder" and isinstance(value, str):
        hours = value.removesuffix("h")
        return f"the reminder {hours} hours before the close" if hours.isdigit() else "an extra reminder"
    if isinstance(value, list | tuple):
        if key in _SENTENCES:
            return " ".join(_plain(key, v) for v in value) or "none"
        return ", ".join(_plain(key, v) for v in value) or "none"
    if key.endswith("_at") and isinstance(value, str):
        try:
            return datetime.fromisoformat(value).strftime("%Y-%m-%d %H:%M %Z").strip()
        except ValueError:
            return value
    if isinstance(value, str):
        return value.replace("_", " ") if key in _WORDY else value
    return str(value)


#: Detail keys that hold a consensus rule (its ``to_dict`` form), shown as the rule's own sentence.
_RULES = frozenset({"rule", "before", "after"})

#: Detail keys whose values are lists of whole sentences, joined with spaces.
_SENTENCES = frozenset({"reason", "actions"})

#: Detail keys whose values are identifiers with underscores that read better as words ("round_open").
_WORDY = frozenset({"kind", "rule", "analysis_population", "origin", "fields", "before", "after"})


async def latest_events(session: AsyncSession, panel_id: int, limit: int = 1000) -> list[AuditEvent]:
    """The panel's most recent ``limit`` events, newest first."""
    rows = await session.scalars(
        select(AuditEvent)
        .where(AuditEvent.panel_id == panel_id)
        .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
        .limit(limit)
    )
    return list(rows.all())
