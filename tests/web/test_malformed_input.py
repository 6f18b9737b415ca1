"""Malformed input an anonymous visitor or a signed-in facilitator can send gets a 4xx or the form back, never a 500."""

from __future__ import annotations

import base64

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.helpers import login, make_account, post_form
from tests.web.test_facilitator_pages import PANEL_FORM, new_panel

AAD = b"additional_authenticated_data="  # litestar's marker before the cookie's JSON expiry
MALFORMED_COOKIES = [
    "not base64 at all!",
    "a" * 5,
    base64.b64encode(b"short").decode(),
    base64.b64encode(b"n" * 12 + b"ciphertext" + AAD + b"not json").decode(),
    base64.b64encode(b"n" * 12 + b"ciphertext" + AAD + b'{"other": 1}').decode(),
    base64.b64encode(b"n" * 12 + b"ciphertext" + AAD + b'{"expires_at": "soon"}').decode(),
    base64.b64encode(b"n" * 12 + b"ciphertext" + AAD + b"[1]").decode(),
    base64.b64encode(b"n" * 3 + b"ciphertext" + AAD + b'{"expires_at": 99999999999}').decode(),
]


@pytest.mark.parametrize("cookie", MALFORMED_COOKIES)
@pytest.mark.parametrize("path", ["/login", "/panels/1"])
async def test_a_malformed_session_cookie_is_no_session(
    client: AsyncTestClient, path: str, cookie: str
) -> None:
    response = await client.get(path, headers={"cookie": f"delphi_session={cookie}"}, follow_redirects=False)
    assert response.status_code < 500, response.text


async def test_a_malformed_session_cookie_still_lets_one_sign_in(
    client: AsyncTestClient, engine: AsyncEngine
) -> None:
    await make_account(engine, "fac@example.org")
    client.cookies.set("delphi_session", MALFORMED_COOKIES[3])
    response = await login(client, "fac@example.org")
    assert response.status_code == 200 and "Your panels" in response.text


@pytest.mark.parametrize("amount", ["inf", "-inf", "1e400", "nan", "Infinity"])
async def test_an_honorarium_past_any_number_is_shown_again_with_an_error(
    client: AsyncTestClient, engine: AsyncEngine, amount: str
) -> None:
    base = await new_panel(client, engine)
    form = {**PANEL_FORM, "honorarium": amount, "currency": "GBP"}
    r = await post_form(client, f"{base}/settings", form, token_page=f"{base}/settings")
    assert r.status_code == 422 and "Enter the honorarium as an amount like 15 or 15.00" in r.text


@pytest.mark.parametrize("when", ["9999-12-31T23:59-14:00", "0001-01-01T00:00+14:00"])
async def test_a_date_past_the_calendar_is_shown_again_with_an_error(
    client: AsyncTestClient, engine: AsyncEngine, when: str
) -> None:
    base = await new_panel(client, engine)
    form = {"closes_at": when, "reminders": "7d"}
    r = await post_form(client, f"{base}/rounds/1/schedule", form, token_page=f"{base}/rounds/1")
    assert r.status_code == 422 and "Enter a date and time between the years 1 and 9999" in r.text


@pytest.mark.parametrize("page", [str(2**63), str(2**64 + 1), "9" * 40])
async def test_a_mail_page_past_any_page_is_a_clear_400(
    client: AsyncTestClient, engine: AsyncEngine, page: str
) -> None:
    base = await new_panel(client, engine)
    r = await client.get(f"{base}/mail", params={"page": page})
    assert r.status_code == 400 and "There is no such page of the mail history" in r.text
