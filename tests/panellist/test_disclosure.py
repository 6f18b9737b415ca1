"""Disclosure control on what panellists are shown: the rating page, the final results page and the e-mails.

Issue 11, finding 2: with groups of 4, 4 and 1 and k = 3, the group of 1 was hidden on the rating page, but the
pooled chart minus the two charts of 4 gave that person's rating for every statement, and the sentences gave
away that the group had one member.  These tests read the figures off the rendered pages, as anyone could, and
subtract them.  The rule is cell suppression with complementary suppression (Hundepool et al., *Statistical
Disclosure Control*, Wiley 2012, ch. 4); k = 3 is the panels' default (``Panel.k_min``).
"""

from __future__ import annotations

import html as html_lib
import re
from dataclasses import dataclass

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import (
    OutboxMessage,
    Panel,
    Panellist,
    Round,
    RoundStatement,
    StakeholderGroup,
    Statement,
)
from delphi.rounds import mailing
from tests.factories import (
    COMET,
    add_rating,
    add_result,
    make_groups,
    make_panel,
    make_panellist,
    make_round,
    make_statements,
)
from tests.panellist.conftest import enter

K = 3
USERS = [0, 0, 0, 0, 0, 1, 1, 1, 1]  # 4 people: 6, 7, 8, 9
PRACTITIONERS = [0, 0, 1, 1, 0, 0, 1, 1, 0]  # 4 people: 3, 4, 7, 8
EXPERT_RATINGS = [2, 5, 9]  # the one expert's rating of each statement


def one_hot(value: int) -> list[int]:
    return [1 if point == value else 0 for point in range(1, 10)]


def add(*counts: list[int]) -> list[int]:
    return [sum(c) for c in zip(*counts, strict=True)]


@dataclass
class SmallGroupPanel:
    panel: Panel
    token: str
    groups: list[StakeholderGroup]
    statements: list[Statement]
    round1: Round
    round2: Round
    me: Panellist


async def small_group_panel(session: AsyncSession, *, round2_status: str = "open") -> SmallGroupPanel:
    """Round 1 closed with groups of 4 (service users), 4 (practitioners) and 1 (experts); k = 3."""
    panel = await make_panel(session, k_min=K)
    groups = await make_groups(session, panel, ("Service users", "Practitioners", "Experts"))
    statements = await make_statements(session, panel, (("Information", len(EXPERT_RATINGS)),))
    me, token = await make_panellist(session, panel, groups[0], 1, consented=True)
    r1 = await make_round(session, panel, statements, 1, status="closed")
    for st, expert in zip(statements, EXPERT_RATINGS, strict=True):
        hidden = one_hot(expert)
        await add_result(session, r1, st, add(USERS, PRACTITIONERS, hidden))
        await add_result(session, r1, st, USERS, group=groups[0])
        await add_result(session, r1, st, PRACTITIONERS, group=groups[1])
        await add_result(session, r1, st, hidden, group=groups[2])
        await add_rating(session, r1, st, me, 7)
    r2 = await make_round(session, panel, statements, 2, status=round2_status)
    await session.commit()
    return SmallGroupPanel(panel, token, groups, statements, r1, r2, me)


# --- reading figures off a page, as an attacker would --------------------------------------------------------

POINT = re.compile(r"(\d+): (\d+) (?:person|people)\.")
DESC = re.compile(r'<desc id="([^"]+)-desc">([^<]*)</desc>')
OF_PEOPLE = re.compile(r"of (\d+) (?:person|people) \(")


def charts(page: str) -> dict[str, list[int]]:
    """Every chart's counts per scale point, by chart id, from its text alternative."""
    out = {}
    for chart_id, desc in DESC.findall(page):
        points = POINT.findall(html_lib.unescape(desc))
        out[chart_id] = [int(count) for _, count in points]
    return out


def group_blocks(page: str) -> list[str]:
    return re.findall(
        r'<div class="group-result">(.*?)</div>\s*(?=<div class="group-result">|</details>)', page, re.S
    )


def subtract(total: list[int], *parts: list[int]) -> list[int]:
    return [t - sum(p[i] for p in parts) for i, t in enumerate(total)]


async def test_pooled_minus_the_groups_shown_never_gives_fewer_than_k_ratings_on_the_rating_page(
    client, session
) -> None:
    w = await small_group_panel(session)
    await enter(client, w.token)
    page = (await client.get("/panel/rate?page=1")).text
    found = charts(page)
    for st in w.statements:
        pooled = found[f"fb-{st.id}-all"]
        assert sum(pooled) == 9
        shown = [found[f"fb-{st.id}-g{g.id}"] for g in w.groups if f"fb-{st.id}-g{g.id}" in found]
        left = subtract(pooled, *shown)
        # before the fix: shown were both groups of 4 and `left` was the expert's rating, one-hot
        assert sum(left) == 0 or sum(left) >= K, (st.text, left)
        assert len(shown) == 1  # the expert and one group of 4 are hidden; the other group of 4 is shown


