"""The facilitator's translation sheet: what the current round needs in one further language, each text's state,
and saving what was typed; and the per-language summary of the translations page.

The round translated is :func:`delphi.panels.translations.translated_round` (the latest: the draft being
prepared, or the one open); its texts are :func:`delphi.panels.translation_gaps.round_items`.  A text is
*missing* (no translation), *outdated* (translated from a primary text that has changed since:
``Translation.source``) or *done*.  How many panellists read a language is the caller's to give
(:func:`delphi.rounds.recipients.reader_languages`, which panels may not import).  Reads only, except
:func:`save_translations`, which changes rows in the caller's session and never commits.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from delphi import audit
from delphi.db.models import Panel
from delphi.domain import Actor
from delphi.errors import InvalidInput, NotFound
from delphi.locale import language_name, language_tag, same_language, tag_among, text_direction
from delphi.panels import translation_gaps as gaps
from delphi.panels.translations import further_languages, store_texts, translated_round

__all__ = [
    "MAX_TRANSLATION_LENGTH",
    "STATES",
    "Overview",
    "OverviewRow",
    "Sheet",
    "SheetGroup",
    "SheetRow",
    "offered_language",
    "overview",
    "save_translations",
    "translation_sheet",
]

#: Longest translation of one text, in characters.
MAX_TRANSLATION_LENGTH = 10_000
#: A text's states, in the order the page counts them.
STATES: tuple[str, ...] = ("missing", "outdated", "done")


@dataclass(frozen=True, slots=True)
class SheetRow:
    """One text of the sheet: the ``item`` (key, group, label and the current primary ``source``), its stored
    translation ``text`` ("" when missing), its ``state`` (one of :data:`STATES`) and, when outdated,
    ``old_source``: the primary text the translation was made from ("" otherwise)."""

    item: gaps.Item
    text: str
    state: str
    old_source: str = ""


@dataclass(frozen=True, slots=True)
class SheetGroup:
    """The rows under one heading of :data:`delphi.panels.translation_gaps.GROUPS`."""

    heading: str
    rows: tuple[SheetRow, ...]


@dataclass(frozen=True, slots=True)
class Sheet:
    """A language's sheet: the target ``language`` (tag), its English ``name`` and own ``native_name``, its text
    ``direction`` ("ltr"/"rtl"), the panel's ``primary`` tag, the translated round's number (None: the panel has
    no round, so there is nothing to translate yet), the ``groups`` shown (only non-empty ones; with
    ``show="missing"`` only the rows still to do), ``counts`` per state over the whole round, and ``readers``
    (invitable panellists reading the language)."""

    language: str
    name: str
    native_name: str
    direction: str
    primary: str
    round_number: int | None
    groups: tuple[SheetGroup, ...]
    counts: Mapping[str, int]
    readers: int

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def complete(self) -> bool:
        """Every text the round needs is translated from its current wording."""
        return self.counts.get("missing", 0) == 0 and self.counts.get("outdated", 0) == 0


@dataclass(frozen=True, slots=True)
class OverviewRow:
    """One line of the translations page: the :class:`~delphi.panels.translation_gaps.LanguageGap`, the
    language's English name, and how many texts of the round are ``done`` of ``total``."""

    gap: gaps.LanguageGap
    name: str
    done: int
    total: int


@dataclass(frozen=True, slots=True)
class Overview:
    """The translations page: the translated round's number (None before the panel has a round), one row per
    further language and per language panellists read that the panel is not offered in, and ``complete``:
    every language some invitable panellist reads has what the round needs."""

    round_number: int | None
    rows: tuple[OverviewRow, ...]

    @property
    def complete(self) -> bool:
        """Every further language has every text, and no panellist reads a language the panel lacks."""
        return all(r.gap.complete for r in self.rows)

    @property
    def blocking(self) -> tuple[OverviewRow, ...]:
        """The rows that stop the round opening: a language some invitable panellist reads, incomplete."""
        return tuple(r for r in self.rows if r.gap.readers and not r.gap.complete)


def _readers_of(readers: Mapping[str, int], tag: str) -> int:
    return sum(n for lang, n in readers.items() if same_language(lang, tag))


async def offered_language(session: AsyncSession, panel: Panel, language: str) -> str:
    """The tag of the further language ``language`` names (any spelling); NotFound with the reason for the
    primary language or a language the panel is not offered in."""
    primary = language_tag(panel.language)
    raw = (language or "").strip()
    if tag_among([primary], raw):
        raise NotFound(
            f"{language_name(primary)} is this panel's primary language: its texts are written, not translated."
        )
    tag = tag_among([language_tag(row.language) for row in await further_languages(session, panel.id)], raw)
    if tag is not None:
        return tag
    raise NotFound(
        f"This panel is not offered in “{raw}”. Add the language on the panel's languages page first."
    )


async def translation_sheet(
    session: AsyncSession,
    panel: Panel,
    language: str,
    readers: Mapping[str, int] | None = None,
    *,
    show: str = "all",
) -> Sheet:
    """The sheet of further language ``language`` for the panel's current round.

    ``readers`` is :func:`delphi.rounds.recipients.reader_languages` (any spelling of a tag counts); ``show``
    "missing" keeps only the rows still to do (missing or outdated), anything else shows every row.  NotFound
    (:func:`offered_language`) for the primary language or one the panel is not offered in.
    """
    tag = await offered_language(session, panel, language)
    primary = language_tag(panel.language)
    round_ = await translated_round(session, panel.id)
    counts = dict.fromkeys(STATES, 0)
    groups: list[SheetGroup] = []
    if round_ is not None:
        items = await gaps.round_items(session, panel, round_)
        stored = (await gaps.stored_translations(session, panel.id)).get(tag, {})
        by_group: dict[str, list[SheetRow]] = {}
        for it in items:
            row = _row(it, stored.get(it.key))
            counts[row.state] += 1
            if show == "missing" and row.state == "done":
                continue
            by_group.setdefault(it.group, []).append(row)
        groups = [SheetGroup(g, tuple(by_group[g])) for g in gaps.GROUPS if by_group.get(g)]
    return Sheet(
        language=tag,
        name=language_name(tag),
        native_name=language_name(tag, tag),
        direction=text_direction(tag),
        primary=primary,
        round_number=round_.number if round_ is not None else None,
        groups=tuple(groups),
        counts=counts,
        readers=_readers_of(readers or {}, tag),
    )


