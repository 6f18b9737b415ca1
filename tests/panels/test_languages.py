"""A panel's languages: the primary one and the further ones with their translators, every refusal at once, the
primary fixed once round 1 has opened, and a removed language's translations kept for its return."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from delphi import audit
from delphi.db.models import AuditEvent, PanelLanguage, Translation
from delphi.errors import InvalidInput
from delphi.panels import languages
from delphi.panels.translations import store_texts
from tests.factories import ACTOR, build_panel


async def _further(session: AsyncSession, panel_id: int) -> dict[str, str]:
    rows = await session.scalars(
        select(PanelLanguage).where(PanelLanguage.panel_id == panel_id).order_by(PanelLanguage.id)
    )
    return {r.language: r.translated_by for r in rows}


async def _events(session: AsyncSession) -> list[AuditEvent]:
    query = select(AuditEvent).where(AuditEvent.action == "languages.changed").order_by(AuditEvent.id)
    return list((await session.scalars(query)).all())


async def test_a_draft_panel_gets_a_primary_and_further_languages_with_who_translated_them(
    session: AsyncSession,
) -> None:
    w = await build_panel(session, round_status="draft", panel_kw={"status": "draft"})
    await languages.set_languages(session, w.panel, "cy", {"EN": " Ana  Jones ", "es": ""}, ACTOR)
    assert w.panel.language == "cy"
    assert await _further(session, w.panel.id) == {"en": "Ana Jones", "es": ""}

    view = await languages.languages_of(session, w.panel)
    assert (view.primary, view.primary_name, view.primary_locked) == ("cy", "Welsh", False)
    assert [(f.language, f.name, f.translated_by) for f in view.further] == [
        ("en", "English", "Ana Jones"),
        ("es", "Spanish", ""),
    ]
    assert view.choices == [("cy", "Welsh"), ("en", "English"), ("es", "Spanish")]

    [event] = await _events(session)
    assert audit.describe(event.action, event.detail) == (
        "The panel's languages changed from English (en); further: none to Welsh (cy); further: "
        "English (en, translated by Ana Jones), Spanish (es)."
    )


async def test_saving_the_same_languages_again_records_nothing(session: AsyncSession) -> None:
    w = await build_panel(session, round_status="draft")
    await languages.set_languages(session, w.panel, "en", {"cy": "Ana"}, ACTOR)
    await languages.set_languages(session, w.panel, "en", {"cy": "Ana"}, ACTOR)
    assert len(await _events(session)) == 1


async def test_every_problem_is_listed_at_once_and_nothing_changes(session: AsyncSession) -> None:
    w = await build_panel(session, round_status="draft")
    await languages.set_languages(session, w.panel, "en", {"es": "Luis"}, ACTOR)
    with pytest.raises(InvalidInput) as caught:
        await languages.set_languages(
            session, w.panel, "fr", {"xx": "", "en": "", "es": "x" * 301, "de": ""}, ACTOR
        )
    errors = caught.value.errors
    assert [f for f, _ in errors] == ["primary", "further", "further", "translated_by-es"]
    text = " ".join(m for _, m in errors)
    assert "“fr” cannot be the primary language" in text
    assert "Welsh (cy), English (en), Spanish (es)" in text  # the shipped languages are named
    assert "not in “xx”, “de”" in text
    assert "English (en) is the primary language, so it cannot be a further language too" in text
    assert "at most 300 characters (301 given)" in text
    assert w.panel.language == "en"
    assert await _further(session, w.panel.id) == {"es": "Luis"}
    assert len(await _events(session)) == 1


async def test_no_primary_language_chosen_is_refused(session: AsyncSession) -> None:
    w = await build_panel(session, round_status="draft")
    with pytest.raises(InvalidInput) as caught:
        await languages.set_languages(session, w.panel, " ", {}, ACTOR)
    assert caught.value.errors == [("primary", "Choose the panel's primary language.")]


async def test_the_primary_language_is_fixed_once_round_one_has_opened_but_further_ones_may_change(
    session: AsyncSession,
) -> None:
    w = await build_panel(session, round_status="open")
    view = await languages.languages_of(session, w.panel)
    assert view.primary_locked
    with pytest.raises(InvalidInput) as caught:
        await languages.set_languages(session, w.panel, "cy", {}, ACTOR)
    assert caught.value.errors == [
        (
            "primary",
            "The primary language stays English (en): round 1 has opened, and answers, results and exports "
            "are in it.",
        )
    ]
    await languages.set_languages(session, w.panel, "en", {"cy": "Gwen"}, ACTOR)
    assert (w.panel.language, await _further(session, w.panel.id)) == ("en", {"cy": "Gwen"})


async def test_removing_a_language_keeps_its_translations_and_adding_it_back_restores_them(
    session: AsyncSession,
) -> None:
    w = await build_panel(session, round_status="draft")
    await languages.set_languages(session, w.panel, "en", {"cy": "Gwen", "es": "Luis"}, ACTOR)
    await store_texts(session, w.panel.id, "cy", {"panel.title": ("Teitl", w.panel.title)})
    await session.flush()

    await languages.set_languages(session, w.panel, "en", {"es": "Luis"}, ACTOR)
    assert await _further(session, w.panel.id) == {"es": "Luis"}
    assert (await session.scalars(select(Translation.text))).all() == ["Teitl"]

    await languages.set_languages(session, w.panel, "en", {"es": "Luis", "cy": ""}, ACTOR)
    assert await _further(session, w.panel.id) == {"es": "Luis", "cy": ""}
    assert (await session.scalars(select(Translation.text))).all() == ["Teitl"]
    assert len(await _events(session)) == 3
