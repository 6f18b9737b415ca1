"""The panel form (create a panel, panel settings): read a posted form into PanelInput, and what the form shows.

Every setting is read and shown by its :class:`~delphi.panels.settings.Form` kind, in the order of
:data:`~delphi.panels.settings.SETTINGS`; the consensus rule (five form fields) and the honorarium (an amount in
the panel's currency) have their own readers.  Field ids are the settings' ``form_name``.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from delphi.db.models import Panel
from delphi.errors import InvalidInput
from delphi.formatting import major_amount, minor_per_major
from delphi.panels.settings import (
    DEFAULT_RULE_NAME,
    SETTINGS,
    Form,
    PanelInput,
    Setting,
    default_rule,
    validate_panel_input,
)
from delphi.stats import ConsensusRule, rule_by_name
from delphi.stats.presets import PRESETS
from delphi.web.forms import whole_number

#: The presets the panel form offers, each with its description (:data:`delphi.stats.presets.PRESETS`).
RULE_CHOICES = [
    (name, PRESETS[name].description) for name in ("comet", "agree75", "agree80", "median_iqr", "rand_ucla")
]
SCOPE_CHOICES = [
    ("pooled", "The whole panel together"),
    ("every_group", "Every stakeholder group separately (each group must agree)"),
    ("balanced", "The whole panel, with each group weighing the same"),
]


def _band(form: dict[str, str], name: str) -> tuple[int, int] | None:
    raw = form.get(name, "").replace("–", "-").replace(" ", "")
    if not raw:
        return None
    parts = raw.split("-")
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        raise InvalidInput(f"Write the {name.replace('_', ' ')} as two scale points, like 7-9.", field=name)
    return int(parts[0]), int(parts[1])


def _read(s: Setting, form: dict[str, str]) -> Any:
    """The input value of a setting of a plain kind (not MONEY or RULE); InvalidInput for a malformed number."""
    default = "" if s.default is dataclasses.MISSING else s.default
    if s.form is Form.NUMBER:
        return whole_number(form, s.form_name, default)
    if s.form is Form.CHECKBOX:
        return form.get(s.form_name) == "on"
    if s.form is Form.LINES:
        lines = [line.strip() for line in form.get(s.form_name, "").splitlines()]
        while lines and lines[-1] == "":
            lines.pop()
        return tuple(lines)
    if s.form is Form.CODE:
        return (form.get(s.form_name) or default).strip().upper()
    return form.get(s.form_name, default)


def _money(form: dict[str, str], name: str, currency: str) -> int | None:
    """An amount like "15", "15.00" or "£15" in minor units of ``currency``; None when empty; InvalidInput for
    what is not a finite number ("inf", "nan", "1e400")."""
    amount = form.get(name, "").strip().lstrip("£€$")
    try:
        return round(float(amount) * minor_per_major(currency)) if amount else None
    except (ValueError, OverflowError):  # round() of nan, of inf
        raise InvalidInput(
            "Enter the honorarium as an amount like 15 or 15.00, or leave it empty.", field="honorarium"
        ) from None


def _rule(
    form: dict[str, str], scale_min: int, scale_max: int
) -> tuple[dict[str, Any] | None, tuple[str, str] | None]:
    """``(rule dict, None)``, or ``(None, (field, message))`` when the rule's bands cannot make a rule.

    An unknown preset or scope raises InvalidInput at once: the form offers only known ones.
    """
    rule_name = form.get("rule_name", DEFAULT_RULE_NAME)
    if rule_name not in dict(RULE_CHOICES):
        raise InvalidInput("Choose a consensus rule from the list.", field="rule_name")
    scope = form.get("rule_scope", "pooled")
    if scope not in dict(SCOPE_CHOICES):
        raise InvalidInput("Choose where the rule applies.", field="rule_scope")
    try:
        rule = rule_by_name(
            rule_name,
            agree=_band(form, "agree_band"),
            disagree=_band(form, "disagree_band"),
            scope=scope,
            min_ratings=whole_number(form, "min_ratings", 2) or 2,
            scale_points=(scale_max or 9) - (scale_min or 1) + 1,
        ).to_dict()
    except InvalidInput as exc:
        return None, (exc.field or "rule_name", exc.message)
    except ValueError as exc:
        return None, ("rule_name", f"The consensus rule is not valid: {exc}.")
    return rule, None


def panel_input(form: dict[str, str]) -> PanelInput:
    """Build PanelInput from the panel form; raises InvalidInput for a field that is not even well-formed.

    A consensus rule that cannot be built (overlapping bands...) is reported together with every other problem
    :func:`delphi.panels.settings.validate_panel_input` finds in the form, so the summary lists them all at once.
    """
    values = {s.name: _read(s, form) for s in SETTINGS if s.form not in (Form.MONEY, Form.RULE)}
    rule_error: tuple[str, str] | None = None
    for s in SETTINGS:
        if s.form is Form.MONEY:
            values[s.name] = _money(form, s.form_name, values["currency"])
        elif s.form is Form.RULE:
            values[s.name], rule_error = _rule(form, values["scale_min"], values["scale_max"])
    data = PanelInput(**values)
    if rule_error is not None:  # shown with every other problem of the form, not alone
        errors = [rule_error, *validate_panel_input(data)]
        raise InvalidInput(rule_error[1], field=rule_error[0], errors=errors)
    return data


def _rule_values(rule_data: dict[str, Any]) -> dict[str, Any]:
    rule = ConsensusRule.from_dict(rule_data)
    return {
        "rule_name": rule.name if rule.name in dict(RULE_CHOICES) else DEFAULT_RULE_NAME,
        "rule_scope": rule.scope,
        "agree_band": f"{rule.agree[0]}-{rule.agree[1]}",
        "disagree_band": f"{rule.disagree[0]}-{rule.disagree[1]}",
        "min_ratings": rule.min_ratings,
    }


def _stored(s: Setting, panel: Panel | None) -> Any:
    """The panel's value of a setting; for a new panel its suggested value, else its default."""
    if panel is not None:
        return getattr(panel, s.name)
    if s.suggested is not None:
        return s.suggested
    if s.form is Form.RULE:
        return default_rule()
    return "" if s.default is dataclasses.MISSING else s.default


def form_values(panel: Panel | None) -> dict[str, Any]:
    """What the form's fields show, by field id: the panel's settings, or a new panel's suggestions (None)."""
    stored = {s.name: _stored(s, panel) for s in SETTINGS}
    out: dict[str, Any] = {}
    for s in SETTINGS:
        value = stored[s.name]
        if s.form is Form.LINES:
            out[s.form_name] = "\n".join(value)
        elif s.form is Form.MONEY:
            out[s.form_name] = str(major_amount(value, stored["currency"])) if value else ""
        elif s.form is Form.RULE:
            out.update(_rule_values(value))
        else:
            out[s.form_name] = value
    return out


def posted_values(form: dict[str, str]) -> dict[str, Any]:
    """A posted form as the fields show it again: as posted, with checkboxes as True/False."""
    values: dict[str, Any] = dict(form)
    for s in SETTINGS:
        if s.form is Form.CHECKBOX:
            values[s.form_name] = form.get(s.form_name) == "on"
    return values


def context(values: dict[str, Any]) -> dict[str, Any]:
    """The template context of the form's fields: ``values`` (:func:`form_values` or :func:`posted_values`),
    the settings' ``labels`` by field id, and the rule presets and scopes offered."""
    labels = {s.form_name: s.label for s in SETTINGS}
    return {"values": values, "labels": labels, "rules": RULE_CHOICES, "scopes": SCOPE_CHOICES}
