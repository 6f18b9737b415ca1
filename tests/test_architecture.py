"""The import directions of docs/architecture.md, checked on the source (AST), so a stray import fails the build."""

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
    (("rounds",), ("delphi.web", "litestar", "delphi.participation", "delphi.results")),
    # What a facilitator sets up lies below what happens to it: panels know nothing of rounds being run,
    # panellists taking part or results being read.
    (
        ("panels",),
        ("delphi.web", "litestar", "delphi.rounds", "delphi.participation", "delphi.results", "delphi.mail"),
    ),
    (("participation",), ("delphi.web", "litestar")),
    # Accounts, sessions and passwords know nothing of panels being run or read.
    (("accounts",), ("delphi.web", "litestar", "delphi.rounds", "delphi.participation", "delphi.results")),
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


def module_name(path: Path) -> str:
    """``delphi/web/api.py`` -> ``delphi.web.api``; a package's ``__init__.py`` -> the package."""
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """Module -> the project modules it imports, at any depth of the file (imports inside functions too)."""
    modules = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        wanted: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                wanted.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                wanted.add(node.module)
                wanted.update(f"{node.module}.{alias.name}" for alias in node.names)
        edges = set()
        for target in wanted:
            while target and target not in modules:  # `from delphi.stats.rules import X` -> the module
                target = target.rpartition(".")[0]
            if target and target not in (name, "delphi"):
                edges.add(target)
        graph[name] = edges
    return graph


def test_no_two_modules_import_each_other_directly_or_round_about() -> None:
    graph = import_graph()
    cycles: list[list[str]] = []
    done: set[str] = set()

    def visit(node: str, path: list[str]) -> None:
        if node in path:
            cycles.append([*path[path.index(node) :], node])
            return
        if node in done:
            return
        for nxt in sorted(graph[node]):
            visit(nxt, [*path, node])
        done.add(node)

    for start in sorted(graph):
        visit(start, [])
    assert cycles == []


def test_controllers_hold_no_sql() -> None:
    """``delphi/web`` takes a session from the framework and hands it to use cases and read models; it builds
    no query and runs none (``AsyncSession`` is imported for type hints only)."""
    offenders = []
    for path in files_of("web"):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("sqlalchemy"):
                extra = [a.name for a in node.names if a.name != "AsyncSession"]
                if extra or node.module != "sqlalchemy.ext.asyncio":
                    offenders.append(f"{path.name} imports {node.module}: {extra}")
            elif isinstance(node, ast.Import) and any(a.name.startswith("sqlalchemy") for a in node.names):
                offenders.append(f"{path.name} imports sqlalchemy")
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in {"execute", "scalar", "scalars", "get"}
                and isinstance(node.func.value, ast.Name)
                and (
                    node.func.value.id == "db_session"
                    # `session` is the database session in helpers, the cookie's dict where it is read (.get)
                    or (node.func.value.id == "session" and node.func.attr != "get")
                )
            ):
                offenders.append(f"{path.name}:{node.lineno} runs {node.func.attr}")
    assert offenders == []


def annotation_nodes(tree: ast.AST) -> set[int]:
    """The ids of every node inside an annotation: arguments', returns' and annotated assignments'."""
    roots: list[ast.expr] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            args = node.args
            every = [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]
            roots.extend(a.annotation for a in every if a is not None and a.annotation is not None)
            if node.returns is not None:
                roots.append(node.returns)
        elif isinstance(node, ast.AnnAssign):
            roots.append(node.annotation)
    return {id(sub) for root in roots for sub in ast.walk(root)}


def test_controllers_use_models_and_sqlalchemy_in_annotations_only() -> None:
    """``delphi/web`` may name an ORM class (``Panel``) or ``AsyncSession`` in a type annotation, which litestar
    reads to inject it, and nowhere else: no model is built, queried or checked with ``isinstance`` here."""
    offenders = []
    for path in files_of("web"):
        tree = ast.parse(path.read_text(), filename=str(path))
        guarded: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.split(".")[0] == "sqlalchemy" or alias.name.startswith("delphi.db.models"):
                        offenders.append(f"{path.name} imports {alias.name}")
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                if node.module.split(".")[0] == "sqlalchemy" or node.module == "delphi.db.models":
                    guarded.update(alias.asname or alias.name for alias in node.names)
                elif node.module == "delphi.db" and any(a.name == "models" for a in node.names):
                    offenders.append(f"{path.name} imports delphi.db.models")
        in_annotation = annotation_nodes(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and node.id in guarded and id(node) not in in_annotation:
                offenders.append(f"{path.name}:{node.lineno} uses {node.id} outside an annotation")
    assert offenders == []
