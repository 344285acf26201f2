"""The import-layers contract of the package, checked on the source (DESIGN.md, ARCHITECTURE.md).

Every module under ``surveytools/`` is parsed with :mod:`ast` (imports inside
functions included; imports under ``if TYPE_CHECKING:`` skipped, they never
run) and its imports resolved to modules of the package.  Three rules:

(a) imports point down only, in this order of layers, top to bottom::

        cli -> presentation -> scaffold -> indicators -> waves -> weighting
            -> loading -> survey -> estimation -> core

    (modules of one layer folder may import each other).  Outside the layers:
    the package root ``surveytools/__init__.py`` (the public API, it may import
    any layer), the deprecated shims ``surveytools/io.py`` and
    ``surveytools/dashboard.py``, and ``datasets/``, which may import anything
    below ``cli``.  No layer imports ``datasets``, a shim, or the package root
    (the root imports every layer; only ``cli`` above it may use it).
(b) no import cycles between modules;
(c) estimation never imports plotting or widget libraries, or presentation,
    not even through the modules it imports.

The checker is tested on small synthetic trees so that the contract test can
fail; ``test_the_package_*`` apply it to the real tree.
"""

from __future__ import annotations

import ast
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE_DIR = Path(__file__).resolve().parents[1] / "surveytools"

#: Layers, top to bottom. A key is a module name relative to the package
#: (a top-level module) or a folder (every module under it).
LAYERS = ("cli", "presentation", "scaffold", "indicators", "waves", "weighting", "loading",
          "survey", "estimation", "core")
ROOT = "<root>"            # surveytools/__init__.py: the public API
SHIMS = ("io", "dashboard")  # deprecated top-level shims kept for one release
DATASETS = "datasets"
#: Third-party packages estimation must never reach (plotting and widgets).
PLOTTING = frozenset({"plotly", "ipywidgets", "anywidget", "matplotlib", "voila", "bokeh"})


# -- the checker ---------------------------------------------------------------
@dataclass(frozen=True)
class Import:
    source: str        # importing module (dotted)
    target: str        # imported module of the package (dotted), or a third-party top name
    line: int
    internal: bool     # target is a module of the package

    def where(self, modules) -> str:
        return f"{shown(self.source, modules)}:{self.line}"


def shown(module: str, modules) -> str:
    """The file of ``module`` relative to the package's parent: ``surveytools/core/meta.py``."""
    path = modules[module]
    return path.relative_to(path.parents[len(module.split(".")) - (path.name != "__init__.py")]).as_posix()


def find_modules(package_dir: Path) -> dict[str, Path]:
    """Dotted module name -> file, for every ``.py`` under ``package_dir`` (a package)."""
    package = package_dir.name
    modules = {}
    for path in sorted(package_dir.rglob("*.py")):
        relative = path.relative_to(package_dir).with_suffix("")
        parts = [package, *relative.parts]
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


