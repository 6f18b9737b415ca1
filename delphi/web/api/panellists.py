"""API of a panel's panellists: add one, import a CSV of them (previewed first), give one a new personal link.

The same use cases as the panellists page (:mod:`delphi.web.roster`), so the checks, messages, audit events
and mails are the page's:

* adding (:func:`delphi.panels.panellists.add_panellist`) and importing
  (:func:`~delphi.panels.panellists.preview_panellist_import`, then
  :func:`~delphi.panels.panellists.import_panellists_in_chunks`) are for every editor; a panellist added while
  a round is open gets that round's invitation at once (:mod:`delphi.rounds.mailing`), one added while the
  panel is still being set up gets nothing until round 1 opens;
* a new link (:func:`delphi.panels.links.reissue_link`) stops the old one and every session made with it, and
  is mailed with the open round's invitation (none when no round is open: it goes with the next round's mail).

All three take an ``Idempotency-Key`` (:mod:`delphi.web.api.idempotency`): a script that lost the answer sends
the same request with the same key and gets the first answer, with no second panellist, mail or audit event.

Erasing a panellist's personal data (:func:`~delphi.panels.panellists.erase_panellist`, the owner only, as on
the page) takes ``{"confirm": true}``: without it nothing is erased (422).

Who sees panellists' e-mail addresses and names is ``panel_access.sees_contacts`` (the owner, and facilitators
with the "contact panellists" grant), as in ``GET .../panellists``: everyone else gets ``null`` in a
:class:`~delphi.web.schemas.Panellist`.  The import preview, like the page's, shows the file's own rows back to
the editor who sent it.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get, post
from litestar.datastructures import ResponseHeader
from litestar.openapi.datastructures import ResponseSpec
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import Account, Panel, Panellist
from delphi.domain import Actor
from delphi.errors import InvalidInput, NotFound
from delphi.panels import imports
from delphi.panels.links import preview_new_link, reissue_link
from delphi.panels.panellists import (
    add_panellist,
    erase_panellist,
    get_panellist,
    import_panellists_in_chunks,
    preview_panellist_import,
)
from delphi.rounds import mailing
from delphi.settings import Settings
from delphi.web import schemas
from delphi.web.api.idempotency import IdempotencyKeyHeader, once
from delphi.web.api.problems import CONFLICT, PROBLEMS, problem_spec
from delphi.web.guards import OWNERS_ONLY, PanelAccess
from delphi.web.schemas import MAX_ID, RowId

#: The longest CSV text the import takes (the app's request body limit, 5 MiB).
MAX_CSV_CHARS = 5 * 1024 * 1024

INVALID = {422: problem_spec("Refused: `errors` lists every problem (nothing was stored).")}
LOCATION = [
    ResponseHeader(
        name="Location",
        description="The new panellist's URL under /api/v1.",
        documentation_only=True,
    )
]


class NewPanellist(msgspec.Struct, forbid_unknown_fields=True):
    """One panellist to add: ``email`` new to the panel (stored in lower case), ``group_id`` one of the panel's
    stakeholder groups, ``name`` optional, ``language`` the tag of the language they read (``en``, ``pt-BR``)."""

    email: Annotated[str, msgspec.Meta(min_length=3, max_length=320, pattern=imports.EMAIL_RE.pattern)]
    group_id: Annotated[int, msgspec.Meta(ge=1, le=MAX_ID)]
    name: Annotated[str, msgspec.Meta(max_length=200)] = ""
    language: Annotated[str, msgspec.Meta(max_length=12, pattern=imports.LANG_RE.pattern)] = "en"


class PanellistImport(msgspec.Struct, forbid_unknown_fields=True):
    """A panellist CSV (columns ``email, group`` and optional ``name, language``; comma, semicolon or tab;
    ``group`` by name), as its text.  ``confirm`` false: the preview, nothing stored; true: the import."""

    csv: Annotated[str, msgspec.Meta(max_length=MAX_CSV_CHARS)]
    confirm: bool = False


class ImportRow(msgspec.Struct):
    """A row of the file that can be imported, as it would be stored; ``line`` counts the header as line 1."""

    line: int
    email: str
    group: str
    name: str
    language: str


class ImportProblem(msgspec.Struct):
    """A problem of the file: ``field`` is ``line <n>`` (``line 0`` for the file as a whole)."""

    field: str
    message: str


class ImportPreview(msgspec.Struct):
    """What importing the file would do, nothing stored: the ``rows`` ready to import, every ``problem`` (any
    problem blocks the whole import), ``skipped`` rows that are on the panel already exactly as in the file
    (an earlier import added them; they are not imported again), ``notes`` that block nothing (a column that is
    not imported).  ``ready``: there are rows to import and no problem."""

    rows: list[ImportRow]
    problems: list[ImportProblem]
    skipped: int
    notes: list[str]
    ready: bool


class Imported(msgspec.Struct):
    """What the import did: panellists ``imported``, rows ``skipped`` (on the panel already), and ``invited``,
    the invitations queued because a round is open (0 while the panel is being set up)."""

    imported: int
    skipped: int
    invited: int


class NewLink(msgspec.Struct):
    """The panellist, whose old link no longer works; ``mailed``: the new link went out now with the
    invitation to ``open_round``; false when no round is open (it goes with the next round's e-mail) or the
    panellist has no e-mail address."""

    panellist: schemas.Panellist
    mailed: bool
    open_round: int | None


class Erasure(msgspec.Struct, forbid_unknown_fields=True):
    """The owner's confirmation that a panellist's personal data goes for good."""

    confirm: Annotated[
        bool,
        msgspec.Meta(
            description="True erases; false or left out erases nothing (a 422 saying what would go)."
        ),
    ] = False
    delete_ratings: Annotated[
        bool,
        msgspec.Meta(
            description="Also delete their ratings and submissions; false keeps them, under the pseudonym "
            "only."
        ),
    ] = False


class Erased(msgspec.Struct):
    """The panellist after erasure: ``email`` and ``name`` null, ``status`` withdrawn, the pseudonym kept so
    published results do not change; ``ratings_deleted`` as asked."""

    panellist: schemas.Panellist
    ratings_deleted: bool


def panellist_schema(p: Panellist, sees_contacts: bool) -> schemas.Panellist:
    """``p`` as the API shows it; e-mail and name only to a caller who ``sees_contacts``."""
    return schemas.Panellist(
        id=p.id,
        pseudonym=p.pseudonym,
        group_id=p.group_id,
        status=str(p.status),
        email=p.email if sees_contacts else None,
        name=p.name if sees_contacts else None,
    )


def preview_schema(parsed: imports.ParsedImport) -> ImportPreview:
    """The page's preview (:func:`~delphi.panels.panellists.preview_panellist_import`) as JSON."""
    return ImportPreview(
        rows=[ImportRow(r.line, r.email, r.group, r.name, r.language) for r in parsed.rows],
        problems=[ImportProblem(f"line {line}", message) for line, message in parsed.problems],
        skipped=len(parsed.skipped),
        notes=list(parsed.notes),
        ready=parsed.ok,
    )


async def _panellist(session: AsyncSession, panel: Panel, panellist_id: int) -> Panellist:
    """The panel's panellist ``panellist_id``; a 404 when the panel has none of that id."""
    try:
        return await get_panellist(session, panel, panellist_id)
    except InvalidInput as exc:
        raise NotFound(exc.message) from None


@get(
    "/panels/{panel_id:int}/panellists/{panellist_id:int}",
    responses=PROBLEMS,
    summary="One panellist (e-mail and name only for the owner and facilitators who may contact panellists)",
)
async def get_one(
    panel_access: PanelAccess, panellist_id: RowId, db_session: AsyncSession
) -> schemas.Panellist:
    p = await _panellist(db_session, panel_access.panel, panellist_id)
    return panellist_schema(p, panel_access.sees_contacts)


@post(
    "/panels/{panel_id:int}/panellists",
    responses={**PROBLEMS, **CONFLICT, **INVALID},
    response_headers=LOCATION,
    summary="Add a panellist (invited at once when a round is open)",
)
async def add(
    panel_access: PanelAccess,
    data: NewPanellist,
    request: Request,
    db_session: AsyncSession,
    settings: Settings,
    account: Account,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Response[schemas.Panellist]:
    """201 with the new panellist and its ``Location``; 422 when the e-mail is on the panel already or the
    group is none of the panel's."""
    panel = panel_access.panel
    added: list[int] = []

    async def run() -> schemas.Panellist:
        p = await add_panellist(
            db_session,
            panel,
            email=data.email,
            group_id=data.group_id,
            name=data.name,
            language=data.language,
            secret_key=settings.secret_key,
            actor=Actor.account(account),
        )
        await mailing.invite_late_joiner(db_session, panel, p)
        await db_session.flush()
        added.append(p.id)
        return panellist_schema(p, panel_access.sees_contacts)

    response = await once(request, db_session, account, idempotency_key, 201, run)
    # A retry's answer is the first one's JSON as sent: the panellist's id is read back from it.
    panellist_id = added[0] if added else msgspec.json.decode(response.content)["id"]
    response.headers["Location"] = f"/api/v1/panels/{panel.id}/panellists/{panellist_id}"
    return response


@post(
    "/panels/{panel_id:int}/panellists/import",
    status_code=200,
    responses={
        **PROBLEMS,
        **CONFLICT,
        **INVALID,
        201: ResponseSpec(Imported, description="Imported (confirm true): what was done."),
    },
    summary="Import panellists from a CSV: the preview (confirm false), or the import (confirm true)",
)
async def import_csv(
    panel_access: PanelAccess,
    data: PanellistImport,
    request: Request,
    db_session: AsyncSession,
    settings: Settings,
    account: Account,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Response[ImportPreview]:
    """``confirm`` false: 200 and the preview (:class:`ImportPreview`), nothing stored.  ``confirm`` true: 201
    and what was done (:class:`Imported`), or 422 listing every problem with nothing stored.  The rows are
    written a chunk at a time, each chunk committed with its invitations, so a live round's saves go on
    meanwhile (see :func:`~delphi.panels.panellists.import_panellists_in_chunks`); an import stopped half-way
    keeps its whole chunks, and the same file sent again (with a new key) imports the rest."""
    panel = panel_access.panel

    async def run() -> ImportPreview | Imported:
        parsed = await preview_panellist_import(db_session, panel, data.csv)
        if not data.confirm:
            return preview_schema(parsed)
        invited: list[int] = []

        async def invite(session: AsyncSession, created: list[Panellist]) -> None:
            invited.append(await mailing.invite_late_joiners(session, panel, created))

        done = await import_panellists_in_chunks(
            db_session,
            panel,
            parsed,
            secret_key=settings.secret_key,
            actor=Actor.account(account),
            on_chunk=invite,
        )
        return Imported(imported=done.imported, skipped=done.skipped, invited=sum(invited))

    return await once(request, db_session, account, idempotency_key, 201 if data.confirm else 200, run)


@post(
    "/panels/{panel_id:int}/panellists/{panellist_id:int}/reissue",
    status_code=200,
    responses={**PROBLEMS, **CONFLICT},
    summary="Give a panellist a new personal link: the old one stops working, the new one is mailed",
)
async def reissue(
    panel_access: PanelAccess,
    panellist_id: RowId,
    request: Request,
    db_session: AsyncSession,
    settings: Settings,
    account: Account,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Response[NewLink]:
    """200 with the panellist and whether the new link went out now (a round open); 404 for a panellist
    of another panel.  Takes no body."""
    panel = panel_access.panel

    async def run() -> NewLink:
        p = await _panellist(db_session, panel, panellist_id)
        preview = await preview_new_link(db_session, p)
        await reissue_link(db_session, p, settings, Actor.account(account))
        await mailing.invite_late_joiner(db_session, panel, p, reissued=True)
        await db_session.flush()
        return NewLink(
            panellist=panellist_schema(p, panel_access.sees_contacts),
            mailed=preview.open_round is not None and bool(p.email),
            open_round=preview.open_round,
        )

    return await once(request, db_session, account, idempotency_key, 200, run)


@post(
    "/panels/{panel_id:int}/panellists/{panellist_id:int}/erase",
    status_code=200,
    opt=OWNERS_ONLY,
    responses={**PROBLEMS, **INVALID},
    summary="Erase a panellist's personal data: e-mail address, name and link (the owner; cannot be undone)",
)
async def erase(
    panel_access: PanelAccess,
    panellist_id: RowId,
    data: Erasure,
    db_session: AsyncSession,
    account: Account,
) -> Erased:
    """200 with the erased panellist; their link and sessions stop working and mail queued for them is
    cancelled.  404 for a panellist of another panel; 422 without ``confirm``, nothing erased.  A panellist
    erased before may be erased again (only their ratings are left to delete, if asked), as on the page."""
    panel = panel_access.panel
    p = await _panellist(db_session, panel, panellist_id)
    if not data.confirm:
        what = "e-mail address, name and personal link" + (", ratings" if data.delete_ratings else "")
        message = f"Erasing {p.pseudonym}'s {what} cannot be undone: send confirm true to erase."
        raise InvalidInput(message, field="confirm")
    await erase_panellist(
        db_session, panel, p.id, delete_ratings=data.delete_ratings, actor=Actor.account(account)
    )
    await db_session.flush()
    return Erased(panellist_schema(p, panel_access.sees_contacts), data.delete_ratings)


HANDLERS: list[Any] = [get_one, add, import_csv, reissue, erase]
