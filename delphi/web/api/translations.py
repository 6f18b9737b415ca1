"""API of a panel's languages and translations: the primary language and the further ones with who translated
each, and per further language the texts the current round needs with their state and their saving.

The same use cases as the languages page and the translation sheet, so the same rules, messages and audit events:

* languages (:func:`delphi.panels.languages.set_languages`, audit ``languages.changed``): only languages with
  shipped page texts; the primary language stays as it is once round 1 has opened (answers, results and exports
  are in it); the primary language is no further one too; a credit of at most
  :data:`~delphi.panels.languages.MAX_CREDIT_LENGTH` characters.  A removed language keeps its translations, so
  adding it back brings them back.
* translations (:func:`delphi.panels.translating.save_translations`, which writes through
  :func:`delphi.panels.translations.store_texts`; audit ``translations.saved``): the texts of the round being
  translated (the latest: the draft being prepared, or the one open), by key (``statement.12``,
  ``panel.consent_text``, ``mail.invitation.body``...; :mod:`delphi.panels.translations`); a blank text removes a
  translation; a translated e-mail text is checked as the primary one is.  Every problem at once (422), nothing
  saved then.  The primary language, or one the panel is not offered in, is a 404 with the reason.

Reading is for anyone on the panel, changing for its editors.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from litestar import get, put
from litestar.params import Parameter
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import Account
from delphi.domain import Actor
from delphi.errors import InvalidInput
from delphi.mail.texts import translation_problems
from delphi.panels import languages, translating
from delphi.rounds.recipients import reader_languages
from delphi.web.api.problems import PROBLEMS, problem_spec
from delphi.web.guards import PanelAccess

LANGUAGES_INVALID = {
    422: problem_spec(
        "A language is not offered, the primary language has changed after round 1 opened, or a credit is too "
        "long; `errors` lists every problem."
    )
}
TRANSLATIONS_INVALID = {
    422: problem_spec(
        "A key is no text of the round, a translation is too long or does not fit its e-mail, or the panel has "
        "no round yet; `errors` lists every problem."
    )
}

FurtherTag = Annotated[
    str,
    Parameter(
        description="A further language of the panel, as a BCP 47 tag (`cy`, `pt-BR`; any case, `_` for `-`). "
        "The primary language, or one the panel is not offered in, is a 404 with the reason."
    ),
]


def _clean(text: str) -> str:
    """The text as the page's form reads it: without NUL characters."""
    return text.replace("\x00", "")


# --- languages -----------------------------------------------------------------------------------------------


class FurtherLanguage(msgspec.Struct):
    """A further language: its tag, English name and "translated by" credit ("" for none)."""

    language: str
    name: str
    translated_by: str


class LanguageChoice(msgspec.Struct):
    """A language the panel may be offered in (one with shipped page texts)."""

    language: str
    name: str


class Languages(msgspec.Struct):
    """The panel's ``primary`` language (tag and English name), whether it is fixed (``primary_locked``: round
    1 has opened), the ``further`` languages in the order they were added, and every language it may be
    offered in (``choices``, by tag)."""

    primary: str
    primary_name: str
    primary_locked: bool
    further: list[FurtherLanguage]
    choices: list[LanguageChoice]


class LanguagesChange(msgspec.Struct, forbid_unknown_fields=True):
    """The panel's languages as they are to be, replacing the ones before (a language left out is removed; its
    translations are kept)."""

    primary: Annotated[
        str,
        msgspec.Meta(
            description="The primary language's tag, one of the `choices`; the current one once round 1 has "
            "opened."
        ),
    ]
    further: Annotated[
        dict[str, str],
        msgspec.Meta(
            description="The further languages, each tag (one of the `choices`, not the primary one) mapped to "
            f'who translated it, at most {languages.MAX_CREDIT_LENGTH} characters ("" for no credit), in '
            'the order to add them, e.g. `{"cy": "Gwen Evans"}`; `{}` for none.'
        ),
    ]


async def _languages(db_session: AsyncSession, access: PanelAccess) -> Languages:
    view = await languages.languages_of(db_session, access.panel)
    return Languages(
        primary=view.primary,
        primary_name=view.primary_name,
        primary_locked=view.primary_locked,
        further=[FurtherLanguage(f.language, f.name, f.translated_by) for f in view.further],
        choices=[LanguageChoice(tag, name) for tag, name in view.choices],
    )


def _body_field(field: str) -> str:
    """A problem's field in the body's terms: the page's ``translated_by-<tag>`` is ``further.<tag>``."""
    return "further." + field.removeprefix("translated_by-") if field.startswith("translated_by-") else field


@get("/panels/{panel_id:int}/languages", responses=PROBLEMS, summary="The panel's languages")
async def get_languages(panel_access: PanelAccess, db_session: AsyncSession) -> Languages:
    return await _languages(db_session, panel_access)


@put(
    "/panels/{panel_id:int}/languages",
    responses={**PROBLEMS, **LANGUAGES_INVALID},
    summary="Set the panel's primary and further languages (facilitators)",
)
async def set_languages(
    panel_access: PanelAccess, data: LanguagesChange, db_session: AsyncSession, account: Account
) -> Languages:
    """As the languages page sets them; a 422's ``errors`` name ``primary``, ``further`` (a language that is
    not offered, or the primary one listed too) and ``further.<tag>`` (a credit too long)."""
    further: dict[str, str] = {}
    for tag, credit in data.further.items():
        further.setdefault(_clean(tag), _clean(credit))
    try:
        await languages.set_languages(
            db_session, panel_access.panel, _clean(data.primary), further, Actor.account(account)
        )
    except InvalidInput as exc:
        errors = [(_body_field(f), m) for f, m in exc.errors]
        raise InvalidInput(errors[0][1], field=errors[0][0], errors=errors) from exc
    return await _languages(db_session, panel_access)


