"""Every docstring example in ``surveytools/`` runs and shows what it says.

One test per docstring that holds examples (id: the dotted name of the object
it documents), found by :class:`doctest.DocTestFinder` in every module of the
package and run from the repository root (examples read ``data/...``) with
``ELLIPSIS`` and ``NORMALIZE_WHITESPACE``.  Examples marked
``# doctest: +SKIP`` (they need a user's files) are not run, and a docstring
whose examples are all marked so is not collected.  ``__main__`` modules are
not imported (importing one runs it).
"""

from __future__ import annotations

import doctest
import importlib
import warnings
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "surveytools"
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def module_names() -> list[str]:
    names = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if parts[-1] == "__main__":
            continue
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def collect():
    """(id, DocTest) for every docstring with examples; import errors as failing cases."""
    cases, finder = [], doctest.DocTestFinder(exclude_empty=True)
    for name in module_names():
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)  # the deprecated shims
                module = importlib.import_module(name)
        except Exception as error:  # noqa: BLE001 - reported as a failing case below
            cases.append(pytest.param(name, error, id=f"{name}[import]"))
            continue
        for test in finder.find(module, name):
            runnable = [e for e in test.examples if not e.options.get(doctest.SKIP)]
            if runnable and test.filename and Path(test.filename).resolve().is_relative_to(PACKAGE):
                cases.append(pytest.param(test.name, test, id=test.name))
    return sorted(cases, key=lambda case: case.id)


CASES = collect()


def test_the_examples_are_found():
    # the package documents its public objects with examples: a finder that
    # sees none (e.g. after a move) must not pass silently
    names = [case.id for case in CASES]
    assert len(names) >= 10, names
    assert "surveytools.core.smallbase.blank" in names


@pytest.mark.parametrize("name, test", CASES)
def test_docstring_examples(name, test, monkeypatch):
    if isinstance(test, Exception):
        pytest.fail(f"{name} does not import: {type(test).__name__}: {test}")
    monkeypatch.chdir(ROOT)
    report = []
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    test.globs = dict(test.globs)  # each run starts from the module's namespace
    with warnings.catch_warnings():
        warnings.simplefilter("default")
        result = runner.run(test, out=report.append, clear_globs=True)
    assert result.attempted > 0, f"{name}: no example ran"
    assert result.failed == 0, (f"{result.failed} of {result.attempted} examples of {name} "
                                f"failed:\n" + "".join(report))
