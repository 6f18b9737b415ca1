"""Panellists' own words for researchers: every comment, suggestion and reason of the panel's closed rounds.

Three exports (issue 14, item 8), each row with its round, its statement (id and number, "S4.2") and the author's
pseudonym, never a name or an address:

* ``comments``: every non-empty comment, **whatever its moderation status**, with that status and whether a
  facilitator edited it.  The text is the one stored: the edited wording when a facilitator redacted it (the
  original is in the audit trail, for the panel's editors only).  Held-back comments (pending, hidden) are in the
  file because researchers analysing the qualitative data need them; the status says which panellists saw.
* ``suggestions``: every suggestion (new statement or rewording) with the panellist's original wording, its
  outcome, and the statement it became or was merged into with that statement's final wording.
* ``reasons``: every reason given for a rating outside the previous round's middle half, any status, with the
  rating it explains.

Pseudonyms are the analysis ids the ratings export already gives, so these files disclose nothing the ratings
file does not, apart from the held-back texts themselves.  The ratings export keeps only published texts.

Also here, for the moderation pages: :func:`load_moderated` (one text to edit) and :func:`edited_texts` (which
texts of a round a facilitator edited).  A comment's edit is ``Rating.comment_edited_at``; a reason has no such
column, so its edit is read off the audit trail (``reason.redacted`` events).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import AuditEvent, Panellist, Rating, Round, Statement, Suggestion
from delphi.domain import RoundStatus
from delphi.panels.numbering import panel_statement_labels, statement_labels
from delphi.results.comments import attributed
from delphi.results.frame import Frame
from delphi.results.reasons import Reason, load_closed_round_reasons
from delphi.results.tables import Column, Table

COMMENTS_NAME = "comments"
SUGGESTIONS_NAME = "suggestions"
REASONS_NAME = "reasons"

_STATUS = (
    "published (shown to panellists, anonymously, with the next round's feedback), pending (never moderated, "
    "not shown) or hidden (held back by a facilitator, not shown)."
)


def frame_labels(frame: Frame) -> dict[int, str]:
    """``{statement id: "S4.2"}`` for the frame's statements (pure; see :mod:`delphi.panels.numbering`)."""
    return statement_labels((s.id, s.parent_id, s.version) for s in frame.statements.values())


def _where(what: str) -> tuple[Column, ...]:
    """The columns every qualitative export starts with: round, statement id and number, pseudonym, group."""
    return (
        Column("round", f"Round the {what} was written in, from 1.", "integer"),
        Column("statement_id", "Statement id (the ratings export's statement column).", "integer"),
        Column(
            "statement", "Statement number as on every page: S4, and S4.2 for its second wording.", "text"
        ),
        Column("panellist", "The panellist's pseudonym (the only identity in any export).", "text"),
        Column("group", "The panellist's stakeholder group.", "text"),
    )


def comment_columns(frame: Frame) -> tuple[Column, ...]:
    return (
        *_where("comment"),
        Column(
            "comment",
            "The comment as stored: a facilitator's edited wording when edited is 1 (the original wording is "
            "kept in the audit trail, not exported).",
            "text",
        ),
        Column("status", "Moderation status: " + _STATUS, "text", "published, pending or hidden"),
        Column("edited", "1 if a facilitator edited the comment.", "boolean", "1 = yes, 0 = no"),
        Column("saved_at", "When the panellist last saved this answer (UTC).", "date-time"),
    )


def suggestion_columns(frame: Frame) -> tuple[Column, ...]:
    return (
        Column("round", "Round the suggestion was made in, from 1.", "integer"),
        Column("suggestion_id", "Suggestion id.", "integer"),
        Column(
            "kind", "new (a new statement) or rewording (of an existing statement).", "text", "new, rewording"
        ),
        Column(
            "about_statement_id",
            "For a rewording: the id of the statement it rewords; else empty.",
            "integer",
        ),
        Column("about_statement", "For a rewording: that statement's number (S4); else empty.", "text"),
        Column("panellist", "The panellist's pseudonym; empty once the panellist was deleted.", "text"),
        Column("group", "The panellist's stakeholder group.", "text"),
        Column("section", "The section the panellist suggested.", "text"),
        Column("original_wording", "The suggestion as the panellist wrote it.", "text"),
        Column(
            "outcome",
            "pending (not reviewed yet), accepted (became a statement), merged (into an existing statement) or "
            "rejected.",
            "text",
            "pending, accepted, merged, rejected",
        ),
        Column(
            "result_statement_id",
            "The statement it became (accepted) or was merged into (merged); else empty.",
            "integer",
        ),
        Column("result_statement", "That statement's number (S5, S4.2); else empty.", "text"),
        Column(
            "final_wording",
            "That statement's wording now (a facilitator may have edited it on accepting); else empty.",
            "text",
        ),
        Column("suggested_at", "When the suggestion was made (UTC).", "date-time"),
        Column("reviewed_at", "When a facilitator reviewed it (UTC); empty while pending.", "date-time"),
    )


