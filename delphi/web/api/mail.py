"""API of a panel's mail: what was sent to whom (counts per round and kind, the messages that could not be
delivered, the history a page at a time), and putting failed messages back in the queue.

The mail page's read models and use case (:mod:`delphi.mail.status`, :mod:`delphi.web.mail_pages`), so the same
access, pages and audit event: everything here is for the panel's editors, reading included (researchers
403).  Addresses are filled only for an editor who sees contacts (the owner, and facilitators the owner lets
contact panellists); for everyone else ``to_address`` is null and an address quoted in an SMTP error is masked
as ``[address]``.  Never a message's body.

A retry (:func:`delphi.mail.status.retry_dead`) queues the chosen failed messages again, due now with their
attempts reset, and records ``mail.retried``; it takes an ``Idempotency-Key``, so a script that lost the answer
and sends it again queues nothing twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get, post
from litestar.params import Parameter
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import Account
from delphi.db.paging import page_at
from delphi.domain import Actor
from delphi.mail import status
from delphi.mail.kinds import kind_label
from delphi.mail.status import MailRecord
from delphi.panels import listing
from delphi.web.api.idempotency import IdempotencyKeyHeader, once
from delphi.web.api.problems import PROBLEMS
from delphi.web.guards import EDITORS_ONLY, PanelAccess
from delphi.web.mail_pages import PAGE_SIZE, pseudonymous
from delphi.web.schemas import MAX_ID

#: The most messages one retry names (the page lists at most 500 failed ones).
MAX_RETRY_IDS = 10_000

HistoryPage = Annotated[
    int,
    Parameter(
        ge=1,
        le=MAX_ID,
        description=f"The page of the history, from 1, {PAGE_SIZE} messages a page (a 404 past the last).",
    ),
]


class MailCount(msgspec.Struct):
    """Messages of one kind in one round (``round`` its number; null: not tied to a round, e.g. a team
    invitation), by status; ``dead`` could not be delivered after every retry."""

    round: int | None
    kind: str
    kind_label: str
    queued: int
    sending: int
    sent: int
    dead: int
    cancelled: int
    total: int


class MailMessage(msgspec.Struct):
    """One message.  ``to_address`` null unless the caller sees contacts; ``pseudonym`` null for mail to no
    panellist (a team member); ``last_error`` why the last attempt failed ("" for none), an address in it masked
    for a caller who does not see contacts."""

    id: int
    kind: str
    kind_label: str
    round: int | None
    panellist_id: int | None
    pseudonym: str | None
    to_address: str | None
    status: str
    attempts: int
    created_at: datetime
    next_attempt_at: datetime
    sent_at: datetime | None
    last_error: str


class HistoryPosition(msgspec.Struct):
    """Where the history's page sits: ``number`` from 1, ``size`` messages a page, ``total`` messages of every
    page, ``pages`` how many there are (1 when there is no mail)."""

    number: int
    size: int
    total: int
    pages: int


class PanelMail(msgspec.Struct):
    """The mail page as JSON: ``counts`` per round and kind, ``dead`` (every message that could not be
    delivered, newest first, up to 500) and one page of the ``history`` (every message, newest first)."""

    counts: list[MailCount]
    dead: list[MailMessage]
    history: list[MailMessage]
    page: HistoryPosition


class MailRetry(msgspec.Struct, forbid_unknown_fields=True):
    """Which failed messages to queue again: ``message_ids`` left out or null, all of them."""

    message_ids: (
        Annotated[
            list[Annotated[int, msgspec.Meta(ge=1, le=MAX_ID)]],
            msgspec.Meta(
                min_length=1,
                max_length=MAX_RETRY_IDS,
                description="Ids of failed messages (`dead` of the mail list); ids of other panels' messages "
                "or of messages that have not failed are ignored.",
            ),
        ]
        | None
    ) = None


class MailRetried(msgspec.Struct):
    """``retried``: how many failed messages were queued again (0 when none was failed)."""

    retried: int


def _message(m: MailRecord, rounds: dict[int, int], sees_contacts: bool) -> MailMessage:
    return MailMessage(
        id=m.id,
        kind=m.kind,
        kind_label=kind_label(m.kind),
        round=rounds.get(m.round_id) if m.round_id is not None else None,
        panellist_id=m.panellist_id,
        pseudonym=m.pseudonym,
        to_address=m.to_address if sees_contacts else None,
        status=m.status,
        attempts=m.attempts,
        created_at=m.created_at,
        next_attempt_at=m.next_attempt_at,
        sent_at=m.sent_at,
        last_error=m.last_error,
    )


@get(
    "/panels/{panel_id:int}/mail",
    opt=EDITORS_ONLY,
    responses=PROBLEMS,
    summary="What was sent to whom: counts, failed messages and the history a page at a time (facilitators)",
)
async def panel_mail(panel_access: PanelAccess, db_session: AsyncSession, page: HistoryPage = 1) -> PanelMail:
    panel_id = panel_access.panel.id
    counts = await status.counts(db_session, panel_id)
    at = page_at(page, sum(c.total for c in counts), PAGE_SIZE)
    dead = await status.dead_letters(db_session, panel_id)
    history = await status.history(db_session, panel_id, limit=PAGE_SIZE, offset=at.offset)
    sees = panel_access.sees_contacts
    if not sees:
        dead, history = pseudonymous(dead), pseudonymous(history)
    rounds = {r.id: r.number for r in await listing.rounds_of(db_session, panel_id)}
    return PanelMail(
        counts=[
            MailCount(
                round=rounds.get(c.round_id) if c.round_id is not None else None,
                kind=c.kind,
                kind_label=kind_label(c.kind),
                queued=c.queued,
                sending=c.sending,
                sent=c.sent,
                dead=c.dead,
                cancelled=c.cancelled,
                total=c.total,
            )
            for c in counts
        ],
        dead=[_message(m, rounds, sees) for m in dead],
        history=[_message(m, rounds, sees) for m in history],
        page=HistoryPosition(at.number, at.size, at.total, at.pages),
    )


@post(
    "/panels/{panel_id:int}/mail/retry",
    status_code=200,
    responses=PROBLEMS,
    summary="Queue failed messages again: the chosen ones, or all (facilitators)",
)
async def retry_mail(
    panel_access: PanelAccess,
    data: MailRetry,
    request: Request,
    db_session: AsyncSession,
    account: Account,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Response[MailRetried]:
    """How many were queued again; the worker sends them at once.  ``{}`` queues every failed message."""

    async def run() -> MailRetried:
        n = await status.retry_dead(
            db_session, panel_access.panel.id, data.message_ids, actor=Actor.account(account)
        )
        await db_session.flush()
        return MailRetried(n)

    return await once(request, db_session, account, idempotency_key, 200, run)


HANDLERS: list[Any] = [panel_mail, retry_mail]
