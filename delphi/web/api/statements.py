"""API of a panel's statements: read one, add, edit, move, add to or drop from the draft round, delete, and
import many (previewed first), for the panel's editors.

The same use cases as the statements page (:mod:`delphi.panels.statements`), so the same rules, messages and
audit events: text and section with their spacing collapsed, every problem of a refused statement at once
(422); a statement already asked in an opened round is not edited in place but reworded (a new version in the
draft round, answered with its new id), and refused (409) while no round is being prepared; deleting only
before round 1 opens (409 after).

Moving a statement is one place up or down at a time, as the page's arrows move it (``{"direction": "up"}``),
in the panel's order and the draft round's alike; the first moved up or the last moved down stays where it is.
A statement joins or leaves the round being prepared with ``{"include": true | false}`` (409 while no round is
being prepared, and for joining a round 1 that asks open questions).

The import takes the file's text as a JSON string and reads it with the page's parser
(:func:`delphi.panels.statements.preview_statement_import`): without ``confirm`` the preview, nothing stored;
with ``confirm`` the import (201), or a 422 listing every problem with its line and nothing stored.  The body
may be as large as the page's upload (the app's request limit, 5 MiB, answered 413 beyond) and a file holds at
most :data:`delphi.panels.imports.MAX_ROWS` statements.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from litestar import Response, delete, get, patch, post
from litestar.openapi.datastructures import ResponseSpec
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import Account, Statement
from delphi.domain import Actor
from delphi.panels import imports
from delphi.panels import statements as use
from delphi.web import schemas
from delphi.web.api.problems import CONFLICT, PROBLEMS, problem_spec
from delphi.web.guards import PanelAccess
from delphi.web.schemas import RowId

INVALID = {422: problem_spec("The statement or the file is not acceptable; `errors` lists every problem.")}
#: Refusals by the panel's state: finished, an open round 1, a statement asked with no round being prepared,
#: a deletion after round 1 opened.
REFUSED = {409: problem_spec("Not possible in the panel's current state; `detail` says why and what to do.")}

#: Characters of a file's text the import takes: the app's request limit (``request_max_body_size`` in
#: :mod:`delphi.app`, 5 MiB), so any file the statements page accepts as an upload fits here too.
MAX_IMPORT_CHARS = 5 * 1024 * 1024

_TEXT = (
    f"The statement, 1 to {imports.MAX_STATEMENT} characters once its spacing is collapsed "
    "(anything else is a 422 naming the field)."
)
_SECTION = "The section it belongs to, at most 200 characters once its spacing is collapsed; empty for none."


class NewStatement(msgspec.Struct, forbid_unknown_fields=True):
    """The body of a new statement; it joins the round being prepared, if there is one."""

    text: Annotated[str, msgspec.Meta(description=_TEXT)]
    section: Annotated[str, msgspec.Meta(description=_SECTION)] = ""


class StatementEdit(msgspec.Struct, forbid_unknown_fields=True):
    """The body of an edit: the fields to change; one left out keeps its value."""

    text: Annotated[str, msgspec.Meta(description=_TEXT)] | msgspec.UnsetType = msgspec.UNSET
    section: Annotated[str, msgspec.Meta(description=_SECTION)] | msgspec.UnsetType = msgspec.UNSET


class StatementMove(msgspec.Struct, forbid_unknown_fields=True):
    """The body of a move: one place up or down in the panel's order (and the draft round's)."""

    direction: Annotated[
        Literal["up", "down"],
        msgspec.Meta(
            description="`up`: swap with the statement before it; `down`: with the one after it. The first "
            "statement moved up, or the last moved down, stays where it is (answered 200, nothing recorded)."
        ),
    ]


class StatementDraftChoice(msgspec.Struct, forbid_unknown_fields=True):
    """Whether the round being prepared asks the statement; sending what is already so changes nothing."""

    include: Annotated[
        bool,
        msgspec.Meta(
            description="True (the default): the draft round asks it (a statement retired after a verdict "
            "becomes active again). False: the draft round no longer asks it."
        ),
    ] = True


class StatementInDraft(msgspec.Struct):
    """The statement after the choice, the draft round's number and whether it now asks the statement."""

    round: int
    in_draft: bool
    statement: schemas.Statement


