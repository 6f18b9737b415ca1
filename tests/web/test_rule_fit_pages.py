"""Facilitator pages: a rule that does not fit the scale is refused on the form, and closing never answers 500.

The trust review's panel: RAND/UCLA on a 1-5 scale was saved, round 1 opened, and "Close round now" answered 500
for ever because the rule was locked. Now the form refuses such a rule with the reason; a panel that holds one
from before gets the round page with what to do, and the settings form lets the rule be replaced (recorded and
flagged in every report).
"""

from __future__ import annotations

from litestar.testing import AsyncTestClient
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from delphi.db.engine import make_sessionmaker
from delphi.db.models import AuditEvent, Panel, Round, RoundResult
from delphi.rounds import lookup, transitions
from delphi.settings import Settings
from delphi.stats import rule_by_name
from tests.factories import ACTOR, NOW, build_draft_panel, rate_everyone
from tests.helpers import login, post_form
from tests.web.test_facilitator_pages import PANEL_FORM, count, new_panel

RAND_REASON = "The RAND/UCLA method is defined on the 1–9 scale only, not on 1–5"
RAND_ON_FIVE = {
    **PANEL_FORM,
    "scale_min": "1",
    "scale_max": "5",
    "scale_labels": "",
    "rule_name": "rand_ucla",
    "agree_band": "4-5",
    "disagree_band": "1-2",
}
COMET_ON_FIVE = {**RAND_ON_FIVE, "rule_name": "comet"}


async def test_rand_ucla_on_a_five_point_scale_is_refused_on_the_form_with_every_problem(
    client: AsyncTestClient, engine: AsyncEngine
) -> None:
    base = await new_panel(client, engine)
    r = await post_form(client, "/panels", {**RAND_ON_FIVE, "title": ""}, token_page="/panels/new")
    assert r.status_code == 422
    assert "There is a problem" in r.text and RAND_REASON in r.text and "Enter a title" in r.text
    assert await count(engine, Panel) == 1  # only the panel made by new_panel
    r = await post_form(client, f"{base}/settings", RAND_ON_FIVE, token_page=f"{base}/settings")
    assert r.status_code == 422 and RAND_REASON in r.text
    assert 'value="4-5"' in r.text  # the form is shown again with what was typed
    async with make_sessionmaker(engine)() as session:
        panel = await session.scalar(select(Panel))
        assert (panel.scale_min, panel.scale_max, panel.rule["name"]) == (1, 9, "comet")  # nothing half-saved


async def test_overlapping_bands_are_listed_with_the_other_problems_of_the_form(
    client: AsyncTestClient, engine: AsyncEngine
) -> None:
    await new_panel(client, engine)
    bad = {**PANEL_FORM, "title": "", "agree_band": "3-7", "disagree_band": "1-4"}
    r = await post_form(client, "/panels", bad, token_page="/panels/new")
    assert r.status_code == 422
    assert "overlaps the disagree band" in r.text and "Enter a title" in r.text


async def open_panel_locked_with_rand_on_five_points(engine: AsyncEngine, settings: Settings) -> str:
    """Round 1 open and rated, its rule RAND/UCLA on 1-5 as stored before the check existed; signed in."""
    async with make_sessionmaker(engine)() as session:
        panel = await build_draft_panel(session)
        round1 = await lookup.get_round(session, panel, 1)
        await transitions.open_round(session, panel, round1, now=NOW, settings=settings, actor=ACTOR)
        rand = rule_by_name("rand_ucla", agree=(4, 5), disagree=(1, 2))
        await session.execute(
            update(Panel).where(Panel.id == panel.id).values(rule=rand.to_dict(), scale_min=1, scale_max=5)
        )
        patterns = {"Service users": [5, 1, 1, 3], "Practitioners": [4, 1, 5, 4], "Experts": [5, 1, 4, 2]}
        await rate_everyone(session, panel, round1, patterns)
        await session.commit()
        return f"/panels/{panel.id}"


async def test_closing_a_locked_panel_whose_rule_does_not_fit_shows_what_to_do_not_a_500(
    client: AsyncTestClient, engine: AsyncEngine, settings: Settings
) -> None:
    base = await open_panel_locked_with_rand_on_five_points(engine, settings)
    await login(client, "fac@example.org")
    r = await post_form(client, f"{base}/rounds/1/close", {"confirm": "1"}, token_page=f"{base}/rounds/1")
    assert r.status_code == 409
    assert "Round 1 cannot close." in r.text and RAND_REASON in r.text
    assert "Change the consensus rule in the panel settings" in r.text
    assert await count(engine, RoundResult) == 0
    page = await client.get(f"{base}/rounds/1")  # said before anyone presses "Close"
    assert page.status_code == 200 and "Round 1 cannot close yet" in page.text and RAND_REASON in page.text
    # The settings page explains, and lets the locked rule be replaced by one that fits.
    settings_page = await client.get(f"{base}/settings")
    assert "cannot be applied to this panel" in settings_page.text and RAND_REASON in settings_page.text
    assert '<select id="rule_name" name="rule_name">' in settings_page.text  # not disabled
    r = await post_form(
        client, f"{base}/settings", COMET_ON_FIVE, token_page=f"{base}/settings", follow_redirects=False
    )
    assert r.status_code == 303, r.text
    r = await post_form(
        client,
        f"{base}/rounds/1/close",
        {"confirm": "1"},
        token_page=f"{base}/rounds/1",
        follow_redirects=False,
    )
    assert r.status_code == 303
    async with make_sessionmaker(engine)() as session:
        assert await session.scalar(select(Round.status).where(Round.number == 1)) == "closed"
        assert await session.scalar(select(Panel.rule_changed_after_lock)) is True
        assert await session.scalar(select(func.count()).where(AuditEvent.action == "rule.changed")) == 1
    report = await client.get(f"{base}/report")
    assert "The consensus rule was changed after it was fixed." in report.text


async def test_an_unexpected_failure_while_closing_shows_what_to_do_not_a_500(
    client: AsyncTestClient, engine: AsyncEngine, settings: Settings, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    base = await open_panel_locked_with_rand_on_five_points(engine, settings)
    await login(client, "fac@example.org")

    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(transitions, "close_round", broken)
    r = await post_form(client, f"{base}/rounds/1/close", {"confirm": "1"}, token_page=f"{base}/rounds/1")
    assert r.status_code == 503
    assert (
        "Could not close round 1 because of an unexpected problem on the server. Nothing was changed."
        in r.text
    )
    assert "Try again in a few minutes." in r.text and "disk on fire" not in r.text
    async with make_sessionmaker(engine)() as session:
        assert await session.scalar(select(Round.status).where(Round.number == 1)) == "open"
