"""Taking the database's write lock before a transaction reads what it is about to decide on.

Closing a round and saving into it must be serialised: a save that read the round as open must be written
(and acknowledged) before the close counts, or be refused after it.  The two backends get there differently:

* **SQLite** has one write lock for the whole file.  Python's ``sqlite3`` driver (legacy transaction control,
  which aiosqlite uses) only sends ``BEGIN`` right before the first INSERT/UPDATE/DELETE, so a transaction's
  reads ("is the round open?") run *outside* it, each on the latest committed snapshot, and a close can
  commit between those reads and the write that acts on them.  :func:`begin_write` starts the transaction
  with ``BEGIN IMMEDIATE`` instead: the write lock (and the read snapshot) is taken before the reads, so the
  checks and the write form one serialised transaction.  It waits for the lock like any write does (the busy
  timeout of :mod:`delphi.db.engine`, 15 s).  Several processes sharing one file are serialised the same way.
* **PostgreSQL** needs no transaction-level lock: the round row is the lock.  Savers share-lock it
  (``SELECT ... FOR SHARE``, see :func:`round_share_lock`; a batch of background saves in its upsert, see
  :func:`delphi.participation.writes.upsert_while_open_statement`) and the close locks it ``FOR UPDATE``
  before it re-reads the round's status, so a close waits for the saves in flight and the saves after it see
  it closed.

Call :func:`begin_write` (or :func:`take_write_lock` on a synchronous connection) first thing in a transaction
that reads and then writes round data (a save, a submit, a suggestion, a close).  Reads that happened earlier in
the same transaction are not protected: re-read what the decision rests on after the call.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.sql import Select

from delphi.db.dialect import dialect_name

_S = TypeVar("_S", bound=Select[Any])


def take_write_lock(conn: Connection) -> bool:
    """:func:`begin_write` for a synchronous connection (a batch run whole in one thread, or under
    :meth:`~sqlalchemy.ext.asyncio.AsyncConnection.run_sync`): the same lock, the same answer."""
    if dialect_name(conn) != "sqlite":
        return False
    # aiosqlite.Connection or sqlite3.Connection: both say whether the driver opened a transaction
    if conn.connection.driver_connection.in_transaction:  # type: ignore[union-attr]
        return False
    conn.exec_driver_sql("BEGIN IMMEDIATE")
    return True


async def begin_write(bind: AsyncSession | AsyncConnection) -> bool:
    """Start ``bind``'s transaction holding the write lock (SQLite: ``BEGIN IMMEDIATE``); no-op on PostgreSQL.

    Does nothing when the SQLite connection is in a transaction already (it has written, so it holds the write
    lock).  Returns whether it sent ``BEGIN IMMEDIATE``.
    """
    conn = await bind.connection() if isinstance(bind, AsyncSession) else bind
    return await conn.run_sync(take_write_lock)


def round_share_lock(stmt: _S, dialect: str, of: Any) -> _S:
    """``stmt`` share-locking the rows of ``of`` (the Round entity) on PostgreSQL; unchanged on SQLite, where
    :func:`begin_write` has serialised the transaction already.  ``dialect`` as
    :func:`~delphi.db.dialect.dialect_name` gives it."""
    if dialect == "postgresql":
        return stmt.with_for_update(read=True, of=of)
    return stmt
