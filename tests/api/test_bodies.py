"""An API body that does not fit its struct: every invalid, missing and unknown field listed at once; an\nunknown query parameter refused."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.settings import Settings
from delphi.web.api.bodies import field_problems, without_nul
from tests.results.helpers import OWNER, PROBLEM, bearer, world_and_token


class Sample(msgspec.Struct, forbid_unknown_fields=True):
    title: Annotated[str, msgspec.Meta(min_length=1, max_length=10)]
    k_min: Annotated[int, msgspec.Meta(ge=1)]
    opens_at: datetime | None = None
    labels: list[str] = []


def test_every_field_that_does_not_fit_is_listed_in_field_order_with_unknown_fields_last() -> None:
    raw = b'{"k_min": 0, "opens_at": "soon", "labels": "a", "colour": "red"}'
    assert field_problems(Sample, raw) == [
        ("title", "Required, and missing."),
        ("k_min", "Expected `int` >= 1"),
        ("opens_at", "Invalid RFC3339 encoded datetime"),
        ("labels", "Expected `array`, got `str`"),
        ("colour", "Not a field of this request."),
    ]


def test_a_body_that_fits_has_no_problems_and_one_that_is_not_an_object_says_so() -> None:
    assert field_problems(Sample, b'{"title": "Pain", "k_min": 3, "opens_at": "2027-01-04T09:00:00Z"}') == []
    assert field_problems(Sample, b"[1, 2]") == [("", "The body must be a JSON object.")]
    assert field_problems(Sample, b"{not json") == [("", "The body is not valid JSON.")]


async def test_a_query_parameter_the_operation_does_not_take_is_refused_naming_it(
    session: AsyncSession, client: AsyncTestClient, settings: Settings
) -> None:
    world, token = await world_and_token(session, client, settings, OWNER)
    typo = await client.get(f"/api/v1/panels/{world.pid}/mail?pgae=2", headers=bearer(token))
    assert typo.status_code == 400 and typo.headers["content-type"].startswith(PROBLEM)
    assert typo.json()["errors"] == [
        {"field": "pgae", "message": "Not a query parameter of this operation.", "source": "query"}
    ]
    assert (
        await client.get(f"/api/v1/panels/{world.pid}/mail?page=1", headers=bearer(token))
    ).status_code == 200
    assert (await client.get(f"/api/v1/panels/{world.pid}?page=1", headers=bearer(token))).status_code == 400


def test_a_nul_escape_is_dropped_from_a_body_and_a_literal_backslash_u0000_is_kept() -> None:
    assert without_nul(b'{"t": "a\\u0000b"}') == b'{"t": "ab"}'
    assert without_nul(b'{"t": "\\\\u0000"}') == b'{"t": "\\\\u0000"}'  # the six characters \u0000, typed
    assert without_nul(b'{"t": "x\\\\\\u0000y"}') == b'{"t": "x\\\\y"}'  # a backslash, then a NUL


async def test_a_nul_in_any_text_of_a_body_is_dropped_as_the_pages_forms_drop_it(
    session: AsyncSession, client: AsyncTestClient, settings: Settings
) -> None:
    """PostgreSQL refuses a NUL in text: sent in a panel's title it was a 500 there."""
    _, token = await world_and_token(session, client, settings, OWNER)
    made = await client.post(
        "/api/v1/panels",
        json={"title": "Take-home\x00 doses", "contact_name": "Ana\x00"},
        headers=bearer(token),
    )
    assert made.status_code == 201, made.text
    assert made.json()["title"] == "Take-home doses" and made.json()["contact_name"] == "Ana"
