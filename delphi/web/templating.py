"""The Jinja2 environment: autoescape, gettext (i18n extension) and a few filters shared by all pages."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from delphi import resources
from delphi.domain import AnalysisPopulation
from delphi.formatting import JINJA_FILTERS
from delphi.locale import catalog


def format_datetime(value: datetime | None, fmt: str = "%-d %B %Y, %H:%M UTC") -> str:
    """A timestamp in plain words ("3 March 2026, 17:00 UTC"); "" for None."""
    return value.strftime(fmt) if value else ""


def format_date(value: datetime | None) -> str:
    return value.strftime("%-d %B %Y") if value else ""


def make_environment(directory: Path | None = None) -> Environment:
    """The pages' environment over ``directory`` (default: :data:`delphi.resources.TEMPLATE_DIR`).

    Its installed gettext is English (the msgids); panellist pages override it per reader with
    :func:`delphi.locale.template_gettext`.
    """
    env = Environment(
        loader=FileSystemLoader(str(directory or resources.TEMPLATE_DIR)),
        autoescape=select_autoescape(["html", "htm", "xml", "svg"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(catalog("en"), newstyle=True)  # type: ignore[attr-defined]
    env.filters["datetime"] = format_datetime
    env.filters["date"] = format_date
    env.filters.update(JINJA_FILTERS)
    #: The analysis populations in form order, so every page names them with the same words.
    env.globals["analysis_populations"] = tuple(AnalysisPopulation)
    return env
