"""The first answer to an API request sent with an ``Idempotency-Key``, kept so that its retries get it again.

A script that sends "open round 2" and loses the connection cannot know whether the round opened; it sends the
same request with the same key again.  :func:`claim` looks the key up under the account: the first time it
inserts a row (:class:`~delphi.db.models.IdempotencyKey`) in the request's own transaction, and the caller
runs the change and :func:`complete` stores the answer in that row.  Both commit together, so a request that
failed (refused, or rolled back) leaves no row and its retry runs afresh; one that succeeded leaves the answer,
and every retry within :data:`KEEP` gets it back (:class:`Stored`) without doing anything, sending no mail.

* The same key with another request (method, path or body differ) is refused (:class:`KeyReused`, 422).
* Two requests with one key at the same time: the second waits for the first's transaction (SQLite's write
  lock, taken first thing; PostgreSQL's unique index) and then gets its answer, or a 409 (:class:`KeyInFlight`)
  when the first committed between the look-up and the insert; a retry then gets the answer.
* Keys are the account's own: two accounts may use the same key.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.locks import begin_write
from delphi.db.models import IdempotencyKey, utcnow
from delphi.errors import Conflict, InvalidInput

#: How long a key's answer is kept for its retries.
KEEP = timedelta(hours=24)


class KeyReused(InvalidInput):
    """The key was used before for a different request."""


class KeyInFlight(Conflict):
    """A request with the same key is being handled; retry it in a moment."""


@dataclass(frozen=True)
class Stored:
    """The first answer to a key: its HTTP status and its JSON body, as sent."""

    status: int
    body: str


def fingerprint(method: str, path: str, body: bytes) -> str:
    """SHA-256 (hex) of the request a key stands for: method, path (with its query) and body bytes."""
    digest = hashlib.sha256()
    for part in (method.upper().encode(), path.encode(), body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


async def claim(session: AsyncSession, account_id: int, key: str, print_: str) -> Stored | IdempotencyKey:
    """The stored answer of ``key`` for the account, or the new row the caller completes with
    :func:`complete` once the change is made (in the same transaction).

    Takes the write lock first (:func:`delphi.db.locks.begin_write`), and deletes the account's keys older
    than :data:`KEEP`.  Raises :class:`KeyReused` when ``print_`` (see :func:`fingerprint`) is not the
    stored request's, :class:`KeyInFlight` when another transaction holds or has just stored the key."""
    await begin_write(session)
    await session.execute(
        delete(IdempotencyKey).where(
            IdempotencyKey.account_id == account_id, IdempotencyKey.created_at < utcnow() - KEEP
        )
    )
    row = await session.scalar(
        select(IdempotencyKey).where(IdempotencyKey.account_id == account_id, IdempotencyKey.key == key)
    )
    if row is not None:
        if row.fingerprint != print_:
            raise KeyReused(
                "This Idempotency-Key was used for a different request in the last 24 hours. Send a new "
                "key with each new request, and the same key only when you retry the same request.",
                field="Idempotency-Key",
            )
        if row.status is None or row.body is None:
            raise KeyInFlight(
                "A request with this Idempotency-Key is still being handled; retry in a moment."
            )
        return Stored(row.status, row.body)
    row = IdempotencyKey(account_id=account_id, key=key, fingerprint=print_)
    try:
        async with session.begin_nested():
            session.add(row)
            await session.flush()
    except IntegrityError:
        raise KeyInFlight(
            "A request with this Idempotency-Key has just been handled; retry it to get its answer."
        ) from None
    return row


def complete(row: IdempotencyKey, status: int, body: str) -> None:
    """Store the answer of the request ``row`` was claimed for (``body``: the JSON as sent)."""
    row.status = status
    row.body = body
