"""Facilitator pages: create and configure a panel, its groups, statements and panellists, and run its rounds.

Controllers parse forms, call the :mod:`delphi.panels` and round use cases, and either redirect
(303, the write commits) or re-show the form with an error summary (4xx, the transaction rolls back).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from litestar import Controller, MediaType, Request, get, post
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from delphi import audit
from delphi.db.models import (
    Account,
    Panel,
    Round,
    utcnow,
)
from delphi.domain import Actor, PanelRole, RoundStatus
from delphi.errors import ActionFailed, DelphiError, Forbidden, InvalidInput
from delphi.panels import listing
from delphi.panels.groups import add_group, delete_group
from delphi.panels.links import reissue_link
from delphi.panels.panellists import (
    add_panellist,
    erase_panellist,
    get_panellist,
    import_panellists,
    preview_panellist_import,
)
from delphi.panels.settings import create_panel, rule_fit_problems, update_panel
from delphi.panels.statements import (
    add_statement,
    asked_in_opened_round,
    draft_round,
    edit_statement,
    get_statement,
    import_statements,
    move_statement,
    set_in_draft,
)
from delphi.rounds import lifecycle, mailing, moderation, transitions
from delphi.rounds.lookup import get_round
from delphi.rounds.overview import round_overview
from delphi.rounds.released import load_groups
from delphi.rounds.schedule import send_reminder_now, set_schedule
from delphi.settings import Settings
from delphi.web import panel_form
from delphi.web.forms import read_form, render_form, whole_number
from delphi.web.guards import EDITORS, OWNERS, READERS, load_panel
from delphi.web.ids import possible_id

log = logging.getLogger("delphi.web")

#: What each round transition does, for the message when it fails unexpectedly (keyed by its redirect query).
TRANSITION_WORDS = {"opened": "open", "closed": "close", "reminded": "send the reminder for"}


def parse_datetime(form: dict[str, str], name: str) -> datetime | None:
    """A ``datetime-local`` value (``2026-12-01T17:00``) read as UTC; None when empty."""
    raw = form.get(name, "").strip()
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise InvalidInput("Enter the date and time like 2026-12-01 17:00.", field=name) from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _rule_repair(panel: Panel) -> list[str]:
    """Why a *locked* rule cannot be applied to the panel's scale (the settings form then lets it be replaced,
    recorded and flagged); empty for a rule that fits or is not locked yet."""
    return rule_fit_problems(panel) if panel.rule_locked_at is not None else []


async def _undo(session: AsyncSession, panel: Panel, account: Account) -> None:
    """Roll back a refused change and reload the panel and account, so the form is shown again from clean state."""
    await session.rollback()
    await session.refresh(panel)
    await session.refresh(account)


async def _panel_nav(
    session: AsyncSession, panel: Panel, role: PanelRole, account: Account
) -> dict[str, Any]:
    rounds = await listing.rounds_of(session, panel.id)
    return {
        "panel": panel,
        "role": role.value,
        "can_edit": role in EDITORS,
        "is_owner": role in OWNERS,
        "rounds": rounds,
        "account": account,
    }


class PanelController(Controller):
    """Panel creation, overview, settings, groups and the audit trail."""

    path = "/panels"
    include_in_schema = False

    @get("/new", name="panel_new")
    async def new_form(self, account: Account) -> Template:
        if account.role not in ("admin", "facilitator"):
            raise Forbidden(
                "Only facilitators and admins can create panels; your account is a researcher account."
            )
        return render_form(
            "facilitator/panel_form.html",
            {
                "account": account,
                **panel_form.context(panel_form.form_values(None)),
                "action": "/panels",
                "locked": False,
                "panel": None,
            },
        )

    @post("/", name="panel_create")
    async def create(
        self, request: Request, db_session: AsyncSession, account: Account
    ) -> Redirect | Template:
        if account.role not in ("admin", "facilitator"):
            raise Forbidden(
                "Only facilitators and admins can create panels; your account is a researcher account."
            )
        form = await read_form(request)
        try:
            panel = await create_panel(
                db_session, panel_form.panel_input(form), account.id, Actor.account(account)
            )
        except InvalidInput as exc:
            return render_form(
                "facilitator/panel_form.html",
                {
                    "account": account,
                    **panel_form.context(panel_form.posted_values(form)),
                    "action": "/panels",
                    "locked": False,
                    "panel": None,
                },
                errors=exc.errors,
                status_code=422,
            )
        return Redirect(f"/panels/{panel.id}", status_code=303)

    @get("/{panel_id:int}", name="panel_overview")
    async def overview(self, panel_id: int, db_session: AsyncSession, account: Account) -> Template:
        panel, role = await load_panel(db_session, account, panel_id, READERS)
        from delphi.stats import ConsensusRule

        ctx = await _panel_nav(db_session, panel, role, account)
        groups = await listing.groups_with_counts(db_session, panel.id)
        n_statements = await listing.statement_count(db_session, panel.id)
        overview = await round_overview(db_session, panel)
        ctx.update(
            groups=groups,
            n_statements=n_statements,
            overview=overview,
            rule_text=ConsensusRule.from_dict(panel.rule).describe(),
            tab="overview",
        )
        return Template("facilitator/panel.html", context=ctx, media_type=MediaType.HTML)

    @get("/{panel_id:int}/settings", name="panel_settings")
    async def settings_form(self, panel_id: int, db_session: AsyncSession, account: Account) -> Template:
        panel, role = await load_panel(db_session, account, panel_id, EDITORS)
        ctx = await _panel_nav(db_session, panel, role, account)
        ctx.update(
            **panel_form.context(panel_form.form_values(panel)),
            action=f"/panels/{panel.id}/settings",
            locked=panel.rule_locked_at is not None,
            rule_repair=_rule_repair(panel),
            tab="settings",
        )
        return render_form("facilitator/panel_form.html", ctx)

    @post("/{panel_id:int}/settings")
    async def save_settings(
        self, panel_id: int, request: Request, db_session: AsyncSession, account: Account
    ) -> Redirect | Template:
        panel, role = await load_panel(db_session, account, panel_id, EDITORS)
        form = await read_form(request)
        try:
            await update_panel(db_session, panel, panel_form.panel_input(form), Actor.account(account))
        except DelphiError as exc:
            # The rollback expires every loaded row, so the page's context is built after it, not before.
            await _undo(db_session, panel, account)
            ctx = await _panel_nav(db_session, panel, role, account)
            ctx.update(
                **panel_form.context(panel_form.posted_values(form)),
                action=f"/panels/{panel.id}/settings",
                locked=panel.rule_locked_at is not None,
                rule_repair=_rule_repair(panel),
                tab="settings",
            )
            if isinstance(exc, InvalidInput):
                return render_form("facilitator/panel_form.html", ctx, errors=exc.errors, status_code=422)
            return render_form(
                "facilitator/panel_form.html",
                ctx,
                errors=[(exc.field or "", exc.message)],
                status_code=exc.status_code,
            )
        return Redirect(f"/panels/{panel.id}?saved=settings", status_code=303)

    @get("/{panel_id:int}/groups", name="panel_groups")
    async def groups(self, panel_id: int, db_session: AsyncSession, account: Account) -> Template:
        panel, role = await load_panel(db_session, account, panel_id, READERS)
        return render_form(
            "facilitator/groups.html", await self._groups_ctx(db_session, panel, role, account)
        )

    async def _groups_ctx(
        self, session: AsyncSession, panel: Panel, role: PanelRole, account: Account
    ) -> dict[str, Any]:
        ctx = await _panel_nav(session, panel, role, account)
        rows = await listing.groups_with_counts(session, panel.id)
        ctx.update(groups=rows, tab="groups", name="")
        return ctx

    @post("/{panel_id:int}/groups")
    async def add_group(
        self, panel_id: int, request: Request, db_session: AsyncSession, account: Account
    ) -> Redirect | Template:
        panel, role = await load_panel(db_session, account, panel_id, EDITORS)
        form = await read_form(request)
        try:
            await add_group(
                db_session,
                panel,
                form.get("name", ""),
                Actor.account(account),
                lived_experience=form.get("lived_experience") == "on",
            )
        except DelphiError as exc:
            await _undo(db_session, panel, account)
            ctx = await self._groups_ctx(db_session, panel, role, account)
            ctx["name"] = form.get("name", "")
            return render_form(
                "facilitator/groups.html", ctx, errors=[("name", exc.message)], status_code=exc.status_code
            )
        return Redirect(f"/panels/{panel.id}/groups", status_code=303)

    @post("/{panel_id:int}/groups/{group_id:int}/delete")
    async def delete_group(
        self, panel_id: int, group_id: int, db_session: AsyncSession, account: Account
    ) -> Redirect:
        panel, _ = await load_panel(db_session, account, panel_id, EDITORS)
        await delete_group(db_session, panel, group_id, Actor.account(account))
        return Redirect(f"/panels/{panel.id}/groups", status_code=303)

    @get("/{panel_id:int}/audit", name="panel_audit")
    async def audit_trail(self, panel_id: int, db_session: AsyncSession, account: Account) -> Template:
        panel, role = await load_panel(db_session, account, panel_id, READERS)
        ctx = await _panel_nav(db_session, panel, role, account)
        events = await audit.latest_events(db_session, panel.id)
        entries = [(e, audit.who(e.actor), audit.describe(e.action, e.detail)) for e in events]
        ctx.update(entries=entries, tab="audit")
        return Template("facilitator/audit.html", context=ctx, media_type=MediaType.HTML)


class StatementController(Controller):
    path = "/panels/{panel_id:int}/statements"
    include_in_schema = False

    async def _ctx(
        self, session: AsyncSession, panel: Panel, role: PanelRole, account: Account
    ) -> dict[str, Any]:
        ctx = await _panel_nav(session, panel, role, account)
        statements = await listing.statements_of(session, panel.id)
        draft = await draft_round(session, panel.id)
        in_draft = await listing.statement_ids_in(session, draft.id) if draft is not None else set()
        ctx.update(
            statements=statements,
            draft=draft,
            in_draft=in_draft,
            tab="statements",
            values={"text": "", "section": "", "bulk": ""},
        )
        return ctx

    @get("/", name="statements")
    async def index(self, panel_id: int, db_session: AsyncSession, account: Account) -> Template:
        panel, role = await load_panel(db_session, account, panel_id, READERS)
        return render_form("facilitator/statements.html", await self._ctx(db_session, panel, role, account))

    @post("/")
    async def add(
        self, panel_id: int, request: Request, db_session: AsyncSession, account: Account
    ) -> Redirect | Template:
        panel, role = await load_panel(db_session, account, panel_id, EDITORS)
        form = await read_form(request)
        try:
            await add_statement(
                db_session, panel, form.get("text", ""), form.get("section", ""), Actor.account(account)
            )
        except DelphiError as exc:
            await _undo(db_session, panel, account)
            ctx = await self._ctx(db_session, panel, role, account)
            ctx["values"].update(text=form.get("text", ""), section=form.get("section", ""))
            return render_form(
                "facilitator/statements.html",
                ctx,
                errors=[(exc.field or "text", exc.message)],
                status_code=exc.status_code,
            )
        return Redirect(f"/panels/{panel.id}/statements#add", status_code=303)

    @post("/import")
    async def bulk(
        self, panel_id: int, request: Request, db_session: AsyncSession, account: Account
    ) -> Redirect | Template:
        panel, role = await load_panel(db_session, account, panel_id, EDITORS)
        form = await request.form()
        upload = form.get("file")
        data: bytes | str = form.get("bulk", "") or ""
        if upload is not None and not isinstance(upload, str):
            content = await upload.read()
            if content:
                data = content
        try:
            await import_statements(db_session, panel, data, Actor.account(account))
        except InvalidInput as exc:
            await _undo(db_session, panel, account)
            ctx = await self._ctx(db_session, panel, role, account)
            ctx["values"]["bulk"] = data if isinstance(data, str) else ""
            errors = [("bulk", f"{where.capitalize()}: {msg}") for where, msg in exc.errors]
            return render_form("facilitator/statements.html", ctx, errors=errors, status_code=422)
        return Redirect(f"/panels/{panel.id}/statements", status_code=303)

    @get("/{statement_id:int}/edit")
    async def edit_form(
        self, panel_id: int, statement_id: int, db_session: AsyncSession, account: Account
    ) -> Template:
        panel, role = await load_panel(db_session, account, panel_id, EDITORS)
        statement = await get_statement(db_session, panel, statement_id)
        ctx = await _panel_nav(db_session, panel, role, account)
        ctx.update(
            statement=statement,
            values={"text": statement.text, "section": statement.section},
            asked=await asked_in_opened_round(db_session, statement.id),
            tab="statements",
        )
        return render_form("facilitator/statement_edit.html", ctx)

    @post("/{statement_id:int}/edit")
    async def edit(
        self, panel_id: int, statement_id: int, request: Request, db_session: AsyncSession, account: Account
    ) -> Redirect | Template:
        panel, role = await load_panel(db_session, account, panel_id, EDITORS)
        form = await read_form(request)
        try:
            await edit_statement(
                db_session,
                panel,
                statement_id,
                form.get("text", ""),
                form.get("section", ""),
                Actor.account(account),
            )
        except DelphiError as exc:
            await _undo(db_session, panel, account)
            statement = await get_statement(db_session, panel, statement_id)
            ctx = await _panel_nav(db_session, panel, role, account)
            ctx.update(
                statement=statement,
                values=form,
                tab="statements",
                asked=await asked_in_opened_round(db_session, statement.id),
            )
            return render_form(
                "facilitator/statement_edit.html",
                ctx,
                errors=[(exc.field or "text", exc.message)],
                status_code=exc.status_code,
            )
        return Redirect(f"/panels/{panel.id}/statements", status_code=303)

    @post("/{statement_id:int}/move")
    async def move(
        self, panel_id: int, statement_id: int, request: Request, db_session: AsyncSession, account: Account
    ) -> Redirect:
        panel, _ = await load_panel(db_session, account, panel_id, EDITORS)
        form = await read_form(request)
        await move_statement(
            db_session,
            panel,
            statement_id,
            -1 if form.get("direction") == "up" else 1,
            Actor.account(account),
        )
        return Redirect(f"/panels/{panel.id}/statements#s{statement_id}", status_code=303)

    @post("/{statement_id:int}/draft")
    async def toggle_draft(
        self, panel_id: int, statement_id: int, request: Request, db_session: AsyncSession, account: Account
    ) -> Redirect:
        panel, _ = await load_panel(db_session, account, panel_id, EDITORS)
        form = await read_form(request)
        await set_in_draft(
            db_session, panel, statement_id, form.get("include") == "1", Actor.account(account)
        )
        return Redirect(f"/panels/{panel.id}/statements#s{statement_id}", status_code=303)


class PanellistController(Controller):
    path = "/panels/{panel_id:int}/panellists"
    include_in_schema = False

    async def _ctx(
        self, session: AsyncSession, panel: Panel, role: PanelRole, account: Account
    ) -> dict[str, Any]:
        ctx = await _panel_nav(session, panel, role, account)
        rows = await listing.panellists_with_group(session, panel.id)
        groups = await load_groups(session, panel.id)
        ctx.update(panellists=rows, groups=groups, tab="panellists", values={}, preview=None, csv_text="")
        return ctx

    @get("/", name="panellists")
    async def index(self, panel_id: int, db_session: AsyncSession, account: Account) -> Template:
        panel, role = await load_panel(db_session, account, panel_id, EDITORS)
        return render_form("facilitator/panellists.html", await self._ctx(db_session, panel, role, account))

    @post("/")
    async def add(
        self, panel_id: int, request: Request, db_session: AsyncSession, settings: Settings, account: Account
    ) -> Redirect | Template:
        panel, role = await load_panel(db_session, account, panel_id, EDITORS)
        form = await read_form(request)
        try:
            group_id = whole_number(form, "group_id", 0) or 0
            p = await add_panellist(
                db_session,
                panel,
                email=form.get("email", ""),
                group_id=group_id,
                name=form.get("name", ""),
                language=form.get("language", "en"),
                secret_key=settings.secret_key,
                actor=Actor.account(account),
            )
            await mailing.invite_late_joiner(db_session, panel, p)
        except DelphiError as exc:
            await _undo(db_session, panel, account)
            ctx = await self._ctx(db_session, panel, role, account)
            ctx["values"] = form
            return render_form(
                "facilitator/panellists.html",
                ctx,
                errors=[(exc.field or "email", exc.message)],
                status_code=exc.status_code,
            )
        return Redirect(f"/panels/{panel.id}/panellists", status_code=303)

    @post("/import")
    async def import_csv(
        self, panel_id: int, request: Request, db_session: AsyncSession, settings: Settings, account: Account
    ) -> Redirect | Template:
        """First post: upload → preview (every row, every problem). Confirm: imports the same text."""
        panel, role = await load_panel(db_session, account, panel_id, EDITORS)
        form = await request.form()
        upload = form.get("file")
        text = form.get("csv_text", "") or ""
        if upload is not None and not isinstance(upload, str):
            raw = await upload.read()
            if raw:
                try:
                    text = raw.decode("utf-8-sig")
                except UnicodeDecodeError:
                    text = raw.decode("cp1252", errors="replace")
        ctx = await self._ctx(db_session, panel, role, account)
        ctx["csv_text"] = text
        if not text.strip():
            return render_form(
                "facilitator/panellists.html",
                ctx,
                errors=[("file", "Choose a CSV file with the columns email, group, name, language.")],
                status_code=422,
            )
        preview = await preview_panellist_import(db_session, panel, text)
        ctx["preview"] = preview
        if form.get("confirm") == "1" and preview.ok:
            created = await import_panellists(
                db_session, panel, text, secret_key=settings.secret_key, actor=Actor.account(account)
            )
            for p in created:
                await mailing.invite_late_joiner(db_session, panel, p)
            return Redirect(f"/panels/{panel.id}/panellists?imported={len(created)}", status_code=303)
        errors = [(f"row-{line}", f"Line {line}: {msg}") for line, msg in preview.problems]
        return render_form(
            "facilitator/panellists_preview.html", ctx, errors=errors, status_code=422 if errors else 200
        )

    @post("/{panellist_id:int}/reissue")
    async def reissue(
        self, panel_id: int, panellist_id: int, db_session: AsyncSession, settings: Settings, account: Account
    ) -> Redirect:
        panel, _ = await load_panel(db_session, account, panel_id, EDITORS)
        p = await get_panellist(db_session, panel, panellist_id)
        await reissue_link(db_session, p, settings, Actor.account(account))
        await mailing.invite_late_joiner(db_session, panel, p, reissued=True)
        return Redirect(f"/panels/{panel.id}/panellists?reissued={p.pseudonym}", status_code=303)

    @post("/{panellist_id:int}/erase")
    async def erase(
        self, panel_id: int, panellist_id: int, request: Request, db_session: AsyncSession, account: Account
    ) -> Redirect:
        panel, _ = await load_panel(db_session, account, panel_id, OWNERS)
        form = await read_form(request)
        await erase_panellist(
            db_session,
            panel,
            panellist_id,
            delete_ratings=form.get("delete_ratings") == "on",
            actor=Actor.account(account),
        )
        return Redirect(f"/panels/{panel.id}/panellists", status_code=303)


class RoundController(Controller):
    path = "/panels/{panel_id:int}/rounds/{number:int}"
    include_in_schema = False

    async def _ctx(
        self, session: AsyncSession, panel: Panel, role: PanelRole, account: Account, round_: Round
    ) -> dict[str, Any]:
        ctx = await _panel_nav(session, panel, role, account)
        statements = await listing.round_statements(session, round_.id)
        facts = await transitions.open_facts(session, panel, round_)
        now = utcnow()
        suggestions = []
        if round_.status == RoundStatus.DRAFT:
            suggestions = await listing.pending_suggestions(session, panel.id)
        ctx.update(
            round=round_,
            statements=statements,
            tab=f"round{round_.number}",
            suggestions=suggestions,
            blockers=lifecycle.open_blockers(facts, now) if round_.status == RoundStatus.DRAFT else [],
            close_blockers=lifecycle.close_blockers(round_.status, round_.number, rule_fit_problems(panel))
            if round_.status == RoundStatus.OPEN
            else [],
            values={
                "opens_at": round_.opens_at.strftime("%Y-%m-%dT%H:%M") if round_.opens_at else "",
                "closes_at": round_.closes_at.strftime("%Y-%m-%dT%H:%M") if round_.closes_at else "",
                "reminders": ", ".join(
                    f"{h // 24}d" if h % 24 == 0 else f"{h}h" for h in round_.reminder_offsets_hours
                ),
            },
            overview=await round_overview(session, panel),
        )
        return ctx

    @get("/", name="round")
    async def show(self, panel_id: int, number: int, db_session: AsyncSession, account: Account) -> Template:
        panel, role = await load_panel(db_session, account, panel_id, READERS)
        round_ = await get_round(db_session, panel, number)
        return render_form(
            "facilitator/round.html", await self._ctx(db_session, panel, role, account, round_)
        )

    async def _refuse(
        self,
        session: AsyncSession,
        panel: Panel,
        role: PanelRole,
        account: Account,
        number: int,
        exc: DelphiError,
        values: dict[str, str] | None = None,
    ) -> Template:
        await _undo(session, panel, account)
        round_ = await get_round(session, panel, number)
        ctx = await self._ctx(session, panel, role, account, round_)
        if values:
            ctx["values"].update(values)
        errors = getattr(exc, "errors", None) or [(exc.field or "", exc.message)]
        if getattr(exc, "actions", None):
            errors = [("", exc.message)] + [("", a) for a in exc.actions]
        return render_form("facilitator/round.html", ctx, errors=errors, status_code=exc.status_code)

    @post("/schedule")
    async def schedule(
        self, panel_id: int, number: int, request: Request, db_session: AsyncSession, account: Account
    ) -> Redirect | Template:
        panel, role = await load_panel(db_session, account, panel_id, EDITORS)
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
                now=utcnow(),
                actor=Actor.account(account),
            )
        except DelphiError as exc:
            return await self._refuse(db_session, panel, role, account, number, exc, form)
        return Redirect(f"/panels/{panel.id}/rounds/{number}?saved=schedule", status_code=303)

    async def _transition(
        self,
        panel_id: int,
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
        panel, role = await load_panel(session, account, panel_id, EDITORS)
        try:
            round_ = await get_round(session, panel, number)
            result = await use_case(
                session, panel, round_, now=utcnow(), settings=settings, actor=Actor.account(account)
            )
        except DelphiError as exc:
            return await self._refuse(session, panel, role, account, number, exc)
        except Exception:
            at = utcnow().strftime("%Y-%m-%d %H:%M:%S UTC")
            log.exception("round %s of panel %s: %s failed", number, panel_id, query)
            failure = ActionFailed(
                f"Could not {TRANSITION_WORDS.get(query, query)} round {number} because of an unexpected "
                "problem on the server. Nothing was changed.",
                [
                    "Try again in a few minutes.",
                    "Check the panel settings (scale and consensus rule) and the round's dates.",
                    f"If it keeps failing, ask your administrator to look in the server log at {at}.",
                ],
            )
            return await self._refuse(session, panel, role, account, number, failure)
        return Redirect(
            f"/panels/{panel.id}/rounds/{number}?{query}={result if isinstance(result, int) else 1}",
            status_code=303,
        )

    @post("/open")
    async def open(
        self, panel_id: int, number: int, db_session: AsyncSession, settings: Settings, account: Account
    ) -> Redirect | Template:
        return await self._transition(
            panel_id, number, db_session, settings, account, transitions.open_round, "opened"
        )

    @post("/close")
    async def close(
        self, panel_id: int, number: int, db_session: AsyncSession, settings: Settings, account: Account
    ) -> Redirect | Template:
        return await self._transition(
            panel_id, number, db_session, settings, account, transitions.close_round, "closed"
        )

    @post("/remind")
    async def remind(
        self, panel_id: int, number: int, db_session: AsyncSession, settings: Settings, account: Account
    ) -> Redirect | Template:
        return await self._transition(
            panel_id, number, db_session, settings, account, send_reminder_now, "reminded"
        )

    @post("/finish")
    async def finish(
        self, panel_id: int, number: int, db_session: AsyncSession, settings: Settings, account: Account
    ) -> Redirect | Template:
        panel, role = await load_panel(db_session, account, panel_id, EDITORS)
        try:
            await transitions.finish_panel(
                db_session, panel, now=utcnow(), settings=settings, actor=Actor.account(account)
            )
        except DelphiError as exc:
            return await self._refuse(db_session, panel, role, account, number, exc)
        return Redirect(f"/panels/{panel.id}", status_code=303)

    @post("/suggestions/{suggestion_id:int}")
    async def review(
        self,
        panel_id: int,
        number: int,
        suggestion_id: int,
        request: Request,
        db_session: AsyncSession,
        account: Account,
    ) -> Redirect | Template:
        panel, role = await load_panel(db_session, account, panel_id, EDITORS)
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
            return await self._refuse(db_session, panel, role, account, number, exc)
        return Redirect(f"/panels/{panel.id}/rounds/{number}#suggestions", status_code=303)


class MailController(Controller):
    """What was sent to whom: counts per round and kind, dead letters (with a retry), the full history."""

    path = "/panels/{panel_id:int}/mail"
    include_in_schema = False

    @get("/", name="panel_mail")
    async def index(
        self, panel_id: int, db_session: AsyncSession, account: Account, page: int = 1
    ) -> Template:
        from delphi.mail import status

        panel, role = await load_panel(db_session, account, panel_id, EDITORS)
        ctx = await _panel_nav(db_session, panel, role, account)
        page = max(1, page)
        numbers = {r.id: r.number for r in ctx["rounds"]}
        ctx.update(
            tab="mail",
            round_numbers=numbers,
            counts=await status.counts(db_session, panel.id),
            dead=await status.dead_letters(db_session, panel.id),
            history=await status.history(db_session, panel.id, limit=200, offset=(page - 1) * 200),
            page=page,
        )
        return Template("facilitator/mail.html", context=ctx, media_type=MediaType.HTML)

    @post("/retry")
    async def retry(
        self, panel_id: int, request: Request, db_session: AsyncSession, account: Account
    ) -> Redirect:
        from delphi.mail import status

        panel, _ = await load_panel(db_session, account, panel_id, EDITORS)
        form = await request.form()
        raw = [str(v) for v in form.getall("message_id", [])]
        ids = [int(v) for v in raw if v.isascii() and v.isdigit() and possible_id(int(v))]
        n = await status.retry_dead(db_session, panel.id, ids or None, actor=Actor.account(account))
        return Redirect(f"/panels/{panel.id}/mail?retried={n}", status_code=303)
