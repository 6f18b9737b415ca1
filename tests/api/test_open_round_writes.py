"""The open round through the API: round 1's kind and its open questions (/api/v1/panels/{id}/open-questions),
and a closed open round's answers (/api/v1/panels/{id}/rounds/{n}/answers) grouped into themes and drafted into
statements with their provenance; the pages' use cases, rules, messages and audit events, on both backends."""

from __future__ import annotations

from dataclasses import dataclass

from litestar.testing import AsyncTestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.accounts import create_api_token
from delphi.db.models import AuditEvent, IdeaAnswer, OpenQuestion, Round, Statement, StatementSource
from delphi.domain import PanelRole
from delphi.rounds import transitions
from delphi.settings import Settings
from tests.factories import ACTOR, grant, make_account
from tests.ideas_world import IdeasWorld, build_ideas_panel
from tests.results.helpers import PROBLEM, bearer


@dataclass
class Tokens:
    """Tokens that may read and change, of the panel's owner, a researcher on it and an outsider."""

    owner: str
    researcher: str
    outsider: str


async def with_tokens(session: AsyncSession, w: IdeasWorld) -> Tokens:
    """The accounts of :class:`Tokens` with their roles on ``w``'s panel; everything committed."""
    tokens = []
    for email, role in (
        ("owner@example.org", PanelRole.OWNER),
        ("researcher@example.org", PanelRole.RESEARCHER),
        ("outsider@example.org", None),
    ):
        account = await make_account(
            session, email, "researcher" if role == PanelRole.RESEARCHER else "facilitator"
        )
        if role is not None:
            await grant(session, w.world.panel, account, role)
        tokens.append((await create_api_token(session, account, "script", "read write"))[1])
    await session.commit()
    return Tokens(*tokens)


async def draft_ideas_panel(session: AsyncSession) -> tuple[IdeasWorld, Tokens]:
    """A panel in preparation whose round 1 is a draft open round with two questions."""
    w = await build_ideas_panel(session, round_status="draft", status="draft")
    return w, await with_tokens(session, w)


async def closed_open_round(session: AsyncSession, settings: Settings) -> tuple[IdeasWorld, list[int]]:
    """A panel whose open round 1 closed (round 2 drafted) with three answers to "What helps?" from two
    panellists, and their ids in order."""
    w = await build_ideas_panel(session)
    q1 = w.questions[0]
    (first, _), (second, _) = w.world.people[:2]
    rnd = w.world.round
    assert rnd is not None
    answers = [
        IdeaAnswer(round_id=rnd.id, question_id=q1.id, panellist_id=first.id, slot=1, text="Peer support"),
        IdeaAnswer(round_id=rnd.id, question_id=q1.id, panellist_id=first.id, slot=2, text="Evening hours"),
        IdeaAnswer(round_id=rnd.id, question_id=q1.id, panellist_id=second.id, slot=1, text="Peer mentors"),
    ]
    session.add_all(answers)
    await session.flush()
    await transitions.close_round(session, w.world.panel, rnd, settings=settings, actor=ACTOR)
    await session.commit()
    return w, [a.id for a in answers]


async def closed_ideas_panel(
    session: AsyncSession, settings: Settings
) -> tuple[IdeasWorld, Tokens, list[int]]:
    """:func:`closed_open_round` with the accounts of :class:`Tokens` on it."""
    w, ids = await closed_open_round(session, settings)
    return w, await with_tokens(session, w), ids


async def actions(session: AsyncSession, panel_id: int) -> list[str]:
    """The panel's audit actions, oldest first (a fresh snapshot: what the app has committed since)."""
    await session.commit()
    rows = await session.scalars(
        select(AuditEvent.action).where(AuditEvent.panel_id == panel_id).order_by(AuditEvent.id)
    )
    return list(rows.all())


async def question_texts(session: AsyncSession, panel_id: int) -> list[str]:
    await session.commit()
    rows = await session.scalars(
        select(OpenQuestion.text)
        .where(OpenQuestion.panel_id == panel_id)
        .order_by(OpenQuestion.position, OpenQuestion.id)
    )
    return list(rows.all())


def problem_fields(response) -> list[str]:  # type: ignore[no-untyped-def]
    assert response.headers["content-type"].startswith(PROBLEM), response.text
    return [e["field"] for e in response.json()["errors"]]


# --- round 1's kind and its open questions -------------------------------------------------------------------


