"""Redaction: a facilitator edits a comment's or a reason's wording; panellists see only the edit, and the
original stays in the audit trail, shown to the panel's editors only (issue 14, item 8)."""

from __future__ import annotations

from datetime import timedelta

from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import AuditEvent, Rating, utcnow
from delphi.participation.checks import MAX_COMMENT
from delphi.rounds.moderation import clean_redaction, redaction_problems
from delphi.settings import Settings
from tests.results.helpers import (
    FACILITATOR,
    OWNER,
    PROBLEM,
    RESEARCHER,
    bearer,
    build_world,
    create_token,
    login,
    post_form,
    sign_in_panellist,
    world_and_token,
)
from tests.results.test_pages import text_of
from tests.study import FORMULA_COMMENT, PENDING_COMMENT, PENDING_REASON, open_round

EDITED = "Peer support made the difference, whatever the spreadsheet says."


def edit_url(pid: int, what: str, rating_id: int) -> str:
    return f"/panels/{pid}/rounds/1/{what}s/{rating_id}/edit"


async def test_an_edited_comment_is_what_panellists_see_and_the_original_stays_in_the_audit(
    session: AsyncSession, client: AsyncTestClient, settings: Settings
) -> None:
    world = await build_world(session, settings, rounds=1)
    rating_id = world.study.comments["formula"]  # published, on S2, which round 2 asks again
    await login(client, FACILITATOR)
    form = await client.get(edit_url(world.pid, "comment", rating_id))
    assert form.status_code == 200 and 'name="text"' in form.text and "S2" in text_of(form.text)
    saved = await post_form(client, edit_url(world.pid, "comment", rating_id), {"text": f"  {EDITED}\r\n"})
    assert saved.status_code == 303
    await session.commit()  # end the test's read snapshot
    rating = await session.get(Rating, rating_id)
    assert rating is not None
    await session.refresh(rating)
    assert rating.comment == EDITED and rating.comment_status == "published"  # the status is kept
    assert rating.comment_edited_at is not None
    event = await session.scalar(select(AuditEvent).where(AuditEvent.action == "comment.redacted"))
    assert event is not None
    assert event.detail["original"] == FORMULA_COMMENT and event.detail["edited"] == EDITED
    assert (event.detail["round"], event.detail["statement"], event.detail["rating_id"]) == (
        1,
        "S2",
        rating_id,
    )
    page = text_of((await client.get(f"/panels/{world.pid}/rounds/1/results")).text)
    assert EDITED in page and "edited" in page
    # Round 2 opens: a panellist's feedback on S2 holds the edited wording, never the original.
    round2 = await open_round(session, world.study, 2)
    round2.closes_at = utcnow() + timedelta(days=3)  # open now, not only at the study's dates
    await session.commit()
    client.cookies.clear()
    await sign_in_panellist(client, world.study.tokens[3])
    seen = ""
    for page_number in (1, 2, 3):
        seen += (await client.get(f"/panel/rate?page={page_number}")).text
    assert EDITED in seen
    assert FORMULA_COMMENT not in seen and FORMULA_COMMENT.replace('"', "&#34;") not in seen


async def test_the_audit_trail_shows_the_original_wording_to_editors_and_never_to_researchers(
    session: AsyncSession, client: AsyncTestClient, settings: Settings
) -> None:
    world = await build_world(session, settings, rounds=1)
    await login(client, OWNER)
    url = edit_url(world.pid, "comment", world.study.comments["pending"])
    assert (await post_form(client, url, {"text": "My key worker said so."})).status_code == 303
    owner_view = text_of((await client.get(f"/panels/{world.pid}/audit")).text)
    assert "Original wording" in owner_view and PENDING_COMMENT in owner_view
    assert "was edited; panellists see only the edited wording" in owner_view
    await login(client, FACILITATOR)
    assert PENDING_COMMENT in text_of((await client.get(f"/panels/{world.pid}/audit")).text)
    await login(client, RESEARCHER)
    researcher_view = (await client.get(f"/panels/{world.pid}/audit")).text
    assert "was edited; panellists see only the edited wording" in text_of(researcher_view)
    assert "Elm Street" not in researcher_view and "Original wording" not in researcher_view
    # nor can a researcher open the edit form or post an edit
    assert (await client.get(url)).status_code == 403
    assert (await post_form(client, url, {"text": "x"})).status_code == 403


