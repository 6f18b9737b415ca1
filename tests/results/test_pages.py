"""The results pages, served by the app, for a study whose rounds the engine closed."""

from __future__ import annotations

import re

from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import AuditEvent, Rating, Round, RoundResult
from delphi.domain import POOLED_SCOPE
from delphi.settings import Settings
from tests.factories import make_account
from tests.results.helpers import (
    FACILITATOR,
    OWNER,
    RESEARCHER,
    assert_xlsx_matches_csv,
    build_world,
    login,
    post_form,
)
from tests.study import (
    FORMULA_COMMENT,
    HIDDEN_COMMENT,
    PENDING_COMMENT,
    PUBLISHED_COMMENT,
    study_panel,
)


def text_of(html: str) -> str:
    """Visible text, whitespace collapsed (for assertions on what a person reads)."""
    body = re.sub(r"<(script|style|svg)\b.*?</\1>", " ", html, flags=re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", body).split())


async def test_monitoring_shows_progress_per_group_and_who_has_not_submitted(
    session: AsyncSession, client: AsyncTestClient, settings: Settings
) -> None:
    world = await build_world(session, settings, rounds=0)
    await login(client, OWNER)
    response = await client.get(f"/panels/{world.pid}/monitor")
    assert response.status_code == 200
    page = text_of(response.text)
    # group, invited, opened, started, submitted, bounced, withdrawn
    assert "Service users 6 5 5 4 0 0 67%" in page
    assert "Practitioners 6 6 6 6 0 0 100%" in page
    assert "Experts 2 2 2 2 1 0 100%" in page
    assert "All groups 14 13 13 12 1 0 86%" in page
    assert "Not submitted yet (2)" in page
    assert page.index("P-002") < page.index("P-003"), "those who started come first"
    assert "panellist02@people.example" in page, "the owner sees e-mails, for a personal reminder"
    assert "/rounds/1/remind" in response.text
    for secret in (PUBLISHED_COMMENT, PENDING_COMMENT, FORMULA_COMMENT):
        assert secret not in response.text


async def test_monitoring_never_shows_emails_to_facilitators_or_researchers(
    session: AsyncSession, client: AsyncTestClient, settings: Settings
) -> None:
    world = await build_world(session, settings, rounds=0)
    for who in (FACILITATOR, RESEARCHER):
        client.cookies.clear()
        await login(client, who)
        response = await client.get(f"/panels/{world.pid}/monitor")
        assert response.status_code == 200
        assert "P-002" in response.text
        assert "@people.example" not in response.text
    assert "/remind" not in response.text, "researchers cannot send reminders"


async def test_monitoring_before_any_round_opened_says_there_is_nothing_yet(
    session: AsyncSession, client: AsyncTestClient
) -> None:
    study = await study_panel(session, await make_account(session, OWNER))
    await session.commit()
    await login(client, OWNER)
    response = await client.get(f"/panels/{study.panel.id}/monitor")
    assert response.status_code == 409
    assert "nothing to monitor yet" in response.text


async def test_round_results_show_every_statement_pooled_and_per_group_with_flags(
    session: AsyncSession, client: AsyncTestClient, settings: Settings
) -> None:
    world = await build_world(session, settings, rounds=2)
    await login(client, OWNER)
    response = await client.get(f"/panels/{world.pid}/rounds/1/results")
    assert response.status_code == 200
    html = response.text
    page = text_of(html)
    assert "Showing 4 of 4 statements" in page
    assert html.count('<svg class="chart"') == 4 * 4, "a distribution per statement, pooled and per group"
    assert "Service users and professionals differ" in page
    assert "Verdict depends on the definition" in page
    assert "fewer than 3: hidden from panellists" in page
    # the service users are hidden from panellists with the experts (2), or pooled minus practitioners would
    # give the experts' ratings; the facilitator sees that too
    assert page.count("Service users not shown to panellists") == 4 * 2  # chart caption and table row
    # S1 pooled: n 14, median 7.5, IQR 1.75 (6.25-8), 71% agree, consensus in.
    assert "All panellists 14 0 7.5 1.75 (6.25–8) 71% 0% Consensus in" in page
    for comment in (PUBLISHED_COMMENT, PENDING_COMMENT, HIDDEN_COMMENT, FORMULA_COMMENT):
        assert comment in page or comment.replace('"', "&#34;") in html
    assert "Round 2 has opened" not in page


async def test_round_results_filter_by_verdict_section_and_flag(
    session: AsyncSession, client: AsyncTestClient, settings: Settings
) -> None:
    world = await build_world(session, settings, rounds=2)
    await login(client, RESEARCHER)
    base = f"/panels/{world.pid}/rounds/1/results"
    cases = {
        "?verdict=in": ["Same-week appointments."],
        "?verdict=none&section=Care": ["Take-home doses after a month."],
        "?flag=divergent": ["Same-week appointments.", "Peer workers at every service."],
        "?section=Care&flag=sensitive": [],
    }
    for query, expected in cases.items():
        response = await client.get(base + query)
        assert response.status_code == 200
        titles = re.findall(
            r'<h2 id="statement-\d+-title"><span class="statement-label">S\d+</span> '
            r'(?:<span class="muted">[^<]*</span> )?([^<]+)</h2>',
            response.text,
        )
        assert titles == expected, query
    assert (await client.get(base + "?verdict=maybe")).status_code == 422


async def test_researchers_see_published_comments_only_and_cannot_moderate(
    session: AsyncSession, client: AsyncTestClient, settings: Settings
) -> None:
    world = await build_world(session, settings, rounds=1)
    await login(client, RESEARCHER)
    response = await client.get(f"/panels/{world.pid}/rounds/1/results")
    assert PUBLISHED_COMMENT in response.text
    assert PENDING_COMMENT not in response.text and HIDDEN_COMMENT not in response.text
    assert "/comments/" not in response.text
    rating_id = world.study.comments["pending"]
    refused = await post_form(
        client, f"/panels/{world.pid}/rounds/1/comments/{rating_id}", {"action": "publish"}
    )
    assert refused.status_code == 403


async def test_facilitators_publish_and_hide_comments_with_an_audit_event_each(
    session: AsyncSession, client: AsyncTestClient, settings: Settings
) -> None:
    world = await build_world(session, settings, rounds=1)
    await login(client, FACILITATOR)
    pending, published = world.study.comments["pending"], world.study.comments["published"]
    url = f"/panels/{world.pid}/rounds/1/comments/"
    assert (await post_form(client, url + str(pending), {"action": "publish"})).status_code == 303
    assert (await post_form(client, url + str(published), {"action": "hide"})).status_code == 303
    assert (await post_form(client, url + str(pending), {"action": "shout"})).status_code == 422
    assert (await post_form(client, url + "999999", {"action": "hide"})).status_code == 404
    await session.commit()  # end the test's read snapshot
    statuses = dict((await session.execute(select(Rating.id, Rating.comment_status))).all())
    events = (
        await session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("comment.%")))
    ).all()
    assert (statuses[pending], statuses[published]) == ("published", "hidden")
    assert sorted(events) == ["comment.hidden", "comment.published"]


