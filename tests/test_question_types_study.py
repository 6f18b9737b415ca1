"""One study using every question type, driven through the app's HTTP pages by a facilitator and seven panellists,
with the invitations delivered to a real SMTP server (aiosmtpd, :mod:`tests.smtp`).

The study: groups Service users (4) and Practitioners (3), k = 3; two baseline questions (one choice, a number);
round 1 an open round with two open questions; round 2 two statements drafted from the themed answers and a
ranking question; round 3 asks both again (no consensus) with the feedback; closing round 3 (``max_rounds`` 3)
finishes the panel.  Then the report, the exports and the open data package are read.
"""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from contextlib import AsyncExitStack
from datetime import timedelta
from pathlib import Path

import frictionless
import httpx
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from delphi.app import create_app
from delphi.db.engine import make_sessionmaker
from delphi.db.models import (
    BaselineQuestion,
    IdeaAnswer,
    OpenQuestion,
    Panel,
    Panellist,
    RankingItem,
    RankingQuestion,
    Round,
    RoundRanking,
    RoundStatement,
    Statement,
    utcnow,
)
from delphi.settings import Settings
from delphi.worker import tick
from tests.helpers import csrf_from, login, make_account, post_form
from tests.smtp import SmtpSink

LINK_RE = re.compile(r"http://testserver\.local/p/([A-Za-z0-9_-]{43})\b")
EMAIL_RE = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")

PANEL_FORM = {
    "title": "Drug treatment: what to change first",
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
#: The panellists by group, in import order: four service users, three practitioners (k = 3 in each).
USERS = [f"user{i}@people.example" for i in range(4)]
PRACTITIONERS = [f"prac{i}@people.example" for i in range(3)]
EVERYONE = USERS + PRACTITIONERS
#: Baseline answers: (choice index of "Years in drug services", age), None: the panellist skips the page.
BASELINE = {
    "user0@people.example": ("c0", "30"),
    "user1@people.example": ("c0", "40"),
    "user2@people.example": ("c1", "50"),
    "user3@people.example": None,
    "prac0@people.example": ("c1", "35"),
    "prac1@people.example": ("c1", "45"),
    "prac2@people.example": ("c1", "55"),
}
QUESTIONS = ("What would make drug treatment better?", "What gets in the way of treatment?")
ITEMS = ("Peer support", "Shorter waits", "Evening hours")
STATEMENT_PEER = "Offer peer support at every service."
STATEMENT_WAIT = "See new people within a week."
#: Round-2 ratings (peer, wait) per panellist in EVERYONE's order: neither reaches consensus, so both go on.
RATINGS = [(9, 5), (2, 5), (5, 6), (8, 4), (3, 5), (6, 5), (4, 6)]
#: Round-2 rankings (ranks of ITEMS): the service users mostly put peer support first, the practitioners waits.
RANKS = [(1, 2, 3), (1, 3, 2), (2, 1, 3), (1, 2, 3), (3, 1, 2), (2, 1, 3), (3, 2, 1)]


def rows_of(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))


async def schedule_and_open(client: AsyncTestClient, base: str, number: int) -> None:
    closes = (utcnow() + timedelta(days=10)).strftime("%Y-%m-%dT%H:%M")
    page = f"{base}/rounds/{number}"
    r = await post_form(client, f"{page}/schedule", {"closes_at": closes, "reminders": ""}, token_page=page)
    assert r.status_code == 200, r.text
    r = await post_form(client, f"{page}/open", {"confirm": "1"}, token_page=page)
    assert r.status_code == 200, r.text


async def close(client: AsyncTestClient, base: str, number: int) -> None:
    page = f"{base}/rounds/{number}"
    r = await post_form(client, f"{page}/close", {"confirm": "1"}, token_page=page)
    assert r.status_code == 200, r.text


async def send(visitor: AsyncTestClient, path: str, data: dict[str, str]) -> httpx.Response:
    """Post ``data`` to ``path`` with the CSRF token of the panellist's page; the response (redirects followed)."""
    token = csrf_from((await visitor.get("/panel/review")).text)
    return await visitor.post(path, data={**data, "_csrf_token": token})


