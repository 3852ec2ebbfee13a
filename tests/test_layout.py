"""The folders say what is inside (docs/architecture.md): ``bot/`` imports neither ``handlers/`` nor
``integrations/``; ``integrations/`` reaches into ``bot/`` only for its models and settings; and no
module imports itself round a cycle (imports inside functions and under TYPE_CHECKING included)."""

from __future__ import annotations

import ast
from pathlib import Path

from bot.settings import ROOT

PACKAGES = ("bot", "handlers", "integrations", "bench")


def modules() -> dict[str, Path]:
    out = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            out[name] = path
    return out


def imports_of(path: Path, name: str, every: dict[str, Path]) -> set[str]:
    """The project's modules that ``path`` imports, wherever in the file."""
    found = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(
                    package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else [])
                )
            targets = [f"{base}.{a.name}" for a in node.names] + [base]
        else:
            continue
        for target in targets:
            while target and target not in every:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def test_bot_imports_neither_handlers_nor_integrations() -> None:
    every = modules()
    for name, path in every.items():
        if name.split(".")[0] == "bot":
            outside = {
                m for m in imports_of(path, name, every) if m.split(".")[0] in ("handlers", "integrations", "bench")
            }
            assert not outside, f"{name} imports {sorted(outside)}"


def test_no_import_cycles() -> None:
    every = modules()
    graph = {name: imports_of(path, name, every) for name, path in every.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            part = []
            while True:
                w = stack.pop()
                part.append(w)
                if w == v:
                    break
            if len(part) > 1:
                cycles.append(sorted(part))

    for v in graph:
        if v not in index:
            visit(v)
    assert not cycles, f"import cycles: {cycles}"
