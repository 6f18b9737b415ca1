"""Every mail to a panellist in their language: the shipped text through gettext, and the panel's own texts (title,
description, neutral name, agreed statements, its own wording of a mail) through its translations, with dates in
that language, against a real database and a real SMTP server."""

from __future__ import annotations

import html
from collections import Counter
from datetime import timedelta
from email.headerregistry import Address
from pathlib import Path
from typing import Any

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from delphi.db.engine import make_sessionmaker
from delphi.db.models import (
    Panel,
    PanelLanguage,
    Panellist,
    Rating,
    Round,
    RoundStatement,
    Submission,
    Translation,
)
from delphi.domain import SYSTEM
from delphi.formatting import format_datetime
from delphi.locale import catalog
from delphi.mail import kinds, panel_texts
from delphi.mail.delivery import deliver_due
from delphi.mail.outbox import SENDER_NAME, panellist_context
from delphi.mail.render import MailRenderer
from delphi.mail.texts import field_values, translation_problems
from delphi.panels.translation_gaps import round_items
from delphi.panels.translations import store_texts
from delphi.participation.submit import submit
from delphi.rounds import lookup, mailing, schedule, transitions
from delphi.settings import Settings
from tests.factories import ACTOR, NOW, PATTERNS, build_draft_panel, rate_everyone
from tests.helpers import login, outbox
from tests.mail.conftest import rows
from tests.smtp import SmtpSink

#: The panel's own invitation, in its primary language (English), and its Spanish translation.
OWN_SUBJECT, OWN_BODY = "Your views, {name}", "Dear {name},\n\nAnswer by {closes_at}.\n\n{link}"
ES_SUBJECT, ES_BODY = "Su opinión, {name}", "Estimado/a {name}:\n\nResponda antes del {closes_at}.\n\n{link}"
ES_TITLE, ES_DESCRIPTION = "Panel de prueba", "Un estudio de los servicios."


def _es(source: str) -> str:
    return f"[es] {source}"


async def _panel(
    session: AsyncSession, languages: dict[str, str], further: tuple[str, ...] = ("es",)
) -> Panel:
    """:func:`build_draft_panel` (one panellist a group) described as "A study of services.", offered in
    ``further`` too; ``languages`` maps an address to its panellist's language (the others read English)."""
    panel = await build_draft_panel(session, per_group=1)
    panel.description = "A study of services."
    session.add_all(PanelLanguage(panel_id=panel.id, language=lang) for lang in further)
    for p in await _people(session, panel):
        p.language = languages.get(p.email or "", "en")
    await session.flush()
    return panel


async def _people(session: AsyncSession, panel: Panel) -> list[Panellist]:
    query = select(Panellist).where(Panellist.panel_id == panel.id).order_by(Panellist.id)
    return list(await session.scalars(query))


def _write_catalog(folder: Path, cat: Catalog) -> Path:
    """``cat`` compiled into ``folder/<its locale>/LC_MESSAGES/delphi.mo``; returns ``folder``."""
    target = folder / str(cat.locale) / "LC_MESSAGES"
    target.mkdir(parents=True)
    with open(target / "delphi.mo", "wb") as f:
        write_mo(f, cat)
    return folder


async def _translate_round(session: AsyncSession, panel: Panel, round_: Round, lang: str = "es") -> None:
    """Every text of ``round_`` translated into ``lang``: the title, description and own invitation text in
    Spanish, the rest as "[es] <primary text>"."""
    proper = {
        "panel.title": ES_TITLE,
        "panel.description": ES_DESCRIPTION,
        "mail.invitation.subject": ES_SUBJECT,
        "mail.invitation.body": ES_BODY,
    }
    items = await round_items(session, panel, round_)
    await store_texts(
        session, panel.id, lang, {it.key: (proper.get(it.key, _es(it.source)), it.source) for it in items}
    )


def _to(mails: list[Any], address: str) -> Any:
    (mail,) = [m for m in mails if m.to_address == address]
    return mail


