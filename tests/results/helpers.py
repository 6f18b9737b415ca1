"""Helpers for web tests of the results pages and the API: sign in, CSRF tokens, a session per role."""

from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass, field

import openpyxl
from httpx import Response
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.app import CSRF_COOKIE
from delphi.db.models import Account
from delphi.domain import PanelRole
from delphi.results.writers import csv_cell
from delphi.settings import Settings
from tests.factories import PASSWORD, make_account
from tests.study import Study, add_role, build_study, study_panel


async def csrf_token(client: AsyncTestClient) -> str:
    """The CSRF cookie's token, fetching a page first when the client has none."""
    token = client.cookies.get(CSRF_COOKIE)
    if not token:
        await client.get("/login")
        token = client.cookies.get(CSRF_COOKIE)
    assert token, "the app should set a CSRF cookie on a GET"
    return token


async def login(client: AsyncTestClient, email: str) -> None:
    """Sign in through the login form (so the session cookie is the app's own)."""
    token = await csrf_token(client)
    response = await client.post(
        "/login", data={"email": email, "password": PASSWORD, "_csrf_token": token}, follow_redirects=False
    )
    assert response.status_code == 303, response.text


async def post_form(client: AsyncTestClient, url: str, data: dict[str, str] | None = None) -> Response:
    """POST a form with the CSRF token, without following the redirect."""
    token = await csrf_token(client)
    return await client.post(url, data={**(data or {}), "_csrf_token": token}, follow_redirects=False)


def read_csv(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))


def read_xlsx(data: bytes) -> list[list[object]]:
    sheet = openpyxl.load_workbook(io.BytesIO(data)).worksheets[0]
    return [[c.value for c in row] for row in sheet.iter_rows()]


def same_cell(csv_text: str, xlsx_value: object) -> bool:
    """A CSV cell and the XLSX cell read back hold the same value.

    Floats compare to double precision (XLSX keeps about 16 significant digits, CSV the shortest exact text);
    everything else must be what the CSV writer would write for the XLSX value (so formula-like text read from
    XLSX must match the CSV cell with its leading apostrophe).
    """
    if isinstance(xlsx_value, int | float) and not isinstance(xlsx_value, bool):
        # A number: XLSX gives 8 back for 8.0, and about 16 significant digits.
        return csv_text != "" and math.isclose(float(csv_text), xlsx_value, rel_tol=1e-14)
    return csv_cell(xlsx_value) == csv_text


def assert_xlsx_matches_csv(xlsx: bytes, csv_data: bytes, *, skip: frozenset[str] = frozenset()) -> int:
    """Compare the two files cell by cell; returns the number of rows compared (header included).

    Rows whose second cell is in ``skip`` are left out of both (the codebook's ``generated_at``, which two
    separate builds stamp with the clock).
    """
    from_csv = [r for r in read_csv(csv_data) if len(r) < 2 or r[1] not in skip]
    from_xlsx = [r for r in read_xlsx(xlsx) if len(r) < 2 or r[1] not in skip]
    assert len(from_csv) == len(from_xlsx)
    for i, (a, b) in enumerate(zip(from_csv, from_xlsx, strict=True)):
        assert len(a) == len(b), f"row {i}: {len(a)} CSV cells, {len(b)} XLSX cells"
        for j, (x, y) in enumerate(zip(a, b, strict=True)):
            assert same_cell(x, y), f"row {i}, column {from_csv[0][j]}: CSV {x!r}, XLSX {y!r}"
    return len(from_csv)


# --- a study with one account per role ------------------------------------------------------------------------


OWNER = "owner@facilitators.example"
FACILITATOR = "facilitator@facilitators.example"
RESEARCHER = "researcher@university.example"
OUTSIDER = "outsider@facilitators.example"


@dataclass
class World:
    """The factory's study plus a facilitator and a researcher on it, and another panel owned by an outsider."""

    study: Study
    other: Study
    accounts: dict[str, Account] = field(default_factory=dict)

    @property
    def pid(self) -> int:
        return self.study.panel.id


async def build_world(
    session: AsyncSession,
    settings: Settings,
    *,
    rounds: int = 2,
    population: str = "submitted",
    unsent_draft: bool = False,
) -> World:
    """Build and commit the world in the test database (the ``session`` fixture shares the app's database);
    ``population`` and ``unsent_draft`` go to :func:`build_study`."""
    study = await build_study(
        session, settings, rounds=rounds, population=population, unsent_draft=unsent_draft
    )
    accounts = {
        OWNER: study.owner,
        FACILITATOR: await add_role(session, study, FACILITATOR, PanelRole.FACILITATOR),
        RESEARCHER: await add_role(session, study, RESEARCHER, PanelRole.RESEARCHER),
    }
    outsider = await make_account(session, OUTSIDER)
    other = await study_panel(session, outsider)
    accounts[OUTSIDER] = outsider
    await session.commit()
    return World(study, other, accounts)


async def sign_in_panellist(client: AsyncTestClient, token: str) -> None:
    """Open a panellist's personal link ``/p/{token}``, as from the e-mail; the app sets the panellist session."""
    response = await client.get(f"/p/{token}", follow_redirects=False)
    assert response.status_code == 303, response.text


async def become(client: AsyncTestClient, world: World, who: str) -> None:
    """Drop every cookie and sign in as ``who``: an account e-mail, ``anonymous``, ``panellist`` (of this
    panel) or ``other-panellist`` (of the other panel)."""
    client.cookies.clear()
    if who == "anonymous":
        await csrf_token(client)
    elif who == "panellist":
        await sign_in_panellist(client, world.study.tokens[0])
    elif who == "other-panellist":
        await sign_in_panellist(client, world.other.tokens[0])
    else:
        await login(client, who)


PROBLEM = "application/problem+json"


async def create_token(client: AsyncTestClient, name: str = "R script", scopes: str = "read") -> str:
    """Create a token through the account page and read it off the page (the one time it is shown); ``scopes``
    as the page's choice sends it ("read", "read write")."""
    response = await post_form(client, "/account/tokens", {"name": name, "scopes": scopes})
    assert response.status_code == 201, response.text
    match = re.search(r'<code id="new-token">([^<]+)</code>', response.text)
    assert match, "the new token is shown once"
    return match.group(1)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def world_and_token(
    session: AsyncSession, client: AsyncTestClient, settings: Settings, who: str, scopes: str = "read write"
) -> tuple[World, str]:
    """:func:`build_world` with one round, and a token of ``who`` that may read and change (``scopes``)."""
    world = await build_world(session, settings, rounds=1)
    await login(client, who)
    token = await create_token(client, scopes=scopes)
    client.cookies.clear()
    return world, token
