"""The final consensus list as an export table, from :func:`delphi.rounds.final.final_consensus_list`.

The panellists' results page reads the same function, so the two never disagree. Rows keep the panel's
statement order; figures are the pooled frozen results of the statement's last rated round.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from delphi.results.frame import Frame, settings_record
from delphi.results.qualitative import frame_labels
from delphi.results.tables import Column, Table
from delphi.rounds.final import FinalConsensusList, final_consensus_list

NAME = "final-list"
PCT = "percent, 0-100"

#: Order of the three parts of the list.
VERDICT_ORDER = ("in", "out", "none", "insufficient")


def columns(frame: Frame) -> tuple[Column, ...]:
    return (
        Column("statement", "Statement id (of the last wording).", "integer"),
        Column(
            "statement_label", "The statement's number as pages and the report show it (S4, S4.2).", "text"
        ),
        Column("statement_version", "1 for an original statement, +1 for each rewording.", "integer"),
        Column("section", "The statement's section.", "text"),
        Column("text", "The statement's final wording.", "text"),
        Column(
            "verdict",
            "in (consensus to include), out (consensus to exclude), none (no consensus) or insufficient "
            "(too few ratings), in the last round the statement was rated.",
            "text",
        ),
        Column(
            "consensus_round",
            "Round from which the consensus held to the end; empty without consensus.",
            "integer",
        ),
        Column(
            "last_round", "Last round the statement was rated in; the figures are from that round.", "integer"
        ),
        Column(
            "rounds", "Every round the statement (in this wording) was rated in, separated by ';'.", "text"
        ),
        Column(
            "n",
            "Ratings given in the last round by panellists in the analysis population "
            f"({frame.panel.analysis_population}: see the codebook).",
            "integer",
        ),
        Column("n_unable", "'Unable to rate' answers in the last round.", "integer"),
        Column("median", "Median rating.", "number", "scale points"),
        Column("q1", "First quartile.", "number", "scale points"),
        Column("q3", "Third quartile.", "number", "scale points"),
        Column("iqr", "Interquartile range, q3 - q1.", "number", "scale points"),
        Column("pct_agree", "Share rating in the agree band.", "number", PCT),
        Column("pct_disagree", "Share rating in the disagree band.", "number", PCT),
        Column("origin", "facilitator, or panellist (suggested by a panellist).", "text"),
        Column(
            "origin_round", "Round in which a panellist suggested it; empty for the facilitator's.", "integer"
        ),
        Column(
            "earlier_wordings",
            "Earlier wordings this statement replaced, oldest first, separated by ' | '.",
            "text",
        ),
    )


def final_rows(
    final: FinalConsensusList, versions: Mapping[int, int], labels: Mapping[int, str] | None = None
) -> list[tuple[Any, ...]]:
    """In first, then out, then none and insufficient; the panel's order within each part (pure).

    ``labels`` maps statement ids to their numbers (:mod:`delphi.panels.numbering`); missing ones are ``""``."""
    labels = labels or {}
    rank = {v: i for i, v in enumerate(VERDICT_ORDER)}
    ordered = sorted(final.statements, key=lambda s: rank.get(s.verdict, len(rank)))
    out = []
    for s in ordered:
        f = s.figures
        out.append(
            (
                s.statement_id,
                labels.get(s.statement_id, ""),
                versions.get(s.statement_id, 1),
                s.section,
                s.text,
                s.verdict,
                s.consensus_round,
                s.last_round,
                ";".join(str(n) for n in s.rounds),
                f.n if f else None,
                f.n_unable if f else None,
                f.median if f else None,
                f.q1 if f else None,
                f.q3 if f else None,
                f.iqr if f else None,
                f.pct_agree if f else None,
                f.pct_disagree if f else None,
                s.origin,
                s.origin_round,
                " | ".join(s.earlier_texts),
            )
        )
    return out


async def final_table(session: AsyncSession, frame: Frame) -> Table:
    final = await final_consensus_list(session, frame.panel.id)
    rows = final_rows(final, {sid: s.version for sid, s in frame.statements.items()}, frame_labels(frame))
    meta = {
        "panel": {"id": frame.panel.id, "title": frame.panel.title},
        "rounds_closed": final.rounds_closed,
        "settings": settings_record(frame.panel),
        "counts": {v: sum(s.verdict == v for s in final.statements) for v in VERDICT_ORDER},
    }
    return Table(NAME, "Final consensus list", columns(frame), rows, meta)
