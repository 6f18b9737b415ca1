"""A panel's panellists: add one, import a CSV of them (previewed first), erase one's personal data.

Each panellist gets a random pseudonym unique on the panel and a link token whose digest is stored at once.
Each function checks its input, changes rows in the caller's session, writes an audit event and never commits,
except :func:`import_panellists_in_chunks`, which commits the caller's session after each chunk of rows.

**Large imports** (up to :data:`delphi.panels.imports.MAX_ROWS` rows) are checked whole first (every problem
listed, nothing written), then written :data:`CHUNK_ROWS` rows a transaction, each committed before the next
starts, so that a live round's saves get the database's write lock between chunks (on SQLite one lock guards
the whole file).  Every transaction that adds panellists first takes the panel's roster lock
(:func:`_lock_roster`) and re-reads the pseudonyms and e-mails there, so concurrent imports and additions keep
both unique.  An import stopped half-way (the process killed) leaves whole chunks: each with its panellists,
their invitations (a round being open) and its own ``panellist.imported`` audit event (``count``, ``chunk`` of
``chunks``, ``skipped``, an ``import`` id shared by the run's events).  Uploading the same file again imports
the rest: rows on the panel already exactly as written are skipped and the preview says how many.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from delphi import audit, security
from delphi.db.dialect import dialect_name
from delphi.db.locks import begin_write
from delphi.db.models import Panel, Panellist, StakeholderGroup, utcnow
from delphi.domain import Actor, PanellistStatus
from delphi.errors import InvalidInput
from delphi.panels import imports
from delphi.panels.owned import of_panel

#: Rows written per transaction by :func:`import_panellists_in_chunks`.
CHUNK_ROWS = 500
#: SQLite only: seconds the write lock is left free after each chunk, so that a save waiting in SQLite's busy
#: handler (which polls every 100 ms once it has waited 0.3 s) takes it before the next chunk does.
SQLITE_PAUSE_S = 0.12

#: Called in each chunk's transaction with the panellists it created (e.g. to invite late joiners).
OnChunk = Callable[[AsyncSession, list[Panellist]], Awaitable[object]]


@dataclass(frozen=True, slots=True)
class ImportOutcome:
    """What :func:`import_panellists_in_chunks` did: panellists ``imported`` by this run, rows ``skipped``
    (on the panel already, before the run or written meanwhile by another import of the same rows), and
    ``chunks``, the transactions committed."""

    imported: int
    skipped: int
    chunks: int


async def _lock_roster(session: AsyncSession, panel_id: int) -> None:
    """Serialise the transactions that add panellists to a panel: SQLite's write lock (``BEGIN IMMEDIATE``),
    PostgreSQL's ``FOR NO KEY UPDATE`` of the panel row (rows referring to the panel may still be written)."""
    await begin_write(session)
    if dialect_name(session) == "postgresql":
        await session.execute(select(Panel.id).where(Panel.id == panel_id).with_for_update(key_share=True))


async def _new_pseudonym(session: AsyncSession, panel_id: int, taken: set[str] | None = None) -> str:
    """A random pseudonym P-0000 .. P-9999 (P-00000... when a panel grows past 5,000) unused on the panel."""
    if taken is None:
        taken = set(
            (await session.scalars(select(Panellist.pseudonym).where(Panellist.panel_id == panel_id))).all()
        )
    digits = 4 if len(taken) < 5_000 else 6
    while True:
        candidate = f"P-{secrets.randbelow(10**digits):0{digits}d}"
        if candidate not in taken:
            taken.add(candidate)
            return candidate


async def get_panellist(session: AsyncSession, panel: Panel, panellist_id: int) -> Panellist:
    """A panellist of ``panel``; InvalidInput when the id is of no panellist of it."""
    p = await session.get(Panellist, panellist_id)
    if p is None or p.panel_id != panel.id:
        raise InvalidInput("There is no such panellist on this panel.")
    return p


async def add_panellist(
    session: AsyncSession,
    panel: Panel,
    *,
    email: str,
    group_id: int,
    name: str = "",
    language: str = "en",
    secret_key: str,
    actor: Actor,
) -> Panellist:
    """Add one panellist; the e-mail must be new to the panel. Their link token's digest is stored at once."""
    await _lock_roster(session, panel.id)
    groups = (
        await session.scalars(select(StakeholderGroup).where(StakeholderGroup.panel_id == panel.id))
    ).all()
    by_id = {g.id: g for g in groups}
    if group_id not in by_id:
        raise InvalidInput("Choose the panellist's stakeholder group.", field="group_id")
    existing = set(
        (await session.scalars(select(Panellist.email).where(Panellist.panel_id == panel.id))).all()
    )
    parsed = imports.parse_panellists(
        f"email,group,name,language\n{_csv_cell(email)},{_csv_cell(by_id[group_id].name)},{_csv_cell(name)},"
        f"{_csv_cell(language or 'en')}\n",
        [g.name for g in groups],
        {e for e in existing if e},
    )
    if parsed.problems:
        # The row's problems, in the parser's order (e-mail, group, name, language), in one sentence: by the
        # field of the first ("x@y is on this panel already" names no "e-mail", so go by the other two).
        message = parsed.problems[0][1]
        field = next((f for f in ("name", "language") if message.startswith(f"The {f} ")), "email")
        raise InvalidInput(message, field=field)
    row = parsed.rows[0]
    (created,) = await _insert_panellists(session, panel, [row], {g.name: g.id for g in groups}, secret_key)
    audit.record(
        session,
        actor=actor,
        panel_id=panel.id,
        action="panellist.added",
        detail={"pseudonym": created.pseudonym},
    )
    return created


