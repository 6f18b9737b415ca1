"""Schemathesis' stateful mode over ``/api/v1``: chains of requests that follow the document's OpenAPI links.

A research team's script does not send one request at random: it creates a panel, adds a group to that panel,
a panellist to that group, opens a round of it.  The links of :mod:`delphi.web.api.links` say which answer
gives the ids the next request needs, and Schemathesis' state machine follows them in-process with an API
token of an owner that may read and change (``read write``): every answer, linked or not, must pass the
checks (no 5xx; status, content type, headers and body as documented; bad data refused with a 4xx).  The
links inferred by Schemathesis' own analysis are turned off, so only the declared ones are followed, and the
test counts the steps that really took their values from an earlier answer.  ``DELPHI_STATEFUL_EXAMPLES``
sets the number of scenarios (each at most ``STEPS`` requests long).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable
from typing import Any

import hypothesis
import pytest
import schemathesis
from litestar import Litestar
from litestar.testing import AsyncTestClient
from schemathesis.generation import GenerationMode
from schemathesis.generation.stateful.control import TransitionController
from schemathesis.specs.openapi.checks import allow_header_conformance
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.accounts import create_api_token
from delphi.settings import Settings
from delphi.web.api.links import LINKS, missing_links
from tests.adversarial.test_api_schema import accept_rule_refusals
from tests.results.helpers import World, build_world

EXAMPLES = int(os.environ.get("DELPHI_STATEFUL_EXAMPLES", "60"))
STEPS = 20
#: Where a scenario starts: the operations that need no id (every other step takes its ids along a link;
#: requests with made-up ids are test_api_schema.py's).
ROOTS = frozenset({"POST /api/v1/panels", "GET /api/v1/panels"})
NEW_PANEL = "POST /api/v1/panels"
#: Links from a new panel, each of which must have been followed and answered 2xx at least once (a change of
#: the new panel's settings too, but generated settings are often refused by the rules: followed is enough).
FROM_NEW_PANEL = {
    (NEW_PANEL, "GET /api/v1/panels/{panel_id}"),
    (NEW_PANEL, "POST /api/v1/panels/{panel_id}/groups"),
    (NEW_PANEL, "POST /api/v1/panels/{panel_id}/statements"),
    (NEW_PANEL, "GET /api/v1/panels/{panel_id}/rounds"),
}
CHANGE_NEW_PANEL = (NEW_PANEL, "PATCH /api/v1/panels/{panel_id}")
#: At least this many links further down a chain (from a new group, statement, panellist or the rounds listed)
#: followed, with a value from an earlier answer, and this many steps along links in all.
DEEPER_LINKS = 6
LINKED_STEPS = 150


class FromRoots(TransitionController):
    """Schemathesis' choice of the next step, starting scenarios only at :data:`ROOTS`."""

    __slots__ = ()

    def allow_root_transition(self, source: str, bundles: Any) -> bool:
        return source in ROOTS and super().allow_root_transition(source, bundles)


@pytest.fixture
async def api_world(session: AsyncSession, settings: Settings) -> tuple[World, str]:
    """A panel with one round, and an API token of its owner that may read and change."""
    world = await build_world(session, settings, rounds=1)
    owner = await session.merge(world.study.owner)
    _, token = await create_api_token(session, owner, "schemathesis stateful", "read write")
    await session.commit()
    return world, token


async def test_every_declared_link_is_in_the_served_openapi_document(client: AsyncTestClient) -> None:
    document = (await client.get("/schema/openapi.json")).json()
    assert missing_links(document) == []
    served = {
        (name, op["operationId"], code)
        for item in document["paths"].values()
        for op in item.values()
        if isinstance(op, dict) and "responses" in op
        for code, answer in op["responses"].items()
        for name in answer.get("links", {})
    }
    assert len(served) == len(LINKS)


@pytest.mark.slow
def test_linked_api_requests_chain_without_a_5xx_or_an_answer_outside_the_schema(
    app: Litestar, api_world: tuple[World, str], report: Callable[[str], None]
) -> None:
    _, token = api_world
    schema = schemathesis.openapi.from_asgi("/schema/openapi.json", app)
    schema.config.phases.stateful.inference.algorithms = []  # follow the declared links only
    # Chains of requests that fit the schema (data that does not is test_api_schema.py's).
    schema.config.phases.stateful.generation.update(modes=[GenerationMode.POSITIVE])
    accept_rule_refusals(schema)
    followed: Counter[tuple[str, str]] = Counter()
    succeeded: Counter[tuple[str, str]] = Counter()
    statuses: Counter[int] = Counter()
    answers: Counter[tuple[str, int]] = Counter()  # (operation, status): what each step was answered

    class Workflow(schema.as_state_machine()):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__()
            self.control = FromRoots(self._transitions, ROOTS)

        def before_call(self, case: Any) -> None:
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}

        def step(self, input: Any) -> Any:
            output = super().step(input)
            statuses[output.response.status_code] += 1
            answers[(input.case.operation.label, output.response.status_code)] += 1
            if input.transition is not None and input.applied_parameters:
                source = input.transition.id.split(" -> ")[0]
                pair = (source, input.case.operation.label)
                followed[pair] += 1
                if output.response.status_code < 300:
                    succeeded[pair] += 1
            return output

        def validate_response(
            self, response: Any, case: Any, additional_checks: Any = None, **kw: Any
        ) -> None:
            # Litestar answers OPTIONS with one method per path (as in test_api_schema.py).
            case.validate_response(
                response,
                additional_checks=additional_checks,
                excluded_checks=[allow_header_conformance],
                transport_kwargs=kw or None,
                recorder=self.recorder,
            )

    Workflow.run(
        settings=hypothesis.settings(
            max_examples=EXAMPLES,
            stateful_step_count=STEPS,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[hypothesis.Phase.generate],
            suppress_health_check=list(hypothesis.HealthCheck),
        )
    )

    report(
        f"\nschemathesis stateful: {sum(statuses.values())} requests, {sum(followed.values())} along links; "
        f"statuses {dict(sorted(statuses.items()))}; followed {len(followed)} links"
    )
    assert not [s for s in statuses if s >= 500]
    seen = f"followed: {dict(followed)}; answered 2xx: {dict(succeeded)}; answers: {dict(answers)}"
    assert FROM_NEW_PANEL - set(succeeded) == set(), f"links from a new panel never answered 2xx; {seen}"
    assert followed[CHANGE_NEW_PANEL] > 0, seen
    deeper = {(source, target) for source, target in followed if source not in ROOTS}
    assert len(deeper) >= DEEPER_LINKS, seen
    assert sum(followed.values()) >= LINKED_STEPS, seen