class StatementImport(msgspec.Struct, forbid_unknown_fields=True):
    """The body of an import: a file's text, as the statements page takes it (a CSV with a ``statement`` or
    ``text`` column and an optional ``section`` one, separated by commas, semicolons or tabs; or one statement
    per line, ``# Section`` lines naming the section of the lines after them)."""

    csv: Annotated[
        str,
        msgspec.Meta(
            description="The file's text. Line numbers in problems count every line, header and blank ones too.",
            max_length=MAX_IMPORT_CHARS,
        ),
    ]
    confirm: Annotated[
        bool,
        msgspec.Meta(
            description="False (the default): only the preview. True: import, if no line has a problem."
        ),
    ] = False


class StatementImportRow(msgspec.Struct):
    """A statement the import would add, as it would be stored."""

    line: int
    section: str
    text: str


class StatementImportProblem(msgspec.Struct):
    """``field`` is ``"line N"`` (``"file"`` for a problem of the whole file), as in a 422's ``errors``."""

    field: str
    message: str


class StatementImportPreview(msgspec.Struct):
    """What the import would do, nothing stored: ``rows`` without problems (imported only when ``ready``),
    every problem with its line, ``notes`` that block nothing (a column that is not imported), and ``ready``
    when there are rows and no problem."""

    rows: list[StatementImportRow]
    problems: list[StatementImportProblem]
    notes: list[str]
    ready: bool


class StatementsImported(msgspec.Struct):
    """The statements the import added, in the file's order."""

    imported: list[schemas.Statement]


def _clean(text: str) -> str:
    """The text as the statements page's form reads it: without NUL characters (which no database column
    takes)."""
    return text.replace("\x00", "")


def statement_schema(s: Statement) -> schemas.Statement:
    return schemas.Statement(
        s.id,
        s.section,
        s.text,
        s.position,
        s.version,
        s.parent_id,
        s.origin,
        s.origin_round,
        s.status,
        s.status_round,
    )


def _url(access: PanelAccess, statement_id: int | None = None) -> str:
    """The API address of the panel's statements, or of one of them."""
    base = f"/api/v1/panels/{access.panel.id}/statements"
    return base if statement_id is None else f"{base}/{statement_id}"


@get(
    "/panels/{panel_id:int}/statements/{statement_id:int}",
    responses=PROBLEMS,
    summary="A statement or rewording",
)
async def get_statement(
    panel_access: PanelAccess, statement_id: RowId, db_session: AsyncSession
) -> schemas.Statement:
    return statement_schema(await use.get_statement(db_session, panel_access.panel, statement_id))


@post(
    "/panels/{panel_id:int}/statements",
    status_code=201,
    responses={**PROBLEMS, **REFUSED, **INVALID},
    summary="Add a statement (facilitators; it joins the round being prepared)",
)
async def add_statement(
    panel_access: PanelAccess, data: NewStatement, db_session: AsyncSession, account: Account
) -> Response[schemas.Statement]:
    statement = await use.add_statement(
        db_session, panel_access.panel, _clean(data.text), _clean(data.section), Actor.account(account)
    )
    await db_session.flush()
    return Response(
        statement_schema(statement),
        status_code=201,
        headers={"Location": _url(panel_access, statement.id)},
    )


@patch(
    "/panels/{panel_id:int}/statements/{statement_id:int}",
    responses={**PROBLEMS, **REFUSED, **INVALID},
    summary="Edit a statement (facilitators; one already asked is reworded: a new version, a new id)",
)
async def edit_statement(
    panel_access: PanelAccess,
    statement_id: RowId,
    data: StatementEdit,
    db_session: AsyncSession,
    account: Account,
) -> schemas.Statement:
    """The statement as it now is: the same id when edited in place, the new version's (``parent_id`` the
    edited one) when it had been asked in an opened round and the round being prepared asks the new one."""
    panel = panel_access.panel
    current = await use.get_statement(db_session, panel, statement_id)
    text = current.text if data.text is msgspec.UNSET else _clean(data.text)
    section = current.section if data.section is msgspec.UNSET else _clean(data.section)
    statement = await use.edit_statement(
        db_session, panel, statement_id, text, section, Actor.account(account)
    )
    await db_session.flush()
    return statement_schema(statement)


