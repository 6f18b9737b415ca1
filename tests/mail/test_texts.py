"""A panel's own mail wording (delphi/mail/texts.py), the panel contact in every panellist mail, and discreet mode:
pure rendering, no database, no network."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from delphi.mail import kinds
from delphi.mail.outbox import LINK_PLACEHOLDER, panellist_context
from delphi.mail.render import render_mail
from delphi.mail.texts import (
    DEFAULTS,
    DESCRIPTIONS,
    EDITABLE_KINDS,
    LINK_FIELDS,
    Wording,
    field_values,
    fill,
    html_blocks,
    parse,
    placeholders,
    problems,
    sample_context,
)

TITLE = "Methadone and heroin treatment in Leeds"
NEUTRAL = "Service feedback study"


def panel(discreet: bool = False) -> SimpleNamespace:
    return SimpleNamespace(
        title=TITLE,
        description="How drug services in Leeds should involve the people who use them.",
        honorarium_minor=1500,
        currency="GBP",
        contact_name="Sam Patel",
        contact_email="sam.patel@university.example",
        contact_phone="0113 496 0000",
        discreet=discreet,
        discreet_name=NEUTRAL,
    )


ROUND = SimpleNamespace(id=4, number=2, closes_at=datetime(2030, 3, 3, 17, 0, tzinfo=UTC))
PERSON = SimpleNamespace(id=9, name="Jo", language="en")
AGREED = ["Offer take-home methadone doses once treatment is stable."]


def context(kind: str, p: SimpleNamespace) -> dict:
    """The context the rounds service gives ``kind`` (with the link placeholders the outbox adds)."""
    build = {
        "invitation": lambda: kinds.invitation(p, replace_round(1), PERSON),
        "round_open": lambda: kinds.round_open(p, ROUND, PERSON, summary=["The panel agreed on 3 of 9."]),
        "reminder": lambda: kinds.reminder(p, ROUND, PERSON, rated=4, total=9),
        "receipt": lambda: kinds.receipt(p, ROUND, PERSON, submitted_at=datetime(2030, 3, 1, tzinfo=UTC)),
        "final_results": lambda: kinds.final_results(p, PERSON, agreed=AGREED, n_rounds=3),
    }[kind]
    return panellist_context(build())


def replace_round(number: int) -> SimpleNamespace:
    return SimpleNamespace(id=ROUND.id, number=number, closes_at=ROUND.closes_at)


@pytest.mark.parametrize("discreet", [False, True], ids=["normal", "discreet"])
@pytest.mark.parametrize("kind", EDITABLE_KINDS)
def test_shipped_subjects_of_every_panellist_mail_are_topic_neutral_in_both_modes(
    kind: str, discreet: bool
) -> None:
    subject = render_mail(kind, context(kind, panel(discreet))).subject
    assert subject
    for word in ("drug", "methadone", "heroin", "leeds", NEUTRAL.lower()):
        assert word not in subject.lower()


@pytest.mark.parametrize("kind", EDITABLE_KINDS)
def test_discreet_bodies_name_the_panel_by_its_neutral_name_and_never_by_title_or_topic(kind: str) -> None:
    mail = render_mail(kind, context(kind, panel(discreet=True)))
    for body in (mail.text, mail.html):
        assert TITLE not in body
        assert "drug" not in body.lower() and "methadone" not in body.lower()  # description, agreed list
    assert NEUTRAL in mail.text  # every panellist mail names the panel, by its neutral name here
    normal = render_mail(kind, context(kind, panel()))
    assert TITLE in normal.text and NEUTRAL not in normal.text


def test_the_discreet_final_mail_still_says_how_many_recommendations_were_agreed() -> None:
    mail = render_mail("final_results", context("final_results", panel(discreet=True)))
    assert "The panel agreed on 1 recommendation." in mail.text
    assert AGREED[0] not in mail.text + mail.html
    assert AGREED[0] in render_mail("final_results", context("final_results", panel())).text


def test_discreet_mode_without_a_neutral_name_is_not_discreet_and_changes_no_sender() -> None:
    unnamed = SimpleNamespace(**{**vars(panel(discreet=True)), "discreet_name": "  "})
    assert kinds.sender_name(unnamed) is None and kinds.panel_name(unnamed) == TITLE
    assert kinds.sender_name(panel(discreet=True)) == NEUTRAL and kinds.sender_name(panel()) is None


@pytest.mark.parametrize("own", [False, True], ids=["shipped", "own text"])
@pytest.mark.parametrize("kind", EDITABLE_KINDS)
def test_every_panellist_mail_ends_with_the_panel_contact(kind: str, own: bool) -> None:
    mail = render_mail(kind, context(kind, panel()), wording=DEFAULTS[kind] if own else None)
    for body in (mail.text, mail.html):
        assert "Questions? Contact Sam Patel:" in body
        assert "sam.patel@university.example" in body and "0113 496 0000" in body
    assert 'href="mailto:sam.patel@university.example"' in mail.html


def test_placeholders_are_the_keys_of_the_kinds_context_and_each_is_described() -> None:
    for kind in EDITABLE_KINDS:
        names = placeholders(kind)
        assert set(names) == set(context(kind, panel())) | set(LINK_FIELDS)
        assert {"name", "link", "contact_name", "contact_email", "panel_title"} <= set(names)
        assert all(DESCRIPTIONS.get(n) for n in names), kind
    assert "closes_at" in placeholders("reminder") and "closes_at" not in placeholders("final_results")


@pytest.mark.parametrize("kind", EDITABLE_KINDS)
def test_each_shipped_wording_offered_for_editing_passes_its_own_checks(kind: str) -> None:
    assert problems(kind, DEFAULTS[kind].subject, DEFAULTS[kind].body) == []


def test_every_problem_of_a_text_is_listed_at_once() -> None:
    subject = "News from {panel_title} for {nickname"
    body = "Hello {name},\n\nYour {score} is in. {link.__class__} and {0}\nA lone } here."
    found = problems("reminder", subject, body)
    messages = [m for _, m in found]
    assert [f for f, _ in found] == ["subject", "subject", "body", "body", "body", "body", "body"]
    assert "line 1 is not closed" in messages[0]
    assert messages[1].startswith("The subject cannot use {panel_title}")
    assert "{link.__class__} on line 3 is not a placeholder" in messages[2]
    assert "{0} on line 3 is not a placeholder" in messages[3]
    assert "A } on line 4 has no {" in messages[4]
    assert messages[5] == "The text uses {score}, which this mail does not have."
    assert messages[6].startswith("The text must contain {link}")


def test_empty_and_overlong_texts_are_refused() -> None:
    assert problems("receipt", " ", "") == [
        ("subject", "Enter a subject."),
        ("body", "Enter the text of the e-mail."),
    ]
    long = problems("receipt", "x" * 201, "{link} " + "y" * 10_000)
    assert [f for f, _ in long] == ["subject", "body"]


def test_a_subject_may_not_carry_a_link_or_the_topic() -> None:
    for name in ("link", "withdraw_link", "panel_title", "panel_description", "agreed"):
        kind = "final_results" if name == "agreed" else "invitation"
        found = problems(kind, f"Hi {{{name}}}", "{link}")
        assert found and found[0][0] == "subject" and f"cannot use {{{name}}}" in found[0][1]


@pytest.mark.parametrize(
    ("text", "printed"),
    [
        ("{{ config }}", "{ config }"),
        ("{{ 7*7 }}", "{ 7*7 }"),
        ("{{link}}", "{link}"),
        ("{% for x in () %}", "{% for x in () %}"),
    ],
)
def test_template_syntax_in_a_text_is_printed_literally_never_evaluated(text: str, printed: str) -> None:
    body = f"{text}\n\n{{link}}"
    if "{%" in text:
        # "{%" is no placeholder: refused, so it can neither run nor be sent
        assert any(
            "is not closed" in m or "not a placeholder" in m for _, m in problems("reminder", "Hi", body)
        )
        return
    assert problems("reminder", "Hi", body) == []
    mail = render_mail("reminder", context("reminder", panel()), wording=Wording("Hi", body))
    assert mail.text.startswith(printed + "\n")
    assert "49" not in mail.text.split("\n")[0]


def test_attribute_and_index_lookups_are_refused_and_never_reach_the_values() -> None:
    for field in ("{link.__class__}", "{name.__init__.__globals__}", "{name[0]}", "{name!r}", "{name:>9}"):
        found = problems("reminder", "Hi", f"{field} {{link}}")
        assert found and "is not a placeholder" in found[0][1], field
        with pytest.raises(ValueError):
            fill(field, {"name": "Jo", "link": "L"})


def test_parse_reads_doubled_braces_as_literal_braces() -> None:
    segments, found = parse("a {{b}} {name} }}")
    assert found == [] and fill("a {{b}} {name} }}", {"name": "Jo"}) == "a {b} Jo }"
    assert len(segments) == 3


def test_field_values_put_dates_in_words_lists_as_lines_and_none_as_nothing() -> None:
    values = field_values(
        {"closes_at": ROUND.closes_at, "summary": ["One.", "Two."], "honorarium": None, "rated": 4}
    )
    assert values == {
        "closes_at": "3 March 2030, 17:00 UTC",
        "summary": "- One.\n- Two.",
        "honorarium": "",
        "rated": "4",
    }


def test_the_html_of_an_own_text_is_escaped_with_the_link_alone_on_a_line_as_the_button() -> None:
    values = {"name": "<b>Jo</b>", "link": "https://x.example/p/T?a=1&b=2", "summary": "- a\n- b"}
    blocks = html_blocks("Hello {name} & co,\n{summary}\n\nStart:\n{link}\n\nOr open {link} later.", values)
    assert [kind for kind, _ in blocks] == ["p", "p", "button", "p"]
    assert blocks[0][1] == "Hello &lt;b&gt;Jo&lt;/b&gt; &amp; co,<br>- a<br>- b"
    assert 'href="https://x.example/p/T?a=1&amp;b=2"' in blocks[3][1]
    mail = render_mail("reminder", context("reminder", panel()), wording=Wording("Hi", "Start:\n{link}"))
    assert mail.html.count(f'href="{LINK_PLACEHOLDER}"') == 2  # the button, and the address under it


def test_an_own_text_replaces_subject_and_body_but_keeps_the_shipped_footer() -> None:
    wording = Wording(
        "Round {round_number}, {name}", "Dear {name},\n\nRound {round_number} closes {closes_at}.\n{link}"
    )
    mail = render_mail("reminder", context("reminder", panel()), wording=wording)
    assert mail.subject == "Round 2, Jo"
    assert mail.text.startswith("Dear Jo,\n\nRound 2 closes 3 March 2030, 17:00 UTC.\n" + LINK_PLACEHOLDER)
    assert "Please do not forward this e-mail." in mail.text and "Please do not forward" in mail.html
    assert "friendly reminder" not in mail.text


def test_a_stored_text_that_no_longer_fits_its_kind_falls_back_to_the_shipped_text() -> None:
    mail = render_mail("reminder", context("reminder", panel()), wording=Wording("Hi", "No link {gone}"))
    assert mail.subject.startswith("Reminder:") and "friendly reminder" in mail.text


def test_the_sample_context_uses_the_panels_mode_and_contact() -> None:
    sample = sample_context("invitation", panel(discreet=True))
    assert sample["panel_title"] == NEUTRAL and sample["panel_description"] == ""
    assert sample["contact_email"] == "sam.patel@university.example" and sample["name"] == "Sam"
    with pytest.raises(KeyError):
        sample_context("password_reset")
