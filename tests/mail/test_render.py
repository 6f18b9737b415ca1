"""Rendering mail from template triples, and writing the MIME message (no database, no network)."""

from __future__ import annotations

from datetime import UTC, datetime
from email import policy
from email.parser import BytesParser
from pathlib import Path
from types import SimpleNamespace

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo

from delphi.mail import kinds
from delphi.mail.compose import ComposeError, compose, stable_message_id
from delphi.mail.outbox import (
    LINK_PLACEHOLDER,
    ONE_TIME_LINK_PLACEHOLDER,
    WITHDRAW_PLACEHOLDER,
    panellist_context,
)
from delphi.mail.render import MailRenderer, MailTemplateError, render_mail
from delphi.resources import TEMPLATE_DIR

PANEL = SimpleNamespace(
    title="Involving people who use drug services <b>& friends</b>",
    description="Short description.",
    honorarium_minor=1500,
    currency="GBP",
    contact_name="Sam Patel",
    contact_email="sam.patel@university.example",
    contact_phone="020 7946 0000",
    discreet=False,
    discreet_name="",
)
ROUND = SimpleNamespace(id=4, number=2, closes_at=datetime(2030, 3, 3, 17, 0, tzinfo=UTC))
PERSON = SimpleNamespace(id=9, name="Sam <script>", language="en")


def contexts() -> dict[str, dict]:
    return {
        kinds.invitation.name: panellist_context(kinds.invitation(PANEL, ROUND, PERSON, minutes=15)),
        kinds.round_open.name: panellist_context(
            kinds.round_open(PANEL, ROUND, PERSON, summary=["The panel agreed on 3 of 9."])
        ),
        kinds.reminder.name: panellist_context(kinds.reminder(PANEL, ROUND, PERSON, rated=4, total=9)),
        kinds.receipt.name: panellist_context(
            kinds.receipt(PANEL, ROUND, PERSON, submitted_at=datetime(2030, 3, 1, tzinfo=UTC))
        ),
        kinds.final_results.name: panellist_context(
            kinds.final_results(PANEL, PERSON, agreed=["Offer a video <guide>."], n_rounds=3)
        ),
        kinds.facilitator_notice.name: kinds.facilitator_notice(
            panel_title=PANEL.title,
            panel_url="http://testserver.local/panels/1",
            notice="bounce",
            pseudonym="P-017",
            mail_kind=kinds.invitation.name,
            reason="550 5.1.1 No such user",
        ),
        kinds.password_reset.name: {
            "link": ONE_TIME_LINK_PLACEHOLDER,
            **kinds.password_reset(name="Fran <b>", minutes=60),
        },
        kinds.team_invitation.name: {
            "link": ONE_TIME_LINK_PLACEHOLDER,
            **kinds.team_invitation(
                panel_title=PANEL.title,
                invited_by="Olu <Owner>",
                role="facilitator",
                can_contact=True,
                expires_at=datetime(2030, 3, 8, 12, 0, tzinfo=UTC),
            ),
        },
        kinds.team_access.name: kinds.team_access(
            panel_title=PANEL.title,
            panel_url="http://testserver.local/panels/1",
            invited_by="Olu",
            role="researcher (read and export)",
            can_contact=False,
        ),
    }


#: Kinds of mail that go to accounts, not to panellists: no personal link, no withdraw link.
NOT_TO_PANELLISTS = frozenset(
    {
        kinds.facilitator_notice.name,
        kinds.password_reset.name,
        kinds.team_invitation.name,
        kinds.team_access.name,
    }
)


@pytest.mark.parametrize("name", list(kinds.MAIL_KINDS))
def test_every_kind_renders_a_one_line_subject_that_never_names_the_panel(name: str) -> None:
    mail = render_mail(name, contexts()[name])
    assert mail.subject and "\n" not in mail.subject
    assert "drug" not in mail.subject.lower() and PANEL.title not in mail.subject
    assert mail.text.strip() and mail.html.strip()
    for template in ("subject.txt", "body.txt", "body.html"):
        assert (TEMPLATE_DIR / "email" / name / template).is_file()


@pytest.mark.parametrize("name", [k for k in kinds.MAIL_KINDS if k not in NOT_TO_PANELLISTS])
def test_panellist_mail_holds_link_placeholders_and_a_generic_first_line(name: str) -> None:
    mail = render_mail(name, contexts()[name])
    for body in (mail.text, mail.html):
        assert LINK_PLACEHOLDER in body and WITHDRAW_PLACEHOLDER in body
    second_line = mail.text.split("\n\n")[1]  # what a phone shows under the subject
    assert "drug" not in second_line.lower()


def test_the_password_reset_mail_holds_the_one_time_link_placeholder_and_no_withdraw_link() -> None:
    mail = render_mail(kinds.password_reset.name, contexts()[kinds.password_reset.name])
    for body in (mail.text, mail.html):
        assert ONE_TIME_LINK_PLACEHOLDER in body
        assert WITHDRAW_PLACEHOLDER not in body and LINK_PLACEHOLDER not in body
        assert "works once, for one hour" in body and "ignore this e-mail" in body
    assert mail.subject == "Choose a new password"
    assert "Hello Fran &lt;b&gt;," in mail.html and "Hello Fran <b>," in mail.text


def test_the_team_invitation_carries_its_one_time_link_and_says_who_invites_as_what() -> None:
    mail = render_mail(kinds.team_invitation.name, contexts()[kinds.team_invitation.name])
    for body in (mail.text, mail.html):
        assert ONE_TIME_LINK_PLACEHOLDER in body
        assert WITHDRAW_PLACEHOLDER not in body and LINK_PLACEHOLDER not in body
        assert "as facilitator" in body and "e-mail addresses" in body
    assert "Olu <Owner> invites you" in mail.text and "Olu &lt;Owner&gt; invites you" in mail.html
    assert mail.subject == "An invitation to join a panel team"


