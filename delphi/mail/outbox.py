"""Enqueue mail in the caller's transaction: ``INSERT ... ON CONFLICT (dedupe_key) DO NOTHING``, one statement
per call or, for a bulk mailing, per batch of :data:`INSERT_BATCH` rows.

Nothing here commits: the row becomes visible to delivery when the caller's transaction commits, and a
rollback sends nothing.  Enqueuing the same ``dedupe_key`` twice is a no-op, so a retried request or a double
click cannot send a mail twice.

Mails to a panellist carry :data:`LINK_PLACEHOLDER` and :data:`WITHDRAW_PLACEHOLDER` instead of the personal
links; delivery replaces them at send time with links derived from the panellist's *current* link version, so
the outbox never stores a usable token.

A panel's mail to its panellists is rendered as the panel has it when it is queued: with the panel's own
wording of the kind when there is one (:class:`delphi.db.models.MailText`, loaded once per call, so once per
batch for :func:`enqueue_mail_many`), and in discreet mode with its neutral sender name, kept in the row's
headers under :data:`SENDER_NAME` for delivery (which writes it into ``From`` and never sends that header).

Each panellist's mail is in their language: the caller passes the panel's texts in that language
(:class:`~delphi.mail.kinds.PanelTexts`, from :func:`delphi.panels.translations.wording_for`, loaded once per
language and mailing), which give the own wording's translation (:func:`delphi.mail.texts.in_language`) and the
translated neutral sender name; the context is the caller's, built from :func:`delphi.mail.kinds.in_language`.
A bulk mailing is rendered per language group, so it still renders once per language and shape, and a batch at
a time, each batch rendered in a worker thread while the database stores the one before: opening a round to
100,000 panellists holds one batch of rendered mail in memory and costs about the longer of rendering and
storing.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, TextClause, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.dialect import dialect_name, insert_for
from delphi.db.models import MailText, OutboxMessage, Panel, utcnow
from delphi.domain import OutboxStatus
from delphi.errors import InvalidInput
from delphi.locale import language_tag
from delphi.mail import texts as mail_texts
from delphi.mail.kinds import MailKind, PanelTexts, in_language, sender_name
from delphi.mail.render import MailRenderer, RenderedMail, default_renderer, one_line
from delphi.mail.texts import EDITABLE_KINDS, Wording

log = logging.getLogger("delphi.mail")

#: Replaced at send time by ``{base_url}/p/{token}``, the panellist's personal link.
LINK_PLACEHOLDER = "[[delphi:personal-link]]"
#: Replaced at send time by ``{base_url}/p/{token}/leave``: the withdraw page, also the List-Unsubscribe URL.
WITHDRAW_PLACEHOLDER = "[[delphi:withdraw-link]]"
#: Replaced at send time by the URL of the row's one-time link (``link_id``): a password reset or a team
#: invitation (:mod:`delphi.accounts.links`).
ONE_TIME_LINK_PLACEHOLDER = "[[delphi:one-time-link]]"

#: The row header holding the display name a panellist mail is sent under (discreet mode); delivery moves it
#: into ``From`` (:func:`delphi.mail.compose.with_display_name`) and never sends it as a header.
SENDER_NAME = "X-Delphi-Sender-Name"

_TABLE = OutboxMessage.__table__


def _insert_for(session: AsyncSession) -> Any:
    """The dialect's INSERT construct (PostgreSQL and SQLite both know ON CONFLICT DO NOTHING)."""
    return insert_for(dialect_name(session), _TABLE)


def _check_address(address: str) -> str:
    address = address.strip()
    if not address or any(c in address for c in "\r\n<>,;") or "@" not in address:
        raise InvalidInput(
            f"{address!r} is not an e-mail address a message can be sent to.", field="to_address"
        )
    return address


