"""The audit trail: every recorded action is registered with a sentence, and the audit page reads as sentences."""

from __future__ import annotations

import ast
import string
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from delphi import audit
from delphi.db.engine import make_sessionmaker
from delphi.db.models import AuditEvent
from delphi.domain import SYSTEM, Actor, SuggestionStatus
from delphi.rounds import lookup, moderation, schedule, transitions
from delphi.settings import Settings
from tests.factories import (
    ACTOR,
    NOW,
    PATTERNS,
    build_draft_panel,
    build_draft_panel_by_services,
    rate_everyone,
)
from tests.helpers import login, make_account, post_form
from tests.web.test_facilitator_pages import PANEL_FORM

DELPHI = Path(__file__).resolve().parents[1] / "delphi"

#: What each expression inside an f-string action can be.  A new f-string action fails the static test until
#: its values are listed here (and its actions registered).
FSTRING_VALUES = {
    "suggestion.status": [s.value for s in SuggestionStatus if s != SuggestionStatus.PENDING],
    "what": list(moderation.MODERATED),
}

#: Detail keys that would put a panellist's e-mail or a token in the audit trail.
FORBIDDEN_KEYS = {"email", "to_address", "address", "token", "token_hash", "link"}


def record_calls() -> Iterator[tuple[Path, ast.Call, ast.FunctionDef | ast.AsyncFunctionDef | None]]:
    """Every ``audit.record(...)`` call in ``delphi/``, with the function it is in."""
    for path in sorted(DELPHI.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for func in [
            None,
            *(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)),
        ]:
            body = tree if func is None else func
            for node in ast.walk(body):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "record"
                    and isinstance(node.func.value, ast.Name)
                    and node.func.value.id == "audit"
                    and func is not None
                    and _innermost(tree, node) is func
                ):
                    yield path, node, func


def _innermost(tree: ast.AST, target: ast.AST) -> ast.AST | None:
    found = None
    for n in ast.walk(tree):
        if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and any(c is target for c in ast.walk(n)):
            if found is None or any(c is n for c in ast.walk(found)):
                found = n
    return found


def resolve(expr: ast.expr, func: ast.AST) -> set[str]:
    """The concrete strings an ``action=`` expression can take."""
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        return {expr.value}
    if isinstance(expr, ast.IfExp):
        return resolve(expr.body, func) | resolve(expr.orelse, func)
    if isinstance(expr, ast.JoinedStr):
        out = {""}
        for part in expr.values:
            if isinstance(part, ast.Constant):
                out = {o + str(part.value) for o in out}
            else:
                assert isinstance(part, ast.FormattedValue)
                source = ast.unparse(part.value)
                assert source in FSTRING_VALUES, f"list the values of {{{source}}} in FSTRING_VALUES"
                out = {o + v for o in out for v in FSTRING_VALUES[source]}
        return out
    if isinstance(expr, ast.Name):
        values = set()
        for node in ast.walk(func):
            if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == expr.id for t in node.targets
            ):
                values |= resolve(node.value, func)
        assert values, f"cannot resolve action variable {expr.id}"
        return values
    raise AssertionError(f"cannot resolve action expression {ast.unparse(expr)}")


def keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def recorded_actions() -> dict[str, set[str]]:
    """Each action the code can record, with the detail keys its call passes (None when not a literal dict)."""
    out: dict[str, set[str]] = {}
    for path, call, func in record_calls():
        action = keyword(call, "action")
        assert action is not None, f"{path}:{call.lineno} records no action="
        detail = keyword(call, "detail")
        if detail is None:
            keys: set[str] | None = set()
        elif isinstance(detail, ast.Dict) and all(isinstance(k, ast.Constant) for k in detail.keys):
            keys = {k.value for k in detail.keys}  # type: ignore[union-attr]
        else:
            keys = None
        for value in resolve(action, func):
            out.setdefault(value, set()).update(keys if keys is not None else {"*"})
    return out


def test_every_action_the_code_records_is_registered_and_every_registered_action_is_recorded() -> None:
    actions = recorded_actions()
    assert len(actions) > 30  # the scan finds the calls
    assert sorted(set(actions) - set(audit.ACTIONS)) == []
    assert sorted(set(audit.ACTIONS) - set(actions)) == []


def test_each_sentence_uses_only_detail_keys_its_recording_call_passes() -> None:
    for action, keys in recorded_actions().items():
        if "*" in keys:  # detail built elsewhere (round.close_failed): checked by its own test below
            continue
        missing = audit.ACTIONS[action].fields - keys
        assert not missing, f"{action}: the sentence needs {sorted(missing)}, the call passes {sorted(keys)}"


def test_no_recorded_detail_holds_an_email_or_a_token() -> None:
    for action, keys in recorded_actions().items():
        assert not keys & FORBIDDEN_KEYS, f"{action} records {sorted(keys & FORBIDDEN_KEYS)}"
    for text in audit.ACTIONS.values():
        assert not text.fields & FORBIDDEN_KEYS


def test_sentences_are_well_formed_templates() -> None:
    for action, text in audit.ACTIONS.items():
        assert text.label and text.sentence.strip().endswith((".", "}")), action
        list(string.Formatter().parse(text.sentence))  # raises on a broken template


