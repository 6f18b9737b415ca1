"""The language switcher on the panellist pages: shown only when the panel is offered in more than one language,
listing exactly those by their own names; a change is stored (and audited), remembered in the session cookie and
on the next visit, and answered with a redirect back to the page; a language the panel is not offered in is
refused with a 400 in the panellist's current language, and nothing changes."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from sqlalchemy import select

from delphi.db.models import AuditEvent, PanelLanguage, Panellist
from delphi.locale import tag_among
from delphi.web.panellist import session as panellist_session
from delphi.web.panellist.rendering import same_site_path
from tests.panellist.conftest import enter, form_token, new_session

T0 = 1_900_000_000.0


@pytest.fixture
async def bilingual(session, consented_world):  # type: ignore[no-untyped-def]
    """The consented world's panel offered in English (primary) and Spanish."""
    session.add(PanelLanguage(panel_id=consented_world.panel.id, language="es"))
    await session.commit()
    return consented_world


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Callable[[float], None]:
    now = [T0]
    monkeypatch.setattr(panellist_session, "epoch_now", lambda: now[0])

    def move(seconds: float) -> None:
        now[0] = T0 + seconds

    return move


def options(html: str) -> list[tuple[str, str]]:
    """The switcher's ``(value, name)`` options."""
    form = html.split('action="/panel/language"', 1)[1].split("</form>", 1)[0]
    return re.findall(r'<option value="([^"]+)" lang="[^"]+"[^>]*>([^<]+)</option>', form)


async def change(client, language: str, next_: str = "/panel/review", path: str = "/panel"):  # type: ignore[no-untyped-def]
    token = await form_token(client, path)
    return await client.post(
        "/panel/language",
        data={"_csrf_token": token, "language": language, "next": next_},
        follow_redirects=False,
    )


async def language_of(engine, panellist_id: int) -> str:  # type: ignore[no-untyped-def]
    async with new_session(engine) as s:
        person = await s.get(Panellist, panellist_id)
        assert person is not None
        return person.language


def test_a_posted_language_must_name_one_the_panel_is_offered_in() -> None:
    offered = ["en", "es", "pt-BR"]
    assert tag_among(offered, "es") == "es"
    assert tag_among(offered, " ES ") == "es"
    assert tag_among(offered, "pt_br") == "pt-BR"
    for raw in ("cy", "", "../etc", "e s", None, 7, "en-GB"):
        assert tag_among(offered, raw) is None, raw


def test_the_switcher_comes_back_only_to_a_path_on_this_site() -> None:
    assert same_site_path("/panel/rate?page=2") == "/panel/rate?page=2"
    for bad in ("https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)", "", None,
                "/panel\r\nSet-Cookie: x=1"):  # fmt: skip
        assert same_site_path(bad) == "/panel", bad


async def test_no_switcher_on_a_panel_offered_in_one_language(client, consented_world) -> None:
    await enter(client, consented_world.token)
    page = await client.get("/panel")
    assert page.status_code == 200 and "/panel/language" not in page.text


async def test_the_switcher_lists_only_the_offered_languages_by_their_own_names(client, bilingual) -> None:
    await enter(client, bilingual.token)
    html = (await client.get("/panel/rate?page=1")).text
    assert options(html) == [("en", "English"), ("es", "Español")]
    assert '<option value="en" lang="en" selected>' in html
    assert (
        '<label for="language-choice">' in html and 'name="_csrf_token"' in html.split("/panel/language")[1]
    )
    assert '<input type="hidden" name="next" value="/panel/rate?page=1">' in html


async def test_changing_the_language_is_stored_audited_and_comes_back_to_the_page(
    client, engine, bilingual
) -> None:
    await enter(client, bilingual.token)
    answer = await change(client, "es", next_="/panel/rate?page=2")
    assert answer.status_code == 303 and answer.headers["location"] == "/panel/rate?page=2"
    assert await language_of(engine, bilingual.panellist.id) == "es"
    page = await client.get("/panel/rate?page=2")
    assert '<html lang="es">' in page.text
    assert '<option value="es" lang="es" selected>' in page.text
    async with new_session(engine) as s:
        event = await s.scalar(select(AuditEvent).where(AuditEvent.action == "panellist.language_changed"))
        assert event is not None and event.panel_id == bilingual.panel.id
        assert event.detail == {
            "panellist": bilingual.panellist.pseudonym,
            "previous": "en",
            "language": "es",
        }
        assert event.actor == f"panellist:{bilingual.panellist.pseudonym}"


async def test_the_language_is_remembered_on_the_next_visit(client, engine, bilingual) -> None:
    await enter(client, bilingual.token)
    assert (await change(client, "es")).status_code == 303
    client.cookies.clear()
    await enter(client, bilingual.token)
    assert '<html lang="es">' in (await client.get("/panel")).text


async def test_the_session_remembers_the_language_for_the_signed_out_page(client, bilingual, clock) -> None:
    await enter(client, bilingual.token)
    assert (await change(client, "es")).status_code == 303
    clock(31 * 60)  # past the idle lifetime: the page that says so speaks the remembered language
    expired = await client.get("/panel", follow_redirects=False)
    assert expired.status_code == 401 and '<html lang="es">' in expired.text


async def test_an_unoffered_language_is_refused_in_the_current_language(client, engine, bilingual) -> None:
    await enter(client, bilingual.token)
    for language in ("cy", "xx", ""):
        refused = await change(client, language)
        assert refused.status_code == 400, language
        assert '<html lang="en">' in refused.text
        assert "This panel is not offered in that language." in refused.text
    assert await language_of(engine, bilingual.panellist.id) == "en"
    async with new_session(engine) as s:
        assert (
            await s.scalar(select(AuditEvent).where(AuditEvent.action == "panellist.language_changed"))
            is None
        )


async def test_a_refusal_speaks_the_language_the_panellist_reads(client, session, engine, bilingual) -> None:
    person = await session.get(Panellist, bilingual.panellist.id)
    person.language = "es"
    await session.commit()
    await enter(client, bilingual.token)
    refused = await change(client, "cy")
    assert refused.status_code == 400 and '<html lang="es">' in refused.text
    assert await language_of(engine, bilingual.panellist.id) == "es"


async def test_the_answer_never_leads_off_the_site(client, bilingual) -> None:
    await enter(client, bilingual.token)
    answer = await change(client, "es", next_="https://evil.example/phish")
    assert answer.status_code == 303 and answer.headers["location"] == "/panel"


async def test_the_switcher_needs_the_csrf_token(client, engine, bilingual) -> None:
    await enter(client, bilingual.token)
    refused = await client.post("/panel/language", data={"language": "es"}, follow_redirects=False)
    assert refused.status_code == 403
    assert await language_of(engine, bilingual.panellist.id) == "en"


async def test_choosing_the_language_already_set_changes_nothing(client, engine, bilingual) -> None:
    await enter(client, bilingual.token)
    assert (await change(client, "en")).status_code == 303
    async with new_session(engine) as s:
        assert (
            await s.scalar(select(AuditEvent).where(AuditEvent.action == "panellist.language_changed"))
            is None
        )
