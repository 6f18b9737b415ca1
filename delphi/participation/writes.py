"""Writing answers: the upsert that stores one statement's cleaned input
(:class:`~delphi.participation.checks.CleanInput`).

Shared by the page save and the single save in :mod:`delphi.participation.saving` and by the grouped background
save in :mod:`delphi.participation.save_batch`, so all three store an answer the same way.

The upsert is ``INSERT ... ON CONFLICT (round_id, statement_id, panellist_id) DO UPDATE`` on the ``rating``
table (Core, not the ORM entity), built once per dialect and *shape* (which of answer, comment and reason the
input carries: fields left None keep their saved values).  SQLAlchemy never caches the compiled form of a
dialect's ``ON CONFLICT`` insert (``sqlite.Insert`` and ``postgresql.Insert`` set ``inherit_cache = False``),
so it would compile it again for every save or batch (about 0.13 ms); :func:`upsert_statement` compiles it once
into a typed text statement, which SQLAlchemy's statement cache keeps, so every save only binds parameters.
One statement object takes one parameter dict or a list of them (``executemany``).

Every write records the language the panellist answered in (``Rating.language``, a tag as
:func:`delphi.locale.language_tag` gives it), a later save in another language replacing it; it rides in the
same parameters, so it costs no query.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import bindparam, case, func, literal, null, or_, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.sql.elements import TextClause

from delphi.db.dialect import insert_for
from delphi.db.models import Rating, Round
from delphi.domain import CommentStatus, RoundStatus
from delphi.locale import language_tag
from delphi.participation.checks import CleanInput

#: The columns every upsert row binds (:func:`upsert_params`), in the insert's order.
COLUMNS = (
    "round_id",
    "statement_id",
    "panellist_id",
    "value",
    "unable",
    "comment",
    "comment_status",
    "reason",
    "reason_status",
    "language",
    "created_at",
    "updated_at",
)

#: A compiler per dialect that writes named parameters (``:round_id``), the form a text statement takes.
_NAMED = {"postgresql": postgresql.dialect(paramstyle="named"), "sqlite": sqlite.dialect(paramstyle="named")}


def _as_text(construct: Any, dialect: str, types: dict[str, Any], **compile_kw: Any) -> TextClause:
    """``construct`` compiled once for ``dialect`` into a text statement, which SQLAlchemy's statement cache
    keeps: its parameters ``types`` (name -> SQL type, so values bind as the ORM binds them) typed, and the
    constants it compiled to (``:param_1``...) kept at their values."""
    compiled = construct.compile(dialect=_NAMED[dialect], **compile_kw)
    constants = {k: v for k, v in compiled.params.items() if k not in types}
    return text(str(compiled)).bindparams(
        *(bindparam(name, type_=kind) for name, kind in types.items()),
        *(bindparam(name, value) for name, value in constants.items()),
    )


@lru_cache(maxsize=32)
def upsert_statement(dialect: str, shape: tuple[bool, bool, bool]) -> TextClause:
    """The cached upsert for ``dialect`` ("postgresql" or "sqlite") and ``shape`` (see :attr:`CleanInput.shape`):
    the dialect's insert (:func:`upsert_insert`) as a text statement (:func:`_as_text`)."""
    table = Rating.__table__
    return _as_text(
        upsert_insert(dialect, shape),
        dialect,
        {name: table.c[name].type for name in COLUMNS},
        column_keys=list(COLUMNS),
        for_executemany=True,
    )


def upsert_insert(dialect: str, shape: tuple[bool, bool, bool]) -> Any:
    """The upsert for ``dialect`` and ``shape`` as the dialect's ``INSERT ... ON CONFLICT DO UPDATE`` construct.

    Parameters are those of :func:`upsert_params`.  On conflict ``updated_at`` always changes, and so does
    ``language`` (kept when the new one is None); value and "unable" change when the shape has an answer,
    comment and reason when it has them.  A changed comment or
    reason goes back to "pending" moderation (an edited published text is not shown unreviewed), and a changed
    comment is no longer marked as edited by a facilitator (``comment_edited_at`` cleared).
    """
    stmt = insert_for(dialect, Rating.__table__)
    return stmt.on_conflict_do_update(
        index_elements=["round_id", "statement_id", "panellist_id"], set_=_on_conflict_set(stmt, shape)
    )


