"""A panel's own wording of a panellist mail: placeholders, their checks, filling them, and the HTML made from text.

Pure: no I/O.  A facilitator writes a subject and a plain-text body with ``{placeholder}`` fields
(:class:`delphi.db.models.MailText`); this module never runs a template language over it.  The grammar is
:meth:`str.format`'s without its power: ``{name}`` is a field, ``{{`` and ``}}`` are literal braces, and anything
else inside braces (``{link.__class__}``, ``{0}``, ``{name!r}``, ``{ name }``) is refused, as are braces that do not
close.  So ``{{ config }}`` is printed as the text ``{ config }``, and no attribute, index or conversion is ever
looked up.

The placeholders a kind may use are the keys of its context (:mod:`delphi.mail.kinds`, one source) plus the two
links the outbox adds (:data:`LINK_FIELDS`): :func:`placeholders`.  Values become text with
:func:`field_values` (dates in words, lists one "- " line each, None as nothing).

What a panel's text replaces: the part of the mail above its footer.  The footer (the panel contact, "do not
forward this e-mail" and the link to leave) is always the shipped one, in the panellist's language.  Texts are
written in the panel's primary language; a panellist reading one of the panel's further languages gets its
translation (keys ``mail.<kind>.subject`` and ``mail.<kind>.body`` of :mod:`delphi.panels.translations`, chosen by
:func:`in_language`), checked with the rules of the primary text (:func:`translation_problems`), and the primary
wording where there is none or it no longer fits.  A panel without its own text of a kind sends the shipped one,
translated by gettext.  Dates in fields are written in the reader's language (:func:`field_values`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from markupsafe import Markup, escape

from delphi.formatting import format_datetime
from delphi.locale import catalog
from delphi.mail import kinds

#: The kinds of mail to panellists whose wording a panel may change, in the order the page lists them.
EDITABLE_KINDS: tuple[str, ...] = ("invitation", "round_open", "reminder", "receipt", "final_results")
#: Added to every panellist mail's context by :func:`delphi.mail.outbox.panellist_context`.
LINK_FIELDS: tuple[str, ...] = ("link", "withdraw_link")
#: A body without this field would leave the panellist no way in: every editable kind needs it.
REQUIRED_IN_BODY = "link"
#: Fields a subject may not use: subjects show on lock screens, so they never name the panel or its topic, and
#: a link in a subject would be shown to anyone who sees the phone.
NOT_IN_SUBJECT = frozenset({"panel_title", "panel_description", "summary", "agreed", "link", "withdraw_link"})
#: Longest subject and body a facilitator may save, in characters.
MAX_SUBJECT, MAX_BODY = 200, 10_000

#: What each placeholder stands for, in the words of the edit page.  Every key of an editable kind's context
#: has one (checked by the tests), so a new context key must say what it is.
DESCRIPTIONS: dict[str, str] = {
    "name": "the panellist's name, or nothing when it is not known",
    "panel_title": "the panel's title (its neutral name in discreet mode)",
    "panel_description": "what the panel is about (nothing in discreet mode)",
    "round_number": "the round's number",
    "closes_at": "when the round closes, like 3 March 2031, 17:00 UTC (nothing when no date is set)",
    "minutes": "about how many minutes a round takes (nothing when not given)",
    "honorarium": "the payment for a completed round, like £15 (nothing when the panel does not pay)",
    "summary": "a few lines on what the last round settled",
    "rated": "how many statements the panellist has answered so far",
    "total": "how many statements the round asks",
    "submitted_at": "when the panellist sent their answers",
    "agreed": "the agreed recommendations, one line each (nothing in discreet mode)",
    "n_agreed": "how many recommendations the panel agreed on",
    "n_rounds": "how many rounds the panel held",
    "contact_name": "the panel contact's name",
    "contact_email": "the panel contact's e-mail address",
    "contact_phone": "the panel contact's phone number (nothing when not given)",
    "link": "the panellist's personal link (required in the body)",
    "withdraw_link": "the link to leave the panel (the footer has it already)",
}

_NAME = re.compile(r"[a-z][a-z0-9_]*\Z")


@dataclass(frozen=True, slots=True)
class Wording:
    """A panel's own subject and body of one kind of mail, with ``{placeholder}`` fields."""

    subject: str
    body: str


@dataclass(frozen=True, slots=True)
class Field:
    """A ``{name}`` field of a parsed text."""

    name: str


Segment = str | Field


@dataclass(frozen=True, slots=True)
class _Round:
    id: int
    number: int
    closes_at: datetime | None


@dataclass(frozen=True, slots=True)
class _Panellist:
    id: int
    name: str
    language: str


