"""The dev capture server and the /dev/mail page: what the app sends shows up with clickable links."""

from __future__ import annotations

import logging
from dataclasses import replace

import aiosmtplib
import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncEngine

from delphi.app import create_app
from delphi.db.engine import make_sessionmaker
from delphi.mail.capture import MailStore, start_capture_server
from delphi.mail.compose import compose
from delphi.mail.delivery import deliver_due
from delphi.settings import Settings
from delphi.web.devmail import linkify
from tests.factories import World
from tests.mail.conftest import T0, address, queue_invitations
from tests.smtp import free_port


def capture_settings(settings: Settings) -> Settings:
    port = free_port()
    mail = replace(settings.mail, dev_capture=True, dev_capture_port=port, host="127.0.0.1", port=port)
    return settings.with_overrides(mail=mail)


def test_linkify_escapes_text_and_links_urls_without_trailing_punctuation() -> None:
    html = str(linkify('See <b>this</b>: http://x.test/p/abc?a=1&b=2. Or "https://y.test/q".'))
    assert "&lt;b&gt;this&lt;/b&gt;" in html
    assert (
        '<a href="http://x.test/p/abc?a=1&amp;b=2" rel="noreferrer">http://x.test/p/abc?a=1&amp;b=2</a>.'
        in html
    )
    assert '<a href="https://y.test/q" rel="noreferrer">' in html


async def test_capture_server_keeps_parsed_mail_newest_first(settings: Settings) -> None:
    settings = capture_settings(settings)
    with start_capture_server(settings, capacity=2) as store:
        for n in range(3):
            raw = compose(
                sender=settings.mail.sender,
                to=f"p{n}@example.org",
                subject=f"Mail {n}",
                text=f"Text {n}",
                html=f"<p>Html {n}</p>",
                message_id=f"<{n}@test.example>",
                date=T0,
            )
            await aiosmtplib.send(
                raw,
                sender="panel@test.example",
                recipients=[f"p{n}@example.org"],
                hostname="127.0.0.1",
                port=settings.mail.dev_capture_port,
            )
        mails = store.list()
    assert isinstance(store, MailStore)
    assert [m.subject for m in mails] == ["Mail 2", "Mail 1"]  # bounded: the oldest was dropped
    assert mails[0].to == "p2@example.org" and mails[0].envelope_to == ("p2@example.org",)
    assert (
        mails[0].text.strip() == "Text 2" and mails[0].html.strip() == "<p>Html 2</p>" and mails[0].date == T0
    )


async def test_the_capture_server_logs_no_line_per_connection_only_its_problems(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    settings = capture_settings(settings)
    caplog.set_level(logging.INFO)
    logging.getLogger("mail.log").setLevel(logging.NOTSET)
    with start_capture_server(settings) as store:
        raw = compose(
            sender=settings.mail.sender,
            to="p@example.org",
            subject="Quiet",
            text="Text",
            html="<p>Html</p>",
            message_id="<quiet@test.example>",
            date=T0,
        )
        await aiosmtplib.send(
            raw, sender="panel@test.example", recipients=["p@example.org"], hostname="127.0.0.1",
            port=settings.mail.dev_capture_port,
        )  # fmt: skip
        assert [m.subject for m in store.list()] == ["Quiet"]
    assert not [r for r in caplog.records if r.name == "mail.log" and r.levelno < logging.WARNING]
    assert not [
        r for r in caplog.records if "captured message" in r.getMessage()
    ]  # the delivery line counts them


async def test_dev_mail_page_shows_captured_mail_with_a_clickable_personal_link(
    engine: AsyncEngine, world: World, settings: Settings
) -> None:
    settings = capture_settings(settings)
    async with make_sessionmaker(engine)() as session, session.begin():
        await queue_invitations(session, world, world.panellist_ids[:1])
    app = create_app(settings)
    async with AsyncTestClient(app=app, base_url="http://testserver.local") as client:
        assert (await deliver_due(settings, engine, now=T0)).sent == 1
        index = await client.get("/dev/mail")
        assert index.status_code == 200
        assert "You&#39;re invited to share your views" in index.text and address(0) in index.text
        (mail,) = app.state.mail_capture.list()
        page = await client.get(f"/dev/mail/{mail.id}")
        assert page.status_code == 200
        assert '<a href="http://testserver.local/p/' in page.text and "/leave</a>" in page.text
        html_part = await client.get(f"/dev/mail/{mail.id}/html")
        assert html_part.status_code == 200 and html_part.text.startswith("<!doctype html>")
        assert html_part.headers["content-security-policy"].startswith("sandbox;")
        assert (await client.get("/dev/mail/999")).status_code == 404


async def test_dev_mail_page_does_not_exist_when_capture_is_off(settings: Settings) -> None:
    async with AsyncTestClient(app=create_app(settings), base_url="http://testserver.local") as client:
        assert (await client.get("/dev/mail")).status_code == 404