def _is_type_checking(test: ast.expr) -> bool:
    return ((isinstance(test, ast.Name) and test.id == "TYPE_CHECKING")
            or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"))


def _import_nodes(tree: ast.AST):
    """Every Import/ImportFrom node, at any depth, except under ``if TYPE_CHECKING:``."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend(node.orelse)  # the else branch does run
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        stack.extend(ast.iter_child_nodes(node))


def _longest_module(name: str, modules) -> str | None:
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in modules:
            return candidate
    return None


def imports_of(module: str, modules: dict[str, Path]) -> list[Import]:
    """The imports of one module, relative imports resolved."""
    path = modules[module]
    package = module.split(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    here = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []

    def add(name: str, line: int) -> None:
        if name == package or name.startswith(package + "."):
            target = _longest_module(name, modules)
            assert target is not None, f"{path}:{line}: cannot resolve import of {name}"
            found.append(Import(module, target, line, True))
        else:
            found.append(Import(module, name.split(".")[0], line, False))

    for node in _import_nodes(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(alias.name, node.lineno)
            continue
        if node.level:
            base = here.split(".")
            if node.level - 1 >= len(base):
                raise AssertionError(f"{path}:{node.lineno}: relative import beyond the package")
            base = base[:len(base) - (node.level - 1)]
            name = ".".join(base + ([node.module] if node.module else []))
        else:
            name = node.module
        if name == "__future__":
            continue
        for alias in node.names:
            submodule = f"{name}.{alias.name}"
            # ``from pkg import mod`` imports the module pkg.mod; ``from mod import name`` mod
            add(submodule if submodule in modules else name, node.lineno)
    return found


def import_graph(package_dir: Path) -> tuple[dict[str, Path], list[Import]]:
    modules = find_modules(package_dir)
    edges = [edge for module in modules for edge in imports_of(module, modules)]
    return modules, edges


def layer_of(module: str) -> str:
    """The layer (or ROOT, a shim name, DATASETS) a module belongs to; '' if none."""
    parts = module.split(".")[1:]
    if not parts:
        return ROOT
    if parts[0] in SHIMS and len(parts) == 1:
        return f"shim:{parts[0]}"
    if parts[0] == DATASETS:
        return DATASETS
    return parts[0] if parts[0] in LAYERS else ""


def _rank(layer: str) -> int | None:
    return LAYERS.index(layer) if layer in LAYERS else None


def layer_violations(modules, edges) -> list[str]:
    """Rule (a): every import points down the layers (see the module docstring)."""
    problems = []
    for module in modules:
        if not layer_of(module):
            problems.append(f"{shown(module, modules)}: module {module} is in no layer; "
                            f"move it into a layer folder or add it to LAYERS")
    for edge in edges:
        if not edge.internal or edge.source == edge.target:
            continue
        source, target = layer_of(edge.source), layer_of(edge.target)
        if not source or not target or source == target:
            continue
        if source == ROOT or source.startswith("shim:"):
            if target == DATASETS:
                problems.append(f"{edge.where(modules)}: {edge.source} imports {edge.target} "
                                f"(the public API must not import the example-data generator)")
            continue
        if source == DATASETS:
            if target == "cli":
                problems.append(f"{edge.where(modules)}: {edge.source} imports {edge.target} "
                                f"(datasets may import anything below cli)")
            continue
        # source is a layer
        if target == DATASETS or target.startswith("shim:"):
            what = "datasets" if target == DATASETS else "a deprecated shim"
            problems.append(f"{edge.where(modules)}: {edge.source} ({source}) imports "
                            f"{edge.target}, {what}; layers never import it")
        elif target == ROOT:
            if source != "cli":
                problems.append(
                    f"{edge.where(modules)}: {edge.source} ({source}) imports the package root "
                    f"{edge.target}, which imports every layer; import the module that defines "
                    f"the name instead")
        elif _rank(target) < _rank(source):
            problems.append(f"{edge.where(modules)}: {edge.source} ({source}) imports "
                            f"{edge.target} ({target}), a layer above it; imports point down: "
                            f"{' -> '.join(LAYERS)}")
    return problems


def import_cycles(modules, edges) -> list[list[str]]:
    """Rule (b): each strongly connected component of the module graph with more than
    one module (or a module importing itself), as one cycle through it."""
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for edge in edges:
        if edge.internal:
            graph[edge.source].add(edge.target)
    index, low, on_stack, stack, components = {}, {}, set(), [], []
    counter = [0]

    def visit(start):  # Tarjan's algorithm, iterative
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter[0]
        counter[0] += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter[0]
                    counter[0] += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    components.append(sorted(component))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    cycles = []
    for component in components:
        if len(component) == 1 and component[0] not in graph[component[0]]:
            continue
        cycles.append(_one_cycle(component, graph))
    return sorted(cycles)


def _one_cycle(component: list[str], graph) -> list[str]:
    """A shortest cycle through the first module of a strongly connected component."""
    members, start = set(component), component[0]
    previous, frontier = {start: None}, [start]
    while frontier:
        following = []
        for node in frontier:
            for child in sorted(graph[node] & members):
                if child == start:
                    path = [node]
                    while previous[path[-1]] is not None:
                        path.append(previous[path[-1]])
                    return [start, *reversed(path[:-1]), start] if node != start else [start, start]
                if child not in previous:
                    previous[child] = node
                    following.append(child)
        frontier = following
    raise AssertionError(f"no cycle in {component}")


def _describe_cycle(cycle, modules, edges) -> str:
    steps = []
    for a, b in zip(cycle, cycle[1:]):
        line = min(e.line for e in edges if e.source == a and e.target == b)
        steps.append(f"{a} ({shown(a, modules)}:{line})")
    return " -> ".join(steps + [cycle[-1]])


def plotting_reached(modules, edges, layer: str = "estimation") -> list[str]:
    """Rule (c): the chains by which a module of ``layer`` reaches presentation or a
    plotting/widget library, directly or through the modules it imports."""
    internal: dict[str, list[Import]] = {m: [] for m in modules}
    for edge in edges:
        internal[edge.source].append(edge)
    problems = []
    for start in sorted(m for m in modules if layer_of(m) == layer):
        previous, queue, seen = {}, [start], {start}
        while queue:
            node = queue.pop(0)
            for edge in internal[node]:
                bad = (edge.target in PLOTTING if not edge.internal
                       else layer_of(edge.target) == "presentation")
                if bad:
                    chain = [edge]
                    while chain[0].source != start:
                        chain.insert(0, previous[chain[0].source])
                    problems.append(f"{start} reaches {edge.target}: " + " -> ".join(
                        f"{e.source} ({e.where(modules)})" for e in chain) + f" -> {edge.target}")
                    continue
                if edge.internal and edge.target not in seen:
                    seen.add(edge.target)
                    previous[edge.target] = edge
                    queue.append(edge.target)
    return problems


# -- the checker on synthetic trees --------------------------------------------
def write_tree(root: Path, files: dict[str, str]) -> Path:
    """A package ``pkg`` under ``root`` with ``files`` (relative path -> source)."""
    package = root / "pkg"
    for name, source in files.items():
        path = package / name
        path.parent.mkdir(parents=True, exist_ok=True)
        for folder in path.relative_to(package).parents:
            init = package / folder / "__init__.py"
            if not init.exists() and init != path:
                init.parent.mkdir(parents=True, exist_ok=True)
                init.write_text("")
        path.write_text(textwrap.dedent(source))
    return package


CLEAN = {
    "__init__.py": "from .core.design import Design\nfrom .survey import Survey\n",
    "core/design.py": "import numpy as np\n",
    "core/errors.py": "",
    "estimation/result.py": "from ..core.design import Design\nfrom . import compare\n",
    "estimation/compare.py": (
        "from typing import TYPE_CHECKING\nfrom ..core import errors\n"
        "if TYPE_CHECKING:\n    from .result import Estimate\n"),
    "survey.py": "from .estimation.result import Estimate\n",
    "presentation/plots.py": "import plotly.graph_objects as go\nfrom ..survey import Survey\n",
    "cli.py": "def main():\n    import pkg as st\n    from .presentation import plots\n",
    "datasets/bundle.py": "from ..presentation.plots import go\n",
}


def test_a_clean_tree_passes(tmp_path):
    modules, edges = import_graph(write_tree(tmp_path, CLEAN))
    assert "pkg.estimation.compare" in modules and "pkg" in modules
    assert layer_violations(modules, edges) == []
    assert import_cycles(modules, edges) == []
    assert plotting_reached(modules, edges) == []


def test_relative_imports_are_resolved(tmp_path):
    modules, edges = import_graph(write_tree(tmp_path, CLEAN))
    targets = {(e.source, e.target) for e in edges if e.internal}
    assert ("pkg.estimation.result", "pkg.core.design") in targets
    assert ("pkg.estimation.result", "pkg.estimation.compare") in targets  # from . import compare
    assert ("pkg.estimation.compare", "pkg.core.errors") in targets        # from ..core import errors
    assert ("pkg.cli", "pkg.presentation.plots") in targets                # inside a function
    assert ("pkg.cli", "pkg") in targets
    # under `if TYPE_CHECKING:` the import never runs
    assert ("pkg.estimation.compare", "pkg.estimation.result") not in targets
    assert ("pkg.presentation.plots", "plotly") in {(e.source, e.target) for e in edges}


def test_an_upward_import_is_caught(tmp_path):
    tree = dict(CLEAN, **{"core/errors.py": "def f():\n    from ..survey import Survey\n"})
    problems = layer_violations(*import_graph(write_tree(tmp_path, tree)))
    assert len(problems) == 1
    assert "pkg.core.errors (core) imports pkg.survey (survey), a layer above it" in problems[0]
    assert problems[0].startswith("pkg/core/errors.py:2: ")


def test_imports_of_datasets_shims_and_the_root_from_a_layer_are_caught(tmp_path):
    tree = dict(CLEAN, **{
        "io.py": "from .survey import Survey\n",
        "estimation/core.py": "from ..datasets import bundle\nfrom .. import io\n",
        "weighting/rake.py": "from .. import __version__\n",
        "datasets/cli_user.py": "from ..cli import main\n",
    })
    problems = "\n".join(layer_violations(*import_graph(write_tree(tmp_path, tree))))
    assert "pkg.estimation.core (estimation) imports pkg.datasets.bundle, datasets" in problems
    assert "imports pkg.io, a deprecated shim" in problems
    assert "pkg.weighting.rake (weighting) imports the package root pkg" in problems
    assert "pkg.datasets.cli_user imports pkg.cli" in problems
    assert problems.count("\n") == 3


def test_a_module_outside_every_layer_is_caught(tmp_path):
    tree = dict(CLEAN, **{"formatting.py": "x = 1\n"})
    problems = layer_violations(*import_graph(write_tree(tmp_path, tree)))
    assert problems == ["pkg/formatting.py: module pkg.formatting is in no layer; move it "
                        "into a layer folder or add it to LAYERS"]


def test_a_cycle_is_caught_and_reported(tmp_path):
    tree = dict(CLEAN, **{
        "estimation/compare.py": "from ..core import errors\n\ndef f():\n    from .result import x\n",
    })
    modules, edges = import_graph(write_tree(tmp_path, tree))
    assert layer_violations(modules, edges) == []  # same folder: allowed, but a cycle
    cycles = import_cycles(modules, edges)
    assert cycles == [["pkg.estimation.compare", "pkg.estimation.result",
                       "pkg.estimation.compare"]]
    text = _describe_cycle(cycles[0], modules, edges)
    assert "pkg.estimation.compare (" in text and "compare.py:4" in text


def test_a_longer_cycle_across_layers_is_caught(tmp_path):
    tree = dict(CLEAN, **{"core/errors.py": "import pkg.survey\n"})
    modules, edges = import_graph(write_tree(tmp_path, tree))
    cycles = import_cycles(modules, edges)
    assert len(cycles) == 1 and len(cycles[0]) == 5, cycles
    assert cycles[0][0] == cycles[0][-1]
    assert set(cycles[0]) == {"pkg.core.errors", "pkg.survey", "pkg.estimation.result",
                              "pkg.estimation.compare"}


def test_a_module_importing_itself_is_a_cycle(tmp_path):
    tree = dict(CLEAN, **{"core/errors.py": "from . import errors\n"})
    assert import_cycles(*import_graph(write_tree(tmp_path, tree))) == [
        ["pkg.core.errors", "pkg.core.errors"]]


def test_estimation_reaching_plotting_is_caught_even_indirectly(tmp_path):
    tree = dict(CLEAN, **{
        "estimation/result.py": "from ..core.design import Design\n\ndef show():\n    import ipywidgets\n",
        "core/design.py": "import numpy as np\nimport plotly.express as px\n",
    })
    problems = plotting_reached(*import_graph(write_tree(tmp_path, tree)))
    assert any(p.startswith("pkg.estimation.result reaches ipywidgets") for p in problems)
    assert any(p.startswith("pkg.estimation.result reaches plotly") and "pkg.core.design" in p
               for p in problems)


def test_estimation_importing_presentation_is_caught(tmp_path):
    tree = dict(CLEAN, **{"estimation/compare.py": "from ..presentation.plots import go\n"})
    modules, edges = import_graph(write_tree(tmp_path, tree))
    assert any("pkg.estimation.compare reaches pkg.presentation.plots" in p
               for p in plotting_reached(modules, edges))
    assert any("a layer above it" in p for p in layer_violations(modules, edges))


# -- the contract on the package -----------------------------------------------
@pytest.fixture(scope="module")
def package():
    return import_graph(PACKAGE_DIR)


def test_the_package_has_its_layer_folders(package):
    modules, _ = package
    present = {layer_of(m) for m in modules}
    assert set(LAYERS) <= present, f"missing layers: {set(LAYERS) - present}"


def test_the_package_imports_point_down_only(package):
    problems = layer_violations(*package)
    assert not problems, "imports against the layers:\n" + "\n".join(problems)


def test_the_package_has_no_import_cycles(package):
    modules, edges = package
    cycles = [_describe_cycle(c, modules, edges) for c in import_cycles(modules, edges)]
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


def test_estimation_never_reaches_plotting_widgets_or_presentation(package):
    problems = plotting_reached(*package)
    assert not problems, "\n".join(problems)