def outbox_row(
    *,
    dedupe_key: str,
    kind: str,
    to_address: str,
    subject: str,
    body_text: str,
    body_html: str,
    panel_id: int | None = None,
    round_id: int | None = None,
    panellist_id: int | None = None,
    link_id: int | None = None,
    headers: Mapping[str, str] | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The column values of one queued message (validated: one address, a one-line subject, a short key).

    Raises
    ------
    InvalidInput
        When ``to_address`` is not a single address or ``dedupe_key`` is empty or longer than 200 characters.
    """
    if not dedupe_key or len(dedupe_key) > 200:
        raise InvalidInput("A mail's dedupe key must be 1 to 200 characters long.", field="dedupe_key")
    now = now or utcnow()
    return {
        "dedupe_key": dedupe_key,
        "kind": kind,
        "panel_id": panel_id,
        "round_id": round_id,
        "panellist_id": panellist_id,
        "link_id": link_id,
        "to_address": _check_address(to_address),
        "subject": one_line(subject),
        "body_text": body_text,
        "body_html": body_html,
        "headers": dict(headers or {}),
        "status": OutboxStatus.QUEUED.value,
        "attempts": 0,
        "next_attempt_at": now,
        "last_error": "",
        "created_at": now,
    }


async def enqueue(session: AsyncSession, row: Mapping[str, Any]) -> bool:
    """Queue one row (from :func:`outbox_row`) in the caller's transaction (no commit).

    A row with ``panellist_id`` is a mail to a panellist: its bodies may hold the link placeholders, and delivery
    cancels it if the panellist has withdrawn or been erased by then.  Returns True when a row was inserted,
    False when its ``dedupe_key`` was already queued (or sent) before.
    """
    stmt = _insert_for(session).values(dict(row)).on_conflict_do_nothing(index_elements=["dedupe_key"])
    result = await session.execute(stmt)
    inserted = bool(result.rowcount)
    log.debug("mail %s %s", "queued" if inserted else "already queued", row["dedupe_key"])
    return inserted


async def enqueue_many(session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> int:
    """Queue many rows (from :func:`outbox_row`) with multi-row INSERTs ... ON CONFLICT DO NOTHING.

    Returns the number of rows inserted (rows whose ``dedupe_key`` already existed, or came earlier in
    ``rows``, are skipped).  On PostgreSQL each :data:`INSERT_BATCH` rows are one statement that unnests one
    array per column (:func:`_unnest_insert`), about twice as fast as the driver's multi-row VALUES; SQLite
    takes SQLAlchemy's insertmanyvalues batches.
    """
    inserted = await _insert_rows(session, rows)
    log.info("mail queued %d of %d (others already queued)", inserted, len(rows))
    return inserted


#: Rows per INSERT statement on PostgreSQL, and recipients rendered together by :func:`enqueue_mail_many` (so a
#: mailing to 100,000 panellists holds one batch of rendered bodies in memory at a time, about 6 MB).
INSERT_BATCH = 2000


async def _insert_rows(session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> int:
    """:func:`enqueue_many` without its log line: the number of ``rows`` inserted."""
    return await _store(session, _prepare(session.get_bind().dialect, rows))


@dataclass(frozen=True, slots=True)
class _Prepared:
    """Rows ready to store: on PostgreSQL ``arrays`` holds, per statement, one list of bound values per column
    (:func:`_unnest_insert` of ``columns``); elsewhere ``arrays`` is None and ``rows`` go as they are."""

    rows: Sequence[Mapping[str, Any]]
    columns: tuple[str, ...] = ()
    arrays: list[dict[str, list[Any]]] | None = None


def _prepare(dialect: Any, rows: Sequence[Mapping[str, Any]]) -> _Prepared:
    """``rows`` as :func:`_store` sends them to ``dialect`` (pure, so a worker thread can do it): on PostgreSQL
    their columns as lists, each value through its column type's bind processing (a value equal to the row
    before's is processed once: a mailing's rows share their timestamps, status and headers)."""
    if not rows or dialect.name != "postgresql":
        return _Prepared(rows)
    columns = tuple(rows[0])
    if any(tuple(r) != columns for r in rows):
        return _Prepared(rows)
    processors = [
        (name, _TABLE.c[name].type.dialect_impl(dialect).bind_processor(dialect)) for name in columns
    ]
    arrays = []
    for start in range(0, len(rows), INSERT_BATCH):
        batch = rows[start : start + INSERT_BATCH]
        arrays.append({name: _column(batch, name, process) for name, process in processors})
    return _Prepared(rows, columns, arrays)


def _column(rows: Sequence[Mapping[str, Any]], name: str, process: Callable[[Any], Any] | None) -> list[Any]:
    values = [r[name] for r in rows]
    if process is None:
        return values
    out: list[Any] = []
    last: Any = _UNSET
    done: Any = None
    for value in values:
        if value is not last and (type(value) is not type(last) or value != last):
            last, done = value, process(value)
        out.append(done)
    return out


_UNSET = object()


async def _store(session: AsyncSession, prepared: _Prepared) -> int:
    """Insert :func:`_prepare`'s rows, skipping known dedupe keys; returns how many were inserted."""
    if not prepared.rows:
        return 0
    if prepared.arrays is not None:
        statement = _unnest_insert(prepared.columns)
        inserted = 0
        for params in prepared.arrays:
            inserted += (await session.execute(statement, params)).rowcount
        return inserted
    stmt = (
        _insert_for(session)
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
        .returning(_TABLE.c.id, sort_by_parameter_order=False)
    )
    result = await session.execute(stmt, [dict(r) for r in prepared.rows])
    return len(result.all())


