"""Small helpers shared by tests: CSRF tokens from pages, logging in, making accounts, reading the outbox."""

from __future__ import annotations

import re

from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from delphi.accounts import create_account
from delphi.db.engine import make_sessionmaker
from delphi.db.models import Account, OutboxMessage
from tests.factories import PASSWORD

CSRF_RE = re.compile(r'name="_csrf_token" value="([^"]+)"')


def csrf_from(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "page has no CSRF token"
    return match.group(1)


async def csrf_token(client: AsyncTestClient, path: str = "/login") -> str:
    response = await client.get(path)
    return csrf_from(response.text)


async def post_form(
    client: AsyncTestClient, path: str, data: dict, *, token_page: str | None = None, **kwargs
):  # type: ignore[no-untyped-def]
    token = await csrf_token(client, token_page or path)
    return await client.post(path, data={**data, "_csrf_token": token}, **kwargs)


async def make_account(engine: AsyncEngine, email: str, role: str = "facilitator") -> Account:
    async with make_sessionmaker(engine)() as session, session.begin():
        return await create_account(session, email=email, password=PASSWORD, role=role)


async def login(client: AsyncTestClient, email: str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    return await post_form(client, "/login", {"email": email, "password": password}, token_page="/login")


async def outbox(session: AsyncSession, kind: str) -> list[OutboxMessage]:
    """The outbox messages of ``kind``, by id."""
    query = select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id)
    return list((await session.scalars(query)).all())
