"""Facilitator pages: bad input re-shows the form with an error summary and saves nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from litestar.testing import AsyncTestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from delphi.db.engine import make_sessionmaker
from delphi.db.models import Panel, PanelAccess, Panellist, Statement
from tests.helpers import login, make_account, post_form

PANEL_FORM = {
    "title": "Treatment decisions",
    "scale_min": "1",
    "scale_max": "9",
    "rule_name": "comet",
    "rule_scope": "pooled",
    "agree_band": "7-9",
    "disagree_band": "1-3",
    "min_ratings": "2",
    "max_rounds": "3",
    "k_min": "3",
    "allow_unable": "on",
    "unable_label": "Can't say",
    "quantile_method": "linear",
    "unable_policy": "exclude",
    "contact_name": "The research team",
    "contact_email": "research-team@university.example",
}


async def new_panel(client: AsyncTestClient, engine: AsyncEngine) -> str:
    await make_account(engine, "fac@example.org")
    await login(client, "fac@example.org")
    r = await post_form(client, "/panels", PANEL_FORM, token_page="/panels/new", follow_redirects=False)
    assert r.status_code == 303
    return r.headers["location"]


async def count(engine: AsyncEngine, model: type) -> int:
    async with make_sessionmaker(engine)() as session:
        return await session.scalar(select(func.count()).select_from(model)) or 0


async def test_panel_form_with_bad_values_is_shown_again_with_every_problem(
    client: AsyncTestClient, engine: AsyncEngine
) -> None:
    await make_account(engine, "fac@example.org")
    await login(client, "fac@example.org")
    bad = {**PANEL_FORM, "title": "", "max_rounds": "40", "agree_band": "7-12"}
    r = await post_form(client, "/panels", bad, token_page="/panels/new")
    assert r.status_code == 422
    assert "There is a problem" in r.text
    assert "Enter a title" in r.text
    assert 'value="40"' in r.text  # what was typed stays
    assert await count(engine, Panel) == 0


async def test_panel_creator_becomes_its_owner_with_a_draft_round(
    client: AsyncTestClient, engine: AsyncEngine
) -> None:
    base = await new_panel(client, engine)
    page = await client.get(base)
    assert page.status_code == 200 and "Round 1" in page.text and "owner" in page.text
    async with make_sessionmaker(engine)() as session:
        assert (await session.scalar(select(PanelAccess.role))) == "owner"


async def test_opening_without_what_it_needs_lists_the_actions_on_the_page(
    client: AsyncTestClient, engine: AsyncEngine
) -> None:
    base = await new_panel(client, engine)
    r = await post_form(client, f"{base}/rounds/1/open", {"confirm": "1"}, token_page=f"{base}/rounds/1")
    assert r.status_code == 409
    for action in (
        "Add at least one stakeholder group.",
        "Add at least one statement or ranking question to round 1.",
        "Add at least one panellist who can be invited.",
        "Set a closing date for round 1.",
    ):
        assert action in r.text


async def test_a_closing_date_in_the_past_is_refused_with_a_message(
    client: AsyncTestClient, engine: AsyncEngine
) -> None:
    base = await new_panel(client, engine)
    past = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    r = await post_form(
        client,
        f"{base}/rounds/1/schedule",
        {"closes_at": past, "reminders": "7d"},
        token_page=f"{base}/rounds/1",
    )
    assert r.status_code == 422 and "The closing date must be in the future." in r.text
    r = await post_form(
        client, f"{base}/rounds/1/schedule", {"closes_at": "next tuesday"}, token_page=f"{base}/rounds/1"
    )
    assert r.status_code == 422 and "Enter the date and time" in r.text


async def test_panellist_csv_preview_lists_every_bad_row_and_imports_nothing(
    client: AsyncTestClient, engine: AsyncEngine
) -> None:
    base = await new_panel(client, engine)
    await post_form(client, f"{base}/groups", {"name": "Experts"}, token_page=f"{base}/groups")
    csv_text = (
        "email,group\nok@example.org,Experts\nbroken,Experts\nok@example.org,Experts\nx@example.org,Cats\n"
    )
    r = await post_form(
        client, f"{base}/panellists/import", {"csv_text": csv_text}, token_page=f"{base}/panellists"
    )
    assert r.status_code == 422
    for line in ("Line 3:", "Line 4:", "Line 5:"):
        assert line in r.text
    assert "Nothing has been imported" in r.text
    r = await post_form(
        client,
        f"{base}/panellists/import",
        {"csv_text": csv_text, "confirm": "1"},
        token_page=f"{base}/panellists",
    )
    assert r.status_code == 422
    assert await count(engine, Panellist) == 0


async def test_a_duplicate_email_on_the_panel_is_refused(
    client: AsyncTestClient, engine: AsyncEngine
) -> None:
    base = await new_panel(client, engine)
    await post_form(client, f"{base}/groups", {"name": "Experts"}, token_page=f"{base}/groups")
    async with make_sessionmaker(engine)() as session:
        group_id = (await session.scalars(select(Statement.id))).first()  # no statements: None
        from delphi.db.models import StakeholderGroup

        group_id = await session.scalar(select(StakeholderGroup.id))
    form = {"email": "same@example.org", "group_id": str(group_id), "language": "en"}
    first = await post_form(client, f"{base}/panellists", form, token_page=f"{base}/panellists")
    assert first.status_code == 200
    again = await post_form(
        client, f"{base}/panellists", {**form, "email": "SAME@example.org"}, token_page=f"{base}/panellists"
    )
    assert again.status_code == 422 and "on this panel already" in again.text
    assert await count(engine, Panellist) == 1


async def test_statements_can_be_pasted_with_sections(client: AsyncTestClient, engine: AsyncEngine) -> None:
    base = await new_panel(client, engine)
    r = await post_form(
        client,
        f"{base}/statements/import",
        {"bulk": "# Access\n1. Offer video information.\n- Offer audio information.\n", "confirm": "1"},
        token_page=f"{base}/statements",
    )
    assert r.status_code == 200
    async with make_sessionmaker(engine)() as session:
        rows = (
            await session.execute(select(Statement.section, Statement.text).order_by(Statement.position))
        ).all()
    assert [tuple(r) for r in rows] == [
        ("Access", "Offer video information."),
        ("Access", "Offer audio information."),
    ]


async def test_researchers_read_but_cannot_change_a_panel(
    client: AsyncTestClient, engine: AsyncEngine
) -> None:
    base = await new_panel(client, engine)
    researcher = await make_account(engine, "res@example.org", role="researcher")
    async with make_sessionmaker(engine)() as session, session.begin():
        panel_id = await session.scalar(select(Panel.id))
        session.add(PanelAccess(panel_id=panel_id, account_id=researcher.id, role="researcher"))
    await post_form(client, "/logout", {}, token_page="/")
    await login(client, "res@example.org")
    assert (await client.get(base)).status_code == 200
    assert (await client.get(f"{base}/settings")).status_code == 403
    r = await post_form(client, f"{base}/statements", {"text": "Sneaky"}, token_page=f"{base}/statements")
    assert r.status_code == 403
    assert await count(engine, Statement) == 0


async def test_a_facilitator_of_another_panel_gets_a_404(
    client: AsyncTestClient, engine: AsyncEngine
) -> None:
    base = await new_panel(client, engine)
    await make_account(engine, "other@example.org")
    await post_form(client, "/logout", {}, token_page="/")
    await login(client, "other@example.org")
    assert (await client.get(base)).status_code == 404
    assert (await client.get(f"{base}/panellists")).status_code == 404


async def test_the_settings_form_sets_which_answers_count_and_keeps_it_on_errors(
    client: AsyncTestClient, engine: AsyncEngine
) -> None:
    base = await new_panel(client, engine)
    form = await client.get(f"{base}/settings")
    assert 'name="analysis_population"' in form.text
    assert 'value="submitted" selected' in form.text  # the default
    chosen = {**PANEL_FORM, "analysis_population": "all"}
    r = await post_form(
        client, f"{base}/settings", chosen, token_page=f"{base}/settings", follow_redirects=False
    )
    assert r.status_code == 303
    async with make_sessionmaker(engine)() as session:
        assert await session.scalar(select(Panel.analysis_population)) == "all"
    wrong = {**PANEL_FORM, "analysis_population": "whoever", "title": ""}
    r = await post_form(client, f"{base}/settings", wrong, token_page=f"{base}/settings")
    assert r.status_code == 422
    assert "Choose which answers count" in r.text and "Enter a title" in r.text
    async with make_sessionmaker(engine)() as session:
        assert await session.scalar(select(Panel.analysis_population)) == "all"
