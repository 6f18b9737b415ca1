"""From round 2: last round's distribution, the reader's own rating, plain words, groups under k hidden,
published comments only, rewordings traced to their parent, and the reason prompt outside the IQR."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import Panellist, Round, Statement
from tests.factories import (
    add_rating,
    add_result,
    make_groups,
    make_panel,
    make_panellist,
    make_round,
    make_statements,
)
from tests.panellist.conftest import enter, form_token

POOLED = [0, 0, 1, 1, 1, 3, 6, 5, 3]  # n 20: 14 rate 7-9 (70%), quartiles 6 and 8, median 7
USERS = [0, 0, 1, 1, 1, 2, 4, 4, 3]  # n 16
PRACTITIONERS = [0, 0, 0, 0, 0, 1, 1, 0, 0]  # n 2: under k = 3


@dataclass
class Round2:
    token: str
    me: Panellist
    kept: Statement
    reworded: Statement
    parent: Statement
    new: Statement
    round1: Round
    round2: Round


@pytest.fixture
async def round2(session: AsyncSession) -> Round2:
    panel = await make_panel(session, ask_reason_outside_iqr=True, k_min=3)
    users, practitioners = await make_groups(session, panel)
    kept, parent, third = await make_statements(session, panel, (("Information", 3),))
    me, token = await make_panellist(session, panel, users, 1, consented=True)
    other, _ = await make_panellist(session, panel, practitioners, 2, consented=True)
    r1 = await make_round(session, panel, [kept, parent, third], 1, status="closed")
    await add_result(session, r1, kept, POOLED)
    await add_result(session, r1, kept, USERS, group=users)
    await add_result(session, r1, kept, PRACTITIONERS, group=practitioners)
    await add_result(session, r1, parent, [0, 0, 0, 0, 2, 2, 1, 0, 0])
    await add_rating(session, r1, kept, me, 7)
    await add_rating(session, r1, parent, me, None, unable=True)
    await add_rating(
        session, r1, kept, other, 8, comment="Plain words help everyone.", comment_status="published"
    )
    await add_rating(session, r1, parent, other, 5, comment="Names a person: Dr X.", comment_status="pending")
    reworded = Statement(
        panel_id=panel.id,
        section="Information",
        text="Reworded: clear leaflets",
        parent_id=parent.id,
        version=2,
    )
    new = Statement(
        panel_id=panel.id, section="Information", text="A panellist's new idea", origin="panellist"
    )
    session.add_all([reworded, new])
    await session.flush()
    r2 = await make_round(session, panel, [kept, reworded, new], 2)
    await session.commit()
    return Round2(token, me, kept, reworded, parent, new, r1, r2)


async def test_round_two_shows_last_rounds_result_in_plain_words_and_a_chart(client, round2) -> None:
    await enter(client, round2.token)
    page = await client.get("/panel/rate?page=1")
    assert page.status_code == 200
    html = page.text
    assert "What the panel said in round 1" in html
    assert "14 of 20 people (70%) rated this 7–9." in html
    assert "The middle half of the ratings lay between 6 and 8." in html
    assert "Your rating in round 1 was 7." in html
    assert f'aria-labelledby="fb-{round2.kept.id}-all-title fb-{round2.kept.id}-all-desc"' in html
    assert "chart-bar--own" in html and "Your rating: 7." in html
    assert "Service users" in html and "16 people" in html
    # the group of 2 is hidden without a number (it used to read "Fewer than 3 people in this group rated it")
    assert "answers are not shown, so that nobody" in html
    assert "Fewer than 3 people" not in html
    assert "Plain words help everyone." in html
    assert "Dr X" not in html
    assert ' style="' not in html


async def test_a_rewording_shows_the_parents_result_and_old_wording(client, round2) -> None:
    await enter(client, round2.token)
    html = (await client.get("/panel/rate?page=1")).text
    assert "Last round this statement was worded:" in html and "Information statement 2" in html
    assert "In round 1 you chose “Unable to rate”." in html
    assert f'id="fb-{round2.reworded.id}-h"' in html
    assert f'id="fb-{round2.new.id}-h"' not in html  # never asked before: no feedback


async def test_the_reason_prompt_follows_last_rounds_iqr(client, round2) -> None:
    await enter(client, round2.token)
    html = (await client.get("/panel/rate?page=1")).text
    kept = round2.kept.id
    assert 'data-q1="6.0" data-q3="8.0"' in html
    assert f'<textarea id="r{kept}" name="r{kept}"' in html
    assert "If your rating is below 6 or above 8, please tell us why (optional)" in html
    assert f'name="r{round2.new.id}"' not in html
    token = await form_token(client, "/panel/rate?page=1")
    headers = {"x-csrftoken": token}
    inside = await client.post(f"/panel/ratings/{kept}", json={"answer": 7}, headers=headers)
    assert inside.json()["outside_iqr"] is False
    outside = await client.post(
        f"/panel/ratings/{kept}", json={"answer": 3, "reason": "It worked for me."}, headers=headers
    )
    assert outside.status_code == 200 and outside.json()["outside_iqr"] is True
    again = (await client.get("/panel/rate?page=1")).text
    assert "It worked for me." in again


async def test_round_one_shows_no_feedback(client, consented_world) -> None:
    await enter(client, consented_world.token)
    html = (await client.get("/panel/rate?page=1")).text
    assert "What the panel said" not in html and "<svg" not in html


async def test_a_half_percent_rounds_up_for_panellists_as_on_the_results_pages(client, session) -> None:
    """5 of 8 is 62.5%, shown "63%" (halves up, :func:`delphi.formatting.round_half_up`), as facilitators see it."""
    panel = await make_panel(session, k_min=3)
    (users,) = await make_groups(session, panel, ("Service users",))
    (st,) = await make_statements(session, panel, (("Information", 1),))
    _me, token = await make_panellist(session, panel, users, 1, consented=True)
    r1 = await make_round(session, panel, [st], 1, status="closed")
    await add_result(session, r1, st, [0, 0, 0, 1, 1, 1, 2, 2, 1])  # n 8, 5 rate 7-9
    await make_round(session, panel, [st], 2)
    await session.commit()
    await enter(client, token)
    html = (await client.get("/panel/rate?page=1")).text
    assert "5 of 8 people (63%) rated this 7–9." in html
