"""The import structure of descentlab: layers, no import cycles, no private cross-package names.

Read from the source with ``ast`` (every import statement, also those inside functions), so
that the rules hold for the code as written, not only for what one import path executes.
The layers, a newcomer's map (a part may import from its own layer or below):

    0  errors, provenance, _validation, _compiled     (leaves)
    1  data, trace, executors, plot
    2  problems, sweep
    3  methods, particles, theory, store
    4  run
    5  estimators, experiments, report, studies
    6  cli, descentlab (the package's face)
"""

from __future__ import annotations

import ast
from pathlib import Path

import descentlab

PACKAGE = Path(descentlab.__file__).parent
LAYERS = {
    "errors": 0, "provenance": 0, "cache": 0, "_validation": 0, "_compiled": 0,
    "data": 1, "trace": 1, "executors": 1, "plot": 1,
    "problems": 2, "sweep": 2,
    "methods": 3, "particles": 3, "theory": 3, "store": 3,
    "run": 4,
    "estimators": 5, "experiments": 5, "report": 5, "studies": 5,
    "cli": 6, "": 6,
}
#: private modules meant for the whole library (other private modules stay in their part)
SHARED_PRIVATE = {"_validation", "_compiled"}


def _modules(root: Path) -> dict[str, Path]:
    """Dotted module name -> file, for every module of the package at ``root``."""
    mods = {}
    for f in root.rglob("*.py"):
        parts = list(f.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        mods[".".join(parts)] = f
    return mods


def imports(module: str, source: str, is_package: bool, modules) -> list[tuple[str, str]]:
    """(target module, imported name or '') of every descentlab import in ``source``."""
    package = module.split(".") if is_package else module.split(".")[:-1]
    out = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != "descentlab":
                continue
            for alias in node.names:
                full = f"{target}.{alias.name}"
                out.append((full, "") if full in modules else (target, alias.name))
        elif isinstance(node, ast.Import):
            out += [(a.name, "") for a in node.names if a.name.split(".")[0] == "descentlab"]
    return out


def part(module: str) -> str:
    """The first-level part of descentlab a module belongs to ('' for descentlab itself)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def upward(edges) -> list[tuple[str, str]]:
    """The (module, target) edges that go to a higher layer."""
    return [(m, t) for m, t, _ in edges if LAYERS[part(t)] > LAYERS[part(m)]]


def private_across(edges) -> list[tuple[str, str, str]]:
    """The edges importing a private name or module from another part."""
    bad = []
    for m, target, name in edges:
        if part(target) == part(m):
            continue
        private_module = any(p.startswith("_") and p not in SHARED_PRIVATE
                             and not p.startswith("__") for p in target.split(".")[1:])
        if private_module or (name.startswith("_") and not name.startswith("__")):
            bad.append((m, target, name))
    return bad


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on, found, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


MODULES = _modules(PACKAGE)
EDGES = [(m, t, name) for m, f in MODULES.items()
         for t, name in imports(m, f.read_text(), f.name == "__init__.py", MODULES)]


def test_every_part_has_a_layer():
    assert {part(m) for m in MODULES} <= set(LAYERS), sorted({part(m) for m in MODULES}
                                                             - set(LAYERS))


def test_no_module_imports_from_a_layer_above_it():
    assert not upward(EDGES), upward(EDGES)


def test_no_private_names_or_modules_across_parts():
    assert not private_across(EDGES), private_across(EDGES)


def test_no_import_cycles():
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    for m, t, _ in EDGES:
        # a package's __init__ re-exporting its own modules is not a cycle of the logic
        if t in MODULES and t != m and not (MODULES[t].name == "__init__.py"
                                            and m.startswith(t + ".")):
            graph[m].add(t)
    assert not cycles(graph), cycles(graph)


def test_the_checks_find_what_they_are_for():
    """Made-up code with a back edge, a private import and a circle is reported."""
    mods = {"descentlab.data.x": None, "descentlab.problems.y": None,
            "descentlab.problems._z": None}
    src = "from ..problems.y import thing\nfrom ..problems._z import f\nfrom ..run import _g\n"
    edges = [("descentlab.data.x", t, n)
             for t, n in imports("descentlab.data.x", src, False, mods)]
    assert upward(edges) == [("descentlab.data.x", "descentlab.problems.y"),
                             ("descentlab.data.x", "descentlab.problems._z"),
                             ("descentlab.data.x", "descentlab.run")]
    assert private_across(edges) == [("descentlab.data.x", "descentlab.problems._z", "f"),
                                     ("descentlab.data.x", "descentlab.run", "_g")]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []
