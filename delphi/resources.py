"""Where the project's files that are not Python code are: page and mail templates, static files, gettext
catalogs and Alembic's migration scripts.  Every other module takes these folders from here.

The repository keeps ``templates/`` and ``alembic/`` at its top level (beside ``delphi/``); a built wheel
carries them inside the package as ``delphi/templates`` and ``delphi/alembic`` (``pyproject.toml``,
``force-include``).  :func:`data_dir` finds either, so an installed wheel, a source checkout and an editable
install all work.  Static files and catalogs live inside the package in both layouts.

Nothing here reads settings; the folders are found once, when this module is imported (a stat each).
"""

from __future__ import annotations

from pathlib import Path

#: The ``delphi`` package folder.
PACKAGE_DIR = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    """The folder ``name`` (``"templates"``, ``"alembic"``): ``delphi/<name>`` when it exists (a wheel was
    installed), else ``<name>`` beside the package (a source or editable checkout).  The path may not exist
    when neither does."""
    packaged = PACKAGE_DIR / name
    return packaged if packaged.is_dir() else PACKAGE_DIR.parent / name


#: Page templates (``base.html``, ``facilitator/``, ``panellist/``) and mail triples (``email/<kind>/``).
TEMPLATE_DIR = data_dir("templates")
#: Alembic's ``env.py``, ``script.py.mako`` and ``versions/``.
ALEMBIC_DIR = data_dir("alembic")
#: CSS and JavaScript served under ``/static``.
STATIC_DIR = PACKAGE_DIR / "web" / "static"
#: Gettext catalogs ``<lang>/LC_MESSAGES/delphi.{po,mo}``, the catalog template ``delphi.pot`` and ``babel.cfg``.
LOCALE_DIR = PACKAGE_DIR / "locale"
