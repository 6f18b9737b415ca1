"""Reasons for ratings outside the middle half: shown to facilitators, in the exports, the API and the report, and
to panellists once published.

With "ask for a reason outside the middle half" on, a panellist whose rating lies outside last round's
interquartile range is asked why (``Rating.reason``). The trust review found those reasons stored but shown
nowhere. A reason is moderated apart from the comment (``Rating.reason_status``): facilitators see every reason,
by pseudonym and the rating given; researchers, exports, the report and panellists see published ones only.
"""

from __future__ import annotations

from datetime import timedelta

from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import AuditEvent, Rating, Round
from delphi.participation.checks import RatingInput, Scale, clean_input
from delphi.participation.feedback import load_feedback
from delphi.participation.writes import upsert_params, upsert_statement
from delphi.results import exports
from delphi.results.frame import load_frame
from delphi.settings import Settings
from tests.results.helpers import (
    FACILITATOR,
    OWNER,
    PROBLEM,
    RESEARCHER,
    bearer,
    build_world,
    login,
    post_form,
    read_csv,
    world_and_token,
)
from tests.results.test_pages import text_of
from tests.study import (
    FORMULA_COMMENT,
    FORMULA_REASON,
    HIDDEN_REASON,
    PENDING_REASON,
    PUBLISHED_COMMENT,
    PUBLISHED_REASON,
    build_study,
)

ALL_REASONS = (FORMULA_REASON, PUBLISHED_REASON, PENDING_REASON, HIDDEN_REASON)


def shown(text: str, html: str) -> bool:
    return text in html or text.replace('"', "&#34;") in html


async def test_facilitators_see_every_reason_beside_the_statements_results_by_pseudonym_and_rating(
    session: AsyncSession, client: AsyncTestClient, settings: Settings
) -> None:
    world = await build_world(session, settings, rounds=1)
    await login(client, FACILITATOR)
    html = (await client.get(f"/panels/{world.pid}/rounds/1/results")).text
    assert all(shown(r, html) for r in ALL_REASONS)
    s2 = html[html.index(f'id="statement-{world.study.statements["S2"].id}"') :]
    s2 = s2[: s2.index("</section>")]
    assert "Reasons for ratings outside the middle half (2)" in text_of(s2)
    assert "P-007 · rated 2 · published" in text_of(s2) and PUBLISHED_REASON in s2
    page = text_of(html)
    assert "P-014 · rated 8 · pending" in page and "P-013 · rated 9 · hidden" in page
    assert "1 reason for ratings outside the middle half to moderate" in page
    assert "Person 7" not in html and "@people.example" not in html  # pseudonym only
    assert f"/rounds/1/reasons/{world.study.reasons['pending']}" in html


async def test_researchers_see_published_reasons_only_and_cannot_moderate_them(
    session: AsyncSession, client: AsyncTestClient, settings: Settings
) -> None:
    world = await build_world(session, settings, rounds=1)
    await login(client, RESEARCHER)
    html = (await client.get(f"/panels/{world.pid}/rounds/1/results")).text
    assert shown(PUBLISHED_REASON, html) and shown(FORMULA_REASON, html)
    assert PENDING_REASON not in html and HIDDEN_REASON not in html and "/reasons/" not in html
    url = f"/panels/{world.pid}/rounds/1/reasons/{world.study.reasons['pending']}"
    assert (await post_form(client, url, {"action": "publish"})).status_code == 403


async def test_facilitators_publish_and_hide_reasons_apart_from_comments_with_an_audit_event_each(
    session: AsyncSession, client: AsyncTestClient, settings: Settings
) -> None:
    world = await build_world(session, settings, rounds=1)
    await login(client, FACILITATOR)
    url = f"/panels/{world.pid}/rounds/1/reasons/"
    pending, formula = world.study.reasons["pending"], world.study.reasons["formula"]
    assert (await post_form(client, url + str(pending), {"action": "publish"})).status_code == 303
    assert (await post_form(client, url + str(formula), {"action": "hide"})).status_code == 303
    assert (await post_form(client, url + str(pending), {"action": "shout"})).status_code == 422
    no_reason = world.study.comments["pending"]  # a rating with a comment and no reason
    assert (await post_form(client, url + str(no_reason), {"action": "hide"})).status_code == 404
    await session.commit()  # end the test's read snapshot
    rows = {r.id: r for r in (await session.scalars(select(Rating))).all()}
    assert rows[pending].reason_status == "published" and rows[formula].reason_status == "hidden"
    assert rows[formula].comment_status == "published"  # the comment on the same rating is untouched
    events = (
        await session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("reason.%")))
    ).all()
    assert sorted(events) == ["reason.hidden", "reason.published"]


async def test_reasons_can_no_longer_be_published_once_the_next_round_opened_but_can_be_hidden(
    session: AsyncSession, client: AsyncTestClient, settings: Settings
) -> None:
    world = await build_world(session, settings, rounds=2)
    await login(client, OWNER)
    url = f"/panels/{world.pid}/rounds/1/reasons/"
    late = await post_form(client, url + str(world.study.reasons["pending"]), {"action": "publish"})
    assert late.status_code == 409 and "reasons from round 1 can no longer be published" in late.text
    assert (
        await post_form(client, url + str(world.study.reasons["published"]), {"action": "hide"})
    ).status_code == 303


