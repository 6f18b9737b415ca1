"""The panellists, monitor and mail pages of a big panel come a page at a time (:mod:`delphi.db.paging`).

A panel of 250 panellists in two groups: P-001 to P-250 alternate between "Service users" (odd numbers) and
"Practitioners" (even). A page past the last answers a 404 naming how many pages there are; the counts on
page 1 cover everyone, and the "page N of M" links are a labelled nav with the current page marked.
"""

from __future__ import annotations

import re

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import OutboxMessage, Rating, Submission
from delphi.db.paging import Page, page_at
from delphi.errors import NotFound
from delphi.results import monitoring
from tests.factories import World, build_panel
from tests.helpers import login

OWNER = "owner@example.org"
FACILITATOR = "fac@example.org"  # not granted "contact panellists"
PSEUDONYM = re.compile(r"<tr><td>(P-\d{3})</td>")


async def big_panel(session: AsyncSession, client: AsyncTestClient) -> World:
    """250 panellists, round 1 open: P-001..P-010 submitted, P-011..P-030 started (one rating), the others not
    opened; signed in as the owner (who sees contacts)."""
    w = await build_panel(session, panellists=250, access={"owner": OWNER, "facilitator": FACILITATOR})
    people = [w.panellist] + [p for p, _ in w.others]
    by_number = {int(p.pseudonym[2:]): p for p in people}
    assert w.round is not None
    await session.execute(
        insert(Rating),
        [
            {
                "round_id": w.round.id,
                "statement_id": w.statements[0].id,
                "panellist_id": by_number[n].id,
                "value": 7,
            }
            for n in range(1, 31)
        ],
    )
    await session.execute(
        insert(Submission), [{"round_id": w.round.id, "panellist_id": by_number[n].id} for n in range(1, 11)]
    )
    await session.commit()
    await login(client, OWNER)
    return w


def listed(html: str) -> list[str]:
    return PSEUDONYM.findall(html)


async def test_page_two_of_the_panellists_lists_the_next_hundred_in_group_order(
    session: AsyncSession, client: AsyncTestClient
) -> None:
    w = await big_panel(session, client)
    r = await client.get(f"/panels/{w.panel.id}/panellists", params={"page": 2})
    assert r.status_code == 200
    odd_tail = [f"P-{n:03d}" for n in range(201, 250, 2)]  # rows 101-125: the rest of Service users
    even_head = [f"P-{n:03d}" for n in range(2, 151, 2)]  # rows 126-200: the first 75 Practitioners
    assert listed(r.text) == odd_tail + even_head
    assert "Showing 101–200 of 250: page 2 of 3." in r.text


async def test_the_panellists_pages_are_linked_by_a_labelled_nav_marking_the_current_page(
    session: AsyncSession, client: AsyncTestClient
) -> None:
    w = await big_panel(session, client)
    base = f"/panels/{w.panel.id}/panellists"
    html = (await client.get(base, params={"page": 2})).text
    assert '<nav class="pagination" aria-label="Pages of panellists">' in html
    assert f'<a href="{base}?page=2" aria-current="page">' in html
    assert f'<a href="{base}?page=1" rel="prev">' in html and f'<a href="{base}?page=3" rel="next">' in html
    assert (
        html.count('aria-current="page"><span class="visually-hidden">Page </span>2') == 2
    )  # above and below


async def test_page_one_of_the_panellists_counts_everyone(
    session: AsyncSession, client: AsyncTestClient
) -> None:
    w = await big_panel(session, client)
    html = (await client.get(f"/panels/{w.panel.id}/panellists")).text
    assert "<h1>Panellists (250)</h1>" in html
    assert "By group: Service users 125, Practitioners 125." in html
    assert "Showing 1–100 of 250: page 1 of 3." in html
    assert len(listed(html)) == 100
    assert 'id="cards"' in html  # the cards form is offered for everyone, not only this page


@pytest.mark.parametrize("page", ["4", "0", "99999999999999999999"])
async def test_a_panellists_page_out_of_range_is_a_404_saying_how_many_there_are(
    session: AsyncSession, client: AsyncTestClient, page: str
) -> None:
    w = await big_panel(session, client)
    r = await client.get(f"/panels/{w.panel.id}/panellists", params={"page": page})
    assert r.status_code == 404
    assert f"There is no page {page} of this list: it has 3 pages." in r.text


