"""A study from scratch through the facilitator's pages in real Chromium: sign in, create a panel with a contact,
three groups, statements and nine panellists from files, open round 1 (confirming what it sends), let the panel
answer, close (confirming whose answers count), run round 2, finish, then read the report (HTML and PDF) and
download every export.  axe-core runs on every facilitator page on the way (zero violations).

Mail goes to a real SMTP server (aiosmtpd) and the personal links come out of the invitations it received.
Panellists answer through the participation use cases: their pages have their own browser tests
(test_panellist_journey.py)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from delphi.db.engine import make_engine, make_sessionmaker
from delphi.db.models import Base, Panellist, Round, RoundStatement, utcnow
from delphi.participation.checks import RatingInput
from delphi.participation.consent import record_consent
from delphi.participation.saving import save_rating
from delphi.participation.submit import submit
from delphi.settings import MailSettings, Settings
from delphi.worker import tick
from tests.browser.conftest import free_port, missing_requirements
from tests.browser.serving import live_settings, serving
from tests.browser.test_panellist_journey import DESKTOP, check, new_page
from tests.factories import PASSWORD
from tests.helpers import make_account
from tests.smtp import SmtpSink

pytestmark = pytest.mark.browser

FACILITATOR = "lead@study.example"
GROUPS = ("People who use services", "Practitioners", "Commissioners")
#: Semicolon-separated, with a header line, as Excel writes a "CSV" in many European locales.
STATEMENTS_CSV = (
    "section;statement\r\n"
    "Information;Offer information as video or audio.\r\n"
    "Information;Talk honestly about how hard treatment is.\r\n"
    "Plans;Revisit the treatment plan with the key worker every three months.\r\n"
    "Plans;Offer a peer mentor from the first appointment.\r\n"
)
#: Round 1 answers per statement, by group: the first two statements reach consensus, the others do not.
ROUND1 = {0: (8, 9, 8), 1: (7, 8, 9), 2: (2, 8, 5), 3: (5, 4, 9)}
ROUND2 = (7, 8, 7)


@dataclass
class Study:
    base_url: str
    settings: Settings
    sink: SmtpSink


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Study]:
    if missing_requirements() is not None:
        pytest.skip("browser requirements missing")
    from delphi.app import create_app

    tmp = tmp_path_factory.mktemp("study")
    db_url = f"sqlite+aiosqlite:///{tmp / 'study.db'}"
    sink = SmtpSink()
    sink.start()
    port = free_port()
    settings = live_settings(
        db_url,
        port,
        tmp / "var",
        MailSettings(host=sink.host, port=sink.port, sender="Study team <study@test.example>"),
    )

    async def prepare() -> None:
        engine = make_engine(settings.database, null_pool=True)
        try:
            async with engine.begin() as conn:
                await conn.run_sync(Base.metadata.create_all)
            await make_account(engine, FACILITATOR)
        finally:
            await engine.dispose()

    asyncio.run(prepare())
    try:
        with serving(create_app(settings), port, "uvicorn-study"):
            yield Study(settings.base_url, settings, sink)
    finally:
        sink.stop()


async def click(page: Any, name: str) -> None:
    """Press the button called ``name`` and wait for the page it leads to."""
    async with page.expect_navigation():
        await page.get_by_role("button", name=name, exact=True).click()


async def confirm(page: Any, name: str, *expected: str) -> None:
    """On a confirmation page: check that it says each of ``expected``, then press ``name``."""
    await check(page, "study-confirm")
    text = await page.inner_text("main")
    for words in expected:
        assert words in text, f"the confirmation page does not say {words!r}: {text}"
    await click(page, name)


async def deliver(study: Study) -> None:
    engine = make_engine(study.settings.database, null_pool=True)
    try:
        await tick(study.settings, engine)
    finally:
        await engine.dispose()


async def answer_round(study: Study, values_by_statement: dict[int, tuple[int, int, int]] | None) -> None:
    """Every panellist consents (once), rates each statement of the open round by group, and submits."""
    engine = make_engine(study.settings.database, null_pool=True)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            panellists = (await session.scalars(select(Panellist).order_by(Panellist.id))).all()
            groups = sorted({p.group_id for p in panellists})
            open_statements = (
                await session.scalars(
                    select(RoundStatement.statement_id)
                    .join(Round, Round.id == RoundStatement.round_id)
                    .where(Round.status == "open")
                    .order_by(RoundStatement.position)
                )
            ).all()
            for p in panellists:
                if p.consented_at is None:
                    await record_consent(session, p)
                g = groups.index(p.group_id)
                for i, sid in enumerate(open_statements):
                    value = (values_by_statement or {}).get(i, ROUND2)[g]
                    await save_rating(session, p, RatingInput(sid, value))
                await submit(session, p, send_receipt=False)
    finally:
        await engine.dispose()


async def test_a_facilitator_runs_a_study_from_scratch_to_the_report_and_every_export(
    study: Study, browser: Any
) -> None:
    page = await new_page(browser, DESKTOP)
    base = study.base_url

    await page.goto(f"{base}/login")
    await page.fill("[name=email]", FACILITATOR)
    await page.fill("[name=password]", PASSWORD)
    await click(page, "Sign in")

    # The panel, with its contact: without one round 1 would not open.
    await page.goto(f"{base}/panels/new")
    await check(page, "study-new-panel")
    await page.fill("[name=title]", "Involving people who use drug services in decisions")
    await page.fill("[name=max_rounds]", "2")
    await page.fill("[name=contact_name]", "Sam Rivera")
    await page.fill("[name=contact_email]", "sam.rivera@study.example")
    await click(page, "Create panel")
    panel_url = re.sub(r"[?#].*$", "", page.url)
    assert re.search(r"/panels/\d+$", panel_url), page.url

    await page.goto(f"{panel_url}/groups")
    for name in GROUPS:
        await page.fill("form:has(button:text-is('Add group')) [name=name]", name)
        await click(page, "Add group")
    await check(page, "study-groups")

    # Statements from a semicolon file with a header: the preview shows four, the header is not one of them.
    await page.goto(f"{panel_url}/statements")
    await page.fill("[name=bulk]", STATEMENTS_CSV)
    await click(page, "Check the statements")
    await check(page, "study-statements-preview")
    assert "section;statement" not in await page.inner_text("main")
    await click(page, "Import 4 statement(s)")
    await check(page, "study-statements")

    csv_text = "email,group,name\n" + "\n".join(
        f"p{g}{i}@people.example,{name},Person {g}{i}" for g, name in enumerate(GROUPS) for i in range(3)
    )
    await page.goto(f"{panel_url}/panellists")
    await page.set_input_files(
        "[name=file]", files={"name": "panel.csv", "mimeType": "text/csv", "buffer": csv_text.encode("utf-8")}
    )
    await click(page, "Check the file")
    await check(page, "study-panellists-preview")
    await click(page, "Import 9 panellist(s)")
    await check(page, "study-panellists")

    # Round 1: dates, then open it; the confirmation says how many invitations go.
    closes = (utcnow() + timedelta(days=14)).strftime("%Y-%m-%dT%H:%M")
    await page.goto(f"{panel_url}/rounds/1")
    await page.fill("[name=closes_at]", closes)
    await click(page, "Save dates")
    await check(page, "study-round1-draft")
    await click(page, "Open round 1")
    await confirm(page, "Open round 1 now", "9 invitations")
    await deliver(study)
    invitations = await study.sink.wait_for(9)
    assert len({m.rcpt_tos[0] for m in invitations}) == 9
    assert all("Sam Rivera" in m.message.get_body(("plain",)).get_content() for m in invitations)

    await answer_round(study, ROUND1)
    await page.goto(f"{panel_url}/monitor")
    await check(page, "study-monitor")
    await page.goto(f"{panel_url}/rounds/1")
    await click(page, "Close round 1")
    await confirm(page, "Close round 1 now", "9")
    await page.goto(f"{panel_url}/rounds/1/results")
    await check(page, "study-round1-results")
    assert "S1" in await page.inner_text("main")

    await page.goto(f"{panel_url}/rounds/2")
    await page.fill("[name=closes_at]", closes)
    await click(page, "Save dates")
    await click(page, "Open round 2")
    await confirm(page, "Open round 2 now", "9")
    await answer_round(study, None)
    await page.goto(f"{panel_url}/rounds/2")
    await click(page, "Close round 2")
    await confirm(page, "Close round 2 now", "9")

    # The report, as a page and as a PDF, and every export offered.
    await page.goto(f"{panel_url}/report")
    await check(page, "study-report")
    report = await page.inner_text("main")
    for words in ("S1", "Practitioners", "stopping"):
        assert words in report or words.capitalize() in report, words
    pdf = await page.request.get(f"{panel_url}/report.pdf")
    assert pdf.status == 200 and (await pdf.body()).startswith(b"%PDF")

    await page.goto(f"{panel_url}/exports")
    await check(page, "study-exports")
    links = await page.eval_on_selector_all(
        "main a[href*='/exports/']", "els => [...new Set(els.map(e => e.getAttribute('href')))]"
    )
    names = {href.rsplit("/", 1)[1].split(".", 1)[0] for href in links}
    for expected in ("final-list", "ratings", "comments", "suggestions", "datapackage"):
        assert any(expected in n for n in names), (expected, names)
    for href in links:
        response = await page.request.get(base + href if href.startswith("/") else href)
        body = await response.body()
        assert response.status == 200 and body, (href, response.status)
