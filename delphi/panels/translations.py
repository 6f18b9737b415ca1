"""What of a panel a panellist reads, named by stable keys, and that text in the panellist's language.

A panel is written in its primary language (``Panel.language``); each further language
(:class:`~delphi.db.models.PanelLanguage`) has :class:`~delphi.db.models.Translation` rows, one per key.  Keys
(:func:`key`, ``kind.id[.part]``):

========================  ===============================================================
``panel.title``           and ``panel.description``, ``panel.consent_text``, ``panel.unable_label``,
                          ``panel.discreet_name``
``panel.scale.<point>``   the label of one scale point (``panel.scale.1`` ... ``panel.scale.9``)
``group.<id>``            a stakeholder group's name (panellists read it in the feedback by group)
``statement.<id>``        a statement's text (a rewording is a new statement, so a new key)
``section.<digest>``      a section name; the digest is of the name (sections are names on statements)
``open.<id>``             an open question; ``open.<id>.hint`` its guidance line
``ranking.<id>``          a ranking question; ``item.<id>`` one of its items
``baseline.<id>``         a baseline question; ``baseline.<id>.choice.<i>`` its i-th choice (0-based),
                          ``baseline.<id>.unit`` a number's unit
``mail.<kind>.subject``   and ``mail.<kind>.body``: a panel's own wording of one kind of mail
========================  ===============================================================

:class:`Wording` answers a text in one language, falling back to the primary text where there is no
translation (the open-round check stops that happening to a panellist: :mod:`delphi.panels.translation_gaps`).
Languages are stored as :func:`delphi.locale.language_tag` gives them ("cy", "pt-BR"), in ``Panel.language``,
``PanelLanguage.language`` and ``Translation.language`` alike.  Reads only; the caller's session.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import Panel, PanelLanguage, Round, Translation, utcnow
from delphi.locale import language_tag, same_language

__all__ = [
    "PANEL_FIELDS",
    "Wording",
    "further_languages",
    "key",
    "panel_languages",
    "section_key",
    "store_texts",
    "translated_round",
    "wording_for",
]

#: The panel's own texts a panellist reads, by ``Panel`` attribute, in the order the translation page lists them.
PANEL_FIELDS: tuple[str, ...] = ("title", "description", "consent_text", "unable_label", "discreet_name")


def key(kind: str, ref: int | str, *parts: int | str) -> str:
    """``key("statement", 12)`` → ``"statement.12"``; ``key("baseline", 7, "choice", 2)`` →
    ``"baseline.7.choice.2"``."""
    return ".".join(str(p) for p in (kind, ref, *parts))


def section_key(name: str) -> str:
    """The key of a section name: ``"section."`` and the first 12 hex digits of the SHA-256 of the name
    (trimmed), so the same name in any statement is one text to translate."""
    return "section." + hashlib.sha256(name.strip().encode()).hexdigest()[:12]


@dataclass(frozen=True, slots=True)
class Wording:
    """A panel's texts in one ``language`` (a BCP 47 tag): ``texts`` maps keys to translations.

    In the primary language ``texts`` is empty and every method answers the text as written.  A key without a
    translation answers the primary text too (never an empty string).
    """

    language: str
    primary: str
    texts: Mapping[str, str] = field(default_factory=dict)

    @property
    def is_primary(self) -> bool:
        return same_language(self.language, self.primary)

    def text(self, key_: str, source: str) -> str:
        """The translation of ``key_``, or ``source`` (the primary text) without one; "" stays ""."""
        if not source:
            return source
        return self.texts.get(key_) or source

    def panel(self, panel: Any, name: str) -> str:
        """One of :data:`PANEL_FIELDS` of ``panel`` (any object with those attributes)."""
        return self.text(key("panel", name), getattr(panel, name) or "")

    def scale_labels(self, panel: Any) -> list[str]:
        """The panel's scale labels (one per point from ``scale_min``; "" where a point has none)."""
        labels = list(panel.scale_labels or [])
        return [
            self.text(key("panel", "scale", panel.scale_min + i), label) for i, label in enumerate(labels)
        ]

    def group(self, group_id: int, name: str) -> str:
        return self.text(key("group", group_id), name)

    def statement(self, statement_id: int, source: str) -> str:
        return self.text(key("statement", statement_id), source)

    def section(self, name: str) -> str:
        return self.text(section_key(name), name) if name.strip() else name

    def open_question(self, question: Any) -> tuple[str, str]:
        """``(text, hint)`` of an open question."""
        return (
            self.text(key("open", question.id), question.text),
            self.text(key("open", question.id, "hint"), question.hint or ""),
        )

    def ranking(self, question_id: int, source: str) -> str:
        return self.text(key("ranking", question_id), source)

    def item(self, item_id: int, source: str) -> str:
        return self.text(key("item", item_id), source)

    def baseline(self, question: Any) -> tuple[str, list[str], str]:
        """``(text, choices, unit)`` of a baseline question; ``choices`` in the question's order, so the i-th
        translated choice stands for the i-th stored one (answers keep the primary wording)."""
        return (
            self.text(key("baseline", question.id), question.text),
            [
                self.text(key("baseline", question.id, "choice", i), c)
                for i, c in enumerate(question.choices or [])
            ],
            self.text(key("baseline", question.id, "unit"), question.unit or ""),
        )

    def mail(self, kind: str, subject: str, body: str) -> tuple[str, str]:
        """A panel's own ``(subject, body)`` of mail ``kind`` in this language."""
        return self.text(key("mail", kind, "subject"), subject), self.text(key("mail", kind, "body"), body)


