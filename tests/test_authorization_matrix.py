"""Authorization matrix: every page and API route of the app, requested as each kind of visitor.

Visitors: anonymous; a panellist of another panel; a panellist of this panel (signed in through their personal
link); a facilitator of another panel; this panel's owner; a facilitator of this panel; a facilitator of this
panel granted "contact panellists"; a researcher on this panel. Each gets exactly its due, and nobody but this
panel's owner and the facilitator with the grant (:data:`SEE_EMAILS`) ever receives a response that contains a
panellist's e-mail address.

Every route the app serves must be classified by :func:`expected`; a new route fails this test until its row
of the matrix is written. Requests that would change the panel as an authorised user (closing a round, erasing a
panellist...) are not sent here: their own tests cover them; what is sent changes nothing or nothing that matters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from httpx import Response
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.accounts import create_api_token
from delphi.db.models import PanelAccess
from delphi.domain import PanelRole
from delphi.settings import Settings
from tests.results.helpers import (
    FACILITATOR,
    OUTSIDER,
    OWNER,
    RESEARCHER,
    World,
    become,
    build_world,
    csrf_token,
)
from tests.study import add_role

ROLES = (
    "anonymous", "other-panellist", "panellist", "outsider", "owner", "facilitator", "contact-facilitator",
    "researcher",
)  # fmt: skip
#: A facilitator the owner granted "contact panellists": sees panellists' addresses like the owner.
CONTACT_FACILITATOR = "contact-facilitator@facilitators.example"
ACCOUNTS = {
    "outsider": OUTSIDER,
    "owner": OWNER,
    "facilitator": FACILITATOR,
    "contact-facilitator": CONTACT_FACILITATOR,
    "researcher": RESEARCHER,
}
NO_ACCOUNT = ("anonymous", "other-panellist", "panellist")
#: Who may see a panellist's e-mail address: the owner and facilitators with the grant, nobody else.
SEE_EMAILS = frozenset({"owner", "contact-facilitator"})
EMAIL_DOMAIN = "@people.example"

#: Facilitator pages a researcher may not open (they change the panel or show people's addresses).
RESEARCHER_DENIED_PAGES = frozenset(
    {
        "/panels/{panel_id:int}/settings",
        "/panels/{panel_id:int}/statements/{statement_id:int}/edit",
        "/panels/{panel_id:int}/statements/{statement_id:int}/delete",
        "/panels/{panel_id:int}/rankings/{ranking_id:int}/edit",
        "/panels/{panel_id:int}/rankings/{ranking_id:int}/delete",
        "/panels/{panel_id:int}/panellists",
        "/panels/{panel_id:int}/mail",
        "/panels/{panel_id:int}/mail/texts",
        "/panels/{panel_id:int}/mail/texts/{kind:str}",
        "/panels/{panel_id:int}/translations/import",  # the upload form is for editors
        "/panels/{panel_id:int}/rounds/{number:int}/comments/{rating_id:int}/edit",
        "/panels/{panel_id:int}/rounds/{number:int}/reasons/{rating_id:int}/edit",
        # the confirmation pages before a round action or a new link
        "/panels/{panel_id:int}/rounds/{number:int}/open",
        "/panels/{panel_id:int}/rounds/{number:int}/close",
        "/panels/{panel_id:int}/rounds/{number:int}/remind",
        "/panels/{panel_id:int}/rounds/{number:int}/finish",
        "/panels/{panel_id:int}/panellists/{panellist_id:int}/reissue",
    }
)
#: Posts of invitation cards and honorarium payments, and what an editor gets for the matrix's form.
CARDS_AND_PAYMENTS = {
    "/panels/{panel_id:int}/panellists/{panellist_id:int}/card": 200,
    "/panels/{panel_id:int}/panellists/cards": 422,
    "/panels/{panel_id:int}/honoraria/{panellist_id:int}/payments": 422,
    "/panels/{panel_id:int}/honoraria/payments/{payment_id:int}/delete": 404,
}
#: The API's round actions and suggestions, and what an editor gets for the matrix's request (see expected()).
API_ROUND_WRITES = {
    "/api/v1/panels/{panel_id:int}/rounds/{number:int}/schedule": 400,
    "/api/v1/panels/{panel_id:int}/rounds/{number:int}/open": 409,
    "/api/v1/panels/{panel_id:int}/rounds/{number:int}/close": 409,
    "/api/v1/panels/{panel_id:int}/rounds/{number:int}/remind": 400,
    "/api/v1/panels/{panel_id:int}/finish": 409,
    "/api/v1/panels/{panel_id:int}/suggestions": 200,
    "/api/v1/panels/{panel_id:int}/suggestions/{suggestion_id:int}": 400,
}
#: Where today's answer differs from the due one, with the reason; reported, not hidden. Remove when fixed.
KNOWN_DEVIATIONS: dict[tuple[str, str, str], tuple[int, str]] = {}

Due = int | frozenset[int] | None  # None: not requested for this visitor


class Unclassified(AssertionError):
    pass


def expected(method: str, template: str, role: str) -> Due:
    """The due answer to ``role`` for ``method template`` (see the module docstring)."""
    account = role in ACCOUNTS
    if template in ("/healthz", "/healthz/live", "/"):
        return 200
    if template == "/login":
        return None if method == "POST" else (303 if account else 200)
    if template == "/logout":
        return None
    if template.startswith("/p/"):  # a personal link; requested with a token that is no one's
        return 404
    if template == "/panel/signed-out":  # the neutral page after signing out: for anyone
        return 200
    if template in ("/panel/sign-out", "/panel/quick-exit"):
        # Without a panellist session they only clear the cookie's panellist part and leave (an account stays
        # signed in). Not sent to panellists, whose session the rest of the matrix needs: see
        # tests/panellist/test_sign_out.py.
        return None if role in ("panellist", "other-panellist") else 303
    if (
        template == "/panel/rank/{question_id:int}"
        and method == "GET"
        and role in ("panellist", "other-panellist")
    ):
        # Ranking question 999999 is in no round: 404, the answer to another panel's question too (see
        # tests/panellist/test_ranking_page.py); the other panel has no round open yet, so its page is /panel.
        return 404 if role == "panellist" else 303
    if template == "/panel" or template.startswith("/panel/"):
        if account or role == "anonymous":
            return 403
        if template == "/panel/language":
            return 400  # the matrix's form names no language: refused, nothing changes
        if method != "GET":
            return None
        if (template, role) == ("/panel/results", "other-panellist"):
            return 404  # the other panel has not finished, so it has no results yet
        return frozenset({200, 303})
    if template in ("/account", "/account/sign-out-everywhere"):
        if not account:
            return 303
        return 200 if method == "GET" else None  # signing out everywhere would end the visitors' sessions
    if template == "/account/password":
        if not account:
            return 303
        return 200 if method == "GET" else 422  # posted without the current password: refused, nothing saved
    if template == "/password/forgot":  # for everyone; posted without an address: refused
        return 200 if method == "GET" else 422
    if template == "/password/reset/{token:str}":  # requested with a token that is no one's
        return 404
    if template == "/invitation/{token:str}":  # a team invitation link that is no one's: the neutral page
        return 404
    if template.startswith("/account/tokens"):
        if not account:
            return 303
        if template == "/account/tokens":
            return 201 if method == "POST" else 200
        return 404  # revoking a token id that is not the account's
    if template == "/panels/new" or (template == "/panels" and method == "POST"):
        if not account:
            return 303
        if role == "researcher":
            return 403
        if method == "POST":
            # An empty form: refused as bad input. Authorised creators are not sent one.
            return frozenset({400, 422}) if role == "outsider" else None
        return 200
    if template.startswith("/panels/{panel_id:int}/team") and method == "POST":
        if not account:
            return 303
        if role == "outsider":
            return 404
        if role != "owner":
            return 403  # only the owner manages the team
        # The owner: a share form without an address is re-shown; member and invitation 999999 do not exist.
        return 422 if template == "/panels/{panel_id:int}/team" else 404
    if template.startswith("/panels/{panel_id:int}/mail/texts/{kind:str}") and method == "POST":
        if not account:
            return 303
        if role == "outsider":
            return 404
        if role == "researcher":
            return 403  # e-mail texts are for the panel's editors
        # Editors: a text posted without subject or body is refused; restoring a text never saved changes nothing.
        return 303 if template.endswith("/restore") else 422
    if template in CARDS_AND_PAYMENTS and method == "POST":
        if not account:
            return 303
        if role == "outsider":
            return 404
        if role == "researcher":
            return 403  # cards and payments are for the panel's editors
        # Editors: a card posted without "confirm" is only the confirmation page; cards for everyone without
        # saying who, and a payment without an amount, are refused; payment 999999 does not exist.
        return CARDS_AND_PAYMENTS[template]
    if template.startswith("/panels/{panel_id:int}/rankings/{ranking_id:int}") and method == "GET":
        if not account:
            return 303
        # The edit and delete pages are for editors; ranking question 999999 is no question of the panel.
        return 403 if role == "researcher" else 404
    if template == "/panels/{panel_id:int}/languages" and method == "POST":
        if not account:
            return 303
        if role == "outsider":
            return 404
        # Readers see the languages, editors change them: the matrix's form names no primary language.
        return 403 if role == "researcher" else 400
    if template == "/panels/{panel_id:int}/translations/{lang:str}":
        if not account:
            return 303
        if role == "outsider":
            return 404
        if role == "researcher" and method == "POST":
            return 403  # readers see a sheet, editors save it
        return 404  # the matrix's panel is offered in no further language ("cy")
    if template == "/panels/{panel_id:int}/rounds/{number:int}/answers" and method == "GET":
        if not account:
            return 303
        # Round 1 of the matrix's panel asks statements to rate: it has no open-round answers to show.
        return 404
    if template.startswith("/panels/{panel_id:int}"):
        if not account:
            return 303
        if role == "outsider":
            return 404
        if role == "researcher":
            return 403 if method != "GET" or template in RESEARCHER_DENIED_PAGES else 200
        if method == "GET":
            return 200
        # Hiding a comment or a reason: changes nothing that matters.
        moderation = ("/comments/{rating_id:int}", "/reasons/{rating_id:int}")
        return 303 if template.endswith(moderation) else None
    if template.startswith("/api/v1/panels/{panel_id:int}/statements") and method != "GET":
        if not account:
            return 401
        if role == "outsider":
            return 404
        if role == "researcher":
            return 403  # statements are for the panel's editors
        # Editors: {"status": "hidden"} is no statement, no edit, no move, no draft choice and no file (400);
        # round 1 has opened, so S1 stays.
        return 409 if method == "DELETE" else 400
    if template.startswith("/api/v1/panels/{panel_id:int}/rankings"):
        if not account:
            return 401
        if role == "outsider":
            return 404
        if method == "GET":  # the list for every reader; ranking question 999999 is no question of the panel
            return 200 if template.endswith("/rankings") else 404
        if role == "researcher":
            return 403  # ranking questions are set up by the panel's editors
        # Editors: {"status": "hidden"} is no question, no edit and no draft choice (400); question 999999
        # does not exist, so nothing is deleted (404). tests/api/test_ranking_question_writes.py makes them.
        return 404 if method == "DELETE" else 400
    if template.startswith("/api/v1/panels/{panel_id:int}/panellists") and method != "GET":
        if not account:
            return 401
        if role == "outsider":
            return 404
        if role == "researcher":
            return 403  # adding panellists and new links are for the panel's editors
        if template.endswith("/erase"):
            # The owner only; {"status": "hidden"} is no confirmation (400), so nothing is erased:
            # tests/api/test_panellist_writes.py erases.
            return 400 if role == "owner" else 403
        # Editors: {"status": "hidden"} is no panellist and no file (400); a new link really is given (it
        # takes no body), so it is not sent: tests/api/test_panellist_writes.py gives them.
        return None if template.endswith("/reissue") else 400
    if template == "/api/v1/panels" and method == "POST":
        if not account:
            return 401
        # Facilitators and admins create panels, a researcher account does not (before its body is read);
        # {"status": "hidden"} has no title: refused, no panel made. tests/api/test_panel_writes.py makes them.
        return 403 if role == "researcher" else 400
    if template.startswith("/api/v1/panels/{panel_id:int}/groups") and method != "GET":
        if not account:
            return 401
        if role == "outsider":
            return 404
        if role == "researcher":
            return 403  # groups are for the panel's editors
        # Editors: {"status": "hidden"} is no group and no name (400); the group has panellists, so it stays.
        return 409 if method == "DELETE" else 400
    if template.startswith("/api/v1/panels/{panel_id:int}/team") and method != "GET":
        if not account:
            return 401
        if role == "outsider":
            return 404
        if role != "owner":
            return 403  # only the owner manages the team
        return 400 if method == "POST" else 404  # {"status": "hidden"} is no share; no member 999999
    if template.startswith("/api/v1/panels/{panel_id:int}/mail-texts"):
        if not account:
            return 401
        if role == "outsider":
            return 404
        if role == "researcher":
            return 403  # e-mail texts are for the panel's editors, reading included
        # Editors: {"status": "hidden"} is no subject and no body (400); the invitation has no text of the
        # panel's own, so restoring it changes nothing (204).
        return {"GET": 200, "PUT": 400, "DELETE": 204}[method]
    if template in (
        "/api/v1/panels/{panel_id:int}/languages",
        "/api/v1/panels/{panel_id:int}/translations/{lang:str}",
    ):
        if not account:
            return 401
        if role == "outsider":
            return 404
        if method != "GET":
            # Readers look, editors change: {"status": "hidden"} is no languages and no translations (400).
            return 403 if role == "researcher" else 400
        return 404 if template.endswith("{lang:str}") else 200  # the panel is offered in no further language
    if template.startswith(
        (
            "/api/v1/panels/{panel_id:int}/open-questions",
            "/api/v1/panels/{panel_id:int}/rounds/{number:int}/answers",
        )
    ):
        if not account:
            return 401
        if role == "outsider":
            return 404
        if template.endswith("/answers") and method == "GET":
            return 404  # round 1 of the matrix's panel asks statements to rate: it has no open-round answers
        if method == "GET":
            return 404 if template.endswith("{question_id:int}") else 200  # open question 999999 is none
        if role == "researcher":
            return 403  # open questions, themes and drafting are for the panel's editors
        # Editors: {"status": "hidden"} is no kind, question, move, theme or draft (400); open question
        # 999999 is none (404). tests/api/test_open_round_writes.py makes the real changes.
        return 404 if method == "DELETE" else 400
    if template.startswith(
        ("/api/v1/panels/{panel_id:int}/baseline", "/api/v1/panels/{panel_id:int}/honoraria")
    ):
        if not account:
            return 401
        if role == "outsider":
            return 404
        if method == "GET":  # for every reader; baseline question 999999 and payment 999999 are none
            return 404 if template.endswith(("{question_id:int}", "{payment_id:int}")) else 200
        if role == "researcher":
            return 403  # baseline questions and payments are for the panel's editors
        # Editors: {"status": "hidden"} is no question, edit, move or payment (400); question and payment
        # 999999 are none, so nothing is deleted (404). tests/api/test_baseline_writes.py and
        # tests/api/test_honoraria_api.py make the real changes.
        return 404 if method == "DELETE" else 400
    if template in ("/api/v1/panels/{panel_id:int}/mail", "/api/v1/panels/{panel_id:int}/mail/retry"):
        if not account:
            return 401
        if role == "outsider":
            return 404
        if role == "researcher":
            return 403  # the mail page is for the panel's editors, reading included
        # Editors: {"status": "hidden"} names no messages to retry (400), so nothing is queued again;
        # tests/api/test_mail_api.py retries.
        return 200 if method == "GET" else 400
    if template.startswith("/api/v1/"):
        if not account:
            return 401
        if template in ("/api/v1/me", "/api/v1/panels"):
            return 200
        if role == "outsider":
            return 404
        if template in API_ROUND_WRITES and (method != "GET" or template.endswith("/suggestions")):
            # Editors only. The matrix's panel has finished, so its round 1 neither opens nor closes and
            # the panel does not finish again (409); {"status": "hidden"} is no schedule, reminder or review
            # (400). tests/api/test_round_writes.py makes the real changes.
            return 403 if role == "researcher" else API_ROUND_WRITES[template]
        if method == "PATCH" and role != "researcher":
            return 400  # an edit of a comment's wording sent {"status": "hidden"}, without the text: refused
        if method != "GET":
            return 403 if role == "researcher" else 200
        return 200
    if template == "/schema/openapi.json":
        return 200
    if template.startswith(("/static/", "/schema")):
        return None
    raise Unclassified(f"{method} {template} is not in the authorization matrix: add it to expected()")


async def matrix_world(session: AsyncSession, settings: Settings) -> World:
    """:func:`build_world` plus :data:`CONTACT_FACILITATOR`, a facilitator granted "contact panellists"."""
    world = await build_world(session, settings, rounds=2)
    account = await add_role(session, world.study, CONTACT_FACILITATOR, PanelRole.FACILITATOR)
    await session.execute(
        update(PanelAccess)
        .where(PanelAccess.account_id == account.id, PanelAccess.panel_id == world.pid)
        .values(can_contact=True)
    )
    await session.commit()
    world.accounts[CONTACT_FACILITATOR] = account
    return world


@dataclass(frozen=True)
class Case:
    method: str
    template: str
    url: str
    due: dict[str, Due]


#: Every path parameter the app's routes use; :func:`concrete` gives each a value.
PATH_PARAMETERS = frozenset(
    {
        "panel_id", "number", "rating_id", "filename", "group_id", "statement_id", "panellist_id",
        "suggestion_id", "token_id", "token", "file_path", "path", "account_id", "invitation_id", "kind",
        "payment_id", "question_id", "ranking_id", "slot", "lang",
    }
)  # fmt: skip


def concrete(template: str, world: World) -> str:
    values = {
        "panel_id": world.pid,
        "number": 1,
        "rating_id": world.study.comments["formula"],
        "filename": "final-list.csv",
        "group_id": world.study.groups["users"].id,
        "statement_id": world.study.statements["S1"].id,
        "panellist_id": world.study.panellists[0].id,
        "suggestion_id": 999_999,
        "token_id": 999_999,
        "token": "not-anyones-token",
        "file_path": "app.css",
        "path": "openapi.json",
        "account_id": 999_999,
        "invitation_id": 999_999,
        "kind": "invitation",
        "payment_id": 999_999,
        "question_id": 999_999,
        "ranking_id": 999_999,
        "slot": 1,
        "lang": "cy",
    }

    assert set(values) == PATH_PARAMETERS

    def fill(match: re.Match[str]) -> str:
        return str(values[match.group(1)])

    return re.sub(r"\{(\w+)(?::\w+)?\}", fill, template)


def cases(app: Litestar, world: World) -> list[Case]:
    out = []
    for route in app.routes:
        for method in sorted(getattr(route, "methods", ())):
            if method in ("OPTIONS", "HEAD"):
                continue
            due = {role: expected(method, route.path, role) for role in ROLES}
            out.append(Case(method, route.path, concrete(route.path, world), due))
    # The pseudonym key, on the page and through the API: the owner and the facilitator with the grant only.
    owner_only = {
        role: (404 if role == "outsider" else 403) for role in ("outsider", "facilitator", "researcher")
    }
    owner_only["contact-facilitator"] = 200
    for prefix, outsider_status in ((f"/panels/{world.pid}", 303), (f"/api/v1/panels/{world.pid}", 401)):
        due: dict[str, Due] = {role: outsider_status for role in NO_ACCOUNT}
        due.update(owner_only, owner=200)
        out.append(Case("GET", prefix + "/exports/{key}", prefix + "/exports/pseudonym-key.csv", due))
    return out


def test_every_route_of_the_app_is_in_the_matrix(app: Litestar) -> None:
    for route in app.routes:
        for method in set(getattr(route, "methods", ())) - {"OPTIONS", "HEAD"}:
            for role in ROLES:
                expected(method, route.path, role)  # raises Unclassified for a route nobody placed
            for name in re.findall(r"\{(\w+)", route.path):
                assert name in PATH_PARAMETERS, f"no value for the path parameter {name!r} of {route.path}"


async def request(client: AsyncTestClient, case: Case, token: str, api_token: str | None) -> Response:
    """``case`` sent as the visitor: pages and API reads with its cookies, API changes with its API token
    (one that may read and change; none for a visitor without an account), since the API's session cookie
    only reads (tested apart, :func:`test_the_session_cookie_changes_nothing_through_the_api`)."""
    if case.method == "GET":
        return await client.get(case.url, follow_redirects=False)
    if case.template.startswith("/api/"):
        return await client.request(
            case.method,
            case.url,
            json={"status": "hidden"},
            headers={"Authorization": f"Bearer {api_token}"} if api_token else {},
            follow_redirects=False,
        )
    form = {"_csrf_token": token, "name": "matrix", "action": "hide"}
    return await client.request(case.method, case.url, data=form, follow_redirects=False)


@pytest.mark.parametrize("role", ROLES)
async def test_each_visitor_gets_exactly_its_due_and_no_one_elses_email(
    role: str, app: Litestar, client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    world = await matrix_world(session, settings)
    await become(client, world, ACCOUNTS.get(role, role))
    token = await csrf_token(client)
    api_token = None
    if role in ACCOUNTS:
        account = await session.merge(world.accounts[ACCOUNTS[role]])
        _, api_token = await create_api_token(session, account, "matrix", "read write")
        await session.commit()
    wrong, deviations = [], []
    for case in cases(app, world):
        due = case.due[role]
        if due is None:
            continue
        response = await request(client, case, token, api_token)
        status = response.status_code
        allowed = due if isinstance(due, frozenset) else frozenset({due})
        known = KNOWN_DEVIATIONS.get((case.method, case.template, role))
        if status not in allowed:
            if known and status == known[0]:
                deviations.append(f"{case.method} {case.template}: {status} ({known[1]})")
            else:
                wrong.append(f"{case.method} {case.url}: {status}, due {sorted(allowed)}")
        if status == 303 and role not in ACCOUNTS and case.template.startswith(("/panels", "/account")):
            assert response.headers["location"].startswith("/login"), case.url
        if status in (401, 403, 404) and case.template.startswith("/api/"):
            assert response.headers["content-type"].startswith("application/problem+json"), case.url
        if role not in SEE_EMAILS:
            assert EMAIL_DOMAIN not in response.text, f"{case.method} {case.url} shows an e-mail to {role}"
    assert wrong == []
    if deviations:
        print("known deviations:", *deviations, sep="\n  ")


@pytest.mark.parametrize("who", [OWNER, CONTACT_FACILITATOR])
async def test_the_owner_and_the_facilitator_with_the_grant_download_the_pseudonym_key(
    who: str, app: Litestar, client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    world = await matrix_world(session, settings)
    await become(client, world, who)
    response = await client.get(f"/panels/{world.pid}/exports/pseudonym-key.csv")
    assert response.status_code == 200
    assert "panellist01" + EMAIL_DOMAIN in response.text


async def test_the_session_cookie_changes_nothing_through_the_api(
    app: Litestar, client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    """Every API operation that changes something refuses the owner's session cookie, with the CSRF header or
    without it: a 403 problem naming the token it needs (a page of another site cannot act through it)."""
    world = await matrix_world(session, settings)
    await become(client, world, OWNER)
    csrf = await csrf_token(client)
    sent = 0
    for case in cases(app, world):
        if not case.template.startswith("/api/") or case.method == "GET":
            continue
        for headers in ({}, {"x-csrftoken": csrf}):
            response = await client.request(
                case.method, case.url, json={"status": "hidden"}, headers=headers, follow_redirects=False
            )
            assert response.status_code == 403, (case.method, case.url, response.text)
            assert response.headers["content-type"].startswith("application/problem+json")
            assert "token" in response.json()["detail"]
            sent += 1
    assert sent >= 10
