"""The layering rules of docs/architecture.md, checked on the source (issue 15 item 4):

- one palette: no colour code outside ``kafkalab/palette.py`` (package code, tools and the
  notebooks' code cells);
- no package imports another package's private (``_name``) module or name;
- viz never runs the model: it imports no ``simulate`` and no runner of ``kafkalab.scenarios``
  or ``kafkalab.sweep`` (their data tables it may read).
"""

from __future__ import annotations

import ast
import importlib
import io
import json
import re
import tokenize
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "kafkalab"
PALETTE = PACKAGE / "palette.py"
# Python code that draws or prints: the package, the repository's tools and benchmarks.
CODE_DIRS = ("kafkalab", "tools", "benchmarks")
NOTEBOOK_DIRS = ("notebooks", "exercises", "solutions")

# "#D55E00", "#555": a hash and 6 or 3 hex digits, not inside a longer word. A 3-digit one
# must also sit where CSS puts a colour (after ':', '(', ',', '=' or a quote, or before ';',
# '}', ')', ',' or a quote), so that "message #100" is not taken for a colour.
_HEX = re.compile(r"(?<![\w#])#(?:[0-9A-Fa-f]{6}|[0-9A-Fa-f]{3})(?!\w)")
_BEFORE, _AFTER = ":(,='\"", ";}),'\""


def _colours(text: str) -> list[str]:
    found = []
    for m in _HEX.finditer(text):
        if len(m.group()) == 7:
            found.append(m.group())
            continue
        before = text[: m.start()].rstrip()[-1:]
        after = text[m.end():].lstrip()[:1]
        if not before or before in _BEFORE or not after or after in _AFTER:
            found.append(m.group())
    return found


def _python_files() -> list[Path]:
    files = []
    for folder in CODE_DIRS:
        files += sorted((ROOT / folder).rglob("*.py")) if (ROOT / folder).is_dir() else []
    return [f for f in files if "__pycache__" not in f.parts]


def _string_literals(source: str) -> list[tuple[int, str]]:
    """(line, text) of every string token (f-strings' literal parts included)."""
    out = []
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.STRING or tok.type == getattr(tokenize, "FSTRING_MIDDLE", -1):
            out.append((tok.start[0], tok.string))
    return out


def _colour_literals() -> list[str]:
    found = []
    for path in _python_files():
        if path == PALETTE:
            continue
        for line, text in _string_literals(path.read_text(encoding="utf-8")):
            found += [f"{path.relative_to(ROOT)}:{line}: {c}" for c in _colours(text)]
    for folder in NOTEBOOK_DIRS:
        for nb_path in sorted((ROOT / folder).glob("*.ipynb")):
            nb = json.loads(nb_path.read_text(encoding="utf-8"))
            for i, cell in enumerate(nb["cells"]):
                if cell["cell_type"] != "code":
                    continue
                source = "".join(cell["source"]) if isinstance(cell["source"], list) \
                    else cell["source"]
                found += [f"{nb_path.relative_to(ROOT)} cell {i}: {c}" for c in _colours(source)]
    return found


def test_no_colour_code_outside_the_palette():
    found = _colour_literals()
    assert not found, ("colour codes outside kafkalab/palette.py (name them there and import "
                       "the name):\n" + "\n".join(found))


def test_the_colour_scan_sees_a_colour(tmp_path):
    """The scan finds what it must (and not message numbers)."""
    assert _colours("color:#555;border:1px solid #D55E00") == ["#555", "#D55E00"]
    assert _colours("'#fafafa'") == ["#fafafa"]
    assert _colours("h2{border-bottom:1px solid #ddd}") == ["#ddd"]
    assert _colours("crash before_processing #4, message #100 and #12 of #1000") == []
    assert [t for _l, t in _string_literals("x = f'color:#abc{y}'\n") if _colours(t)]


def test_the_palette_is_okabe_ito_and_the_figures_use_it():
    from kafkalab import palette, viz
    from kafkalab.viz import _common

    assert viz.OKABE_ITO is palette.OKABE_ITO is _common.OKABE_ITO
    assert palette.OKABE_ITO["vermillion"] == palette.LOST
    assert palette.OKABE_ITO["orange"] == palette.DUPLICATE


# -- imports ---------------------------------------------------------------------------------


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _package_of(path: Path) -> str:
    """The package a file belongs to (``kafkalab.viz`` for viz/ledger.py and viz/__init__.py,
    ``kafkalab`` for kafkalab/cli.py, ``tools`` for a tool)."""
    return ".".join(path.relative_to(ROOT).parts[:-1])


