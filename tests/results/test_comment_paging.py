"""The round results page lists a round's comments and reasons 100 a page, however large the panel.

A national panel's round holds tens of thousands of comments: the page used to list every one (10.9 MB at
20,000 panellists). Each statement card now shows its texts of the current page, the count of all of them and
which pages hold the rest; "page N of M" links (``comments_page``, ``reasons_page``) keep the filters; moderating
or editing a text goes back to the same page, on that text; counts come from SQL, and the page runs the same
number of queries whatever the number of comments.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from html import unescape

from litestar.testing import AsyncTestClient
from sqlalchemy import event, insert
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import Rating
from delphi.domain import CommentStatus
from delphi.results import comments, reasons
from delphi.results.comments import statement_pages
from delphi.settings import Settings
from tests.factories import make_panellists
from tests.results.helpers import (
    FACILITATOR,
    RESEARCHER,
    World,
    build_world,
    csrf_token,
    login,
    post_form,
)

#: Extra panellists who comment on S1 (and give a reason on S2) in round 1, beyond the study's own.
CROWD = 230


async def crowd_world(session: AsyncSession, settings: Settings, crowd: int = CROWD) -> World:
    """The study with round 1 closed and ``crowd`` more service users (Q-0001 …), each with a comment on S1
    (every tenth published, the rest pending) and a pending reason on S2."""
    world = await build_world(session, settings, rounds=1)
    study = world.study
    r1 = study.rounds[1]
    people = await make_panellists(
        session,
        study.panel,
        [study.groups["users"]],
        crowd,
        pseudonym="Q-{n:04d}",
        email="crowd{n}.{panel}@people.example",
    )
    rows = []
    for n, (person, _) in enumerate(people, start=1):
        published = n % 10 == 0
        for key, column in (("S1", "comment"), ("S2", "reason")):
            rows.append(
                {
                    "round_id": r1.id,
                    "statement_id": study.statements[key].id,
                    "panellist_id": person.id,
                    "value": 5,
                    column: f"Crowd {column} {n:04d}",
                    f"{column}_status": CommentStatus.PUBLISHED
                    if published and column == "comment"
                    else CommentStatus.PENDING,
                }
            )
    await session.execute(insert(Rating), rows)
    await session.commit()
    return world


def text_of(html: str) -> str:
    body = re.sub(r"<(script|style|svg)\b.*?</\1>", " ", html, flags=re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", body)).split())


def listed(html: str, what: str) -> list[int]:
    """Rating ids of the ``what`` ("comment" or "reason") items on a page, in page order."""
    return [int(x) for x in re.findall(rf'<li class="comment comment--\w+" id="{what}-(\d+)"', html)]


def section_of(html: str, statement_id: int) -> str:
    start = html.index(f'id="statement-{statement_id}"')
    return html[start : html.index("</section>", start)]


def test_a_statements_texts_span_the_pages_its_rows_fall_on() -> None:
    assert statement_pages({1: 150, 2: 0, 3: 60}, [1, 2, 3], 100) == {1: (1, 2), 3: (2, 3)}
    assert statement_pages({1: 100, 3: 1}, [3, 1], 100) == {3: (1, 1), 1: (1, 2)}
    assert statement_pages({}, [1, 2]) == {}


async def test_facilitators_read_a_large_rounds_comments_100_a_page_under_their_statements(
    session: AsyncSession, client: AsyncTestClient, settings: Settings
) -> None:
    world = await crowd_world(session, settings)
    s1, s4 = world.study.statements["S1"].id, world.study.statements["S4"].id
    base = f"/panels/{world.pid}/rounds/1/results"
    await login(client, FACILITATOR)
    first = (await client.get(base)).text
    assert len(listed(first, "comment")) == 100 and len(listed(first, "reason")) == 100
    page = text_of(first)
    assert "Showing 1–100 of 234: page 1 of 3." in page  # 231 comments on S1, one each on S2, S3, S4
    assert 'aria-label="Pages of comments"' in first and 'aria-label="Pages of reasons"' in first
    assert f'href="{base}?comments_page=2" rel="next"' in first
    card = text_of(section_of(first, s1))
    assert "Comments (231)" in card
    assert "100 of this statement's 231 comments are on this page. They run from page 1 to page 3" in card
    assert "Crowd comment 0099" in card and "Crowd comment 0100" not in card
    # S4's pending comment is on page 3: its card says so and links there, on its comments
    s4_card = section_of(first, s4)
    assert "0 of this statement's 1 comments are on this page." in text_of(s4_card)
    assert f'href="{base}?comments_page=3#comments-{s4}">page 3 of the comments</a>' in s4_card
    # the notices count every pending text of the round, not the page's
    assert f"{CROWD - CROWD // 10 + 1} comments to moderate." in page
    assert f"{CROWD + 1} reasons for ratings outside the middle half to moderate" in page

    last = (await client.get(base + "?comments_page=3")).text
    assert len(listed(last, "comment")) == 34
    assert world.study.comments["pending"] in listed(last, "comment")
    assert "Crowd comment 0230" in last and "Crowd comment 0199" not in last
    assert 'aria-current="page"><span class="visually-hidden">Page </span>3</a>' in last
    assert listed(last, "reason") == listed(first, "reason"), "the reasons stay on their own page 1"

    past = await client.get(base + "?comments_page=4")
    assert past.status_code == 404 and "There is no page 4 of this list: it has 3 pages." in past.text
    assert (await client.get(base + "?reasons_page=0")).status_code == 404


async def test_the_pages_together_list_every_text_of_the_round_once_in_statement_then_pseudonym_order(
    session: AsyncSession, client: AsyncTestClient, settings: Settings
) -> None:
    world = await crowd_world(session, settings)
    r1 = world.study.rounds[1].id
    base = f"/panels/{world.pid}/rounds/1/results"
    await login(client, FACILITATOR)
    pages = [(await client.get(f"{base}?comments_page={n}&reasons_page={n}")).text for n in (1, 2, 3)]
    every_comment = await comments.load_comments(session, r1, published_only=False)
    every_reason = await reasons.load_reasons(session, r1, published_only=False)
    assert [i for html in pages for i in listed(html, "comment")] == [c.rating_id for c in every_comment]
    assert [i for html in pages for i in listed(html, "reason")] == [r.rating_id for r in every_reason]
    assert len(every_reason) > 200 and every_reason[0].statement_id != every_reason[-1].statement_id


async def test_researchers_page_through_published_comments_only(
    session: AsyncSession, client: AsyncTestClient, settings: Settings
) -> None:
    world = await crowd_world(session, settings)
    await login(client, RESEARCHER)
    html = (await client.get(f"/panels/{world.pid}/rounds/1/results")).text
    assert len(listed(html, "comment")) == CROWD // 10 + 2  # 23 of the crowd, the study's two published
    assert 'aria-label="Pages of comments"' not in html  # one page: no navigation
    assert "to moderate" not in html and "/comments/" not in html
    assert "Crowd reason" not in html  # every crowd reason is pending


async def test_the_page_links_keep_the_filters_and_a_filter_narrows_the_comments_listed(
    session: AsyncSession, client: AsyncTestClient, settings: Settings
) -> None:
    world = await crowd_world(session, settings)
    base = f"/panels/{world.pid}/rounds/1/results"
    await login(client, FACILITATOR)
    # S1 is the only statement in consensus: its 231 comments make three pages, the others are left out
    html = (await client.get(base + "?verdict=in&comments_page=3")).text
    assert "Showing 201–231 of 231: page 3 of 3." in text_of(html)
    assert world.study.comments["pending"] not in listed(html, "comment")
    assert f'href="{base}?verdict=in&amp;comments_page=2" rel="prev"' in html
    # the crowd's reasons are on S2, which the filter leaves out
    assert "Crowd reason" not in html and 'aria-label="Pages of reasons"' not in html


async def test_moderating_or_editing_a_text_goes_back_to_its_page_and_filters(
    session: AsyncSession, client: AsyncTestClient, settings: Settings
) -> None:
    world = await crowd_world(session, settings)
    base = f"/panels/{world.pid}/rounds/1/results"
    await login(client, FACILITATOR)
    html = (await client.get(base + "?comments_page=2&flag=divergent")).text
    rating_id = listed(html, "comment")[0]
    item = html[html.index(f'id="comment-{rating_id}"') :]
    assert '<input type="hidden" name="comments_page" value="2">' in item[: item.index("</li>")]
    answer = await post_form(
        client,
        f"/panels/{world.pid}/rounds/1/comments/{rating_id}",
        {"action": "hide", "comments_page": "2", "flag": "divergent", "reasons_page": "-1"},
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == (
        f"{base}?flag=divergent&comments_page=2&moderated={rating_id}#comment-{rating_id}"
    )
    edit = f"/panels/{world.pid}/rounds/1/comments/{rating_id}/edit?flag=divergent&comments_page=2"
    assert f'href="{edit.replace("&", "&amp;")}"' in item
    form = (await client.get(edit)).text
    assert f'href="{base}?flag=divergent&amp;comments_page=2#statement-' in form  # Cancel
    saved = await client.post(
        edit.split("?")[0],
        data={"text": "Crowd comment, edited", "comments_page": "2", "flag": "divergent"}
        | {"_csrf_token": await csrf_token(client)},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    assert saved.headers["location"].endswith(f"comments_page=2&moderated={rating_id}#comment-{rating_id}")
    again = (await client.get(base + "?comments_page=2&flag=divergent")).text
    assert "Crowd comment, edited" in again
    await session.commit()  # end the test's read snapshot
    stored = await session.get(Rating, rating_id)
    assert stored is not None
    await session.refresh(stored)
    assert stored.comment_status == CommentStatus.HIDDEN and stored.comment_edited_at is not None


@contextmanager
def counting_queries() -> Iterator[list[str]]:
    """Every SQL statement any engine runs meanwhile (the app's included)."""
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:
        seen.append(statement)

    event.listen(Engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", record)


async def test_the_results_page_runs_as_many_queries_for_ten_comments_as_for_hundreds(
    session: AsyncSession, client: AsyncTestClient, settings: Settings
) -> None:
    world = await crowd_world(session, settings, crowd=10)
    base = f"/panels/{world.pid}/rounds/1/results"
    await login(client, FACILITATOR)
    await client.get(base)  # warm: the session and caches
    with counting_queries() as few:
        assert (await client.get(base)).status_code == 200
    more = await make_panellists(
        session,
        world.study.panel,
        [world.study.groups["practitioners"]],
        300,
        first=1000,
        pseudonym="R-{n:04d}",
    )
    await session.execute(
        insert(Rating),
        [
            {
                "round_id": world.study.rounds[1].id,
                "statement_id": world.study.statements["S3"].id,
                "panellist_id": p.id,
                "value": 2,
                "comment": "More",
            }
            for p, _ in more
        ],
    )
    await session.commit()
    with counting_queries() as many:
        html = (await client.get(base)).text
    assert "Showing 1–100 of 314: page 1 of 4." in text_of(html)
    assert len(many) == len(few), "no query per panellist, comment or reason"
