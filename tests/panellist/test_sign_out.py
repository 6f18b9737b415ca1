"""Panellists on a shared computer: "Sign out" and "Quick exit" on every page end the session (a copied cookie
too) while the personal link keeps working, and a session ends by itself after a while without use."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from delphi.app import SESSION_COOKIE, create_app
from delphi.db.models import AuditEvent, Panellist, Rating
from delphi.errors import SettingsError
from delphi.participation import checks
from delphi.settings import SessionSettings, Settings, load_settings
from delphi.web.panellist import session as panellist_session
from tests.factories import World
from tests.helpers import csrf_token
from tests.panellist.conftest import enter, form_token, new_session

NEUTRAL = "https://neutral.example/forecast"
BASE = "http://testserver.local"
T0 = 1_900_000_000.0  # epoch seconds where the moved clock starts


def session_cookie(client: AsyncTestClient) -> str | None:
    return client.cookies.get(SESSION_COOKIE)


def use_cookie(client: AsyncTestClient, value: str) -> None:
    """Put ``value`` back as the session cookie, as someone who copied it would."""
    client.cookies.set(SESSION_COOKIE, value, domain="testserver.local")


def clears_session(response) -> bool:  # type: ignore[no-untyped-def]
    return f"{SESSION_COOKIE}=null" in [v.split(";")[0] for v in response.headers.get_list("set-cookie")]


def sets_session(response) -> bool:  # type: ignore[no-untyped-def]
    return any(
        v.startswith(f"{SESSION_COOKIE}=") and not v.startswith(f"{SESSION_COOKIE}=null")
        for v in response.headers.get_list("set-cookie")
    )


async def sign_out(client: AsyncTestClient, path: str = "/panel") -> None:
    token = await form_token(client, path)
    response = await client.post("/panel/sign-out", data={"_csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/panel/signed-out"
    assert clears_session(response)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Callable[[float], None]:
    """Move the panellist session clock: ``clock(seconds)`` sets it to :data:`T0` plus ``seconds``."""
    now = [T0]
    monkeypatch.setattr(panellist_session, "epoch_now", lambda: now[0])

    def move(seconds: float) -> None:
        now[0] = T0 + seconds

    return move


@pytest.fixture
async def exit_client(settings: Settings) -> AsyncIterator[AsyncTestClient]:
    """A client of an app whose quick exit leaves to :data:`NEUTRAL`."""
    app: Litestar = create_app(settings.with_overrides(quick_exit_url=NEUTRAL))
    async with AsyncTestClient(app=app, base_url=BASE) as c:
        yield c


# --- sign out -----------------------------------------------------------------------------------------------


async def test_signing_out_ends_the_session_and_a_copied_cookie_no_longer_works(
    client: AsyncTestClient, consented_world: World, engine: AsyncEngine
) -> None:
    w = consented_world
    await enter(client, w.token)
    copied = session_cookie(client)
    assert copied and (await client.get("/panel")).status_code == 200
    await sign_out(client)

    assert (await client.get("/panel", follow_redirects=False)).status_code == 403  # the cookie is gone
    use_cookie(client, copied)
    page = await client.get("/panel", follow_redirects=False)
    assert page.status_code == 401
    assert "You have been signed out" in page.text and "personal link" in page.text
    assert "Nothing you saved is lost" in page.text
    assert w.panel.title not in page.text
    async with new_session(engine) as s:
        person = await s.get(Panellist, w.panellist.id)
        assert person is not None and person.sessions_ended_at is not None
        assert person.session_version == w.panellist.session_version  # so the e-mailed link still works
        events = (
            await s.scalars(select(AuditEvent).where(AuditEvent.action == "panellist.signed_out"))
        ).all()
        assert [e.detail for e in events] == [{"panellist": w.panellist.pseudonym, "how": "sign-out"}]


async def test_a_copied_cookie_cannot_save_an_answer_in_the_background_after_signing_out(
    client: AsyncTestClient, consented_world: World, engine: AsyncEngine
) -> None:
    w = consented_world
    await enter(client, w.token)
    token = await form_token(client, "/panel/rate")
    copied = session_cookie(client)
    assert copied
    await sign_out(client, "/panel/rate")
    use_cookie(client, copied)
    refused = await client.post(
        f"/panel/ratings/{w.statements[0].id}", json={"answer": 6}, headers={"x-csrftoken": token}
    )
    assert refused.status_code == 401
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert "signed out" in refused.json()["detail"]
    async with new_session(engine) as s:
        assert (await s.scalars(select(Rating).where(Rating.panellist_id == w.panellist.id))).all() == []


async def test_the_personal_link_signs_in_again_after_signing_out(
    client: AsyncTestClient, consented_world: World
) -> None:
    w = consented_world
    await enter(client, w.token)
    old = session_cookie(client)
    assert old
    await sign_out(client)
    await enter(client, w.token)
    home = await client.get("/panel")
    assert home.status_code == 200 and w.panel.title in home.text
    use_cookie(client, old)  # the session from before signing out stays ended
    assert (await client.get("/panel", follow_redirects=False)).status_code == 401


async def test_the_signed_out_page_names_no_panel_and_says_how_to_come_back(
    client: AsyncTestClient, consented_world: World
) -> None:
    w = consented_world
    await enter(client, w.token)
    await sign_out(client)
    page = await client.get("/panel/signed-out")
    assert page.status_code == 200
    assert "You have signed out" in page.text and "personal link" in page.text
    for revealing in (w.panel.title, w.panel.description, *(s.text for s in w.statements)):
        assert revealing not in page.text
    assert 'action="/panel/sign-out"' not in page.text  # nobody is signed in any more
    assert 'action="/panel/quick-exit"' in page.text


async def test_signing_out_without_a_session_only_shows_the_signed_out_page(
    client: AsyncTestClient, world: World, engine: AsyncEngine
) -> None:
    token = await csrf_token(client)  # from the sign-in page: this visitor has no panellist page
    response = await client.post("/panel/sign-out", data={"_csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/panel/signed-out"
    async with new_session(engine) as s:
        person = await s.get(Panellist, world.panellist.id)
        assert person is not None and person.sessions_ended_at is None


async def test_signing_out_needs_the_csrf_token(client: AsyncTestClient, consented_world: World) -> None:
    await enter(client, consented_world.token)
    refused = await client.post("/panel/sign-out", data={}, follow_redirects=False)
    assert refused.status_code == 403
    assert (await client.get("/panel")).status_code == 200  # still signed in


# --- quick exit ---------------------------------------------------------------------------------------------


async def test_quick_exit_leaves_at_once_for_the_configured_page_and_ends_the_session(
    exit_client: AsyncTestClient, consented_world: World, engine: AsyncEngine
) -> None:
    w = consented_world
    await enter(exit_client, w.token)
    copied = session_cookie(exit_client)
    assert copied
    left = await exit_client.post("/panel/quick-exit", follow_redirects=False)  # no CSRF token, no script
    assert left.status_code == 303 and left.headers["location"] == NEUTRAL
    assert clears_session(left)
    use_cookie(exit_client, copied)
    assert (await exit_client.get("/panel", follow_redirects=False)).status_code == 401
    async with new_session(engine) as s:
        events = (
            await s.scalars(select(AuditEvent).where(AuditEvent.action == "panellist.signed_out"))
        ).all()
        assert [e.detail["how"] for e in events] == ["quick-exit"]


async def test_quick_exit_leaves_even_without_a_session_or_with_an_ended_one(
    exit_client: AsyncTestClient, consented_world: World, clock: Callable[[float], None]
) -> None:
    anonymous = await exit_client.post("/panel/quick-exit", follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"] == NEUTRAL
    await enter(exit_client, consented_world.token)
    clock(3600)  # past the idle time
    ended = await exit_client.post("/panel/quick-exit", follow_redirects=False)
    assert ended.status_code == 303 and ended.headers["location"] == NEUTRAL


async def test_every_panellist_page_offers_quick_exit_and_sign_out(
    exit_client: AsyncTestClient, consented_world: World
) -> None:
    await enter(exit_client, consented_world.token)
    for path in ("/panel", "/panel/rate", "/panel/review", "/panel/suggest", "/panel/leave"):
        page = await exit_client.get(path)
        assert page.status_code == 200, path
        assert f'action="/panel/quick-exit" class="inline" data-quick-exit="{NEUTRAL}"' in page.text, path
        assert 'action="/panel/sign-out"' in page.text and ">Sign out<" in page.text, path
        assert "Quick exit" in page.text, path


async def test_panellist_pages_are_not_cached_and_let_the_quick_exit_form_leave_the_site(
    exit_client: AsyncTestClient, consented_world: World, clock: Callable[[float], None]
) -> None:
    await enter(exit_client, consented_world.token)
    pages = [await exit_client.get(p) for p in ("/panel", "/panel/rate", "/panel/signed-out")]
    clock(3600)
    pages.append(await exit_client.get("/panel", follow_redirects=False))  # "you were signed out"
    assert [p.status_code for p in pages] == [200, 200, 200, 401]
    for page in pages:
        assert page.headers["cache-control"] == "no-store", page.url
        csp = page.headers["content-security-policy"]
        assert "form-action 'self' https://neutral.example;" in csp, page.url
        assert "script-src 'self';" in csp and "frame-ancestors 'none'" in csp  # nothing else loosened


# --- lifetimes ----------------------------------------------------------------------------------------------


async def test_a_session_ends_after_the_idle_time_and_the_page_says_why_in_plain_words(
    client: AsyncTestClient, consented_world: World, clock: Callable[[float], None]
) -> None:
    w = consented_world
    await enter(client, w.token)  # idle time: 30 minutes by default
    clock(29 * 60)
    assert (await client.get("/panel")).status_code == 200  # in use: the idle time starts again
    clock(29 * 60 + 29 * 60)
    assert (await client.get("/panel")).status_code == 200
    clock(29 * 60 + 29 * 60 + 31 * 60)
    page = await client.get("/panel", follow_redirects=False)
    assert page.status_code == 401
    assert "For your privacy, you were signed out after a while without activity." in page.text
    assert "personal link in your invitation e-mail" in page.text and "Nothing you saved is lost" in page.text
    assert w.panel.title not in page.text
    assert 'action="/panel/quick-exit"' in page.text


async def test_a_session_ends_after_the_longest_time_even_while_in_use(
    client: AsyncTestClient, consented_world: World, clock: Callable[[float], None]
) -> None:
    await enter(client, consented_world.token)
    minutes = 0
    while minutes + 20 <= 12 * 60:  # a page every 20 minutes for 12 hours
        minutes += 20
        clock(minutes * 60)
        assert (await client.get("/panel")).status_code == 200, minutes
    clock(12 * 3600 + 60)
    assert (await client.get("/panel", follow_redirects=False)).status_code == 401


async def test_shorter_lifetimes_from_the_settings_apply(
    settings: Settings, consented_world: World, clock: Callable[[float], None]
) -> None:
    short = SessionSettings(panellist_idle=timedelta(minutes=5), panellist_max=timedelta(hours=1))
    app = create_app(settings.with_overrides(sessions=short))
    async with AsyncTestClient(app=app, base_url=BASE) as c:
        await enter(c, consented_world.token)
        clock(4 * 60)
        assert (await c.get("/panel")).status_code == 200
        clock(4 * 60 + 6 * 60)
        assert (await c.get("/panel", follow_redirects=False)).status_code == 401
        await enter(c, consented_world.token)  # at 10 minutes: a new session
        for step in range(1, 16):  # in use every 4 minutes, up to an hour after it started
            clock(10 * 60 + step * 4 * 60)
            assert (await c.get("/panel")).status_code == 200, step
        clock(10 * 60 + 61 * 60)  # used a minute ago, but started more than an hour ago
        assert (await c.get("/panel", follow_redirects=False)).status_code == 401


async def test_a_background_save_after_the_session_ran_out_is_a_401_problem_and_earlier_answers_stay(
    client: AsyncTestClient, consented_world: World, engine: AsyncEngine, clock: Callable[[float], None]
) -> None:
    w = consented_world
    sid = w.statements[0].id
    await enter(client, w.token)
    token = await form_token(client, "/panel/rate")
    saved = await client.post(f"/panel/ratings/{sid}", json={"answer": 7}, headers={"x-csrftoken": token})
    assert saved.status_code == 200
    clock(31 * 60)
    refused = await client.post(f"/panel/ratings/{sid}", json={"answer": 2}, headers={"x-csrftoken": token})
    assert refused.status_code == 401
    assert refused.headers["content-type"].startswith("application/problem+json")
    body = refused.json()
    assert body["status"] == 401
    assert body["detail"].startswith("For your privacy, you were signed out after a while without activity.")
    async with new_session(engine) as s:
        values = (await s.scalars(select(Rating.value).where(Rating.panellist_id == w.panellist.id))).all()
        assert values == [7]


async def test_background_saves_rewrite_the_last_use_stamp_at_most_once_a_minute(
    client: AsyncTestClient, consented_world: World, clock: Callable[[float], None]
) -> None:
    w = consented_world
    sid = w.statements[0].id
    await enter(client, w.token)
    token = await form_token(client, "/panel/rate")

    async def save(value: int) -> bool:
        response = await client.post(
            f"/panel/ratings/{sid}", json={"answer": value}, headers={"x-csrftoken": token}
        )
        assert response.status_code == 200
        return sets_session(response)

    clock(10)
    assert not await save(3)
    clock(59)
    assert not await save(4)
    clock(61)
    assert await save(5)  # more than a minute old: rewritten, so the idle time starts again
    clock(61 + 30)
    assert not await save(6)
    clock(61 + 29 * 60)  # 30 minutes and a second after signing in, 29 after the stamp: still signed in
    assert await save(7)


def test_a_session_past_its_idle_time_or_without_stamps_counts_as_ended() -> None:
    assert checks.session_timed_out(None, None, T0, timedelta(minutes=30), timedelta(hours=12))
    assert checks.session_timed_out(T0, "soon", T0, timedelta(minutes=30), timedelta(hours=12))
    assert checks.session_timed_out(True, T0, T0, timedelta(minutes=30), timedelta(hours=12))
    assert not checks.session_timed_out(T0, T0, T0 + 1800, timedelta(minutes=30), timedelta(hours=12))
    assert checks.session_timed_out(T0, T0, T0 + 1801, timedelta(minutes=30), timedelta(hours=12))


def test_signing_out_ends_the_sessions_started_before_it_only() -> None:
    ended = datetime.fromtimestamp(T0, UTC)
    assert not checks.signed_out_since(T0 - 1, None)  # never signed out
    assert checks.signed_out_since(T0 - 0.001, ended)
    assert checks.signed_out_since(T0, ended)  # not after it: ended
    assert not checks.signed_out_since(T0 + 0.001, ended)  # opened the link again since
    assert checks.signed_out_since(None, ended)  # no start stamp


def test_the_quick_exit_address_must_be_http_or_https() -> None:
    assert load_settings({}, require_secret=False).quick_exit_url == "https://www.bbc.co.uk/weather"
    chosen = load_settings({"DELPHI_QUICK_EXIT_URL": " https://www.example.org/news "}, require_secret=False)
    assert chosen.quick_exit_url == "https://www.example.org/news"
    for bad in ("javascript:alert(1)", "ftp://example.org/", "www.example.org", "https://", "https://a b/"):
        with pytest.raises(SettingsError, match="DELPHI_QUICK_EXIT_URL"):
            load_settings({"DELPHI_QUICK_EXIT_URL": bad}, require_secret=False)