def reason_columns(frame: Frame) -> tuple[Column, ...]:
    p = frame.panel
    return (
        *_where("reason"),
        Column(
            "rating",
            "The rating the reason explains: a whole number "
            f"{p.scale_min}-{p.scale_max}, the word 'unable', or empty when the answer was cleared.",
            "text",
            f"whole number {p.scale_min}-{p.scale_max}, 'unable' or empty",
        ),
        Column(
            "reason",
            "The panellist's reason for a rating outside the middle half (interquartile range) of the previous "
            "round's ratings, as stored: a facilitator's edited wording when edited is 1.",
            "text",
        ),
        Column(
            "status",
            "Moderation status, apart from the comment's: " + _STATUS,
            "text",
            "published, pending or hidden",
        ),
        Column("edited", "1 if a facilitator edited the reason.", "boolean", "1 = yes, 0 = no"),
    )


# --- comments ---------------------------------------------------------------------------------------------------


async def load_comment_rows(session: AsyncSession, panel_id: int) -> list[tuple[Any, ...]]:
    """``(rating id, statement id, pseudonym, group id, comment, status, edited at, updated at, round number)``
    for every non-empty comment of the panel's closed rounds, any status, by round, statement and pseudonym (one
    query)."""
    query = (
        attributed(Rating.comment, Rating.comment_status, Rating.comment_edited_at)
        .add_columns(Round.number)
        .join(Round, Round.id == Rating.round_id)
        .where(Round.panel_id == panel_id, Round.status == RoundStatus.CLOSED, Rating.comment != "")
        .order_by(Round.number, Rating.statement_id, Panellist.pseudonym)
    )
    return [tuple(r) for r in (await session.execute(query)).all()]


def comment_rows(
    rows: Iterable[tuple[Any, ...]], labels: Mapping[int, str], group_names: Mapping[int, str]
) -> list[tuple[Any, ...]]:
    """Rows of the comments table from :func:`load_comment_rows` output (pure)."""
    return [
        (
            number,
            sid,
            labels.get(sid, ""),
            pseudonym,
            group_names.get(gid, ""),
            text,
            status,
            edited is not None,
            at,
        )
        for _, sid, pseudonym, gid, text, status, edited, at, number in rows
    ]


async def comments_table(session: AsyncSession, frame: Frame) -> Table:
    rows = comment_rows(
        await load_comment_rows(session, frame.panel.id), frame_labels(frame), frame.group_names
    )
    return Table(COMMENTS_NAME, "Every comment, with its moderation status", comment_columns(frame), rows)


# --- suggestions ------------------------------------------------------------------------------------------------


async def load_suggestion_rows(session: AsyncSession, panel_id: int) -> list[tuple[Any, ...]]:
    """``(round number, Suggestion, pseudonym or None, group id or None, result statement text or None)`` for
    every suggestion made in the panel's closed rounds, by round then id (one query)."""
    result = Statement.__table__.alias("result_statement")
    query = (
        select(Round.number, Suggestion, Panellist.pseudonym, Panellist.group_id, result.c.text)
        .join(Round, Round.id == Suggestion.round_id)
        .outerjoin(Panellist, Panellist.id == Suggestion.panellist_id)
        .outerjoin(result, result.c.id == Suggestion.result_statement_id)
        .where(Suggestion.panel_id == panel_id, Round.status == RoundStatus.CLOSED)
        .order_by(Round.number, Suggestion.id)
    )
    return [tuple(r) for r in (await session.execute(query)).all()]


def suggestion_rows(
    rows: Iterable[tuple[Any, ...]], labels: Mapping[int, str], group_names: Mapping[int, str]
) -> list[tuple[Any, ...]]:
    """Rows of the suggestions table from :func:`load_suggestion_rows` output (pure)."""
    out = []
    for number, s, pseudonym, gid, final in rows:
        about, became = s.statement_id, s.result_statement_id
        out.append(
            (
                number,
                s.id,
                s.kind,
                about,
                labels.get(about, "") if about is not None else "",
                pseudonym or "",
                group_names.get(gid, "") if gid is not None else "",
                s.section,
                s.text,
                s.status,
                became,
                labels.get(became, "") if became is not None else "",
                final or "",
                s.created_at,
                s.reviewed_at,
            )
        )
    return out