def _row(item: gaps.Item, stored: tuple[str, str] | None) -> SheetRow:
    if stored is None:
        return SheetRow(item, "", "missing")
    text, source = stored
    if source.strip() != item.source.strip():
        return SheetRow(item, text, "outdated", source)
    return SheetRow(item, text, "done")


def _typed(text: str) -> str:
    """A textarea's value as stored: line breaks as ``\\n`` (browsers send ``\\r\\n``), spaces around dropped."""
    return text.replace("\r\n", "\n").replace("\r", "\n").strip()


async def save_translations(
    session: AsyncSession,
    panel: Panel,
    language: str,
    texts: Mapping[str, str],
    actor: Actor,
    *,
    confirmed: Collection[str] = (),
    check_text: Callable[[str, str], list[str]] | None = None,
) -> tuple[int, int]:
    """Save the sheet of further language ``language``; returns ``(saved, deleted)`` as
    :func:`~delphi.panels.translations.store_texts` counts them.

    ``texts`` maps item keys to what was typed (a blank text removes that translation).  Only what changed is
    written: a new or edited translation is stored with the item's current primary text as its source; an
    outdated one posted unchanged stays outdated unless its key is in ``confirmed`` (the facilitator says it
    still fits the new primary text).  InvalidInput lists every problem at once, keyed by item key: keys that
    are not texts of the round (named; nothing is saved then), texts over :data:`MAX_TRANSLATION_LENGTH`
    characters, and each message of ``check_text(key, text)`` (the web passes
    :func:`delphi.mail.texts.translation_problems`).  NotFound as :func:`translation_sheet`; InvalidInput when
    the panel has no round yet.  Records ``translations.saved`` when something changed.  Never commits.
    """
    tag = await offered_language(session, panel, language)
    round_ = await translated_round(session, panel.id)
    if round_ is None:
        raise InvalidInput(
            "There is nothing to translate yet: the panel has no round. Add statements and round 1 first."
        )
    items = {it.key: it for it in await gaps.round_items(session, panel, round_)}
    errors: list[tuple[str, str]] = []
    unknown = sorted(k for k in [*texts, *confirmed] if k not in items)
    if unknown:
        shown = ", ".join(f"“{k}”" for k in dict.fromkeys(unknown[:10]))
        more = f" and {len(unknown) - 10} more" if len(unknown) > 10 else ""
        errors.append(
            (
                "",
                f"These are not texts of round {round_.number}, so nothing was saved: {shown}{more}. "
                "Reload the page to see the texts it needs now.",
            )
        )
    typed = {k: _typed(v) for k, v in texts.items() if k in items}
    for k, text in typed.items():
        label = items[k].label
        if len(text) > MAX_TRANSLATION_LENGTH:
            errors.append(
                (k, f"{label}: shorten the translation to at most {MAX_TRANSLATION_LENGTH:,} characters.")
            )
        elif check_text is not None and text:
            errors += [(k, f"{label}: {message}") for message in check_text(k, text)]
    if errors:
        raise InvalidInput(errors[0][1], field=errors[0][0] or None, errors=errors)

    stored = (await gaps.stored_translations(session, panel.id)).get(tag, {})
    changes: dict[str, tuple[str, str]] = {}
    for k, text in typed.items():
        old = stored.get(k)
        if old is None and not text:
            continue
        if old is not None and old[0].strip() == text and k not in confirmed:
            continue  # unchanged: a done text stays done, an outdated one stays outdated
        changes[k] = (text, items[k].source)
    for k in confirmed:
        old = stored.get(k)
        if k not in typed and old is not None:
            changes[k] = (old[0], items[k].source)
    saved, deleted = await store_texts(session, panel.id, tag, changes) if changes else (0, 0)
    if saved or deleted:
        audit.record(
            session,
            actor=actor,
            panel_id=panel.id,
            action="translations.saved",
            detail={
                "language": tag,
                "language_name": language_name(tag),
                "round": round_.number,
                "saved": saved,
                "deleted": deleted,
            },
        )
    return saved, deleted


async def overview(session: AsyncSession, panel: Panel, readers: Mapping[str, int]) -> Overview:
    """The translations page's rows for the panel's current round: each further language (in the order added),
    then each language some invitable panellist reads that the panel is not offered in
    (:func:`~delphi.panels.translation_gaps.language_gaps`).  ``readers`` is
    :func:`delphi.rounds.recipients.reader_languages`."""
    round_ = await translated_round(session, panel.id)
    items = await gaps.round_items(session, panel, round_) if round_ is not None else []
    stored = await gaps.stored_translations(session, panel.id)
    further = [language_tag(r.language) for r in await further_languages(session, panel.id)]
    rows = tuple(
        OverviewRow(
            gap,
            language_name(gap.language),
            done=len(items) - len(gap.missing) - len(gap.outdated) if gap.offered else 0,
            total=len(items),
        )
        for gap in gaps.language_gaps(items, stored, panel.language, further, readers)
    )
    return Overview(round_.number if round_ is not None else None, rows)
