"""The folder tree is the pipeline's diagram: imports only run down the stages, with no cycles."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "pipeline"

# a module may import its own stage or an earlier one, never a later one
STAGES = {"form": 0, "identities": 0, "keys": 0, "t2s": 0, "read": 1, "text": 2, "extract": 3, "check": 4,
          "process": 5, "store": 6, "__main__": 7, "devtools": 8}


def _module(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _stage(module: str) -> int:
    return STAGES[module.split(".")[1]] if module != "pipeline" else -1


def _imports(path: Path) -> list[tuple[str, bool]]:
    """(imported pipeline module, at module level?) for every import in the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top = set(map(id, tree.body))
    out = []
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path}: relative import; write pipeline.… so the stage shows"
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        for name in names:
            if name and name.startswith("pipeline.") and (ROOT.parent / (name.replace(".", "/") + ".py")).exists() \
                    or name and (ROOT.parent / name.replace(".", "/") / "__init__.py").exists() and name.startswith("pipeline."):
                out.append((name, id(node) in top))
    return out


MODULES = {(_module(p)): p for p in ROOT.rglob("*.py")}


def test_every_module_belongs_to_a_stage():
    assert all(m == "pipeline" or m.split(".")[1] in STAGES for m in MODULES), sorted(MODULES)


def test_imports_only_run_down_the_stages():
    later = [f"{m} (stage {_stage(m)}) imports {dep} (stage {_stage(dep)})"
             for m, p in MODULES.items() for dep, _ in _imports(p) if _stage(dep) > _stage(m)]
    assert not later, "\n".join(later)


def test_no_import_cycles():
    graph = {m: {d for d, _ in _imports(p) if d in MODULES and d != m} for m, p in MODULES.items()}
    state: dict[str, int] = {}

    def visit(m: str, path: list[str]) -> None:
        state[m] = 1
        for d in graph[m]:
            if state.get(d) == 1:
                raise AssertionError("import cycle: " + " → ".join(path[path.index(d):] + [d]) if d in path else d)
            if d not in state:
                visit(d, path + [d])
        state[m] = 2

    for m in graph:
        if m not in state:
            visit(m, [m])


def test_the_product_never_imports_devtools_or_dagster():
    bad = [f"{m} imports {d}" for m, p in MODULES.items() if _stage(m) < STAGES["devtools"]
           for d, _ in _imports(p) if d.startswith("pipeline.devtools")]
    bad += [m for m, p in MODULES.items() if "import dagster" in p.read_text() or "from dagster" in p.read_text()]
    assert not bad, bad
