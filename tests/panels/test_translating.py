"""The translation sheet of one language (missing, done, out of date), saving it (only what changed, every
problem at once, nothing saved on a refusal), the per-language overview, and the open check it feeds."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from delphi import audit
from delphi.db.models import AuditEvent, MailText, PanelLanguage, Translation, utcnow
from delphi.errors import InvalidInput, NotFound, PreconditionsUnmet
from delphi.mail.texts import translation_problems
from delphi.panels import statements, translating
from delphi.panels.translation_gaps import round_items
from delphi.rounds import transitions
from delphi.rounds.recipients import reader_languages
from delphi.settings import Settings
from tests.factories import ACTOR, build_panel


async def _draft(session: AsyncSession, readers=("en", "cy"), further=("cy",)):  # type: ignore[no-untyped-def]
    """A draft round 1 of two statements in one section, a consent text and two labelled scale points;
    panellists reading ``readers``; the panel offered in ``further`` too."""
    w = await build_panel(
        session,
        panellists=len(readers),
        sections=(("Harm reduction", ["Offer naloxone", "Ask about housing"]),),
        round_status="draft",
        round_kw={"closes_at": utcnow() + timedelta(days=14)},
        panel_kw={
            "status": "draft",
            "scale_labels": ["Not important", "", "", "", "", "", "", "", "Critical"],
        },
    )
    for (person, _), lang in zip(w.people, readers, strict=True):
        person.language = lang
    session.add_all(PanelLanguage(panel_id=w.panel.id, language=lang) for lang in further)
    await session.flush()
    return w


def _rows(sheet: translating.Sheet) -> dict[str, translating.SheetRow]:
    return {row.item.key: row for group in sheet.groups for row in group.rows}


async def _everything(session: AsyncSession, w, lang: str = "cy") -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {it.key: f"[{lang}] {it.source}" for it in await round_items(session, w.panel, w.round)}


async def test_a_sheet_lists_the_rounds_texts_by_group_as_missing_until_translated(
    session: AsyncSession,
) -> None:
    w = await _draft(session)
    sheet = await translating.translation_sheet(session, w.panel, "cy", {"cy": 1, "en": 1})
    assert (sheet.language, sheet.name, sheet.native_name, sheet.direction) == (
        "cy",
        "Welsh",
        "Cymraeg",
        "ltr",
    )
    assert (sheet.primary, sheet.round_number, sheet.readers) == ("en", 1, 1)
    assert [g.heading for g in sheet.groups] == ["Panel", "Stakeholder groups", "Sections", "Statements"]
    s1, s2 = w.statements
    assert [r.item.key for r in sheet.groups[3].rows] == [f"statement.{s1.id}", f"statement.{s2.id}"]
    assert {r.state for r in _rows(sheet).values()} == {"missing"}
    assert sheet.counts == {"missing": sheet.total, "outdated": 0, "done": 0} and not sheet.complete


async def test_saved_translations_are_done_and_turn_out_of_date_when_the_statement_is_edited(
    session: AsyncSession,
) -> None:
    w = await _draft(session)
    texts = await _everything(session, w)
    saved, deleted = await translating.save_translations(session, w.panel, "cy", texts, ACTOR)
    assert (saved, deleted) == (len(texts), 0)
    sheet = await translating.translation_sheet(session, w.panel, "cy")
    assert sheet.complete and sheet.counts["done"] == len(texts)

    s1 = w.statements[0]
    await statements.edit_statement(session, w.panel, s1.id, "Offer naloxone kits", "Harm reduction", ACTOR)
    await session.flush()
    sheet = await translating.translation_sheet(session, w.panel, "cy")
    row = _rows(sheet)[f"statement.{s1.id}"]
    assert (row.state, row.text, row.old_source) == ("outdated", "[cy] Offer naloxone", "Offer naloxone")
    assert row.item.source == "Offer naloxone kits"
    assert sheet.counts == {"missing": 0, "outdated": 1, "done": len(texts) - 1}

    todo = await translating.translation_sheet(session, w.panel, "cy", show="missing")
    assert [r.item.key for g in todo.groups for r in g.rows] == [f"statement.{s1.id}"]
    assert todo.counts == sheet.counts  # the counts are the whole round's

    [event] = (
        await session.scalars(select(AuditEvent).where(AuditEvent.action == "translations.saved"))
    ).all()
    assert audit.describe(event.action, event.detail) == (
        f"Translations into Welsh (cy) for round 1 were saved: {len(texts)} saved, 0 removed."
    )


async def test_an_outdated_translation_posted_unchanged_stays_outdated_unless_confirmed(
    session: AsyncSession,
) -> None:
    w = await _draft(session)
    s1 = w.statements[0]
    key = f"statement.{s1.id}"
    await translating.save_translations(session, w.panel, "cy", {key: "Cynnig naloxone"}, ACTOR)
    s1.text = "Offer naloxone kits"
    await session.flush()

    posted = {key: "Cynnig naloxone\r\n"}  # a browser's line ending: the same text
    assert await translating.save_translations(session, w.panel, "cy", posted, ACTOR) == (0, 0)
    assert _rows(await translating.translation_sheet(session, w.panel, "cy"))[key].state == "outdated"

    assert await translating.save_translations(session, w.panel, "cy", posted, ACTOR, confirmed={key}) == (
        1,
        0,
    )
    row = _rows(await translating.translation_sheet(session, w.panel, "cy"))[key]
    assert (row.state, row.text) == ("done", "Cynnig naloxone")


async def test_an_emptied_box_removes_that_translation(session: AsyncSession) -> None:
    w = await _draft(session)
    key = f"statement.{w.statements[0].id}"
    await translating.save_translations(session, w.panel, "cy", {key: "Cynnig naloxone"}, ACTOR)
    assert await translating.save_translations(session, w.panel, "cy", {key: "  "}, ACTOR) == (0, 1)
    assert (await session.scalars(select(Translation))).all() == []


async def test_unknown_keys_and_overlong_texts_are_refused_together_and_nothing_is_saved(
    session: AsyncSession,
) -> None:
    w = await _draft(session)
    good = f"statement.{w.statements[0].id}"
    long_key = f"statement.{w.statements[1].id}"
    texts = {good: "Cynnig naloxone", "statement.999999": "?", "panel.nonsense": "?", long_key: "x" * 10_001}
    with pytest.raises(InvalidInput) as caught:
        await translating.save_translations(session, w.panel, "cy", texts, ACTOR)
    errors = caught.value.errors
    assert [f for f, _ in errors] == ["", long_key]
    assert "not texts of round 1, so nothing was saved: “panel.nonsense”, “statement.999999”" in errors[0][1]
    assert (
        errors[1][1]
        == f"Statement {w.statements[1].id}: shorten the translation to at most 10,000 characters."
    )
    assert (await session.scalars(select(Translation))).all() == []


async def test_a_translated_mail_text_is_checked_with_the_rules_of_the_primary_text(
    session: AsyncSession,
) -> None:
    w = await _draft(session)
    session.add(
        MailText(panel_id=w.panel.id, kind="reminder", subject="Reminder", body="Please answer.\n\n{link}")
    )
    await session.flush()
    with pytest.raises(InvalidInput) as caught:
        await translating.save_translations(
            session,
            w.panel,
            "cy",
            {"mail.reminder.body": "Atebwch {nonsense}"},
            ACTOR,
            check_text=translation_problems,
        )
    errors = caught.value.errors
    assert {f for f, _ in errors} == {"mail.reminder.body"} and len(errors) >= 1
    assert all(m.startswith("Reminder: text: ") for _, m in errors)
    assert any("{nonsense}" in m for _, m in errors)


async def test_the_primary_language_and_a_language_not_offered_have_no_sheet(session: AsyncSession) -> None:
    w = await _draft(session)
    with pytest.raises(NotFound, match="English is this panel's primary language"):
        await translating.translation_sheet(session, w.panel, "en")
    with pytest.raises(NotFound, match="not offered in “es”"):
        await translating.translation_sheet(session, w.panel, "es")
    with pytest.raises(NotFound):
        await translating.save_translations(session, w.panel, "es", {}, ACTOR)
    assert (await translating.translation_sheet(session, w.panel, "CY")).language == "cy"


async def test_a_panel_without_a_round_has_an_empty_sheet_and_nothing_to_save(session: AsyncSession) -> None:
    w = await build_panel(session, round_status=None)
    session.add(PanelLanguage(panel_id=w.panel.id, language="es"))
    await session.flush()
    sheet = await translating.translation_sheet(session, w.panel, "es")
    assert (sheet.round_number, sheet.groups, sheet.total) == (None, (), 0)
    with pytest.raises(InvalidInput, match="nothing to translate yet"):
        await translating.save_translations(session, w.panel, "es", {"panel.title": "Título"}, ACTOR)


async def test_the_overview_counts_each_language_and_names_one_read_but_not_offered(
    session: AsyncSession,
) -> None:
    w = await _draft(session, readers=("en", "cy", "es", "es"), further=("cy",))
    texts = await _everything(session, w)
    await translating.save_translations(session, w.panel, "cy", dict(list(texts.items())[:2]), ACTOR)
    view = await translating.overview(session, w.panel, await reader_languages(session, w.panel.id))
    assert view.round_number == 1
    cy, es = view.rows
    assert (cy.gap.language, cy.name, cy.gap.readers, cy.done, cy.total) == ("cy", "Welsh", 1, 2, len(texts))
    assert len(cy.gap.missing) == len(texts) - 2
    assert (es.gap.language, es.gap.offered, es.gap.readers) == ("es", False, 2)
    assert not view.complete and view.blocking == (cy, es)


async def test_the_round_cannot_open_until_its_texts_are_translated_and_then_opens(
    session: AsyncSession, settings: Settings
) -> None:
    w = await _draft(session)
    with pytest.raises(PreconditionsUnmet) as caught:
        await transitions.open_round(session, w.panel, w.round, settings=settings, actor=ACTOR)
    assert any("into Welsh (cy) that round 1 needs" in a for a in caught.value.actions)

    await translating.save_translations(session, w.panel, "cy", await _everything(session, w), ACTOR)
    view = await translating.overview(session, w.panel, await reader_languages(session, w.panel.id))
    assert view.complete and view.blocking == ()
    assert await transitions.open_round(session, w.panel, w.round, settings=settings, actor=ACTOR) == 2
    assert w.round.status == "open"
