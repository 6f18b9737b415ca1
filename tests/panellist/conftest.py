"""Fixtures of the panellist HTTP tests: a seeded panel (``world``) and helpers to enter with a link."""

from __future__ import annotations

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from delphi.db.engine import make_sessionmaker
from tests.factories import World, build_panel
from tests.helpers import csrf_from


@pytest.fixture
async def world(session: AsyncSession) -> World:
    """Round 1 open, one panellist who has not consented yet."""
    w = await build_panel(session)
    await session.commit()
    return w


@pytest.fixture
async def consented_world(session: AsyncSession) -> World:
    w = await build_panel(session, consented=True)
    await session.commit()
    return w


async def enter(client: AsyncTestClient, token: str) -> None:
    """Open the personal link; the session cookie is then set on ``client``."""
    response = await client.get(f"/p/{token}", follow_redirects=False)
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/panel"


async def form_token(client: AsyncTestClient, path: str) -> str:
    """The CSRF token of the form on ``path`` (a GET that must answer 200)."""
    response = await client.get(path)
    assert response.status_code == 200, (path, response.status_code, response.text[:500])
    return csrf_from(response.text)


def new_session(engine: AsyncEngine) -> AsyncSession:
    return make_sessionmaker(engine)()
