"""The Jinja2 environment: autoescape, gettext (i18n extension) and a few filters shared by all pages."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from delphi import resources
from delphi.domain import AnalysisPopulation
from delphi.locale import catalog
from delphi.locale.filters import JINJA_FILTERS


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
    env.filters.update(JINJA_FILTERS)
    #: The analysis populations in form order, so every page names them with the same words.
    env.globals["analysis_populations"] = tuple(AnalysisPopulation)
    return env
