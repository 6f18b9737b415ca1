"""Panellist text goes through gettext: a new language is one compiled catalog, and the catalog template
(delphi/locale/delphi.pot) lists every message of the panellist pages, their errors and the e-mails."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

import delphi.locale as locale_pkg
from delphi import resources
from delphi.db.models import Panellist
from tests.panellist.conftest import enter, new_session

ROOT = Path(__file__).resolve().parents[2]
LOCALE = ROOT / "delphi" / "locale"


@pytest.fixture
def language_xx(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """A made-up language "xx" compiled into a temporary locale folder, as a translator would add one."""
    catalog = Catalog(locale="en")  # plural rules of English are fine for the test
    catalog.add("Leave this panel", "Gadael y panel")
    catalog.add("Yes, leave the panel", "Ie, gadael y panel")
    catalog.add("Choose a number from %(lo)s to %(hi)s.", "Dewiswch rif o %(lo)s i %(hi)s.")
    target = tmp_path / "xx" / "LC_MESSAGES"
    target.mkdir(parents=True)
    with (target / "delphi.mo").open("wb") as f:
        write_mo(f, catalog)
    monkeypatch.setattr(resources, "LOCALE_DIR", tmp_path)
    locale_pkg.catalog.cache_clear()
    yield "xx"
    locale_pkg.catalog.cache_clear()


async def test_a_new_language_needs_only_its_catalog(client, consented_world, engine, language_xx) -> None:
    w = consented_world
    async with new_session(engine) as s, s.begin():
        person = await s.get(Panellist, w.panellist.id)
        assert person is not None
        person.language = language_xx
    await enter(client, w.token)
    page = await client.get("/panel/leave")
    assert '<html lang="xx">' in page.text
    assert "Gadael y panel" in page.text and "Ie, gadael y panel" in page.text
    token = page.text.split('name="_csrf_token" value="')[1].split('"')[0]
    problem = await client.post(
        f"/panel/ratings/{w.statements[0].id}", json={"answer": 42}, headers={"x-csrftoken": token}
    )
    assert problem.json()["detail"] == "Dewiswch rif o 1 i 9."


def test_a_missing_catalog_falls_back_to_english() -> None:
    assert locale_pkg.catalog("zz").gettext("Leave this panel") == "Leave this panel"
    assert locale_pkg.normalise_language("pt-BR") == "pt_BR"
    assert locale_pkg.normalise_language("../etc") == "en"
    assert "en" in locale_pkg.available_languages()


def test_the_catalog_template_is_up_to_date() -> None:
    with (LOCALE / "babel.cfg").open() as f:
        method_map, options_map = parse_mapping_cfg(f)
    extracted = {
        msg[2] if isinstance(msg[2], str) else msg[2][0]
        for msg in extract_from_dir(str(ROOT), method_map, options_map)
    }
    with (LOCALE / "delphi.pot").open("rb") as f:
        template = read_po(io.BytesIO(f.read()))
    known = {m.id if isinstance(m.id, str) else m.id[0] for m in template if m.id}
    missing = sorted(extracted - known)
    assert not missing, (
        "delphi/locale/delphi.pot is out of date; run: .venv/bin/pybabel extract -F delphi/locale/babel.cfg "
        "--no-location --sort-output -o delphi/locale/delphi.pot .   Missing: " + repr(missing[:5])
    )