async def test_round_one_is_made_a_rating_round_and_back_recording_each_change_once(
    client: AsyncTestClient, session: AsyncSession
) -> None:
    w, tokens = await draft_ideas_panel(session)
    pid = w.world.panel.id
    url = f"/api/v1/panels/{pid}/open-questions"
    listed = await client.get(url, headers=bearer(tokens.researcher))
    assert listed.status_code == 200, listed.text
    assert listed.json()["kind"] == "open" and listed.json()["editable"] is True
    assert [(q["number"], q["text"], q["hint"]) for q in listed.json()["questions"]] == [
        (1, "What helps?", "One idea a box."),
        (2, "What gets in the way?", ""),
    ]

    rating = await client.put(f"{url}/kind", json={"kind": "rating"}, headers=bearer(tokens.owner))
    assert rating.status_code == 200, rating.text
    assert rating.json()["kind"] == "rating"
    again = await client.put(f"{url}/kind", json={"kind": "rating"}, headers=bearer(tokens.owner))
    assert again.status_code == 200 and again.json() == rating.json()
    back = await client.put(f"{url}/kind", json={"kind": "open"}, headers=bearer(tokens.owner))
    assert back.status_code == 200 and back.json()["kind"] == "open"
    # the unchanged choice recorded nothing, as on the page
    assert await actions(session, pid) == ["round.kind_set", "round.kind_set"]
    await session.commit()
    assert await session.scalar(select(Round.kind).where(Round.panel_id == pid, Round.number == 1)) == "open"


async def test_a_kind_that_is_neither_is_a_400_naming_the_field_and_changes_nothing(
    client: AsyncTestClient, session: AsyncSession
) -> None:
    w, tokens = await draft_ideas_panel(session)
    pid = w.world.panel.id
    refused = await client.put(
        f"/api/v1/panels/{pid}/open-questions/kind", json={"kind": "essay"}, headers=bearer(tokens.owner)
    )
    assert refused.status_code == 400 and problem_fields(refused) == ["kind"]
    assert await actions(session, pid) == []


async def test_an_open_question_is_added_read_edited_moved_and_deleted_with_the_pages_audit_events(
    client: AsyncTestClient, session: AsyncSession
) -> None:
    w, tokens = await draft_ideas_panel(session)
    pid = w.world.panel.id
    base = f"/api/v1/panels/{pid}/open-questions"
    added = await client.post(
        base, json={"text": "  What   else\x00 would help? ", "hint": " Think of your last visit. "},
        headers=bearer(tokens.owner),
    )  # fmt: skip
    assert added.status_code == 201, added.text
    body = added.json()
    assert (body["number"], body["text"], body["hint"]) == (
        3,
        "What else would help?",
        "Think of your last visit.",
    )
    assert added.headers["location"] == f"{base}/{body['id']}"
    read = await client.get(added.headers["location"], headers=bearer(tokens.researcher))
    assert read.status_code == 200 and read.json() == body

    edited = await client.patch(f"{base}/{body['id']}", json={"hint": ""}, headers=bearer(tokens.owner))
    assert edited.status_code == 200, edited.text
    assert edited.json() == {**body, "hint": ""}  # the text left out is kept
    unchanged = await client.patch(f"{base}/{body['id']}", json={"hint": ""}, headers=bearer(tokens.owner))
    assert unchanged.status_code == 200 and unchanged.json() == edited.json()

    moved = await client.post(
        f"{base}/{body['id']}/move", json={"direction": "up"}, headers=bearer(tokens.owner)
    )
    assert moved.status_code == 200, moved.text
    assert [q["text"] for q in moved.json()["questions"]] == [
        "What helps?",
        "What else would help?",
        "What gets in the way?",
    ]
    assert [q["number"] for q in moved.json()["questions"]] == [1, 2, 3]
    first = moved.json()["questions"][0]["id"]
    at_the_top = await client.post(
        f"{base}/{first}/move", json={"direction": "up"}, headers=bearer(tokens.owner)
    )
    assert at_the_top.status_code == 200 and at_the_top.json() == moved.json()  # at the end nothing changes

    gone = await client.delete(f"{base}/{body['id']}", headers=bearer(tokens.owner))
    assert gone.status_code == 204, gone.text
    assert (await client.get(f"{base}/{body['id']}", headers=bearer(tokens.owner))).status_code == 404
    assert await question_texts(session, pid) == ["What helps?", "What gets in the way?"]
    assert await actions(session, pid) == [
        "open_question.added",
        "open_question.edited",
        "open_question.moved",
        "open_question.deleted",
    ]


