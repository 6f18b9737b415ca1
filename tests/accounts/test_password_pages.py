"""The password pages: change on /account/password, ask on /password/forgot, reset on /password/reset/{token}."""

from __future__ import annotations

import logging

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from delphi.app import create_app
from delphi.db.engine import make_sessionmaker
from delphi.db.models import OneTimeLink, OutboxMessage
from delphi.security import one_time_token
from delphi.settings import Settings
from delphi.web import passwords as pages
from tests.factories import PASSWORD
from tests.helpers import login, make_account, post_form

EMAIL = "fac@example.org"
NEW = "a brand new passphrase"


async def links(engine: AsyncEngine) -> list[OneTimeLink]:
    async with make_sessionmaker(engine)() as session:
        return list((await session.scalars(select(OneTimeLink).order_by(OneTimeLink.id))).all())


async def mails(engine: AsyncEngine) -> list[OutboxMessage]:
    async with make_sessionmaker(engine)() as session:
        return list((await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all())


async def ask_for_a_link(client: AsyncTestClient, email: str):  # type: ignore[no-untyped-def]
    return await post_form(client, "/password/forgot", {"email": email}, follow_redirects=False)


async def mailed_token(engine: AsyncEngine, settings: Settings) -> str:
    (link,) = [link for link in await links(engine) if link.used_at is None]
    return one_time_token(settings.secret_key, link.id, link.nonce)


async def test_the_login_page_links_to_the_forgotten_password_page(client: AsyncTestClient) -> None:
    response = await client.get("/login")
    assert 'href="/password/forgot"' in response.text and "Forgot your password?" in response.text
    assert (await client.get("/password/forgot")).status_code == 200


async def test_change_lists_every_problem_at_once_and_saves_nothing(
    client: AsyncTestClient, engine: AsyncEngine, settings: Settings
) -> None:
    await make_account(engine, EMAIL)
    await login(client, EMAIL)
    form = await client.get("/account/password")
    assert form.status_code == 200 and 'autocomplete="current-password"' in form.text
    response = await post_form(
        client, "/account/password", {"current": "wrong password!", "new": "short", "repeat": "other"}
    )
    assert response.status_code == 422
    assert "There is a problem" in response.text
    for field in ("current", "new", "repeat"):
        assert f'href="#{field}"' in response.text
    for typed in ("wrong password!", "short", "other"):
        assert f'value="{typed}"' not in response.text  # no password is echoed back
    async with AsyncTestClient(app=create_app(settings), base_url="http://testserver.local") as fresh:
        assert (await login(fresh, EMAIL)).status_code == 200  # the old password still works


async def test_change_keeps_this_browser_signed_in_and_signs_out_the_others(
    client: AsyncTestClient, engine: AsyncEngine, settings: Settings
) -> None:
    await make_account(engine, EMAIL)
    await login(client, EMAIL)
    async with AsyncTestClient(app=create_app(settings), base_url="http://testserver.local") as other:
        await login(other, EMAIL)
        assert "Your panels" in (await other.get("/")).text
        response = await post_form(
            client,
            "/account/password",
            {"current": PASSWORD, "new": NEW, "repeat": NEW},
            follow_redirects=False,
        )
        assert response.status_code == 303 and response.headers["location"] == "/account?password=changed"
        page = await client.get(response.headers["location"])
        assert page.status_code == 200 and "Your password is changed" in page.text
        elsewhere = await other.get("/account", follow_redirects=False)
        assert elsewhere.status_code == 303 and elsewhere.headers["location"].startswith("/login")
        assert (await login(other, EMAIL)).status_code == 400  # the old password no longer works
        assert (await login(other, EMAIL, NEW)).status_code == 200


async def test_the_change_page_needs_a_sign_in(client: AsyncTestClient) -> None:
    response = await client.get("/account/password", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login")


async def test_forgot_answers_the_same_page_whether_or_not_an_account_uses_the_address(
    client: AsyncTestClient, engine: AsyncEngine
) -> None:
    await make_account(engine, EMAIL)
    known = await ask_for_a_link(client, EMAIL)
    unknown = await ask_for_a_link(client, "nobody@example.org")
    assert known.status_code == unknown.status_code == 200
    assert known.text == unknown.text
    assert "If an account uses that address, we have sent it a link" in known.text
    assert "at most one link every few minutes" in known.text
    assert EMAIL not in known.text
    (mail,) = await mails(engine)
    assert mail.kind == "password_reset" and mail.to_address == EMAIL


async def test_forgot_takes_at_least_the_floor_for_any_address(
    client: AsyncTestClient, engine: AsyncEngine
) -> None:
    import time

    await make_account(engine, EMAIL)
    for address in (EMAIL, "nobody@example.org"):
        started = time.monotonic()
        await ask_for_a_link(client, address)
        assert time.monotonic() - started >= pages.ANSWER_FLOOR_S


async def test_forgot_refuses_a_malformed_address_with_the_form(client: AsyncTestClient) -> None:
    response = await ask_for_a_link(client, "not an address")
    assert response.status_code == 422
    assert "is not an e-mail address" in response.text and 'href="#email"' in response.text


async def test_forgot_is_rate_limited_per_client(client: AsyncTestClient, app: Litestar) -> None:
    app.state.login_limiter.limit = 2
    assert (await ask_for_a_link(client, "a@example.org")).status_code == 200
    assert (await ask_for_a_link(client, "b@example.org")).status_code == 200
    refused = await ask_for_a_link(client, "c@example.org")
    assert refused.status_code == 429 and "Retry-After" in refused.headers


async def test_a_link_that_does_not_work_gets_one_neutral_page(client: AsyncTestClient) -> None:
    for path in ("/password/reset/not-anyones-token", "/password/reset/" + "x" * 300):
        response = await client.get(path)
        assert response.status_code == 404
        assert "This link does not work any more" in response.text
        assert 'href="/password/forgot"' in response.text
    posted = await post_form(
        client, "/password/reset/not-anyones-token", {"new": NEW, "repeat": NEW}, token_page="/login"
    )
    assert posted.status_code == 404 and "This link does not work any more" in posted.text


async def test_reset_sets_the_password_once_then_sends_to_sign_in(
    client: AsyncTestClient, engine: AsyncEngine, settings: Settings
) -> None:
    await make_account(engine, EMAIL)
    await ask_for_a_link(client, EMAIL)
    path = f"/password/reset/{await mailed_token(engine, settings)}"
    form = await client.get(path)
    assert form.status_code == 200 and 'autocomplete="new-password"' in form.text
    assert form.headers["referrer-policy"] == "no-referrer" and form.headers["cache-control"] == "no-store"
    refused = await post_form(client, path, {"new": NEW, "repeat": "something else"}, follow_redirects=False)
    assert refused.status_code == 422 and 'href="#repeat"' in refused.text
    done = await post_form(client, path, {"new": NEW, "repeat": NEW}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/login?signed_out=everywhere"
    assert (await client.get(path)).status_code == 404  # spent
    assert (await login(client, EMAIL, NEW)).status_code == 200


async def test_reset_signs_out_a_browser_that_was_signed_in(
    client: AsyncTestClient, engine: AsyncEngine, settings: Settings
) -> None:
    await make_account(engine, EMAIL)
    async with AsyncTestClient(app=create_app(settings), base_url="http://testserver.local") as signed_in:
        await login(signed_in, EMAIL)
        await ask_for_a_link(client, EMAIL)
        path = f"/password/reset/{await mailed_token(engine, settings)}"
        await post_form(client, path, {"new": NEW, "repeat": NEW}, follow_redirects=False)
        response = await signed_in.get("/account", follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith("/login")


async def test_an_access_log_line_shows_a_reset_path_redacted(
    app: Litestar, caplog: pytest.LogCaptureFixture
) -> None:
    """uvicorn's access log passes the path as an argument; the app's record factory (installed by create_app)
    cleans it when the record is made."""
    token = "e6jW1CosXIk-X5dLZCGB8pxffNYtTGOfi5F-FHcIFY0"
    with caplog.at_level(logging.INFO, logger="uvicorn.access"):
        logging.getLogger("uvicorn.access").info(
            '%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "POST", f"/password/reset/{token}", "1.1", 303
        )
    assert '"POST /password/reset/<redacted> HTTP/1.1" 303' in caplog.text
    assert token not in caplog.text
