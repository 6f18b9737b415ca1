"""Refusals on panellist pages: a kind page in the panellist's language, or a JSON problem for background saves."""

from __future__ import annotations

from litestar import Request, Response
from litestar.exceptions import HTTPException

from delphi.errors import DelphiError
from delphi.locale import template_gettext
from delphi.participation.issues import N_, LinkNotValid, SessionEnded, SessionExpired
from delphi.web.errors import http_error_handler, problem
from delphi.web.panellist.rendering import errors_of, language_of, render

_TITLES = {
    400: N_("Something was not right"),
    403: N_("Please use your personal link"),
    404: N_("Page not found"),
    409: N_("That cannot be done now"),
    422: N_("Please check your answer"),
    429: N_("Please wait a moment"),
}


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/panel/ratings/") or "application/json" in (
        request.headers.get("accept") or ""
    )


def panellist_error_handler(request: Request, exc: Exception) -> Response:
    """DelphiError → a kind page in the panellist's language (or a JSON problem for background saves)."""
    if isinstance(exc, HTTPException):
        if _wants_json(request):
            detail = exc.detail if isinstance(exc.detail, str) else _TITLES.get(exc.status_code, "Error")
            return problem(exc.status_code, detail, headers=dict(exc.headers or {}))
        return http_error_handler(request, exc)
    assert isinstance(exc, DelphiError)
    i18n = template_gettext(language_of(request))
    errors = errors_of(exc, i18n["py_gettext"])
    if _wants_json(request):
        return problem(
            exc.status_code,
            errors[0][1] if errors else exc.message,
            extra={"errors": [{"field": f, "message": m} for f, m in errors]},
        )
    if isinstance(exc, SessionExpired):  # ran out or signed out: a page that names no panel
        return render(
            request,
            "session_over.html",
            None,
            status_code=exc.status_code,
            messages=[m for _, m in errors],
        )
    if isinstance(exc, LinkNotValid | SessionEnded):
        return render(request, "link_problem.html", None, status_code=exc.status_code)
    return render(
        request,
        "problem.html",
        None,
        status_code=exc.status_code,
        title=i18n["py_gettext"](_TITLES.get(exc.status_code, _TITLES[400])),
        messages=[m for _, m in errors],
    )


EXCEPTION_HANDLERS = {DelphiError: panellist_error_handler, HTTPException: panellist_error_handler}