async def _render_while_inserting(
    session: AsyncSession,
    batches: Sequence[tuple[list[Recipient], PanelMail]],
    rendered: Callable[[list[Recipient], PanelMail], list[dict[str, Any]]],
) -> int:
    """Insert ``rendered(*batch)`` for each of ``batches`` in order; returns the rows inserted.

    Each batch is rendered (and its rows prepared for the driver, :func:`_prepare`) in a worker thread while
    the database stores the previous one, so a mailing to a whole panel costs about the longer of rendering
    and storing rather than both.  Only the INSERTs use the session, one at a time; the rendering touches no
    database object (recipients carry plain contexts).  When a rendering fails, the INSERT in flight is
    awaited first and the error then raised, so the session is never left mid-statement.
    """
    dialect = session.get_bind().dialect

    def prepared(batch: list[Recipient], how: PanelMail) -> _Prepared:
        return _prepare(dialect, rendered(batch, how))

    inserted = 0
    storing: asyncio.Task[int] | None = None
    try:
        for batch in batches:
            ready = await asyncio.to_thread(prepared, *batch)
            if storing is not None:
                inserted += await storing
            storing = asyncio.ensure_future(_store(session, ready))
            del ready
        if storing is not None:
            inserted += await storing
            storing = None
    finally:
        if (
            storing is not None
        ):  # a rendering failed: the INSERT in flight finishes before the error is raised
            with contextlib.suppress(Exception):
                await storing
    return inserted


@functools.lru_cache(maxsize=8)
def _unnest_insert(columns: tuple[str, ...]) -> TextClause:
    """``INSERT INTO outbox_messages (columns) SELECT * FROM unnest(:column_1, ...) ON CONFLICT (dedupe_key)
    DO NOTHING`` on PostgreSQL: each bound parameter is the list of one column's values, already through the
    column type's bind processing (a JSON column's values as JSON text, cast back per row)."""
    from sqlalchemy.dialects import postgresql

    pg = postgresql.dialect()
    arrays, values = [], []
    for name in columns:
        column_type = _TABLE.c[name].type
        if isinstance(column_type, JSON):
            arrays.append(f"CAST(:{name} AS TEXT[])")
            values.append(f"CAST({name} AS JSON)")
        else:
            arrays.append(f"CAST(:{name} AS {column_type.compile(dialect=pg)}[])")
            values.append(name)
    names = ", ".join(columns)
    return text(
        f"INSERT INTO {_TABLE.name} ({names}) SELECT {', '.join(values)} "
        f"FROM unnest({', '.join(arrays)}) AS batch({names}) ON CONFLICT (dedupe_key) DO NOTHING"
    )


