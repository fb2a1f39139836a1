"""Generate the exercise notebooks from the solution notebooks (one source of truth).

    python tools/make_exercises.py [--solutions solutions] [--out exercises]

Every code cell tagged ``solution`` (cell metadata ``tags``) becomes a stub that keeps the
names the check cells use:

* ``name = <anything>``             → ``name = ...``
* ``def f(args): <body>``           → the same signature and docstring, body
                                      ``raise NotImplementedError``
* anything else in the cell (imports, expressions, comments) is dropped.

A ``# YOUR CODE HERE`` line heads each stub, so a check cell run on the stub reports
"not done yet". Markdown cells tagged ``solution`` are dropped. Outputs and execution counts
are cleared in both versions; the kernelspec is ``python3``. An exercise notebook whose
solution no longer exists is removed.
"""

from __future__ import annotations

import argparse
import ast
import copy
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TAG = "solution"
KERNELSPEC = {"display_name": "Python 3", "language": "python", "name": "python3"}


def stub(source: str) -> str:
    """The learner's version of a solution cell."""
    tree = ast.parse(source)
    lines = ["# YOUR CODE HERE"]
    for node in tree.body:
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names = ", ".join(ast.unparse(t) for t in targets if isinstance(t, ast.Name | ast.Tuple))
            if names:
                lines.append(f"{names} = ...")
        elif isinstance(node, ast.FunctionDef):
            lines.append(_function_stub(node))
    return "\n".join(lines)


def _function_stub(node: ast.FunctionDef) -> str:
    fn = copy.deepcopy(node)
    body: list[ast.stmt] = []
    doc = ast.get_docstring(node, clean=False)
    if doc is not None:
        body.append(node.body[0])
    body.append(ast.Raise(exc=ast.Name("NotImplementedError"), cause=None))
    fn.body = body
    return ast.unparse(ast.fix_missing_locations(fn))


def _tags(cell: dict) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def clean(nb: dict) -> dict:
    """No outputs, no execution counts, python3 kernelspec."""
    nb = copy.deepcopy(nb)
    nb.setdefault("metadata", {})["kernelspec"] = dict(KERNELSPEC)
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
        cell.get("metadata", {}).pop("execution", None)
    return nb


def exercise(solution_nb: dict) -> dict:
    nb = clean(solution_nb)
    cells = []
    for cell in nb["cells"]:
        if TAG in _tags(cell):
            if cell["cell_type"] != "code":
                continue  # a worked answer in prose
            source = "".join(cell["source"]) if isinstance(cell["source"], list) \
                else cell["source"]
            cell = {**cell, "source": stub(source)}
        cells.append(cell)
    nb["cells"] = cells
    return nb


def dumps(nb: dict) -> str:
    """nbformat's own on-disk layout (validated; multi-line sources as lists of lines)."""
    import nbformat

    node = nbformat.from_dict(nb)
    nbformat.validate(node)
    return nbformat.writes(node, version=4) + "\n"


def generate(solutions: Path, out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for path in sorted(solutions.glob("*.ipynb")):
        nb = json.loads(path.read_text(encoding="utf-8"))
        target = out / path.name
        target.write_text(dumps(exercise(nb)), encoding="utf-8")
        written.append(target)
    for stale in sorted(set(out.glob("*.ipynb")) - set(written)):  # its solution is gone
        stale.unlink()
        print(f"removed {stale}", file=sys.stderr)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--solutions", type=Path, default=ROOT / "solutions")
    parser.add_argument("--out", type=Path, default=ROOT / "exercises")
    args = parser.parse_args(argv)
    written = generate(args.solutions, args.out)
    for path in written:
        print(path)
    return 0 if written else 1


if __name__ == "__main__":
    sys.exit(main())
