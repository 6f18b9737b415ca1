"""Privacy of a whole panel: what one panellist sees of the others, what the database keeps, what the logs say.

One panel runs from setup to its final results through the app's own pages (facilitator and panellists over
HTTP, mail delivered by the worker to a real aiosmtpd server): two rounds, comments published between them,
a suggestion, a reminder, a re-issued link, a withdrawal.  Then:

* no page a panellist was shown and no e-mail they received holds another panellist's e-mail address, name or
  pseudonym, and every mail shows its own recipient only;
* no text column of any table (outbox bodies and headers after delivery included) holds a personal-link token
  (derived with :func:`delphi.security.panellist_token`, every version ever issued) or the raw API token;
* no log record written during the whole flow, at DEBUG, holds a token.

The live-server test does the same for a process under uvicorn with its access log on, where ``/p/<token>``
paths are requested: the access log must show them redacted.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections import defaultdict
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from delphi.db.engine import make_engine, make_sessionmaker
from delphi.db.models import Base, Panel, Panellist, Rating, Round, Statement, utcnow
from delphi.rounds import mailing
from delphi.security import panellist_token
from delphi.settings import DatabaseSettings, Settings
from delphi.worker import tick
from tests.adversarial.live import LiveServer, PanellistClient, seed_panel
from tests.conftest import TEST_SECRET
from tests.helpers import csrf_from, login, make_account, post_form
from tests.smtp import Received, SmtpSink

LINK = re.compile(r"/p/([A-Za-z0-9_-]{43})")
PEOPLE = [
    ("ottilie.brackenbury@privacy.example", "Service users", "Ottilie Brackenbury"),
    ("zebedee.quillfeather@privacy.example", "Service users", "Zebedee Quillfeather"),
    ("marisol.thistlewood@privacy.example", "Service users", "Marisol Thistlewood"),
    ("cornelius.wobblecombe@privacy.example", "Practitioners", "Cornelius Wobblecombe"),
    ("philippa.dunderdale@privacy.example", "Practitioners", "Philippa Dunderdale"),
    ("bartholomew.ashgrove@privacy.example", "Practitioners", "Bartholomew Ashgrove"),
]
STATEMENTS = "# Access\nSame-week appointments.\nPeer workers at every service.\n# Care\nCompulsory group therapy.\nTake-home doses after a month.\n"
ROUND1 = [(9, 9, 1, 5), (9, 2, 1, 6), (8, 9, 2, 4), (9, 8, 1, 5), (9, 3, 2, 7)]  # per rater, per statement
PAGES = (
    "/panel",
    "/panel/consent",
    "/panel/rate",
    "/panel/review",
    "/panel/done",
    "/panel/suggest",
    "/panel/results",
    "/panel/leave",
)


def body_text(received: Received) -> str:
    parts = [str(v) for _, v in received.message.items()]
    for part in received.message.walk():
        if not part.is_multipart():
            parts.append(part.get_content())
    return "\n".join(parts)


class Seen:
    """Everything each panellist (by e-mail address) was shown: pages and mails."""

    def __init__(self) -> None:
        self.pages: dict[str, list[tuple[str, str]]] = defaultdict(list)

    def page(self, who: str, url: str, response: httpx.Response) -> httpx.Response:
        assert response.status_code < 500, f"{url}: {response.status_code}"
        self.pages[who].append((url, response.text + "\n" + "\n".join(response.headers.values())))
        return response


class Capture(logging.Handler):
    """Every log record of the application side, formatted with its traceback."""

    CLIENT_SIDE = ("httpx", "httpcore", "mail.log", "asyncio", "hpack", "faker")

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith(self.CLIENT_SIDE):
            return
        self.lines.append(self.format(record))


@pytest.fixture
def captured_logs() -> Iterator[Capture]:
    handler = Capture()
    root = logging.getLogger()
    old = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(old)


async def dump_text(engine: AsyncEngine) -> list[tuple[str, str, str]]:
    """(table, column, text) of every non-empty text or JSON value in every table."""
    out = []
    async with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            for row in (await conn.execute(table.select())).mappings():
                for column, value in row.items():
                    if isinstance(value, dict | list):
                        value = json.dumps(value, ensure_ascii=False)
                    if isinstance(value, str) and value:
                        out.append((table.name, column, value))
    return out


async def deliver(settings: Settings, engine: AsyncEngine) -> None:
    await tick(settings, engine)


async def as_panellist(client: AsyncTestClient, token: str) -> httpx.Response:
    client.cookies.clear()
    return await client.get(f"/p/{token}", follow_redirects=False)


async def panellist_form(
    client: AsyncTestClient, path: str, data: dict[str, str], page: str
) -> httpx.Response:
    token = csrf_from((await client.get(page)).text)
    return await client.post(path, data={**data, "_csrf_token": token}, follow_redirects=False)


async def test_a_whole_panel_shows_no_one_anothers_identity_and_stores_or_logs_no_token(
    client: AsyncTestClient,
    engine: AsyncEngine,
    settings: Settings,
    smtp_sink: SmtpSink,
    captured_logs: Capture,
) -> None:
    mail = smtp_sink.settings_for(settings)
    seen = Seen()
    await make_account(engine, "facilitator@privacy-team.example")

    async def as_facilitator() -> None:
        client.cookies.clear()
        await login(client, "facilitator@privacy-team.example")

    async def fac_post(path: str, data: dict[str, str], page: str) -> httpx.Response:
        response = await post_form(client, path, data, token_page=page, follow_redirects=False)
        assert response.status_code in (200, 303), f"{path}: {response.status_code} {response.text[:500]}"
        return response

    # --- setup and round 1, as a facilitator ---------------------------------------------------------------
    await as_facilitator()
    response = await fac_post(
        "/panels",
        {
            "title": "Treatment decisions",
            "description": "How services should involve people.",
            "consent_text": "Taking part is voluntary.",
            "scale_min": "1",
            "scale_max": "9",
            "rule_name": "comet",
            "rule_scope": "pooled",
            "agree_band": "7-9",
            "disagree_band": "1-3",
            "min_ratings": "2",
            "max_rounds": "2",
            "k_min": "1",
            "allow_unable": "on",
            "unable_label": "Can't say",
            "quantile_method": "linear",
            "unable_policy": "exclude",
            "honorarium": "15",
            "contact_name": "The research team",
            "contact_email": "research-team@university.example",
        },
        "/panels/new",
    )
    base = response.headers["location"]
    for name in ("Service users", "Practitioners"):
        await fac_post(f"{base}/groups", {"name": name}, f"{base}/groups")
    await fac_post(f"{base}/statements/import", {"bulk": STATEMENTS, "confirm": "1"}, f"{base}/statements")
    csv_text = "email,group,name\n" + "\n".join(f"{e},{g},{n}" for e, g, n in PEOPLE)
    await fac_post(f"{base}/panellists/import", {"csv_text": csv_text, "confirm": "1"}, f"{base}/panellists")
    closes = (utcnow() + timedelta(days=10)).strftime("%Y-%m-%dT%H:%M")
    await fac_post(f"{base}/rounds/1/schedule", {"closes_at": closes, "reminders": "2d"}, f"{base}/rounds/1")
    await fac_post(f"{base}/rounds/1/open", {"confirm": "1"}, f"{base}/rounds/1")
    await deliver(mail, engine)
    await smtp_sink.wait_for(len(PEOPLE))

    def token_of(email: str) -> str:
        links = [
            t for m in smtp_sink.messages() if m.rcpt_tos[0] == email for t in LINK.findall(body_text(m))
        ]
        assert links, f"no link mailed to {email}"
        return links[-1]

    emails = [e for e, _, _ in PEOPLE]
    async with make_sessionmaker(engine)() as session:
        people = {p.email: p for p in (await session.scalars(select(Panellist))).all()}
        statement_ids = (await session.scalars(select(Statement.id).order_by(Statement.position))).all()

    # --- round 1, as the panellists --------------------------------------------------------------------------
    for i, email in enumerate(emails[:5]):
        token = token_of(email)
        seen.page(email, "/p/…", await as_panellist(client, token))
        seen.page(email, "/panel/consent", await client.get("/panel/consent"))
        await panellist_form(client, "/panel/consent", {"consent": "yes"}, "/panel/consent")
        rate = seen.page(email, "/panel/rate", await client.get("/panel/rate"))
        csrf = csrf_from(rate.text)
        if i < 4:
            for sid, value in zip(statement_ids, ROUND1[i], strict=True):
                saved = await client.post(
                    f"/panel/ratings/{sid}",
                    json={"answer": value, "comment": f"My view on statement {sid}: it matters."},
                    headers={"x-csrftoken": csrf},
                )
                assert saved.status_code == 200, saved.text
            submitted = await client.post("/panel/submit", data={"_csrf_token": csrf}, follow_redirects=False)
            assert submitted.status_code == 303
        if i == 0:
            await panellist_form(
                client, "/panel/suggest", {"kind": "new", "text": "Offer evening clinics."}, "/panel/suggest"
            )
        for page in PAGES:
            seen.page(email, page, await client.get(page))

    # --- a reminder, a new link, closing round 1, publishing its comments --------------------------------
    await as_facilitator()
    await fac_post(f"{base}/rounds/1/remind", {"confirm": "1"}, f"{base}/rounds/1")
    await fac_post(
        f"{base}/panellists/{people[emails[3]].id}/reissue", {"confirm": "1"}, f"{base}/panellists"
    )
    await fac_post(f"{base}/rounds/1/close", {"confirm": "1"}, f"{base}/rounds/1")
    async with make_sessionmaker(engine)() as session:
        comment_ids = (await session.scalars(select(Rating.id).where(Rating.comment != ""))).all()
    for rating_id in comment_ids:
        await fac_post(
            f"{base}/rounds/1/comments/{rating_id}", {"action": "publish"}, f"{base}/rounds/1/results"
        )
    await fac_post(f"{base}/rounds/2/schedule", {"closes_at": closes, "reminders": ""}, f"{base}/rounds/2")
    await fac_post(f"{base}/rounds/2/open", {"confirm": "1"}, f"{base}/rounds/2")
    await deliver(mail, engine)

    # --- round 2: feedback with published comments; one panellist leaves ------------------------------------
    for i, email in enumerate(emails[:5]):
        seen.page(email, "/p/…", await as_panellist(client, token_of(email)))
        for page in ("/panel/rate?page=1", "/panel/rate?page=2", "/panel/review"):
            seen.page(email, page, await client.get(page))
        if i < 4:
            csrf = csrf_from((await client.get("/panel/rate")).text)
            review = await client.get("/panel/review")
            for sid in re.findall(r'<div id="s(\d+)"', review.text):
                saved = await client.post(
                    f"/panel/ratings/{sid}", json={"answer": 8}, headers={"x-csrftoken": csrf}
                )
                assert saved.status_code == 200, saved.text
            assert (await client.post("/panel/submit", data={"_csrf_token": csrf})).status_code in (200, 303)
        if i == 4:
            await panellist_form(client, "/panel/leave", {}, "/panel/leave")

    # --- the end: round 2 closes, the panel finishes, results go out ------------------------------------------
    await as_facilitator()
    await fac_post(
        f"{base}/rounds/2/close", {"confirm": "1"}, f"{base}/rounds/2"
    )  # the last round: the panel finishes
    async with make_sessionmaker(engine)() as session:
        assert await session.scalar(select(Panel.status)) == "finished"
    await deliver(mail, engine)
    await deliver(mail, engine)
    for email in emails[:4]:
        seen.page(email, "/p/…", await as_panellist(client, token_of(email)))
        for page in PAGES:
            seen.page(email, page, await client.get(page))
    await as_facilitator()
    created = await post_form(client, "/account/tokens", {"name": "privacy check"})
    api_token = re.search(r'<code id="new-token">([^<]+)</code>', created.text)
    assert api_token, created.text[:500]

    # --- what each panellist saw ----------------------------------------------------------------------------
    async with make_sessionmaker(engine)() as session:
        everyone = (await session.scalars(select(Panellist))).all()
    identity = {p.email: (p.email, p.name, p.pseudonym) for p in everyone}
    messages = smtp_sink.messages()
    kinds_seen = {m.message["Subject"] for m in messages}
    assert len(messages) >= 20 and len(kinds_seen) >= 4, kinds_seen
    leaks = []
    for email in emails:
        others = [x for other, ids in identity.items() if other != email for x in ids if x]
        mine = [(f"mail “{m.message['Subject']}”", body_text(m)) for m in messages if m.rcpt_tos[0] == email]
        for m in messages:
            if m.rcpt_tos[0] == email:
                assert m.message["To"] == email or email in str(m.message["To"]), m.message["To"]
                assert not m.message.get("Cc") and not m.message.get("Bcc")
        for where, content in [*seen.pages[email], *mine]:
            leaks += [f"{email} saw {x!r} in {where}" for x in others if x in content]
    assert sum(len(v) for v in seen.pages.values()) > 60
    assert leaks == []

    # --- the database holds no usable token ------------------------------------------------------------------
    tokens = {t for m in messages for t in LINK.findall(body_text(m))}
    for p in everyone:
        tokens |= {panellist_token(TEST_SECRET, p.id, v) for v in range(1, p.session_version + 2)}
    assert len(tokens) > len(PEOPLE)
    tokens.add(api_token.group(1))
    rows = await dump_text(engine)
    assert any(t == "outbox_messages" and c == "body_text" for t, c, _ in rows)
    found = [(t, c) for t, c, value in rows for token in tokens if token in value]
    assert found == []

    # --- and no log line holds one ----------------------------------------------------------------------------
    assert len(captured_logs.lines) > 10
    logged = [line for line in captured_logs.lines for token in tokens if token in line]
    assert logged == []


@pytest.mark.slow
async def test_a_live_server_logs_no_link_token_even_in_its_access_log(
    live_db_url: str, live_server: LiveServer, smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    seeded = await seed_panel(live_db_url, panellists=6, statements=4)
    engine = make_engine(DatabaseSettings(url=live_db_url), null_pool=True)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            panel = await session.get(Panel, seeded.panel_id)
            round_ = await session.get(Round, seeded.round_id)
            people = (await session.scalars(select(Panellist).order_by(Panellist.id))).all()
            await mailing.round_opened(session, panel, round_, people)
    finally:
        await engine.dispose()
    live_server.env.update(
        DELPHI_WORKER_IN_PROCESS="1",
        DELPHI_WORKER_INTERVAL="0.2",
        DELPHI_SMTP_HOST=smtp_sink.host,
        DELPHI_SMTP_PORT=str(smtp_sink.port),
        DELPHI_LOG_LEVEL="DEBUG",
    )
    await asyncio.to_thread(live_server.start)
    received = await smtp_sink.wait_for(len(seeded.people), within=60)
    links = {m.rcpt_tos[0]: LINK.findall(body_text(m))[0] for m in received}
    assert {p.token for p in seeded.people} == set(links.values())
    for n, person in enumerate(seeded.people, start=1):
        async with PanellistClient(live_server.base_url, links[person.email], n) as client:
            for response in await client.sign_in():
                assert response.status_code in (200, 303)
            for sid in seeded.statement_ids:
                assert (await client.save(sid, 7)).status_code == 200
            assert (await client.submit()).status_code == 303
            assert (await client.http.get(f"/p/{person.token}/leave")).status_code == 303
            if n == 1:
                left = await client.http.post(
                    f"/p/{person.token}/leave", data={"List-Unsubscribe": "One-Click"}
                )
                assert left.status_code == 200
    async with PanellistClient(live_server.base_url, "x" * 43, 99) as stranger:
        assert (await stranger.open_link()).status_code == 404
    await smtp_sink.wait_for(2 * len(seeded.people) - 1, within=60)  # the receipts (one left before hers)
    live_server.stop()
    log = live_server.output()
    assert '"GET /p/<redacted> HTTP/1.1" 303' in log, "the access log shows link requests, redacted"
    assert '"POST /p/<redacted>/leave HTTP/1.1" 200' in log
    assert "Traceback" not in log
    leaked = sorted({t for t in links.values() if t in log} | set(LINK.findall(log)) - {"x" * 43})
    assert leaked == [], [line for line in log.splitlines() if "/p/" in line][:5]
