"""Map errors to answers: an HTML page for people, an RFC 9457 problem body under /api.

Nothing a person can cause ends in a 500: DelphiError carries its status, validation errors become 400/422 with
the reason, and an unexpected exception is logged and shown as a plain apology page without details.
"""

from __future__ import annotations

import logging

from litestar import MediaType, Request, Response
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from delphi.errors import ActionFailed, DelphiError, InvalidInput, PreconditionsUnmet
from delphi.web.api.bodies import body_problems

log = logging.getLogger("delphi.web")

TITLES = {
    400: "Something in the request was not right",
    401: "Please sign in",
    403: "You cannot do that here",
    404: "Page not found",
    405: "That is not allowed here",
    409: "That cannot be done now",
    413: "That was too large",
    422: "Please check what you entered",
    429: "Too many attempts",
    500: "Sorry, something went wrong on our side",
}


def wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path.startswith("/schema")


def problem(status: int, detail: str, *, extra: dict | None = None, headers: dict | None = None) -> Response:
    body = {"type": "about:blank", "title": TITLES.get(status, "Error"), "status": status, "detail": detail}
    if extra:
        body.update(extra)
    return Response(body, status_code=status, media_type="application/problem+json", headers=headers)


def error_page(request: Request, status: int, detail: str, headers: dict | None = None) -> Response:
    return Template(
        "error.html",
        context={"status": status, "title": TITLES.get(status, "Error"), "detail": detail},
        status_code=status,
        media_type=MediaType.HTML,
        headers=headers,
    )


def delphi_error_handler(request: Request, exc: DelphiError) -> Response:
    extra: dict = {}
    if isinstance(exc, InvalidInput):
        extra["errors"] = [{"field": f, "message": m} for f, m in exc.errors]
    if isinstance(exc, PreconditionsUnmet | ActionFailed):
        extra["actions"] = exc.actions
    if wants_json(request):
        return problem(exc.status_code, exc.message, extra=extra)
    detail = exc.message
    if isinstance(exc, PreconditionsUnmet | ActionFailed):
        detail = exc.message + " " + " ".join(exc.actions)
    return error_page(request, exc.status_code, detail)


def http_error_handler(request: Request, exc: HTTPException) -> Response:
    status = exc.status_code
    detail = exc.detail if isinstance(exc.detail, str) else TITLES.get(status, "Error")
    headers = dict(exc.headers or {})
    if isinstance(exc, NotAuthorizedException) and not wants_json(request):
        return Redirect("/login?next=" + request.url.path, status_code=303)
    if isinstance(exc, PermissionDeniedException) and "CSRF" in str(exc.detail):
        detail = (
            "This form had expired or was sent from somewhere else, so nothing was saved. "
            "Go back, reload the page and try again."
        )
    if status >= 500:
        log.error("HTTP %s on %s: %s", status, request.url.path, exc.detail)
        detail = TITLES[500]
    if status == 400 and getattr(exc, "extra", None) and wants_json(request):
        found = body_problems(request, exc) if isinstance(exc, ValidationException) else None
        if found is not None:
            errors = [{"field": f, "message": m} for f, m in found]
            detail = "The body is not valid: every problem is listed in `errors`."
        else:
            errors = [
                {"field": e.get("key", ""), "message": e.get("message", ""), "source": e.get("source", "")}
                if isinstance(e, dict)
                else {"field": "", "message": str(e)}
                for e in (exc.extra if isinstance(exc.extra, list) else [exc.extra])
            ]
        return problem(status, detail, extra={"errors": errors}, headers=headers)
    if status == 404 and detail == "Not Found":
        detail = "There is no page at this address. Check the link, or start again from the home page."
    if wants_json(request):
        return problem(status, detail, headers=headers)
    return error_page(request, status, detail, headers=headers)


def internal_error_handler(request: Request, exc: Exception) -> Response:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    detail = "The problem has been logged. Nothing you sent was saved; please try again in a moment."
    if wants_json(request):
        return problem(HTTP_500_INTERNAL_SERVER_ERROR, detail)
    return error_page(request, HTTP_500_INTERNAL_SERVER_ERROR, detail)


EXCEPTION_HANDLERS = {
    DelphiError: delphi_error_handler,
    HTTPException: http_error_handler,
    Exception: internal_error_handler,
}
