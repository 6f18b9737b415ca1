"""Every shipped catalog is complete, keeps the placeholders of its messages, and is compiled.

A shipped catalog is a folder ``delphi/locale/<lang>/LC_MESSAGES`` holding ``delphi.po`` or ``delphi.mo``
(``delphi.locale.shipped_tags`` offers a language as soon as its ``.mo`` exists, so a ``.mo`` without its
``.po`` is a failure too).  Each check is parametrised by language, so a failing run names the catalog, and
its message lists every msgid at fault.  The checks themselves are pure functions of Babel catalogs, pinned
down on made-up catalogs at the end.  How to fix a failure: docs/translating.md.
"""

from __future__ import annotations

import gettext
import io
import re
from collections.abc import Iterable
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[1]
LOCALE = ROOT / "delphi" / "locale"
TEMPLATE = LOCALE / "delphi.pot"

#: A Python %-format conversion with a mapping key, as the messages use them: ``%(num)s``, ``%(pct).1f``.
PLACEHOLDER = re.compile(r"%\((?P<name>[^)]*)\)[#0 +\-]*(?:\d+)?(?:\.\d+)?[diouxXeEfFgGcrsa]")


def shipped_languages() -> list[str]:
    """Folder names of every catalog under delphi/locale (``["cy", "es"]``), from its .po or its .mo."""
    found = {p.parent.parent.name for p in LOCALE.glob("*/LC_MESSAGES/delphi.po")}
    found |= {p.parent.parent.name for p in LOCALE.glob("*/LC_MESSAGES/delphi.mo")}
    return sorted(found)


def load(path: Path) -> Catalog:
    with path.open("rb") as f:
        return read_po(f)


def msgid_of(message: Message) -> str:
    """The singular msgid, the name a message goes by in reports and in the .mo."""
    return message.id[0] if isinstance(message.id, (list, tuple)) else message.id


def forms(value: str | Iterable[str] | None) -> list[str]:
    """A msgid or msgstr as a list of its forms (one for a singular message)."""
    if value is None:
        return [""]
    return [value] if isinstance(value, str) else list(value)


def placeholders(text: str) -> set[str]:
    """The ``%(name)s`` placeholders of ``text``, written out in full (``{"%(num)s", "%(pct)s"}``)."""
    return {m.group(0) for m in PLACEHOLDER.finditer(text)}


def stray_percent(text: str) -> bool:
    """Whether ``text`` holds a ``%`` that is neither a placeholder nor ``%%`` (it would break formatting)."""
    return "%" in PLACEHOLDER.sub("", text).replace("%%", "")


def untranslated(template: Catalog, catalog: Catalog) -> list[str]:
    """Msgids of the template that the catalog lacks, leaves empty (in any plural form) or marks fuzzy, each
    with the reason: ``"Round %(n)s  (missing)"``."""
    problems = []
    for message in template:
        if not message.id:
            continue
        found = catalog.get(message.id)
        if found is None:
            problems.append(f"{msgid_of(message)!r}  (missing)")
        elif found.fuzzy:
            problems.append(f"{msgid_of(message)!r}  (fuzzy)")
        elif message.pluralizable and (
            not found.pluralizable or len(forms(found.string)) < catalog.num_plurals
        ):
            problems.append(f"{msgid_of(message)!r}  (needs {catalog.num_plurals} plural forms)")
        elif not all(text.strip() for text in forms(found.string)):
            problems.append(f"{msgid_of(message)!r}  (empty)")
    return problems


def placeholder_mismatches(catalog: Catalog) -> list[str]:
    """Translated messages whose forms do not use exactly the placeholders of the msgid (for a plural message:
    of the singular and plural msgids together), or that hold a stray ``%``."""
    problems = []
    for message in catalog:
        if not message.id or message.fuzzy:
            continue
        wanted = set().union(*(placeholders(text) for text in forms(message.id)))
        for text in forms(message.string):
            if not text:
                continue  # reported by untranslated()
            if stray_percent(text):
                problems.append(
                    f"{msgid_of(message)!r}  (a stray %: write %% for a percent sign) -> {text!r}"
                )
            elif placeholders(text) != wanted:
                got = placeholders(text)
                detail = ", ".join(
                    [f"lacks {p}" for p in sorted(wanted - got)] + [f"adds {p}" for p in sorted(got - wanted)]
                )
                problems.append(f"{msgid_of(message)!r}  ({detail}) -> {text!r}")
    return problems


def compiled_messages(data: bytes) -> dict[object, str]:
    """The messages of a compiled catalog: msgid (or ``(msgid, form)`` for plural forms) -> translation;
    ``""`` is the header."""
    return dict(gettext.GNUTranslations(io.BytesIO(data))._catalog)  # type: ignore[attr-defined]


