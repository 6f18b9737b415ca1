"""The languages page, the translations overview and one language's sheet over HTTP: they render, save, re-show
a refused form with every problem and what was typed, let readers look but not change, and the round page's open
check follows what is translated."""

from __future__ import annotations

from datetime import timedelta

from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from delphi.db.engine import make_sessionmaker
from delphi.db.models import PanelLanguage, Translation, utcnow
from delphi.panels.translation_gaps import round_items
from tests.factories import World, build_panel
from tests.helpers import login, post_form

OWNER, RESEARCHER = "fac@example.org", "res@example.org"


async def _world(session: AsyncSession, further: tuple[str, ...] = ("cy",), status: str = "draft") -> World:
    """A panel with a round 1 in ``status`` of two statements, two panellists (one reading Welsh), offered in
    ``further``; its owner and a researcher."""
    w = await build_panel(
        session,
        panellists=2,
        sections=(("Harm reduction", ["Offer naloxone", "Ask about housing"]),),
        round_status=status,
        round_kw={"closes_at": utcnow() + timedelta(days=14)},
        panel_kw={"status": "draft" if status == "draft" else "running", "scale_labels": []},
        access={"owner": OWNER, "researcher": RESEARCHER},
    )
    w.others[0][0].language = "cy"
    session.add_all(PanelLanguage(panel_id=w.panel.id, language=lang) for lang in further)
    await session.commit()
    return w


async def _rows(engine: AsyncEngine, model: type) -> list:
    async with make_sessionmaker(engine)() as s:
        return list((await s.scalars(select(model).order_by(model.id))).all())


async def test_the_owner_sets_the_languages_and_a_refused_form_lists_every_problem_keeping_what_was_typed(
    session: AsyncSession, client: AsyncTestClient, engine: AsyncEngine
) -> None:
    w = await _world(session, further=())
    await login(client, OWNER)
    page = f"/panels/{w.panel.id}/languages"
    shown = await client.get(page)
    assert shown.status_code == 200
    assert f'href="{page}" aria-current="page">Languages</a>' in shown.text  # the panel's tab
    assert (
        '<option value="cy">Welsh (cy)</option>' in shown.text and "cannot change once round 1" in shown.text
    )

    form = {"primary": "en", "further": ["en", "cy"], "translated_by-cy": "Gwen " + "x" * 300}
    bad = await post_form(client, page, form, token_page=page)
    assert bad.status_code == 400
    assert 'href="#further"' in bad.text and 'href="#translated_by-cy"' in bad.text
    assert "Gwen " + "x" * 300 in bad.text  # the credit as typed
    assert await _rows(engine, PanelLanguage) == []

    form = {"primary": "en", "further": ["cy", "es"], "translated_by-cy": "Gwen Evans"}
    ok = await post_form(client, page, form, token_page=page, follow_redirects=False)
    assert ok.status_code == 303 and ok.headers["location"] == f"{page}?saved=1"
    assert [(r.language, r.translated_by) for r in await _rows(engine, PanelLanguage)] == [
        ("cy", "Gwen Evans"),
        ("es", ""),
    ]
    again = await client.get(f"{page}?saved=1")
    assert "The panel's languages were saved." in again.text and 'value="Gwen Evans"' in again.text


async def test_once_round_one_has_opened_the_primary_language_is_shown_fixed_with_the_reason(
    session: AsyncSession, client: AsyncTestClient
) -> None:
    w = await _world(session, status="open")
    await login(client, OWNER)
    page = await client.get(f"/panels/{w.panel.id}/languages")
    assert 'name="primary" aria-describedby="primary-hint" disabled' in page.text
    assert "Round 1 has opened, so the primary language cannot change any more" in page.text
    refused = await post_form(
        client,
        f"/panels/{w.panel.id}/languages",
        {"primary": "cy"},
        token_page=f"/panels/{w.panel.id}/languages",
    )
    assert refused.status_code == 400 and "The primary language stays English (en)" in refused.text


async def test_the_settings_page_links_the_languages_and_translations_pages(
    session: AsyncSession, client: AsyncTestClient
) -> None:
    w = await _world(session)
    await login(client, OWNER)
    settings = await client.get(f"/panels/{w.panel.id}/settings")
    assert f'href="/panels/{w.panel.id}/languages"' in settings.text
    assert f'href="/panels/{w.panel.id}/translations"' in settings.text


async def test_the_translations_page_counts_each_language_and_links_its_sheet_and_the_import(
    session: AsyncSession, client: AsyncTestClient
) -> None:
    w = await _world(session)
    await login(client, OWNER)
    page = await client.get(f"/panels/{w.panel.id}/translations")
    assert page.status_code == 200
    base = f"/panels/{w.panel.id}/translations"
    assert f'href="{base}/cy">Welsh (cy)</a>' in page.text
    assert f'href="{base}/import"' in page.text
    assert "Round 1 cannot open until the languages marked below" in page.text
    assert "Stops the round opening" in page.text