async def suggestions_table(session: AsyncSession, frame: Frame) -> Table:
    rows = suggestion_rows(
        await load_suggestion_rows(session, frame.panel.id), frame_labels(frame), frame.group_names
    )
    return Table(
        SUGGESTIONS_NAME, "Every suggestion, its original and final wording", suggestion_columns(frame), rows
    )


# --- reasons ----------------------------------------------------------------------------------------------------


async def redacted_reasons(session: AsyncSession, panel_id: int) -> frozenset[int]:
    """Rating ids whose reason a facilitator edited, read off the panel's ``reason.redacted`` audit events (one
    query)."""
    details = await session.scalars(
        select(AuditEvent.detail).where(
            AuditEvent.panel_id == panel_id, AuditEvent.action == "reason.redacted"
        )
    )
    return frozenset(d["rating_id"] for d in details.all() if isinstance(d, dict) and "rating_id" in d)


def reason_rows(
    rows: Iterable[tuple[int, Reason]],
    labels: Mapping[int, str],
    group_names: Mapping[int, str],
    edited: frozenset[int],
) -> list[tuple[Any, ...]]:
    """Rows of the reasons table from ``(round number, reason)`` pairs (pure)."""
    return [
        (
            number,
            r.statement_id,
            labels.get(r.statement_id, ""),
            r.pseudonym,
            group_names.get(r.group_id, ""),
            "unable" if r.unable else r.value,
            r.text,
            r.status,
            r.rating_id in edited,
        )
        for number, r in rows
    ]


async def reasons_table(session: AsyncSession, frame: Frame) -> Table:
    rows = reason_rows(
        await load_closed_round_reasons(session, frame.panel.id),
        frame_labels(frame),
        frame.group_names,
        await redacted_reasons(session, frame.panel.id),
    )
    return Table(
        REASONS_NAME, "Every reason for a rating outside the middle half", reason_columns(frame), rows
    )


# --- the moderation pages ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ModeratedText:
    """One comment or reason as the edit page shows it: where it is, who wrote it (pseudonym), its text now."""

    rating_id: int
    round: int
    statement_id: int
    statement: str
    statement_text: str
    pseudonym: str
    text: str
    status: str
    edited: bool


async def load_moderated(
    session: AsyncSession, panel_id: int, number: int, rating_id: int, what: str
) -> ModeratedText | None:
    """Rating ``rating_id``'s ``what`` (``"comment"`` or ``"reason"``) in round ``number`` of the panel; None when
    there is no such rating there or its text is empty (two queries, three for a reason)."""
    text, status = (
        (Rating.comment, Rating.comment_status)
        if what == "comment"
        else (Rating.reason, Rating.reason_status)
    )
    row = (
        await session.execute(
            select(
                Rating.statement_id,
                Statement.text,
                Panellist.pseudonym,
                text,
                status,
                Rating.comment_edited_at,
            )
            .join(Round, Round.id == Rating.round_id)
            .join(Statement, Statement.id == Rating.statement_id)
            .join(Panellist, Panellist.id == Rating.panellist_id)
            .where(Rating.id == rating_id, Round.panel_id == panel_id, Round.number == number, text != "")
        )
    ).first()
    if row is None:
        return None
    sid, statement_text, pseudonym, body, state, comment_edited = row
    if what == "comment":
        edited = comment_edited is not None
    else:
        edited = rating_id in await redacted_reasons(session, panel_id)
    labels = await panel_statement_labels(session, panel_id)
    return ModeratedText(
        rating_id, number, sid, labels.get(sid, ""), statement_text, pseudonym, body, state, edited
    )


async def edited_texts(session: AsyncSession, panel_id: int, round_id: int) -> dict[str, frozenset[int]]:
    """``{"comment": rating ids, "reason": rating ids}`` of round ``round_id``'s texts a facilitator edited (two
    queries)."""
    comments = await session.scalars(
        select(Rating.id).where(Rating.round_id == round_id, Rating.comment_edited_at.is_not(None))
    )
    reasons = await redacted_reasons(session, panel_id)
    return {"comment": frozenset(comments.all()), "reason": reasons}
