"""Facilitator sessions live in the database (issue finding: a copied cookie outlived "Sign out" and listed
panellists' e-mail addresses; cookies lived 30 days and slid): sign-out, sign out everywhere, deactivation and
the idle and absolute lifetimes each end a session for every copy of its cookie."""

from __future__ import annotations

from datetime import timedelta

from litestar.testing import AsyncTestClient
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.accounts.sessions import describe_user_agent, revoke_sessions, start_session
from delphi.app import SESSION_COOKIE
from delphi.db.models import Account, AccountSession, utcnow
from delphi.settings import Settings
from tests.results.helpers import OWNER, World, build_world, login, post_form

PEOPLE = "@people.example"


def cookie(client: AsyncTestClient) -> str:
    """The session cookie's value, as someone who copied it from the browser would hold it."""
    value = client.cookies.get(SESSION_COOKIE)
    assert value
    return value


def use_cookie(client: AsyncTestClient, value: str) -> None:
    client.cookies.set(SESSION_COOKIE, value, domain="testserver.local")


async def signed_in_owner(client: AsyncTestClient, session: AsyncSession, settings: Settings) -> World:
    world = await build_world(session, settings, rounds=1)
    await login(client, OWNER)
    return world


async def sees_addresses(client: AsyncTestClient, world: World) -> bool:
    """Whether ``client`` is signed in (the panellists page answers) and is shown panellists' addresses."""
    page = await client.get(f"/panels/{world.pid}/panellists", follow_redirects=False)
    if page.status_code != 200:
        assert page.status_code == 303 and page.headers["location"].startswith("/login")
        assert PEOPLE not in page.text
        return False
    return PEOPLE in page.text


async def set_session_times(session: AsyncSession, **times: object) -> None:
    await session.execute(update(AccountSession).values(**times))
    await session.commit()


async def test_a_copied_cookie_stops_working_when_its_session_signs_out(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    world = await signed_in_owner(client, session, settings)
    copied = cookie(client)
    assert await sees_addresses(client, world)
    await post_form(client, "/logout")
    assert not await sees_addresses(client, world)
    use_cookie(client, copied)  # the copy taken before signing out
    assert not await sees_addresses(client, world)


async def test_sign_out_everywhere_ends_every_browser_of_the_account(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    world = await signed_in_owner(client, session, settings)
    phone = cookie(client)
    client.cookies.clear()
    await login(client, OWNER)  # a second browser
    page = await client.get("/account")
    assert page.status_code == 200 and "Sign out everywhere" in page.text
    await post_form(client, "/account/sign-out-everywhere")
    assert not await sees_addresses(client, world)
    use_cookie(client, phone)
    assert not await sees_addresses(client, world)
    live = await session.scalar(
        select(func.count()).select_from(AccountSession).where(AccountSession.revoked_at.is_(None))
    )
    assert live == 0


async def test_a_session_ends_after_twelve_hours_without_a_request(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    world = await signed_in_owner(client, session, settings)
    await set_session_times(session, last_seen_at=utcnow() - timedelta(hours=11, minutes=59))
    assert await sees_addresses(client, world)  # within the idle time; the request moves last use on
    await set_session_times(session, last_seen_at=utcnow() - timedelta(hours=12, minutes=1))
    assert not await sees_addresses(client, world)


async def test_a_session_ends_seven_days_after_signing_in_even_while_in_use(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    world = await signed_in_owner(client, session, settings)
    await set_session_times(session, created_at=utcnow() - timedelta(days=6, hours=23))
    assert await sees_addresses(client, world)
    await set_session_times(session, created_at=utcnow() - timedelta(days=7, minutes=1))
    assert not await sees_addresses(client, world)


async def test_a_deactivated_account_is_signed_out_at_once(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    world = await signed_in_owner(client, session, settings)
    await session.execute(update(Account).where(Account.email == OWNER).values(is_active=False))
    await session.commit()
    assert not await sees_addresses(client, world)


async def test_the_last_use_is_written_at_most_once_a_minute(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    world = await signed_in_owner(client, session, settings)
    recent = utcnow() - timedelta(seconds=20)
    await set_session_times(session, last_seen_at=recent)
    await sees_addresses(client, world)
    assert await session.scalar(select(AccountSession.last_seen_at)) == recent
    await set_session_times(session, last_seen_at=utcnow() - timedelta(minutes=5))
    await sees_addresses(client, world)
    seen = await session.scalar(select(AccountSession.last_seen_at))
    assert seen is not None and utcnow() - seen < timedelta(minutes=1)


async def test_revoking_an_accounts_sessions_keeps_the_one_asked_for(
    session: AsyncSession, settings: Settings
) -> None:
    world = await build_world(session, settings, rounds=1)
    owner = await session.scalar(select(Account).where(Account.email == OWNER))
    assert owner is not None and world.pid
    here = await start_session(session, owner, user_agent="")
    await start_session(session, owner, user_agent="")
    await start_session(session, owner, user_agent="")
    here_id = here.id
    assert await revoke_sessions(session, owner.id, keep=here_id, reason="password changed") == 2
    await session.commit()
    live = (await session.scalars(select(AccountSession.id).where(AccountSession.revoked_at.is_(None)))).all()
    assert list(live) == [here_id]


def test_the_account_page_names_browsers_in_plain_words() -> None:
    firefox = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"
    android = (
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/126.0.0.0 Mobile Safari/537.36"
    )
    assert describe_user_agent(firefox) == "Firefox on Windows"
    assert describe_user_agent(android) == "Chrome on Android"
    assert describe_user_agent("") == "a browser"
    assert len(describe_user_agent("x" * 5000)) <= 100
