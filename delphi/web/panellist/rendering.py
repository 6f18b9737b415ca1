"""Rendering panellist pages in the reader's language, with the shared helpers (numbers, money, charts).

Every page's context has ``w``, the panel's own texts in the reader's language
(:class:`~delphi.panels.translations.Wording`, loaded once per request by
:func:`.session.provide_panellist`): templates show every text the facilitator wrote through it
(``w.panel(panel, "title")``, ``w.statement(item.id, item.text)``, ``w.section(name)``...), never the ORM
column itself, and nothing writes a translation into an ORM object.  ``languages`` lists the languages the
panel is offered in (the switcher shows when there are two or more).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from functools import lru_cache, partial
from typing import Any
from urllib.parse import urlsplit

from litestar import MediaType, Request
from litestar.response import Template

from delphi.db.models import Panellist
from delphi.errors import DelphiError
from delphi.formatting import format_money, format_number
from delphi.locale import language_name, template_gettext
from delphi.panels.translations import Wording
from delphi.participation.checks import Scale
from delphi.participation.issues import N_, Issue
from delphi.participation.language import PageLanguage
from delphi.rounds import figures
from delphi.web.charts import distribution_svg
from delphi.web.headers import CSP


def language_of(request: Request, panellist: Panellist | None = None) -> str:
    """The panellist's language; without one, the one a dependency stored on the request, else English."""
    if panellist is not None:
        return panellist.language
    return str(getattr(request.state, "panellist_language", "") or "en")


def translate(issues: list[Issue], gettext: Callable[[str], str]) -> list[tuple[str, str]]:
    """``(field, message)`` pairs of ``issues`` in the catalog of ``gettext``."""
    return [(i.field, i.text(gettext)) for i in issues]


def errors_of(exc: DelphiError, gettext: Callable[[str], str]) -> list[tuple[str, str]]:
    """``exc``'s issues (or errors, or message) as translated ``(field, message)`` pairs."""
    issues = getattr(exc, "issues", None)
    if issues:
        return translate(issues, gettext)
    pairs = getattr(exc, "errors", None) or [(exc.field or "", exc.message)]
    return [(f, gettext(m)) for f, m in pairs]


def gettext_for(panellist: Panellist) -> Callable[[str], str]:
    """The Python-side gettext of the panellist's catalog."""
    return template_gettext(panellist.language)["py_gettext"]


def page_language_of(request: Request) -> PageLanguage | None:
    """The request's :class:`~delphi.participation.language.PageLanguage` (None before a panellist is known)."""
    found = getattr(request.state, "page_language", None)
    return found if isinstance(found, PageLanguage) else None


def wording_of(request: Request) -> Wording:
    """The panel's texts in the reader's language for this request; without a panellist, a :class:`Wording`
    that answers every text as written."""
    found = page_language_of(request)
    if found is not None:
        return found.wording
    tag = template_gettext(language_of(request))["lang"]
    return Wording(tag, tag)


def number_for(request: Request, panellist: Panellist | None = None) -> Callable[[float | None], str]:
    """:func:`delphi.formatting.format_number` in the reader's language ("6.5"; "6,5" in Spanish)."""
    return partial(format_number, locale=template_gettext(language_of(request, panellist))["lang"])


#: The "unable to rate" answer's words when the facilitator kept the default (``Panel.unable_label``'s).
DEFAULT_UNABLE = N_("Unable to rate")


def scale_in(w: Wording, scale: Scale, panel: Any, gettext: Callable[[str], str] | None = None) -> Scale:
    """``scale`` (a panel's, :func:`delphi.participation.facts.scale_of`) with its point labels and its
    "unable" label in the language of ``w``; a view value, the panel row is left as it is.

    The default "unable" label (:data:`DEFAULT_UNABLE`, kept by most panels) without a translation of its own
    is the catalog's (``gettext``), so it reads in the panellist's language too.
    """
    if panel is None:
        return scale
    labels = tuple(w.scale_labels(panel)) if panel.scale_labels else scale.labels
    unable = w.panel(panel, "unable_label") or scale.unable_label
    if gettext is not None and unable == DEFAULT_UNABLE:
        unable = gettext(DEFAULT_UNABLE)
    return replace(scale, labels=labels, unable_label=unable)