async def test_a_spanish_panellist_gets_every_mail_in_spanish_and_an_english_one_in_english(
    engine: AsyncEngine, sink_settings: Settings, smtp_sink: SmtpSink
) -> None:
    settings = sink_settings
    async with make_sessionmaker(engine)() as session, session.begin():
        panel = await _panel(session, {"serv0@example.org": "es"})
        await panel_texts.save_text(session, panel, "invitation", OWN_SUBJECT, OWN_BODY, actor=ACTOR)
        round1 = await lookup.get_round(session, panel, 1)
        await _translate_round(session, panel, round1)
        await transitions.open_round(session, panel, round1, now=NOW, settings=settings, actor=ACTOR)
        await schedule.send_reminder_now(session, panel, round1, now=NOW, settings=settings, actor=ACTOR)
        closes = round1.closes_at
        # the Spanish panellist answers everything and submits: the receipt
        spanish = next(p for p in await _people(session, panel) if p.language == "es")
        spanish.consented_at = NOW
        spanish.status = "active"
        links = await session.scalars(select(RoundStatement).where(RoundStatement.round_id == round1.id))
        session.add_all(
            Rating(round_id=round1.id, statement_id=s.statement_id, panellist_id=spanish.id, value=8)
            for s in links
        )
        await session.flush()
        receipt = await submit(session, spanish, now=NOW)

    report = await deliver_due(settings, engine)
    kind_of = {(m.to_address, m.subject): m.kind for m in await rows(engine)}
    received = {(got.to, kind_of[got.to, got.message["Subject"]]): got for got in smtp_sink.messages()}
    assert report.sent == len(received) == 3 + 3 + 1  # invitations, reminders, one receipt
    es_date, en_date = format_datetime(closes, "es"), format_datetime(closes, "en")
    assert " de " in es_date and es_date != en_date

    # the panel's own invitation: translated for the Spanish reader, as written for the English one
    es_invite = received["serv0@example.org", "invitation"].message
    assert es_invite["Subject"] == "Su opinión, Person 0"
    text = es_invite.get_body(("plain",)).get_content()
    assert text.startswith("Estimado/a Person 0:") and f"Responda antes del {es_date}." in text
    assert 'lang="es"' in es_invite.get_body(("html",)).get_content()
    en_invite = received["prac1@example.org", "invitation"].message
    assert en_invite["Subject"] == "Your views, Person 1"
    en_text = en_invite.get_body(("plain",)).get_content()
    assert en_text.startswith("Dear Person 1,") and f"Answer by {en_date}." in en_text
    assert "Estimado" not in en_text

    # the shipped reminder: its panel title and date in Spanish
    es_reminder = received["serv0@example.org", "reminder"]
    body = es_reminder.message.get_body(("plain",)).get_content()
    assert ES_TITLE in body and es_date in body and "Test panel" not in body
    assert 'lang="es"' in es_reminder.message.get_body(("html",)).get_content()
    en_reminder = received["prac1@example.org", "reminder"]
    assert "Panel: Test panel" in en_reminder.message.get_body(("plain",)).get_content()

    # the receipt: title and the time of submission in Spanish
    es_receipt = received["serv0@example.org", "receipt"]
    body = es_receipt.message.get_body(("plain",)).get_content()
    assert ES_TITLE in body and format_datetime(receipt.submitted_at, "es") in body
    assert 'lang="es"' in es_receipt.message.get_body(("html",)).get_content()

    # round 2, then the final results: the agreed statements translated
    async with make_sessionmaker(engine)() as session, session.begin():
        panel = await session.get(Panel, panel.id)
        round1 = await lookup.get_round(session, panel, 1)
        for p in await _people(session, panel):
            p.consented_at = p.consented_at or NOW
        await session.execute(Rating.__table__.delete().where(Rating.round_id == round1.id))
        await session.execute(Submission.__table__.delete().where(Submission.round_id == round1.id))
        await rate_everyone(session, panel, round1, PATTERNS)
        await transitions.close_round(session, panel, round1, now=NOW, settings=settings, actor=SYSTEM)
        round2 = await lookup.get_round(session, panel, 2)
        await _translate_round(session, panel, round2)
        await schedule.set_schedule(
            session,
            panel,
            round2,
            opens_at=None,
            closes_at=NOW + timedelta(days=20),
            reminder_hours=[],
            now=NOW,
            actor=ACTOR,
        )
        await transitions.open_round(session, panel, round2, now=NOW, settings=settings, actor=ACTOR)
        opened = await outbox(session, "round_open")
        es_open = _to(opened, "serv0@example.org")
        assert ES_TITLE in es_open.body_text and "Test panel" not in es_open.body_text
        en_open = _to(opened, "prac1@example.org").body_text
        assert "Panel: Test panel" in en_open and "agreed on 1 of 4" in en_open
        await rate_everyone(session, panel, round2, {g: [8, 8] for g in PATTERNS})
        outcome = await transitions.close_round(
            session, panel, round2, now=NOW, settings=settings, actor=SYSTEM
        )
        assert outcome.finished
        final = await outbox(session, "final_results")
    es_final, en_final = _to(final, "serv0@example.org"), _to(final, "prac1@example.org")
    for n in (0, 2, 3):  # statement 0 agreed in round 1, 2 and 3 in round 2
        assert (
            f"- [es] Statement {n}" in es_final.body_text
            and f"<li>[es] Statement {n}</li>" in es_final.body_html
        )
        assert f"- Statement {n}" in en_final.body_text and "[es]" not in en_final.body_text
    assert ES_TITLE in es_final.body_text and "Test panel" not in es_final.body_text
    assert 'lang="es"' in es_final.body_html


