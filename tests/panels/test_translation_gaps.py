"""What a round needs in each language its panellists read: the texts, the gaps, and the open check's actions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import (
    BaselineQuestion,
    MailText,
    PanelLanguage,
    RankingItem,
    RankingQuestion,
    RoundRanking,
    utcnow,
)
from delphi.errors import PreconditionsUnmet
from delphi.panels import translation_gaps as gaps
from delphi.panels import translations as tr
from delphi.rounds import transitions
from delphi.settings import Settings
from tests.factories import ACTOR, build_panel


async def _draft(session: AsyncSession, languages=("es",), panellist_languages=("en", "es", "es")):  # type: ignore[no-untyped-def]
    world = await build_panel(
        session,
        panellists=len(panellist_languages),
        sections=(("Harm reduction", 2), ("", 1)),
        round_status="draft",
        round_kw={"closes_at": utcnow() + timedelta(days=14)},
        panel_kw={
            "status": "draft",
            "contact_name": "Team",
            "contact_email": "team@example.org",
            "scale_labels": ["Not important", "", "", "", "", "", "", "", "Critical"],
        },
    )
    for person, lang in zip(
        [world.panellist, *(p for p, _ in world.others)], panellist_languages, strict=True
    ):
        person.language = lang
    session.add_all(PanelLanguage(panel_id=world.panel.id, language=lang) for lang in languages)
    await session.flush()
    return world


async def _translate_all(session: AsyncSession, world, language: str) -> None:  # type: ignore[no-untyped-def]
    items = await gaps.round_items(session, world.panel, world.round)
    await tr.store_texts(
        session, world.panel.id, language, {it.key: (f"[{language}] {it.source}", it.source) for it in items}
    )
    await session.flush()


async def test_a_round_needs_its_statements_sections_labels_rankings_baseline_and_own_mail_texts(
    session: AsyncSession,
) -> None:
    world = await _draft(session)
    question = RankingQuestion(panel_id=world.panel.id, text="Order these")
    session.add(question)
    await session.flush()
    session.add_all(
        [RankingItem(question_id=question.id, text=t, position=i) for i, t in enumerate(("A", "B"))]
    )
    session.add(RoundRanking(round_id=world.round.id, question_id=question.id))
    session.add(
        BaselineQuestion(panel_id=world.panel.id, kind="single", text="Age?", choices=["Under 30", "30+"])
    )
    session.add(MailText(panel_id=world.panel.id, kind="invitation", subject="Hello", body="Come {link}"))
    await session.flush()

    items = await gaps.round_items(session, world.panel, world.round)
    keys = [it.key for it in items]

    assert keys[0] == "panel.title"
    assert (
        "panel.scale.1" in keys and "panel.scale.9" in keys and "panel.scale.2" not in keys
    )  # blank labels need nothing
    assert "panel.discreet_name" not in keys  # only in discreet mode
    assert [k for k in keys if k.startswith("group.")] == [
        f"group.{g.id}" for g in world.groups
    ]  # named in feedback
    assert [k for k in keys if k.startswith("statement.")] == [f"statement.{s.id}" for s in world.statements]
    assert keys.count(tr.section_key("Harm reduction")) == 1  # one section name, translated once
    assert f"ranking.{question.id}" in keys and sum(k.startswith("item.") for k in keys) == 2
    assert sum(k.startswith("baseline.") for k in keys) == 3  # the question and its two choices
    assert keys[-2:] == ["mail.invitation.subject", "mail.invitation.body"]
    assert [it.group for it in items] == sorted((it.group for it in items), key=gaps.GROUPS.index)


async def test_gaps_list_missing_and_out_of_date_texts_and_languages_the_panel_is_not_offered_in(
    session: AsyncSession,
) -> None:
    world = await _draft(session, panellist_languages=("en", "es", "fr"))
    await _translate_all(session, world, "es")
    items = await gaps.round_items(session, world.panel, world.round)
    stored = await gaps.stored_translations(session, world.panel.id)
    readers = {"en": 1, "es": 1, "fr": 1}

    spanish, french = gaps.language_gaps(items, stored, "en", ["es"], readers)
    assert spanish.complete and spanish.readers == 1
    assert not french.offered and french.readers == 1 and not french.complete

    world.statements[0].text = "Corrected wording"
    items = await gaps.round_items(session, world.panel, world.round)
    (spanish, _) = gaps.language_gaps(items, stored, "en", ["es"], readers)
    assert [it.key for it in spanish.outdated] == [f"statement.{world.statements[0].id}"]
    assert not spanish.missing


def test_gap_actions_name_the_language_the_readers_and_the_round() -> None:
    item = gaps.Item("statement.1", "Statements", "Statement 1", "Text")
    actions = gaps.gap_actions(
        [
            gaps.LanguageGap("cy", 2, True, missing=(item,), outdated=(item,)),
            gaps.LanguageGap("es", 0, True, missing=(item,)),  # nobody reads it: not a blocker
            gaps.LanguageGap("fr", 1, False),
        ],
        round_number=2,
    )
    assert actions == [
        "Translate 2 texts (1 changed since translated) into Welsh (cy) that round 2 needs: 2 panellists read "
        "Welsh. The panel's translations page lists them.",
        "1 panellist reads French (fr), which this panel is not offered in: add French in the panel's languages, "
        "or change those panellists' language.",
    ]


def test_reader_languages_are_one_language_whatever_their_spelling() -> None:
    (gap,) = gaps.language_gaps([], {}, "en", ["pt-BR"], {"pt_BR": 2, "pt-br": 1, "en": 4})
    assert gap.language == "pt-BR" and gap.readers == 3 and gap.complete


async def test_a_round_cannot_open_until_its_texts_are_translated_for_its_readers(
    session: AsyncSession, settings: Settings
) -> None:
    world = await _draft(session)
    with pytest.raises(PreconditionsUnmet) as refused:
        await transitions.open_round(session, world.panel, world.round, settings=settings, actor=ACTOR)
    assert any(
        "into Spanish (es) that round 1 needs: 2 panellists read Spanish" in a for a in refused.value.actions
    )

    await _translate_all(session, world, "es")
    assert await transitions.translation_actions(session, world.panel, world.round) == []
    await transitions.open_round(session, world.panel, world.round, settings=settings, actor=ACTOR)
    assert world.round.status == "open"


async def test_a_panel_in_one_language_has_no_translation_blockers(session: AsyncSession) -> None:
    world = await _draft(session, languages=(), panellist_languages=("en", "en"))
    assert await transitions.translation_gaps_of(session, world.panel, world.round) == []


async def test_the_wording_falls_back_to_the_primary_text_and_store_texts_deletes_blanks(
    session: AsyncSession,
) -> None:
    world = await _draft(session)
    first = world.statements[0]
    assert await tr.store_texts(
        session, world.panel.id, "es", {f"statement.{first.id}": ("Texto", first.text)}
    ) == (1, 0)
    await session.flush()
    spanish = await tr.wording_for(session, world.panel, "es")
    assert spanish.statement(first.id, first.text) == "Texto"
    assert spanish.statement(world.statements[1].id, "Primary") == "Primary"
    assert spanish.panel(world.panel, "description") == world.panel.description
    english = await tr.wording_for(session, world.panel, "en")
    assert english.is_primary and english.statement(first.id, first.text) == first.text

    assert await tr.store_texts(
        session, world.panel.id, "es", {f"statement.{first.id}": ("  ", first.text)}
    ) == (0, 1)
    await session.flush()
    assert (await tr.wording_for(session, world.panel, "es")).texts == {}
