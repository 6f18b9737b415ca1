"""The import directions of BRIEF §2, checked on the source (AST), so a stray import fails the build."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "delphi"


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def files_of(*parts: str) -> list[Path]:
    target = PACKAGE.joinpath(*parts)
    return sorted(target.rglob("*.py")) if target.is_dir() else [target.with_suffix(".py")]


RULES = [
    (
        ("stats",),
        (
            "sqlalchemy",
            "litestar",
            "advanced_alchemy",
            "delphi.db",
            "delphi.web",
            "delphi.mail",
            "delphi.rounds",
            "asyncio",
            "aiosqlite",
            "asyncpg",
        ),
    ),
    (
        ("rounds", "lifecycle"),
        ("sqlalchemy", "litestar", "advanced_alchemy", "delphi.db", "delphi.web", "delphi.mail"),
    ),
    (("db",), ("delphi.web", "delphi.mail", "litestar")),
    (("mail",), ("delphi.web", "litestar")),
    (("rounds",), ("delphi.web", "litestar")),
    (
        ("formatting",),
        ("sqlalchemy", "litestar", "jinja2", "delphi.db", "delphi.web", "delphi.mail", "delphi.rounds"),
    ),
]


@pytest.mark.parametrize(("where", "forbidden"), RULES, ids=[".".join(w) for w, _ in RULES])
def test_layer_does_not_import_what_lies_above_it(where: tuple[str, ...], forbidden: tuple[str, ...]) -> None:
    offenders = []
    for path in files_of(*where):
        for name in imported_modules(path):
            if any(name == f or name.startswith(f + ".") for f in forbidden):
                offenders.append(f"{path.relative_to(PACKAGE.parent)} imports {name}")
    assert offenders == []


def test_settings_are_not_read_when_modules_are_imported() -> None:
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in tree.body:  # module level only
            for sub in (
                ast.walk(node)
                if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
                else []
            ):
                if isinstance(sub, ast.Call) and getattr(sub.func, "id", getattr(sub.func, "attr", "")) in {
                    "load_settings",
                    "getenv",
                }:
                    raise AssertionError(f"{path} reads settings at import")
