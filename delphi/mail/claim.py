"""Claim due outbox rows for one delivery process, and make them ready to send.

One statement marks up to ``limit`` due rows ``sending`` (with ``claimed_by``/``claimed_at``) and returns them:
``UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED) RETURNING ...`` on PostgreSQL, so any number of
workers never claim the same row; SQLite ignores the locking clause and serialises writers instead.  A row is
due when it is ``queued`` with ``next_attempt_at <= now``, or ``sending`` with a claim older than :data:`LEASE`
(a worker died with it in flight).  In the same short transaction, mail to a panellist who has withdrawn or
been erased is cancelled, and the panellist's current address and link version are read: the link
placeholders become the personal links of the *current* ``session_version``.  A row with a ``link_id`` gets
its one-time link filled in the same way (:mod:`delphi.accounts.links`); one whose link was spent, expired or
deleted meanwhile is cancelled.
"""

from __future__ import annotations

import html
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from delphi.accounts.links import link_url
from delphi.db.models import OneTimeLink, OutboxMessage, Panellist
from delphi.domain import OutboxStatus, PanellistStatus
from delphi.mail.outbox import LINK_PLACEHOLDER, ONE_TIME_LINK_PLACEHOLDER, SENDER_NAME, WITHDRAW_PLACEHOLDER
from delphi.security import one_time_token, panellist_token
from delphi.settings import Settings

log = logging.getLogger("delphi.mail")

#: A ``sending`` row whose claim is older than this is claimed again (its worker is presumed dead).
LEASE = timedelta(minutes=5)

_T = OutboxMessage.__table__
_P = Panellist.__table__
_L = OneTimeLink.__table__
_CLAIM_COLUMNS = (
    _T.c.id,
    _T.c.dedupe_key,
    _T.c.kind,
    _T.c.panel_id,
    _T.c.panellist_id,
    _T.c.link_id,
    _T.c.to_address,
    _T.c.subject,
    _T.c.body_text,
    _T.c.body_html,
    _T.c.headers,
    _T.c.attempts,
)


@dataclass(slots=True)
class Ready:
    """A claimed row, ready to send: links filled in, headers known (``attempts``: tries before this one).

    ``sender_name``: the display name to send under instead of the configured one (a discreet panel's neutral
    name, taken out of the row's headers, :data:`delphi.mail.outbox.SENDER_NAME`); None for the configured one.
    """

    id: int
    dedupe_key: str
    kind: str
    panel_id: int | None
    panellist_id: int | None
    pseudonym: str | None
    to: str
    subject: str
    text: str
    html: str
    headers: dict[str, str]
    attempts: int
    sender_name: str | None = None


def _due(now: datetime, lease: timedelta) -> Any:
    return or_(
        and_(_T.c.status == OutboxStatus.QUEUED.value, _T.c.next_attempt_at <= now),
        and_(_T.c.status == OutboxStatus.SENDING.value, _T.c.claimed_at < now - lease),
    )


def _fill(text: str, link: str, withdraw: str) -> str:
    if LINK_PLACEHOLDER in text:
        text = text.replace(LINK_PLACEHOLDER, link)
    if WITHDRAW_PLACEHOLDER in text:
        text = text.replace(WITHDRAW_PLACEHOLDER, withdraw)
    return text


def _has_placeholder(*texts: str) -> bool:
    return any(
        p in t for t in texts for p in (LINK_PLACEHOLDER, WITHDRAW_PLACEHOLDER, ONE_TIME_LINK_PLACEHOLDER)
    )


def _one_time_ready(row: Any, link: Any, settings: Settings, now: datetime) -> Ready | None:
    """``row`` with its one-time link filled in; None (cancel) when the link is gone, spent or expired."""
    if link is None or link.used_at is not None or link.expires_at <= now:
        return None
    url = link_url(settings.base_url, link.purpose, one_time_token(settings.secret_key, link.id, link.nonce))
    url_html = html.escape(url, quote=True)
    return Ready(
        id=row.id,
        dedupe_key=row.dedupe_key,
        kind=row.kind,
        panel_id=row.panel_id,
        panellist_id=None,
        pseudonym=None,
        to=row.to_address,
        subject=row.subject,
        text=row.body_text.replace(ONE_TIME_LINK_PLACEHOLDER, url),
        html=row.body_html.replace(ONE_TIME_LINK_PLACEHOLDER, url_html),
        headers={k: str(v) for k, v in (row.headers or {}).items() if k != SENDER_NAME},
        attempts=row.attempts,
    )