async def test_shipped_spanish_template_text_goes_to_the_spanish_reader(
    session: AsyncSession, tmp_path: Path
) -> None:
    """With a Spanish catalog (a temporary one while the shipped catalog is empty), the shipped wording is
    Spanish around the translated panel texts."""
    cat = Catalog(locale="es")
    cat.add("The panel is called: %(title)s", "Panel %(title)s (es)")
    cat.add("Please answer by %(date)s.", "Responda antes del %(date)s.")
    _write_catalog(tmp_path, cat)
    panel = await _panel(session, {"serv0@example.org": "es"})
    round1 = await lookup.get_round(session, panel, 1)
    await _translate_round(session, panel, round1)
    people = await _people(session, panel)
    texts = await mailing.texts_by_language(session, panel, people)
    renderer = MailRenderer(locale_dir=tmp_path)
    for p in people:
        view = kinds.in_language(panel, texts[p.language])
        context = panellist_context(kinds.invitation(view, round1, p))
        mail = renderer.render("invitation", context, p.language)
        if p.language == "es":
            assert f"Panel {ES_TITLE} (es)" in mail.text and ES_DESCRIPTION in mail.text
            assert f"Responda antes del {format_datetime(round1.closes_at, 'es')}." in mail.text
        else:
            assert "The panel is called: Test panel\n" in mail.text and "A study of services." in mail.text


async def test_without_a_translation_the_own_text_goes_in_the_primary_wording(session: AsyncSession) -> None:
    panel = await _panel(session, {"serv0@example.org": "es"})
    await panel_texts.save_text(session, panel, "invitation", OWN_SUBJECT, OWN_BODY, actor=ACTOR)
    round1 = await lookup.get_round(session, panel, 1)
    await store_texts(session, panel.id, "es", {"panel.title": (ES_TITLE, "Test panel")})  # no mail text
    await mailing.round_opened(session, panel, round1, await _people(session, panel))
    es = _to(await outbox(session, "invitation"), "serv0@example.org")
    assert es.subject == "Your views, Person 0" and es.body_text.startswith("Dear Person 0,")
    # the date is still the reader's
    assert f"Answer by {format_datetime(round1.closes_at, 'es')}." in es.body_text


@pytest.mark.parametrize(
    "stored",
    [
        {"mail.invitation.subject": ES_SUBJECT, "mail.invitation.body": "Estimado/a {name}: sin enlace."},
        {"mail.invitation.subject": ES_SUBJECT, "mail.invitation.body": "Hola {nombre}\n{link}"},
        {"mail.invitation.subject": "Sobre {panel_title}", "mail.invitation.body": ES_BODY},
    ],
    ids=["no link", "unknown placeholder", "title in subject"],
)
async def test_an_invalid_stored_translation_is_set_aside_for_the_primary_wording(
    session: AsyncSession, stored: dict[str, str]
) -> None:
    panel = await _panel(session, {"serv0@example.org": "es"})
    await panel_texts.save_text(session, panel, "invitation", OWN_SUBJECT, OWN_BODY, actor=ACTOR)
    session.add_all(  # written past the checks, as an old or imported row might be
        Translation(panel_id=panel.id, language="es", key=k, text=t, source="") for k, t in stored.items()
    )
    await session.flush()
    round1 = await lookup.get_round(session, panel, 1)
    assert await mailing.round_opened(session, panel, round1, await _people(session, panel)) == 3
    es = _to(await outbox(session, "invitation"), "serv0@example.org")
    assert es.subject == "Your views, Person 0" and es.body_text.startswith("Dear Person 0,")
    assert "[[delphi:personal-link]]" in es.body_text


