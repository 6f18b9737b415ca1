"""Fuzzing of the forms and imports people send (Hypothesis): bad input gets a 4xx with a message, never a 5xx.

Covered: the JSON background save of one answer (any JSON, and bodies that are not JSON at all), the
panellist's rating page form (any field names and values), the consent and suggestion forms, the facilitator's
panel, group and statement forms, the statements import (pasted text and uploaded file) and the panellists CSV
import (uploaded bytes in any encoding, or none).  Values come from a mix of plain text, control characters,
invalid UTF-8 bytes, oversized fields (past every limit the forms have) and spreadsheet-formula lookalikes.
Whatever is stored must be text a database keeps (no NUL) and a later page must still render.
"""

from __future__ import annotations

import os
import re
from urllib.parse import quote_from_bytes, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from delphi.db.models import Panel
from tests.factories import World, build_panel
from tests.helpers import csrf_from, login, make_account

FUZZ = settings(
    max_examples=int(os.environ.get("DELPHI_FUZZ_EXAMPLES", "40")),  # raise it for a deeper local run
    deadline=None,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
#: Text a person could send: anything printable, control characters, very long, formula-like.
texts = st.one_of(
    st.text(max_size=200),
    st.text(st.characters(max_codepoint=0x1F), max_size=50),
    st.text(st.characters(codec="utf-8"), min_size=1, max_size=40).map(lambda s: s * 700),  # past 20,000
    st.sampled_from(['=HYPERLINK("http://evil.example","x")', "+1+1", "-2", "@SUM(A1)", "\t=1", "\r=1"]),
    st.just("\x00"),
    st.just(""),
    st.integers(min_value=-(10**20), max_value=10**20).map(str),  # past every integer column
    st.sampled_from(["inf", "-inf", "1e400", "nan", "9999-12-31T23:59-14:00", "0001-01-01T00:00+14:00"]),
)
#: Form bodies that are not even valid UTF-8 or URL encoding.
raw_forms = st.binary(max_size=400).map(lambda b: b"x=" + quote_from_bytes(b).encode() + b"&" + b)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | texts,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=10,
)
answers = st.one_of(
    st.integers(-5, 15), st.sampled_from(["unable", "UNABLE", " 7 ", "7.0", "", "1e3", "NaN"]), json_values
)


def no_server_error(response) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code < 500, (
        f"{response.request.method} {response.request.url}: {response.text[:800]}"
    )


@pytest.fixture
async def panellist(session: AsyncSession, client: AsyncTestClient) -> tuple[World, str]:
    """A consented panellist in an open round, signed in on ``client``; returns the world and a CSRF token."""
    world = await build_panel(session, consented=True)
    await session.commit()
    assert (await client.get(f"/p/{world.token}", follow_redirects=False)).status_code == 303
    return world, csrf_from((await client.get("/panel/rate")).text)


@pytest.fixture
async def facilitator(engine: AsyncEngine, session: AsyncSession, client: AsyncTestClient) -> tuple[int, str]:
    """A facilitator signed in on ``client`` who owns a draft panel; returns its id and a CSRF token."""
    await make_account(engine, "fuzz@facilitators.example")
    await login(client, "fuzz@facilitators.example")
    response = await client.get("/panels/new")
    token = csrf_from(response.text)
    created = await client.post(
        "/panels",
        data={"title": "Fuzzed panel", "scale_min": "1", "scale_max": "9", "_csrf_token": token},
        follow_redirects=False,
    )
    assert created.status_code == 303, created.text
    panel_id = int(created.headers["location"].rstrip("/").split("/")[-1])
    assert await session.get(Panel, panel_id) is not None
    return panel_id, token


@given(answer=answers, comment=st.one_of(st.none(), texts, json_values), reason=st.one_of(st.none(), texts))
@FUZZ
async def test_background_save_answers_any_json_with_a_result_or_a_4xx_problem(
    client: AsyncTestClient, panellist: tuple[World, str], answer: object, comment: object, reason: object
) -> None:
    world, token = panellist
    sid = world.statements[0].id
    response = await client.post(
        f"/panel/ratings/{sid}",
        json={"answer": answer, "comment": comment, "reason": reason},
        headers={"x-csrftoken": token},
    )
    no_server_error(response)
    if response.status_code == 200:
        body = response.json()
        assert body["statement_id"] == sid and (body["unable"] or 1 <= (body["value"] or 1) <= 9)
    else:
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["detail"]