@dataclass(frozen=True, slots=True)
class _Panel:
    title: str = "Your panel"
    description: str = "What the panel is about."
    honorarium_minor: int | None = 1500
    currency: str = "GBP"
    contact_name: str = "The research team"
    contact_email: str = "team@example.org"
    contact_phone: str = ""
    discreet: bool = False
    discreet_name: str = ""


#: The sample panellist of the preview.
SAMPLE_NAME = "Sam"
_SAMPLE_CLOSES = datetime(2031, 3, 3, 17, 0, tzinfo=UTC)


def sample_context(
    kind: str, panel: Any = None, language: str = "en", texts: kinds.PanelTexts | None = None
) -> dict[str, Any]:
    """The context of ``kind`` for a sample panellist ("Sam", round 2 — round 1 for an invitation — closing
    3 March 2031, 12 of 30 answered...) of ``panel`` (any object with the panel's mail attributes; None: a stand-in
    panel), links excluded, for a reader of ``language``: the panel's texts from ``texts`` (its translations into
    ``language``; None: as written), the summary lines and sample recommendations through gettext.  Its keys are
    the kind's placeholders but for :data:`LINK_FIELDS`.

    Raises KeyError for a kind that is not in :data:`EDITABLE_KINDS`.
    """
    if kind not in EDITABLE_KINDS:
        raise KeyError(kind)
    panel = kinds.in_language(panel if panel is not None else _Panel(), texts)
    person = _Panellist(id=0, name=SAMPLE_NAME, language=language)
    round_ = _Round(id=0, number=1 if kind == "invitation" else 2, closes_at=_SAMPLE_CLOSES)
    if kind == "invitation":
        return kinds.invitation(panel, round_, person, minutes=15)
    if kind == "round_open":
        summary = kinds.round_summary(1, 12, 30, 0, 18, language)
        return kinds.round_open(panel, round_, person, summary=summary)
    if kind == "reminder":
        return kinds.reminder(panel, round_, person, rated=12, total=30)
    if kind == "receipt":
        return kinds.receipt(panel, round_, person, submitted_at=datetime(2031, 3, 1, 10, 30, tzinfo=UTC))
    gettext = catalog(language).gettext
    agreed = [gettext("Offer a choice of key worker."), gettext("Explain every change to a prescription.")]
    return kinds.final_results(panel, person, agreed=agreed, n_rounds=3)


def placeholders(kind: str) -> tuple[str, ...]:
    """The fields a text of ``kind`` may use: its context's keys, then :data:`LINK_FIELDS`.  KeyError for a kind
    whose wording cannot be changed."""
    return (*sample_context(kind), *LINK_FIELDS)


def parse(text: str) -> tuple[list[Segment], list[str]]:
    """``text`` as literal strings and :class:`Field` s, and every problem of its braces as a sentence (in order).

    ``{{`` and ``}}`` are literal braces; ``{name}`` (lower-case letters, digits, ``_``) is a field; braces around
    anything else, an unclosed ``{`` and a lone ``}`` are problems, each naming its line.
    """
    segments: list[Segment] = []
    problems: list[str] = []
    literal: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c in "{}" and text.startswith(c * 2, i):
            literal.append(c)
            i += 2
            continue
        line = text.count("\n", 0, i) + 1
        if c == "}":
            problems.append(f"A }} on line {line} has no {{ before it. Write }}}} for a brace in the text.")
            i += 1
            continue
        if c != "{":
            literal.append(c)
            i += 1
            continue
        end = text.find("}", i + 1)
        inner = text[i + 1 : end] if end != -1 else ""
        if end == -1 or "{" in inner or "\n" in inner:
            problems.append(
                f"A {{ on line {line} is not closed. Close the placeholder with }}, or write {{{{ for a brace."
            )
            i += 1
            continue
        if _NAME.match(inner):
            if literal:
                segments.append("".join(literal))
                literal = []
            segments.append(Field(inner))
        else:
            shown = inner if len(inner) <= 40 else inner[:39] + "…"
            problems.append(
                f"{{{shown}}} on line {line} is not a placeholder: write one of the names listed, in braces, "
                "like {name}."
            )
        i = end + 1
    if literal:
        segments.append("".join(literal))
    return segments, problems


def _fields(segments: Sequence[Segment]) -> list[str]:
    seen: dict[str, None] = {}
    for s in segments:
        if isinstance(s, Field):
            seen.setdefault(s.name)
    return list(seen)


