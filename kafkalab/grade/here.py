"""Self-grading one notebook in the current kernel: ``self_grade("my_03.ipynb")``.

For JupyterLite, where no second kernel can be started: a file the learner uploaded (the
Lite file browser's files are the kernel's files, under its working directory) is matched to
its exercise and graded like ``python -m kafkalab grade`` does, with the same rows, but its
cells run in a fresh namespace in *this* process. What the batch grader gets from a process
of its own, and what stands in for it here (:func:`limits`, shown under the table):

- the time budget: enforced here on the learner's own code (the cells' code objects;
  :mod:`.clock`: ``sys.monitoring`` on Python 3.12+, so in Pyodide, a trace function on
  3.11): an endless loop in a cell, or in a function the checks call, is stopped
  and reported as the batch grader reports it ("did not finish within the notebook's N s").
  It cannot stop a long call into compiled code (``sum(range(10**12))``), and a loop that
  catches ``BaseException`` outlives the first stop;
- the memory limit: none (Pyodide has no processes or resource limits; in CPython the
  kernel's own limits apply): a submission that allocates gigabytes hits the browser's limit;
- the fresh kernel and temporary directory: the cells run in a fresh namespace, in a
  temporary working directory removed afterwards (files written by an absolute path are not
  contained), in this kernel: what they change in imported modules stays changed until the
  kernel is restarted.

Instructors grading a class use the command line (a process per submission).
"""

from __future__ import annotations

import ast
import contextlib
import os
import shutil
import sys
import tempfile
from pathlib import Path

from ..palette import DARK, MUTED, STATUS_TEXT
from . import NOTEBOOK_TASK, Submission, _notebook_row, _read, grade_one
from .capture import clip
from .clock import CELL_FILE, Clock, OutOfTime  # noqa: F401 - OutOfTime: here's name for it
from .exercises import load_all, match, tags

BUDGET_S = 120.0  # per notebook; the browser runs the model ~3x slower than CPython
IN_BROWSER = sys.platform == "emscripten"


class _Sink:
    """stdout/stderr while grading: what the learner's cells print is dropped (a cell that
    prints without end cannot fill the kernel's memory)."""

    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass


def _error(exc: BaseException) -> dict:
    lines = str(exc).splitlines()
    value = lines[0] if lines else ""
    if len(lines) > 1:  # the row holds one line; it says how many more the error had
        value += f" (+{len(lines) - 1} more line{'s' if len(lines) > 2 else ''})"
    return {"error": type(exc).__name__ if not isinstance(exc, KeyboardInterrupt)
            else "KeyboardInterrupt", "value": clip(value)}


def _run_cell(code: str, namespace: dict, clock: Clock) -> dict:
    """One learner cell, as the batch grader's kernel runs it: an entry ``{"id", "outputs",
    "timed_out", "skipped"}`` without the id."""
    entry: dict = {"outputs": [], "timed_out": False, "skipped": False}
    if clock.up():
        entry["skipped"] = True
        return entry
    try:
        tree = ast.parse(code)
        with clock.watching():
            exec(clock.track(compile(tree, CELL_FILE, "exec")), namespace)
    except KeyboardInterrupt:
        entry["timed_out"] = True
    except BaseException as exc:  # the learner's code may raise anything, SystemExit too
        entry["outputs"] = [_error(exc)]
    return entry


def _run_check(code: str, namespace: dict, clock: Clock) -> dict:
    from .capture import check_data

    entry: dict = {"outputs": [], "timed_out": False, "skipped": False}
    if clock.up():
        entry["skipped"] = True
        return entry
    try:
        with clock.watching():
            entry["outputs"] = [{"check": check_data(code, namespace)}]
    except KeyboardInterrupt:
        entry["timed_out"] = True
    return entry


def limits(budget_s: float = BUDGET_S) -> list[str]:
    """What this kernel can and cannot enforce of the batch grader's limits, one line each."""
    where = "in the browser (Pyodide: no processes)" if IN_BROWSER else "in this kernel"
    return [
        f"graded {where}, not in a kernel of its own as `python -m kafkalab grade` does",
        f"time: {budget_s:g} s for the notebook, enforced on your cells' own code only (a long "
        "call into compiled code, or a loop that catches BaseException, is not stopped)",
        "memory: no limit can be set here" + (" (no resource limits in Pyodide)" if IN_BROWSER
                                              else ""),
        "files: your cells run in a temporary folder (removed afterwards); a file written by an "
        "absolute path is not contained, and what they change in imported modules stays until "
        "the kernel restarts",
    ]


