"""Which texts a round needs in each language its panellists read, and which are missing or out of date.

:func:`round_items` lists what a panellist of ``round_`` reads of the panel (keys of
:mod:`delphi.panels.translations`, with the primary text); :func:`stored_translations` loads what has been
translated; :func:`language_gaps` (pure) compares them for each language; :func:`gap_actions` (pure) words
what stops the round opening, as the open check's other blockers are worded (:mod:`delphi.rounds.lifecycle`).

A translation is *out of date* when the primary text it was made from (``Translation.source``) is no longer the
text: a corrected statement or consent text must be translated again before a panellist reads it.  Which
panellists read a language is the caller's: the invitable panellists (:func:`delphi.rounds.recipients.reader_languages`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import (
    BaselineQuestion,
    MailText,
    OpenQuestion,
    Panel,
    RankingItem,
    RankingQuestion,
    Round,
    RoundRanking,
    RoundStatement,
    StakeholderGroup,
    Statement,
    Translation,
)
from delphi.domain import RoundKind
from delphi.locale import language_name, language_tag, same_language
from delphi.panels.translations import key, section_key

__all__ = [
    "Item",
    "LanguageGap",
    "gap_actions",
    "language_gaps",
    "round_items",
    "stored_translations",
]

#: Headings of the translation page, in its order; every :class:`Item` has one.
GROUPS: tuple[str, ...] = (
    "Panel",
    "Stakeholder groups",
    "Sections",
    "Statements",
    "Ranking questions",
    "Open questions",
    "About-you questions",
    "E-mail texts",
)

_PANEL_LABELS = {
    "title": "Title",
    "description": "Description",
    "consent_text": "Consent text",
    "unable_label": "The \u201cunable to rate\u201d answer",
    "discreet_name": "Neutral name (discreet mode)",
}


@dataclass(frozen=True, slots=True)
class Item:
    """One text to translate: its ``key``, the page heading it sits under (one of :data:`GROUPS`), a short
    ``label`` ("Statement 12", "Consent text", "Invitation: subject") and the primary-language ``source``."""

    key: str
    group: str
    label: str
    source: str


@dataclass(frozen=True, slots=True)
class LanguageGap:
    """One language's state for a round: how many invitable panellists read it (``readers``), whether the panel
    is offered in it, and the items with no translation (``missing``) or one made from an older text
    (``outdated``).  An unoffered language lists no items: it needs adding first."""

    language: str
    readers: int
    offered: bool
    missing: tuple[Item, ...] = ()
    outdated: tuple[Item, ...] = ()

    @property
    def complete(self) -> bool:
        return self.offered and not self.missing and not self.outdated


async def round_items(session: AsyncSession, panel: Panel, round_: Round) -> list[Item]:
    """Every non-empty text a panellist of ``round_`` reads of the panel, in :data:`GROUPS` order.

    The panel's own texts (the consent text, the neutral name only in discreet mode, the unable label only when
    "unable" is offered, labelled scale points); the stakeholder groups' names (the feedback names them); the round's statements and their sections (or, for an open
    round, the panel's open questions); the round's ranking questions and items; the baseline questions (asked
    at consent, whatever the round) with their choices and units; and the panel's own e-mail texts.
    """
    items: list[Item] = []
    for name, label in _PANEL_LABELS.items():
        if name == "discreet_name" and not panel.discreet:
            continue
        if name == "unable_label" and not panel.allow_unable:
            continue
        text = (getattr(panel, name) or "").strip()
        if text:
            items.append(Item(key("panel", name), "Panel", label, getattr(panel, name)))
    for i, label in enumerate(panel.scale_labels or []):
        if (label or "").strip():
            point = panel.scale_min + i
            items.append(Item(key("panel", "scale", point), "Panel", f"Scale point {point}", label))

    for gid, name in (
        await session.execute(
            select(StakeholderGroup.id, StakeholderGroup.name)
            .where(StakeholderGroup.panel_id == panel.id)
            .order_by(StakeholderGroup.position, StakeholderGroup.id)
        )
    ).all():
        items.append(Item(key("group", gid), "Stakeholder groups", f"Group “{name}”", name))

    statements = (
        await session.execute(
            select(Statement.id, Statement.section, Statement.text)
            .join(RoundStatement, RoundStatement.statement_id == Statement.id)
            .where(RoundStatement.round_id == round_.id)
            .order_by(RoundStatement.position, Statement.id)
        )
    ).all()
    sections: dict[str, str] = {}
    for _, section, _ in statements:
        if section.strip():
            sections.setdefault(section_key(section), section)
    items += [Item(k, "Sections", f"Section \u201c{name}\u201d", name) for k, name in sections.items()]
    items += [
        Item(key("statement", sid), "Statements", f"Statement {sid}", text) for sid, _, text in statements
    ]

    questions = (
        await session.scalars(
            select(RankingQuestion)
            .join(RoundRanking, RoundRanking.question_id == RankingQuestion.id)
            .where(RoundRanking.round_id == round_.id)
            .order_by(RoundRanking.position, RankingQuestion.id)
        )
    ).all()
    ranking_items: dict[int, list[RankingItem]] = {}
    if questions:
        for item in await session.scalars(
            select(RankingItem)
            .where(RankingItem.question_id.in_([q.id for q in questions]))
            .order_by(RankingItem.position, RankingItem.id)
        ):
            ranking_items.setdefault(item.question_id, []).append(item)
    for q in questions:
        items.append(Item(key("ranking", q.id), "Ranking questions", f"Ranking question {q.id}", q.text))
        items += [
            Item(key("item", it.id), "Ranking questions", f"Item {it.id} of ranking question {q.id}", it.text)
            for it in ranking_items.get(q.id, [])
        ]

    if round_.kind == RoundKind.OPEN:
        for oq in await session.scalars(
            select(OpenQuestion).where(OpenQuestion.panel_id == panel.id).order_by(OpenQuestion.position)
        ):
            items.append(Item(key("open", oq.id), "Open questions", f"Open question {oq.id}", oq.text))
            if (oq.hint or "").strip():
                items.append(
                    Item(
                        key("open", oq.id, "hint"),
                        "Open questions",
                        f"Hint of open question {oq.id}",
                        oq.hint,
                    )
                )

    for bq in await session.scalars(
        select(BaselineQuestion)
        .where(BaselineQuestion.panel_id == panel.id)
        .order_by(BaselineQuestion.position)
    ):
        group = "About-you questions"
        items.append(Item(key("baseline", bq.id), group, f"About-you question {bq.id}", bq.text))
        items += [
            Item(
                key("baseline", bq.id, "choice", i), group, f"Choice {i + 1} of about-you question {bq.id}", c
            )
            for i, c in enumerate(bq.choices or [])
            if str(c).strip()
        ]
        if (bq.unit or "").strip():
            items.append(
                Item(key("baseline", bq.id, "unit"), group, f"Unit of about-you question {bq.id}", bq.unit)
            )

    for mt in await session.scalars(
        select(MailText).where(MailText.panel_id == panel.id).order_by(MailText.id)
    ):
        label = mt.kind.replace("_", " ").capitalize()
        items.append(Item(key("mail", mt.kind, "subject"), "E-mail texts", f"{label}: subject", mt.subject))
        items.append(Item(key("mail", mt.kind, "body"), "E-mail texts", f"{label}: text", mt.body))
    order = {g: i for i, g in enumerate(GROUPS)}
    return sorted(items, key=lambda it: order[it.group])


async def stored_translations(session: AsyncSession, panel_id: int) -> dict[str, dict[str, tuple[str, str]]]:
    """``{language tag: {key: (text, source)}}`` of the panel's translations, blank texts left out."""
    out: dict[str, dict[str, tuple[str, str]]] = {}
    rows = await session.execute(
        select(Translation.language, Translation.key, Translation.text, Translation.source).where(
            Translation.panel_id == panel_id
        )
    )
    for lang, k, text, source in rows.all():
        if text.strip():
            out.setdefault(language_tag(lang), {})[k] = (text, source)
    return out


def language_gaps(
    items: Sequence[Item],
    stored: Mapping[str, Mapping[str, tuple[str, str]]],
    primary: str,
    further: Sequence[str],
    readers: Mapping[str, int],
) -> list[LanguageGap]:
    """Each further language (in ``further``'s order), then each language invitable panellists read that the
    panel is not offered in, with what ``items`` lacks in it.

    ``readers`` counts invitable panellists per language as stored on them (any spelling: "pt_BR" and "pt-BR"
    are one language); the primary language is never a gap.  ``stored`` is :func:`stored_translations`.
    """
    counts: dict[str, int] = {}
    for lang, n in readers.items():
        tag = language_tag(lang)
        counts[tag] = counts.get(tag, 0) + n
    out: list[LanguageGap] = []
    for lang in further:
        tag = language_tag(lang)
        done = stored.get(tag, {})
        missing = tuple(it for it in items if it.key not in done)
        outdated = tuple(
            it for it in items if it.key in done and done[it.key][1].strip() != it.source.strip()
        )
        out.append(LanguageGap(tag, counts.get(tag, 0), True, missing, outdated))
    offered = [primary, *further]
    for tag, n in sorted(counts.items()):
        if n and not any(same_language(tag, o) for o in offered):
            out.append(LanguageGap(tag, n, False))
    return out


def _people(n: int) -> str:
    return f"{n} panellist reads" if n == 1 else f"{n} panellists read"


def gap_actions(gaps: Sequence[LanguageGap], round_number: int) -> list[str]:
    """What to do before round ``round_number`` can open, one sentence per language some invitable panellist
    reads and the round lacks; empty when every reader's language is complete."""
    actions: list[str] = []
    for gap in gaps:
        if gap.readers == 0 or gap.complete:
            continue
        name = f"{language_name(gap.language)} ({gap.language})"
        if not gap.offered:
            actions.append(
                f"{_people(gap.readers)} {name}, which this panel is not offered in: add {language_name(gap.language)} "
                "in the panel's languages, or change those panellists' language."
            )
            continue
        n = len(gap.missing) + len(gap.outdated)
        texts = "1 text" if n == 1 else f"{n} texts"
        changed = f" ({len(gap.outdated)} changed since translated)" if gap.outdated else ""
        actions.append(
            f"Translate {texts}{changed} into {name} that round {round_number} needs: {_people(gap.readers)} "
            f"{language_name(gap.language)}. The panel's translations page lists them."
        )
    return actions
