"""A panel's languages: the primary one (``Panel.language``) and the further ones panellists may read it in
(:class:`~delphi.db.models.PanelLanguage`, each with who translated it), for the facilitator's languages page.

A panel may be offered only in a language with a shipped catalog (:func:`delphi.locale.shipped_tags`), since the
page and mail text around the panel's own texts come from it.  The primary language is fixed once round 1 has
opened: results, the report and the exports are in it, and answers exist in it.  Removing a further language
keeps its :class:`~delphi.db.models.Translation` rows, so adding it back brings its translations back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from delphi import audit
from delphi.db.models import Panel, PanelLanguage, Round
from delphi.domain import Actor, RoundStatus
from delphi.errors import InvalidInput
from delphi.locale import language_name, language_tag, same_language, shipped_tags, tag_among
from delphi.panels.translations import further_languages

__all__ = [
    "MAX_CREDIT_LENGTH",
    "FurtherLanguage",
    "LanguagesView",
    "languages_of",
    "primary_locked",
    "set_languages",
]

#: Longest "translated by" credit, in characters.
MAX_CREDIT_LENGTH = 300


@dataclass(frozen=True, slots=True)
class FurtherLanguage:
    """A further language: its BCP 47 tag, English name ("Welsh") and "translated by" credit ("" when none)."""

    language: str
    name: str
    translated_by: str


@dataclass(frozen=True, slots=True)
class LanguagesView:
    """What the languages page shows: the ``primary`` tag and its English name, the ``further`` languages in
    the order they were added, every language the panel may be offered in as ``(tag, English name)`` pairs
    (``choices``, by tag), and whether the primary language can no longer change (``primary_locked``: round 1
    has opened)."""

    primary: str
    primary_name: str
    further: list[FurtherLanguage]
    choices: list[tuple[str, str]]
    primary_locked: bool


def _named(tag: str) -> str:
    return f"{language_name(tag)} ({tag})"


async def primary_locked(session: AsyncSession, panel: Panel) -> bool:
    """True once round 1 has opened (the rule was locked then, or some round is no longer a draft)."""
    if panel.rule_locked_at is not None:
        return True
    opened = await session.scalar(
        select(func.count())
        .select_from(Round)
        .where(Round.panel_id == panel.id, Round.status != RoundStatus.DRAFT)
    )
    return bool(opened)


async def languages_of(session: AsyncSession, panel: Panel) -> LanguagesView:
    """The panel's languages for the page (reads only)."""
    primary = language_tag(panel.language)
    further = [
        FurtherLanguage(language_tag(r.language), language_name(r.language), r.translated_by or "")
        for r in await further_languages(session, panel.id)
    ]
    return LanguagesView(
        primary=primary,
        primary_name=language_name(primary),
        further=further,
        choices=[(tag, language_name(tag)) for tag in shipped_tags()],
        primary_locked=await primary_locked(session, panel),
    )


def _describe(primary: str, further: Mapping[str, str]) -> str:
    """``"English (en); further: Welsh (cy, translated by Ana Jones), Spanish (es)"`` for the audit trail."""
    parts = [
        f"{language_name(tag)} ({tag}" + (f", translated by {credit}" if credit else "") + ")"
        for tag, credit in further.items()
    ]
    return _named(primary) + "; further: " + (", ".join(parts) if parts else "none")


async def set_languages(
    session: AsyncSession, panel: Panel, primary: str, further: Mapping[str, str], actor: Actor
) -> None:
    """Set the panel's primary language and its further languages.

    ``further`` maps each further language's tag (any spelling: "pt_BR", "ES") to its "translated by" credit
    ("" for none; spaces around it dropped).  InvalidInput lists every problem at once, keyed by the page's
    fields: ``primary`` (none chosen, not shipped, or changed once round 1 has opened), ``further`` (a language
    that is not shipped, or the primary one listed as further too) and ``translated_by-<tag>`` (a credit over
    :data:`MAX_CREDIT_LENGTH` characters).  Adds and removes :class:`PanelLanguage` rows (a removed language's
    translations are kept), sets ``panel.language`` and records ``languages.changed`` with the languages before
    and after; nothing is recorded when nothing changed.  Never commits.
    """
    shipped = shipped_tags()
    offered = ", ".join(_named(tag) for tag in shipped)
    errors: list[tuple[str, str]] = []

    chosen = tag_among(shipped, primary)
    if not (primary or "").strip():
        errors.append(("primary", "Choose the panel's primary language."))
    elif chosen is None:
        errors.append(
            (
                "primary",
                f"“{primary.strip()}” cannot be the primary language: a panel can be written only in a "
                f"language with shipped page texts: {offered}.",
            )
        )
    current = language_tag(panel.language)
    if chosen is not None and not same_language(chosen, current) and await primary_locked(session, panel):
        errors.append(
            (
                "primary",
                f"The primary language stays {_named(current)}: round 1 has opened, and answers, results and "
                "exports are in it.",
            )
        )

    wanted: dict[str, str] = {}
    unknown: list[str] = []
    for raw, credit in further.items():
        tag = tag_among(shipped, raw)
        if tag is None:
            unknown.append(raw.strip() or "(blank)")
            continue
        wanted.setdefault(tag, " ".join((credit or "").split()))
    if unknown:
        errors.append(
            (
                "further",
                "A panel can be offered only in languages with shipped page texts ("
                + offered
                + "); not in "
                + ", ".join(f"“{u}”" for u in unknown)
                + ".",
            )
        )
    primary_tag = chosen or current
    if any(same_language(tag, primary_tag) for tag in wanted):
        errors.append(
            (
                "further",
                f"{_named(primary_tag)} is the primary language, so it cannot be a further language too: "
                "untick it, or choose another primary language.",
            )
        )
    for tag, credit in wanted.items():
        if len(credit) > MAX_CREDIT_LENGTH:
            errors.append(
                (
                    f"translated_by-{tag}",
                    f"Shorten who translated {language_name(tag)} to at most {MAX_CREDIT_LENGTH} characters "
                    f"({len(credit)} given).",
                )
            )
    if errors:
        raise InvalidInput(errors[0][1], field=errors[0][0], errors=errors)

    rows = await further_languages(session, panel.id)
    before = {language_tag(r.language): r.translated_by or "" for r in rows}
    for row in rows:
        tag = language_tag(row.language)
        if tag not in wanted:
            await session.delete(row)
        elif (row.translated_by or "") != wanted[tag]:
            row.translated_by = wanted[tag]
    await session.flush()  # a removed row leaves before any other is added
    session.add_all(
        PanelLanguage(panel_id=panel.id, language=tag, translated_by=credit)
        for tag, credit in wanted.items()
        if tag not in before
    )
    # the order pages show: kept languages in their old order, then the new ones as given
    after = {tag: wanted[tag] for tag in before if tag in wanted} | {
        tag: c for tag, c in wanted.items() if tag not in before
    }
    changed = primary_tag != current or after != before
    panel.language = primary_tag
    await session.flush()
    if changed:
        audit.record(
            session,
            actor=actor,
            panel_id=panel.id,
            action="languages.changed",
            detail={
                "before": _describe(current, before),
                "after": _describe(primary_tag, after),
                "primary": primary_tag,
                "further": after,
            },
        )