async def submit(visitor: AsyncTestClient) -> None:
    token = csrf_from((await visitor.get("/panel/review")).text)
    sent = await visitor.post("/panel/submit", data={"_csrf_token": token}, follow_redirects=False)
    assert sent.status_code == 303 and sent.headers["location"] == "/panel/done", sent.text


async def test_a_study_with_an_open_round_baseline_rankings_and_ratings_end_to_end(
    app: Litestar,
    client: AsyncTestClient,
    engine: AsyncEngine,
    settings: Settings,
    smtp_sink: SmtpSink,
    tmp_path: Path,
) -> None:
    mail_settings = smtp_sink.settings_for(settings)
    maker = make_sessionmaker(engine)
    await make_account(engine, "fac@example.org")
    await login(client, "fac@example.org")

    # --- the facilitator sets the panel up -------------------------------------------------------------------
    r = await post_form(client, "/panels", PANEL_FORM, token_page="/panels/new", follow_redirects=False)
    assert r.status_code == 303, r.text
    base = r.headers["location"]
    for name in ("Service users", "Practitioners"):
        r = await post_form(client, f"{base}/groups", {"name": name}, token_page=f"{base}/groups")
        assert r.status_code == 200, r.text
    for form in (
        {"kind": "single", "text": "Years in drug services", "choices": "Under 5\n5 or more"},
        {"kind": "number", "text": "Age", "unit": "years"},
    ):
        r = await post_form(client, f"{base}/baseline", form, follow_redirects=False)
        assert r.status_code == 303, r.text
    r = await post_form(
        client, f"{base}/open-questions/kind", {"kind": "open"}, token_page=f"{base}/open-questions"
    )
    assert r.status_code == 200, r.text
    for text in QUESTIONS:
        r = await post_form(client, f"{base}/open-questions", {"text": text, "hint": ""})
        assert r.status_code == 200 and text in r.text, r.text
    csv_text = "email,group,name\n" + "\n".join(
        [f"{e},Service users,Person {e[:5]}" for e in USERS]
        + [f"{e},Practitioners,Person {e[:5]}" for e in PRACTITIONERS]
    )
    r = await post_form(
        client,
        f"{base}/panellists/import",
        {"csv_text": csv_text, "confirm": "1"},
        token_page=f"{base}/panellists",
    )
    assert r.status_code == 200 and "user0@people.example" in r.text, r.text
    async with maker() as s:
        panel = await s.scalar(select(Panel))
        assert panel is not None and panel.contact_email == "research-team@university.example"
        round1 = await s.scalar(select(Round).where(Round.number == 1))
        assert round1 is not None and round1.kind == "open"
        questions = (await s.scalars(select(OpenQuestion).order_by(OpenQuestion.position))).all()
        baseline_qs = (await s.scalars(select(BaselineQuestion).order_by(BaselineQuestion.position))).all()
        pseudonym = {p.email: p.pseudonym for p in (await s.scalars(select(Panellist))).all()}
    assert [q.text for q in questions] == list(QUESTIONS)
    single, age = baseline_qs

    # --- round 1 opens: one invitation each, with a working link ---------------------------------------------
    await schedule_and_open(client, base, 1)
    await tick(mail_settings, engine)
    invitations = await smtp_sink.wait_for(len(EVERYONE))
    tokens = {}
    for message in invitations:
        (token,) = set(LINK_RE.findall(message.message.get_body(("plain",)).get_content()))
        tokens[message.rcpt_tos[0]] = token
    assert sorted(tokens) == sorted(EVERYONE)

    async with AsyncExitStack() as stack:
        visitors: dict[str, AsyncTestClient] = {}
        for email in EVERYONE:
            visitor = await stack.enter_async_context(
                AsyncTestClient(app=create_app(settings), base_url="http://testserver.local")
            )
            landing = await visitor.get(f"/p/{tokens[email]}", follow_redirects=False)
            assert landing.status_code == 303 and landing.headers["location"] == "/panel"
            visitors[email] = visitor

        # Each panellist consents, answers "About you" (one skips it) and the two open questions, and submits.
        for n, email in enumerate(EVERYONE):
            v = visitors[email]
            token = csrf_from((await v.get("/panel/consent")).text)
            after = await v.post(
                "/panel/consent", data={"consent": "yes", "_csrf_token": token}, follow_redirects=False
            )
            assert after.headers["location"] == "/panel/about-you"
            token = csrf_from((await v.get("/panel/about-you")).text)
            answer = BASELINE[email]
            form = (
                {"action": "skip"}
                if answer is None
                else {f"q{single.id}": answer[0], f"q{age.id}": answer[1], "action": "save"}
            )
            done = await v.post(
                "/panel/about-you", data={**form, "_csrf_token": token}, follow_redirects=False
            )
            assert done.status_code == 303, done.text
            home = await v.get("/panel")
            assert home.status_code == 200 and "Round 1 asks a few open questions" in home.text
            token = csrf_from((await v.get("/panel/ideas")).text)
            saved = await v.post(
                "/panel/ideas",
                data={
                    "_csrf_token": token,
                    f"a{questions[0].id}-1": f"Peer support from someone who has been there ({n})",
                    f"a{questions[1].id}-1": f"Long waits for a first appointment ({n})",
                    "action": "save",
                },
                follow_redirects=False,
            )
            assert saved.status_code == 303, saved.text
            await submit(v)

        # --- round 1 closes: round 2 is drafted with nothing in it, the panel goes on ------------------------
        await close(client, base, 1)
        async with maker() as s:
            round2 = await s.scalar(select(Round).where(Round.number == 2))
            assert round2 is not None and round2.status == "draft"
            assert (
                await s.scalars(select(RoundStatement).where(RoundStatement.round_id == round2.id))
            ).all() == []
            assert (await s.scalar(select(Panel))).status == "running"  # type: ignore[union-attr]
            answers = (await s.scalars(select(IdeaAnswer).order_by(IdeaAnswer.id))).all()
        assert len(answers) == 2 * len(EVERYONE)

        # The facilitator themes the answers and drafts a statement from each theme, then adds a ranking question.
        page = f"{base}/rounds/1/answers"
        by_question = {q.id: [a.id for a in answers if a.question_id == q.id] for q in questions}
        for qid, theme in zip(by_question, ("peer support", "waiting"), strict=True):
            r = await post_form(
                client,
                page,
                {"answer": [str(i) for i in by_question[qid]], "theme": theme, "action": "theme"},
            )
            assert r.status_code == 200 and f"{theme} ({len(EVERYONE)})" in r.text, r.text
        for theme, text in (("peer support", STATEMENT_PEER), ("waiting", STATEMENT_WAIT)):
            r = await post_form(
                client, page, {"from_theme": theme, "text": text, "section": "", "action": "statement"}
            )
            assert r.status_code == 200 and "Draft statement made" in r.text, r.text
        r = await post_form(
            client,
            f"{base}/rankings",
            {"text": "Put these changes in order of priority", "items": "\n".join(ITEMS)},
            follow_redirects=False,
        )
        assert r.status_code == 303, r.text
        async with maker() as s:
            in_round2 = (
                await s.scalars(
                    select(Statement.text)
                    .join(RoundStatement, RoundStatement.statement_id == Statement.id)
                    .where(RoundStatement.round_id == round2.id)
                    .order_by(RoundStatement.position)
                )
            ).all()
            ranking = await s.scalar(select(RankingQuestion))
            assert ranking is not None
            asked = await s.scalar(select(RoundRanking).where(RoundRanking.round_id == round2.id))
            items = (
                await s.scalars(
                    select(RankingItem)
                    .where(RankingItem.question_id == ranking.id)
                    .order_by(RankingItem.position)
                )
            ).all()
            statement_ids = {st.text: st.id for st in (await s.scalars(select(Statement))).all()}
        assert list(in_round2) == [STATEMENT_PEER, STATEMENT_WAIT]
        assert asked is not None and [i.text for i in items] == list(ITEMS)

        # --- round 2: everyone rates both statements and ranks the three items --------------------------------
        await schedule_and_open(client, base, 2)
        peer, wait = statement_ids[STATEMENT_PEER], statement_ids[STATEMENT_WAIT]
        for email, (a, b), ranks in zip(EVERYONE, RATINGS, RANKS, strict=True):
            v = visitors[email]
            rated = await send(
                v, "/panel/rate?page=1", {f"s{peer}": str(a), f"s{wait}": str(b), "action": "review"}
            )
            assert rated.status_code == 200, rated.text
            ranked = await send(
                v,
                f"/panel/rank/{ranking.id}",
                {f"i{item.id}": str(rank) for item, rank in zip(items, ranks, strict=True)},
            )
            assert ranked.status_code == 200, ranked.text
            await submit(v)
        await close(client, base, 2)
        async with maker() as s:
            round3 = await s.scalar(select(Round).where(Round.number == 3))
            assert round3 is not None
            carried = (
                await s.scalars(
                    select(RoundStatement.statement_id).where(RoundStatement.round_id == round3.id)
                )
            ).all()
            ranked_again = await s.scalar(select(RoundRanking).where(RoundRanking.round_id == round3.id))
        assert sorted(carried) == sorted([peer, wait]) and ranked_again is not None

        # --- round 3 shows each panellist the group's order and the ratings' feedback -------------------------
        await schedule_and_open(client, base, 3)
        # Mean ranks of RANKS by hand: everyone (13, 12, 17) / 7, the service users (5, 8, 11) / 4, the
        # practitioners (8, 4, 6) / 3; both groups reach k = 3, so each group's order is shown.
        pooled_order = (
            "<li>1st: Shorter waits (average rank 1.71)</li><li>2nd: Peer support (average rank 1.86)</li>"
            "<li>3rd: Evening hours (average rank 2.43)</li>"
        )
        users_order = (
            "<h4>Service users</h4>",
            "<li>1st: Peer support (average rank 1.25)</li><li>2nd: Shorter waits (average rank 2)</li>"
            "<li>3rd: Evening hours (average rank 2.75)</li>",
        )
        practitioners_order = (
            "<h4>Practitioners</h4>",
            "<li>1st: Shorter waits (average rank 1.33)</li><li>2nd: Evening hours (average rank 2)</li>"
            "<li>3rd: Peer support (average rank 2.67)</li>",
        )
        for email, (a, b), ranks in zip(EVERYONE, RATINGS, RANKS, strict=True):
            v = visitors[email]
            rank_page = (await v.get(f"/panel/rank/{ranking.id}")).text
            assert (
                "What the panel said in round 2" in rank_page
                and "7 people put these items in order." in rank_page
            )
            assert pooled_order in rank_page.split("The panel's order, by average rank")[1].split("</ul>")[0]
            own = rank_page.split("Your order in round 2")[1].split("</ul>")[0]
            places = sorted(zip(ranks, ITEMS, strict=True))
            assert (
                "".join(
                    f"<li>{o}: {item}</li>"
                    for o, (_, item) in zip(("1st", "2nd", "3rd"), places, strict=True)
                )
                in own
            )
            groups = rank_page.split("See each group's order")[1].split("</details>")[0]
            for heading, order in (users_order, practitioners_order):
                assert order in groups.split(heading)[1].split("</ul>")[0]
            # Rating feedback, quartiles by numpy's default (linear, Hyndman & Fan 1996 type 7): peer support
            # 2 3 4 5 6 8 9 -> 3.5 and 7, waits 4 5 5 5 5 6 6 -> 5 and 5.5; each sees their own rating.
            rate_page = (await v.get("/panel/rate")).text
            assert rate_page.count("What the panel said in round 2") == 2
            assert "The middle half of the ratings lay between 3.5 and 7." in rate_page
            assert "The middle half of the ratings lay between 5 and 5.5." in rate_page
            assert (
                f"Your rating in round 2 was {a}." in rate_page
                and f"Your rating in round 2 was {b}." in rate_page
            )
        for email, (a, b), ranks in zip(EVERYONE[:5], RATINGS, RANKS, strict=False):
            v = visitors[email]
            rated = await send(
                v, "/panel/rate?page=1", {f"s{peer}": str(a), f"s{wait}": str(b), "action": "review"}
            )
            assert rated.status_code == 200, rated.text
            ranked = await send(
                v,
                f"/panel/rank/{ranking.id}",
                {f"i{item.id}": str(rank) for item, rank in zip(items, ranks, strict=True)},
            )
            assert ranked.status_code == 200, ranked.text
            await submit(v)
        await close(client, base, 3)  # two panellists never answer round 3
    async with maker() as s:
        assert (await s.scalar(select(Panel))).status == "finished"  # type: ignore[union-attr]

    # --- the report: provenance, participant table with suppression, ranking section -------------------------
    report = await client.get(f"{base}/report")
    assert report.status_code == 200
    html = report.text
    provenance = html[html.index('id="provenance"') :]
    assert STATEMENT_PEER in provenance and f"Made from {len(EVERYONE)} answer(s)" in provenance
    assert "Peer support from someone who has been there (0)" in provenance
    assert f"({pseudonym['user0@people.example']}, theme peer support)" in provenance
    start = html.index('id="characteristics"')
    table = html[start : html.index("</table>", start)]
    # k = 3.  "Years in drug services": Under 5 (2, 0), 5 or more (1, 3), not answered (1, 0); only the total 4
    # of "5 or more" may be shown (the practitioners' 3 would give the service users' 1 away).
    assert (
        '<th scope="row">5 or more</th><td class="num">–</td><td class="num">–</td><td class="num">4</td>'
        in table
    )
    assert (
        '<th scope="row">Under 5</th><td class="num">–</td><td class="num">–</td><td class="num">–</td>'
        in table
    )
    # Age: the service users' "Answered" 3 is hidden to protect the 1 who skipped, so their n (and the total's)
    # is not printed beside the median either; the practitioners' 35, 45, 55 give 45 (40–50) by R's type 7.
    age = table[table.index("Age (years)") :]
    assert '<td class="num">–</td><td class="num">45 (40–50), n = 3</td><td class="num">–</td>' in age
    assert "n = 6" not in age and "n = 4" not in age
    rankings_part = html[html.index('id="ranking-results"') :]
    assert "Put these changes in order of priority" in rankings_part and "Final order" in rankings_part

    # --- the exports ----------------------------------------------------------------------------------------
    emails = {*EVERYONE, "fac@example.org"}

    async def export(name: str) -> list[dict[str, str]]:
        response = await client.get(f"{base}/exports/{name}.csv")
        assert response.status_code == 200, (name, response.text[:300])
        text = response.content.decode("utf-8-sig")
        assert not EMAIL_RE.search(text), (name, EMAIL_RE.search(text))
        return rows_of(response.content)

    open_answers = await export("open-answers")
    assert len(open_answers) == 2 * len(EVERYONE)
    assert {r["theme"] for r in open_answers} == {"peer support", "waiting"}
    assert {r["statement_ids"] for r in open_answers} == {str(peer), str(wait)}
    prov = await export("provenance")
    assert sorted(r["answer_id"] for r in prov) == sorted(str(a.id) for a in answers)
    assert {r["statement_id"] for r in prov} == {str(peer), str(wait)}
    ranks = await export("rankings")
    assert len(ranks) == (len(EVERYONE) + 5) * len(ITEMS)
    assert {r["round"] for r in ranks} == {"2", "3"}
    results = await export("ranking-results")
    assert len(results) == 2 * 3 * len(ITEMS)  # rounds 2 and 3, the whole panel and two groups, three items
    base_rows = await export("baseline")
    assert len(base_rows) == 2 * (len(EVERYONE) - 1)  # the one who skipped has no rows
    assert pseudonym["user3@people.example"] not in {r["panellist"] for r in base_rows}

    # --- the open data package validates, and holds no e-mail address ---------------------------------------
    response = await client.get(f"{base}/exports/datapackage.zip")
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    for name in archive.namelist():
        content = archive.read(name).decode("utf-8-sig")
        assert not any(e in content for e in emails), name
    archive.extractall(tmp_path)
    validated = frictionless.validate(str(tmp_path / "datapackage.json"))
    errors = [(t.name, e.type, e.message) for t in validated.tasks for e in t.errors] + [
        (None, e.type, e.message) for e in validated.errors
    ]
    assert errors == [] and validated.valid
    stats = {t.name: t.stats.get("rows", 0) for t in validated.tasks}
    assert stats["open-answers"] == len(open_answers) and stats["provenance"] == len(prov)
    assert stats["rankings"] == len(ranks) and stats["ranking_results"] == len(results)
    assert stats["baseline"] == len(base_rows)
    assert json.loads(archive.read("datapackage.json"))["resources"]
