"""Gettext catalogs of panellist-facing text, and the per-request translation helpers for templates.

The only place catalogs are loaded (:func:`catalog`); pages and mails both take theirs from here.  Layout:
``<LOCALE_DIR>/<lang>/LC_MESSAGES/delphi.{po,mo}`` (the folder is :data:`delphi.resources.LOCALE_DIR`, read
at each call); the English text is the msgid, so English needs no catalog and a missing catalog falls back to
English.  Adding a language is adding one compiled catalog (see ``README.md`` here): no template or code
changes; ``Panellist.language`` picks it.
"""

from __future__ import annotations

import gettext
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2.ext import _make_new_gettext, _make_new_ngettext  # the i18n extension's newstyle wrappers

from delphi import resources

DOMAIN = "delphi"

__all__ = ["DOMAIN", "available_languages", "catalog", "normalise_language", "template_gettext"]


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
        languages=[normalise_language(language)],
        fallback=True,
    )


def available_languages(localedir: Path | None = None) -> list[str]:
    """Languages with a compiled catalog in ``localedir`` (default: the project's), plus ``"en"`` (the msgids)."""
    folder = localedir or resources.LOCALE_DIR
    found = {p.parent.parent.name for p in folder.glob(f"*/LC_MESSAGES/{DOMAIN}.mo")}
    return sorted(found | {"en"})


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
        "lang": normalise_language(language).replace("_", "-"),
        # plain (non-template) callables for Python helpers such as the chart text alternatives
        "py_gettext": cat.gettext,
        "py_ngettext": cat.ngettext,
    }
