"""Every rating of every closed round in tidy long form: one row per panellist, round and statement.

The file reads straight into R (``read.csv``), pandas, SPSS or Excel, and into ``delphi analyse`` with the
panel's settings, which then reproduces the engine's frozen round results: the columns ``panellist``,
``statement``, ``rating``, ``group``, ``round`` and ``submitted`` are the ones ``delphi analyse`` reads, and
``rating`` holds the word ``unable`` for "unable to rate" as it expects. Every saved answer is in the file,
submitted or not; ``counted`` says whether the round's frozen results counted it under the panel's analysis
population, and ``delphi analyse --population submitted`` keeps the submitted rows, as the engine does for a
panel whose population is ``submitted``.

Only comments and reasons (for ratings outside the previous round's middle half) a facilitator published are
included; pending and hidden ones are left out. Comments and reasons are moderated apart.

``language`` is the language the panellist answered in (``Rating.language``; "" when not recorded); statement
ids and labels, like every text of the exports, stay in the panel's primary language.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import Panellist, Rating, Round, Submission
from delphi.domain import AnalysisPopulation, CommentStatus, RoundStatus
from delphi.results.frame import Frame
from delphi.results.qualitative import frame_labels
from delphi.results.reasons import published_reason
from delphi.results.tables import ANSWER_LANGUAGE, Column, Table

NAME = "ratings"


def columns(frame: Frame) -> tuple[Column, ...]:
    p = frame.panel
    scale = f"whole number {p.scale_min}-{p.scale_max}"
    return (
        Column("panellist", "The panellist's pseudonym (the only identity in any export).", "text"),
        Column("group", "The panellist's stakeholder group.", "text"),
        Column("round", "Round number, from 1.", "integer"),
        Column(
            "statement", "Statement id; a reworded statement has a new id (see statement_version).", "integer"
        ),
        Column(
            "statement_label", "The statement's number as pages and the report show it (S4, S4.2).", "text"
        ),
        Column("statement_version", "1 for an original statement, +1 for each rewording.", "integer"),
        Column(
            "rating",
            f"The rating given: a {scale}; the word 'unable' for '{p.unable_label}'; empty for no answer.",
            "text",
            f"{scale}, 'unable' or empty",
        ),
        Column(
            "unable", f"1 if the panellist chose '{p.unable_label}', else 0.", "boolean", "1 = yes, 0 = no"
        ),
        Column("submitted", "1 if the panellist submitted (sent) this round.", "boolean", "1 = yes, 0 = no"),
        Column(
            "counted",
            "1 if the round's frozen results count this answer. This panel's analysis population is "
            f"'{p.analysis_population}': {AnalysisPopulation(p.analysis_population).description}",
            "boolean",
            "1 = yes, 0 = no",
        ),
        Column("comment", "The panellist's comment, if a facilitator published it; otherwise empty.", "text"),
        Column(
            "reason",
            "The panellist's reason for a rating outside the middle half (interquartile range) of the previous "
            "round's ratings, asked when the panel asks for reasons, if a facilitator published it; otherwise "
            "empty. Reasons are moderated apart from comments.",
            "text",
        ),
        ANSWER_LANGUAGE,
    )


async def load_rows(session: AsyncSession, panel_id: int) -> list[tuple[Any, ...]]:
    """``(round, pseudonym, group_id, statement_id, value, unable, comment, comment_status, submitted, reason,
    reason_status, language)`` for every rating of the panel's closed rounds, by round, pseudonym and statement
    (one query); ``submitted`` is the submission id or None, ``language`` the rating's (None: not recorded)."""
    rows = await session.execute(
        select(
            Round.number,
            Panellist.pseudonym,
            Panellist.group_id,
            Rating.statement_id,
            Rating.value,
            Rating.unable,
            Rating.comment,
            Rating.comment_status,
            Submission.id,
            Rating.reason,
            Rating.reason_status,
            Rating.language,
        )
        .join(Round, Round.id == Rating.round_id)
        .join(Panellist, Panellist.id == Rating.panellist_id)
        .outerjoin(
            Submission,
            (Submission.round_id == Rating.round_id) & (Submission.panellist_id == Rating.panellist_id),
        )
        .where(Round.panel_id == panel_id, Round.status == RoundStatus.CLOSED)
        .order_by(Round.number, Panellist.pseudonym, Rating.statement_id)
    )
    return [tuple(r) for r in rows.all()]


def tidy_rows(
    rows: Iterable[tuple[Any, ...]],
    group_names: Mapping[int, str],
    versions: Mapping[int, int],
    population: AnalysisPopulation,
    labels: Mapping[int, str] | None = None,
) -> list[tuple[Any, ...]]:
    """Rows of the ratings table from :func:`load_rows` output (pure); ``counted`` follows ``population``;
    ``labels`` gives statement numbers (:mod:`delphi.panels.numbering`), ``""`` where missing."""
    labels = labels or {}
    out = []
    for (
        number,
        pseudonym,
        group_id,
        sid,
        value,
        unable,
        comment,
        status,
        submission,
        reason,
        why,
        lang,
    ) in rows:
        rating: Any = "unable" if unable else value
        published = comment if comment and status == CommentStatus.PUBLISHED else ""
        out.append(
            (
                pseudonym,
                group_names.get(group_id, ""),
                number,
                sid,
                labels.get(sid, ""),
                versions.get(sid, 1),
                rating,
                bool(unable),
                submission is not None,
                population == AnalysisPopulation.ALL or submission is not None,
                published,
                published_reason(reason, why),
                lang or "",
            )
        )
    return out


async def ratings_table(session: AsyncSession, frame: Frame) -> Table:
    rows = tidy_rows(
        await load_rows(session, frame.panel.id),
        frame.group_names,
        {sid: s.version for sid, s in frame.statements.items()},
        AnalysisPopulation(frame.panel.analysis_population),
        frame_labels(frame),
    )
    return Table(NAME, "Every rating, in tidy long form", columns(frame), rows)