def _on_conflict_set(stmt: Any, shape: tuple[bool, bool, bool]) -> dict[str, Any]:
    """What an upsert of ``shape`` changes in a saved row (see :func:`upsert_insert`), from ``stmt.excluded``."""
    has_answer, has_comment, has_reason = shape
    table = Rating.__table__
    new = stmt.excluded
    set_: dict[str, Any] = {
        "updated_at": new.updated_at,
        "language": func.coalesce(new.language, table.c.language),
    }
    if has_answer:
        set_["value"] = new.value
        set_["unable"] = new.unable
    if has_comment:
        set_["comment"] = new.comment
        set_["comment_status"] = case(
            (table.c.comment == new.comment, table.c.comment_status),
            else_=literal(CommentStatus.PENDING.value),
        )
        # The panellist's own new wording replaces a facilitator's edit of the old one.
        set_["comment_edited_at"] = case(
            (table.c.comment == new.comment, table.c.comment_edited_at), else_=null()
        )
    if has_reason:
        set_["reason"] = new.reason
        set_["reason_status"] = case(
            (table.c.reason == new.reason, table.c.reason_status),
            else_=literal(CommentStatus.PENDING.value),
        )
    return set_


#: The columns of :func:`upsert_while_open_statement`'s arrays, one element per row (each an array of the
#: column's own type): every column of :data:`COLUMNS` but those the statement fills in itself.
ARRAY_COLUMNS = tuple(
    c for c in COLUMNS if c not in ("comment_status", "reason_status", "created_at", "updated_at")
)


@lru_cache(maxsize=8)
def upsert_while_open_statement(shape: tuple[bool, bool, bool]) -> TextClause:
    """PostgreSQL: the rows of a batch upserted in one statement, each only while its round is open, which can
    run on its own (autocommit: lock, write and commit in one round trip).

    Parameters: one array per :data:`ARRAY_COLUMNS` (``round_id`` ... ``language``, the rows in key order, as
    :func:`array_params` gives them) and ``now`` (the rows' ``created_at`` and ``updated_at``, and the time
    the round must not have closed by).  A row is written only if its round is open and not past
    ``closes_at``, read under a share lock on the round row, so a close (which locks it ``FOR UPDATE``) waits
    for the statement, or the statement for the close and then writes nothing.  On conflict the row changes as
    :func:`upsert_insert` changes it.  Returns ``(round_id, statement_id, panellist_id)`` of the rows written.
    """
    table = Rating.__table__
    rows = (
        func.unnest(*(bindparam(name) for name in ARRAY_COLUMNS))  # typed by _as_text
        .table_valued(*ARRAY_COLUMNS)
        .render_derived(name="batch")
    )
    now = bindparam("now", type_=table.c.updated_at.type)
    pending = literal(CommentStatus.PENDING.value)
    open_round = (
        select(Round.id)
        .where(
            Round.id == rows.c.round_id,
            Round.status == RoundStatus.OPEN,
            or_(Round.closes_at.is_(None), Round.closes_at > now),
        )
        .with_for_update(read=True)
        .exists()
    )
    source = (
        select(
            rows.c.round_id,
            rows.c.statement_id,
            rows.c.panellist_id,
            rows.c.value,
            rows.c.unable,
            rows.c.comment,
            pending,
            rows.c.reason,
            pending,
            rows.c.language,
            now,
            now,
        )
        .where(open_round)
        .order_by(rows.c.round_id, rows.c.statement_id, rows.c.panellist_id)
    )
    stmt = postgresql.insert(table).from_select(list(COLUMNS), source)
    stmt = stmt.on_conflict_do_update(
        index_elements=["round_id", "statement_id", "panellist_id"], set_=_on_conflict_set(stmt, shape)
    ).returning(table.c.round_id, table.c.statement_id, table.c.panellist_id)
    types = {name: ARRAY(table.c[name].type) for name in ARRAY_COLUMNS}
    types["now"] = table.c.updated_at.type
    return _as_text(stmt, "postgresql", types).columns(
        table.c.round_id, table.c.statement_id, table.c.panellist_id
    )


def array_params(rows: list[dict[str, Any]], now: datetime) -> dict[str, Any]:
    """:func:`upsert_params` rows as the arrays of :func:`upsert_while_open_statement` (in the rows' order)."""
    params: dict[str, Any] = {name: [row[name] for row in rows] for name in ARRAY_COLUMNS}
    params["now"] = now
    return params


def answer_language(language: str | None) -> str | None:
    """The tag an answer records for a panellist whose ``Panellist.language`` is ``language`` ("pt_BR" →
    "pt-BR"); None stays None (unknown)."""
    return None if language is None else language_tag(language)


def upsert_params(
    round_id: int, panellist_id: int, item: CleanInput, now: datetime, language: str | None = None
) -> dict[str, Any]:
    """The row :func:`upsert_statement` inserts for ``item`` (a new row stores "" for absent text), answered in
    ``language`` (the panellist's ``Panellist.language``, stored as :func:`answer_language` gives it; None
    leaves a saved row's language as it was)."""
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
        "language": answer_language(language),
        "created_at": now,
        "updated_at": now,
    }
