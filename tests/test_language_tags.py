"""Language tags, names and text direction (delphi.locale), from Babel's CLDR data."""

from __future__ import annotations

import pytest

from delphi.locale import language_name, language_tag, same_language, shipped_tags, text_direction


@pytest.mark.parametrize(
    ("given", "tag"),
    [
        ("pt_br", "pt-BR"),
        ("PT-BR", "pt-BR"),
        ("CY", "cy"),
        ("sr_latn", "sr-Latn"),
        ("", "en"),
        ("../etc", "en"),
    ],
)
def test_a_language_is_written_as_one_bcp47_tag_whatever_its_spelling(given: str, tag: str) -> None:
    assert language_tag(given) == tag


def test_same_language_ignores_case_and_separator_but_not_region() -> None:
    assert same_language("pt_BR", "pt-br")
    assert not same_language("pt", "pt-BR")


def test_language_names_come_in_english_or_in_the_language_itself() -> None:
    assert language_name("cy") == "Welsh"
    assert language_name("cy", "cy") == "Cymraeg"
    assert language_name("es", "es") == "Español"  # CLDR writes "español"; a menu capitalises it
    assert language_name("zz-nope") == "zz-nope"


@pytest.mark.parametrize(
    ("language", "direction"), [("ar", "rtl"), ("he", "rtl"), ("fa", "rtl"), ("cy", "ltr")]
)
def test_text_direction_comes_from_the_locale_data(language: str, direction: str) -> None:
    assert text_direction(language) == direction


def test_the_shipped_languages_are_english_welsh_and_spanish() -> None:
    assert {"en", "cy", "es"} <= set(shipped_tags())