async def test_the_search_keeps_its_term_in_the_page_links_and_finds_addresses_only_for_contacts(
    session: AsyncSession, client: AsyncTestClient
) -> None:
    w = await big_panel(session, client)
    base = f"/panels/{w.panel.id}/panellists"
    found = (await client.get(base, params={"q": "p-24"})).text
    assert listed(found) == [f"P-{n}" for n in range(241, 250, 2)] + [f"P-{n}" for n in range(240, 249, 2)]
    assert "Showing 1–10 of 10." in found
    by_address = (await client.get(base, params={"q": f"person7.{w.panel.id}@"})).text
    assert listed(by_address) == ["P-007"]
    many = (await client.get(base, params={"q": "p-"})).text  # everyone
    assert "Showing 1–100 of 250: page 1 of 3." in many and f'href="{base}?q=p-&amp;page=2"' in many
    client.cookies.clear()
    await login(client, FACILITATOR)
    hidden = await client.get(base, params={"q": f"person7.{w.panel.id}@"})
    assert hidden.status_code == 200 and listed(hidden.text) == [] and "No panellist matches" in hidden.text


async def test_page_two_of_the_monitor_lists_who_has_not_submitted_after_those_who_started(
    session: AsyncSession, client: AsyncTestClient
) -> None:
    w = await big_panel(session, client)
    base = f"/panels/{w.panel.id}/monitor"
    first = (await client.get(base)).text
    assert (
        "Not submitted yet (240)" in first
        and "Send a reminder now to the 240 who have not submitted" in first
    )
    assert listed(first) == [f"P-{n:03d}" for n in range(11, 111)]  # the 20 who started, then by pseudonym
    assert '<nav class="pagination" aria-label="Pages of panellists who did not submit round 1">' in first
    second = (await client.get(base, params={"round": 1, "page": 2})).text
    assert listed(second) == [f"P-{n:03d}" for n in range(111, 211)]
    assert f'<a href="{base}?round=1&amp;page=2#awaiting" aria-current="page">' in second
    last = await client.get(base, params={"page": 4})
    assert last.status_code == 404 and "it has 3 pages" in last.text


async def test_the_monitor_counts_come_from_sql_and_match_the_per_panellist_summary(
    session: AsyncSession, client: AsyncTestClient
) -> None:
    w = await big_panel(session, client)
    assert w.round is not None
    # one bounced, one withdrawn who had started: they are invited but no longer awaited
    w.others[40][0].status = "bounced"
    w.others[15][0].status = "withdrawn"
    await session.flush()
    expected = monitoring.summarise(await monitoring.load_progress(session, w.round), w.groups)
    assert await monitoring.load_summary(session, w.round, w.groups) == expected
    total = expected[-1]
    assert (total.invited, total.started, total.submitted, total.bounced, total.withdrawn) == (
        250,
        30,
        10,
        1,
        1,
    )
    awaited, page = await monitoring.awaiting_page(session, w.round, 1)
    assert page.total == len(monitoring.awaiting(await monitoring.load_progress(session, w.round))) == 238
    assert awaited == monitoring.awaiting(await monitoring.load_progress(session, w.round))[:100]


async def test_the_mail_history_has_numbered_pages_and_a_404_past_the_last(
    session: AsyncSession, client: AsyncTestClient
) -> None:
    w = await big_panel(session, client)
    await session.execute(
        insert(OutboxMessage),
        [
            {
                "dedupe_key": f"test:{i}",
                "kind": "invitation",
                "panel_id": w.panel.id,
                "to_address": f"a{i}@x.org",
                "subject": "Hello",
                "body_text": "Hi",
                "body_html": "<p>Hi</p>",
                "headers": {},
            }
            for i in range(250)
        ],
    )
    await session.commit()
    base = f"/panels/{w.panel.id}/mail"
    second = (await client.get(base, params={"page": 2})).text
    assert "Showing 201–250 of 250: page 2 of 2." in second
    assert f'<a href="{base}?page=2#history" aria-current="page">' in second
    assert (await client.get(base, params={"page": 3})).status_code == 404


def test_a_page_window_links_the_ends_and_the_neighbours_with_gaps_between() -> None:
    assert page_at(6, 2000).window() == [1, None, 4, 5, 6, 7, 8, None, 20]
    assert Page(1, 100, 0).pages == 1 and page_at(1, 0).first_row == 0
    with pytest.raises(NotFound, match=r"it has 1 page\. Go back"):
        page_at(2, 0)
