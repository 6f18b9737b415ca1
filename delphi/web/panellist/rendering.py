"""Rendering panellist pages in the reader's language, with the shared helpers (numbers, money, charts)."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache, partial
from typing import Any
from urllib.parse import urlsplit

from litestar import MediaType, Request
from litestar.response import Template

from delphi.db.models import Panellist
from delphi.errors import DelphiError
from delphi.formatting import format_money
from delphi.locale import template_gettext
from delphi.participation.issues import Issue
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


def _context(request: Request, panellist: Panellist | None, **extra: Any) -> dict[str, Any]:
    i18n = template_gettext(language_of(request, panellist))
    lang = i18n["lang"].replace("-", "_")
    ctx: dict[str, Any] = {
        **i18n,
        "panellist": panellist,
        "num": figures.number_text,
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