def _ready(row: Any, person: Any, settings: Settings) -> Ready | None:
    """``row`` (a claimed row) ready to send to ``person`` (its panellist's row, None for other mail); None when
    it must be cancelled: the panellist withdrew, was erased or deleted."""
    link = withdraw = ""
    pseudonym = None
    to = row.to_address
    headers = dict(row.headers or {})
    sender = headers.pop(SENDER_NAME, None)
    if row.panellist_id is not None:
        if person is None or person.email is None or person.status == PanellistStatus.WITHDRAWN.value:
            return None
        link = (
            f"{settings.base_url}/p/{panellist_token(settings.secret_key, person.id, person.session_version)}"
        )
        withdraw = f"{link}/leave"
        pseudonym = person.pseudonym
        to = person.email
        headers.setdefault("List-Unsubscribe", f"<{withdraw}>")
        headers.setdefault("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")
    elif _has_placeholder(row.body_text, row.body_html):
        return None  # its panellist was deleted: there is no link to put in
    link_html, withdraw_html = html.escape(link, quote=True), html.escape(withdraw, quote=True)
    return Ready(
        id=row.id,
        dedupe_key=row.dedupe_key,
        kind=row.kind,
        panel_id=row.panel_id,
        panellist_id=row.panellist_id,
        pseudonym=pseudonym,
        to=to,
        subject=row.subject,
        text=_fill(row.body_text, link, withdraw),
        html=_fill(row.body_html, link_html, withdraw_html),
        headers={k: _fill(str(v), link, withdraw) for k, v in headers.items()},
        attempts=row.attempts,
        sender_name=str(sender) if sender else None,
    )


async def _people(session: AsyncConnection | AsyncSession, rows: list[Any]) -> dict[int, Any]:
    """The panellists the claimed ``rows`` go to, by id (status, address, link version, pseudonym)."""
    pids = sorted({r.panellist_id for r in rows if r.panellist_id is not None})
    if not pids:
        return {}
    found = await session.execute(
        select(_P.c.id, _P.c.status, _P.c.email, _P.c.session_version, _P.c.pseudonym).where(
            _P.c.id.in_(pids)
        )
    )
    return {p.id: p for p in found}


async def _links(session: AsyncConnection | AsyncSession, rows: list[Any]) -> dict[int, Any]:
    """The one-time links the claimed ``rows`` carry, by id (purpose, nonce, expiry, spent)."""
    ids = sorted({r.link_id for r in rows if r.link_id is not None})
    if not ids:
        return {}
    found = await session.execute(
        select(_L.c.id, _L.c.purpose, _L.c.nonce, _L.c.expires_at, _L.c.used_at).where(_L.c.id.in_(ids))
    )
    return {link.id: link for link in found}


async def claim(
    session: AsyncConnection | AsyncSession,
    settings: Settings,
    *,
    now: datetime,
    worker_id: str,
    limit: int,
    lease: timedelta = LEASE,
) -> tuple[list[Ready], int]:
    """Claim up to ``limit`` due rows in the caller's transaction (``session`` or connection; commit at once).

    Returns the rows ready to send (sorted by id) and the number cancelled because their panellist withdrew or
    was erased (or deleted).  A row whose panellist's address changed since it was queued goes to the new one.
    """
    due_ids = (
        select(_T.c.id)
        .where(_due(now, lease))
        .order_by(_T.c.next_attempt_at, _T.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    rows = (
        await session.execute(
            update(_T)
            .where(_T.c.id.in_(due_ids.scalar_subquery()))
            .values(status=OutboxStatus.SENDING.value, claimed_by=worker_id, claimed_at=now)
            .returning(*_CLAIM_COLUMNS)
        )
    ).all()
    if not rows:
        return [], 0
    rows.sort(key=lambda r: r.id)
    people = await _people(session, rows)
    links = await _links(session, rows)
    ready: list[Ready] = []
    cancel: list[int] = []
    readdress: list[dict[str, Any]] = []
    for r in rows:
        if r.link_id is not None or ONE_TIME_LINK_PLACEHOLDER in r.body_text:
            item = _one_time_ready(r, links.get(r.link_id), settings, now)
        else:
            item = _ready(r, people.get(r.panellist_id) if r.panellist_id is not None else None, settings)
        if item is None:
            cancel.append(r.id)
            continue
        ready.append(item)
        if item.to != r.to_address:
            readdress.append({"b_id": r.id, "b_to": item.to})
    if cancel:
        await session.execute(
            update(_T)
            .where(_T.c.id.in_(cancel))
            .values(
                status=OutboxStatus.CANCELLED.value,
                last_error="Not sent: the panellist has left the panel, or the link it carries no longer works.",
            )
        )
        log.info(
            "mail cancelled %d (panellist left, or its one-time link no longer works): ids %s",
            len(cancel),
            cancel[:20],
        )
    if readdress:
        await session.execute(
            update(_T).where(_T.c.id == bindparam("b_id")).values(to_address=bindparam("b_to")), readdress
        )
    return ready, len(cancel)
