"""A panel's settings, declared once, and the use cases that create a panel and change its settings.

:class:`PanelInput` is the one declared list of settings: each field's name (= the :class:`~delphi.db.models.Panel`
column), type and default, with :func:`_setting` metadata saying its label, how the panel form shows and reads it
(:class:`Form`), how it is checked and stored, whether it is locked once round 1 opens, whether the audit snapshot
and the JSON API carry it.  :data:`SETTINGS` lists them in declared order, which is the order validation reports
problems in.  The panel form (:mod:`delphi.web.panel_form`), the API's panel (:func:`delphi.web.api.panels.panel_schema`),
:func:`_apply` and the audit snapshot (:func:`_snapshot`) are all derived from it.

Use cases change rows in the caller's session, write an audit event and never commit.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from delphi import audit
from delphi.db.models import Panel, PanelAccess, Round
from delphi.domain import Actor, AnalysisPopulation, PanelRole, PanelStatus, RoundStatus
from delphi.errors import Conflict, InvalidInput
from delphi.panels.consent_text import DEFAULT_CONSENT_TEXT
from delphi.panels.imports import EMAIL_RE
from delphi.stats import QUANTILE_METHODS, UNABLE_POLICIES, ConsensusRule, rule_by_name, rule_problems

#: The preset a new panel starts with, and the form's choice when a stored rule is no preset it offers.
DEFAULT_RULE_NAME = "comet"
#: Stored when a panel's "unable to rate" words are left empty.
DEFAULT_UNABLE_LABEL = "Unable to rate"
#: Labels of a 1-9 agreement scale (ends and middle), suggested in a new panel's form.
NINE_POINT_LABELS = (
    "Strongly disagree",
    "",
    "",
    "",
    "Neither agree nor disagree",
    "",
    "",
    "",
    "Strongly agree",
)


class Form(StrEnum):
    """How the panel form shows and reads a setting (:mod:`delphi.web.panel_form`)."""

    #: A text box or a select: the posted string; the default when the field is not posted.
    TEXT = "text"
    #: A whole number; empty means the default, anything else not a whole number is refused.
    NUMBER = "number"
    #: A checkbox: ticked is ``"on"``; not posted is False.
    CHECKBOX = "checkbox"
    #: A text area with one item per line (kept empty lines stand for unlabelled points; trailing ones dropped).
    LINES = "lines"
    #: A code such as a currency: trimmed and upper-cased; empty means the default.
    CODE = "code"
    #: An amount in major units ("15.00", optional £€$) stored in minor units of the panel's currency.
    MONEY = "money"
    #: The consensus rule, built from the form's rule_name, rule_scope, agree_band, disagree_band, min_ratings.
    RULE = "rule"


@dataclass(frozen=True, slots=True)
class Setting:
    """One panel setting: a field of :class:`PanelInput` and what the form, the checks, the audit and the API do
    with it.  ``name``, ``type`` and ``default`` come from the field (``default`` is ``MISSING`` when required)."""

    #: The form's words for it.
    label: str
    form: Form
    #: Its field id in the form and in ``(field, message)`` problems; "" means its name.
    form_name: str = ""
    #: Pre-filled in a new panel's form instead of ``default``; None: the default.
    suggested: Any = None
    #: Its problems in a whole input, as messages in order; None when anything of its type is fine.
    check: Callable[[PanelInput], list[str]] | None = None
    #: How an input value is stored on the panel; None stores it as it is.
    store: Callable[[Any], Any] | None = None
    #: None in the input leaves the panel's value as it is.
    none_keeps: bool = False
    #: Its words in the refusal once round 1 has opened; None when it may change at any time.
    locked: str | None = None
    #: Whether the audit snapshot (the fields a ``panel.updated`` event names) and the JSON API carry it.
    snapshot: bool = True
    api: bool = True
    #: Filled in from the field by :data:`SETTINGS`.
    name: str = ""
    type: str = ""
    default: Any = None


def _setting(label: str, form: Form, default: Any = dataclasses.MISSING, **more: Any) -> Any:
    """A :class:`PanelInput` field whose metadata is its :class:`Setting` (``more``: the Setting's attributes)."""
    return dataclasses.field(default=default, metadata={"setting": Setting(label, form, **more)})


# --- checks: each gives the messages of one setting's problems in a whole input ----------------------------------


def _scale_fits(d: PanelInput) -> bool:
    return 0 <= d.scale_min < d.scale_max <= 100 and d.scale_max - d.scale_min <= 20


def _check_title(d: PanelInput) -> list[str]:
    return [] if 1 <= len(d.title.strip()) <= 300 else ["Enter a title of 1 to 300 characters."]


def _check_scale(d: PanelInput) -> list[str]:
    return [] if _scale_fits(d) else ["The scale must run upwards, from 0 or more, with at most 21 points."]


def _check_scale_labels(d: PanelInput) -> list[str]:
    problems = []
    n = d.scale_max - d.scale_min + 1
    if _scale_fits(d) and d.scale_labels and len(d.scale_labels) != n:
        problems.append(f"Give one label per line for each of the {n} scale points, or none.")
    if any(len(label) > 100 for label in d.scale_labels):
        problems.append("Each scale label can have at most 100 characters.")
    return problems


def _check_unable_label(d: PanelInput) -> list[str]:
    """The words are needed when the panel offers "unable to rate", and kept to 100 characters (the column's
    size) even when it does not, since they are stored either way."""
    label = d.unable_label.strip()
    if (d.allow_unable and not label) or len(label) > 100:
        return ["Enter the words for 'unable to rate' (1 to 100 characters)."]
    return []


def _check_quantile_method(d: PanelInput) -> list[str]:
    ok = d.quantile_method in QUANTILE_METHODS
    return [] if ok else ["Choose a quantile method: linear, weibull or hinges."]


def _check_population(d: PanelInput) -> list[str]:
    ok = d.analysis_population in tuple(AnalysisPopulation)
    return [] if ok else ["Choose which answers count: submitted only, or every saved one."]


def _check_unable_policy(d: PanelInput) -> list[str]:
    ok = d.unable_policy in UNABLE_POLICIES
    return [] if ok else ["Choose whether 'unable to rate' counts in the denominator."]


def _check_max_rounds(d: PanelInput) -> list[str]:
    return [] if 1 <= d.max_rounds <= 10 else ["The maximum number of rounds must be from 1 to 10."]


def _check_k_min(d: PanelInput) -> list[str]:
    return [] if 1 <= d.k_min <= 50 else ["The smallest group shown must be from 1 to 50 people."]


def _check_honorarium(d: PanelInput) -> list[str]:
    if d.honorarium_minor is not None and not 0 <= d.honorarium_minor <= 100_000_00:
        return ["The honorarium must be between 0 and 100,000."]
    return []


def _check_currency(d: PanelInput) -> list[str]:
    ok = len(d.currency) == 3 and d.currency.isalpha()
    return [] if ok else ["The currency must be a three-letter code such as GBP."]


def _check_rule(d: PanelInput) -> list[str]:
    """An unreadable rule, or each conflict of it with the scale (:func:`delphi.stats.rules.rule_problems`)."""
    if d.rule is None:
        return []
    try:
        rule = ConsensusRule.from_dict(d.rule)
    except (ValueError, TypeError, KeyError) as exc:
        return [f"The consensus rule is not valid: {exc}."]
    return rule_problems(rule, d.scale_min, d.scale_max)


#: Characters a contact phone number may hold besides digits: "+44 (0)20 7946-0000", "020 7946 0000 ext. 12".
_PHONE = re.compile(r"^[0-9 +()./-]*(?:(?:ext\.?|x) ?[0-9]+)?$")
#: Lengths of the contact columns and of the discreet name (:class:`delphi.db.models.Panel`).
MAX_CONTACT_NAME, MAX_CONTACT_EMAIL, MAX_CONTACT_PHONE, MAX_DISCREET_NAME = 200, 320, 50, 100


def _one_line(value: str) -> bool:
    """No line break or other control character (a name that goes into a mail header or a page title)."""
    return not any(ord(c) < 32 or ord(c) == 127 for c in value)


def _check_contact_name(d: PanelInput) -> list[str]:
    name = (d.contact_name or "").strip()
    if len(name) > MAX_CONTACT_NAME or not _one_line(name):
        return [f"Enter the contact's name on one line, with at most {MAX_CONTACT_NAME} characters."]
    return []


def _check_contact_email(d: PanelInput) -> list[str]:
    """Empty is allowed here (a round cannot open without it, :func:`delphi.rounds.lifecycle.open_blockers`)."""
    email = (d.contact_email or "").strip()
    if email and (len(email) > MAX_CONTACT_EMAIL or not EMAIL_RE.match(email)):
        return ["Enter the contact's e-mail address like name@example.org."]
    return []


def _check_contact_phone(d: PanelInput) -> list[str]:
    phone = (d.contact_phone or "").strip()
    if not phone:
        return []
    if len(phone) > MAX_CONTACT_PHONE or not _PHONE.match(phone) or sum(c.isdigit() for c in phone) < 5:
        return [
            f"Enter the contact's phone number with digits, spaces and + ( ) - only (at most "
            f"{MAX_CONTACT_PHONE} characters), or leave it empty."
        ]
    return []


def _check_discreet_name(d: PanelInput) -> list[str]:
    """Required in discreet mode (turning it on names it too); never the panel's title (which may name the
    topic)."""
    name = (d.discreet_name or "").strip()
    if len(name) > MAX_DISCREET_NAME or not _one_line(name) or any(c in name for c in '<>"'):
        return [
            f'Enter the neutral name on one line, with at most {MAX_DISCREET_NAME} characters and no < > ".'
        ]
    if d.discreet and not name:
        return ['Enter a neutral name for discreet mode, such as "Service feedback study".']
    if d.discreet and name.casefold() == d.title.strip().casefold():
        return ["The neutral name for discreet mode must not be the panel's title."]
    return []


def _w_min(value: Any) -> float | None:
    """A ranking threshold from the form ("0.7", "0,7") or a caller (0.7); None when it is not a finite number."""
    try:
        w = float(str(value).strip().replace(",", ".")) if isinstance(value, str) else float(value)
    except (TypeError, ValueError):
        return None
    return w if math.isfinite(w) else None


def _check_ranking_w_min(d: PanelInput) -> list[str]:
    w = _w_min(d.ranking_w_min)
    if w is None or not 0 < w <= 1:
        return ["Kendall's W for consensus on a ranking must be a number above 0 and at most 1, like 0.7."]
    return []


def _store_w_min(value: Any) -> float:
    w = _w_min(value)
    assert w is not None  # checked first (_check_ranking_w_min)
    return w


def _strip(value: str) -> str:
    return value.strip()


def _unable_words(value: str) -> str:
    return value.strip() or DEFAULT_UNABLE_LABEL


@dataclass(frozen=True, slots=True)
class PanelInput:
    """Panel settings from the panel form or a caller, checked by :func:`validate_panel_input`.

    ``rule`` is a :meth:`ConsensusRule.to_dict` dict, or None to keep the panel's (the default preset for a new
    panel); ``honorarium_minor`` counts minor units of ``currency`` (None: no honorarium).  The panel contact
    (``contact_name``, ``contact_email``, optional ``contact_phone``) is shown on every panellist page and in every
    mail, and a round cannot open without a name and an address; ``discreet`` makes mail come from
    ``discreet_name`` and never name the title (:mod:`delphi.mail.kinds`).  These five keep the panel's value
    when None (the default), so a caller changing other settings leaves them alone.
    """

    title: str = _setting("Title", Form.TEXT, check=_check_title, store=_strip)
    description: str = _setting("What the panel is about", Form.TEXT, "", store=_strip)
    consent_text: str = _setting(
        "Consent and privacy text", Form.TEXT, "", suggested=DEFAULT_CONSENT_TEXT, store=_strip, api=False
    )
    scale_min: int = _setting("Lowest point", Form.NUMBER, 1, locked="the scale")
    scale_max: int = _setting("Highest point", Form.NUMBER, 9, check=_check_scale, locked="the scale")
    scale_labels: tuple[str, ...] = _setting(
        "Labels for the scale points",
        Form.LINES,
        (),
        suggested=NINE_POINT_LABELS,
        check=_check_scale_labels,
        store=list,
    )
    allow_unable: bool = _setting(
        'Offer "unable to rate"', Form.CHECKBOX, True, locked="whether 'unable to rate' is offered"
    )
    unable_label: str = _setting(
        'Words for "unable to rate"',
        Form.TEXT,
        DEFAULT_UNABLE_LABEL,
        check=_check_unable_label,
        store=_unable_words,
    )
    quantile_method: str = _setting(
        "Quartile method", Form.TEXT, "linear", check=_check_quantile_method, locked="the quantile method"
    )
    analysis_population: str = _setting(
        "Answers that count",
        Form.TEXT,
        AnalysisPopulation.SUBMITTED,
        check=_check_population,
        locked="which answers count",
    )
    unable_policy: str = _setting(
        '"Unable to rate" in agreement shares',
        Form.TEXT,
        "exclude",
        check=_check_unable_policy,
        locked="how 'unable to rate' is counted",
    )
    max_rounds: int = _setting("Most rounds", Form.NUMBER, 3, check=_check_max_rounds)
    k_min: int = _setting("Smallest group shown separately", Form.NUMBER, 3, check=_check_k_min)
    honorarium_minor: int | None = _setting(
        "Honorarium per completed round (optional)",
        Form.MONEY,
        None,
        form_name="honorarium",
        check=_check_honorarium,
    )
    currency: str = _setting("Currency", Form.CODE, "GBP", check=_check_currency, store=str.upper)
    suggestions_after_round1: bool = _setting(
        "Let panellists suggest statements after round 1 too", Form.CHECKBOX, False, api=False
    )
    ask_reason_outside_iqr: bool = _setting(
        "Ask for a reason when a rating lies outside the middle half of last round's ratings",
        Form.CHECKBOX,
        False,
        api=False,
    )
    # None keeps the panel's value (a caller changing other settings); the panel form always posts them.
    contact_name: str | None = _setting(
        "Contact name", Form.TEXT, None, check=_check_contact_name, store=_strip, none_keeps=True
    )
    contact_email: str | None = _setting(
        "Contact e-mail address", Form.TEXT, None, check=_check_contact_email, store=_strip, none_keeps=True
    )
    contact_phone: str | None = _setting(
        "Contact phone number (optional)",
        Form.TEXT,
        None,
        check=_check_contact_phone,
        store=_strip,
        none_keeps=True,
    )
    discreet: bool | None = _setting("Discreet mode", Form.CHECKBOX, None, none_keeps=True)
    discreet_name: str | None = _setting(
        "Neutral name used in discreet mode",
        Form.TEXT,
        None,
        check=_check_discreet_name,
        store=_strip,
        none_keeps=True,
    )
    rule: dict[str, Any] | None = _setting(  # noqa: RUF009 (a dataclasses.field with metadata, not a default)
        "Consensus rule", Form.RULE, None, check=_check_rule, none_keeps=True, locked="the consensus rule"
    )
    #: Kendall's W a ranking question needs for consensus (0 < W <= 1; Schmidt 1997 calls 0.7 strong agreement).
    ranking_w_min: float = _setting(
        "Ranking questions: consensus when Kendall's W is at least",
        Form.TEXT,
        0.7,
        check=_check_ranking_w_min,
        store=_store_w_min,
        locked="the rule for ranking questions",
    )


#: Every panel setting, in declared order (the order of validation problems and of lock refusals).
SETTINGS: tuple[Setting, ...] = tuple(
    replace(
        f.metadata["setting"],
        name=f.name,
        type=str(f.type),
        default=f.default,
        form_name=f.metadata["setting"].form_name or f.name,
    )
    for f in dataclasses.fields(PanelInput)
)


def default_rule() -> dict[str, Any]:
    """The rule a new panel gets when its input leaves the rule out: the :data:`DEFAULT_RULE_NAME` preset."""
    return rule_by_name(DEFAULT_RULE_NAME).to_dict()


def validate_panel_input(
    data: PanelInput, current_rule: dict[str, Any] | None = None
) -> list[tuple[str, str]]:
    """Problems with the panel settings as ``(field, message)`` pairs, every one of them; empty when valid.

    ``field`` is the setting's form name.  The consensus rule (``data.rule``, or ``current_rule`` when the input
    leaves the rule as it is) must be readable and fit the scale of ``data``
    (:func:`delphi.stats.rules.rule_problems`): each conflict is one ``("rule", sentence)`` pair.
    """
    checked = data if data.rule is not None else replace(data, rule=current_rule)
    return [(s.form_name, message) for s in SETTINGS if s.check for message in s.check(checked)]


def rule_fit_problems(panel: Panel) -> list[str]:
    """Why the panel's stored consensus rule cannot be applied to its scale; empty when it can.

    One sentence per problem: an unreadable rule, or each conflict :func:`delphi.stats.rules.rule_problems`
    finds (bands off the scale, RAND/UCLA off 1-9).  Panels saved before rules were checked against scales
    can hold such a rule, locked; opening and closing rounds ask this first and say what to do instead.
    """
    try:
        rule = ConsensusRule.from_dict(panel.rule)
    except (ValueError, TypeError, KeyError) as exc:
        return [f"The consensus rule is not valid: {exc}."]
    return rule_problems(rule, panel.scale_min, panel.scale_max)


def locked_rule_repair(panel: Panel) -> list[str]:
    """Why a *locked* rule cannot be applied to the panel's scale (the settings form then lets it be replaced,
    recorded and flagged); empty for a rule that fits or is not locked yet."""
    return rule_fit_problems(panel) if panel.rule_locked_at is not None else []


def _apply(panel: Panel, data: PanelInput) -> None:
    for s in SETTINGS:
        value = getattr(data, s.name)
        if value is None and s.none_keeps:
            continue
        setattr(panel, s.name, s.store(value) if s.store else value)


def _snapshot(panel: Panel) -> dict[str, Any]:
    """The panel's settings that the audit trail compares, by name, as stored."""
    return {s.name: getattr(panel, s.name) for s in SETTINGS if s.snapshot}


async def create_panel(session: AsyncSession, data: PanelInput, owner_account_id: int, actor: Actor) -> Panel:
    """Create a panel owned by ``owner_account_id``, with a draft round 1. Raises InvalidInput."""
    rule = default_rule()
    errors = validate_panel_input(data, current_rule=rule)
    if errors:
        raise InvalidInput(errors[0][1], field=errors[0][0], errors=errors)
    panel = Panel()
    _apply(panel, data)
    if not panel.rule:
        panel.rule = rule
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


def _refuse_locked_change(panel: Panel, data: PanelInput, repair: list[str]) -> None:
    """Raise Conflict for the first ``locked`` setting (declared order) that ``data`` would change; the rule is
    let through when ``repair`` says the locked one cannot be applied."""
    probe = Panel()
    _apply(probe, data)
    probe.rule = data.rule if data.rule is not None else panel.rule
    for s in SETTINGS:
        if s.locked is None or (s.form is Form.RULE and repair):
            continue  # a locked rule that cannot be applied may be replaced: recorded and flagged by the caller
        if getattr(probe, s.name) != getattr(panel, s.name):
            when = panel.rule_locked_at.strftime("%-d %B %Y")
            raise Conflict(
                f"You cannot change {s.locked}: it was locked when round 1 opened on {when}, so that every "
                "round is judged by the definition fixed in advance.",
                field=s.name,
            )


async def update_panel(session: AsyncSession, panel: Panel, data: PanelInput, actor: Actor) -> list[str]:
    """Change a panel's settings; returns the names of the fields that changed.

    Once round 1 has opened the ``locked`` settings (the consensus rule, the scale, which answers count, the
    quantile method, the unable policy and whether "unable to rate" is offered) are fixed: changing one raises
    Conflict with the reason.  One exception: a locked rule that cannot be applied to the panel's scale
    (:func:`rule_fit_problems`, e.g. RAND/UCLA locked on a 1-5 scale before rules were checked against scales)
    would stop every round from closing, so it may be replaced by a rule that fits.  That change sets
    ``rule_changed_after_lock`` (flagged in every report and export) and writes a ``rule.changed`` audit event
    with the old rule, the new one and the reason.  The input is checked as a whole first: InvalidInput lists
    every problem, and nothing is changed.
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
        _refuse_locked_change(panel, data, repair)
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