async def test_discreet_mode_hides_the_title_and_the_agreed_list_in_every_language(
    engine: AsyncEngine, sink_settings: Settings, smtp_sink: SmtpSink
) -> None:
    async with make_sessionmaker(engine)() as session, session.begin():
        panel = await _panel(session, {"serv0@example.org": "es", "expe2@example.org": "cy"}, ("es", "cy"))
        panel.title, panel.description = "Heroin treatment review", "How services treat heroin users."
        panel.discreet, panel.discreet_name = True, "Service feedback study"
        await store_texts(
            session,
            panel.id,
            "es",
            {
                "panel.title": ("Revisión del tratamiento de la heroína", panel.title),
                "panel.description": ("Cómo se trata la heroína.", panel.description),
                "panel.discreet_name": ("Estudio de servicios", panel.discreet_name),
            },
        )
        await store_texts(
            session, panel.id, "cy", {"panel.title": ("Adolygiad heroin", panel.title)}
        )  # no neutral name in Welsh: the primary one
        round1 = await lookup.get_round(session, panel, 1)
        people = await _people(session, panel)
        await mailing.round_opened(session, panel, round1, people)
        await mailing.final_results(session, panel, people)
        queued = await outbox(session, "invitation") + await outbox(session, "final_results")
        texts = await mailing.texts_by_language(session, panel, people)
        for p in people:  # the agreed list is left out in every language, only counted
            view = kinds.in_language(panel, texts[p.language])
            final = kinds.final_results(view, p, agreed=["Prescribe heroin"], n_rounds=2)
            assert final["agreed"] == [] and final["n_agreed"] == 1
            assert final["panel_title"] == (
                "Estudio de servicios" if p.language == "es" else panel.discreet_name
            )
        for m in queued:
            assert m.headers == {
                SENDER_NAME: "Estudio de servicios"
                if m.to_address == "serv0@example.org"
                else panel.discreet_name
            }
    await deliver_due(sink_settings, engine)
    received = smtp_sink.messages()
    assert len(received) == 6
    for got in received:
        raw = got.raw.decode()
        assert "heroin" not in raw.lower() and "hero=C3=ADna" not in raw  # nor the Spanish title
        text = got.message.get_body(("plain",)).get_content()
        neutral = "Estudio de servicios" if got.to == "serv0@example.org" else "Service feedback study"
        assert neutral in text
        assert got.message["From"].addresses[0] == Address(neutral, addr_spec="panel@test.example")


def test_translation_problems_refuses_a_body_without_link_and_an_unknown_placeholder() -> None:
    assert translation_problems("mail.invitation.body", ES_BODY) == []
    assert translation_problems("mail.invitation.subject", ES_SUBJECT) == []
    (no_link,) = translation_problems("mail.invitation.body", "Hola {name}.")
    assert "{link}" in no_link
    (unknown,) = translation_problems("mail.reminder.body", "Hola {nombre}\n{link}")
    assert "{nombre}" in unknown
    (in_subject,) = translation_problems("mail.invitation.subject", "Sobre {panel_title}")
    assert "{panel_title}" in in_subject
    assert translation_problems("statement.12", "{nada") == []  # not a mail text


def test_dates_in_placeholders_are_written_in_the_readers_language() -> None:
    when = NOW.replace(month=3, day=3, hour=17, minute=0)
    assert field_values({"closes_at": when}, "es")["closes_at"] == format_datetime(when, "es")
    assert "marzo" in field_values({"closes_at": when}, "es")["closes_at"]
    assert "March" in field_values({"closes_at": when})["closes_at"]


