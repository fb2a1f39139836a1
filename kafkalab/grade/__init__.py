"""Grade a class: ``python -m kafkalab grade SUBMISSIONS_DIR [--out grades.csv]
[--feedback DIR] [--jobs N]``.

Every ``.ipynb`` under SUBMISSIONS_DIR (any name; in a sub-folder per student, or one file per
student) is matched to its exercise by its cells' ids (see :mod:`.exercises`), then run in a
fresh kernel in its own process, in a temporary directory, with a time budget and a memory
limit (:mod:`._worker`). The learner's cells run in the exercise's order; each check cell is
the exercise's own (a learner cannot edit a check into passing). Each task gets one CSV row:
``student, file, exercise, task, title, status, passed, reason`` where status is ``pass``,
``fail``, ``not done`` or ``error`` and reason is one line (the check's summary, or what went
wrong: a syntax error, an endless loop, a missing cell, another exercise's notebook, an
empty or corrupt file). A bad submission never stops the batch.

In Pyodide (JupyterLite) there are no processes and no kernels to start: the cells run in
this process instead (:mod:`.here`, also behind ``self_grade``), one notebook after another,
with the same checks and rows; the time budget holds on the learner's own code, and what
cannot be enforced there (a memory limit, a process of its own) is named by
:func:`.here.limits`.
"""

from __future__ import annotations

import collections
import csv
import json
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from multiprocessing import get_context
from pathlib import Path

from .exercises import Exercise, load_all, match, source

COLUMNS = ("student", "file", "exercise", "task", "title", "status", "passed", "reason")
NOTEBOOK_TASK = "(notebook)"


@dataclass
class Row:
    student: str
    file: str
    exercise: str
    task: str
    title: str
    status: str  # pass | fail | not done | error
    reason: str
    details: str = ""  # the check's full text (counterexample and explanation), for feedback

    @property
    def passed(self) -> bool:
        return self.status == "pass"

    def csv(self) -> dict:
        d = asdict(self)
        d.pop("details")
        d["passed"] = "true" if self.passed else "false"
        return d


@dataclass
class Submission:
    path: Path
    student: str
    rows: list[Row] = field(default_factory=list)
    seconds: float = 0.0


def _one_line(text: str, limit: int = 300) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def find_submissions(folder: Path) -> list[Submission]:
    out = []
    for path in sorted(folder.rglob("*.ipynb")):
        if ".ipynb_checkpoints" in path.parts:
            continue
        rel = path.relative_to(folder)
        student = rel.parts[0] if len(rel.parts) > 1 else path.stem
        out.append(Submission(path, student))
    return out


def _notebook_row(sub: Submission, exercise: str, status: str, reason: str) -> Row:
    return Row(sub.student, sub.path.name, exercise, NOTEBOOK_TASK, "the notebook", status,
               _one_line(reason))


def _read(sub: Submission) -> dict | str:
    """The notebook as a dict, or why it cannot be graded."""
    try:
        raw = sub.path.read_bytes()
    except OSError as exc:
        return f"the file cannot be read: {exc.strerror or exc}"
    if not raw.strip():
        return "the file is empty"
    try:
        nb = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return "the file is not a notebook (not valid JSON: corrupt or truncated?)"
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        return "the file is not a Jupyter notebook (no cells)"
    return nb


def build(exercise: Exercise, nb: dict) -> tuple[list[dict], list[str], dict[str, str]]:
    """The cells to run (the learner's, in the exercise's order, each check the exercise's
    own), notebook-level remarks, and {answer cell id: what is wrong with it}."""
    theirs = [c for c in nb["cells"] if isinstance(c, dict) and c.get("cell_type") == "code"]
    by_id = {c.get("id"): c for c in theirs if c.get("id")}
    known = exercise.ids
    order = [c.get("id") for c in theirs if c.get("id") in known]
    remarks, problems = [], {}
    expected = [i for i in known if i in order]
    if order != expected:
        first = next(a for a, b in zip(order, expected, strict=True) if a != b)
        remarks.append(f"cells are not in the exercise's order (cell {first} was moved): "
                       "graded in the exercise's order")
    # learner cells the exercise does not have run after the known cell they follow
    extra: dict[str | None, list[dict]] = collections.defaultdict(list)
    previous = None
    for c in theirs:
        if c.get("id") in known:
            previous = c.get("id")
        else:
            extra[previous].append(c)
    cells = [{"id": "kafkalab-setup", "source": "", "kind": "setup"}]
    cells += [{"id": f"extra-{i}", "source": source(c), "kind": "extra"}
              for i, c in enumerate(extra[None])]
    for ref in exercise.cells:
        cid = ref["id"]
        if "check" in ref["tags"]:
            code = (f"from kafkalab.grade.capture import run_check as __kafkalab_run_check\n"
                    f"__kafkalab_run_check({ref['source']!r}, globals())")
            cells.append({"id": cid, "source": code, "kind": "check", "check": ref["source"]})
        elif cid in by_id:
            cells.append({"id": cid, "source": source(by_id[cid]), "kind": "answer"
                          if "solution" in ref["tags"] else "setup"})
        else:
            if "solution" in ref["tags"]:
                problems[cid] = f"the answer cell {cid} is missing from the notebook " \
                                "(deleted, or pasted as a new cell?)"
            cells.append({"id": cid, "source": ref["source"], "kind": "missing"})
        cells += [{"id": f"extra-{cid}-{i}", "source": source(c), "kind": "extra"}
                  for i, c in enumerate(extra[cid])]
    return cells, remarks, problems