def problems(kind: str, subject: str, body: str) -> list[tuple[str, str]]:
    """Every problem of a text of ``kind`` as ``(field, message)`` pairs (``field``: ``"subject"`` or ``"body"``),
    subject first; empty when it can be saved.

    Checked: both present and not too long, the subject on one line, braces, placeholders ``kind`` does not have,
    placeholders a subject may not use (:data:`NOT_IN_SUBJECT`), and ``{link}`` in the body.
    """
    allowed = set(placeholders(kind))
    out: list[tuple[str, str]] = []
    subject_s = subject.strip()
    if not subject_s:
        out.append(("subject", "Enter a subject."))
    elif len(subject_s) > MAX_SUBJECT:
        out.append(("subject", f"The subject can have at most {MAX_SUBJECT} characters."))
    if "\n" in subject_s or "\r" in subject_s:
        out.append(("subject", "Write the subject on one line."))
    segments, brace_problems = parse(subject_s)
    out += [("subject", f"In the subject: {p}") for p in brace_problems]
    for name in _fields(segments):
        if name not in allowed:
            out.append(("subject", f"The subject uses {{{name}}}, which this mail does not have."))
        elif name in NOT_IN_SUBJECT:
            out.append(
                (
                    "subject",
                    f"The subject cannot use {{{name}}}: subjects show on lock screens and in inbox lists, "
                    "so they never name the panel, its topic or a link.",
                )
            )
    body_s = body.strip()
    if not body_s:
        out.append(("body", "Enter the text of the e-mail."))
    elif len(body_s) > MAX_BODY:
        out.append(("body", f"The text can have at most {MAX_BODY:,} characters."))
    segments, brace_problems = parse(body_s)
    out += [("body", f"In the text: {p}") for p in brace_problems]
    used = _fields(segments)
    for name in used:
        if name not in allowed:
            out.append(("body", f"The text uses {{{name}}}, which this mail does not have."))
    if body_s and REQUIRED_IN_BODY not in used:
        out.append(
            ("body", "The text must contain {link}: it is the panellist's personal link, their only way in.")
        )
    return out


def field_values(context: Mapping[str, Any], language: str | None = "en") -> dict[str, str]:
    """``context`` as the text each field is replaced with: a date and time in words in ``language`` ("3 March
    2031, 17:00 UTC", "3 de marzo de 2031, 17:00 UTC"), a list as one ``"- item"`` line per item, None as "",
    anything else by ``str``."""
    out: dict[str, str] = {}
    for key, value in context.items():
        if value is None:
            out[key] = ""
        elif isinstance(value, datetime):
            out[key] = format_datetime(value, language or "en")
        elif isinstance(value, list | tuple):
            out[key] = "\n".join(f"- {item}" for item in value)
        else:
            out[key] = str(value)
    return out


def fill(text: str, values: Mapping[str, str]) -> str:
    """``text`` with each field replaced by its value from ``values``.

    Raises ValueError when ``text`` has a brace problem or a field ``values`` lacks (a text is checked with
    :func:`problems` before it is saved, so this means the stored text no longer fits its kind).
    """
    segments, brace_problems = parse(text)
    if brace_problems:
        raise ValueError(brace_problems[0])
    out = []
    for s in segments:
        if isinstance(s, Field):
            if s.name not in values:
                raise ValueError(f"The text uses {{{s.name}}}, which this mail does not have.")
            out.append(values[s.name])
        else:
            out.append(s)
    return "".join(out)


#: One block of the HTML body: ``("p", paragraph HTML)`` or ``("button", "")`` for the personal link's button.
Block = tuple[str, Markup]
_PARAGRAPHS = re.compile(r"\n[ \t]*\n")


def _line_html(segments: Sequence[Segment], values: Mapping[str, str]) -> Markup:
    parts: list[Markup] = []
    for s in segments:
        if isinstance(s, str):
            parts.append(escape(s))
        elif s.name in LINK_FIELDS:
            url = escape(values[s.name])
            parts.append(Markup('<a href="{0}" style="color:#1d4f91;">{0}</a>').format(url))
        else:
            parts.append(Markup("<br>").join(escape(v) for v in values[s.name].split("\n")))
    return Markup("").join(parts)


def html_blocks(body: str, values: Mapping[str, str]) -> list[Block]:
    """The HTML body of ``body`` filled with ``values``, as blocks for ``templates/email/_own_text.html``.

    Paragraphs are the body's blank-line-separated parts, lines within one joined by ``<br>``; every character
    is escaped.  A line that is only ``{link}`` becomes the personal link's button (as the shipped mails show
    it); a link inside a sentence becomes an ordinary link.  Raises ValueError as :func:`fill` does.
    """
    fill(body, values)  # the same refusals as the text body
    blocks: list[Block] = []
    for paragraph in _PARAGRAPHS.split(body.strip()):
        lines: list[Markup] = []
        for line in paragraph.split("\n"):
            if line.strip() == "{" + REQUIRED_IN_BODY + "}":
                if lines:
                    blocks.append(("p", Markup("<br>").join(lines)))
                    lines = []
                blocks.append(("button", Markup("")))
                continue
            lines.append(_line_html(parse(line)[0], values))
        if lines:
            blocks.append(("p", Markup("<br>").join(lines)))
    return blocks


