"""Security headers on every response, added by an app-level ``before_send`` hook.

A hook (not a middleware) so that every answer gets them, including the router's own 404 and 405 pages.
"""

from __future__ import annotations

from litestar.types import Message, Scope

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CSP.encode()),
    (b"referrer-policy", b"no-referrer"),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), interest-cohort=()"),
    (b"cross-origin-opener-policy", b"same-origin"),
)


async def add_security_headers(message: Message, scope: Scope) -> None:
    """Add the security headers (and ``Cache-Control: no-store`` unless set) to an HTTP response start."""
    if message["type"] != "http.response.start":
        return
    headers = list(message.get("headers", []))
    present = {name.lower() for name, _ in headers}
    headers.extend((n, v) for n, v in SECURITY_HEADERS if n not in present)
    if b"cache-control" not in present:
        headers.append((b"cache-control", b"no-store"))
    message["headers"] = headers