IN_BROWSER = sys.platform == "emscripten"  # Pyodide (JupyterLite): no processes, no kernels


def _execute(cells: list[dict], budget_s: float, memory_mb: int, in_process: bool = False) -> dict:
    """Run the cells: in a fresh kernel of their own (:mod:`._worker`), or, in Pyodide or when
    asked, in this process with what can be enforced there (:func:`.here.execute_here`)."""
    if in_process or IN_BROWSER:
        from .here import execute_here

        return execute_here(cells, budget_s)
    from ._worker import execute

    return execute(cells, budget_s, memory_mb)


def _cell_error(entry: dict | None, budget_s: float) -> str | None:
    if entry is None:
        return None
    if entry.get("timed_out"):
        return f"did not finish within the notebook's {budget_s:g} s (an endless loop?)"
    if entry.get("skipped"):
        return f"was not run: the notebook used up its {budget_s:g} s before it"
    for o in entry.get("outputs", []):
        if "error" in o:
            name, value = o["error"], o["value"]
            if name == "KeyboardInterrupt":
                return f"did not finish within the notebook's {budget_s:g} s (an endless loop?)"
            return f"raised {name}" + (f": {value}" if value else "")
    return None


def grade_one(sub: Submission, exercises: dict[str, Exercise], budget_s: float = 60,
              memory_mb: int = 1024, only: str | None = None,
              in_process: bool = False) -> Submission:
    """Grade one notebook: its rows in ``sub.rows``. ``in_process`` (always, in Pyodide) runs
    its cells in this process (:mod:`.here`: the time budget holds on the learner's code, no
    memory limit) instead of a fresh kernel."""
    start = time.perf_counter()
    try:
        sub.rows = _grade(sub, exercises, budget_s, memory_mb, only, in_process)
    except Exception as exc:
        sub.rows = [_notebook_row(sub, "", "error", f"the grader could not grade this file "
                                                    f"({type(exc).__name__}: {exc})")]
    sub.seconds = time.perf_counter() - start
    return sub


def _grade(sub, exercises, budget_s, memory_mb, only, in_process=False) -> list[Row]:
    nb = _read(sub)
    if isinstance(nb, str):
        return [_notebook_row(sub, "", "error", nb)]
    exercise, _how = match(nb, exercises)
    if exercise is None:
        return [_notebook_row(sub, "", "error", "this is not one of the exercise notebooks "
                              "(none of its cells are an exercise's)")]
    if only is not None and exercise.id != only:
        return [_notebook_row(sub, only, "error", f"this is exercise {exercise.id}'s notebook "
                              f"({exercise.title}), not exercise {only}'s")]
    cells, remarks, problems = build(exercise, nb)
    result = _execute(cells, budget_s, memory_mb, in_process)
    by_id = {c["id"]: c for c in result.get("cells", [])}
    died = result.get("died")
    rows = [_notebook_row(sub, exercise.id, "error" if died else "note", r)
            for r in remarks + ([died] if died else [])]
    for task in exercise.tasks:
        rows.append(_task_row(sub, exercise, task, by_id, problems, budget_s, died))
    return rows


def _task_row(sub, exercise, task, by_id, problems, budget_s, died) -> Row:
    def row(status, reason, details=""):
        return Row(sub.student, sub.path.name, exercise.id, task.name, task.title, status,
                   _one_line(reason), details)

    for cid in task.answer_cells:
        if cid in problems:
            return row("error", problems[cid])
        err = _cell_error(by_id.get(cid), budget_s)
        if err:
            return row("error", f"your answer cell {cid} {err}")
    results = []
    for cid in task.check_cells:
        entry = by_id.get(cid)
        if entry is None:
            return row("error", died or f"the check {cid} was not run")
        err = _cell_error(entry, budget_s)
        if err:
            return row("error", f"the check {cid} {err}")
        found = [o["check"] for o in entry.get("outputs", []) if "check" in o]
        if not found:
            return row("error", f"the check {cid} gave no result")
        results.append(found[0])
    order = {"error": 0, "fail": 1, "not done": 2, "pass": 3}
    worst = min(results, key=lambda r: order.get(r.get("status"), 0))
    details = "\n\n".join(r.get("text", r.get("summary", "")) for r in results)
    return row(worst.get("status", "error"), worst.get("summary", ""), details)


