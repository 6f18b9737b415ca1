"""Every kind of e-mailed link token is kept out of log text: personal links, password resets, invitations."""

from __future__ import annotations

import pytest

from delphi.web.logredact import redact

TOKEN = "e6jW1CosXIk-X5dLZCGB8pxffNYtTGOfi5F-FHcIFY0"


@pytest.mark.parametrize(
    ("path", "logged"),
    [
        (f"/p/{TOKEN}", "/p/<redacted>"),
        (f"/p/{TOKEN}/leave", "/p/<redacted>/leave"),
        (f"/password/reset/{TOKEN}", "/password/reset/<redacted>"),
        (f"/invitation/{TOKEN}?x=1", "/invitation/<redacted>?x=1"),
    ],
)
def test_a_link_token_in_a_logged_path_is_redacted(path: str, logged: str) -> None:
    line = redact(f'127.0.0.1:5000 - "GET {path} HTTP/1.1" 200')
    assert TOKEN not in line and f"GET {logged} HTTP" in line


def test_text_without_a_link_is_unchanged() -> None:
    assert redact("GET /panels/3/team 200") == "GET /panels/3/team 200"
