"""A panel's own e-mail texts and discreet mode against a real database and a real SMTP server: what is queued
and what arrives."""

from __future__ import annotations

from email.headerregistry import Address

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from delphi.db.engine import make_sessionmaker
from delphi.db.models import AuditEvent, MailText, Panel, Round
from delphi.errors import InvalidInput, NotFound, PreconditionsUnmet
from delphi.mail import panel_texts
from delphi.mail.delivery import deliver_due
from delphi.mail.outbox import SENDER_NAME
from delphi.mail.texts import Wording
from delphi.rounds import lookup, schedule, transitions
from delphi.settings import Settings
from tests.factories import ACTOR, NOW, build_draft_panel
from tests.helpers import outbox
from tests.smtp import SmtpSink

NEUTRAL = "Service feedback study"
OWN = Wording(
    "Your views, {name}",
    "Dear {name},\n\nRound {round_number} is open until {closes_at}. Ask {contact_name} anything.\n\n{link}",
)


async def open_round_one(session: AsyncSession, panel: Panel, settings: Settings) -> Round:
    round1 = await lookup.get_round(session, panel, 1)
    await transitions.open_round(session, panel, round1, now=NOW, settings=settings, actor=ACTOR)
    return round1


async def test_a_saved_text_is_used_by_the_next_mailing_and_restoring_brings_the_shipped_one_back(
    session: AsyncSession, settings: Settings
) -> None:
    panel = await build_draft_panel(session, per_group=2)
    await panel_texts.save_text(session, panel, "invitation", OWN.subject, OWN.body, actor=ACTOR)
    await panel_texts.save_text(
        session, panel, "reminder", "Still time, {name}", "Go on:\n{link}", actor=ACTOR
    )
    round1 = await open_round_one(session, panel, settings)
    invitations = await outbox(session, "invitation")
    assert len(invitations) == 6
    for m in invitations:
        assert m.subject.startswith("Your views, Person ")
        assert m.body_text.startswith("Dear Person ")
        assert "Round 1 is open until " in m.body_text and "Ask The research team anything." in m.body_text
        assert "[[delphi:personal-link]]" in m.body_text and "[[delphi:withdraw-link]]" in m.body_text
        assert "Please do not forward this e-mail." in m.body_text  # the shipped footer stays
        assert "You are invited to give your views" not in m.body_text
    assert await panel_texts.restore_text(session, panel, "reminder", actor=ACTOR) is True
    assert await panel_texts.restore_text(session, panel, "reminder", actor=ACTOR) is False
    await schedule.send_reminder_now(session, panel, round1, now=NOW, settings=settings, actor=ACTOR)
    reminders = await outbox(session, "reminder")
    assert reminders and all(m.subject.startswith("Reminder:") for m in reminders)
    actions = (
        await session.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.panel_id == panel.id, AuditEvent.action.like("mail_text.%"))
            .order_by(AuditEvent.id)
        )
    ).all()
    assert actions == ["mail_text.saved", "mail_text.saved", "mail_text.restored"]


async def test_saving_again_replaces_the_text_of_that_kind_only(session: AsyncSession) -> None:
    panel = await build_draft_panel(session, per_group=1)
    await panel_texts.save_text(session, panel, "receipt", "Thanks", "Got it.\n{link}", actor=ACTOR)
    await panel_texts.save_text(
        session, panel, "receipt", "  Thank you  ", " Received.\n{link} ", actor=ACTOR
    )
    texts = {t.kind: t for t in await panel_texts.panel_texts(session, panel.id)}
    assert texts["receipt"].wording == Wording("Thank you", "Received.\n{link}")
    assert [k for k, t in texts.items() if t.wording is None] == [
        "invitation",
        "round_open",
        "reminder",
        "final_results",
    ]
    n = await session.scalar(select(func.count()).select_from(MailText).where(MailText.panel_id == panel.id))
    assert n == 1