def _resolve(path: Path, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = _package_of(path).split(".")
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _imports(path: Path, source: str | None = None):
    """(line, dotted name) for every module or name imported (anywhere in the file, function
    bodies included), and every ``module._private`` read of an imported module."""
    tree = ast.parse(path.read_text(encoding="utf-8") if source is None else source)
    bound: dict[str, str] = {}  # local name -> the dotted name it was imported as
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
                bound[alias.asname or alias.name.split(".")[0]] = \
                    alias.name if alias.asname else alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom):
            module = _resolve(path, node)
            for alias in node.names:
                yield node.lineno, f"{module}.{alias.name}"
                bound[alias.asname or alias.name] = f"{module}.{alias.name}"
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
                and node.value.id in bound and _is_private(node.attr):
            yield node.lineno, f"{bound[node.value.id]}.{node.attr}"


def _is_private(part: str) -> bool:
    return part.startswith("_") and not part.startswith("__")


def _owner_package(dotted: str) -> str | None:
    """The package that owns the first private part of ``dotted`` (None: nothing private).
    ``kafkalab.viz._common.C`` -> ``kafkalab.viz``; ``kafkalab.cli._report`` -> ``kafkalab``
    (cli is a module of the kafkalab package)."""
    parts = dotted.split(".")
    for i, part in enumerate(parts):
        if _is_private(part):
            owner = parts[:i]
            if (ROOT.joinpath(*owner) / "__init__.py").exists():
                return ".".join(owner)
            return ".".join(owner[:-1])
    return None


def cross_package_private_imports() -> list[str]:
    found = []
    for path in _python_files():
        package = _package_of(path)
        for line, dotted in _imports(path):
            if not dotted.startswith(("kafkalab.", "tools.", "benchmarks.")):
                continue
            owner = _owner_package(dotted)
            if owner is None or package == owner or package.startswith(owner + "."):
                continue
            found.append(f"{path.relative_to(ROOT)}:{line}: {dotted} (private to {owner})")
    return sorted(set(found))


def test_no_package_imports_another_packages_private_module():
    found = cross_package_private_imports()
    assert not found, ("a package imports another package's private module or name (promote "
                       "it to a public name):\n" + "\n".join(found))


def test_the_import_scan_sees_a_private_import():
    """Module-level, function-level and attribute uses of another package's private parts."""
    src = ("from ..viz._common import C\nfrom .. import crosscheck\n"
           "def f():\n    from ..real import _deps\n    return crosscheck._unavailable_here\n")
    names = [d for _line, d in _imports(PACKAGE / "widgets" / "figures.py", src)]
    owners = {d: _owner_package(d) for d in names if _owner_package(d)}
    assert owners == {"kafkalab.viz._common.C": "kafkalab.viz",
                      "kafkalab.real._deps": "kafkalab.real",
                      "kafkalab.crosscheck._unavailable_here": "kafkalab"}
    # inside its own package a private module is fine
    assert _owner_package("kafkalab.checks._runner.timings") == "kafkalab.checks"


# -- viz never runs the model ----------------------------------------------------------------

RUNNER_PACKAGES = ("kafkalab.scenarios", "kafkalab.sweep", "kafkalab.crosscheck",
                   "kafkalab.checks", "kafkalab.real")


def _runs_the_model(dotted: str) -> bool:
    if dotted in ("kafkalab.model", "kafkalab.model.simulate") or \
            dotted.startswith(("kafkalab.model.simulation", "kafkalab.model.simulate")):
        return True
    if dotted.split(".")[-1] in ("simulate", "run", "run_commit_strategies", "sweep",
                                 "semantics_sweeps"):
        return dotted.startswith("kafkalab.")
    if not dotted.startswith(RUNNER_PACKAGES):
        return False
    module, _, name = dotted.rpartition(".")
    try:  # a module of a runner package, or a function of one: viz may read only tables
        importlib.import_module(dotted)
    except ImportError:
        return callable(getattr(importlib.import_module(module), name))
    return True


@pytest.mark.parametrize("path", sorted((PACKAGE / "viz").glob("*.py")), ids=lambda p: p.name)
def test_viz_never_runs_the_model(path):
    bad = [f"{path.name}:{line}: {dotted}" for line, dotted in _imports(path)
           if _runs_the_model(dotted)]
    assert not bad, "viz draws results and never runs the model:\n" + "\n".join(bad)


def test_the_runner_scan_sees_a_runner():
    assert _runs_the_model("kafkalab.model.simulate")
    assert _runs_the_model("kafkalab.scenarios.run_commit_strategies")
    assert _runs_the_model("kafkalab.sweep.semantics_sweeps")
    assert _runs_the_model("kafkalab.sweep")
    assert not _runs_the_model("kafkalab.sweep.cli.SEMANTICS")  # a table
    assert not _runs_the_model("kafkalab.model.faults.CRASH_POINTS")


def test_semantics_matrix_needs_the_sweeps():
    from kafkalab.viz.guarantee_map import semantics_matrix

    with pytest.raises(TypeError, match="semantics_sweeps"):
        semantics_matrix(None)


def test_the_moved_runner_says_where_it_went():
    with pytest.raises(ImportError, match=r"kafkalab\.scenarios"):
        from kafkalab.viz import run_commit_strategies
    from kafkalab.scenarios import run_commit_strategies

    assert callable(run_commit_strategies)