# --- translations --------------------------------------------------------------------------------------------


class TranslationText(msgspec.Struct):
    """One text the round needs: its ``key``, the page's heading (``group``) and ``label``, the primary text
    (``source``), its translation (``text``, "" while missing) and ``state``: ``missing``, ``outdated`` (made
    from ``old_source``, a primary text that has changed since) or ``done``."""

    key: str
    group: str
    label: str
    source: str
    text: str
    state: Literal["missing", "outdated", "done"]
    old_source: str


class TranslationCounts(msgspec.Struct):
    """How many texts of the round are in each state."""

    missing: int
    outdated: int
    done: int


class TranslationSheet(msgspec.Struct):
    """One further language's sheet: the ``language`` (tag, English ``name``, own ``native_name``, text
    ``direction`` ``ltr`` or ``rtl``), the panel's ``primary`` tag, the number of the round translated (null
    before the panel has a round: nothing to translate yet), ``counts`` over the whole round and ``complete``
    (nothing missing or out of date), ``readers`` (invitable panellists reading the language), and the
    ``texts`` shown, in the page's order (every one, or with ``show=missing`` the ones still to do)."""

    language: str
    name: str
    native_name: str
    direction: Literal["ltr", "rtl"]
    primary: str
    round_number: int | None
    counts: TranslationCounts
    complete: bool
    readers: int
    texts: list[TranslationText]


class TranslationsChange(msgspec.Struct, forbid_unknown_fields=True):
    """Translations to save; a text not named is left as it is."""

    texts: Annotated[
        dict[str, str],
        msgspec.Meta(
            description="Keys of the round's texts (as the sheet lists them) mapped to their translation, at most "
            f'{translating.MAX_TRANSLATION_LENGTH:,} characters once trimmed; "" removes a translation. A '
            "translation sent unchanged keeps its state, so an outdated one stays outdated unless confirmed. "
            'E.g. `{"statement.12": "Cynnig galwadau fideo."}`.'
        ),
    ]
    confirmed: Annotated[
        list[str],
        msgspec.Meta(
            description="Keys of outdated translations that still fit the changed primary text: they are marked "
            "done as they are (or as sent in `texts`)."
        ),
    ] = msgspec.field(default_factory=list)


class TranslationsSaved(msgspec.Struct):
    """How many translations were ``saved`` (new or changed) and ``deleted``, and the sheet as it now is."""

    saved: int
    deleted: int
    sheet: TranslationSheet


async def _sheet(
    db_session: AsyncSession, access: PanelAccess, lang: str, show: str = "all"
) -> TranslationSheet:
    readers = await reader_languages(db_session, access.panel.id)
    sheet = await translating.translation_sheet(db_session, access.panel, lang, readers, show=show)
    return TranslationSheet(
        language=sheet.language,
        name=sheet.name,
        native_name=sheet.native_name,
        direction="rtl" if sheet.direction == "rtl" else "ltr",
        primary=sheet.primary,
        round_number=sheet.round_number,
        counts=TranslationCounts(**{state: sheet.counts.get(state, 0) for state in translating.STATES}),
        complete=sheet.complete,
        readers=sheet.readers,
        texts=[
            TranslationText(
                r.item.key,
                r.item.group,
                r.item.label,
                r.item.source,
                r.text,
                r.state,  # type: ignore[arg-type]
                r.old_source,
            )
            for g in sheet.groups
            for r in g.rows
        ],
    )


@get(
    "/panels/{panel_id:int}/translations/{lang:str}",
    responses=PROBLEMS,
    summary="One further language's translations of the texts the current round needs",
)
async def get_translations(
    panel_access: PanelAccess,
    lang: FurtherTag,
    db_session: AsyncSession,
    show: Annotated[
        Literal["all", "missing"],
        Parameter(description="`missing`: only the texts still to do (missing or out of date)."),
    ] = "all",
) -> TranslationSheet:
    return await _sheet(db_session, panel_access, lang, show)


@put(
    "/panels/{panel_id:int}/translations/{lang:str}",
    responses={**PROBLEMS, **TRANSLATIONS_INVALID},
    summary="Save translations into a further language, by key (facilitators)",
)
async def save_translations(
    panel_access: PanelAccess,
    lang: FurtherTag,
    data: TranslationsChange,
    db_session: AsyncSession,
    account: Account,
) -> TranslationsSaved:
    """As the sheet saves them: only what changed is written, a new or edited translation with the current
    primary text as its source.  A 422's ``errors`` name each text by its key (``texts`` for keys that are no
    texts of the round, all in one message)."""
    try:
        saved, deleted = await translating.save_translations(
            db_session,
            panel_access.panel,
            lang,
            {k: _clean(v) for k, v in data.texts.items()},
            Actor.account(account),
            confirmed=frozenset(data.confirmed),
            check_text=translation_problems,
        )
    except InvalidInput as exc:
        errors = [(f or "texts", m) for f, m in exc.errors]
        raise InvalidInput(errors[0][1], field=errors[0][0], errors=errors) from exc
    await db_session.flush()
    return TranslationsSaved(saved, deleted, await _sheet(db_session, panel_access, lang))


HANDLERS: list[Any] = [get_languages, set_languages, get_translations, save_translations]
