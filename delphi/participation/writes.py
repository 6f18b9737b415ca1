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

from sqlalchemy import bindparam, case, func, literal, null, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.elements import TextClause

from delphi.db.dialect import insert_for
from delphi.db.models import Rating
from delphi.domain import CommentStatus
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


@lru_cache(maxsize=32)
def upsert_statement(dialect: str, shape: tuple[bool, bool, bool]) -> TextClause:
    """The cached upsert for ``dialect`` ("postgresql" or "sqlite") and ``shape`` (see :attr:`CleanInput.shape`).

    The dialect's insert (:func:`upsert_insert`) compiled once into a text statement whose parameters carry the
    columns' types (so datetimes bind as the ORM binds them) and whose constants keep their compiled values.
    """
    compiled = upsert_insert(dialect, shape).compile(
        dialect=_NAMED[dialect], column_keys=list(COLUMNS), for_executemany=True
    )
    table = Rating.__table__
    constants = {k: v for k, v in compiled.params.items() if k not in COLUMNS}
    return text(str(compiled)).bindparams(
        *(bindparam(name, type_=table.c[name].type) for name in COLUMNS),
        *(bindparam(name, value) for name, value in constants.items()),
    )


def upsert_insert(dialect: str, shape: tuple[bool, bool, bool]) -> Any:
    """The upsert for ``dialect`` and ``shape`` as the dialect's ``INSERT ... ON CONFLICT DO UPDATE`` construct.

    Parameters are those of :func:`upsert_params`.  On conflict ``updated_at`` always changes, and so does
    ``language`` (kept when the new one is None); value and "unable" change when the shape has an answer,
    comment and reason when it has them.  A changed comment or
    reason goes back to "pending" moderation (an edited published text is not shown unreviewed), and a changed
    comment is no longer marked as edited by a facilitator (``comment_edited_at`` cleared).
    """
    has_answer, has_comment, has_reason = shape
    table = Rating.__table__
    stmt = insert_for(dialect, table)
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
    return stmt.on_conflict_do_update(index_elements=["round_id", "statement_id", "panellist_id"], set_=set_)


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
