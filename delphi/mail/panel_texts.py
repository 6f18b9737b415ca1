"""A panel's own e-mail texts: read them, save one, restore the shipped wording, preview a kind for a sample panellist.

Use cases in the caller's session: they write an audit event and never commit.  The rules (placeholders, checks,
filling) are :mod:`delphi.mail.texts`; rendering at enqueue time picks a saved text up through
:func:`delphi.mail.outbox.panel_mail`.  They live with mail, not with :mod:`delphi.panels`, because they need the
mail kinds and the renderer (panels lie below mail).

A text is saved as the facilitator wrote it (trimmed), in the panel's primary language, until it is restored.  A
panellist reading a further language gets its translation (keys ``mail.<kind>.subject`` and ``mail.<kind>.body``,
entered on the translation sheet ``/panels/{id}/translations/{lang}``), or the primary wording while there is none
or it no longer fits (:func:`delphi.mail.texts.in_language`); :func:`translation_states` says which, per kind and
language, and :func:`preview` shows a kind in any of the panel's languages.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from delphi import audit
from delphi.db.models import MailText, Panel, utcnow
from delphi.domain import Actor
from delphi.errors import InvalidInput, NotFound
from delphi.locale import language_name, language_tag
from delphi.mail.kinds import PanelTexts, kind_label
from delphi.mail.outbox import LINK_PLACEHOLDER, WITHDRAW_PLACEHOLDER, panellist_context
from delphi.mail.render import RenderedMail, render_mail
from delphi.mail.texts import EDITABLE_KINDS, Wording, in_language, problems, sample_context
from delphi.panels.translation_gaps import stored_translations
from delphi.panels.translations import key, panel_languages, wording_for


@dataclass(frozen=True, slots=True)
class PanelText:
    """One editable kind as the panel has it: its ``kind`` name and ``label``, its own ``wording`` (None while
    the shipped text is used) and when that was last saved."""

    kind: str
    label: str
    wording: Wording | None
    updated_at: datetime | None


def _require_kind(kind: str) -> None:
    if kind not in EDITABLE_KINDS:
        raise NotFound("There is no such e-mail to word: choose one from the list of e-mail texts.")


async def panel_texts(session: AsyncSession, panel_id: int) -> list[PanelText]:
    """Every editable kind (:data:`~delphi.mail.texts.EDITABLE_KINDS`, in order) with the panel's own wording,
    from one query."""
    rows = {
        r.kind: r
        for r in (await session.scalars(select(MailText).where(MailText.panel_id == panel_id))).all()
    }
    return [
        PanelText(
            kind,
            kind_label(kind),
            Wording(rows[kind].subject, rows[kind].body) if kind in rows else None,
            rows[kind].updated_at if kind in rows else None,
        )
        for kind in EDITABLE_KINDS
    ]


async def panel_text(session: AsyncSession, panel_id: int, kind: str) -> PanelText:
    """One kind of :func:`panel_texts`; NotFound for a kind that cannot be worded."""
    _require_kind(kind)
    return next(t for t in await panel_texts(session, panel_id) if t.kind == kind)


async def save_text(
    session: AsyncSession,
    panel: Panel,
    kind: str,
    subject: str,
    body: str,
    *,
    actor: Actor,
    now: datetime | None = None,
) -> Wording:
    """Save the panel's own ``subject`` and ``body`` of ``kind`` (trimmed), replacing any before; returns it.

    Raises NotFound for a kind that cannot be worded, and InvalidInput listing every problem of the text at once
    (:func:`delphi.mail.texts.problems`; nothing is saved then).  Audit: ``mail_text.saved``.
    """
    _require_kind(kind)
    found = problems(kind, subject, body)
    if found:
        raise InvalidInput(found[0][1], field=found[0][0], errors=found)
    subject, body = subject.strip(), body.strip()
    row = await session.scalar(select(MailText).where(MailText.panel_id == panel.id, MailText.kind == kind))
    if row is None:
        session.add(
            MailText(panel_id=panel.id, kind=kind, subject=subject, body=body, updated_at=now or utcnow())
        )
    else:
        row.subject, row.body, row.updated_at = subject, body, now or utcnow()
    audit.record(
        session, actor=actor, action="mail_text.saved", panel_id=panel.id, detail={"kind": kind_label(kind)}
    )
    await session.flush()
    return Wording(subject, body)


async def restore_text(session: AsyncSession, panel: Panel, kind: str, *, actor: Actor) -> bool:
    """Go back to the shipped wording of ``kind`` (the panel's row is deleted); False when there was none (no
    audit event then).  NotFound for a kind that cannot be worded.  Audit: ``mail_text.restored``."""
    _require_kind(kind)
    result = await session.execute(
        delete(MailText).where(MailText.panel_id == panel.id, MailText.kind == kind)
    )
    if not result.rowcount:
        return False
    audit.record(
        session,
        actor=actor,
        action="mail_text.restored",
        panel_id=panel.id,
        detail={"kind": kind_label(kind)},
    )
    return True


#: What :attr:`TextTranslation.state` may be, with what the page says of each.
TRANSLATION_STATES: dict[str, str] = {
    "translated": "Translated",
    "outdated": "Translated from an earlier wording: check it",
    "missing": "Not translated: the primary wording is sent",
    "invalid": "The translation no longer fits the e-mail: the primary wording is sent",
}


@dataclass(frozen=True, slots=True)
class TextTranslation:
    """The state of a panel's own text of one kind in one further ``language`` (a tag; ``name`` its English
    name): ``state`` is one of :data:`TRANSLATION_STATES`: ``"translated"`` (subject and body), ``"outdated"``
    (translated, but from a primary text since changed; still sent), ``"missing"`` (a part has no translation:
    the primary wording is sent) or ``"invalid"`` (the translation fails the checks: the primary wording is
    sent)."""

    language: str
    name: str
    state: str

    @property
    def description(self) -> str:
        return TRANSLATION_STATES[self.state]


def _state(kind: str, wording: Wording, stored: dict[str, tuple[str, str]]) -> str:
    parts = [stored.get(key("mail", kind, part)) for part in ("subject", "body")]
    if any(p is None for p in parts):
        return "missing"
    (subject, subject_source), (body, body_source) = parts  # type: ignore[misc]
    if problems(kind, subject, body):
        return "invalid"
    if subject_source != wording.subject or body_source != wording.body:
        return "outdated"
    return "translated"


async def translation_states(session: AsyncSession, panel: Panel) -> dict[str, list[TextTranslation]]:
    """For each kind the panel has its own text of, its state in each further language (in the order the
    languages were added); kinds without their own text are left out (gettext translates the shipped one)."""
    further = (await panel_languages(session, panel))[1:]
    if not further:
        return {}
    own = {t.kind: t.wording for t in await panel_texts(session, panel.id) if t.wording is not None}
    if not own:
        return {}
    stored = await stored_translations(session, panel.id)
    return {
        kind: [
            TextTranslation(tag, language_name(tag), _state(kind, wording, stored.get(tag, {})))
            for tag in further
        ]
        for kind, wording in own.items()
    }


async def preview_language(
    session: AsyncSession, panel: Panel, language: str | None
) -> tuple[str, PanelTexts, list[tuple[str, str]]]:
    """The language a preview is shown in: ``language`` (a tag from ``?lang=``) when the panel is offered in it,
    the primary language for None or ""; returns ``(tag, the panel's texts in it, every language of the panel as
    (tag, English name), primary first)``.  NotFound for a language the panel is not offered in."""
    languages = await panel_languages(session, panel)
    tag = language_tag(language) if (language or "").strip() else languages[0]
    if (language or "").strip() and tag not in languages:
        raise NotFound(
            "The panel is not offered in that language: choose one of its languages for the preview."
        )
    return tag, await wording_for(session, panel, tag), [(t, language_name(t)) for t in languages]


def preview(
    panel: Panel,
    kind: str,
    wording: Wording | None,
    base_url: str,
    language: str = "en",
    texts: PanelTexts | None = None,
) -> RenderedMail:
    """``kind`` as the sample panellist of :func:`delphi.mail.texts.sample_context` would get it from ``panel``
    (in the panel's mode, discreet or not, with its contact), in ``language``, with the panel's texts in it
    (``texts``, from :func:`preview_language`; None: as written): in ``wording`` (its translation where one fits,
    as a panellist reading ``language`` gets it), or the shipped text for None.  The links are examples under
    ``base_url`` that open nothing.  Raises ValueError when ``wording`` has problems (check it first), NotFound
    for a kind that cannot be worded.
    """
    _require_kind(kind)
    if wording is not None and problems(kind, wording.subject, wording.body):
        raise ValueError("Check a text before previewing it.")
    context = panellist_context(sample_context(kind, panel, language, texts))
    mail = render_mail(kind, context, language, in_language(kind, wording, texts))
    link = f"{base_url}/p/EXAMPLE-LINK"

    def example(text: str) -> str:
        return text.replace(LINK_PLACEHOLDER, link).replace(WITHDRAW_PLACEHOLDER, f"{link}/leave")

    return RenderedMail(example(mail.subject), example(mail.text), example(mail.html))