@dataclass(frozen=True, slots=True)
class PanelMail:
    """How a panel writes one kind of mail to its panellists: its own ``wording`` (None: the shipped text) and
    the ``sender_name`` it goes out under (None: ``DELPHI_MAIL_FROM`` as it is)."""

    wording: Wording | None = None
    sender_name: str | None = None

    @property
    def headers(self) -> dict[str, str]:
        """The row headers that carry the sender name to delivery."""
        return {SENDER_NAME: self.sender_name} if self.sender_name else {}


async def panel_mail(
    session: AsyncSession, panel_id: int | None, kind: str, texts: PanelTexts | None = None
) -> PanelMail:
    """The panel's wording of ``kind`` and its sender name, for a reader of ``texts``' language (None: as
    written); the shipped text and sender for no panel.

    The panel usually is in the session already (no query); the wording is one query, made only for a kind a
    panel may word itself (:data:`delphi.mail.texts.EDITABLE_KINDS`).
    """
    if panel_id is None:
        return PanelMail()
    panel = await session.get(Panel, panel_id)
    if panel is None:
        return PanelMail()
    return mail_in_language(panel, kind, await _own_wording(session, panel_id, kind), texts)


async def _own_wording(session: AsyncSession, panel_id: int, kind: str) -> Wording | None:
    if kind not in EDITABLE_KINDS:
        return None
    row = await session.scalar(select(MailText).where(MailText.panel_id == panel_id, MailText.kind == kind))
    return Wording(row.subject, row.body) if row is not None else None


def mail_in_language(panel: Panel, kind: str, wording: Wording | None, texts: PanelTexts | None) -> PanelMail:
    """:class:`PanelMail` of ``kind`` for a reader of ``texts``' language, from the panel's primary ``wording``:
    its translation where one fits (else the primary wording, with a warning in the log), and the neutral
    sender name in that language."""
    chosen = mail_texts.in_language(kind, wording, texts)
    if chosen is wording and wording is not None and texts is not None and not texts.is_primary:
        if texts.mail(kind, wording.subject, wording.body) != (wording.subject, wording.body):
            log.warning(
                "the %s translation of the panel's own %s text no longer fits the mail; the primary wording "
                "is sent",
                getattr(texts, "language", "?"),
                kind,
            )
    return PanelMail(chosen, sender_name(in_language(panel, texts)))


def panellist_context(context: Mapping[str, Any]) -> dict[str, Any]:
    """``context`` plus ``link`` and ``withdraw_link`` set to the placeholders (unless already given)."""
    return {"link": LINK_PLACEHOLDER, "withdraw_link": WITHDRAW_PLACEHOLDER, **context}


@dataclass(frozen=True, slots=True)
class Recipient:
    """One addressee of a mail: where it goes, its dedupe key and its own part of the context."""

    to_address: str
    dedupe_key: str
    context: Mapping[str, Any] = field(default_factory=dict)
    language: str = "en"
    panellist_id: int | None = None


def _context(person: Recipient, common: Mapping[str, Any]) -> dict[str, Any]:
    """``common`` overlaid with the person's context, plus the link placeholders for a panellist."""
    ctx = {**common, **person.context}
    return panellist_context(ctx) if person.panellist_id is not None else ctx