def _csv_cell(value: str) -> str:
    """``value`` as one quoted CSV cell."""
    return '"' + (value or "").replace('"', '""') + '"'


async def preview_panellist_import(
    session: AsyncSession, panel: Panel, data: bytes | str
) -> imports.ParsedImport:
    """Parse a panellist CSV against the panel's groups and panellists without writing anything.

    Rows on the panel already exactly as written are ``skipped`` (see :func:`imports.parse_panellists`).  The
    parsing (about a second for 20,000 rows) runs in a thread, so the event loop goes on serving meanwhile.
    """
    groups = (
        await session.scalars(select(StakeholderGroup.name).where(StakeholderGroup.panel_id == panel.id))
    ).all()
    there = (
        await session.execute(
            select(Panellist.email, StakeholderGroup.name, Panellist.name, Panellist.language)
            .join(StakeholderGroup, StakeholderGroup.id == Panellist.group_id)
            .where(Panellist.panel_id == panel.id, Panellist.email.is_not(None))
        )
    ).all()
    on_panel = {email: (group, name or "", language) for email, group, name, language in there}
    return await asyncio.to_thread(imports.parse_panellists, data, groups, (), on_panel)


def _refuse(parsed: imports.ParsedImport) -> None:
    """InvalidInput listing every problem of ``parsed`` (nothing is imported), or nothing to import at all."""
    if parsed.problems:
        errors = [(f"line {line}", msg) for line, msg in parsed.problems]
        raise InvalidInput(
            f"Nothing was imported: {len(parsed.problems)} row(s) need fixing.", field="file", errors=errors
        )
    if not parsed.rows:
        raise InvalidInput(
            f"Nothing was imported: all {len(parsed.skipped)} row(s) are on this panel already.", field="file"
        )


async def import_panellists(
    session: AsyncSession, panel: Panel, data: bytes | str, *, secret_key: str, actor: Actor
) -> list[Panellist]:
    """Import a panellist CSV in the caller's transaction; imports nothing and raises InvalidInput listing
    every bad row if any is bad.  Rows on the panel already exactly as written are skipped.  For a small file
    (the demo, tests); the web's import uses :func:`import_panellists_in_chunks`."""
    parsed = await preview_panellist_import(session, panel, data)
    _refuse(parsed)
    await _lock_roster(session, panel.id)
    created, _ = await _write_rows(session, panel, parsed.rows, secret_key)
    audit.record(
        session,
        actor=actor,
        panel_id=panel.id,
        action="panellist.imported",
        detail={"count": len(created)},
    )
    return created


async def import_panellists_in_chunks(
    session: AsyncSession,
    panel: Panel,
    parsed: imports.ParsedImport,
    *,
    secret_key: str,
    actor: Actor,
    chunk_rows: int = CHUNK_ROWS,
    on_chunk: OnChunk | None = None,
) -> ImportOutcome:
    """Import the rows of ``parsed`` (from :func:`preview_panellist_import`) ``chunk_rows`` at a time, each
    chunk in its own transaction, **committing** ``session`` after each (its pending changes go with the first).

    ``session`` must not expire objects on commit (the web's and :func:`delphi.db.engine.make_sessionmaker`'s
    do not).  Raises InvalidInput, having written nothing, when ``parsed`` has any problem or no new row.  In
    each chunk's transaction: the roster lock, the chunk's rows whose e-mail reached the panel meanwhile
    dropped (counted as skipped), the panellists added with pseudonyms and link digests, ``on_chunk`` called
    with them, one ``panellist.imported`` audit event; then the commit.  If a chunk fails, the chunks before it
    stay imported and the error propagates; uploading the file again imports the rest.
    """
    _refuse(parsed)
    if chunk_rows < 1:
        raise ValueError("chunk_rows must be at least 1")
    rows = parsed.rows
    chunks = (len(rows) + chunk_rows - 1) // chunk_rows
    run = secrets.token_hex(4)
    pause = SQLITE_PAUSE_S if dialect_name(session) == "sqlite" else 0.0
    imported, skipped = 0, len(parsed.skipped)
    for number, start in enumerate(range(0, len(rows), chunk_rows), start=1):
        await _lock_roster(session, panel.id)
        created, late = await _write_rows(session, panel, rows[start : start + chunk_rows], secret_key)
        if created and on_chunk is not None:
            await on_chunk(session, created)
        audit.record(
            session,
            actor=actor,
            panel_id=panel.id,
            action="panellist.imported",
            detail={
                "count": len(created),
                "chunk": number,
                "chunks": chunks,
                "skipped": late + (len(parsed.skipped) if number == 1 else 0),
                "import": run,
            },
        )
        await session.commit()
        imported, skipped = imported + len(created), skipped + late
        if pause and number < chunks:
            await asyncio.sleep(pause)
    return ImportOutcome(imported=imported, skipped=skipped, chunks=chunks)