async def test_comments_can_no_longer_be_published_once_the_next_round_opened_but_can_be_hidden(
    session: AsyncSession, client: AsyncTestClient, settings: Settings
) -> None:
    world = await build_world(session, settings, rounds=2)
    await login(client, OWNER)
    url = f"/panels/{world.pid}/rounds/1/comments/"
    late = await post_form(client, url + str(world.study.comments["pending"]), {"action": "publish"})
    assert late.status_code == 409
    assert "can still hide" in late.text
    hidden = await post_form(client, url + str(world.study.comments["formula"]), {"action": "hide"})
    assert hidden.status_code == 303


async def test_results_of_a_round_that_has_not_closed_are_refused_plainly(
    session: AsyncSession, client: AsyncTestClient, settings: Settings
) -> None:
    world = await build_world(session, settings, rounds=0)
    await login(client, OWNER)
    response = await client.get(f"/panels/{world.pid}/rounds/1/results")
    assert response.status_code == 409
    assert "results appear once it closes" in response.text
    assert (await client.get(f"/panels/{world.pid}/rounds/9/results")).status_code == 404


async def test_attrition_page_shows_the_flow_and_the_dropouts_comparison(
    session: AsyncSession, client: AsyncTestClient, settings: Settings
) -> None:
    world = await build_world(session, settings, rounds=2)
    await login(client, RESEARCHER)
    page = text_of((await client.get(f"/panels/{world.pid}/attrition")).text)
    assert "Service users 6 6 5 (5 in every round)" in page
    assert "All groups 14 14 13 (13 in every round)" in page
    assert "Dropped out after round 1 (1 person)" in page
    assert "13 people who submitted round 2" in page


async def test_final_list_page_has_the_three_parts_with_the_round_consensus_came(
    session: AsyncSession, client: AsyncTestClient, settings: Settings
) -> None:
    world = await build_world(session, settings, rounds=2)
    await login(client, RESEARCHER)
    page = text_of((await client.get(f"/panels/{world.pid}/final")).text)
    assert (
        "Consensus to include (2)" in page
        and "Consensus to exclude (1)" in page
        and "No consensus (1)" in page
    )
    assert "Reworded from: Take-home doses after a month." in page
    assert "Access: Same-week appointments. 1 14 7.5 1.75 71% 0%" in page