async def test_a_mailing_to_three_languages_renders_once_per_language_and_shape(
    session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    panel = await build_draft_panel(session, per_group=6)  # 18 panellists
    session.add_all(PanelLanguage(panel_id=panel.id, language=lang) for lang in ("es", "cy"))
    people = await _people(session, panel)
    for i, p in enumerate(people):
        p.language = ("en", "es", "cy")[i % 3]
    await store_texts(session, panel.id, "es", {"panel.title": (ES_TITLE, panel.title)})
    await store_texts(session, panel.id, "cy", {"panel.title": ("Panel prawf", panel.title)})
    await session.flush()
    renders: Counter[str] = Counter()
    render = MailRenderer.render

    def counting(
        self: MailRenderer, name: str, context: Any, language: str = "en", wording: Any = None
    ) -> Any:
        renders[language] += 1
        return render(self, name, context, language, wording)

    monkeypatch.setattr(MailRenderer, "render", counting)
    round1 = await lookup.get_round(session, panel, 1)
    assert await mailing.round_opened(session, panel, round1, people) == 18
    # one rendering of the shape of each language's mail, and its first and last mail in full to check it
    assert renders == {"en": 3, "es": 3, "cy": 3}
    titles = {"en": "Test panel", "es": ES_TITLE, "cy": "Panel prawf"}
    by_address = {m.to_address: m for m in await outbox(session, "invitation")}
    for p in people:
        mail = by_address[p.email]
        assert p.name in mail.body_text and f": {titles[p.language]}\n" in mail.body_text


def test_the_summary_lines_of_a_new_round_go_through_gettext(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cat = Catalog(locale="es")
    cat.add(
        (
            "In round %(round)s the panel agreed on %(agreed)s of %(num)s recommendation.",
            "In round %(round)s the panel agreed on %(agreed)s of %(num)s recommendations.",
        ),
        (
            "En la ronda %(round)s el panel acordó %(agreed)s de %(num)s recomendación.",
            "En la ronda %(round)s el panel acordó %(agreed)s de %(num)s recomendaciones.",
            "En la ronda %(round)s el panel acordó %(agreed)s de %(num)s recomendaciones.",
        ),  # Spanish has three plural forms in the CLDR
    )
    _write_catalog(tmp_path, cat)
    monkeypatch.setattr(kinds, "catalog", lambda language: catalog(language, str(tmp_path)))
    verdicts = ["in", "in", "out", "withheld"]
    spanish = mailing.summary_lines(1, verdicts, 2, language="es")
    assert spanish[0] == "En la ronda 1 el panel acordó 2 de 3 recomendaciones."
    assert spanish[1] == "For 1 more, too few people answered to show a result."  # not translated: English
    assert mailing.summary_lines(1, verdicts, 2) == [
        "In round 1 the panel agreed on 2 of 3 recommendations.",
        "For 1 more, too few people answered to show a result.",
        "This round asks 2 again or for the first time, and shows how the panel answered last time.",
    ]


async def test_the_mail_text_page_says_which_languages_have_a_translation_and_previews_each(
    session: AsyncSession, client: AsyncTestClient
) -> None:
    panel = await _panel(session, {"serv0@example.org": "es"}, ("es", "cy"))
    await panel_texts.save_text(session, panel, "invitation", OWN_SUBJECT, OWN_BODY, actor=ACTOR)
    await store_texts(
        session,
        panel.id,
        "es",
        {
            "panel.title": (ES_TITLE, "Test panel"),
            "mail.invitation.subject": (ES_SUBJECT, OWN_SUBJECT),
            "mail.invitation.body": (ES_BODY, OWN_BODY),
        },
    )
    await session.commit()
    await login(client, "fac@example.org")
    base = f"/panels/{panel.id}"
    listing = html.unescape((await client.get(f"{base}/mail/texts")).text)
    assert f'<a href="{base}/translations/es">Translated</a>' in listing
    assert f'<a href="{base}/translations/cy">Not translated: the primary wording is sent</a>' in listing
    page = await client.get(f"{base}/mail/texts/invitation")
    text = html.unescape(page.text)
    assert page.status_code == 200 and "Subject:</strong> Your views, Sam" in text
    assert f'href="{base}/translations/es"' in text and f'href="{base}/translations/cy"' in text
    assert f'href="{base}/mail/texts/invitation?lang=es#preview"' in text
    spanish = html.unescape((await client.get(f"{base}/mail/texts/invitation?lang=es")).text)
    assert "Subject:</strong> Su opinión, Sam" in spanish and "Estimado/a Sam:" in spanish
    assert 'lang="es"' in spanish and "de marzo de 2031" in spanish
    welsh = html.unescape((await client.get(f"{base}/mail/texts/invitation?lang=cy")).text)
    assert (
        "Subject:</strong> Your views, Sam" in welsh and "Mawrth 2031" in welsh
    )  # primary wording, Welsh date
    assert (await client.get(f"{base}/mail/texts/invitation?lang=fr")).status_code == 404
