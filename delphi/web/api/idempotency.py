"""``Idempotency-Key`` on the API's POSTs that send mail or move a round: a retry gets the first answer.

A handler declares ``idempotency_key: IdempotencyKeyHeader`` (documented in the OpenAPI schema as an optional
header) and returns ``await once(request, db_session, account, idempotency_key, status, run)``, where ``run``
makes the change through its use case and returns the answer's struct.  Without the header ``run`` just runs.
With it, :mod:`delphi.accounts.idempotency` decides: the first request runs and its answer is stored with the
change; a retry of the same request answers the stored status and body with ``Idempotency-Replayed: true``
and does nothing; the same key with another request is a 422, one still being handled a 409.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import msgspec
from litestar import Request, Response
from litestar.params import HeaderParameter
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.accounts import idempotency
from delphi.db.models import Account

IdempotencyKeyHeader = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key",
        description="Any unique string (a UUID is best) naming this request: sending the same request with the "
        "same key again within 24 hours answers the first result and changes and sends nothing twice.",
        min_length=1,
        max_length=255,
        pattern=r"^[\x21-\x7e]+$",
        required=False,
    ),
]

#: The header a replayed answer carries.
REPLAYED = "Idempotency-Replayed"


async def once(
    request: Request,
    session: AsyncSession,
    account: Account,
    key: str | None,
    status: int,
    run: Callable[[], Awaitable[Any]],
) -> Response[Any]:
    """``run()``'s answer with ``status``; with a ``key``, run at most once per key and request."""
    if key is None:
        return Response(await run(), status_code=status)
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    print_ = idempotency.fingerprint(request.method, target, await request.body())
    found = await idempotency.claim(session, account.id, key, print_)
    if isinstance(found, idempotency.Stored):
        return Response(
            found.body.encode(),
            status_code=found.status,
            media_type="application/json",
            headers={REPLAYED: "true"},
        )
    body = msgspec.json.encode(await run())
    idempotency.complete(found, status, body.decode())
    return Response(body, status_code=status, media_type="application/json")
