"""A whole panel through the HTTP and service layers, with a real SMTP server (aiosmtpd) receiving the mail."""

from __future__ import annotations

import re
from datetime import timedelta

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from delphi.app import create_app
from delphi.db.engine import make_sessionmaker
from delphi.db.models import Panellist, Round, RoundResult, RoundStatement, Statement, utcnow
from delphi.participation.checks import RatingInput
from delphi.participation.consent import record_consent
from delphi.participation.saving import save_rating
from delphi.participation.submit import submit
from delphi.settings import Settings
from delphi.worker import tick
from tests.helpers import login, make_account, post_form
from tests.smtp import SmtpSink

LINK_RE = re.compile(r"http://testserver\.local/p/([A-Za-z0-9_-]{43})\b")


def text_of(received) -> str:  # type: ignore[no-untyped-def]
    return received.message.get_body(("plain",)).get_content()


STATEMENTS = (
    "# Information\nOffer information as video or audio.\nTalk honestly about how hard treatment is.\n"
    "# Plans\nRevisit the treatment contract with the key worker.\nOffer induction groups.\n"
)


async def test_round_one_to_round_two_with_real_mail(
    app: Litestar, client: AsyncTestClient, engine: AsyncEngine, settings: Settings, smtp_sink: SmtpSink
) -> None:
    mail_settings = smtp_sink.settings_for(settings)
    await make_account(engine, "fac@example.org")
    await login(client, "fac@example.org")

    r = await post_form(
        client,
        "/panels",
        {
            "title": "Treatment decisions",
            "scale_min": "1",
            "scale_max": "9",
            "rule_name": "comet",
            "rule_scope": "pooled",
            "agree_band": "7-9",
            "disagree_band": "1-3",
            "min_ratings": "2",
            "max_rounds": "3",
            "k_min": "1",
            "allow_unable": "on",
            "unable_label": "Can't say",
            "quantile_method": "linear",
            "unable_policy": "exclude",
            "contact_name": "The research team",
            "contact_email": "research-team@university.example",
        },
        token_page="/panels/new",
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    base = r.headers["location"]
    for name in ("Service users", "Practitioners", "Experts"):
        assert (
            await post_form(client, f"{base}/groups", {"name": name}, token_page=f"{base}/groups")
        ).status_code == 200
    r = await post_form(
        client,
        f"{base}/statements/import",
        {"bulk": STATEMENTS, "confirm": "1"},
        token_page=f"{base}/statements",
    )
    assert r.status_code == 200 and "Offer induction groups." in r.text
    csv_text = "email,group,name\n" + "\n".join(
        f"{g[:4].lower()}{i}@example.org,{g},Person {i}"
        for g in ("Service users", "Practitioners", "Experts")
        for i in range(2)
    )
    preview = await post_form(
        client, f"{base}/panellists/import", {"csv_text": csv_text}, token_page=f"{base}/panellists"
    )
    assert preview.status_code == 200 and "6 panellist(s) are ready to import" in preview.text
    r = await post_form(
        client,
        f"{base}/panellists/import",
        {"csv_text": csv_text, "confirm": "1"},
        token_page=f"{base}/panellists",
    )
    assert r.status_code == 200 and "serv0@example.org" in r.text

    closes = (utcnow() + timedelta(days=10)).strftime("%Y-%m-%dT%H:%M")
    r = await post_form(
        client,
        f"{base}/rounds/1/schedule",
        {"closes_at": closes, "reminders": "7d, 2d"},
        token_page=f"{base}/rounds/1",
    )
    assert r.status_code == 200 and "Open round 1" in r.text
    r = await post_form(client, f"{base}/rounds/1/open", {"confirm": "1"}, token_page=f"{base}/rounds/1")
    assert r.status_code == 200 and "Send a reminder now" in r.text

    # Round 1 opens: each panellist receives exactly one invitation whose link works.
    await tick(mail_settings, engine)
    invitations = await smtp_sink.wait_for(6)
    assert sorted(smtp_sink.to_addresses()) == sorted(
        f"{g}{i}@example.org" for g in ("serv", "prac", "expe") for i in range(2)
    )
    tokens = {}
    for message in invitations:
        (token,) = set(LINK_RE.findall(text_of(message)))
        tokens[message.rcpt_tos[0]] = token
        async with AsyncTestClient(app=create_app(settings), base_url="http://testserver.local") as visitor:
            landing = await visitor.get(f"/p/{token}", follow_redirects=False)
            assert landing.status_code == 303 and token not in landing.headers["location"]

    # Half of the panel rates everything and submits.
    maker = make_sessionmaker(engine)
    raters = ["serv0@example.org", "prac0@example.org", "expe0@example.org"]
    async with maker() as session, session.begin():
        for email in raters:
            p = await session.scalar(select(Panellist).where(Panellist.email == email))
            await record_consent(session, p)
            statement_ids = (await session.scalars(select(Statement.id).order_by(Statement.position))).all()
            for sid, value in zip(statement_ids, (9, 8, 5, 2), strict=True):
                await save_rating(session, p, RatingInput(sid, value))
            await submit(session, p, send_receipt=False)

    # The 7-day reminder reaches only the three who have not submitted.
    round_closes = utcnow() + timedelta(days=10)
    reminder_time = round_closes - timedelta(days=7) + timedelta(minutes=5)
    await tick(mail_settings, engine, now=reminder_time)  # the scheduler queues the reminders
    await tick(mail_settings, engine, now=reminder_time)  # delivery sends them
    received = await smtp_sink.wait_for(9)
    reminded = sorted(m.rcpt_tos[0] for m in received[6:])
    assert reminded == ["expe1@example.org", "prac1@example.org", "serv1@example.org"]

    # Close by hand: results are frozen and round 2 carries the unsettled statements.
    r = await post_form(client, f"{base}/rounds/1/close", {"confirm": "1"}, token_page=f"{base}/rounds/1")
    assert r.status_code == 200 and "Verdict" in r.text
    async with maker() as session:
        assert await session.scalar(select(func.count()).select_from(RoundResult)) == 4 * 4
        round2 = await session.scalar(select(Round).where(Round.number == 2))
        carried = (
            await session.scalars(
                select(Statement.text)
                .join(RoundStatement, RoundStatement.statement_id == Statement.id)
                .where(RoundStatement.round_id == round2.id)
                .order_by(RoundStatement.position)
            )
        ).all()
    assert carried == ["Revisit the treatment contract with the key worker."]  # 9 → in, 8 → in, 2 → out

    # Round 2 opens: everyone still on the panel gets one "round 2 is open" mail.
    r = await post_form(
        client,
        f"{base}/rounds/2/schedule",
        {"closes_at": closes, "reminders": ""},
        token_page=f"{base}/rounds/2",
    )
    r = await post_form(client, f"{base}/rounds/2/open", {"confirm": "1"}, token_page=f"{base}/rounds/2")
    assert r.status_code == 200, r.text
    await tick(mail_settings, engine)
    received = await smtp_sink.wait_for(15)
    assert len(received) == 15
    round2_mail = received[9:]
    assert sorted(m.rcpt_tos[0] for m in round2_mail) == sorted(tokens)
    assert all("round 2" in text_of(m).lower() for m in round2_mail)