def test_the_team_access_notice_links_to_the_panel() -> None:
    mail = render_mail(kinds.team_access.name, contexts()[kinds.team_access.name])
    assert (
        "http://testserver.local/panels/1" in mail.text
        and 'href="http://testserver.local/panels/1"' in mail.html
    )
    assert "as researcher (read and export)" in mail.text and ONE_TIME_LINK_PLACEHOLDER not in mail.text


def test_html_body_is_escaped_and_text_body_is_verbatim() -> None:
    mail = render_mail(kinds.final_results.name, contexts()[kinds.final_results.name])
    assert "&lt;b&gt;&amp; friends&lt;/b&gt;" in mail.html and "<b>& friends</b>" not in mail.html
    assert "Hello Sam &lt;script&gt;," in mail.html and "<script>" not in mail.html
    assert "Offer a video &lt;guide&gt;." in mail.html
    assert "<b>& friends</b>" in mail.text and "Hello Sam <script>," in mail.text
    assert "Offer a video <guide>." in mail.text and "&lt;" not in mail.text


def test_a_missing_context_variable_is_an_error_that_names_it() -> None:
    context = dict(contexts()[kinds.reminder.name])
    del context["round_number"]
    with pytest.raises(MailTemplateError, match="round_number"):
        render_mail(kinds.reminder.name, context)


def test_an_unknown_template_is_an_error() -> None:
    with pytest.raises(MailTemplateError, match="does not exist"):
        render_mail("no_such_mail", {})


def test_gettext_catalog_translates_subject_and_bodies(tmp_path: Path) -> None:
    catalog = Catalog(locale="cy")
    catalog.add("You're invited to share your views", "Gwahoddiad i rannu eich barn")
    catalog.add("Hello %(name)s,", "Helo %(name)s,")
    folder = tmp_path / "cy" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    with open(folder / "delphi.mo", "wb") as f:
        write_mo(f, catalog)
    renderer = MailRenderer(locale_dir=tmp_path)
    welsh = renderer.render(kinds.invitation.name, contexts()[kinds.invitation.name], language="cy")
    english = renderer.render(kinds.invitation.name, contexts()[kinds.invitation.name], language="en")
    assert welsh.subject == "Gwahoddiad i rannu eich barn"
    assert welsh.text.startswith("Helo Sam <script>,") and "Helo Sam &lt;script&gt;," in welsh.html
    assert english.subject == "You're invited to share your views"
    assert 'lang="cy"' in welsh.html


def test_facilitator_notice_subject_cannot_carry_a_line_break() -> None:
    context = dict(contexts()[kinds.facilitator_notice.name], pseudonym="P-1\r\nBcc: someone@example.org")
    assert "\n" not in render_mail(kinds.facilitator_notice.name, context).subject


def test_composed_message_is_multipart_alternative_in_utf8_with_one_recipient() -> None:
    text = (
        "Héllo,\n.\nA line that is much longer than seventy-six characters, so it must be soft-wrapped " * 3
    )
    raw = compose(
        sender="Équipe Delphi <panel@test.example>",
        to="person@example.org",
        subject="Café: you're invited — a subject long enough to need folding across more than one line",
        text=text,
        html="<p>Héllo &amp; welcome</p>",
        message_id="<abc@test.example>",
        date=datetime(2030, 1, 1, 12, tzinfo=UTC),
        extra_headers={"List-Unsubscribe": "<http://testserver.local/p/x/leave>"},
    )
    message = BytesParser(policy=policy.default).parsebytes(raw)
    assert message.get_content_type() == "multipart/alternative"
    assert message["Subject"].startswith("Café: you're invited")
    assert message["From"].addresses[0].display_name == "Équipe Delphi"
    assert message["To"] == "person@example.org" and message["Cc"] is None and message["Bcc"] is None
    assert message["List-Unsubscribe"] == "<http://testserver.local/p/x/leave>"
    assert message.get_body(("plain",)).get_content().replace("\r\n", "\n") == text
    assert message.get_body(("html",)).get_content().strip() == "<p>Héllo &amp; welcome</p>"
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))


def test_compose_refuses_header_injection() -> None:
    base = dict(
        sender="panel@test.example",
        to="person@example.org",
        subject="Hi",
        text="t",
        html="h",
        message_id="<a@b>",
        date=datetime(2030, 1, 1, tzinfo=UTC),
    )
    with pytest.raises(ComposeError):
        compose(**{**base, "subject": "Hi\r\nBcc: x@example.org"})
    with pytest.raises(ComposeError):
        compose(**{**base, "to": "a@example.org, b@example.org"})


def test_message_id_is_stable_per_message_and_reveals_nothing() -> None:
    one = stable_message_id(b"k" * 32, "invitation:r1:p2", "test.example")
    assert one == stable_message_id(b"k" * 32, "invitation:r1:p2", "test.example")
    assert one != stable_message_id(b"k" * 32, "invitation:r1:p3", "test.example")
    assert one.endswith("@test.example>") and "invitation" not in one


def test_money_is_shown_without_pence_when_whole() -> None:
    # the mails' honorarium is delphi.formatting.format_money(..., whole_without_decimals=True)
    def honorarium(minor: int | None, language: str = "en") -> str | None:
        panel = SimpleNamespace(honorarium_minor=minor, currency="GBP")
        return kinds._honorarium(panel, SimpleNamespace(language=language))  # type: ignore[arg-type]

    assert honorarium(1500) == "£15"
    assert honorarium(1550) == "£15.50"
    assert honorarium(None) is None