async def test_a_text_with_problems_is_refused_with_all_of_them_and_nothing_is_saved(
    session: AsyncSession,
) -> None:
    panel = await build_draft_panel(session, per_group=1)
    with pytest.raises(InvalidInput) as refused:
        await panel_texts.save_text(
            session,
            panel,
            "invitation",
            "{panel_title}",
            "Hi {nmae} {{ config }} {link.__class__",
            actor=ACTOR,
        )
    fields = [f for f, _ in refused.value.errors]
    assert fields == ["subject", "body", "body", "body"]
    assert await session.scalar(select(func.count()).select_from(MailText)) == 0
    with pytest.raises(NotFound):
        await panel_texts.save_text(session, panel, "password_reset", "Hi", "{link}", actor=ACTOR)


async def test_the_preview_fills_a_text_for_the_sample_panellist_with_example_links(
    session: AsyncSession,
) -> None:
    panel = await build_draft_panel(session, per_group=1)
    mail = panel_texts.preview(panel, "invitation", OWN, "https://delphi.example")
    assert mail.subject == "Your views, Sam"
    assert mail.text.startswith("Dear Sam,\n\nRound 1 is open until 3 March 2031, 17:00 UTC.")
    assert "https://delphi.example/p/EXAMPLE-LINK" in mail.text + mail.html
    assert "[[delphi:" not in mail.text + mail.html
    shipped = panel_texts.preview(panel, "invitation", None, "https://delphi.example")
    assert "You are invited to give your views" in shipped.text and "Test panel" in shipped.text


async def test_a_round_does_not_open_without_a_panel_contact(
    session: AsyncSession, settings: Settings
) -> None:
    panel = await build_draft_panel(session, per_group=1)
    panel.contact_email = ""
    round1 = await lookup.get_round(session, panel, 1)
    with pytest.raises(PreconditionsUnmet) as refused:
        await transitions.open_round(session, panel, round1, now=NOW, settings=settings, actor=ACTOR)
    assert refused.value.actions == [
        "Add a panel contact (name and e-mail) in the panel settings: panellists see it on every page and in "
        "every mail."
    ]
    assert await outbox(session, "invitation") == []
    panel.contact_email = "team@university.example"
    await transitions.open_round(session, panel, round1, now=NOW, settings=settings, actor=ACTOR)
    assert round1.status == "open"


async def test_discreet_mail_comes_from_the_neutral_name_and_never_names_the_title(
    engine: AsyncEngine, sink_settings: Settings, smtp_sink: SmtpSink
) -> None:
    async with make_sessionmaker(engine)() as session, session.begin():
        panel = await build_draft_panel(session, per_group=1)
        panel.title = "Heroin and methadone treatment review"
        panel.description = "How drug services treat heroin users."
        panel.discreet, panel.discreet_name = True, NEUTRAL
        round1 = await open_round_one(session, panel, sink_settings)
        await schedule.send_reminder_now(session, panel, round1, now=NOW, settings=sink_settings, actor=ACTOR)
        queued = await outbox(session, "invitation")
        assert queued and all(m.headers == {SENDER_NAME: NEUTRAL} for m in queued)
    report = await deliver_due(sink_settings, engine)
    received = smtp_sink.messages()
    assert report.sent == len(received) == 6  # three invitations, three reminders
    for got in received:
        raw = got.raw.decode()
        assert "heroin" not in raw.lower() and "methadone" not in raw.lower() and "drug" not in raw.lower()
        assert SENDER_NAME not in raw  # the row header is never sent
        sender = got.message["From"]
        assert sender.addresses[0] == Address(NEUTRAL, addr_spec="panel@test.example")
        assert got.envelope_from == "panel@test.example"
        text = got.message.get_body(("plain",)).get_content()
        assert NEUTRAL in text and "research-team@university.example" in text


async def test_mail_of_a_panel_not_in_discreet_mode_keeps_the_configured_sender(
    engine: AsyncEngine, sink_settings: Settings, smtp_sink: SmtpSink
) -> None:
    async with make_sessionmaker(engine)() as session, session.begin():
        panel = await build_draft_panel(session, per_group=1)
        panel.discreet_name = NEUTRAL  # seeded, but discreet mode is off
        await open_round_one(session, panel, sink_settings)
    await deliver_due(sink_settings, engine)
    received = smtp_sink.messages()
    assert len(received) == 3
    assert all(got.message["From"] == "Delphi test <panel@test.example>" for got in received)
    assert all("Test panel" in got.message.get_body(("plain",)).get_content() for got in received)
