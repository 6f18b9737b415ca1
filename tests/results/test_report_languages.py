"""The report's Languages section: the primary language, each further language with who translated it, and per
round how many counted panellists answered in each language, a language fewer than k answered in hidden together
with what would give it away; shown only for a panel with more than one language."""

from __future__ import annotations

import re
from datetime import timedelta

from litestar.testing import AsyncTestClient
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import PanelLanguage, Rating, Submission
from delphi.results.languages import (
    LanguageCredit,
    Languages,
    language_columns,
    language_table,
    latest_languages,
)
from delphi.settings import Settings
from tests.results.helpers import OWNER, RESEARCHER, World, build_world, login
from tests.study import T0


def text_of(html: str) -> str:
    body = re.sub(r"<(script|style|svg)\b.*?</\1>", " ", html, flags=re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", body).split())


def section(page: str) -> str:
    """The report's text from the Languages heading to the next section's."""
    start = page.index("Languages Primary language")
    return page[start : page.index("6. Statements added", start)]


# --- the pure parts -------------------------------------------------------------------------------------------


def test_a_language_fewer_than_k_answered_in_is_hidden_with_the_next_smallest_so_the_total_gives_nothing_away() -> (
    None
):
    columns = ("en", "cy", "es")
    shown = language_table({1: {"en": 10, "cy": 2, "es": 4}, 2: {"en": 10, "cy": 4, "es": 3}}, columns, 3)
    assert shown[1] == (10, None, None), "cy (2) is under k; alone, 16 - 10 - 4 would give it: es hides too"
    assert shown[2] == (10, 4, 3)


def test_a_language_nobody_answered_in_shows_0_and_a_round_under_k_shows_no_language() -> None:
    shown = language_table({1: {"en": 5}, 2: {"en": 1, "cy": 1}}, ("en", "cy"), 3)
    assert shown[1] == (5, 0)
    assert shown[2] == (None, None)


def test_two_small_languages_hidden_together_still_need_k_between_them() -> None:
    shown = language_table({1: {"en": 9, "cy": 1, "es": 1, None: 5}}, ("en", "cy", "es", None), 3)
    assert shown[1] == (9, None, None, None), "cy and es (1 + 1 = 2) hide the smallest other too: 7 hidden"


def test_a_panellist_who_switched_language_counts_once_in_the_language_answered_in_last() -> None:
    rows = [
        (1, 10, "en", T0),
        (1, 10, "es", T0 + timedelta(hours=1)),
        (1, 11, "cy", T0),
        (1, 12, None, T0),
        (2, 10, "pt_BR", T0),
    ]
    assert latest_languages(rows) == {1: {"es": 1, "cy": 1, None: 1}, 2: {"pt-BR": 1}}


def test_columns_are_the_panels_languages_then_others_answered_in_then_not_recorded() -> None:
    assert language_columns(["en", "cy"], ["es", None, "en", "de"]) == ("en", "cy", "de", "es", None)
    assert language_columns(["en"], ["en"]) == ("en",)


def test_the_section_is_shown_only_with_more_than_one_language() -> None:
    english = (LanguageCredit("en", "English", True),)
    assert not Languages(english, ("en", None), (), 3, "submitted").shown
    assert Languages(english, ("en", "cy"), (), 3, "submitted").shown
    both = (*english, LanguageCredit("cy", "Welsh", False, "Gwen"))
    assert Languages(both, ("en", "cy"), (), 3, "submitted").shown


# --- the report -----------------------------------------------------------------------------------------------


async def _speak(
    session: AsyncSession, world: World, round_number: int, languages: dict[int, str | None]
) -> None:
    """Give panellist i's (0-based) submission of ``round_number`` and their ratings there ``languages[i]``."""
    study = world.study
    round_id = study.rounds[round_number].id
    for i, language in languages.items():
        pid = study.panellists[i].id
        for table in (Submission, Rating):
            await session.execute(
                update(table)
                .where(table.round_id == round_id, table.panellist_id == pid)
                .values(language=language)
            )


async def _trilingual(session: AsyncSession, settings: Settings, population: str = "submitted") -> World:
    """The report's study (k = 3; 14 submit round 1, 13 round 2) offered in Welsh (credited) and Spanish (no
    credit): round 1 answered by 2 in Welsh, 4 in Spanish, 8 in English; round 2 by 4 in Welsh, 9 in English."""
    world = await build_world(session, settings, rounds=2, population=population)
    pid = world.study.panel.id
    session.add_all(
        [
            PanelLanguage(panel_id=pid, language="cy", translated_by="Gwen Jones, Cyfieithu Cymru"),
            PanelLanguage(panel_id=pid, language="es", translated_by=""),
        ]
    )
    people = range(len(world.study.panellists))
    await _speak(
        session, world, 1, {i: "cy" if i in (1, 2) else "es" if 3 <= i <= 6 else "en" for i in people}
    )
    await _speak(session, world, 2, {i: "cy" if 1 <= i <= 4 else "en" for i in people})
    await session.commit()
    return world


async def test_the_report_lists_the_languages_with_their_translators_and_counts_per_round(
    session: AsyncSession, client: AsyncTestClient, settings: Settings
) -> None:
    world = await _trilingual(session, settings)
    await login(client, RESEARCHER)
    page = text_of((await client.get(f"/panels/{world.pid}/report")).text)
    part = section(page)
    assert "Primary language English ( en ): the language of the statements, results and exports" in part
    assert "Further language Welsh ( cy ), translated by Gwen Jones, Cyfieithu Cymru" in part
    assert "Further language Spanish ( es ), translated by not given" in part
    assert "Round English (en) Welsh (cy) Spanish (es) Counted" in part
    assert "1 8 fewer than 3 or hidden fewer than 3 or hidden 14" in part, (
        "Welsh (2) hidden, and Spanish with it"
    )
    assert "2 9 4 0 13" in part
    assert "the panellists who sent the round, by the language they sent it in" in part


async def test_under_every_saved_answer_a_round_counts_each_panellist_in_the_language_of_their_last_answer(
    session: AsyncSession, client: AsyncTestClient, settings: Settings
) -> None:
    world = await _trilingual(session, settings, population="all")
    study = world.study
    round1 = study.rounds[1].id
    # P-001 switched from English to Welsh halfway: their later answer is in Welsh, so round 1 has 3 in Welsh.
    await session.execute(
        update(Rating)
        .where(
            Rating.round_id == round1,
            Rating.panellist_id == study.panellists[0].id,
            Rating.statement_id == study.statements["S1"].id,
        )
        .values(language="cy", updated_at=T0 + timedelta(days=3))
    )
    await session.commit()
    await login(client, OWNER)
    part = section(text_of((await client.get(f"/panels/{world.pid}/report")).text))
    assert "1 7 3 4 14" in part
    assert (
        "every panellist with a saved answer in the round, by the language of their latest saved answer"
        in part
    )


async def test_a_panel_in_one_language_has_no_languages_section(
    session: AsyncSession, client: AsyncTestClient, settings: Settings
) -> None:
    world = await build_world(session, settings, rounds=1)
    await login(client, OWNER)
    page = text_of((await client.get(f"/panels/{world.pid}/report")).text)
    assert "Languages Primary language" not in page and "translated by" not in page
