"""delphi.results assembles data for the web layer but never depends on it (docs/architecture.md: data flows one way)."""

from __future__ import annotations

from tests.test_architecture import files_of, imported_modules

FORBIDDEN = (
    "litestar",
    "delphi.web",
    "delphi.mail",
    "delphi.rounds.transitions",
    "delphi.rounds.closing",
    "delphi.rounds.schedule",
    "delphi.rounds.moderation",
    "delphi.participation",
)


def test_results_import_neither_the_web_layer_nor_litestar_nor_the_use_cases() -> None:
    offenders = [
        f"{path.name} imports {name}"
        for path in files_of("results")
        for name in imported_modules(path)
        if any(name == f or name.startswith(f + ".") for f in FORBIDDEN)
    ]
    assert offenders == []
