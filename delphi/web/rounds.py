"""Facilitator pages of one round: its page, schedule, open, close, remind, finish the panel, review suggestions.

The round page lists what stops the round opening or closing (:func:`delphi.rounds.transitions.round_blockers`);
every action calls one round use case and redirects (303), or re-shows the round page with the reason (4xx, the
transaction rolled back). Reading needs a reader's role, every action an editor's (:mod:`delphi.web.guards`).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from litestar import Controller, Request, get, post
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import Account, Round
from delphi.domain import Actor, RoundStatus
from delphi.errors import ActionFailed, DelphiError, InvalidInput
from delphi.panels import listing
from delphi.panels.access import start_over
from delphi.rounds import lifecycle, moderation, transitions
from delphi.rounds.lookup import get_round
from delphi.rounds.overview import round_overview
from delphi.rounds.schedule import send_reminder_now, set_schedule
from delphi.settings import Settings
from delphi.web.forms import parse_datetime, read_form, render_form, whole_number
from delphi.web.guards import PanelAccess
from delphi.web.panel_nav import panel_nav

log = logging.getLogger("delphi.web")

#: What each round transition does, for the message when it fails unexpectedly (keyed by its redirect query).
TRANSITION_WORDS = {"opened": "open", "closed": "close", "reminded": "send the reminder for"}


def _schedule_values(round_: Round) -> dict[str, str]:
    """The schedule form's fields as stored: ``datetime-local`` values and reminders like ``7d, 12h``."""
    return {
        "opens_at": round_.opens_at.strftime("%Y-%m-%dT%H:%M") if round_.opens_at else "",
        "closes_at": round_.closes_at.strftime("%Y-%m-%dT%H:%M") if round_.closes_at else "",
        "reminders": ", ".join(
            f"{h // 24}d" if h % 24 == 0 else f"{h}h" for h in round_.reminder_offsets_hours
        ),
    }


async def _ctx(session: AsyncSession, access: PanelAccess, account: Account, round_: Round) -> dict[str, Any]:
    panel = access.panel
    ctx = await panel_nav(session, access, account)
    blockers, close_blockers = await transitions.round_blockers(session, panel, round_)
    draft = round_.status == RoundStatus.DRAFT
    ctx.update(
        round=round_,
        statements=await listing.round_statements(session, round_.id),
        tab=f"round{round_.number}",
        suggestions=await listing.pending_suggestions(session, panel.id) if draft else [],
        blockers=blockers,
        close_blockers=close_blockers,
        values=_schedule_values(round_),
        overview=await round_overview(session, panel),
    )
    return ctx


async def _refuse(
    session: AsyncSession,
    access: PanelAccess,
    account: Account,
    number: int,
    exc: DelphiError,
    values: dict[str, str] | None = None,
) -> Template:
    """The round page again after a refused action: rolled back, with ``exc``'s messages and actions, and the
    posted ``values`` in the schedule form."""
    await start_over(session, access.panel, account)
    round_ = await get_round(session, access.panel, number)
    ctx = await _ctx(session, access, account, round_)
    if values:
        ctx["values"].update(values)
    errors = getattr(exc, "errors", None) or [(exc.field or "", exc.message)]
    if getattr(exc, "actions", None):
        errors = [("", exc.message)] + [("", a) for a in exc.actions]
    return render_form("facilitator/round.html", ctx, errors=errors, status_code=exc.status_code)


def _unexpected_failure(number: int, query: str) -> ActionFailed:
    """The refusal shown (503) when a transition failed for a reason that is not a DelphiError."""
    at = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return ActionFailed(
        f"Could not {TRANSITION_WORDS.get(query, query)} round {number} because of an unexpected "
        "problem on the server. Nothing was changed.",
        [
            "Try again in a few minutes.",
            "Check the panel settings (scale and consensus rule) and the round's dates.",
            f"If it keeps failing, ask your administrator to look in the server log at {at}.",
        ],
    )


