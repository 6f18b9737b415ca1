"""Jinja filters that write numbers, percentages and dates in the reader's language (:mod:`delphi.formatting`).

The reader's language is the template context's ``lang`` (panellist pages, :func:`delphi.locale.template_gettext`)
or ``language`` (mails, :mod:`delphi.mail.render`); English without either (the facilitator's pages).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from jinja2 import pass_context

from delphi.formatting import format_date, format_datetime, format_number, percent_text

__all__ = ["JINJA_FILTERS"]


def _reader(ctx: Any) -> str:
    """The reader's language in a template context: ``lang`` (pages) or ``language`` (mails); else English."""
    return str(ctx.get("lang") or ctx.get("language") or "en")


@pass_context
def _percent_filter(ctx: Any, pct: float | None, decimals: int = 0) -> str:
    return percent_text(pct, decimals, locale=_reader(ctx))


@pass_context
def _datetime_filter(ctx: Any, value: datetime | None) -> str:
    return format_datetime(value, _reader(ctx))


@pass_context
def _date_filter(ctx: Any, value: datetime | None) -> str:
    return format_date(value, _reader(ctx))


@pass_context
def _number_filter(ctx: Any, value: float | None) -> str:
    return format_number(value, _reader(ctx))


#: Filters every Jinja environment (pages and mails) installs, so a template writes ``{{ x | percent }}``,
#: ``{{ when | datetime }}``, ``{{ when | date }}`` or ``{{ x | number }}``; each writes in the reader's language
#: (the context's ``lang`` on pages, ``language`` in mails; English without either).
JINJA_FILTERS: dict[str, Callable[..., Any]] = {
    "percent": _percent_filter,
    "datetime": _datetime_filter,
    "date": _date_filter,
    "number": _number_filter,
}
