"""A panel's panellists: add one, import a CSV of them (previewed first), erase one's personal data.

Each panellist gets a random pseudonym unique on the panel and a link token whose digest is stored at once.
Each function checks its input, changes rows in the caller's session, writes an audit event and never commits.
"""

from __future__ import annotations

import secrets

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from delphi import audit, security
from delphi.db.models import Panel, Panellist, StakeholderGroup, utcnow
from delphi.domain import Actor, PanellistStatus
from delphi.errors import InvalidInput
from delphi.panels import imports
from delphi.panels.owned import of_panel


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
        field = "email" if "mail" in parsed.problems[0][1] else "name"
        raise InvalidInput(parsed.problems[0][1], field=field)
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
    """Parse a panellist CSV against the panel's groups and e-mails without writing anything."""
    groups = (
        await session.scalars(select(StakeholderGroup.name).where(StakeholderGroup.panel_id == panel.id))
    ).all()
    existing = (await session.scalars(select(Panellist.email).where(Panellist.panel_id == panel.id))).all()
    return imports.parse_panellists(data, groups, {e for e in existing if e})


async def import_panellists(
    session: AsyncSession, panel: Panel, data: bytes | str, *, secret_key: str, actor: Actor
) -> list[Panellist]:
    """Import a panellist CSV; imports nothing and raises InvalidInput listing every bad row if any is bad."""
    parsed = await preview_panellist_import(session, panel, data)
    if not parsed.ok:
        errors = [(f"line {line}", msg) for line, msg in parsed.problems]
        raise InvalidInput(
            f"Nothing was imported: {len(parsed.problems)} row(s) need fixing.", field="file", errors=errors
        )
    groups = (
        await session.scalars(select(StakeholderGroup).where(StakeholderGroup.panel_id == panel.id))
    ).all()
    created = await _insert_panellists(
        session, panel, parsed.rows, {g.name: g.id for g in groups}, secret_key
    )
    audit.record(
        session,
        actor=actor,
        panel_id=panel.id,
        action="panellist.imported",
        detail={"count": len(created)},
    )
    return created


async def _insert_panellists(
    session: AsyncSession,
    panel: Panel,
    rows: list[imports.PanellistRow],
    group_ids: dict[str, int],
    secret_key: str,
) -> list[Panellist]:
    taken = set(
        (await session.scalars(select(Panellist.pseudonym).where(Panellist.panel_id == panel.id))).all()
    )
    created = []
    for row in rows:
        p = Panellist(
            panel_id=panel.id,
            group_id=group_ids[row.group],
            email=row.email,
            name=row.name,
            language=row.language,
            pseudonym=await _new_pseudonym(session, panel.id, taken),
            status=PanellistStatus.INVITED,
            session_version=1,
        )
        session.add(p)
        created.append(p)
    await session.flush()
    now = utcnow()
    for p in created:
        p.token_hash = security.token_digest(security.panellist_token(secret_key, p.id, p.session_version))
        p.token_issued_at = now
    await session.flush()
    return created


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