def _mail_row(
    kind: MailKind,
    person: Recipient,
    mail: RenderedMail,
    panel_id: int | None,
    round_id: int | None,
    now: datetime | None = None,
    headers: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The :func:`outbox_row` of ``kind`` rendered as ``mail`` for ``person``."""
    return outbox_row(
        headers=headers,
        dedupe_key=person.dedupe_key,
        kind=kind.name,
        to_address=person.to_address,
        subject=mail.subject,
        body_text=mail.text,
        body_html=mail.html,
        panel_id=panel_id,
        round_id=round_id,
        panellist_id=person.panellist_id,
        now=now,
    )


async def enqueue_mail(
    session: AsyncSession,
    kind: MailKind,
    context: Mapping[str, Any],
    *,
    to_address: str,
    dedupe_key: str,
    language: str = "en",
    panel_id: int | None = None,
    round_id: int | None = None,
    panellist_id: int | None = None,
    link_id: int | None = None,
    renderer: MailRenderer | None = None,
    texts: PanelTexts | None = None,
) -> bool:
    """Render ``kind``'s template triple with ``context`` (in ``language``) and queue it; see :func:`enqueue`.

    For a mail to a panellist (``panellist_id`` given) the context gets ``link`` and ``withdraw_link`` as
    placeholders, and the panel's own wording and sender name apply (:func:`panel_mail`), translated by
    ``texts`` (the panel's texts in ``language``; None: as written); for a mail carrying a one-time link
    (``link_id`` given), ``link`` is :data:`ONE_TIME_LINK_PLACEHOLDER`.  ``kind.name`` is stored as the
    message's kind.
    """
    if link_id is not None:
        context = {"link": ONE_TIME_LINK_PLACEHOLDER, **context}
    person = Recipient(to_address, dedupe_key, context, language, panellist_id)
    how = await panel_mail(session, panel_id, kind.name, texts) if panellist_id is not None else PanelMail()
    mail = (renderer or default_renderer()).render(kind.name, _context(person, {}), language, how.wording)
    row = _mail_row(kind, person, mail, panel_id, round_id, headers=how.headers)
    return await enqueue(session, {**row, "link_id": link_id})


async def enqueue_mail_many(
    session: AsyncSession,
    kind: MailKind,
    recipients: Iterable[Recipient],
    *,
    common: Mapping[str, Any] | None = None,
    panel_id: int | None = None,
    round_id: int | None = None,
    renderer: MailRenderer | None = None,
    texts: Mapping[str, PanelTexts] | None = None,
) -> int:
    """Render ``kind``'s template triple for each recipient (``common`` merged under each recipient's context) and
    queue them with one INSERT per batch; returns the number of rows inserted.  For opening a round to a whole
    panel: see :meth:`MailRenderer.render_many` for why 10,000 renderings are cheap.  Mail to panellists uses
    the panel's own wording and sender name (:func:`panel_mail`, loaded once for the whole batch), in each
    recipient's language: ``texts`` maps a language tag (:func:`delphi.locale.language_tag` of
    :attr:`Recipient.language`) to the panel's texts in it; a language it lacks (or None) gets them as written.
    Recipients are rendered one language group at a time, :data:`INSERT_BATCH` at a time (one
    :meth:`~MailRenderer.render_many` call and one INSERT per batch), so only one batch of rendered mail is held
    in memory whatever the number of recipients.
    """
    renderer = renderer or default_renderer()
    base = dict(common or {})
    now = utcnow()
    people = list(recipients)
    panel = None
    wording = None
    if panel_id is not None and any(r.panellist_id is not None for r in people):
        panel = await session.get(Panel, panel_id)
        wording = await _own_wording(session, panel_id, kind.name) if panel is not None else None
    tags: dict[str, str] = {}  # Recipient.language -> its tag, worked out once per distinct value
    by_language: dict[str, list[Recipient]] = {}
    for r in people:
        tag = tags.get(r.language)
        if tag is None:
            tag = tags[r.language] = language_tag(r.language)
        by_language.setdefault(tag, []).append(r)

    def rendered(batch: list[Recipient], how: PanelMail) -> list[dict[str, Any]]:
        """The outbox rows of ``batch`` (one language), rendered with ``how``."""
        mails = renderer.render_many(kind.name, [(_context(r, base), r.language) for r in batch], how.wording)
        return [
            _mail_row(
                kind, r, mail, panel_id, round_id, now, how.headers if r.panellist_id is not None else None
            )
            for r, mail in zip(batch, mails, strict=True)
        ]

    batches = []
    for tag, group in by_language.items():
        how = (
            mail_in_language(panel, kind.name, wording, (texts or {}).get(tag))
            if panel is not None
            else PanelMail()
        )
        batches += [(group[i : i + INSERT_BATCH], how) for i in range(0, len(group), INSERT_BATCH)]
    if len(batches) == 1:
        inserted = await _insert_rows(session, rendered(*batches[0]))
    else:
        inserted = await _render_while_inserting(session, batches, rendered)
    log.info("mail queued %d of %d (others already queued)", inserted, len(people))
    return inserted