class Progress:
    def __init__(self, total: int, stream=None):
        self.total, self.done, self.stream = total, 0, stream or sys.stderr
        self.start = time.perf_counter()

    def __call__(self, sub: Submission) -> None:
        self.done += 1
        width = 30
        filled = int(width * self.done / max(self.total, 1))
        bar = "#" * filled + "-" * (width - filled)
        line = (f"\rgrading [{bar}] {self.done}/{self.total}  {sub.student[:24]:<24} "
                f"{time.perf_counter() - self.start:6.1f} s")
        self.stream.write(line + ("\n" if self.done == self.total else ""))
        self.stream.flush()


def grade_folder(folder, exercises_dir=None, jobs: int = 1, budget_s: float = 60,
                 memory_mb: int = 1024, only: str | None = None,
                 progress=None) -> list[Submission]:
    """Grade every notebook under ``folder``; one Submission (with its rows) per file."""
    exercises = load_all(exercises_dir)
    subs = find_submissions(Path(folder))
    done = []
    if jobs <= 1 or IN_BROWSER:  # Pyodide has no processes: one after another, in this one
        for sub in subs:
            done.append(grade_one(sub, exercises, budget_s, memory_mb, only))
            if progress:
                progress(done[-1])
        return done
    # one process per job slot; each submission still gets a fresh kernel of its own
    with ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn")) as pool:
        futures = {pool.submit(grade_one, s, exercises, budget_s, memory_mb, only): s
                   for s in subs}
        for future in as_completed(futures):
            try:
                sub = future.result()
            except Exception as exc:
                sub = futures[future]
                sub.rows = [_notebook_row(sub, "", "error", f"the grader's process failed "
                                                            f"({type(exc).__name__})")]
            done.append(sub)
            if progress:
                progress(sub)
    rank = {str(s.path): i for i, s in enumerate(subs)}
    done.sort(key=lambda s: rank[str(s.path)])
    return done


def rows_of(subs: list[Submission]) -> list[Row]:
    return [r for s in subs for r in s.rows]


def write_csv(rows: list[Row], path) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=COLUMNS)
        w.writeheader()
        for r in rows:
            w.writerow(r.csv())


def summary_table(rows: list[Row]) -> str:
    """Per task: passed / failed / not done / error and the most common failure reason."""
    groups: dict[tuple[str, str], list[Row]] = collections.OrderedDict()
    for r in rows:
        if r.task != NOTEBOOK_TASK:
            groups.setdefault((r.exercise, r.task), []).append(r)
    bad_files = [r for r in rows if r.task == NOTEBOOK_TASK and r.status == "error"]
    head = f"{'exercise':<8} {'task':<22} {'pass':>5} {'fail':>5} {'todo':>5} {'error':>5}  " \
           "most common failure"
    lines = [head, "-" * len(head)]
    for (ex, task), rs in sorted(groups.items()):
        count = collections.Counter(r.status for r in rs)
        reasons = collections.Counter(r.reason for r in rs if r.status != "pass")
        common = reasons.most_common(1)[0][0] if reasons else ""
        lines.append(f"{ex:<8} {task[:22]:<22} {count['pass']:>5} {count['fail']:>5} "
                     f"{count['not done']:>5} {count['error']:>5}  {common[:70]}")
    if bad_files:
        lines.append(f"{len(bad_files)} notebook(s) could not be graded: "
                     + "; ".join(f"{r.student}/{r.file}: {r.reason}" for r in bad_files[:5])
                     + (" …" if len(bad_files) > 5 else ""))
    return "\n".join(lines)


def grade_cli(args) -> int:
    from ..model import ConfigError
    from .feedback import write_feedback

    folder = Path(args.submissions)
    if not folder.is_dir():
        raise ConfigError(f"kafkalab: {args.submissions!r} is not a folder of submissions",
                          kafka=False)
    if args.jobs < 1:
        raise ConfigError(f"kafkalab: --jobs {args.jobs}: at least 1", kafka=False)
    if args.timeout <= 0 or args.memory < 64:
        raise ConfigError("kafkalab: --timeout is a positive number of seconds and --memory "
                          "at least 64 MB", kafka=False)
    if IN_BROWSER:
        from .here import limits

        print("\n".join(limits(args.timeout)))
    total = len(find_submissions(folder))
    progress = Progress(total) if total else None
    start = time.perf_counter()
    subs = grade_folder(folder, args.exercises, args.jobs, args.timeout, args.memory,
                        getattr(args, "exercise", None), progress)
    rows = rows_of(subs)
    write_csv(rows, args.out)
    if args.feedback:
        write_feedback(subs, args.feedback)
    print(summary_table(rows))
    seconds = time.perf_counter() - start
    print(f"graded {len(subs)} notebook(s) in {seconds:.1f} s "
          f"({seconds / max(len(subs), 1):.2f} s each); wrote {args.out}"
          + (f" and feedback in {args.feedback}/" if args.feedback else ""))
    return 0
