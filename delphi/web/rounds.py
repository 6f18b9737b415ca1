"""Facilitator pages of one round: its page, schedule, open, close, remind, finish the panel, review suggestions.

The round page lists what stops the round opening or closing (:func:`delphi.rounds.transitions.round_blockers`).
Open, close, remind and finish each have a confirmation page first (``GET``: what will happen, in numbers, from
:mod:`delphi.rounds.previews`); it posts to the action with a ``confirm`` field, and a post without one shows the
confirmation again and changes nothing.  A confirmed action calls one round use case and redirects (303), or
re-shows the round page with the reason (4xx, the transaction rolled back).  Reading needs a reader's role, the
confirmation pages and every action an editor's (:mod:`delphi.web.guards`).
"""

from __future__ import annotations

import logging
from typing import Any

from litestar import Controller, Request, get, post
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import Account, Round
from delphi.domain import Actor, RoundStatus
from delphi.errors import DelphiError, InvalidInput
from delphi.panels import listing
from delphi.panels.access import start_over
from delphi.panels.numbering import panel_statement_labels
from delphi.rounds import lifecycle, moderation, previews, transitions
from delphi.rounds.lookup import get_round
from delphi.rounds.overview import round_overview
from delphi.rounds.schedule import ReminderTooSoon, reminder_stamp, send_reminder_now, set_schedule
from delphi.settings import Settings
from delphi.web.forms import parse_datetime, read_form, render_form, whole_number
from delphi.web.guards import EDITORS_ONLY, PanelAccess
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


def _reminded(reminded: int | None, not_started: int | None, started: int | None) -> dict[str, int] | None:
    """What the round page says after a manual reminder, from the redirect's query (None when there was none)."""
    if reminded is None:
        return None
    return {
        "queued": max(reminded, 0),
        "not_started": max(not_started or 0, 0),
        "started": max(started or 0, 0),
    }


async def _confirmation(
    session: AsyncSession,
    access: PanelAccess,
    account: Account,
    round_: Round,
    action: str,
    *,
    errors: list[tuple[str, str]] | None = None,
    status_code: int = 200,
) -> Template:
    """The confirmation page of ``action`` (``open``, ``close``, ``remind``, ``finish``) on ``round_``: what it
    will do, in numbers, or what stops it (then without a confirm button)."""
    panel = access.panel
    n = round_.number
    hidden: dict[str, str] = {}
    preview: Any
    if action == "open":
        preview = await previews.preview_open(session, panel, round_)
        title, button = f"Open round {n}?", f"Open round {n} now"
    elif action == "close":
        preview = await previews.preview_close(session, panel, round_)
        title, button = f"Close round {n}?", f"Close round {n} now"
    elif action == "finish":
        preview = await previews.preview_finish(session, panel)
        title, button = "Finish the panel?", "Finish the panel"
    else:
        preview = await previews.preview_reminder(session, panel, round_)
        title = f"Send a reminder for round {n}?"
        button = "Send another reminder" if preview.too_soon else "Send the reminder"
        if preview.too_soon:
            hidden["confirmed_after"] = reminder_stamp(preview.last_at)
    ctx = await panel_nav(session, access, account)
    ctx.update(
        round=round_,
        tab=f"round{n}",
        heading=title,
        sentences=preview.sentences(),
        blockers=list(preview.blockers),
        action_url=f"/panels/{panel.id}/rounds/{n}/{action}",
        button=button,
        warning=action in ("close", "finish"),
        hidden=hidden,
        back_url=f"/panels/{panel.id}/rounds/{n}",
        back_text=f"Back to round {n}",
    )
    return render_form("facilitator/confirm_action.html", ctx, errors=errors, status_code=status_code)


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
        labels=await panel_statement_labels(session, panel.id),
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