class RoundController(Controller):
    path = "/panels/{panel_id:int}/rounds/{number:int}"
    include_in_schema = False

    @get("/", name="round")
    async def show(
        self, panel_access: PanelAccess, number: int, db_session: AsyncSession, account: Account
    ) -> Template:
        round_ = await get_round(db_session, panel_access.panel, number)
        return render_form("facilitator/round.html", await _ctx(db_session, panel_access, account, round_))

    @post("/schedule")
    async def schedule(
        self,
        panel_access: PanelAccess,
        number: int,
        request: Request,
        db_session: AsyncSession,
        account: Account,
    ) -> Redirect | Template:
        panel = panel_access.panel
        form = await read_form(request)
        try:
            round_ = await get_round(db_session, panel, number)
            hours, problem = lifecycle.parse_reminder_hours(form.get("reminders", ""))
            if problem:
                raise InvalidInput(problem, field="reminders")
            await set_schedule(
                db_session,
                panel,
                round_,
                opens_at=parse_datetime(form, "opens_at"),
                closes_at=parse_datetime(form, "closes_at"),
                reminder_hours=hours,
                actor=Actor.account(account),
            )
        except DelphiError as exc:
            return await _refuse(db_session, panel_access, account, number, exc, form)
        return Redirect(f"/panels/{panel.id}/rounds/{number}?saved=schedule", status_code=303)

    async def _transition(
        self,
        access: PanelAccess,
        number: int,
        session: AsyncSession,
        settings: Settings,
        account: Account,
        use_case: Any,
        query: str,
    ) -> Redirect | Template:
        """Run a round use case (open, close, remind) and redirect; re-show the round page with the reason if
        it is refused.

        Never a 500: a refusal (DelphiError) is shown with its status and actions; any other failure is logged
        with its traceback, rolled back, and shown as a 503 on the round page saying that nothing changed and
        what to do next."""
        panel = access.panel
        try:
            round_ = await get_round(session, panel, number)
            result = await use_case(session, panel, round_, settings=settings, actor=Actor.account(account))
        except DelphiError as exc:
            return await _refuse(session, access, account, number, exc)
        except Exception:
            log.exception("round %s of panel %s: %s failed", number, panel.id, query)
            return await _refuse(session, access, account, number, _unexpected_failure(number, query))
        return Redirect(
            f"/panels/{panel.id}/rounds/{number}?{query}={result if isinstance(result, int) else 1}",
            status_code=303,
        )

    @post("/open")
    async def open(
        self,
        panel_access: PanelAccess,
        number: int,
        db_session: AsyncSession,
        settings: Settings,
        account: Account,
    ) -> Redirect | Template:
        return await self._transition(
            panel_access, number, db_session, settings, account, transitions.open_round, "opened"
        )

    @post("/close")
    async def close(
        self,
        panel_access: PanelAccess,
        number: int,
        db_session: AsyncSession,
        settings: Settings,
        account: Account,
    ) -> Redirect | Template:
        return await self._transition(
            panel_access, number, db_session, settings, account, transitions.close_round, "closed"
        )

    @post("/remind")
    async def remind(
        self,
        panel_access: PanelAccess,
        number: int,
        db_session: AsyncSession,
        settings: Settings,
        account: Account,
    ) -> Redirect | Template:
        return await self._transition(
            panel_access, number, db_session, settings, account, send_reminder_now, "reminded"
        )

    @post("/finish")
    async def finish(
        self,
        panel_access: PanelAccess,
        number: int,
        db_session: AsyncSession,
        settings: Settings,
        account: Account,
    ) -> Redirect | Template:
        panel = panel_access.panel
        try:
            await transitions.finish_panel(db_session, panel, settings=settings, actor=Actor.account(account))
        except DelphiError as exc:
            return await _refuse(db_session, panel_access, account, number, exc)
        return Redirect(f"/panels/{panel.id}", status_code=303)

    @post("/suggestions/{suggestion_id:int}")
    async def review(
        self,
        panel_access: PanelAccess,
        number: int,
        suggestion_id: int,
        request: Request,
        db_session: AsyncSession,
        account: Account,
    ) -> Redirect | Template:
        panel = panel_access.panel
        form = await read_form(request)
        try:
            await moderation.review_suggestion(
                db_session,
                panel,
                suggestion_id,
                form.get("decision", ""),
                Actor.account(account),
                text=form.get("text"),
                merge_into=whole_number(form, "merge_into"),
            )
        except DelphiError as exc:
            return await _refuse(db_session, panel_access, account, number, exc)
        return Redirect(f"/panels/{panel.id}/rounds/{number}#suggestions", status_code=303)