def uploaded(folder=".", exercises_dir=None) -> list[Path]:
    """The notebooks in ``folder`` (not its sub-folders) that are exercise notebooks, newest
    first: the candidates for ``self_grade()`` without a file name."""
    exercises = load_all(exercises_dir)
    found = []
    for path in Path(folder).glob("*.ipynb"):
        nb = _read(Submission(path, ""))
        exercise = match(nb, exercises)[0] if isinstance(nb, dict) else None
        if exercise is not None and _has_tasks_of(nb, exercise):
            found.append(path)
    return sorted(found, key=lambda p: (-p.stat().st_mtime, p.name))


def _has_tasks_of(nb: dict, exercise) -> bool:
    """Whether ``nb`` holds one of the exercise's answer or check cells as such (its tag kept):
    a course notebook whose cell ids happen to be the exercise's is not a submission."""
    graded = {i for t in exercise.tasks for i in t.answer_cells + t.check_cells}
    return any(isinstance(c, dict) and c.get("id") in graded
               and {"solution", "check"} & set(tags(c)) for c in nb["cells"])


def self_grade(path=None, exercises_dir=None, student: str = "me",
               budget_s: float = BUDGET_S):
    """Grade one submitted notebook here; returns the rows (displayed as a table).

    ``path`` is the notebook (in JupyterLite: a file uploaded to the file browser, relative
    to this notebook's folder); without it, the newest exercise notebook in this folder."""
    if path is None:
        candidates = uploaded(".", exercises_dir)
        if not candidates:
            sub = Submission(Path("(none)"), student)
            return Rows([_notebook_row(sub, "", "error", "there is no exercise notebook in "
                                       f"this folder ({Path.cwd()}): upload yours into it (the "
                                       "file browser's upload button) and run this cell again")],
                        limits(budget_s))
        path = candidates[0]
    sub = Submission(Path(path).absolute(), student)
    exercises = load_all(Path(exercises_dir).absolute() if exercises_dir else None)
    grade_one(sub, exercises, budget_s, in_process=True)
    return Rows(sub.rows, limits(budget_s), sub.seconds)


def execute_here(cells: list[dict], budget_s: float = BUDGET_S) -> dict:
    """The cells :func:`..grade.build` made, run in this process; the same result as the
    batch grader's :func:`._worker.execute` (``{"cells": [{"id", "outputs", "timed_out",
    "skipped"}], "died": None}``), with the limits this process can keep (:func:`limits`)."""
    clock = Clock(budget_s)
    namespace: dict = {"__name__": "__main__"}
    results = []
    here = os.getcwd()
    tmp = tempfile.mkdtemp(prefix="kafkalab-self-grade-")
    try:
        os.chdir(tmp)
        with contextlib.redirect_stdout(_Sink()), contextlib.redirect_stderr(_Sink()):
            for cell in cells:
                if cell["kind"] == "check":
                    entry = _run_check(cell["check"], namespace, clock)
                else:
                    entry = _run_cell(cell["source"], namespace, clock)
                results.append({"id": cell["id"], **entry})
    finally:
        os.chdir(here)
        shutil.rmtree(tmp, ignore_errors=True)
    return {"cells": results, "died": None}


class Rows(list):
    """The rows of one graded notebook; shows as a small table in a notebook, with what this
    kernel could not enforce of the batch grader's limits under it."""

    def __init__(self, rows=(), limits: list[str] | None = None, seconds: float = 0.0):
        super().__init__(rows)
        self.limits = list(limits or [])
        self.seconds = seconds

    def _repr_html_(self) -> str:
        import html

        body = "".join(
            f"<tr class='kafkalab-grade-row' data-task='{html.escape(r.task)}' "
            f"data-status='{html.escape(r.status)}'>"
            f"<td>{html.escape(r.title if r.task != NOTEBOOK_TASK else 'the notebook')}"
            f"</td><td style='color:{STATUS_TEXT.get(r.status, DARK)}'><b>{html.escape(r.status)}"
            f"</b></td><td>{html.escape(r.reason)}</td></tr>" for r in self)
        file = html.escape(self[0].file) if self else ""
        notes = "".join(f"<li>{html.escape(line)}</li>" for line in self.limits)
        foot = (f"<ul class='kafkalab-grade-limits' style='color:{MUTED};font-size:12px'>"
                f"{notes}</ul>" if notes else "")
        took = f" in {self.seconds:.1f} s" if self.seconds else ""
        return (f"<div class='kafkalab-self-grade-box'><b>{file}</b>{took}"
                "<table class='kafkalab-self-grade'><tr><th>task</th><th>status</th>"
                f"<th>why</th></tr>{body}</table>{foot}</div>")

    def __repr__(self) -> str:
        lines = [f"{r.task}: {r.status}: {r.reason}" for r in self]
        return "\n".join(lines + [f"({line})" for line in self.limits])
