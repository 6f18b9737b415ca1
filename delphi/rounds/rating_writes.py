"""Writing answers: cleaning one statement's input against the scale, and the upsert that stores it.

Shared by the page save and the single background save in :mod:`delphi.rounds.participation` and by the
grouped background save in :mod:`delphi.rounds.save_batch`, so all three store an answer the same way.

The upsert is ``INSERT ... ON CONFLICT (round_id, statement_id, panellist_id) DO UPDATE`` on the ``rating``
table (Core, not the ORM entity), built once per dialect and *shape* (which of answer, comment and reason the
input carries: fields left None keep their saved values) and cached, so SQLAlchemy compiles it once per process
and every save only binds parameters.  One statement object takes one parameter dict or a list of them
(``executemany``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import case, literal
from sqlalchemy.sql.dml import Insert

from delphi.db.models import Rating
from delphi.domain import CommentStatus
from delphi.rounds import participation_rules as rules
from delphi.rounds.participation_rules import MAX_COMMENT, MAX_REASON, Answer, Issue, Scale


@dataclass(frozen=True, slots=True)
class RatingInput:
    """One statement's answer as sent by a form or the JSON endpoint.

    ``answer``: a scale point (int or digits), ``"unable"``, or None to leave the saved answer as it is.
    ``comment``/``reason``: text, or None to leave the saved text as it is ("" clears it).
    """

    statement_id: int
    answer: object = None
    comment: object = None
    reason: object = None


@dataclass(frozen=True, slots=True)
class CleanInput:
    """A :class:`RatingInput` checked against the scale: a parsed answer and trimmed text (None = keep)."""

    statement_id: int
    answer: Answer | None
    comment: str | None
    reason: str | None

    @property
    def empty(self) -> bool:
        return self.answer is None and not self.comment and not self.reason

    @property
    def shape(self) -> tuple[bool, bool, bool]:
        """Which fields the write changes: (answer, comment, reason)."""
        return (self.answer is not None, self.comment is not None, self.reason is not None)


def clean_input(item: RatingInput, scale: Scale) -> CleanInput | list[Issue]:
    """Parse ``item`` against ``scale``; the issues (fields ``s<id>``, ``c<id>``, ``r<id>``) when it is bad."""
    issues: list[Issue] = []
    answer: Answer | None = None
    sid = item.statement_id
    if item.answer is not None and item.answer != "":
        parsed = rules.parse_answer(item.answer, scale, field=f"s{sid}")
        if isinstance(parsed, Issue):
            issues.append(parsed)
        else:
            answer = parsed
    comment = rules.clean_text(item.comment, MAX_COMMENT, f"c{sid}") if item.comment is not None else None
    reason = rules.clean_text(item.reason, MAX_REASON, f"r{sid}") if item.reason is not None else None
    if isinstance(comment, Issue):
        issues.append(comment)
    if isinstance(reason, Issue):
        issues.append(reason)
    if issues:
        return issues
    return CleanInput(sid, answer, comment, reason)  # type: ignore[arg-type]


@lru_cache(maxsize=32)
def upsert_statement(dialect: str, shape: tuple[bool, bool, bool]) -> Insert:
    """The cached upsert for ``dialect`` ("postgresql" or "sqlite") and ``shape`` (see :attr:`CleanInput.shape`).

    Parameters are those of :func:`upsert_params`.  On conflict ``updated_at`` always changes; value and
    "unable" change when the shape has an answer, comment and reason when it has them.  A changed comment or
    reason goes back to "pending" moderation (an edited published text is not shown unreviewed).
    """
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    has_answer, has_comment, has_reason = shape
    table = Rating.__table__
    stmt = insert(table)
    new = stmt.excluded
    set_: dict[str, Any] = {"updated_at": new.updated_at}
    if has_answer:
        set_["value"] = new.value
        set_["unable"] = new.unable
    if has_comment:
        set_["comment"] = new.comment
        set_["comment_status"] = case(
            (table.c.comment == new.comment, table.c.comment_status),
            else_=literal(CommentStatus.PENDING.value),
        )
    if has_reason:
        set_["reason"] = new.reason
        set_["reason_status"] = case(
            (table.c.reason == new.reason, table.c.reason_status),
            else_=literal(CommentStatus.PENDING.value),
        )
    return stmt.on_conflict_do_update(index_elements=["round_id", "statement_id", "panellist_id"], set_=set_)


def upsert_params(round_id: int, panellist_id: int, item: CleanInput, now: datetime) -> dict[str, Any]:
    """The row :func:`upsert_statement` inserts for ``item`` (a new row stores "" for absent text)."""
    answer = item.answer
    return {
        "round_id": round_id,
        "statement_id": item.statement_id,
        "panellist_id": panellist_id,
        "value": answer.value if answer else None,
        "unable": answer.unable if answer else False,
        "comment": item.comment or "",
        "comment_status": CommentStatus.PENDING.value,
        "reason": item.reason or "",
        "reason_status": CommentStatus.PENDING.value,
        "created_at": now,
        "updated_at": now,
    }
