"""Which database a session, connection or engine talks to, asked in one place.

The engine supports two databases, so the name is ``"sqlite"`` or ``"postgresql"`` (SQLAlchemy's dialect
names); code that differs by backend (row locks, ``BEGIN IMMEDIATE``, the ``ON CONFLICT`` insert) asks here.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession
from sqlalchemy.orm import Session

Bind = AsyncSession | AsyncConnection | AsyncEngine | Session | Connection | Engine

__all__ = ["Bind", "dialect_name", "insert_for", "is_postgres"]


def dialect_name(bind: Bind) -> str:
    """``"sqlite"`` or ``"postgresql"``: the dialect of ``bind``, a session (its bound engine or connection),
    a connection or an engine, sync or async.

    A session without a bind raises :class:`sqlalchemy.exc.UnboundExecutionError`.
    """
    if isinstance(bind, AsyncSession | Session):
        return bind.get_bind().dialect.name
    return bind.dialect.name


def is_postgres(bind: Bind) -> bool:
    """True when ``bind`` (see :func:`dialect_name`) talks to PostgreSQL."""
    return dialect_name(bind) == "postgresql"


def insert_for(dialect: str, table: Any) -> Any:
    """The dialect's ``INSERT`` into ``table`` (an entity or a Core table), the kind that has
    ``on_conflict_do_nothing`` and ``on_conflict_do_update``; ``dialect`` as :func:`dialect_name` gives it."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table)