async def test_an_edited_reason_goes_back_to_pending_and_an_unchanged_one_keeps_its_status(
    session: AsyncSession, settings: Settings
) -> None:
    study = await build_study(session, settings, rounds=0)
    r1 = study.rounds[1]
    rating = await session.get(Rating, study.reasons["published"])
    assert rating is not None and rating.reason_status == "published"
    dialect = session.bind.dialect.name

    async def save(reason: str) -> str:
        item = clean_input(RatingInput(rating.statement_id, reason=reason), Scale(1, 9))
        assert not isinstance(item, list)
        await session.execute(
            upsert_statement(dialect, item.shape),
            upsert_params(r1.id, rating.panellist_id, item, r1.opened_at + timedelta(days=2)),
        )
        return str(await session.scalar(select(Rating.reason_status).where(Rating.id == rating.id)))

    assert await save(PUBLISHED_REASON) == "published"
    assert await save("Peer workers need supervision nobody funds.") == "pending"


async def test_the_ratings_export_holds_published_reasons_only_and_the_codebook_explains_them(
    session: AsyncSession, settings: Settings
) -> None:
    study = await build_study(session, settings, rounds=2)
    frame = await load_frame(session, study.panel)
    data, _ = await exports.produce(session, frame, exports.BY_NAME["ratings"], "csv")
    rows = read_csv(data)
    header, body = rows[0], [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]
    assert header[-2:] == ["reason", "language"]
    given = {(r["panellist"], r["round"], r["rating"], r["reason"]) for r in body if r["reason"]}
    assert given == {("P-001", "1", "9", "'" + FORMULA_REASON), ("P-007", "1", "2", PUBLISHED_REASON)}
    book, _ = await exports.produce(session, frame, exports.BY_NAME["codebook"], "csv")
    entries = {(r[0], r[1]): r for r in read_csv(book)[1:]}
    assert "reason for a rating outside the middle half" in entries[("ratings", "reason")][5]
    assert entries[("settings", "reasons_asked")][4] == "0"


async def test_the_api_lists_a_rounds_reasons_with_the_results_pages_access(
    session: AsyncSession, client: AsyncTestClient, settings: Settings
) -> None:
    world, token = await world_and_token(session, client, settings, FACILITATOR)
    base = f"/api/v1/panels/{world.pid}/rounds"
    everything = (await client.get(f"{base}/1/reasons", headers=bearer(token))).json()
    assert {(r["pseudonym"], r["value"], r["text"], r["status"]) for r in everything} == {
        ("P-001", 9, FORMULA_REASON, "published"),
        ("P-007", 2, PUBLISHED_REASON, "published"),
        ("P-014", 8, PENDING_REASON, "pending"),
        ("P-013", 9, HIDDEN_REASON, "hidden"),
    }
    pending = world.study.reasons["pending"]
    moderated = await client.put(
        f"{base}/1/reasons/{pending}", json={"status": "published"}, headers=bearer(token)
    )
    assert moderated.status_code == 200 and moderated.json()["status"] == "published"
    assert moderated.json()["text"] == PENDING_REASON
    still_open = await client.get(f"{base}/2/reasons", headers=bearer(token))  # round 2 is a draft
    assert still_open.status_code == 409 and still_open.headers["content-type"].startswith(PROBLEM)
    gone = await client.put(f"{base}/1/reasons/999999", json={"status": "hidden"}, headers=bearer(token))
    assert gone.status_code == 404
    await login(client, RESEARCHER)
    published = (await client.get(f"{base}/1/reasons")).json()
    assert {r["text"] for r in published} == {FORMULA_REASON, PUBLISHED_REASON, PENDING_REASON}
    assert all("@" not in r["pseudonym"] for r in published)


async def test_the_report_shows_published_reasons_and_counts_the_others(
    session: AsyncSession, client: AsyncTestClient, settings: Settings
) -> None:
    world = await build_world(session, settings, rounds=2)
    await login(client, RESEARCHER)
    html = (await client.get(f"/panels/{world.pid}/report")).text
    page = text_of(html)
    assert "Reasons for ratings outside the middle half" in page
    assert f"1 S2 Peer workers at every service. P-007 2 {PUBLISHED_REASON}" in page
    assert shown(FORMULA_REASON, html)
    assert PENDING_REASON not in html and HIDDEN_REASON not in html
    assert "2 further reasons were not published (pending or hidden by a facilitator)" in page


async def test_panellists_see_published_reasons_unattributed_in_the_next_rounds_feedback(
    session: AsyncSession, settings: Settings
) -> None:
    study = await build_study(session, settings, rounds=1)
    round2 = await session.scalar(select(Round).where(Round.panel_id == study.panel.id, Round.number == 2))
    s2 = study.statements["S2"].id
    feedback = await load_feedback(session, study.panel, round2, study.panellists[3].id, [s2])
    texts = feedback[s2].comments
    assert set(texts) == {FORMULA_COMMENT, FORMULA_REASON, PUBLISHED_REASON}
    assert not any("P-0" in t for t in texts)
    s4 = study.statements["S4"].id
    assert (
        PENDING_REASON
        not in (await load_feedback(session, study.panel, round2, study.panellists[3].id, [s4]))[s4].comments
    )
    assert PUBLISHED_COMMENT not in texts  # S1's comment stays with S1