@delete(
    "/panels/{panel_id:int}/statements/{statement_id:int}",
    responses={**PROBLEMS, **CONFLICT},
    summary="Delete a statement (facilitators; only before round 1 opens)",
)
async def delete_statement(
    panel_access: PanelAccess, statement_id: RowId, db_session: AsyncSession, account: Account
) -> None:
    await use.delete_statement(db_session, panel_access.panel, statement_id, Actor.account(account))
    await db_session.flush()


@post(
    "/panels/{panel_id:int}/statements/{statement_id:int}/move",
    status_code=200,
    responses=PROBLEMS,
    summary="Move a statement one place up or down (facilitators)",
)
async def move_statement(
    panel_access: PanelAccess,
    statement_id: RowId,
    data: StatementMove,
    db_session: AsyncSession,
    account: Account,
) -> schemas.Statement:
    """The statement with its new ``position`` (0 first; its neighbour took its old place)."""
    panel = panel_access.panel
    step = -1 if data.direction == "up" else 1
    await use.move_statement(db_session, panel, statement_id, step, Actor.account(account))
    await db_session.flush()
    return statement_schema(await use.get_statement(db_session, panel, statement_id))


@post(
    "/panels/{panel_id:int}/statements/{statement_id:int}/draft",
    status_code=200,
    responses={**PROBLEMS, **REFUSED},
    summary="Add a statement to the draft round, or drop it from it (facilitators)",
)
async def set_statement_in_draft(
    panel_access: PanelAccess,
    statement_id: RowId,
    data: StatementDraftChoice,
    db_session: AsyncSession,
    account: Account,
) -> StatementInDraft:
    """409 while no round is being prepared, or when a round 1 asking open questions is (statements are
    made from its answers for round 2)."""
    panel = panel_access.panel
    await use.set_in_draft(db_session, panel, statement_id, data.include, Actor.account(account))
    await db_session.flush()
    draft = await use.draft_round(db_session, panel.id)
    assert draft is not None  # set_in_draft refused otherwise
    return StatementInDraft(
        round=draft.number,
        in_draft=data.include,
        statement=statement_schema(await use.get_statement(db_session, panel, statement_id)),
    )


def _preview_schema(parsed: imports.ParsedImport) -> StatementImportPreview:
    return StatementImportPreview(
        rows=[StatementImportRow(r.line, r.section, r.text) for r in parsed.rows],
        problems=[
            StatementImportProblem(f"line {line}" if line else "file", msg) for line, msg in parsed.problems
        ],
        notes=list(parsed.notes),
        ready=parsed.ok,
    )


@post(
    "/panels/{panel_id:int}/statements/import",
    responses={
        **PROBLEMS,
        **REFUSED,
        **INVALID,
        200: ResponseSpec(
            StatementImportPreview, description="Without `confirm`: the preview; nothing is stored."
        ),
        201: ResponseSpec(
            StatementsImported, description="With `confirm` and no problem: the statements added."
        ),
    },
    summary="Import statements from a file's text: preview, then confirm (facilitators)",
)
async def import_statements(
    panel_access: PanelAccess, data: StatementImport, db_session: AsyncSession, account: Account
) -> Response[StatementImportPreview | StatementsImported]:
    """The preview (200) lists every row as it would be stored and every problem with its line; confirmed,
    the statements are added one by one as :func:`delphi.panels.statements.add_statement` adds them (one
    audit event each), or none when any line has a problem (422, every problem in ``errors``)."""
    panel = panel_access.panel
    if not data.confirm:
        return Response(
            _preview_schema(await use.preview_statement_import(db_session, panel, data.csv)), status_code=200
        )
    added = await use.import_statements(db_session, panel, data.csv, Actor.account(account))
    await db_session.flush()
    return Response(
        StatementsImported([statement_schema(s) for s in added]),
        status_code=201,
        headers={"Location": _url(panel_access)},
    )


HANDLERS: list[Any] = [
    get_statement,
    add_statement,
    edit_statement,
    delete_statement,
    move_statement,
    set_statement_in_draft,
    import_statements,
]
