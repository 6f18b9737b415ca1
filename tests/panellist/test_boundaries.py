"""Limits around the panellist pages: link guessing is rate-limited, the pure modules stay pure, and the pages
carry the security headers and no inline script or style."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.panellist.conftest import enter

PACKAGE = Path(__file__).resolve().parents[2] / "delphi"


async def test_guessing_links_is_rate_limited(client, world) -> None:
    for _ in range(60):
        assert (await client.get("/p/" + "g" * 43)).status_code == 404
    limited = await client.get(f"/p/{world.token}")
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) > 0


@pytest.mark.parametrize(
    "module",
    [
        "participation/issues.py",
        "participation/checks.py",
        "participation/paging.py",
        "rounds/figures.py",
        "web/charts.py",
    ],
)
def test_pure_modules_import_no_database_or_web_framework(module: str) -> None:
    tree = ast.parse((PACKAGE / module).read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    assert not {n for n in names if n.split(".")[0] in {"sqlalchemy", "litestar", "advanced_alchemy"}}
    assert not {n for n in names if n.startswith(("delphi.db", "delphi.web", "delphi.mail"))}


async def test_panellist_pages_have_security_headers_and_no_inline_code(client, consented_world) -> None:
    await enter(client, consented_world.token)
    for path in (
        "/panel",
        "/panel/rate?page=1",
        "/panel/review",
        "/panel/suggest",
        "/panel/leave",
        "/panel/consent",
    ):
        response = await client.get(path)
        assert response.status_code == 200, path
        assert response.headers["referrer-policy"] == "no-referrer"
        assert "script-src 'self'" in response.headers["content-security-policy"]
        assert response.headers["cache-control"] == "no-store"
        html = response.text
        assert " style=" not in html and "<style" not in html, path
        assert "<script>" not in html and " on" + "click=" not in html, path
