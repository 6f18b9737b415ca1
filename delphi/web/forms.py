"""Form helpers: read a posted form and its numbers, and re-show a page with a GOV.UK-style error summary."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from litestar import MediaType, Request
from litestar.response import Template

from delphi.errors import DelphiError, InvalidInput


async def read_form(request: Request) -> dict[str, str]:
    """The posted form as ``{name: last value}``, with values stripped of NUL characters."""
    form = await request.form()
    return {k: str(v).replace("\x00", "") for k, v in form.items() if isinstance(v, str)}


def whole_number(form: dict[str, str], name: str, default: int | None = None) -> int | None:
    """The whole number in field ``name``; ``default`` when it is empty or absent; InvalidInput otherwise."""
    raw = form.get(name, "").strip()
    if raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise InvalidInput(f"Enter a whole number for {name.replace('_', ' ')}.", field=name) from None


def parse_datetime(form: dict[str, str], name: str) -> datetime | None:
    """A ``datetime-local`` value (``2026-12-01T17:00``) read as UTC; None when empty; InvalidInput otherwise,
    also for an offset that moves it out of the calendar (``9999-12-31T23:59-14:00``)."""
    raw = form.get(name, "").strip()
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise InvalidInput("Enter the date and time like 2026-12-01 17:00.", field=name) from None
    try:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except OverflowError:
        raise InvalidInput(
            "Enter a date and time between the years 1 and 9999, like 2026-12-01 17:00.", field=name
        ) from None


async def read_form_multi(request: Request) -> dict[str, list[str]]:
    form = await request.form()
    out: dict[str, list[str]] = {}
    for k, v in form.multi_items():
        if isinstance(v, str):
            out.setdefault(k, []).append(v.replace("\x00", ""))
    return out


def render_form(
    template: str,
    context: dict[str, Any],
    errors: list[tuple[str, str]] | None = None,
    status_code: int = 200,
) -> Template:
    """Render ``template``; ``errors`` are ``(field id, message)`` pairs shown in the summary and by the field."""
    errs = errors or []
    ctx = {**context, "errors": errs, "field_errors": {f: m for f, m in errs if f}}
    return Template(
        template,
        context=ctx,
        status_code=status_code if (not errs or status_code >= 400) else 400,
        media_type=MediaType.HTML,
    )


def refused_form(template: str, context: dict[str, Any], exc: DelphiError, field: str) -> Template:
    """Re-show ``template`` after a refused post: ``exc``'s message as the one error, by its own field or else by
    ``field``, with ``exc``'s status (422, 409, ...). ``context`` is built after the rollback, with the posted
    values in it."""
    return render_form(
        template, context, errors=[(exc.field or field, exc.message)], status_code=exc.status_code
    )