async def _write_rows(
    session: AsyncSession, panel: Panel, rows: list[imports.PanellistRow], secret_key: str
) -> tuple[list[Panellist], int]:
    """Add ``rows`` (checked) under the roster lock: ``(the panellists created, rows dropped because their
    e-mail is on the panel now)``.  InvalidInput when a row's group was deleted since the file was checked."""
    groups = dict(
        (
            await session.execute(
                select(StakeholderGroup.name, StakeholderGroup.id).where(
                    StakeholderGroup.panel_id == panel.id
                )
            )
        ).all()
    )
    gone = sorted({r.group for r in rows} - set(groups))
    if gone:
        raise InvalidInput(
            f"The group(s) {', '.join(gone)} were deleted while the file was imported; upload it again.",
            field="file",
        )
    there = set(
        (
            await session.scalars(
                select(Panellist.email).where(
                    Panellist.panel_id == panel.id, Panellist.email.in_([r.email for r in rows])
                )
            )
        ).all()
    )
    fresh = [r for r in rows if r.email not in there]
    created = await _insert_panellists(session, panel, fresh, groups, secret_key) if fresh else []
    return created, len(rows) - len(fresh)


async def _insert_panellists(
    session: AsyncSession,
    panel: Panel,
    rows: list[imports.PanellistRow],
    group_ids: dict[str, int],
    secret_key: str,
) -> list[Panellist]:
    """Insert ``rows`` with new pseudonyms and link digests; the panellists, in ``rows``' order.

    Core bulk statements (multi-row INSERT ... RETURNING, one executemany UPDATE of the digests, which need
    the ids), then one SELECT of the new rows: several times faster than the unit of work for 500 rows, which
    keeps a chunk's write lock short."""
    taken = set(
        (await session.scalars(select(Panellist.pseudonym).where(Panellist.panel_id == panel.id))).all()
    )
    values = [
        {
            "panel_id": panel.id,
            "group_id": group_ids[row.group],
            "email": row.email,
            "name": row.name,
            "language": row.language,
            "pseudonym": await _new_pseudonym(session, panel.id, taken),
            "status": PanellistStatus.INVITED,
            "session_version": 1,
        }
        for row in rows
    ]
    # Matched back by e-mail (unique on the panel): ordering RETURNING by the parameters would make SQLite
    # insert row by row.
    id_of = dict(
        (await session.execute(insert(Panellist).returning(Panellist.email, Panellist.id), values)).all()
    )
    ids = [id_of[row.email] for row in rows]
    now = utcnow()
    await session.execute(
        update(Panellist),
        [
            {
                "id": pid,
                "token_hash": security.token_digest(security.panellist_token(secret_key, pid, 1)),
                "token_issued_at": now,
            }
            for pid in ids
        ],
    )
    by_id = {
        p.id: p
        for p in (
            await session.scalars(
                select(Panellist).where(Panellist.id.in_(ids)).execution_options(populate_existing=True)
            )
        ).all()
    }
    return [by_id[pid] for pid in ids]


async def erase_panellist(
    session: AsyncSession, panel: Panel, panellist_id: int, *, delete_ratings: bool, actor: Actor
) -> None:
    """Erase a panellist's personal data (e-mail, name, link); keep or delete their pseudonymous ratings.

    Queued mail to them is cancelled.  The pseudonym stays so that published results do not change.
    """
    from delphi.db.models import OutboxMessage, Rating, Submission

    p = await of_panel(session, Panellist, panellist_id, panel, "panellist")
    p.email, p.name, p.token_hash = None, "", None
    p.session_version += 1
    p.erased_at = utcnow()
    if p.status not in (PanellistStatus.WITHDRAWN,):
        p.status = PanellistStatus.WITHDRAWN
        p.withdrawn_at = p.withdrawn_at or p.erased_at
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.panellist_id == p.id, OutboxMessage.status.in_(("queued", "sending")))
        .values(status="cancelled", to_address="", body_text="", body_html="")
    )
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.panellist_id == p.id)
        .values(to_address="", body_text="", body_html="")
    )
    if delete_ratings:
        await session.execute(Rating.__table__.delete().where(Rating.panellist_id == p.id))
        await session.execute(Submission.__table__.delete().where(Submission.panellist_id == p.id))
    audit.record(
        session,
        actor=actor,
        panel_id=panel.id,
        action="panellist.erased",
        detail={"pseudonym": p.pseudonym, "ratings_deleted": delete_ratings},
    )