async def test_a_hidden_group_is_named_without_any_number(client, session) -> None:
    w = await small_group_panel(session)
    await enter(client, w.token)
    page = (await client.get("/panel/rate?page=1")).text
    blocks = group_blocks(page)
    assert len(blocks) == 3 * len(w.statements)
    hidden = [b for b in blocks if "<svg" not in b]
    assert len(hidden) == 2 * len(w.statements)
    for block in hidden:
        text = re.sub(r"<[^>]+>", " ", block)
        assert "answers are not shown" in text
        assert not re.search(r"\d", text), text  # no size, not even "fewer than 3"
    # the sentences' group sizes add up to 0 or >= k short of the pooled size
    pooled_sizes = [int(n) for n in OF_PEOPLE.findall(page.split('<details class="groups">')[0])]
    assert pooled_sizes == [9]
    for st_index in range(len(w.statements)):
        section = page.split('<details class="groups">')[st_index + 1].split("</details>")[0]
        sizes = [int(n) for n in OF_PEOPLE.findall(section)]
        assert sizes == [4]
        assert 9 - sum(sizes) >= K


async def test_a_statement_fewer_than_k_rated_shows_no_figures_at_all(client, session) -> None:
    panel = await make_panel(session, k_min=K)
    users, practitioners = await make_groups(session, panel)
    (st,) = await make_statements(session, panel, (("Information", 1),))
    me, token = await make_panellist(session, panel, users, 1, consented=True)
    r1 = await make_round(session, panel, [st], 1, status="closed")
    await add_result(session, r1, st, one_hot(7), n_unable=3)
    await add_result(session, r1, st, one_hot(7), group=users)
    await add_result(session, r1, st, [0] * 9, group=practitioners, n_unable=3)
    await add_rating(session, r1, st, me, 7, comment="Only two of us rated this.", comment_status="published")
    await make_round(session, panel, [st], 2)
    await session.commit()
    await enter(client, token)
    page = (await client.get("/panel/rate?page=1")).text
    assert "Too few people answered to show results." in page
    assert "Your rating in round 1 was 7." in page
    assert "<svg" not in page and "rated this 7–9" not in page and "unable to rate it" not in page
    assert "Only two of us" not in page and "See how each group rated it" not in page
    assert 'data-q1="' not in page  # no quartiles either


async def test_saving_a_rating_answers_no_quartile_comparison_for_a_withheld_statement(
    client, session
) -> None:
    panel = await make_panel(session, k_min=K, ask_reason_outside_iqr=True)
    (users,) = await make_groups(session, panel, ("Everyone",))
    (st,) = await make_statements(session, panel, (("Information", 1),))
    _me, token = await make_panellist(session, panel, users, 1, consented=True)
    r1 = await make_round(session, panel, [st], 1, status="closed")
    await add_result(session, r1, st, add(one_hot(7), one_hot(8)))  # 2 people: quartiles 7.25 and 7.75
    await add_result(session, r1, st, add(one_hot(7), one_hot(8)), group=users)
    await make_round(session, panel, [st], 2)
    await session.commit()
    await enter(client, token)
    page = await client.get("/panel/rate?page=1")
    token_ = page.text.split('name="_csrf_token" value="')[1].split('"')[0]
    saved = await client.post(f"/panel/ratings/{st.id}", json={"answer": 1}, headers={"x-csrftoken": token_})
    assert saved.status_code == 200
    # outside_iqr True would say the two raters' middle half excludes 1
    assert saved.json()["outside_iqr"] is False


# --- the final results page ----------------------------------------------------------------------------------


async def set_verdict(session: AsyncSession, round_id: int, statement_id: int, verdict: str) -> None:
    row = await session.scalar(
        select(RoundStatement).where(
            RoundStatement.round_id == round_id, RoundStatement.statement_id == statement_id
        )
    )
    assert row is not None
    row.verdict = verdict


async def finished_panel(session: AsyncSession, scope: str = "pooled"):  # type: ignore[no-untyped-def]
    """One closed round; groups of 4, 4 and 1; statement a rated by all 9 (in), b by 2 (in: both 7-9)."""
    panel = await make_panel(session, k_min=K)
    panel.rule = {**COMET, "scope": scope}
    groups = await make_groups(session, panel, ("Service users", "Practitioners", "Experts"))
    a, b = await make_statements(session, panel, (("Information", 2),))
    me, token = await make_panellist(session, panel, groups[0], 1, consented=True)
    r1 = await make_round(session, panel, [a, b], 1, status="closed")
    for st, parts, verdict in (
        (a, (add(one_hot(8), one_hot(8), one_hot(9), one_hot(7)), USERS, one_hot(8)), "in"),
        (b, (one_hot(8), [0] * 9, one_hot(9)), "in"),
    ):
        await add_result(session, r1, st, add(*parts), verdict=verdict)
        for g, counts in zip(groups, parts, strict=True):
            await add_result(session, r1, st, counts, group=g, verdict=verdict)
        await set_verdict(session, r1.id, st.id, verdict)
    panel.status = "finished"
    await session.commit()
    return panel, token, me, (a, b)


