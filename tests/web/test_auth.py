"""Login, logout, CSRF and the error pages of the foundation."""

from __future__ import annotations

from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from delphi.db.engine import make_sessionmaker
from delphi.db.models import Account
from tests.helpers import login, make_account, post_form


async def test_right_password_signs_in_and_lists_panels(client: AsyncTestClient, engine: AsyncEngine) -> None:
    await make_account(engine, "fac@example.org")
    response = await login(client, "fac@example.org")
    assert response.status_code == 200  # followed the 303 to the home page
    assert "Your panels" in response.text
    cookie = next(c for c in client.cookies.jar if c.name == "delphi_session")
    assert cookie.has_nonstandard_attr("HttpOnly")
    assert cookie.get_nonstandard_attr("SameSite", "").lower() == "lax"


async def test_wrong_password_and_unknown_email_get_the_same_message(
    client: AsyncTestClient, engine: AsyncEngine
) -> None:
    await make_account(engine, "fac@example.org")
    wrong = await login(client, "fac@example.org", "not the password")
    unknown = await login(client, "nobody@example.org", "not the password")
    assert wrong.status_code == unknown.status_code == 400
    for response in (wrong, unknown):
        assert "The e-mail address or password is not right" in response.text
        assert "There is a problem" in response.text
    assert "nobody@example.org" in unknown.text  # the address typed stays in the form


async def test_repeated_failures_lock_the_account_without_saying_so(
    client: AsyncTestClient, engine: AsyncEngine
) -> None:
    await make_account(engine, "fac@example.org")
    for _ in range(8):
        await login(client, "fac@example.org", "wrong password!")
    locked = await login(client, "fac@example.org")  # right password, but locked now
    assert locked.status_code == 400
    assert "or the account is locked" in locked.text
    async with make_sessionmaker(engine)() as session:
        account = await session.scalar(select(Account).where(Account.email == "fac@example.org"))
        assert account is not None and account.locked_until is not None


async def test_form_without_csrf_token_gets_a_readable_403(client: AsyncTestClient) -> None:
    await client.get("/login")
    response = await client.post("/login", data={"email": "a@b.org", "password": "x"})
    assert response.status_code == 403
    assert "nothing was saved" in response.text
    assert "<html" in response.text


async def test_logout_ends_the_session(client: AsyncTestClient, engine: AsyncEngine) -> None:
    await make_account(engine, "fac@example.org")
    await login(client, "fac@example.org")
    response = await post_form(client, "/logout", {}, token_page="/")
    assert response.status_code == 200 and "Sign in" in response.text
    home = await client.get("/")
    assert "Your panels" not in home.text


async def test_unknown_panel_is_a_404_page(client: AsyncTestClient, engine: AsyncEngine) -> None:
    await make_account(engine, "fac@example.org")
    await login(client, "fac@example.org")
    response = await client.get("/panels/99999")
    assert response.status_code == 404
    assert "There is no panel at this address" in response.text


async def test_pages_need_a_login(client: AsyncTestClient) -> None:
    response = await client.get("/panels/1", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")


async def test_unknown_page_is_a_404_page_with_security_headers(client: AsyncTestClient) -> None:
    response = await client.get("/no/such/page")
    assert response.status_code == 404
    assert "Page not found" in response.text
    assert response.headers["referrer-policy"] == "no-referrer"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_healthz_reports_database_reachability(client: AsyncTestClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


async def test_next_parameter_never_leaves_the_site(client: AsyncTestClient, engine: AsyncEngine) -> None:
    await make_account(engine, "fac@example.org")
    response = await post_form(
        client,
        "/login",
        {"email": "fac@example.org", "password": "correct horse battery staple", "next": "//evil.example/"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/"
