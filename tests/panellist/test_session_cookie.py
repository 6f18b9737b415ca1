"""The session cookie is re-sent when the session changes or on a page view, and not on a background save."""

from __future__ import annotations

from litestar.testing import AsyncTestClient

from delphi.app import SESSION_COOKIE
from tests.factories import World
from tests.panellist.conftest import enter, form_token


def sets_session(response) -> bool:  # type: ignore[no-untyped-def]
    return any(v.startswith(f"{SESSION_COOKIE}=") for v in response.headers.get_list("set-cookie"))


async def test_a_background_save_sends_no_cookie_and_the_session_still_works(
    client: AsyncTestClient, consented_world: World
) -> None:
    w = consented_world
    opened = await client.get(f"/p/{w.token}", follow_redirects=False)
    assert sets_session(opened)  # signing in writes the session
    page = await client.get("/panel/rate")
    assert page.status_code == 200 and sets_session(page)  # a page view keeps the expiry sliding
    token = await form_token(client, "/panel/rate")
    for value in (4, 8):
        saved = await client.post(
            f"/panel/ratings/{w.statements[0].id}",
            json={"answer": value},
            headers={"x-csrftoken": token, "accept": "application/json"},
        )
        assert saved.status_code == 200 and saved.json()["value"] == value
        assert not sets_session(saved)
    assert (await client.get("/panel/review")).status_code == 200  # the unchanged cookie still signs in


async def test_leaving_clears_the_session_cookie(client: AsyncTestClient, consented_world: World) -> None:
    await enter(client, consented_world.token)
    token = await form_token(client, "/panel/leave")
    left = await client.post("/panel/leave", data={"_csrf_token": token})
    assert left.status_code == 200
    assert f"{SESSION_COOKIE}=null" in [v.split(";")[0] for v in left.headers.get_list("set-cookie")]
    assert (await client.get("/panel/rate", follow_redirects=False)).status_code == 403