async def test_the_final_results_page_withholds_figures_and_decisions_fewer_than_k_stand_behind(
    client, session
) -> None:
    _panel, token, _me, (a, b) = await finished_panel(session)
    await enter(client, token)
    page = (await client.get("/panel/results")).text
    a_block = page.split(f'id="result-{a.id}"')[1].split("</li>")[0]
    b_block = page.split(f'id="result-{b.id}"')[1].split("</li>")[0]
    assert "9 people rated it in round 1" in a_block and "<svg" in a_block
    # before the fix: "2 people rated it in round 1", a chart with both ratings, and "agreed to keep"
    assert "Too few people answered to show results." in b_block
    assert "<svg" not in b_block and "rated it" not in b_block and "Agreed" not in b_block
    assert "The panel agreed to keep 1 statement." in page
    assert "1 statement had too few answers to show its result." in page
    kept = page.split('id="agreed-in"')[1].split("<h2")[0]
    assert "Information statement 1" in kept and "Information statement 2" not in kept
    assert page.index("Information statement 2") > page.index('id="not-shown"')


async def test_a_per_group_rule_withholds_the_decision_when_a_group_is_small(client, session) -> None:
    # "every group agreed" with a group of one says how that person rated
    _panel, token, _me, (a, _b) = await finished_panel(session, scope="every_group")
    await enter(client, token)
    page = (await client.get("/panel/results")).text
    a_block = page.split(f'id="result-{a.id}"')[1].split("</li>")[0]
    assert "decision is not shown, because too few people in a group answered" in a_block
    assert "9 people rated it in round 1" in a_block  # the pooled figures stay: 9 people
    assert "The panel agreed to keep 0 statements." in page


# --- e-mails -------------------------------------------------------------------------------------------------


async def mails(session: AsyncSession, kind: str) -> list[OutboxMessage]:
    return list((await session.scalars(select(OutboxMessage).where(OutboxMessage.kind == kind))).all())


async def test_the_round_open_mail_counts_only_decisions_panellists_may_see(session) -> None:
    panel = await make_panel(session, k_min=K)
    (everyone,) = await make_groups(session, panel, ("Everyone",))
    a, b = await make_statements(session, panel, (("Information", 2),))
    me, _ = await make_panellist(session, panel, everyone, 1, consented=True)
    r1 = await make_round(session, panel, [a, b], 1, status="closed")
    await add_result(session, r1, a, [0, 0, 0, 0, 0, 1, 4, 3, 1], verdict="none")
    await add_result(session, r1, a, [0, 0, 0, 0, 0, 1, 4, 3, 1], group=everyone, verdict="none")
    await add_result(session, r1, b, add(one_hot(8), one_hot(9)), verdict="in")
    await add_result(session, r1, b, add(one_hot(8), one_hot(9)), group=everyone, verdict="in")
    await set_verdict(session, r1.id, a.id, "none")
    await set_verdict(session, r1.id, b.id, "in")
    r2 = await make_round(session, panel, [a, b], 2)
    assert await mailing.round_opened(session, panel, r2, [me]) == 1
    (mail,) = await mails(session, "round_open")
    # before the fix: "agreed on 1 of 2", the 1 being the statement two people rated 8 and 9
    assert "In round 1 the panel agreed on 0 of 1 recommendation." in mail.body_text
    assert "For 1 more, too few people answered to show a result." in mail.body_text
    assert "For 1 more, too few people answered to show a result." in mail.body_html


async def test_the_final_results_mail_lists_what_the_results_page_lists(session) -> None:
    panel, _token, me, (a, b) = await finished_panel(session)
    assert await mailing.final_results(session, panel, [me]) == 1
    (mail,) = await mails(session, "final_results")
    assert a.text in mail.body_text and a.text in mail.body_html
    assert b.text not in mail.body_text and b.text not in mail.body_html  # two people's "in" stays unsaid
    assert "agreed on 1 recommendation" in mail.body_text


@pytest.mark.parametrize("scope", ["every_group", "balanced"])
async def test_the_final_results_mail_follows_the_per_group_rule_too(session, scope) -> None:
    panel, _token, me, (a, b) = await finished_panel(session, scope=scope)
    await mailing.final_results(session, panel, [me])
    (mail,) = await mails(session, "final_results")
    assert a.text not in mail.body_text and b.text not in mail.body_text
