"""The baseline pages over HTTP: the facilitator's questions page and the panellist's "About you" after consent."""

from __future__ import annotations

from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from delphi.db.engine import make_sessionmaker
from delphi.db.models import BaselineAnswer, BaselineQuestion, Panellist
from tests.factories import build_panel
from tests.helpers import csrf_from, login, post_form
from tests.panellist.conftest import enter, form_token


async def _rows(engine: AsyncEngine, model: type) -> list:
    async with make_sessionmaker(engine)() as s:
        return list((await s.scalars(select(model).order_by(model.id))).all())


async def _panel_with_questions(session: AsyncSession, consented: bool = False):  # type: ignore[no-untyped-def]
    w = await build_panel(session, consented=consented, access={"owner": "fac@example.org"})
    single = BaselineQuestion(
        panel_id=w.panel.id,
        kind="single",
        text="Years in drug services",
        choices=["Under 1", "1 to 5", "Over 5"],
        position=0,
    )
    age = BaselineQuestion(panel_id=w.panel.id, kind="number", text="Age", unit="years", position=1)
    session.add_all([single, age])
    await session.commit()
    return w, single, age


async def test_the_facilitator_adds_a_question_and_a_bad_one_is_shown_again_with_every_problem(
    client: AsyncTestClient, session: AsyncSession, engine: AsyncEngine
) -> None:
    w = await build_panel(session, access={"owner": "fac@example.org"})
    await session.commit()
    await login(client, "fac@example.org")
    page = f"/panels/{w.panel.id}/baseline"
    bad = await post_form(client, page, {"kind": "single", "text": "", "choices": "Only one"})
    assert bad.status_code == 422
    assert "There is a problem" in bad.text and 'href="#text"' in bad.text and 'href="#choices"' in bad.text
    assert "Only one" in bad.text  # what was typed is kept
    assert await _rows(engine, BaselineQuestion) == []
    ok = await post_form(
        client, page, {"kind": "single", "text": "Years?", "choices": "A\nB"}, follow_redirects=False
    )
    assert ok.status_code == 303
    (q,) = await _rows(engine, BaselineQuestion)
    assert q.choices == ["A", "B"]
    listing = await client.get(page)
    assert "About the panellists" in listing.text and "Years?" in listing.text


async def test_an_answered_questions_choices_cannot_change_and_the_page_says_why(
    client: AsyncTestClient, session: AsyncSession, engine: AsyncEngine
) -> None:
    w, single, _ = await _panel_with_questions(session, consented=True)
    session.add(BaselineAnswer(panellist_id=w.panellist.id, question_id=single.id, chosen=["Under 1"]))
    await session.commit()
    await login(client, "fac@example.org")
    edit = f"/panels/{w.panel.id}/baseline/{single.id}"
    shown = await client.get(f"/panels/{w.panel.id}/baseline?edit={single.id}")
    assert "cannot change" in shown.text
    refused = await post_form(
        client,
        edit,
        {"kind": "single", "text": "Years?", "choices": "Under 1\nOver 1"},
        token_page=f"/panels/{w.panel.id}/baseline",
    )
    assert refused.status_code == 409
    assert "their answers refer to the choices" in refused.text
    (q, _age) = await _rows(engine, BaselineQuestion)
    assert q.choices == ["Under 1", "1 to 5", "Over 5"]


async def test_consent_leads_to_about_you_and_a_refused_page_saves_nothing(
    client: AsyncTestClient, session: AsyncSession, engine: AsyncEngine
) -> None:
    w, single, age = await _panel_with_questions(session)
    await enter(client, w.token)
    token = await form_token(client, "/panel/consent")
    after = await client.post(
        "/panel/consent", data={"consent": "yes", "_csrf_token": token}, follow_redirects=False
    )
    assert after.headers["location"] == "/panel/about-you"
    home = await client.get("/panel", follow_redirects=False)
    assert home.headers["location"] == "/panel/about-you"
    page = await client.get("/panel/about-you")
    assert "<legend>Years in drug services</legend>" in page.text and "Prefer not to say" in page.text
    assert "Optional" in page.text
    token = csrf_from(page.text)
    refused = await client.post(
        "/panel/about-you",
        data={
            f"q{single.id}": ["c0", "pnts"],
            f"q{age.id}": "2000000",
            "action": "save",
            "_csrf_token": token,
        },
    )
    assert refused.status_code == 400
    assert "There is a problem" in refused.text
    assert f'href="#q{single.id}"' in refused.text and f'href="#q{age.id}"' in refused.text
    assert "between -1000000 and 1000000" in refused.text
    assert 'value="2000000"' in refused.text
    assert await _rows(engine, BaselineAnswer) == []
    saved = await client.post(
        "/panel/about-you",
        data={f"q{single.id}": "c2", f"q{age.id}": "47", "action": "save", "_csrf_token": token},
        follow_redirects=False,
    )
    assert saved.headers["location"] == "/panel?about=1"
    assert [(a.chosen, a.number) for a in await _rows(engine, BaselineAnswer)] == [
        (["Over 5"], None),
        ([], 47.0),
    ]
    home = await client.get("/panel")
    assert home.status_code == 200 and 'href="/panel/about-you"' in home.text
    again = await client.get("/panel/about-you")
    assert 'value="47"' in again.text and "Skip these questions" not in again.text


async def test_skipping_the_questions_goes_home_and_is_not_asked_again(
    client: AsyncTestClient, session: AsyncSession, engine: AsyncEngine
) -> None:
    w, _single, _age = await _panel_with_questions(session, consented=True)
    await enter(client, w.token)
    token = await form_token(client, "/panel/about-you")
    skipped = await client.post(
        "/panel/about-you", data={"action": "skip", "_csrf_token": token}, follow_redirects=False
    )
    assert skipped.headers["location"] == "/panel"
    assert (await client.get("/panel", follow_redirects=False)).status_code == 200
    (person, *_rest) = await _rows(engine, Panellist)
    assert person.baseline_at is not None
    assert await _rows(engine, BaselineAnswer) == []


async def test_a_panel_without_questions_goes_from_consent_to_home(
    client: AsyncTestClient, session: AsyncSession
) -> None:
    w = await build_panel(session)
    await session.commit()
    await enter(client, w.token)
    token = await form_token(client, "/panel/consent")
    after = await client.post(
        "/panel/consent", data={"consent": "yes", "_csrf_token": token}, follow_redirects=False
    )
    assert after.headers["location"] == "/panel"
    assert (await client.get("/panel/about-you", follow_redirects=False)).headers["location"] == "/panel"
