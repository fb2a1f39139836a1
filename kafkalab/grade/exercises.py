"""The exercises a submission is graded against: read from the exercise notebooks.

What identifies an exercise today is its cells' ids: every cell of
``exercises/NN_<topic>_exercises.ipynb`` has the id ``NN-KK`` (tools/make_exercises.py keeps
them, and JupyterLab keeps a cell's id while the learner edits it). A submission is matched
to the exercise whose answer and check cell ids it holds most of (notebook metadata
``kafkalab.exercise``, when present, wins). Tasks come from the notebook's structure: a
``## Task …`` heading, the code cells tagged ``solution`` after it (the learner's answer)
and the cells tagged ``check`` (run from the exercise's own copy, never the learner's).
"""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DIR = ROOT / "exercises"


def source(cell) -> str:
    s = cell.get("source", "")
    return "".join(s) if isinstance(s, list) else str(s)


def tags(cell) -> list[str]:
    meta = cell.get("metadata") or {}
    t = meta.get("tags") if isinstance(meta, dict) else None
    return list(t) if isinstance(t, list) else []


def defined_names(text: str) -> list[str]:
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return []
    names = []
    for node in tree.body:
        if isinstance(node, ast.Assign):
            names += [t.id for t in node.targets if isinstance(t, ast.Name)]
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.append(node.target.id)
        elif isinstance(node, ast.FunctionDef):
            names.append(node.name)
    return names


@dataclass
class Task:
    name: str  # the name the answer cell defines (what solutions/*_misconceptions.py keys)
    title: str  # "Task 1 · Commit every record"
    answer_cells: list[str] = field(default_factory=list)
    check_cells: list[str] = field(default_factory=list)


@dataclass
class Exercise:
    id: str  # "03"
    path: Path
    title: str
    cells: list[dict]  # the exercise's code cells, in order
    tasks: list[Task]

    @property
    def ids(self) -> list[str]:
        return [c["id"] for c in self.cells]

    def cell(self, cell_id: str) -> dict:
        return next(c for c in self.cells if c["id"] == cell_id)


def load_exercise(path: Path) -> Exercise:
    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    cells, tasks, title = [], [], Path(path).stem
    current: Task | None = None
    for cell in nb["cells"]:
        text = source(cell)
        if cell["cell_type"] == "markdown":
            first = text.strip().splitlines()[0] if text.strip() else ""
            if first.startswith("# ") and title == Path(path).stem:
                title = first[2:].strip()
            if first.startswith("## Task"):
                current = Task("", first[3:].strip())
                tasks.append(current)
            continue
        if cell["cell_type"] != "code":
            continue
        cells.append({"id": cell["id"], "tags": tags(cell), "source": text})
        if current is None:
            continue
        if "solution" in tags(cell):
            current.answer_cells.append(cell["id"])
            if not current.name:
                current.name = (defined_names(text) or [cell["id"]])[0]
        elif "check" in tags(cell):
            current.check_cells.append(cell["id"])
    tasks = [t for t in tasks if t.check_cells]
    for t in tasks:
        t.name = t.name or t.check_cells[0]
    ex_id = cells[0]["id"].split("-")[0] if cells else Path(path).name[:2]
    return Exercise(ex_id, Path(path), title, cells, tasks)


def load_all(folder: str | Path | None = None) -> dict[str, Exercise]:
    if not folder:  # the repository's; in JupyterLite, the site's exercises/ folder
        candidates = [DEFAULT_DIR, Path("exercises"), Path("..") / "exercises"]
        folder = next((c for c in candidates if c.is_dir()), DEFAULT_DIR)
    folder = Path(folder)
    if not folder.is_dir():
        from ..model import ConfigError

        raise ConfigError(f"kafkalab: exercise folder {str(folder)!r} does not exist (give "
                          "--exercises DIR)", kafka=False)
    out = {}
    for p in sorted(folder.glob("*.ipynb")):
        ex = load_exercise(p)
        if ex.tasks:
            out[ex.id] = ex
    return out


def match(nb: dict, exercises: dict[str, Exercise]) -> tuple[Exercise | None, str]:
    """The exercise a submitted notebook is (or None), and how it was told."""
    meta = nb.get("metadata") if isinstance(nb.get("metadata"), dict) else {}
    declared = (meta.get("kafkalab") or {}).get("exercise") if isinstance(
        meta.get("kafkalab"), dict) else None
    if isinstance(declared, str) and declared in exercises:
        return exercises[declared], "metadata"
    ids = {c.get("id") for c in nb.get("cells", []) if isinstance(c, dict)}
    best, score = None, 0.0
    for ex in exercises.values():
        graded = [i for t in ex.tasks for i in t.answer_cells + t.check_cells]
        share = sum(i in ids for i in graded) / max(len(graded), 1)
        if share > score:
            best, score = ex, share
    if best is not None and score >= 0.5:
        return best, "cell ids"
    return None, ""