async def test_report_covers_every_section_of_a_write_up_and_prints_cleanly(
    session: AsyncSession, client: AsyncTestClient, settings: Settings
) -> None:
    world = await build_world(session, settings, rounds=2)
    await login(client, RESEARCHER)
    response = await client.get(f"/panels/{world.pid}/report")
    assert response.status_code == 200
    assert '<link rel="stylesheet" href="/static/print.css" media="print">' in response.text
    page = text_of(response.text)
    for heading in (
        "1. Aims",
        "2. Panel composition",
        "3. Definition of consensus",
        "4. Rounds",
        "5. Participant flow",
        "6. Statements added, dropped and reworded",
        "7. Results per statement and round",
        "Results per group",
        "8. How comments and suggestions were handled",
        "9. Stopping rule and stopping advice",
        "10. Final consensus list",
        "11. Every setting used",
    ):
        assert heading in page
    assert "At least 70% rate 7–9 and fewer than 15% rate 1–3" in page
    assert "Fixed 2 March 2026, 09:00 UTC, when round 1 opened" in page
    assert "2 retired (consensus) S1 Same-week appointments. consensus to include in round 1" in page
    assert "2 reworded S4.2 Take-home doses after four weeks of stable treatment. rewording of S4" in page
    assert "quantile_method linear" in page and "unable_policy exclude" in page
    assert "@people.example" not in response.text
    assert (await client.get("/static/print.css")).status_code == 200


async def test_exports_page_offers_researchers_pseudonymous_files_only(
    session: AsyncSession, client: AsyncTestClient, settings: Settings
) -> None:
    world = await build_world(session, settings, rounds=2)
    await login(client, RESEARCHER)
    html = (await client.get(f"/panels/{world.pid}/exports")).text
    assert "/exports/final-list.xlsx" in html and "/exports/ratings.csv" in html
    assert "/exports/pseudonym-key" not in html and "/exports/honoraria" not in html
    client.cookies.clear()
    await login(client, OWNER)
    html = (await client.get(f"/panels/{world.pid}/exports")).text
    assert "/exports/pseudonym-key.csv" in html and "/exports/honoraria.xlsx" in html


async def test_export_downloads_are_attachments_and_xlsx_matches_csv(
    session: AsyncSession, client: AsyncTestClient, settings: Settings
) -> None:
    world = await build_world(session, settings, rounds=2)
    await login(client, RESEARCHER)
    base = f"/panels/{world.pid}/exports/"
    as_csv = await client.get(base + "ratings.csv")
    as_xlsx = await client.get(base + "ratings.xlsx")
    assert as_csv.status_code == as_xlsx.status_code == 200
    assert as_csv.headers["content-type"].startswith("text/csv")
    assert re.fullmatch(
        rf'attachment; filename="panel-{world.pid}-ratings-\d{{8}}\.csv"',
        as_csv.headers["content-disposition"],
    )
    assert assert_xlsx_matches_csv(as_xlsx.content, as_csv.content) == 1 + 14 * 4 + 13 * 2
    assert (await client.get(base + "pseudonym-key.csv")).status_code == 403


async def test_an_unknown_export_format_is_a_400_that_lists_the_formats_allowed(
    session: AsyncSession, client: AsyncTestClient, settings: Settings
) -> None:
    world = await build_world(session, settings, rounds=2)
    await login(client, OWNER)
    response = await client.get(f"/panels/{world.pid}/exports/final-list.pdf")
    assert response.status_code == 400
    assert "Formats allowed: csv, xlsx, json." in text_of(response.text)
    assert (await client.get(f"/panels/{world.pid}/exports/everything.csv")).status_code == 404


async def test_exporting_before_a_round_closed_explains_there_is_nothing_yet(
    session: AsyncSession, client: AsyncTestClient, settings: Settings
) -> None:
    world = await build_world(session, settings, rounds=0)
    await login(client, OWNER)
    response = await client.get(f"/panels/{world.pid}/exports/final-list.csv")
    assert response.status_code == 409
    assert "nothing to export yet" in response.text
    page = text_of((await client.get(f"/panels/{world.pid}/exports")).text)
    assert "There is nothing to export yet" in page
    assert (await client.get(f"/panels/{world.pid}/exports/codebook.csv")).status_code == 200


async def test_a_half_percent_rounds_up_on_the_results_page_as_it_does_for_panellists(
    session: AsyncSession, client: AsyncTestClient, settings: Settings
) -> None:
    """62.5% is "63%" here as on the panellist's page (one rule: :func:`delphi.formatting.percent_text`); the
    facilitators' "%.0f" used to round it half to even, to "62%"."""
    world = await build_world(session, settings, rounds=1)
    round1 = await session.scalar(select(Round).where(Round.panel_id == world.pid, Round.number == 1))
    assert round1 is not None
    rows = (
        await session.scalars(
            select(RoundResult).where(RoundResult.round_id == round1.id, RoundResult.scope == POOLED_SCOPE)
        )
    ).all()
    s1 = [
        r for r in rows if r.n == 14 and r.pct_agree is not None and abs(r.pct_agree - 100 * 10 / 14) < 1e-9
    ]
    assert s1, "S1 pooled: 10 of 14 agree"
    for row in s1:
        row.pct_agree = 62.5
    await session.commit()
    await login(client, OWNER)
    page = text_of((await client.get(f"/panels/{world.pid}/rounds/1/results")).text)
    assert "All panellists 14 0 7.5 1.75 (6.25–8) 63% 0% Consensus in" in page
    assert "62%" not in page
