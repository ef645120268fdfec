"""The layout rule: shared modules never import a step package, a step package never imports
another, the application package (``helpers.demo``, above the steps as a notebook is) may import
any of them but nothing imports it, and no module imports itself back through others (no import
cycle).

Imports are read from the source (every ``import`` and ``from ... import``, also those
inside functions), so an import that would only run in one branch still counts.
"""

import ast
from pathlib import Path

import pytest

import helpers

PACKAGE = Path(helpers.__file__).parent


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imported(path: Path) -> set[str]:
    """The ``helpers`` modules that the file imports (a name imported from a package counts
    as its module when there is one, else as the package)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == "helpers"}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "helpers":
            for alias in node.names:
                name = f"{node.module}.{alias.name}"
                found.add(name if name in MODULES else node.module)
    return {name for name in found if name in MODULES}


GRAPH = {name: imported(path) - {name} for name, path in MODULES.items()}


APPS = ("demo",)  # application packages: they sit above the steps and use them, as notebooks do


def step_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1].startswith("step") else None


def app_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in APPS else None


def test_graph_sees_the_packages():
    assert {"helpers.step1.binding", "helpers.vector_store.interface", "helpers.embeddings"} <= set(MODULES)
    assert "helpers.data" in GRAPH["helpers.embeddings"]  # the walker reads imports


def test_shared_modules_import_no_step():
    shared = [m for m in GRAPH if not step_of(m) and not app_of(m)]
    wrong = {m: sorted(i for i in GRAPH[m] if step_of(i)) for m in shared}
    assert not {m: d for m, d in wrong.items() if d}, "a shared module imports a step package"


def test_nothing_imports_an_application_package():
    """``helpers.demo`` may import shared modules and steps; no shared module and no step imports it."""
    wrong = {m: sorted(i for i in deps if app_of(i)) for m, deps in GRAPH.items() if app_of(m) is None}
    assert not {m: d for m, d in wrong.items() if d}, "a shared module or a step imports an application package"
    assert {"helpers.step4.pipeline", "helpers.corpus"} <= GRAPH["helpers.demo.engine"]  # it does use the steps


def test_steps_import_no_other_step():
    wrong = {
        m: sorted(i for i in deps if step_of(i) and step_of(i) != step_of(m)) for m, deps in GRAPH.items() if step_of(m)
    }
    assert not {m: d for m, d in wrong.items() if d}, "a step package imports another step's package"


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a list of modules (first == last), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (cycle := visit(start)):
            return cycle
    return None


def test_no_import_cycle():
    assert find_cycle(GRAPH) is None, " -> ".join(find_cycle(GRAPH))


def test_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


@pytest.mark.parametrize("name", sorted(MODULES))
def test_every_module_is_listed(name):
    """``helpers/__init__.py`` and the README's "What is where" name every module."""
    short = name.split(".")[-1]
    listed = helpers.__doc__ + (PACKAGE.parent / "README.md").read_text()
    assert short in listed, f"{name} is not listed in helpers/__init__.py or the README"