async def test_an_empty_or_too_long_edit_is_refused_with_the_form_again_and_nothing_saved(
    session: AsyncSession, client: AsyncTestClient, settings: Settings
) -> None:
    world = await build_world(session, settings, rounds=1)
    rating_id = world.study.comments["pending"]
    await login(client, FACILITATOR)
    url = edit_url(world.pid, "comment", rating_id)
    empty = await post_form(client, url, {"text": "   "})
    assert empty.status_code == 422
    assert "There is a problem" in empty.text and "hide it instead" in empty.text
    long_text = "a" * (MAX_COMMENT + 1)
    too_long = await post_form(client, url, {"text": long_text})
    assert too_long.status_code == 422 and f"at most {MAX_COMMENT:,}" in too_long.text
    assert long_text in too_long.text  # the posted text is kept in the form
    missing = await post_form(
        client, edit_url(world.pid, "comment", world.study.reasons["published"]), {"text": "x"}
    )
    assert missing.status_code == 404  # that rating has a reason and no comment
    await session.commit()
    rating = await session.get(Rating, rating_id)
    assert rating is not None
    await session.refresh(rating)
    assert rating.comment == PENDING_COMMENT and rating.comment_edited_at is None
    assert await session.scalar(select(AuditEvent).where(AuditEvent.action == "comment.redacted")) is None


def test_the_redaction_rule_refuses_empty_and_over_long_text_and_cleans_line_ends() -> None:
    assert redaction_problems("fine", 10, "comment") == []
    assert "hide it instead" in redaction_problems("", 10, "comment")[0]
    assert redaction_problems("x" * 11, 10, "reason") == [
        "The edited reason is 11 characters long; it can be at most 10."
    ]
    assert redaction_problems("x" * 10, 10, "reason") == []
    assert clean_redaction(" a\r\nb\x00 ") == "a\nb"


async def test_the_api_edits_a_reasons_wording_with_patch_and_refuses_empty_text_as_a_problem(
    session: AsyncSession, client: AsyncTestClient, settings: Settings
) -> None:
    world, token = await world_and_token(session, client, settings, FACILITATOR)
    url = f"/api/v1/panels/{world.pid}/rounds/1/reasons/{world.study.reasons['pending']}"
    edited = await client.patch(
        url, json={"text": "Take-home doses let me keep my job."}, headers=bearer(token)
    )
    assert edited.status_code == 200, edited.text
    assert (
        edited.json()["text"] == "Take-home doses let me keep my job."
        and edited.json()["status"] == "pending"
    )
    empty = await client.patch(url, json={"text": ""}, headers=bearer(token))
    assert empty.status_code == 400 and empty.headers["content-type"].startswith(
        PROBLEM
    )  # outside the schema
    await session.commit()
    event = await session.scalar(select(AuditEvent).where(AuditEvent.action == "reason.redacted"))
    assert event is not None and event.detail["original"] == PENDING_REASON
    await login(client, RESEARCHER)
    researchers = await create_token(client, scopes="read write")
    refused = await client.patch(url, json={"text": "x"}, headers=bearer(researchers))
    assert refused.status_code == 403 and "role" in refused.text.lower()


async def test_a_panellist_rewording_an_edited_comment_clears_the_edited_mark_and_an_unchanged_one_keeps_it(
    session: AsyncSession,
) -> None:
    from delphi.participation.checks import RatingInput
    from delphi.participation.saving import save_rating
    from tests import factories as f

    panel = await f.make_panel(session)
    (group, _) = await f.make_groups(session, panel)
    statements = await f.make_statements(session, panel, (("Information", 2),))
    round_ = await f.make_round(session, panel, statements, 1)
    panellist, _ = await f.make_panellist(session, panel, group, consented=True)
    first, second = statements
    for st in statements:
        await save_rating(session, panellist, RatingInput(st.id, 7, comment="Ask the key worker."))
    await session.flush()
    edited_at = utcnow()
    ratings = (
        await session.scalars(
            select(Rating).where(Rating.round_id == round_.id).order_by(Rating.statement_id)
        )
    ).all()
    for rating in ratings:
        rating.comment, rating.comment_edited_at = "Ask the worker.", edited_at
    await session.flush()
    await save_rating(session, panellist, RatingInput(first.id, 8, comment="Ask my own worker first."))
    await save_rating(session, panellist, RatingInput(second.id, 8, comment="Ask the worker."))
    await session.flush()
    for rating in ratings:
        await session.refresh(rating)
    assert ratings[0].comment == "Ask my own worker first." and ratings[0].comment_edited_at is None
    assert ratings[1].comment == "Ask the worker." and ratings[1].comment_edited_at is not None