async def test_a_question_with_problems_is_refused_listing_every_one_and_nothing_is_saved(
    client: AsyncTestClient, session: AsyncSession
) -> None:
    w, tokens = await draft_ideas_panel(session)
    pid = w.world.panel.id
    base = f"/api/v1/panels/{pid}/open-questions"
    refused = await client.post(base, json={"text": "   ", "hint": "h" * 501}, headers=bearer(tokens.owner))
    assert refused.status_code == 422
    assert problem_fields(refused) == ["text", "hint"]
    assert "Enter the question (1 to 1000 characters)." in [e["message"] for e in refused.json()["errors"]]
    q1 = w.questions[0].id
    too_long = await client.patch(f"{base}/{q1}", json={"text": "x" * 1001}, headers=bearer(tokens.owner))
    assert too_long.status_code == 422 and problem_fields(too_long) == ["text"]
    unknown = await client.post(base, json={"text": "Why?", "order": 1}, headers=bearer(tokens.owner))
    assert unknown.status_code == 400 and problem_fields(unknown) == ["order"]
    assert await question_texts(session, pid) == ["What helps?", "What gets in the way?"]
    assert await actions(session, pid) == []


async def test_once_round_one_has_opened_its_kind_and_questions_are_fixed(
    client: AsyncTestClient, session: AsyncSession
) -> None:
    w = await build_ideas_panel(session)  # round 1 open
    tokens = await with_tokens(session, w)
    pid, q1 = w.world.panel.id, w.questions[0].id
    base = f"/api/v1/panels/{pid}/open-questions"
    listed = await client.get(base, headers=bearer(tokens.owner))
    assert listed.status_code == 200 and listed.json()["editable"] is False
    owner = bearer(tokens.owner)
    for response in (
        await client.put(f"{base}/kind", json={"kind": "rating"}, headers=owner),
        await client.post(base, json={"text": "What else?"}, headers=owner),
        await client.patch(f"{base}/{q1}", json={"text": "What helps most?"}, headers=owner),
        await client.post(f"{base}/{q1}/move", json={"direction": "down"}, headers=owner),
        await client.delete(f"{base}/{q1}", headers=owner),
    ):
        assert response.status_code == 409, response.text
        assert response.headers["content-type"].startswith(PROBLEM)
        assert response.json()["detail"] == "Round 1 has opened, so its open questions can no longer change."
    assert await question_texts(session, pid) == ["What helps?", "What gets in the way?"]
    assert await actions(session, pid) == []


async def test_researchers_only_read_open_questions_and_outsiders_and_other_panels_questions_are_404(
    client: AsyncTestClient, session: AsyncSession
) -> None:
    w, tokens = await draft_ideas_panel(session)
    other = await build_ideas_panel(session, round_status="draft", status="draft")
    await session.commit()
    pid, q1 = w.world.panel.id, w.questions[0].id
    base = f"/api/v1/panels/{pid}/open-questions"
    assert (await client.get(f"{base}/{q1}", headers=bearer(tokens.researcher))).status_code == 200
    for response in (
        await client.post(base, json={"text": "What else?"}, headers=bearer(tokens.researcher)),
        await client.put(f"{base}/kind", json={"kind": "rating"}, headers=bearer(tokens.researcher)),
        await client.delete(f"{base}/{q1}", headers=bearer(tokens.researcher)),
    ):
        assert response.status_code == 403, response.text
    assert (await client.get(base, headers=bearer(tokens.outsider))).status_code == 404
    assert (
        await client.post(base, json={"text": "What else?"}, headers=bearer(tokens.outsider))
    ).status_code == 404
    elsewhere = other.questions[0].id  # another panel's question, through this panel
    assert (await client.get(f"{base}/{elsewhere}", headers=bearer(tokens.owner))).status_code == 404
    moved = await client.post(
        f"{base}/{elsewhere}/move", json={"direction": "down"}, headers=bearer(tokens.owner)
    )
    assert (
        moved.status_code == 404 and moved.json()["detail"] == "There is no such open question on this panel."
    )
    assert (await client.delete(f"{base}/{elsewhere}", headers=bearer(tokens.owner))).status_code == 404
    assert await question_texts(session, other.world.panel.id) == ["What helps?", "What gets in the way?"]
    assert await question_texts(session, pid) == ["What helps?", "What gets in the way?"]


# --- the answers of a closed open round ----------------------------------------------------------------------