async def test_the_sheet_marks_missing_texts_in_words_saves_the_whole_page_and_the_round_may_then_open(
    session: AsyncSession, client: AsyncTestClient, engine: AsyncEngine
) -> None:
    w = await _world(session)
    items = await round_items(session, w.panel, w.round)
    await login(client, OWNER)
    sheet = f"/panels/{w.panel.id}/translations/cy"
    round_page = f"/panels/{w.panel.id}/rounds/1"
    assert "into Welsh (cy) that round 1 needs" in (await client.get(round_page)).text

    page = await client.get(sheet)
    assert page.status_code == 200
    assert page.text.count(">Missing</span>") == len(items)
    s1 = w.statements[0]
    assert f'<textarea id="tr-statement-{s1.id}" name="tr.statement.{s1.id}" lang="cy" dir="ltr"' in page.text
    assert '<blockquote lang="en" dir="ltr">Offer naloxone</blockquote>' in page.text

    form = {f"tr.{it.key}": f"[cy] {it.source}" for it in items}
    saved = await post_form(client, sheet, form, token_page=sheet, follow_redirects=False)
    assert saved.status_code == 303
    assert saved.headers["location"] == f"{sheet}?saved={len(items)}&deleted=0"
    notice = await client.get(saved.headers["location"])
    assert f"Saved: {len(items)} translations saved, 0 removed." in notice.text
    assert ">Missing</span>" not in notice.text and "Everything the round needs is translated." in notice.text
    assert len(await _rows(engine, Translation)) == len(items)

    overview = await client.get(f"/panels/{w.panel.id}/translations")
    assert "Everything round 1 needs is translated into every language of the panel." in overview.text
    assert "into Welsh (cy) that round 1 needs" not in (await client.get(round_page)).text
    todo = await client.get(f"{sheet}?show=missing")
    assert "Nothing is left to do" in todo.text and "<textarea" not in todo.text


async def test_a_refused_sheet_is_shown_again_with_every_problem_and_what_was_typed_and_nothing_saved(
    session: AsyncSession, client: AsyncTestClient, engine: AsyncEngine
) -> None:
    w = await _world(session)
    await login(client, OWNER)
    sheet = f"/panels/{w.panel.id}/translations/cy"
    s1, s2 = w.statements
    form = {
        f"tr.statement.{s1.id}": "Cynnig naloxone",
        f"tr.statement.{s2.id}": "y" * 10_001,
        "tr.statement.999999": "?",
    }
    bad = await post_form(client, sheet, form, token_page=sheet)
    assert bad.status_code == 400
    assert "There is a problem" in bad.text
    assert "“statement.999999”" in bad.text and f'href="#tr-statement-{s2.id}"' in bad.text
    assert ">Cynnig naloxone</textarea>" in bad.text  # kept as typed
    assert await _rows(engine, Translation) == []


async def test_an_out_of_date_translation_shows_the_text_it_was_made_from(
    session: AsyncSession, client: AsyncTestClient
) -> None:
    w = await _world(session)
    s1 = w.statements[0]
    session.add(
        Translation(
            panel_id=w.panel.id, language="cy", key=f"statement.{s1.id}", text="Cynnig", source="Offer nalox"
        )
    )
    await session.commit()
    await login(client, OWNER)
    page = await client.get(f"/panels/{w.panel.id}/translations/cy?show=missing")
    assert ">Out of date</span>" in page.text
    assert (
        "<del>Offer nalox</del>" in page.text and "The text has changed since it was translated" in page.text
    )
    assert f'name="ok.statement.{s1.id}"' in page.text


async def test_the_primary_and_an_unoffered_language_have_no_sheet(
    session: AsyncSession, client: AsyncTestClient
) -> None:
    w = await _world(session)
    await login(client, OWNER)
    primary = await client.get(f"/panels/{w.panel.id}/translations/en")
    assert primary.status_code == 404 and "primary language" in primary.text
    assert (await client.get(f"/panels/{w.panel.id}/translations/es")).status_code == 404


async def test_a_researcher_reads_the_pages_but_cannot_change_them(
    session: AsyncSession, client: AsyncTestClient, engine: AsyncEngine
) -> None:
    w = await _world(session)
    await login(client, RESEARCHER)
    base = f"/panels/{w.panel.id}"
    languages = await client.get(f"{base}/languages")
    assert languages.status_code == 200 and "<select" not in languages.text
    assert "Welsh (cy)" in languages.text and "Only the panel's owner and facilitators" in languages.text
    assert (await client.get(f"{base}/translations")).status_code == 200
    sheet = await client.get(f"{base}/translations/cy")
    assert sheet.status_code == 200 and "<textarea" not in sheet.text and "Offer naloxone" in sheet.text

    s1 = w.statements[0]
    posted = await post_form(
        client, f"{base}/translations/cy", {f"tr.statement.{s1.id}": "Cynnig"}, token_page=f"{base}/languages"
    )
    assert posted.status_code == 403
    posted = await post_form(
        client, f"{base}/languages", {"primary": "en", "further": ["es"]}, token_page=f"{base}/languages"
    )
    assert posted.status_code == 403
    assert await _rows(engine, Translation) == []
    assert [r.language for r in await _rows(engine, PanelLanguage)] == ["cy"]
