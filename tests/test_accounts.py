"""Login lockout under concurrent wrong passwords: every failure counts, across sessions (connections)."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from delphi.accounts import MAX_FAILED_LOGINS, LoginFailed, authenticate
from delphi.db.engine import make_sessionmaker
from delphi.db.models import Account
from tests.factories import PASSWORD
from tests.helpers import make_account

EMAIL = "fac@example.org"


async def _wrong_logins_at_once(engine: AsyncEngine, count: int) -> None:
    """``count`` wrong passwords at once, each in a session (and connection) of its own, as requests are."""
    maker = make_sessionmaker(engine)

    async def attempt() -> None:
        async with maker() as session:
            with pytest.raises(LoginFailed):
                await authenticate(session, EMAIL, "wrong password!")
            await session.commit()

    await asyncio.gather(*(attempt() for _ in range(count)))


async def _account(engine: AsyncEngine) -> Account:
    async with make_sessionmaker(engine)() as session:
        account = await session.scalar(select(Account).where(Account.email == EMAIL))
        assert account is not None
        return account


async def _right_login(engine: AsyncEngine) -> Account:
    async with make_sessionmaker(engine)() as session, session.begin():
        return await authenticate(session, EMAIL, PASSWORD)


async def test_concurrent_wrong_logins_are_each_counted(engine: AsyncEngine) -> None:
    await make_account(engine, EMAIL)
    await _wrong_logins_at_once(engine, MAX_FAILED_LOGINS - 1)
    account = await _account(engine)
    assert account.failed_logins == MAX_FAILED_LOGINS - 1 and account.locked_until is None
    signed_in = await _right_login(engine)  # one short of the lock
    assert signed_in.failed_logins == 0 and signed_in.last_login_at is not None


async def test_concurrent_wrong_logins_lock_the_account(engine: AsyncEngine) -> None:
    await make_account(engine, EMAIL)
    await _wrong_logins_at_once(engine, 19)
    assert (await _account(engine)).locked_until is not None
    with pytest.raises(LoginFailed):  # right password, but locked now
        await _right_login(engine)