@given(body=st.one_of(st.binary(max_size=300), json_values.map(lambda v: repr(v).encode())))
@FUZZ
async def test_background_save_answers_bodies_that_are_not_json_with_a_4xx(
    client: AsyncTestClient, panellist: tuple[World, str], body: bytes
) -> None:
    world, token = panellist
    response = await client.post(
        f"/panel/ratings/{world.statements[1].id}",
        content=body,
        headers={"x-csrftoken": token, "content-type": "application/json"},
    )
    no_server_error(response)


async def test_background_save_refuses_a_body_over_the_size_limit(
    client: AsyncTestClient, panellist: tuple[World, str]
) -> None:
    world, token = panellist
    response = await client.post(
        f"/panel/ratings/{world.statements[0].id}",
        content=b'{"answer": 5, "comment": "' + b"x" * (6 * 1024 * 1024) + b'"}',
        headers={"x-csrftoken": token, "content-type": "application/json"},
    )
    assert response.status_code == 413


@given(
    fields=st.dictionaries(
        st.one_of(
            st.sampled_from(["s", "c", "r"]).flatmap(
                lambda k: st.integers(-1, 10**13).map(lambda n: f"{k}{n}")
            ),
            st.sampled_from(["action", "page", "_csrf_token"]),
            st.text(max_size=12),
        ),
        texts,
        max_size=8,
    ),
    page=st.one_of(st.none(), st.integers(-3, 10**6).map(str), texts.map(lambda t: t[:20])),
)
@FUZZ
async def test_rating_form_answers_any_fields_with_a_page(
    client: AsyncTestClient, panellist: tuple[World, str], fields: dict[str, str], page: str | None
) -> None:
    world, token = panellist
    real = {f"s{s.id}": "5" for s in world.statements[:2]}
    response = await client.post(
        "/panel/rate",
        params={"page": page} if page is not None else None,
        data={**real, **fields, "_csrf_token": token},
        follow_redirects=False,
    )
    no_server_error(response)
    if response.status_code >= 400:
        assert "text/html" in response.headers["content-type"]
    follow = await client.get("/panel/review")
    assert follow.status_code == 200


@given(raw=raw_forms)
@FUZZ
async def test_panellist_forms_answer_undecodable_bodies_without_a_5xx(
    client: AsyncTestClient, panellist: tuple[World, str], raw: bytes
) -> None:
    _, token = panellist
    for path in ("/panel/rate", "/panel/suggest", "/panel/consent"):
        response = await client.post(
            path,
            content=raw + b"&_csrf_token=" + token.encode(),
            headers={"content-type": "application/x-www-form-urlencoded"},
            follow_redirects=False,
        )
        no_server_error(response)


@given(text=texts, section=texts, kind=st.sampled_from(["new", "rewording", "", "bogus"]), statement=texts)
@FUZZ
async def test_suggestion_form_answers_any_text_without_a_5xx(
    client: AsyncTestClient, panellist: tuple[World, str], text: str, section: str, kind: str, statement: str
) -> None:
    _, token = panellist
    response = await client.post(
        "/panel/suggest",
        data={"text": text, "section": section, "kind": kind, "statement": statement, "_csrf_token": token},
        follow_redirects=False,
    )
    no_server_error(response)
    assert (await client.get("/panel/suggest")).status_code == 200


PANEL_FIELDS = (
    "title", "description", "consent_text", "scale_min", "scale_max", "scale_labels", "rule_name", "rule_scope",
    "agree_band", "disagree_band", "min_ratings", "max_rounds", "k_min", "honorarium", "currency",
    "unable_label", "quantile_method", "unable_policy", "allow_unable",
)  # fmt: skip


@given(values=st.fixed_dictionaries({}, optional={name: texts for name in PANEL_FIELDS}))
@FUZZ
async def test_panel_forms_answer_any_values_without_a_5xx(
    client: AsyncTestClient, facilitator: tuple[int, str], values: dict[str, str]
) -> None:
    panel_id, token = facilitator
    for path in ("/panels", f"/panels/{panel_id}/settings"):
        response = await client.post(path, data={**values, "_csrf_token": token}, follow_redirects=False)
        no_server_error(response)
    assert (await client.get(f"/panels/{panel_id}/settings")).status_code == 200