async def test_the_answers_are_read_side_by_side_by_pseudonym_without_addresses(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    w, tokens, ids = await closed_ideas_panel(session, settings)
    pid = w.world.panel.id
    read = await client.get(f"/api/v1/panels/{pid}/rounds/1/answers", headers=bearer(tokens.researcher))
    assert read.status_code == 200, read.text
    body = read.json()
    assert (body["round"], body["status"], body["n_answers"], body["themes"]) == (1, "closed", 3, [])
    assert [(q["number"], q["text"]) for q in body["questions"]] == [
        (1, "What helps?"),
        (2, "What gets in the way?"),
    ]
    helps = body["questions"][0]["answers"]
    assert [(a["pseudonym"], a["slot"], a["text"]) for a in helps] == [
        ("P-001", 1, "Peer support"),
        ("P-001", 2, "Evening hours"),
        ("P-002", 1, "Peer mentors"),
    ]
    assert sorted(a["id"] for a in helps) == ids
    assert body["questions"][1]["answers"] == [] and body["statements"] == []
    assert "@example.org" not in read.text  # pseudonyms only
    # round 2 is a rating round: no answers there, as the page says
    not_open = await client.get(f"/api/v1/panels/{pid}/rounds/2/answers", headers=bearer(tokens.owner))
    assert not_open.status_code == 404
    assert (
        not_open.json()["detail"]
        == "Round 2 of this panel is not an open round, so it has no answers to show."
    )


async def test_answers_are_grouped_under_a_theme_and_ungrouped_again(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    w, tokens, (support, evening, mentors) = await closed_ideas_panel(session, settings)
    pid = w.world.panel.id
    url = f"/api/v1/panels/{pid}/rounds/1/answers/theme"
    themed = await client.post(
        url,
        json={"answers": [support, mentors, mentors], "theme": "  Peer   help "},
        headers=bearer(tokens.owner),
    )
    assert themed.status_code == 200, themed.text
    assert themed.json() == {"changed": 2, "themes": [{"theme": "Peer help", "answers": 2}]}
    other = await client.post(
        url, json={"answers": [evening], "theme": "Access"}, headers=bearer(tokens.owner)
    )
    assert other.json()["themes"] == [{"theme": "Access", "answers": 1}, {"theme": "Peer help", "answers": 2}]
    read = await client.get(f"/api/v1/panels/{pid}/rounds/1/answers", headers=bearer(tokens.owner))
    assert {a["id"]: a["theme"] for a in read.json()["questions"][0]["answers"]} == {
        support: "Peer help",
        evening: "Access",
        mentors: "Peer help",
    }
    ungrouped = await client.post(url, json={"answers": [evening], "theme": ""}, headers=bearer(tokens.owner))
    assert ungrouped.status_code == 200 and ungrouped.json()["themes"] == [
        {"theme": "Peer help", "answers": 2}
    ]
    assert [a for a in await actions(session, pid) if a.startswith("idea.")] == ["idea.themed"] * 3


async def test_a_theme_with_problems_is_refused_listing_every_one_and_nothing_changes(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    w, tokens, ids = await closed_ideas_panel(session, settings)
    _, other_ids = await closed_open_round(session, settings)
    pid = w.world.panel.id
    url = f"/api/v1/panels/{pid}/rounds/1/answers/theme"
    refused = await client.post(
        url, json={"answers": [ids[0], other_ids[0]], "theme": "t" * 201}, headers=bearer(tokens.owner)
    )
    assert refused.status_code == 422
    assert problem_fields(refused) == ["theme", "answers"]
    assert [e["message"] for e in refused.json()["errors"]] == [
        "A theme can have at most 200 characters.",
        "Some chosen answers are not answers to this panel's open round.",
    ]
    none = await client.post(url, json={"answers": [], "theme": "Peer"}, headers=bearer(tokens.owner))
    assert none.status_code == 422 and none.json()["errors"] == [
        {"field": "answers", "message": "Choose at least one answer to give the theme to."}
    ]
    too_big = await client.post(url, json={"answers": [2**31], "theme": "Peer"}, headers=bearer(tokens.owner))
    assert too_big.status_code == 400 and problem_fields(too_big) == ["answers"]
    researcher = await client.post(
        url, json={"answers": ids, "theme": "Peer"}, headers=bearer(tokens.researcher)
    )
    assert researcher.status_code == 403
    await session.commit()
    assert set((await session.scalars(select(IdeaAnswer.theme))).all()) == {""}
    assert "idea.themed" not in await actions(session, pid)


async def test_a_theme_becomes_a_draft_statement_of_round_two_with_its_provenance(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    w, tokens, (support, evening, mentors) = await closed_ideas_panel(session, settings)
    pid = w.world.panel.id
    base = f"/api/v1/panels/{pid}/rounds/1/answers"
    await client.post(
        f"{base}/theme",
        json={"answers": [support, mentors], "theme": "Peer help"},
        headers=bearer(tokens.owner),
    )
    made = await client.post(
        f"{base}/statements",
        json={
            "text": " Offer  peer support. ",
            "section": "Support",
            "from_theme": "Peer help",
            "answers": [evening],
        },
        headers=bearer(tokens.owner),
    )
    assert made.status_code == 201, made.text
    body = made.json()
    statement = body["statement"]
    assert (statement["text"], statement["section"], statement["origin"], statement["origin_round"]) == (
        "Offer peer support.",
        "Support",
        "open_round",
        1,
    )
    assert body["round"] == 2 and body["answer_ids"] == sorted([support, evening, mentors])
    assert made.headers["location"] == f"/api/v1/panels/{pid}/statements/{statement['id']}"
    located = await client.get(made.headers["location"], headers=bearer(tokens.owner))
    assert located.status_code == 200 and located.json() == statement

    read = (await client.get(base, headers=bearer(tokens.researcher))).json()
    assert read["statements"] == [
        {
            "statement_id": statement["id"],
            "label": body["label"],
            "answer_ids": sorted([support, evening, mentors]),
            "versions": [
                {
                    "statement_id": statement["id"],
                    "label": body["label"],
                    "version": 1,
                    "parent_id": None,
                    "text": "Offer peer support.",
                    "status": statement["status"],
                    "verdict": None,
                }
            ],
        }
    ]
    assert {a["id"]: a["statement_ids"] for a in read["questions"][0]["answers"]} == {
        support: [statement["id"]],
        evening: [statement["id"]],
        mentors: [statement["id"]],
    }
    await session.commit()
    sources = await session.scalars(
        select(StatementSource.answer_id).where(StatementSource.statement_id == statement["id"])
    )
    assert sorted(sources.all()) == sorted([support, evening, mentors])
    assert (await actions(session, pid))[-1] == "statement.from_answers"


async def test_a_draft_statement_with_problems_is_refused_listing_every_one_and_nothing_is_made(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    w, tokens, ids = await closed_ideas_panel(session, settings)
    _, other_ids = await closed_open_round(session, settings)
    pid = w.world.panel.id
    url = f"/api/v1/panels/{pid}/rounds/1/answers/statements"
    refused = await client.post(
        url,
        json={"text": " ", "section": "s" * 201, "from_theme": "Nobody's", "answers": [ids[0], other_ids[0]]},
        headers=bearer(tokens.owner),
    )
    assert refused.status_code == 422
    assert problem_fields(refused) == ["text", "section", "from_theme", "answers"]
    nothing = await client.post(url, json={"text": "Offer peer support."}, headers=bearer(tokens.owner))
    assert nothing.status_code == 422 and nothing.json()["errors"] == [
        {"field": "answers", "message": "Choose a theme or at least one answer to make the statement from."}
    ]
    researcher = await client.post(
        url, json={"text": "Offer peer support.", "answers": ids}, headers=bearer(tokens.researcher)
    )
    assert researcher.status_code == 403
    await session.commit()
    assert (
        await session.scalar(select(func.count()).select_from(Statement).where(Statement.panel_id == pid))
        == 0
    )


async def test_no_statement_is_drafted_while_the_open_round_is_still_open(
    client: AsyncTestClient, session: AsyncSession
) -> None:
    w = await build_ideas_panel(session)
    rnd = w.world.round
    assert rnd is not None
    session.add(
        IdeaAnswer(
            round_id=rnd.id,
            question_id=w.questions[0].id,
            panellist_id=w.world.panellist.id,
            slot=1,
            text="Peer support",
        )
    )
    tokens = await with_tokens(session, w)
    pid = w.world.panel.id
    answer = await session.scalar(select(IdeaAnswer.id))
    read = await client.get(f"/api/v1/panels/{pid}/rounds/1/answers", headers=bearer(tokens.owner))
    assert read.status_code == 200 and read.json()["status"] == "open" and read.json()["n_answers"] == 1
    refused = await client.post(
        f"/api/v1/panels/{pid}/rounds/1/answers/statements",
        json={"text": "Offer peer support.", "answers": [answer]},
        headers=bearer(tokens.owner),
    )
    assert refused.status_code == 409
    assert refused.json()["detail"] == (
        "Round 1 must close first: statements made from its answers go into the next round."
    )
    await session.commit()
    assert (
        await session.scalar(select(func.count()).select_from(Statement).where(Statement.panel_id == pid))
        == 0
    )
