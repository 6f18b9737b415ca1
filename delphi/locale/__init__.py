"""Gettext catalogs of panellist-facing text, and the per-request translation helpers for templates.

The only place catalogs are loaded (:func:`catalog`); pages and mails both take theirs from here.  Layout:
``<LOCALE_DIR>/<lang>/LC_MESSAGES/delphi.{po,mo}`` (the folder is :data:`delphi.resources.LOCALE_DIR`, read
at each call); the English text is the msgid, so English needs no catalog and a missing catalog falls back to
English.  Adding a language is adding one compiled catalog (see ``README.md`` here): no template or code
changes; ``Panellist.language`` picks it.
"""

from __future__ import annotations

import gettext
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel import Locale, UnknownLocaleError
from jinja2.ext import _make_new_gettext, _make_new_ngettext  # the i18n extension's newstyle wrappers

from delphi import resources

DOMAIN = "delphi"

__all__ = [
    "DOMAIN",
    "available_languages",
    "catalog",
    "language_name",
    "language_tag",
    "normalise_language",
    "same_language",
    "shipped_tags",
    "tag_among",
    "template_gettext",
    "text_direction",
]


def normalise_language(language: str | None) -> str:
    """``"pt-BR"`` → ``"pt_BR"``; empty or odd values → ``"en"``."""
    value = (language or "").strip().replace("-", "_")
    if not value or len(value) > 10 or not all(ch.isalnum() or ch == "_" for ch in value):
        return "en"
    return value


@lru_cache(maxsize=64)
def catalog(language: str | None, localedir: str | None = None) -> gettext.NullTranslations:
    """The catalog for ``language`` (normalised; falling back to English msgids when there is none), from
    ``localedir`` (default: :data:`delphi.resources.LOCALE_DIR`).  Cached per ``(language, localedir)``."""
    return gettext.translation(
        DOMAIN,
        localedir=localedir or str(resources.LOCALE_DIR),
        languages=[language_tag(language).replace("-", "_")],
        fallback=True,
    )


def available_languages(localedir: Path | None = None) -> list[str]:
    """Languages with a compiled catalog in ``localedir`` (default: the project's), plus ``"en"`` (the msgids)."""
    folder = localedir or resources.LOCALE_DIR
    found = {p.parent.parent.name for p in folder.glob(f"*/LC_MESSAGES/{DOMAIN}.mo")}
    return sorted(found | {"en"})


def language_tag(language: str | None) -> str:
    """The BCP 47 form of a language as pages and panels write it, in its usual case: ``"pt_br"`` → ``"pt-BR"``,
    ``"CY"`` → ``"cy"``, ``"sr_latn"`` → ``"sr-Latn"``; odd → ``"en"``."""
    first, *rest = normalise_language(language).split("_")
    parts = [first.lower()]
    for part in rest:
        parts.append(part.upper() if len(part) == 2 else part.title() if len(part) == 4 else part.lower())
    return "-".join(parts)


def same_language(a: str | None, b: str | None) -> bool:
    """Whether two language values name one catalog (``"pt-BR"`` and ``"pt_br"`` do; ``"pt"`` and ``"pt-BR"``
    do not)."""
    return normalise_language(a).lower() == normalise_language(b).lower()


def tag_among(tags: Sequence[str], raw: object) -> str | None:
    """The tag of ``tags`` that ``raw`` (a value from a form, a URL or a file header) names, or None.

    Matched as written, ignoring case, surrounding spaces and ``_`` for ``-`` (``" pt_br "`` names ``"pt-BR"``);
    anything else, an empty or odd value included, names none, so an odd value never falls back to English.
    """
    if not isinstance(raw, str):
        return None
    wanted = raw.strip().replace("_", "-").lower()
    if not wanted:
        return None
    return next((tag for tag in tags if tag.lower() == wanted), None)


def shipped_tags(localedir: Path | None = None) -> list[str]:
    """:func:`available_languages` as BCP 47 tags (``["cy", "en", "es"]``): the languages a panel may be offered
    in, since each has a catalog for the page and mail text around the panel's own."""
    return [language_tag(name) for name in available_languages(localedir)]


@lru_cache(maxsize=256)
def _babel_locale(language: str) -> Locale | None:
    try:
        return Locale.parse(normalise_language(language))
    except (ValueError, LookupError, UnknownLocaleError):
        return None


def language_name(language: str | None, in_language: str | None = "en") -> str:
    """The language's name in ``in_language`` from Babel's data, first letter capitalised: ``("cy", "en")`` →
    ``"Welsh"``, ``("cy", "cy")`` → ``"Cymraeg"``, ``("es", "es")`` → ``"Español"``.  A tag Babel does not
    know is returned as written."""
    loc = _babel_locale(language or "en")
    if loc is None:
        return language or "en"
    name = loc.get_display_name(_babel_locale(in_language or "en") or Locale("en")) or (language or "en")
    return name[:1].upper() + name[1:]


def text_direction(language: str | None) -> str:
    """``"rtl"`` for a right-to-left language (Arabic, Hebrew, Persian, Urdu...), else ``"ltr"``; from Babel's
    locale data, so a language needs no list of its own here."""
    loc = _babel_locale(language or "en")
    return "rtl" if loc is not None and loc.character_order == "right-to-left" else "ltr"


def template_gettext(language: str | None, localedir: str | None = None) -> dict[str, Any]:
    """Template context entries ``_``, ``gettext``, ``ngettext`` and ``lang`` for one reader's language.

    They behave exactly like the globals installed by ``install_gettext_translations(newstyle=True)``
    (autoescape-aware, ``%(name)s`` keyword formatting), and override them for one render.
    """
    cat = catalog(language, localedir)
    gettext_ = _make_new_gettext(cat.gettext)
    ngettext_ = _make_new_ngettext(cat.ngettext)
    return {
        "_": gettext_,
        "gettext": gettext_,
        "ngettext": ngettext_,
        "lang": language_tag(language),
        "dir": text_direction(language),
        # plain (non-template) callables for Python helpers such as the chart text alternatives
        "py_gettext": cat.gettext,
        "py_ngettext": cat.ngettext,
    }
