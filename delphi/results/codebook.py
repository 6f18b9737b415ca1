"""The codebook: every column of every export, and every setting that shaped the numbers.

One row per item. Data columns have ``export`` set to the export's name and an empty ``value``; settings have
``export`` = ``settings`` and their value, so the whole study design travels with the data in one small file.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from delphi import __version__
from delphi.domain import AnalysisPopulation
from delphi.formatting import major_amount
from delphi.locale import language_tag
from delphi.results.frame import Frame
from delphi.results.tables import Column, Table

NAME = "codebook"

QUANTILE_METHODS = {
    "linear": "Hyndman & Fan type 7: R's default, numpy 'linear', Excel QUARTILE.INC",
    "weibull": "Hyndman & Fan type 6: what SPSS FREQUENCIES reports, numpy 'weibull'",
    "hinges": "Tukey's hinges (R fivenum)",
}
UNABLE_POLICIES = {
    "exclude": "'Unable to rate' answers are left out of the denominator of pct_agree and pct_disagree; "
    "n_unable reports them.",
    "include": "'Unable to rate' answers count in the denominator of pct_agree and pct_disagree "
    "(as neither agreeing nor disagreeing); n_unable reports them.",
}

COLUMNS = (
    Column("export", "The export the column belongs to, or 'settings' for a setting of the panel.", "text"),
    Column("name", "Column or setting name.", "text"),
    Column("kind", "integer, number, text, boolean (1/0) or date-time (ISO 8601, UTC).", "text"),
    Column("unit", "Unit or coding of the values.", "text"),
    Column("value", "The setting's value (empty for data columns).", "text"),
    Column("description", "What it means.", "text"),
)


def row(name: str, value: Any, description: str, kind: str = "text", unit: str = "") -> tuple[Any, ...]:
    """One setting as a codebook row (its ``export`` is ``settings``)."""
    return ("settings", name, kind, unit, value, description)


def setting_rows(frame: Frame, generated_at: datetime) -> list[tuple[Any, ...]]:
    """The settings part of the codebook (pure): software, scale, answers counted, the rule
    (:func:`rule_rows`), disclosure and the other settings (:func:`other_rows`), then the groups."""
    p = frame.panel
    rows = [
        row(
            "software",
            f"delphi-engine {__version__}",
            "Software and version that computed and exported the results.",
        ),
        row("generated_at", generated_at, "When this codebook was made (UTC).", "date-time"),
        row("panel", p.title, "Title of the panel."),
        row(
            "language",
            language_tag(p.language),
            "The panel's primary language (BCP 47 tag): statement and question texts, results and exports are "
            "in it; the language column of the answer exports says which language each panellist answered in.",
        ),
        row("scale_min", p.scale_min, "Lowest point of the rating scale.", "integer"),
        row("scale_max", p.scale_max, "Highest point of the rating scale.", "integer"),
    ]
    labels = list(p.scale_labels or [])
    for i, value in enumerate(range(p.scale_min, p.scale_max + 1)):
        label = labels[i] if i < len(labels) else ""
        rows.append(row(f"scale_point_{value}", label, f"Label shown for the scale point {value}."))
    rows += [
        row("unable_offered", p.allow_unable, "Whether panellists could answer 'unable to rate'.", "boolean"),
        row(
            "unable_label", p.unable_label, "The words used for 'unable to rate' (coded 'unable' in ratings)."
        ),
        row(
            "analysis_population",
            p.analysis_population,
            "Which answers the results count, fixed with the rule: "
            + AnalysisPopulation(p.analysis_population).description,
        ),
        row("quantile_method", p.quantile_method, QUANTILE_METHODS.get(p.quantile_method, "")),
        row("unable_policy", p.unable_policy, UNABLE_POLICIES.get(p.unable_policy, "")),
    ]
    rows += rule_rows(frame)
    rows += other_rows(frame)
    for g in frame.groups:
        rows.append(
            row(
                f"group_{g.id}",
                g.name,
                "Stakeholder group" + (" (lived experience)" if g.is_lived_experience else "") + ".",
            )
        )
    return rows


def rule_rows(frame: Frame) -> list[tuple[Any, ...]]:
    """The consensus rule's rows of the codebook (empty values when the panel has no readable rule)."""
    p = frame.panel
    rule = frame.rule
    return [
        row("rule", rule.name if rule else "", "Name of the consensus rule."),
        row("rule_definition", rule.describe() if rule else "", "The consensus rule in words."),
        row(
            "rule_json", json.dumps(p.rule, sort_keys=True) if p.rule else "", "The consensus rule as stored."
        ),
        row("agree_band", f"{rule.agree[0]}-{rule.agree[1]}" if rule else "", "Ratings counted as agreeing."),
        row(
            "disagree_band",
            f"{rule.disagree[0]}-{rule.disagree[1]}" if rule else "",
            "Ratings counted as disagreeing.",
        ),
        row(
            "rule_scope",
            rule.scope if rule else "",
            "pooled, every_group or balanced (each group weighs the same).",
        ),
        row(
            "min_ratings",
            rule.min_ratings if rule else "",
            "Fewer ratings give the verdict 'insufficient'.",
            "integer",
        ),
        row("rule_locked_at", p.rule_locked_at, "When the rule was fixed (round 1 opened).", "date-time"),
        row(
            "rule_changed_after_lock",
            p.rule_changed_after_lock,
            "1 if the rule was changed after it was fixed (see the audit trail).",
            "boolean",
        ),
        row(
            "ranking_w_min",
            p.ranking_w_min,
            "The ranking rule: agreement on a ranking question's order when Kendall's W (tie-corrected) is at "
            f"least this, with at least {max(p.k_min, 2)} complete rankings (rankings, ranking-results).",
            "number",
            "0-1",
        ),
    ]


def other_rows(frame: Frame) -> list[tuple[Any, ...]]:
    """Disclosure control, rounds, reasons and the honorarium."""
    p = frame.panel
    return [
        row(
            "k_min",
            p.k_min,
            "Groups with fewer ratings are hidden from panellists and marked as suppressed; further groups are "
            "hidden so that no smaller number of people's ratings can be worked out by subtraction "
            "(round-summaries: shown_to_panellists).",
            "integer",
        ),
        row("max_rounds", p.max_rounds, "Most rounds the panel could run.", "integer"),
        row(
            "reasons_asked",
            p.ask_reason_outside_iqr,
            "1 if panellists were asked for a reason when their rating lay outside the middle half of the "
            "previous round's ratings (the ratings export's reason column holds the published ones).",
            "boolean",
        ),
        row(
            "honorarium",
            None if p.honorarium_minor is None else float(major_amount(p.honorarium_minor, p.currency)),
            "Honorarium per completed round (empty: unpaid).",
            "number",
            p.currency,
        ),
    ]


def column_rows(specs: Iterable[tuple[str, Iterable[Column]]]) -> list[tuple[Any, ...]]:
    """One row per column of each ``(export name, columns)`` (pure)."""
    return [(name, c.name, c.kind, c.unit, None, c.description) for name, cols in specs for c in cols]


def codebook_table(
    frame: Frame, specs: Iterable[tuple[str, Iterable[Column]]], generated_at: datetime
) -> Table:
    rows = setting_rows(frame, generated_at) + column_rows(specs)
    return Table(NAME, "Codebook: columns of every export and the settings used", COLUMNS, rows)