class RoundController(Controller):
    path = "/panels/{panel_id:int}/rounds/{number:int}"
    include_in_schema = False

    @get("/", name="round")
    async def show(
        self,
        panel_access: PanelAccess,
        number: int,
        db_session: AsyncSession,
        account: Account,
        reminded: int | None = None,
        not_started: int | None = None,
        started: int | None = None,
    ) -> Template:
        round_ = await get_round(db_session, panel_access.panel, number)
        ctx = await _ctx(db_session, panel_access, account, round_)
        ctx["reminded"] = _reminded(reminded, not_started, started)
        return render_form("facilitator/round.html", ctx)

    @get(["/open", "/close", "/remind", "/finish"], opt=EDITORS_ONLY, name="round-confirm")
    async def confirm_page(
        self,
        panel_access: PanelAccess,
        number: int,
        request: Request,
        db_session: AsyncSession,
        account: Account,
    ) -> Template:
        """The confirmation page of the action the path ends with."""
        round_ = await get_round(db_session, panel_access.panel, number)
        action = request.url.path.rstrip("/").rsplit("/", 1)[-1]
        return await _confirmation(db_session, panel_access, account, round_, action)

    async def _unconfirmed(
        self,
        access: PanelAccess,
        number: int,
        form: dict[str, str],
        session: AsyncSession,
        account: Account,
        action: str,
    ) -> Template | None:
        """The confirmation page again when ``form`` has no ``confirm`` field (nothing done); None when it has."""
        if form.get("confirm"):
            return None
        round_ = await get_round(session, access.panel, number)
        return await _confirmation(session, access, account, round_, action)

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
            return await _refuse(
                session,
                access,
                account,
                number,
                transitions.unexpected_failure(f"{TRANSITION_WORDS.get(query, query)} round {number}"),
            )
        return Redirect(
            f"/panels/{panel.id}/rounds/{number}?{query}={result if isinstance(result, int) else 1}",
            status_code=303,
        )

    @post("/open")
    async def open(
        self,
        panel_access: PanelAccess,
        number: int,
        request: Request,
        db_session: AsyncSession,
        settings: Settings,
        account: Account,
    ) -> Redirect | Template:
        form = await read_form(request)
        if (
            page := await self._unconfirmed(panel_access, number, form, db_session, account, "open")
        ) is not None:
            return page
        return await self._transition(
            panel_access, number, db_session, settings, account, transitions.open_round, "opened"
        )

    @post("/close")
    async def close(
        self,
        panel_access: PanelAccess,
        number: int,
        request: Request,
        db_session: AsyncSession,
        settings: Settings,
        account: Account,
    ) -> Redirect | Template:
        form = await read_form(request)
        if (
            page := await self._unconfirmed(panel_access, number, form, db_session, account, "close")
        ) is not None:
            return page
        return await self._transition(
            panel_access, number, db_session, settings, account, transitions.close_round, "closed"
        )

    @post("/remind")
    async def remind(
        self,
        panel_access: PanelAccess,
        number: int,
        request: Request,
        db_session: AsyncSession,
        settings: Settings,
        account: Account,
    ) -> Redirect | Template:
        """Send a reminder now; within :data:`~delphi.rounds.previews.REMINDER_INTERVAL` of the last one the
        confirmation page again (409, nothing queued) unless it confirmed that one (``confirmed_after``)."""
        panel = panel_access.panel
        form = await read_form(request)
        if (
            page := await self._unconfirmed(panel_access, number, form, db_session, account, "remind")
        ) is not None:
            return page
        try:
            round_ = await get_round(db_session, panel, number)
            sent = await send_reminder_now(
                db_session,
                panel,
                round_,
                settings=settings,
                actor=Actor.account(account),
                confirmed_after=form.get("confirmed_after", ""),
            )
        except ReminderTooSoon as exc:
            await start_over(db_session, panel, account)
            round_ = await get_round(db_session, panel, number)
            return await _confirmation(
                db_session,
                panel_access,
                account,
                round_,
                "remind",
                errors=[("", exc.message)],
                status_code=409,
            )
        except DelphiError as exc:
            return await _refuse(db_session, panel_access, account, number, exc)
        except Exception:
            log.exception("round %s of panel %s: reminder failed", number, panel.id)
            return await _refuse(
                db_session,
                panel_access,
                account,
                number,
                transitions.unexpected_failure(f"send the reminder for round {number}"),
            )
        return Redirect(
            f"/panels/{panel.id}/rounds/{number}?reminded={sent.queued}&not_started={sent.not_started}"
            f"&started={sent.started}#reminded",
            status_code=303,
        )

    @post("/finish")
    async def finish(
        self,
        panel_access: PanelAccess,
        number: int,
        request: Request,
        db_session: AsyncSession,
        settings: Settings,
        account: Account,
    ) -> Redirect | Template:
        panel = panel_access.panel
        form = await read_form(request)
        if (
            page := await self._unconfirmed(panel_access, number, form, db_session, account, "finish")
        ) is not None:
            return page
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
