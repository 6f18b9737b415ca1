"""A panellist reads everything the facilitator wrote in their language: the panel's translations (delphi.panels.
translations) on every page, the primary text where a translation is missing, numbers written their way, and a
baseline choice stored in the primary wording whatever language it was chosen in."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

import delphi.locale as locale_pkg
from delphi import resources
from delphi.db.models import (
    BaselineAnswer,
    BaselineQuestion,
    PanelLanguage,
    Panellist,
    RankingItem,
    RankingQuestion,
    Statement,
    utcnow,
)
from delphi.locale import template_gettext
from delphi.panels.translations import key, section_key, store_texts
from tests.factories import World, add_rating, add_result, build_panel, make_round
from tests.ideas_world import build_ideas_panel
from tests.panellist.conftest import enter, form_token, new_session
from tests.panellist.rankings import add_rank_answer, add_ranking_result, ask, make_ranking
from tests.panellist.test_final import finished  # noqa: F401  (a fixture)


@dataclass
class Spanish:
    """A panel in English offered in Spanish too, its panellist reading Spanish, and what the round asks."""

    world: World
    question: RankingQuestion
    items: list[RankingItem]
    baseline: BaselineQuestion

    @property
    def statements(self) -> list[Statement]:
        return self.world.statements


async def offer_spanish(session: AsyncSession, panel_id: int, texts: dict[str, str]) -> None:
    """Offer the panel in Spanish with ``texts`` (key -> Spanish), stored by the one writer of translations."""
    session.add(PanelLanguage(panel_id=panel_id, language="es", translated_by="Equipo"))
    await store_texts(session, panel_id, "es", {k: (t, "") for k, t in texts.items()})


async def spanish_panel(session: AsyncSession, *, consented: bool = True) -> Spanish:
    w = await build_panel(
        session,
        consented=consented,
        sections=(("Information", 2), ("Choice", 1)),
        panel_kw={"unable_label": "I cannot say"},
    )
    assert w.round is not None
    question, items = await make_ranking(session, w.panel)
    await ask(session, w.round, question)
    baseline = BaselineQuestion(
        panel_id=w.panel.id,
        kind="single",
        text="How do you use services?",
        choices=["Often", "Rarely"],
        position=0,
    )
    session.add(baseline)
    await session.flush()
    first, second, _third = w.statements
    await offer_spanish(
        session,
        w.panel.id,
        {
            key("panel", "title"): "Participar en su tratamiento",
            key("panel", "description"): "Queremos acordar cómo los servicios deben implicar a las personas.",
            key(
                "panel", "consent_text"
            ): "Participar es voluntario.\n\nSus respuestas se guardan sin su nombre.",
            key("panel", "unable_label"): "No puedo decirlo",
            key("panel", "scale", 1): "Muy en desacuerdo",
            key("panel", "scale", 9): "Muy de acuerdo",
            key("statement", first.id): "Primera afirmación sobre la información",
            key("statement", second.id): "Segunda afirmación sobre la información",
            # the third statement has no translation: the primary text is shown
            section_key("Information"): "Información",
            key("ranking", question.id): "¿Qué le importa más?",
            key("item", items[0].id): "Tiempos de espera",
            key("item", items[1].id): "Que le escuchen",
            key("item", items[2].id): "Cartas claras",
            key("baseline", baseline.id): "¿Con qué frecuencia usa los servicios?",
            key("baseline", baseline.id, "choice", 0): "A menudo",
            key("baseline", baseline.id, "choice", 1): "Rara vez",
        },
    )
    w.panellist.language = "es"
    w.panellist.baseline_at = utcnow() if consented else None  # asked already: the panel page shows
    await session.commit()
    return Spanish(w, question, items, baseline)


@pytest.fixture
async def spanish(session: AsyncSession) -> Spanish:
    return await spanish_panel(session)


async def test_a_spanish_panellist_reads_the_title_description_and_consent_text_in_spanish(
    session, client
) -> None:
    s = await spanish_panel(session, consented=False)
    await enter(client, s.world.token)
    page = await client.get("/panel/consent")
    html = page.text
    assert page.status_code == 200 and '<html lang="es">' in html
    assert "<h1>Participar en su tratamiento</h1>" in html
    assert "Queremos acordar cómo los servicios deben implicar a las personas." in html
    assert "<p>Participar es voluntario.</p><p>Sus respuestas se guardan sin su nombre.</p>" in html
    assert "Involving people in their treatment" not in html
    assert "Taking part is voluntary." not in html and "We want to agree" not in html


async def test_the_rating_page_shows_statements_sections_and_scale_in_spanish(client, spanish) -> None:
    await enter(client, spanish.world.token)
    html = (await client.get("/panel/rate?page=1")).text
    first, second, _ = spanish.statements
    assert (
        "Primera afirmación sobre la información" in html
        and "Segunda afirmación sobre la información" in html
    )
    assert first.text not in html and second.text not in html
    assert "<h1>Información" in html and "Información – " in html  # the heading and the page's <title>
    assert "1 = Muy en desacuerdo" in html and "9 = Muy de acuerdo" in html
    assert "Strongly disagree" not in html
    assert "<span>No puedo decirlo</span>" in html and "I cannot say" not in html
    assert "Participar en su tratamiento" in html  # the panel's name in the header


async def test_a_missing_translation_shows_the_primary_text(client, spanish) -> None:
    await enter(client, spanish.world.token)
    html = (await client.get("/panel/rate?page=2")).text
    third = spanish.statements[2]
    assert third.text in html  # "Choice statement 1": no Spanish wording
    assert "<h1>Choice" in html  # nor of its section
    assert "5 = Neither agree nor disagree" in html  # nor of this scale point


async def test_the_review_page_shows_the_answers_against_the_spanish_texts(session, client, spanish) -> None:
    first = spanish.statements[0]
    await add_rating(session, spanish.world.round, first, spanish.world.panellist, 9)
    await add_rank_answer(
        session,
        spanish.world.round,
        spanish.question,
        spanish.world.panellist,
        (2, 1, 3),
        items=spanish.items,
    )
    await session.commit()
    await enter(client, spanish.world.token)
    html = (await client.get("/panel/review")).text
    assert "<dt>Primera afirmación sobre la información</dt>" in html
    assert "<strong>9</strong> – Muy de acuerdo" in html
    assert "<h2>Información</h2>" in html
    assert "<dt>¿Qué le importa más?</dt>" in html
    assert '<li value="1">Que le escuchen</li>' in html and "Being listened to" not in html
    home = (await client.get("/panel")).text
    assert "¿Qué le importa más?" in home and "Which matters most to you?" not in home


async def test_the_ranking_page_shows_the_question_and_items_in_spanish(client, spanish) -> None:
    await enter(client, spanish.world.token)
    html = (await client.get(f"/panel/rank/{spanish.question.id}")).text
    assert '<h1 id="question">¿Qué le importa más?</h1>' in html
    for item, text in zip(
        spanish.items, ("Tiempos de espera", "Que le escuchen", "Cartas claras"), strict=True
    ):
        assert f'<label for="i{item.id}">{text}</label>' in html
        assert item.text not in html


async def test_last_rounds_ranking_feedback_names_the_items_in_spanish(session, client) -> None:
    w = await build_panel(session, consented=True, round_status="closed")
    question, items = await make_ranking(session, w.panel)
    assert w.round is not None
    await ask(session, w.round, question)
    await add_ranking_result(session, w.round, question, items, [2.5, 1.25, 2.25], n=8)
    await add_rank_answer(session, w.round, question, w.panellist, (3, 1, 2), items=items)
    r2 = await make_round(session, w.panel, w.statements, 2)
    await ask(session, r2, question)
    await offer_spanish(session, w.panel.id, {key("item", items[1].id): "Que le escuchen"})
    w.panellist.language = "es"
    await session.commit()
    await enter(client, w.token)
    html = (await client.get(f"/panel/rank/{question.id}")).text
    gettext = template_gettext("es")["py_gettext"]
    place = gettext("%(place)s: %(text)s (average rank %(mean)s)") % {
        "place": gettext("%(n)sst") % {"n": 1},
        "text": "Que le escuchen",
        "mean": "1,25",
    }
    assert f"<li>{place}</li>" in html  # the panel's order in words, the average rank written "1,25"
    assert "Being listened to" not in html and "1.25" not in html
    assert ": Que le escuchen</li>" in html  # the panellist's own order last round
    assert " Que le escuchen</text>" in html and ">1,25</text>" in html  # the chart's label and figure


async def test_the_baseline_questions_and_choices_are_in_spanish_and_stored_in_english(
    session, client, engine, spanish
) -> None:
    q = spanish.baseline
    await enter(client, spanish.world.token)
    page = await client.get("/panel/about-you")
    html = page.text
    assert "<legend>¿Con qué frecuencia usa los servicios?</legend>" in html
    assert (
        f'<label for="q{q.id}">A menudo</label>' in html
        and f'<label for="q{q.id}-c1">Rara vez</label>' in html
    )
    assert "Often" not in html and "How do you use services?" not in html
    token = await form_token(client, "/panel/about-you")
    saved = await client.post(
        "/panel/about-you",
        data={"_csrf_token": token, f"q{q.id}": "c1", "action": "save"},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    async with new_session(engine) as s:
        answer = await s.scalar(select(BaselineAnswer).where(BaselineAnswer.question_id == q.id))
        assert answer is not None and answer.chosen == ["Rarely"]
    # a choice sent in its Spanish wording stands for the stored one too
    again = await client.post(
        "/panel/about-you",
        data={"_csrf_token": token, f"q{q.id}": "A menudo", "action": "save"},
        follow_redirects=False,
    )
    assert again.status_code == 303
    async with new_session(engine) as s:
        answer = await s.scalar(select(BaselineAnswer).where(BaselineAnswer.question_id == q.id))
        assert answer is not None and answer.chosen == ["Often"]


async def test_a_refused_baseline_page_shows_the_spanish_labels_again(client, engine, spanish) -> None:
    q = spanish.baseline
    await enter(client, spanish.world.token)
    token = await form_token(client, "/panel/about-you")
    refused = await client.post(
        "/panel/about-you", data={"_csrf_token": token, f"q{q.id}": ["c0", "c1"], "action": "save"}
    )
    assert refused.status_code == 400
    assert "¿Con qué frecuencia usa los servicios?" in refused.text
    assert "A menudo" in refused.text and "Rara vez" in refused.text and "Often" not in refused.text
    async with new_session(engine) as s:
        assert await s.scalar(select(BaselineAnswer).where(BaselineAnswer.question_id == q.id)) is None


async def test_the_open_questions_and_their_hints_are_in_spanish(session, client) -> None:
    ideas = await build_ideas_panel(session, panellists=1)
    helps, gets_in_the_way = ideas.questions
    await offer_spanish(
        session,
        ideas.world.panel.id,
        {key("open", helps.id): "¿Qué ayuda?", key("open", helps.id, "hint"): "Una idea por casilla."},
    )
    ideas.world.panellist.language = "es"
    await session.commit()
    await enter(client, ideas.world.token)
    html = (await client.get("/panel/ideas")).text
    assert '<span class="statement-text">¿Qué ayuda?</span>' in html
    assert "Una idea por casilla." in html and "One idea a box." not in html
    assert "What helps?" not in html
    assert gets_in_the_way.text in html  # no translation: the primary text
    review = (await client.get("/panel/review")).text
    assert "<h2>¿Qué ayuda?</h2>" in review


async def test_feedback_numbers_are_written_the_spanish_way(session, client) -> None:
    w = await build_panel(session, consented=True, round_status="closed", panel_kw={"k_min": 3})
    assert w.round is not None
    statement = w.statements[0]
    await add_result(session, w.round, statement, [0, 0, 0, 0, 1, 1, 1, 1, 0])  # quartiles 5.75 and 7.25
    await add_rating(session, w.round, statement, w.panellist, 7)
    await make_round(session, w.panel, w.statements, 2)
    await offer_spanish(session, w.panel.id, {})
    w.panellist.language = "es"
    await session.commit()
    await enter(client, w.token)
    html = (await client.get("/panel/rate?page=1")).text
    assert "5,75" in html and "7,25" in html
    # the only "5.75" left is the attribute the page's script reads, not a number for people
    assert html.count("5.75") == html.count('data-q1="5.75"') == 1


async def test_feedback_numbers_stay_english_for_an_english_reader(session, client) -> None:
    w = await build_panel(session, consented=True, round_status="closed", panel_kw={"k_min": 3})
    assert w.round is not None
    await add_result(session, w.round, w.statements[0], [0, 0, 0, 0, 1, 1, 1, 1, 0])
    await make_round(session, w.panel, w.statements, 2)
    await session.commit()
    await enter(client, w.token)
    html = (await client.get("/panel/rate?page=1")).text
    assert "between 5.75 and 7.25" in html and "(50%)" in html


async def test_the_final_results_show_the_agreed_statements_in_spanish(session, client, finished) -> None:  # noqa: F811
    panel, token, (a, _b, c, c2, _d, _e) = finished
    await offer_spanish(
        session,
        panel.id,
        {
            key("statement", a.id): "Afirmación acordada",
            key("statement", c.id): "Primera redacción",
            key("statement", c2.id): "Elección, reformulada",
        },
    )
    me = await session.scalar(select(Panellist).where(Panellist.panel_id == panel.id))
    assert me is not None
    me.language = "es"
    await session.commit()
    await enter(client, token)
    html = (await client.get("/panel/results")).text
    assert '<p class="result-text">Afirmación acordada</p>' in html and a.text not in html
    assert '<p class="result-text">Elección, reformulada</p>' in html
    assert "<q>Primera redacción</q>" in html and "Choice statement 1" not in html


@pytest.fixture
def arabic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """A compiled Arabic catalog in a temporary locale folder (the shipped ones are left to right)."""
    catalog = Catalog(locale="ar")
    catalog.add("Rate the statements", "قيّم العبارات")
    catalog.add("Language", "اللغة")
    target = tmp_path / "ar" / "LC_MESSAGES"
    target.mkdir(parents=True)
    with (target / "delphi.mo").open("wb") as f:
        write_mo(f, catalog)
    monkeypatch.setattr(resources, "LOCALE_DIR", tmp_path)
    locale_pkg.catalog.cache_clear()
    yield "ar"
    locale_pkg.catalog.cache_clear()


async def test_a_right_to_left_language_reads_right_to_left(session, client, engine, arabic) -> None:
    w = await build_panel(session, consented=True, sections=(("", 2),))
    first = w.statements[0]
    session.add(PanelLanguage(panel_id=w.panel.id, language="ar"))
    await store_texts(session, w.panel.id, "ar", {key("statement", first.id): ("العبارة الأولى", first.text)})
    w.panellist.language = "ar"
    await session.commit()
    await enter(client, w.token)
    html = (await client.get("/panel/rate?page=1")).text
    assert '<html lang="ar" dir="rtl">' in html
    assert "<h1>قيّم العبارات" in html and "العبارة الأولى" in html
    assert options_of(html) == [("en", "English"), ("ar", "العربية")]
    async with new_session(engine) as s, s.begin():
        person = await s.get(Panellist, w.panellist.id)
        assert person is not None
        person.language = "en"
    english = (await client.get("/panel/rate?page=1")).text
    assert '<html lang="en">' in english and 'dir="rtl"' not in english


def options_of(html: str) -> list[tuple[str, str]]:
    form = html.split('action="/panel/language"', 1)[1].split("</form>", 1)[0]
    return re.findall(r'<option value="([^"]+)" lang="[^"]+"[^>]*>([^<]+)</option>', form)


async def test_the_discreet_name_is_shown_in_the_readers_language(session, client) -> None:
    w = await build_panel(
        session, consented=True, panel_kw={"discreet": True, "discreet_name": "Service study"}
    )
    await offer_spanish(session, w.panel.id, {key("panel", "discreet_name"): "Estudio de servicios"})
    w.panellist.language = "es"
    await session.commit()
    await enter(client, w.token)
    html = (await client.get("/panel")).text
    assert ">Estudio de servicios</a>" in html
    assert "Service study" not in html


async def test_a_refused_ranking_quotes_the_items_in_spanish(client, spanish) -> None:
    await enter(client, spanish.world.token)
    path = f"/panel/rank/{spanish.question.id}"
    token = await form_token(client, path)
    first, second, third = spanish.items
    refused = await client.post(path, data={"_csrf_token": token, f"i{first.id}": "1", "action": "next"})
    assert refused.status_code == 400
    summary = refused.text.split('class="error-summary"', 1)[1].split("</div>", 1)[0]
    assert "Que le escuchen" in summary and "Cartas claras" in summary
    assert second.text not in refused.text and third.text not in refused.text


async def test_sending_with_answers_missing_quotes_the_statements_and_questions_in_spanish(
    session: AsyncSession, spanish
) -> None:
    from delphi.errors import InvalidInput
    from delphi.participation.submit import submit

    person = await session.get(Panellist, spanish.world.panellist.id)
    with pytest.raises(InvalidInput) as refused:
        await submit(session, person, send_receipt=False)
    messages = [message for _, message in refused.value.errors]
    first, _second, third = spanish.statements
    assert "Rate “Primera afirmación sobre la información”, or choose “No puedo decirlo”." in messages
    assert f"Rate “{third.text}”, or choose “No puedo decirlo”." in messages  # no translation: as written
    assert "Rank the items of “¿Qué le importa más?”, or choose “Unable to rank”." in messages
    assert not any(first.text in m for m in messages)
