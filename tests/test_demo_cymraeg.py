"""The first demo panel in Welsh: every English text it shows has Welsh, the panel is offered in Welsh with a
credit, three of its panellists read Welsh, each round opens with its texts translated, and the terminal gives
a Welsh panellist's link."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import (
    BaselineAnswer,
    Panellist,
    RankAnswer,
    Rating,
    Submission,
    Translation,
    utcnow,
)
from delphi.demo import (
    DEMO_BASELINE_AGE,
    DEMO_BASELINE_YEARS,
    DEMO_CONSENT,
    DEMO_DESCRIPTION,
    DEMO_DISCREET_NAME,
    DEMO_GROUPS,
    DEMO_RANKING,
    DEMO_STATEMENTS,
    DEMO_TITLE,
    DEMO_UNABLE_LABEL,
    DEMO_WELSH_READERS,
    demo_links,
    seed_demo,
    seed_open_demo,
    simulate_demo_rounds,
    store_welsh,
)
from delphi.demo_cymraeg import LANGUAGE, TRANSLATED_BY, WELSH, welsh
from delphi.domain import Actor
from delphi.panels.settings import NINE_POINT_LABELS
from delphi.panels.statements import add_statement
from delphi.panels.translations import further_languages, wording_for
from delphi.rounds import lookup
from delphi.rounds.transitions import translation_actions, translation_gaps_of
from delphi.settings import Settings

PASSWORD = "a long enough password"


def _demo_english() -> list[str]:
    """Every English text a panellist of the first demo panel may read of the panel itself."""
    texts = [DEMO_TITLE, DEMO_DESCRIPTION, DEMO_CONSENT, DEMO_UNABLE_LABEL, DEMO_DISCREET_NAME, *DEMO_GROUPS]
    texts += [label for label in NINE_POINT_LABELS if label]
    texts += sorted({section for section, _ in DEMO_STATEMENTS}) + [text for _, text in DEMO_STATEMENTS]
    texts += [DEMO_RANKING[0], *DEMO_RANKING[1]]
    texts += [DEMO_BASELINE_YEARS[0], *DEMO_BASELINE_YEARS[1], *DEMO_BASELINE_AGE]
    return texts


def test_every_english_text_of_the_demo_panel_has_welsh() -> None:
    missing = [text for text in _demo_english() if welsh(text) is None]
    assert missing == []
    for text in _demo_english():
        cy = welsh(text)
        assert cy and cy.strip() == cy and cy != text, text


def test_the_welsh_texts_hold_nothing_the_demo_does_not_show() -> None:
    used = set(_demo_english()) | set(DEMO_CONSENT.split("\n\n"))
    assert set(WELSH) - used == set()


def test_the_welsh_consent_text_keeps_each_paragraph_and_the_smallest_group_of_three() -> None:
    consent = welsh(DEMO_CONSENT)
    assert consent is not None
    assert len(consent.split("\n\n")) == len(DEMO_CONSENT.split("\n\n")) == 4
    # figures only for groups of at least three, nothing that shows fewer than three people's answers
    assert "o dri o bobl o leiaf" in consent and consent.count("llai na thri o bobl") == 2
    assert welsh(DEMO_CONSENT + "\n\nA paragraph nobody translated.") is None


async def _seeded(session: AsyncSession, settings: Settings):  # type: ignore[no-untyped-def]
    account, panel = await seed_demo(session, password=PASSWORD)
    await simulate_demo_rounds(session, panel, account, settings, utcnow())
    await session.flush()
    return account, panel


async def test_the_first_demo_panel_is_offered_in_welsh_with_a_translator_credit(
    session: AsyncSession, settings: Settings
) -> None:
    account, panel = await _seeded(session, settings)
    assert panel.language == "en"
    (further,) = await further_languages(session, panel.id)
    assert (further.language, further.translated_by) == ("cy", TRANSLATED_BY)
    assert "demo translation" in further.translated_by
    second = await seed_open_demo(session, account, settings, utcnow())
    assert await further_languages(session, second.id) == []  # the second panel stays English only


async def test_three_demo_panellists_read_welsh_and_their_round_1_answers_are_in_welsh(
    session: AsyncSession, settings: Settings
) -> None:
    _, panel = await _seeded(session, settings)
    readers = (
        await session.scalars(
            select(Panellist.name)
            .where(Panellist.panel_id == panel.id, Panellist.language == LANGUAGE)
            .order_by(Panellist.id)
        )
    ).all()
    assert list(readers) == list(DEMO_WELSH_READERS)
    for model, expected in ((Rating, 3 * len(DEMO_STATEMENTS)), (RankAnswer, 3), (Submission, 3)):
        n = await session.scalar(select(func.count()).select_from(model).where(model.language == LANGUAGE))
        assert n == expected, model
    n_baseline = await session.scalar(
        select(func.count()).select_from(BaselineAnswer).where(BaselineAnswer.language == LANGUAGE)
    )
    assert n_baseline == 3 * 2  # both questions, all three answered them
    n_english = await session.scalar(
        select(func.count()).select_from(Submission).where(Submission.language == "en")
    )
    assert n_english == 27 - 3


async def test_every_text_round_2_needs_is_in_welsh(session: AsyncSession, settings: Settings) -> None:
    _, panel = await _seeded(session, settings)
    round2 = await lookup.get_round(session, panel, 2)
    assert round2.status == "open"
    (gap,) = await translation_gaps_of(session, panel, round2)
    assert (gap.language, gap.readers, gap.offered) == ("cy", 3, True)
    assert gap.missing == () and gap.outdated == () and gap.complete
    assert await translation_actions(session, panel, round2) == []
    # what a Welsh reader is shown
    wording = await wording_for(session, panel, LANGUAGE)
    assert wording.panel(panel, "title") == welsh(DEMO_TITLE)
    assert wording.panel(panel, "consent_text") == welsh(DEMO_CONSENT)
    assert wording.scale_labels(panel)[0] == "Anghytuno'n gryf"
    # the neutral name is ready for discreet mode, though the panel is not discreet yet
    assert wording.panel(panel, "discreet_name") == welsh(DEMO_DISCREET_NAME)
    # seeding again saves nothing new
    assert await store_welsh(session, panel, round2) == 0


async def test_storing_the_welsh_names_every_english_text_without_one(
    session: AsyncSession, settings: Settings
) -> None:
    account, panel = await seed_demo(session, password=PASSWORD)
    round1 = await lookup.get_round(session, panel, 1)
    await add_statement(
        session, panel, "A statement nobody translated.", "A new section", Actor.account(account)
    )
    with pytest.raises(LookupError) as raised:
        await store_welsh(session, panel, round1)
    assert "A statement nobody translated." in str(raised.value) and "A new section" in str(raised.value)
    n = await session.scalar(
        select(func.count()).select_from(Translation).where(Translation.panel_id == panel.id)
    )
    assert n == 0  # nothing half-stored


async def test_the_terminal_gives_a_welsh_panellists_link_for_the_first_panel(
    session: AsyncSession, settings: Settings
) -> None:
    account, panel = await _seeded(session, settings)
    links = await demo_links(session, panel, settings)
    assert [name for name, _ in links] == ["Service 1", "Experts 10", "Service 2 (Cymraeg)"]
    second = await seed_open_demo(session, account, settings, utcnow())
    assert len(await demo_links(session, second, settings)) == 2
    welsh_reader = await session.scalar(
        select(Panellist).where(Panellist.panel_id == panel.id, Panellist.name == "Service 2")
    )
    assert welsh_reader is not None and welsh_reader.language == "cy"