def same_site_path(value: object, default: str = "/panel") -> str:
    """``value`` when it is a path on this site (``/panel?page=2``), else ``default``: no scheme, no host,
    no ``//`` or ``\\`` start (a protocol-relative address), no control character."""
    if not isinstance(value, str) or not value.startswith("/") or value.startswith(("//", "/\\")):
        return default
    if any(ord(ch) < 32 or ch == "\\" for ch in value) or len(value) > 2000:
        return default
    parts = urlsplit(value)
    return value if not parts.scheme and not parts.netloc else default


#: Pages shown in answer to a post whose address cannot be opened again: the page to come back to instead.
_SHOWN_AT = {"/panel/submit": "/panel/review"}


def _here(request: Request) -> str:
    """The address of the page being shown, for the language switcher to come back to."""
    path = request.url.path
    if path in _SHOWN_AT:
        return _SHOWN_AT[path]
    query = request.url.query
    return path + (f"?{query}" if query else "")


def _context(request: Request, panellist: Panellist | None, **extra: Any) -> dict[str, Any]:
    i18n = template_gettext(language_of(request, panellist))
    lang = i18n["lang"].replace("-", "_")
    found = page_language_of(request) if panellist is not None else None
    ctx: dict[str, Any] = {
        **i18n,
        "panellist": panellist,
        "w": wording_of(request),
        "scale_in": partial(scale_in, gettext=i18n["py_gettext"]),
        "languages": found.offered if found is not None else (),
        "language_name": language_name,
        "here": _here(request),
        "num": number_for(request, panellist),
        "band_text": figures.band_text,
        "money": lambda minor, currency: format_money(minor, currency, lang),
        "errors": [],
        "field_errors": {},
        "notice": None,
        "quick_exit_url": request.app.state.settings.quick_exit_url,
    }
    ctx.update(extra)
    if ctx["errors"] and not ctx["field_errors"]:
        ctx["field_errors"] = {f: m for f, m in ctx["errors"] if f}
    return ctx


@lru_cache(maxsize=8)
def panellist_csp(quick_exit_url: str) -> str:
    """The site's Content-Security-Policy with the quick-exit page's origin added to ``form-action``.

    Browsers apply ``form-action`` to where a form's answer redirects too, so without it the "Quick exit"
    form's 303 to another site would be blocked (Chromium does).  Nothing else is loosened.
    """
    parts = urlsplit(quick_exit_url)
    return CSP.replace("form-action 'self'", f"form-action 'self' {parts.scheme}://{parts.netloc}", 1)


def render(
    request: Request, template: str, panellist: Panellist | None, status_code: int = 200, **extra: Any
) -> Template:
    """Render a panellist template with the reader's translations and the shared helpers.

    Every panellist page has the "Quick exit" form (``panellist/_layout.html``), so each carries
    :func:`panellist_csp`; ``Cache-Control: no-store`` comes from :mod:`delphi.web.headers`, so the back
    button after signing out fetches the page again rather than showing the panel from the cache.
    """
    return Template(
        f"panellist/{template}",
        context=_context(request, panellist, **extra),
        status_code=status_code,
        media_type=MediaType.HTML,
        headers={"content-security-policy": panellist_csp(request.app.state.settings.quick_exit_url)},
    )


def chart_for(
    request: Request, panellist: Panellist, scale_min: int, band: tuple[int, int]
) -> Callable[..., Any]:
    """:func:`~delphi.web.charts.distribution_svg` bound to the scale, the agree band and the reader's language."""
    i18n = template_gettext(language_of(request, panellist))
    return partial(
        distribution_svg,
        scale_min=scale_min,
        band=band,
        gettext=i18n["py_gettext"],
        ngettext=i18n["py_ngettext"],
    )