def test_describe_turns_an_event_into_a_sentence() -> None:
    assert audit.describe("round.opened", {"round": 1, "invitations": 12, "closes_at": None}) == (
        "Round 1 opened; 12 invitations queued."
    )
    assert audit.describe("panellist.imported", {"count": 6}) == "6 panellists were imported."
    assert audit.describe("panel.updated", {"fields": ["max_rounds", "title"]}) == (
        "Panel settings changed: max rounds, title."
    )
    closed = audit.describe(
        "round.closed",
        {
            "round": 1,
            "verdicts": {"in": 1, "out": 1, "none": 2, "insufficient": 0},
            "carried_forward": 2,
            "respondents": 12,
            "finished": False,
        },
    )
    assert closed == (
        "Round 1 closed with 12 respondents; verdicts: in 1, out 1, none 2, insufficient 0; "
        "2 statements carried forward."
    )
    scheduled = audit.describe(
        "round.scheduled",
        {"round": 2, "opens_at": None, "closes_at": "2026-12-12T09:30:00+00:00", "reminder_hours": [168, 48]},
    )
    assert scheduled == (
        "Round 2 was scheduled: opens by hand, closes 2026-12-12 09:30 UTC; "
        "reminder hours before the close: 168, 48."
    )
    assert audit.describe("suggestion.merged", {"suggestion_id": 4, "statement_id": 9}) == (
        "Suggestion 4 was merged into statement 9."
    )


def test_describe_falls_back_to_the_action_for_missing_keys_an_unknown_action_or_odd_detail() -> None:
    assert audit.describe("round.opened", {"round": 1}) == "Round opened (round.opened)."
    assert audit.describe("round.opened", None) == "Round opened (round.opened)."
    assert audit.describe("no.such_action", {"x": 1}) == "Recorded “no.such_action”."
    assert audit.describe("panellist.consented", {}) == "A panellist gave their consent."
    assert audit.describe("round.opened", "not a dict") == "Round opened (round.opened)."  # type: ignore[arg-type]
    assert audit.describe("round.opened", {"round": "{x}", "invitations": 1}) == (
        "Round {x} opened; 1 invitations queued."
    )


async def test_record_refuses_an_unregistered_action_and_a_string_actor(session: AsyncSession) -> None:
    with pytest.raises(ValueError, match="not registered"):
        audit.record(session, actor=SYSTEM, action="round.vanished")
    with pytest.raises(TypeError):
        audit.record(session, actor="system", action="round.opened")  # type: ignore[arg-type]
    event = audit.record(session, actor=Actor("account:fac@example.org", 7), action="panellist.consented")
    assert (event.actor, event.account_id) == ("account:fac@example.org", 7)


async def test_round_close_failed_detail_reads_as_a_sentence(
    session: AsyncSession, settings: Settings
) -> None:
    from delphi.errors import Conflict
    from delphi.rounds import scheduler

    panel = await build_draft_panel(session)
    await scheduler._record_close_failure(session, panel.id, 1, Conflict("Nobody has rated yet."))
    await session.flush()
    event = await session.scalar(select(AuditEvent).where(AuditEvent.action == "round.close_failed"))
    assert event is not None
    assert audit.describe(event.action, event.detail) == (
        "Round 1 could not close at its deadline: Nobody has rated yet."
    )


async def test_every_action_a_round_records_in_the_database_is_registered(
    session: AsyncSession, settings: Settings
) -> None:
    panel = await build_draft_panel_by_services(session, settings)
    round1 = await lookup.get_round(session, panel, 1)
    await transitions.open_round(session, panel, round1, now=NOW, settings=settings, actor=ACTOR)
    await schedule.send_reminder_now(session, panel, round1, now=NOW, settings=settings, actor=ACTOR)
    await rate_everyone(session, panel, round1, PATTERNS)
    await transitions.close_round(
        session, panel, round1, now=NOW + timedelta(days=1), settings=settings, actor=SYSTEM
    )
    await session.flush()
    events = (await session.scalars(select(AuditEvent))).all()
    actions = {e.action for e in events}
    assert {"panel.created", "round.opened", "round.reminded", "round.closed"} <= actions
    assert actions <= set(audit.ACTIONS)
    for e in events:
        sentence = audit.describe(e.action, e.detail)
        assert "(" + e.action + ")" not in sentence, f"{e.action} fell back: {e.detail}"
    locked = next(e for e in events if e.action == "rule.locked")
    assert lookup.panel_rule(panel).describe() in audit.describe(locked.action, locked.detail)


async def test_the_audit_page_shows_each_event_as_a_sentence_with_when_and_who(
    client: AsyncTestClient, engine: AsyncEngine
) -> None:
    await make_account(engine, "fac@example.org")
    await login(client, "fac@example.org")
    r = await post_form(client, "/panels", PANEL_FORM, token_page="/panels/new", follow_redirects=False)
    base = r.headers["location"]
    assert (
        await post_form(client, f"{base}/groups", {"name": "Experts"}, token_page=f"{base}/groups")
    ).is_success
    page = await client.get(f"{base}/audit")
    assert page.status_code == 200
    assert "Panel “Treatment decisions” was created." in page.text
    assert "Stakeholder group “Experts” was added." in page.text
    assert "fac@example.org" in page.text and "What happened" in page.text
    assert "{&#34;" not in page.text and '{"' not in page.text  # no raw JSON detail
    async with make_sessionmaker(engine)() as s:
        assert await s.scalar(select(AuditEvent.id).where(AuditEvent.action == "group.added")) is not None
