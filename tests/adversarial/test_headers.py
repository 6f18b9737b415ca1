"""Security headers on every answer the app gives, safe cookies, and rate limits on login and personal links.

Every route of the app (``app.routes``, so a new page is covered the day it is added) is requested with every
method it serves, as an anonymous visitor, a panellist and the panel's owner, plus answers the router makes
itself (404, 405) and a 429.  Each answer, whatever its status, must carry a Content-Security-Policy without
inline script and with ``frame-ancestors 'none'``, ``Referrer-Policy: no-referrer`` and
``X-Content-Type-Options: nosniff``; every cookie set must be HttpOnly and SameSite.  Unsafe methods are sent
without a CSRF token, so the CSRF check refuses them before they can change anything.
"""

from __future__ import annotations

import re

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.app import CSRF_COOKIE
from delphi.settings import Settings
from tests.helpers import csrf_token
from tests.results.helpers import OWNER, World, become, build_world

ROLES = ("anonymous", "panellist", OWNER)
EXTRA = [
    ("GET", "/no/such/page"),
    ("GET", "/api/v1/no/such/thing"),
    ("DELETE", "/panel"),
    ("PUT", "/login"),
    ("GET", "/static/app.css"),
    ("GET", "/static/panellist.js"),
]


def fill(template: str, world: World) -> str:
    values = {
        "panel_id": world.pid,
        "number": 1,
        "rating_id": world.study.comments["formula"],
        "filename": "final-list.csv",
        "group_id": world.study.groups["users"].id,
        "statement_id": world.study.statements["S1"].id,
        "panellist_id": world.study.panellists[0].id,
        "token": "not-anyones-token",
        "file_path": "app.css",
        "path": "openapi.json",
    }
    return re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: str(values.get(m.group(1), 999_999)), template)


def header_problems(response: httpx.Response) -> list[str]:
    h = response.headers
    where = f"{response.request.method} {response.request.url.path} ({response.status_code})"
    problems = []
    csp = h.get("content-security-policy", "")
    directives = {d.split()[0]: d.split()[1:] for d in (x.strip() for x in csp.split(";")) if d}
    if directives.get("frame-ancestors") != ["'none'"]:
        problems.append(f"{where}: CSP frame-ancestors is {directives.get('frame-ancestors')}")
    script = directives.get("script-src", directives.get("default-src", []))
    if not script or any(s in ("'unsafe-inline'", "'unsafe-eval'", "*") for s in script):
        problems.append(f"{where}: CSP script-src is {script}")
    if h.get("referrer-policy") != "no-referrer":
        problems.append(f"{where}: Referrer-Policy is {h.get('referrer-policy')!r}")
    if h.get("x-content-type-options") != "nosniff":
        problems.append(f"{where}: X-Content-Type-Options is {h.get('x-content-type-options')!r}")
    for cookie in h.get_list("set-cookie"):
        attributes = {a.strip().split("=")[0].lower(): a for a in cookie.split(";")[1:]}
        samesite = attributes.get("samesite", "").split("=")[-1].strip().lower()
        if "httponly" not in attributes or samesite not in ("lax", "strict"):
            problems.append(f"{where}: cookie {cookie.split('=')[0]} is not HttpOnly and SameSite: {cookie}")
    return problems


async def test_every_answer_of_every_route_carries_the_security_headers_and_safe_cookies(
    app: Litestar, client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    world = await build_world(session, settings, rounds=2)
    requests = [
        (method, fill(route.path, world))
        for route in app.routes
        for method in sorted(getattr(route, "methods", ()))
        if method not in ("OPTIONS", "HEAD")
    ]
    requests += EXTRA
    problems: list[str] = []
    cookies: set[str] = set()
    statuses: set[int] = set()
    for role in ROLES:
        await become(client, world, role)
        client.cookies.delete(CSRF_COOKIE)  # so that a page sets it again, and its attributes are checked
        for method, url in requests:
            response = await client.request(method, url, follow_redirects=False)
            statuses.add(response.status_code)
            cookies |= {c.split("=")[0] for c in response.headers.get_list("set-cookie")}
            problems += header_problems(response)
    assert problems == []
    assert {200, 303, 403, 404, 405} <= statuses, statuses
    assert {"delphi_session", "delphi_csrf"} <= cookies, cookies


async def test_login_is_rate_limited_with_retry_after(client: AsyncTestClient) -> None:
    token = await csrf_token(client)
    statuses = []
    for _ in range(21):
        response = await client.post(
            "/login",
            data={"email": "nobody@example.org", "password": "wrong password", "_csrf_token": token},
            follow_redirects=False,
        )
        statuses.append(response.status_code)
    assert statuses[:20] == [400] * 20
    assert response.status_code == 429
    assert int(response.headers["retry-after"]) > 0
    assert "Wait" in response.text and "nobody@example.org" not in response.text
    assert header_problems(response) == []


@pytest.mark.parametrize("path", ["/p/{}", "/p/{}/leave"])
async def test_personal_links_are_rate_limited_with_retry_after(client: AsyncTestClient, path: str) -> None:
    statuses = [(await client.get(path.format(f"guess{i:04d}" + "x" * 34))).status_code for i in range(61)]
    assert statuses[:60] == [404] * 60 and statuses[60] == 429
    response = await client.get(path.format("another-guess"))
    assert response.status_code == 429
    assert int(response.headers["retry-after"]) > 0
    assert header_problems(response) == []
