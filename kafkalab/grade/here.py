"""Self-grading one notebook in the current kernel: ``self_grade("my_03.ipynb")``.

For JupyterLite, where no second kernel can be started: a file the learner uploaded (the
Lite file browser's files are the kernel's files) is matched to its exercise and graded like
``python -m kafkalab grade`` does, with the same rows, but its cells run in a fresh namespace
in *this* process: there is no time or memory limit (an endless loop hangs this kernel; the
page's "restart kernel" ends it). Instructors grading a class use the command line.
"""

from __future__ import annotations

import ast
import contextlib
import io
from pathlib import Path

from ..palette import DARK, STATUS_TEXT
from . import NOTEBOOK_TASK, Submission, _notebook_row, _read, _task_row, build
from .exercises import load_all, match


def _run_cell(code: str, namespace: dict) -> dict:
    try:
        tree = ast.parse(code)
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            exec(compile(tree, "<cell>", "exec"), namespace)
    except KeyboardInterrupt:
        return {"error": "KeyboardInterrupt", "value": ""}
    except BaseException as exc:  # the learner's code may raise anything, SystemExit too
        return {"error": type(exc).__name__, "value": str(exc).splitlines()[0][:300]
                if str(exc) else ""}
    return {}


def _run_check(code: str, namespace: dict) -> dict:
    from .capture import check_data

    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        return check_data(code, namespace)


def self_grade(path, exercises_dir=None, student: str = "me"):
    """Grade one submitted notebook here; returns the rows (displayed as a table)."""
    sub = Submission(Path(path), student)
    exercises = load_all(exercises_dir)
    nb = _read(sub)
    if isinstance(nb, str):
        return Rows([_notebook_row(sub, "", "error", nb)])
    exercise, _how = match(nb, exercises)
    if exercise is None:
        return Rows([_notebook_row(sub, "", "error", "this is not one of the exercise "
                                   "notebooks (none of its cells are an exercise's)")])
    cells, remarks, problems = build(exercise, nb)
    namespace: dict = {"__name__": "__main__"}
    by_id = {}
    for cell in cells:
        if cell["kind"] == "check":
            ref = exercise.cell(cell["id"])["source"]
            by_id[cell["id"]] = {"id": cell["id"], "outputs": [{"check": _run_check(
                ref, namespace)}]}
        else:
            out = _run_cell(cell["source"], namespace)
            by_id[cell["id"]] = {"id": cell["id"], "outputs": [out] if out else []}
    rows = [_notebook_row(sub, exercise.id, "note", r) for r in remarks]
    rows += [_task_row(sub, exercise, task, by_id, problems, 0, None) for task in exercise.tasks]
    return Rows(rows)


class Rows(list):
    """The rows of one graded notebook; shows as a small table in a notebook."""

    def _repr_html_(self) -> str:
        import html

        body = "".join(
            f"<tr><td>{html.escape(r.title if r.task != NOTEBOOK_TASK else 'the notebook')}"
            f"</td><td style='color:{STATUS_TEXT.get(r.status, DARK)}'><b>{html.escape(r.status)}"
            f"</b></td><td>{html.escape(r.reason)}</td></tr>" for r in self)
        return ("<table class='kafkalab-self-grade'><tr><th>task</th><th>status</th>"
                f"<th>why</th></tr>{body}</table>")