def stale_messages(catalog: Catalog, mo_bytes: bytes) -> list[str]:
    """Msgids whose translation in the compiled ``.mo`` differs from what compiling ``catalog`` gives now
    (missing from it, different, or no longer in the source); ``"(header)"`` for a changed header."""
    fresh = io.BytesIO()
    write_mo(fresh, catalog)  # as `pybabel compile` does: fuzzy entries left out
    want, have = compiled_messages(fresh.getvalue()), compiled_messages(mo_bytes)
    names = set()
    for key in set(want) | set(have):
        if want.get(key) != have.get(key):
            msgid = key[0] if isinstance(key, tuple) else key
            names.add(repr(msgid) if msgid else "(header)")
    return sorted(names)


def report(language: str, what: str, problems: list[str]) -> str:
    return f"catalog {language!r}: {len(problems)} {what}:\n  " + "\n  ".join(problems)


@pytest.fixture(params=shipped_languages())
def language(request: pytest.FixtureRequest) -> str:
    return request.param


def po_of(language: str) -> Path:
    path = LOCALE / language / "LC_MESSAGES" / "delphi.po"
    assert path.is_file(), (
        f"catalog {language!r}: {path.relative_to(ROOT)} is missing (the source of delphi.mo)"
    )
    return path


def test_there_are_shipped_catalogs() -> None:
    assert "es" in shipped_languages()


def test_every_message_of_the_template_is_translated(language: str) -> None:
    problems = untranslated(load(TEMPLATE), load(po_of(language)))
    assert not problems, report(language, "messages missing, untranslated or fuzzy", problems)


def test_translations_keep_the_placeholders_of_their_message(language: str) -> None:
    problems = placeholder_mismatches(load(po_of(language)))
    assert not problems, report(language, "messages with placeholder mismatches", problems)


def test_the_compiled_catalog_is_what_its_source_compiles_to(language: str) -> None:
    mo = LOCALE / language / "LC_MESSAGES" / "delphi.mo"
    assert mo.is_file(), f"catalog {language!r}: no delphi.mo; run pybabel compile -D delphi -d delphi/locale"
    problems = stale_messages(load(po_of(language)), mo.read_bytes())
    assert not problems, report(
        language,
        f"messages differ in delphi.mo; run: .venv/bin/pybabel compile -D delphi -d delphi/locale -l {language}",
        problems,
    )


# The checks themselves, on made-up catalogs.


def made_up(*messages: tuple[str | tuple[str, str], str | tuple[str, ...], bool]) -> Catalog:
    """A catalog with English plural rules holding ``(msgid, msgstr, fuzzy)`` messages."""
    catalog = Catalog(locale="en")
    for msgid, msgstr, fuzzy in messages:
        catalog.add(msgid, msgstr, flags=["fuzzy"] if fuzzy else [])
    return catalog


def test_the_check_names_missing_empty_fuzzy_and_short_plural_messages() -> None:
    template = made_up(
        ("Save", "", False),
        ("Round %(n)s", "", False),
        ("Thank you", "", False),
        (("%(num)s idea", "%(num)s ideas"), ("", ""), False),
        ("Done", "", False),
    )
    catalog = made_up(
        ("Round %(n)s", "", False),
        ("Thank you", "Gracias", True),
        (("%(num)s idea", "%(num)s ideas"), ("%(num)s idea", ""), False),
        ("Done", "Listo", False),
    )
    assert untranslated(template, catalog) == [
        "'Save'  (missing)",
        "'Round %(n)s'  (empty)",
        "'Thank you'  (fuzzy)",
        "'%(num)s idea'  (empty)",
    ]


def test_the_check_names_placeholders_lost_added_or_broken() -> None:
    catalog = made_up(
        ("Round %(n)s", "Ronda %(number)s", False),
        ("%(pct)s%% agreed", "%(pct)s% de acuerdo", False),
        ("%(pct)s%% agreed", "%(pct)s%% de acuerdo", False),
        ("Saved", "Guardado al 100%%", False),
        (("%(num)s idea", "%(num)s ideas"), ("una idea", "%(num)s ideas"), False),
        ("Hello %(name)s,", "Hola %(nombre)s", True),  # fuzzy: not used, reported as untranslated instead
    )
    problems = placeholder_mismatches(catalog)
    assert len(problems) == 3
    assert problems[0].startswith("'Round %(n)s'  (lacks %(n)s, adds %(number)s)")
    assert problems[1].startswith("'%(pct)s%% agreed'  (a stray %")
    assert problems[2].startswith("'%(num)s idea'  (lacks %(num)s)")


def test_the_check_names_messages_the_compiled_catalog_has_out_of_date() -> None:
    catalog = made_up(("Save", "Guardar", False), ("Done", "Listo", False))
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    assert stale_messages(catalog, compiled.getvalue()) == []
    catalog["Done"].string = "Terminado"
    catalog.add("Sent", "Enviado")
    assert stale_messages(catalog, compiled.getvalue()) == ["'Done'", "'Sent'"]
