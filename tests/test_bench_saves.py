"""The floor of ``bench/saves.py``: the bench-only route that does the background save's request work (session
cookie, CSRF header, JSON body) without the database, refuses what the save refuses, and is never in the
production app.  Run on SQLite and PostgreSQL like every database test; no timing is asserted."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bench._saves_server import FIXED_RESULT, FLOOR_PREFIX, with_floor
from bench.saves import import_csv
from delphi.app import create_app
from delphi.db.models import Rating
from delphi.panels import imports
from delphi.settings import Settings
from tests.factories import World, build_panel
from tests.panellist.conftest import enter, form_token


@pytest.fixture
async def floor_client(settings: Settings) -> AsyncIterator[AsyncTestClient]:
    async with AsyncTestClient(app=with_floor(create_app(settings)), base_url="http://testserver.local") as c:
        yield c


@pytest.fixture
async def signed_in(session: AsyncSession, floor_client: AsyncTestClient) -> tuple[World, str]:
    """A consented panellist signed in on ``floor_client``, and the CSRF token of their rating page."""
    w = await build_panel(session, consented=True)
    await session.commit()
    await enter(floor_client, w.token)
    return w, await form_token(floor_client, "/panel/rate?page=1")


async def ratings(engine: AsyncEngine) -> int:
    async with AsyncSession(engine) as s:
        return int(await s.scalar(select(func.count()).select_from(Rating)) or 0)


async def test_the_floor_answers_the_saves_shape_and_writes_nothing(floor_client, signed_in, engine) -> None:
    w, token = signed_in
    sid = w.statements[0].id
    response = await floor_client.post(
        f"{FLOOR_PREFIX}/{sid}", json={"answer": 7}, headers={"x-csrftoken": token}
    )
    assert response.status_code == 200, response.text
    assert response.json() == {
        "statement_id": sid,
        "value": FIXED_RESULT.value,
        "unable": False,
        "outside_iqr": False,
        "answered": 1,
        "total": 50,
        "saved_at": FIXED_RESULT.saved_at.isoformat(),
    }
    saved = await floor_client.post(
        f"/panel/ratings/{sid}", json={"answer": 7}, headers={"x-csrftoken": token}
    )
    assert saved.status_code == 200 and set(saved.json()) == set(response.json())  # the same keys as the save
    assert await ratings(engine) == 1  # the save's row only


async def test_the_floor_refuses_a_missing_csrf_header_like_the_save(floor_client, signed_in) -> None:
    w, _ = signed_in
    for path in (f"{FLOOR_PREFIX}/{w.statements[0].id}", f"/panel/ratings/{w.statements[0].id}"):
        assert (await floor_client.post(path, json={"answer": 7})).status_code == 403, path


async def test_the_floor_refuses_a_body_that_is_not_a_json_object_like_the_save(
    floor_client, signed_in
) -> None:
    w, token = signed_in
    statuses = []
    for path in (f"{FLOOR_PREFIX}/{w.statements[0].id}", f"/panel/ratings/{w.statements[0].id}"):
        response = await floor_client.post(
            path,
            content=b"[1, 2",
            headers={"x-csrftoken": token, "content-type": "application/json", "accept": "application/json"},
        )
        assert "errors" in response.json(), response.text
        statuses.append(response.status_code)
    assert statuses[0] == statuses[1] and 400 <= statuses[0] < 500


async def test_the_floor_refuses_a_cookie_without_a_panellist_like_the_save(floor_client, session) -> None:
    w = await build_panel(session, consented=True)
    await session.commit()
    token = await form_token(floor_client, "/login")  # a CSRF cookie, no panellist in the session
    statuses = [
        (await floor_client.post(path, json={"answer": 7}, headers={"x-csrftoken": token})).status_code
        for path in (f"{FLOOR_PREFIX}/{w.statements[0].id}", f"/panel/ratings/{w.statements[0].id}")
    ]
    assert statuses[0] == statuses[1] and 400 <= statuses[0] < 500


def test_the_production_app_has_no_floor_route(settings: Settings) -> None:
    def paths(app: Litestar) -> set[str]:
        return {route.path for route in app.routes}

    assert not any(p.startswith(FLOOR_PREFIX) for p in paths(create_app(settings)))
    assert any(p.startswith(FLOOR_PREFIX) for p in paths(with_floor(create_app(settings))))


def test_the_benchs_import_file_parses_without_problems() -> None:
    parsed = imports.parse_panellists(import_csv(5), ["Service users", "Practitioners"])
    assert parsed.ok and len(parsed.rows) == 5