async def further_languages(session: AsyncSession, panel_id: int) -> list[PanelLanguage]:
    """The panel's further languages in the order they were added."""
    rows = await session.scalars(
        select(PanelLanguage).where(PanelLanguage.panel_id == panel_id).order_by(PanelLanguage.id)
    )
    return list(rows.all())


async def panel_languages(session: AsyncSession, panel: Panel) -> list[str]:
    """Every language the panel is offered in, as BCP 47 tags: the primary one first, then the further ones."""
    return [
        language_tag(panel.language),
        *(language_tag(r.language) for r in await further_languages(session, panel.id)),
    ]


async def wording_for(session: AsyncSession, panel: Panel, language: str | None) -> Wording:
    """The panel's texts in ``language`` (a panellist's), from one query.

    A language the panel is not offered in reads the primary texts (an empty :class:`Wording`); so does the
    primary language itself.
    """
    primary = language_tag(panel.language)
    tag = language_tag(language)
    if same_language(tag, primary):
        return Wording(primary, primary)
    rows = await session.execute(
        select(Translation.key, Translation.text).where(
            Translation.panel_id == panel.id, Translation.language == tag
        )
    )
    return Wording(tag, primary, {k: t for k, t in rows.all() if t.strip()})


async def translated_round(session: AsyncSession, panel_id: int) -> Round | None:
    """The round whose texts are translated now: the panel's latest round (the draft being prepared, or the one
    open); None before the panel has a round."""
    return await session.scalar(
        select(Round).where(Round.panel_id == panel_id).order_by(Round.number.desc()).limit(1)
    )


async def store_texts(
    session: AsyncSession, panel_id: int, language: str, texts: Mapping[str, tuple[str, str]]
) -> tuple[int, int]:
    """Save translations into ``language``: ``texts`` maps keys to ``(text, source)``, the translation and the
    primary text it was made from.  A blank text deletes that key's translation.  Returns ``(saved, deleted)``.

    The one writer of :class:`~delphi.db.models.Translation`; callers check the keys and the language first.
    Changes rows in the caller's session; never commits.
    """
    tag = language_tag(language)
    existing = {
        t.key: t
        for t in await session.scalars(
            select(Translation).where(
                Translation.panel_id == panel_id,
                Translation.language == tag,
                Translation.key.in_(list(texts)),
            )
        )
    }
    saved = deleted = 0
    now = utcnow()
    blank = [k for k, (text, _) in texts.items() if not text.strip()]
    if blank:
        deleted = sum(1 for k in blank if k in existing)
        await session.execute(
            delete(Translation).where(
                Translation.panel_id == panel_id, Translation.language == tag, Translation.key.in_(blank)
            )
        )
    for k, (text, source) in texts.items():
        if not text.strip():
            continue
        row = existing.get(k)
        if row is None:
            session.add(
                Translation(
                    panel_id=panel_id, language=tag, key=k, text=text.strip(), source=source, updated_at=now
                )
            )
            saved += 1
        elif row.text != text.strip() or row.source != source:
            row.text, row.source, row.updated_at = text.strip(), source, now
            saved += 1
    return saved, deleted