#: The English starting point of each kind's own text: the shipped wording in placeholder form.  What is sent
#: while a panel has no text of its own is the shipped templates, translated; these are only offered for editing.
DEFAULTS: dict[str, Wording] = {
    "invitation": Wording(
        "You're invited to share your views",
        "Hello {name},\n\n"
        "You are invited to give your views in a study panel. Your answers help decide what good services "
        "should look like.\n\n"
        "The panel is called: {panel_title}\n\n"
        "What it involves:\n"
        "- You read some suggestions and say how much you agree with each one.\n"
        "- You can stop and come back later: your answers are saved as you go.\n"
        "- There are a few rounds. After each one you see how the group answered.\n"
        "- Nobody else on the panel sees your name or your e-mail address.\n\n"
        "Please answer by {closes_at}.\n\n"
        "Start here:\n{link}",
    ),
    "round_open": Wording(
        "Round {round_number} is open: see how the group answered",
        "Hello {name},\n\n"
        "Thank you for taking part so far. Round {round_number} is now open.\n\n"
        "Panel: {panel_title}\n\n"
        "What came out of the last round:\n{summary}\n\n"
        "In this round you see how the group answered last time, and you can keep or change your answers.\n"
        "Please answer by {closes_at}.\n\n"
        "Go to round {round_number}:\n{link}",
    ),
    "reminder": Wording(
        "Reminder: your answers are still welcome",
        "Hello {name},\n\n"
        "This is a friendly reminder: round {round_number} is still open and we would love to hear from you.\n\n"
        "Panel: {panel_title}\n\n"
        "You have answered {rated} of {total} so far. Your answers are saved: you can pick up where you left "
        "off.\n\n"
        "The round closes on {closes_at}.\n\n"
        "Continue here:\n{link}\n\n"
        "If you have already finished, thank you, and please ignore this e-mail.",
    ),
    "receipt": Wording(
        "Thank you: we have your answers",
        "Hello {name},\n\n"
        "Thank you. We received your answers for round {round_number} on {submitted_at}.\n\n"
        "Panel: {panel_title}\n\n"
        "You can look at or change your answers until the round closes on {closes_at}:\n{link}\n\n"
        "We will e-mail you when there is news.",
    ),
    "final_results": Wording(
        "The panel has finished: see what came of your answers",
        "Hello {name},\n\n"
        "The panel has finished. Thank you for giving your time and your views.\n\n"
        "Panel: {panel_title}. It ran for {n_rounds} rounds.\n\n"
        "The panel agreed on {n_agreed} recommendations.\n\n"
        "See the full results:\n{link}",
    ),
}


#: A subject and a body that pass every check, put beside the part being checked by :func:`translation_problems`.
_VALID_SUBJECT, _VALID_BODY = "Your panel", "{link}"


def translation_problems(key: str, text: str) -> list[str]:
    """What :func:`problems` says of a translated subject or body, for a translation ``key`` of a panel's own mail
    text (``mail.<kind>.subject`` or ``mail.<kind>.body``, :mod:`delphi.panels.translations`); [] for any other
    key, and for a blank text (a blank translation is no translation).  An unknown kind is one problem."""
    parts = key.split(".")
    if len(parts) != 3 or parts[0] != "mail" or parts[2] not in ("subject", "body") or not text.strip():
        return []
    kind, part = parts[1], parts[2]
    if kind not in EDITABLE_KINDS:
        return [f"There is no e-mail {kind!r} whose text can be translated."]
    subject, body = (text, _VALID_BODY) if part == "subject" else (_VALID_SUBJECT, text)
    return [message for field_, message in problems(kind, subject, body) if field_ == part]


def in_language(kind: str, wording: Wording | None, texts: kinds.PanelTexts | None) -> Wording | None:
    """The panel's own ``wording`` of ``kind`` for a reader of ``texts``' language: its translation (a part
    without one falls back to the primary part, :meth:`~delphi.mail.kinds.PanelTexts.mail`) when the result
    passes :func:`problems`; else ``wording`` itself, the primary wording (a stored translation that no longer
    fits is set aside rather than failing the mail).  None (no text of the panel's own: the shipped text, which
    gettext translates) stays None, and so does everything for None ``texts`` or the primary language."""
    if wording is None or texts is None or texts.is_primary:
        return wording
    subject, body = texts.mail(kind, wording.subject, wording.body)
    if (subject, body) == (wording.subject, wording.body) or problems(kind, subject, body):
        return wording
    return Wording(subject, body)
