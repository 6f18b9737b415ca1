"""Schemathesis over every ``/api/v1`` operation, generated from the app's own OpenAPI document, in-process.

Each operation is exercised with and without an API token of the seeded panels' owner that may read and
change (``Authorization: Bearer``, scopes ``read write``), with data that fits the schema and data that does
not, and with the path parameters generated or set to real rows (a panel with two closed rounds and one still
being set up, their rounds, groups, statements, panellists, suggestions, comments and export files), so that
the answers are real results and changes, not only 404s.  Every answer must pass schemathesis' checks: no 5xx, the
status, content type, headers and body as the schema documents them, bad data refused with a 4xx.  Litestar
answers OPTIONS with one method per path, so ``allow_header_conformance`` is left out.  At least 1,000
requests are sent; the count is printed.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar import Litestar
from schemathesis.generation import GenerationMode
from schemathesis.schemas import BaseSchema
from schemathesis.specs.openapi.checks import allow_header_conformance
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.accounts import create_api_token
from delphi.db.models import Panel, utcnow
from delphi.domain import Actor
from delphi.panels.baseline import add_question
from delphi.panels.honoraria import record_payment
from delphi.panels.rankings import add_ranking_question
from delphi.results.exports import CATALOG
from delphi.settings import Settings
from tests.results.helpers import FACILITATOR, World, build_world
from tests.study import Study, study_panel

EXAMPLES = int(os.environ.get("DELPHI_SCHEMATHESIS_EXAMPLES", "20"))
MIN_REQUESTS = 1000


@dataclass
class ApiWorld:
    """The world of :func:`build_world` (two closed rounds), a panel of the same owner still being set up
    (``draft``: round 1 not yet open, so the write operations can really change it, with a ranking question and
    a baseline question), a payment on the finished panel, and a token of the owner that may read and change."""

    world: World
    draft: Study
    token: str
    ranking_id: int
    question_id: int
    payment_id: int


@pytest.fixture
async def api_world(session: AsyncSession, settings: Settings) -> ApiWorld:
    world = await build_world(session, settings, rounds=2)
    owner = await session.merge(world.study.owner)
    draft = await study_panel(session, owner)
    actor = Actor.account(owner)
    ranking = await add_ranking_question(session, draft.panel, "Order these", ["A", "B", "C"], False, actor)
    question = await add_question(session, draft.panel, actor, kind="text", text="Anything else?")
    panel = await session.get(Panel, world.pid)
    assert panel is not None
    payment = await record_payment(
        session,
        panel,
        world.study.panellists[0].id,
        {"amount": "15.00", "method": "cash", "paid_on": utcnow().date().isoformat()},
        actor,
    )
    _, token = await create_api_token(session, owner, "schemathesis", "read write")
    await session.commit()
    return ApiWorld(world, draft, token, ranking.id, question.id, payment.id)


def real_parameters(api: ApiWorld) -> dict[str, list[object]]:
    """Real values of every path parameter (rows of both of the owner's panels and of another owner's), and
    one no row has."""
    world, draft = api.world, api.draft
    studies = (world.study, draft, world.other)
    return {
        "panel_id": [world.pid, draft.panel.id, world.other.panel.id],
        "number": [1, 2, 3],
        "group_id": [g.id for s in studies for g in s.groups.values()] + [999_999],
        "statement_id": [x.id for s in studies for x in s.statements.values()] + [999_999],
        "panellist_id": [p.id for s in studies for p in s.panellists[:3]] + [999_999],
        "suggestion_id": [*world.study.suggestions.values(), 999_999],
        "rating_id": list(world.study.comments.values()) + list(world.study.reasons.values()),
        # Every real file, one that does not exist and a real export in a format it does not come in (the
        # schema lists the files, so both are refusals of data outside it: a 404 and a 400).
        "filename": [f"{s.name}.{f}" for s in CATALOG for f in s.formats]
        + ["nothing.csv", "final-list.docx"],
        # Team members (a facilitator, the owner, whose access is never changed here) and no such invitation.
        "account_id": [world.accounts[FACILITATOR].id, world.study.owner.id, 999_999],
        "invitation_id": [999_999],
        "ranking_id": [api.ranking_id, 999_999],
        "question_id": [api.question_id, 999_999],
        "payment_id": [api.payment_id, 999_999],
        "kind": ["invitation", "reminder", "receipt"],
        "lang": ["cy", "es", "en"],
    }


def accept_rule_refusals(schema: BaseSchema) -> None:
    """Let a body that fits its schema be refused with a 422 (documented on every operation that answers it).

    A body's schema states the types and the simple bounds; the rules that need the panel or several fields
    (a group name unique on the panel, a scale that runs upwards, a statement that is not empty once its
    spacing is collapsed, a closing date in the future) are the use cases', and a refusal by them is a 422
    listing every problem, as on the pages.  A 400 for a body that fits its schema stays a failure."""
    accepted = schema.config.checks.positive_data_acceptance
    accepted.expected_statuses = [*accepted.expected_statuses, "422"]


def rows_strategy(op, mode, path_parameters):  # type: ignore[no-untyped-def]
    return op.as_strategy(generation_mode=mode, path_parameters=path_parameters)


def runner(op, strategy, headers, sent, statuses):  # type: ignore[no-untyped-def]
    """A Hypothesis test that sends ``EXAMPLES`` cases of ``strategy`` with ``headers`` and validates them."""

    @given(case=strategy)
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    def run(case) -> None:  # type: ignore[no-untyped-def]
        response = case.call_and_validate(headers=headers, excluded_checks=[allow_header_conformance])
        sent[op.label] += 1
        statuses[response.status_code] += 1

    return run


@pytest.mark.slow  # about 7,000 requests per backend over 87 operations: CI runs it
def test_every_api_operation_answers_within_its_schema_and_never_with_a_5xx(
    app: Litestar, api_world: ApiWorld, report: Callable[[str], None]
) -> None:
    token = api_world.token
    schema = schemathesis.openapi.from_asgi("/schema/openapi.json", app)
    accept_rule_refusals(schema)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert operations and all(op.path.startswith("/api/v1/") for op in operations)
    real = real_parameters(api_world)
    sent: Counter[str] = Counter()
    statuses: Counter[int] = Counter()
    failures: list[str] = []

    for op in operations:
        names = [p.name for p in op.path_parameters]
        fixed = st.fixed_dictionaries({n: st.sampled_from(real[n]) for n in names})
        for authenticated in (True, False):
            headers = {"Authorization": f"Bearer {token}"} if authenticated else {}
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                generated = op.as_strategy(generation_mode=mode)
                with_rows = fixed.flatmap(partial(rows_strategy, op, mode))
                strategy = st.one_of(generated, with_rows) if names else generated

                run = runner(op, strategy, headers, sent, statuses)
                try:
                    run()
                except (
                    Exception,
                    BaseExceptionGroup,
                ) as exc:  # collect every operation's failure, then report them all
                    label = f"{op.label} ({'token' if authenticated else 'anonymous'}, {mode.value})"
                    failures.append(f"{label}:\n{str(exc)[:3000]}")

    total = sum(sent.values())
    report(
        f"\nschemathesis: {total} requests over {len(operations)} operations; statuses {dict(sorted(statuses.items()))}"
    )
    assert failures == [], "\n\n".join(failures)
    assert not [s for s in statuses if s >= 500]
    assert total >= MIN_REQUESTS
    assert set(sent) == {op.label for op in operations}
    assert statuses[200] > 100, "real rows should give real answers"