@given(name=texts, text=texts, section=texts)
@FUZZ
async def test_group_and_statement_forms_answer_any_text_without_a_5xx(
    client: AsyncTestClient, facilitator: tuple[int, str], name: str, text: str, section: str
) -> None:
    panel_id, token = facilitator
    for path, data in (
        (f"/panels/{panel_id}/groups", {"name": name}),
        (f"/panels/{panel_id}/statements", {"text": text, "section": section}),
    ):
        response = await client.post(path, data={**data, "_csrf_token": token}, follow_redirects=False)
        no_server_error(response)
    assert (await client.get(f"/panels/{panel_id}/statements")).status_code == 200


@given(
    email=texts,
    group=st.one_of(texts, st.integers(-(10**12), 10**12).map(str)),
    name=texts,
    language=texts,
    message_ids=st.lists(st.integers(-(10**20), 10**20).map(str) | texts, max_size=4),
)
@FUZZ
async def test_panellist_and_mail_forms_answer_any_values_without_a_5xx(
    client: AsyncTestClient,
    facilitator: tuple[int, str],
    email: str,
    group: str,
    name: str,
    language: str,
    message_ids: list[str],
) -> None:
    panel_id, token = facilitator
    response = await client.post(
        f"/panels/{panel_id}/panellists",
        data={"email": email, "group_id": group, "name": name, "language": language, "_csrf_token": token},
        follow_redirects=False,
    )
    no_server_error(response)
    response = await client.post(
        f"/panels/{panel_id}/mail/retry",
        content=urlencode([("message_id", m) for m in message_ids] + [("_csrf_token", token)]),
        headers={"content-type": "application/x-www-form-urlencoded"},
        follow_redirects=False,
    )
    no_server_error(response)


async def test_every_route_answers_ids_no_row_can_have_with_a_4xx(
    app: Litestar, client: AsyncTestClient, facilitator: tuple[int, str]
) -> None:
    _, token = facilitator
    checked = 0
    for route in app.routes:
        if ":int}" not in route.path:
            continue
        for big in (2**31, 10**20, -(10**20)):
            url = re.sub(r"\{\w+:int\}", str(big), route.path)
            url = re.sub(r"\{\w+(:\w+)?\}", "x", url)
            for method in sorted(set(getattr(route, "methods", ())) - {"OPTIONS", "HEAD"}):
                response = await client.request(
                    method,
                    url,
                    data={"_csrf_token": token},
                    headers={"x-csrftoken": token},
                    follow_redirects=False,
                )
                no_server_error(response)
                checked += 1
    assert checked > 100


#: CSV-ish files: real rows mixed with junk, in UTF-8, UTF-16, Latin-1 or raw bytes.
csv_rows = st.lists(
    st.lists(
        st.one_of(texts.map(lambda t: t[:300]), st.sampled_from(["email", "group", "name", "language"])),
        max_size=6,
    ),
    max_size=12,
).map(lambda rows: "\n".join(",".join(cells) for cells in rows))
csv_files = st.one_of(
    csv_rows.map(lambda t: t.encode("utf-8", "surrogatepass")),
    csv_rows.map(lambda t: t.encode("utf-16", "surrogatepass")),
    csv_rows.map(lambda t: t.encode("latin-1", "replace")),
    st.binary(max_size=2000),
    st.just(b"\xef\xbb\xbfemail,group,name\n" + b"a@b.example,Nobody,\xff\xfe\n" * 3),
)


@given(data=csv_files, as_text=st.booleans(), confirm=st.booleans())
@FUZZ
async def test_imports_answer_any_file_without_a_5xx(
    client: AsyncTestClient, facilitator: tuple[int, str], data: bytes, as_text: bool, confirm: bool
) -> None:
    panel_id, token = facilitator
    form = {"_csrf_token": token, **({"confirm": "1"} if confirm else {})}
    for path, text_field in (
        (f"/panels/{panel_id}/panellists/import", "csv_text"),
        (f"/panels/{panel_id}/statements/import", "bulk"),
    ):
        if as_text:
            body = {**form, text_field: data.decode("utf-8", "replace")}
            response = await client.post(path, data=body, follow_redirects=False)
        else:
            response = await client.post(
                path, data=form, files={"file": ("upload.csv", data, "text/csv")}, follow_redirects=False
            )
        no_server_error(response)
    assert (await client.get(f"/panels/{panel_id}/panellists")).status_code == 200
