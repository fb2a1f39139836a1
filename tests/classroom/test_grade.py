"""Grading a class offline (issue 19.3): a synthetic class folder, made here, graded to the
expected CSV. Every broken submission gets a row that says what is wrong, and the batch
goes on.

The wrong answers come from solutions/03_at_least_once_manual_commit_misconceptions.py (their
facts: /work/shared/reference/kafka-semantics.md §A); each must be graded ✗ with the
cause named, exactly as the learner's own check cell would say."""

from __future__ import annotations

import copy
import csv
import importlib.util
import inspect
import json
from pathlib import Path

import pytest

from kafkalab.cli import main

ROOT = Path(__file__).resolve().parents[2]
SOLUTION = ROOT / "solutions" / "03_at_least_once_manual_commit_exercises.ipynb"
EXERCISE = ROOT / "exercises" / "03_at_least_once_manual_commit_exercises.ipynb"
OTHER = ROOT / "solutions" / "05_idempotent_producer_exercises.ipynb"
TASKS = ("per_record", "async_commits", "group_config", "handle_batch")
ANSWER = {"per_record": "03-03", "async_commits": "03-06", "group_config": "03-09",
          "handle_batch": "03-12"}
BUDGET = 40  # seconds per notebook: generous; only the endless loop uses it up


def _misconceptions() -> dict:
    path = ROOT / "solutions" / "03_at_least_once_manual_commit_misconceptions.py"
    spec = importlib.util.spec_from_file_location("m03", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.MISCONCEPTIONS


def _answer(task: str, wrong) -> str:
    if callable(wrong.answer):
        text = inspect.getsource(wrong.answer)
        return text + (f"\n{task} = {wrong.answer.__name__}\n"
                       if wrong.answer.__name__ != task else "")
    return f"{task} = {wrong.answer!r}\n"


def _with(nb: dict, **answers) -> dict:
    nb = copy.deepcopy(nb)
    for cell in nb["cells"]:
        for task, text in answers.items():
            if cell.get("id") == ANSWER[task]:
                cell["source"] = text
    return nb


def _write(folder: Path, student: str, nb_or_text, name="submission.ipynb") -> None:
    (folder / student).mkdir(parents=True, exist_ok=True)
    text = nb_or_text if isinstance(nb_or_text, str) else json.dumps(nb_or_text)
    (folder / student / name).write_text(text, encoding="utf-8")


def make_class(folder: Path) -> dict:
    """The class folder and the expected {(student, task): (status, words in reason)}."""
    solution = json.loads(SOLUTION.read_text(encoding="utf-8"))
    expected: dict = {}

    def expect(student, status="pass", words="", **special):
        for task in TASKS:
            expected[(student, task)] = special.get(task, (status, words))

    _write(folder, "ada", solution, "my homework (final).ipynb")
    expect("ada")
    _write(folder, "bea", EXERCISE.read_text(encoding="utf-8"))  # handed in untouched
    expect("bea", "not done", "not done yet")
    wrong = _misconceptions()
    rounds = max(len(v) for v in wrong.values())
    for i in range(rounds):
        answers = {t: wrong[t][i] for t in TASKS if i < len(wrong[t])}
        student = f"myth-{i}"
        _write(folder, student, _with(solution, **{t: _answer(t, w) for t, w in answers.items()}))
        expect(student, **{t: ("fail", w.says[0]) for t, w in answers.items()})
    _write(folder, "syntax", _with(solution, per_record="per_record = {'enable.auto.commit': "))
    expect("syntax", per_record=("error", "your answer cell 03-03 raised SyntaxError"))
    # An endless loop that waits (a poll loop that never ends): the budget is wall-clock, so
    # it is stopped as a busy loop is, without burning the budget's 40 s of CPU beside the
    # other tests (the busy loop is stopped in tests/lite and test_self_grade_* below).
    _write(folder, "loop", _with(solution, handle_batch="import time\n"
                                                        "def handle_batch(records, process, "
                                                        "commit):\n    while True:\n"
                                                        "        time.sleep(0.05)\n"))
    expect("loop", handle_batch=("error", "did not finish"))
    _write(folder, "hog", _with(solution, group_config="hog = bytearray(8 * 1024**3)\n"
                                                       "group_config = {}\n"))
    expect("hog", group_config=("error", "your answer cell 03-09 raised MemoryError"))
    _write(folder, "chatty", _with(solution, per_record="for i in range(200_000):\n"
                                                        "    print('x' * 100)\n"
                                                        "per_record = {'enable.auto.commit':"
                                                        " False, 'commit.strategy': "
                                                        "'per-record'}\n"))
    expect("chatty")
    missing = copy.deepcopy(solution)
    missing["cells"] = [c for c in missing["cells"] if c.get("id") != "03-06"]
    _write(folder, "missing", missing)
    expect("missing", async_commits=("error", "the answer cell 03-06 is missing"))
    moved = copy.deepcopy(solution)
    cell = next(c for c in moved["cells"] if c.get("id") == "03-09")
    moved["cells"].remove(cell)
    moved["cells"].insert(1, cell)
    _write(folder, "moved", moved)
    expect("moved")
    expected[("moved", "(notebook)")] = ("note", "not in the exercise's order")
    _write(folder, "other", json.loads(OTHER.read_text(encoding="utf-8")))
    expected[("other", "(notebook)")] = ("error", "this is exercise 05's notebook")
    _write(folder, "empty", "")
    expected[("empty", "(notebook)")] = ("error", "the file is empty")
    _write(folder, "corrupt", SOLUTION.read_text(encoding="utf-8")[:500])
    expected[("corrupt", "(notebook)")] = ("error", "not valid JSON")
    _write(folder, "stranger", {"cells": [{"cell_type": "code", "id": "x", "source": "1",
                                           "metadata": {}, "outputs": []}], "metadata": {}})
    expected[("stranger", "(notebook)")] = ("error", "not one of the exercise notebooks")
    return expected


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("class")
    folder = root / "submissions"
    expected = make_class(folder)
    out, feedback = root / "grades.csv", root / "feedback"
    code = main(["grade", str(folder), "--out", str(out), "--feedback", str(feedback),
                 "--exercise", "03", "--timeout", str(BUDGET), "--jobs", "2"])
    assert code == 0
    with open(out, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    return expected, rows, feedback, folder


def test_the_class_is_graded_as_expected(graded):
    expected, rows, _, _ = graded
    got = {(r["student"], r["task"]): r for r in rows}
    assert set(got) == set(expected)
    for key, (status, words) in expected.items():
        row = got[key]
        assert row["status"] == status, (key, row)
        assert words in row["reason"] or status == "fail", (key, row)
        assert row["passed"] == ("true" if status == "pass" else "false")
        assert "\n" not in row["reason"]


def test_wrong_answers_are_explained_in_the_feedback(graded):
    expected, _, feedback, _ = graded
    for (student, _task), (status, words) in expected.items():
        if status == "fail":
            page = (feedback / f"{student}.html").read_text(encoding="utf-8")
            assert words.split("'")[0][:30].replace("<", "&lt;") in page, (student, words)


def test_nothing_is_written_next_to_the_submissions(graded):
    _, _, _, folder = graded
    assert sorted(p.name for p in folder.rglob("*") if p.is_file()) == sorted(
        ["my homework (final).ipynb"] + ["submission.ipynb"] * (len(
            [p for p in folder.iterdir() if p.is_dir()]) - 1))


def test_grading_one_notebook_in_process(tmp_path):
    """The API the CLI uses, on one file: a correct notebook passes every task."""
    from kafkalab.grade import Submission, grade_one
    from kafkalab.grade.exercises import load_all

    sub = grade_one(Submission(SOLUTION, "me"), load_all(), budget_s=BUDGET)
    assert [(r.task, r.status) for r in sub.rows] == [(t, "pass") for t in TASKS]


def test_self_grade_one_notebook_in_this_kernel(tmp_path):
    """The JupyterLite path: one uploaded notebook, graded in the current process (no second
    kernel), with the same rows as the batch grader."""
    from kafkalab.grade.here import self_grade

    rows = self_grade(SOLUTION)
    assert [(r.task, r.status) for r in rows] == [(t, "pass") for t in TASKS]
    solution = json.loads(SOLUTION.read_text(encoding="utf-8"))
    broken = tmp_path / "broken.ipynb"
    wrong = _misconceptions()["handle_batch"][0]
    mixed = _with(solution, per_record="per_record = {", handle_batch=_answer("handle_batch",
                                                                               wrong))
    broken.write_text(json.dumps(mixed), encoding="utf-8")
    got = {r.task: r for r in self_grade(broken)}
    assert got["per_record"].status == "error" and "SyntaxError" in got["per_record"].reason
    assert got["handle_batch"].status == "fail"
    assert got["async_commits"].status == "pass"
    assert "kafkalab-self-grade" in self_grade(broken)._repr_html_()


def test_self_grade_stops_an_endless_loop_without_a_process(tmp_path):
    """JupyterLite has no processes: the time budget is kept by tracing the learner's own code.
    An endless loop in an answer the check calls is stopped and reported as the batch grader
    reports it; the tasks after it are not run, and say so; the limits it cannot enforce are
    named under the table."""
    from kafkalab.grade.here import self_grade

    solution = json.loads(SOLUTION.read_text(encoding="utf-8"))
    loop = tmp_path / "loop.ipynb"
    loop.write_text(json.dumps(_with(solution, async_commits="async_commits = {'enable.auto."
                                     "commit': False}\nwhile True:\n    try:\n        pass\n"
                                     "    except Exception:\n        pass\n")), encoding="utf-8")
    rows = self_grade(loop, budget_s=3)
    got = {r.task: r for r in rows}
    assert got["per_record"].status == "pass"
    assert got["async_commits"].status == "error"
    assert "did not finish within the notebook's 3 s" in got["async_commits"].reason
    assert all(got[t].status == "error" and "used up its 3 s" in got[t].reason
               for t in ("group_config", "handle_batch")), got
    assert any(line.startswith("memory: no limit") for line in rows.limits)
    assert any(line.startswith("time: 3 s") for line in rows.limits)
    assert "kafkalab-grade-limits" in rows._repr_html_()
    import sys

    assert sys.gettrace() is None or "kafkalab" not in repr(sys.gettrace())


def test_self_grade_without_a_name_grades_the_upload_in_this_folder(tmp_path, monkeypatch):
    """As in JupyterLite: the learner uploads a notebook next to the self-grade notebook; the
    cell finds it (an exercise notebook, by its cells), and nothing is written beside it."""
    from kafkalab.grade.here import self_grade

    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.ipynb").write_text(json.dumps({"cells": [], "metadata": {}}))
    none = self_grade()
    assert [(r.status, "upload yours" in r.reason) for r in none] == [("error", True)]
    (tmp_path / "my homework.ipynb").write_text(SOLUTION.read_text(encoding="utf-8"))
    rows = self_grade()
    assert [(r.file, r.task, r.status) for r in rows] == [("my homework.ipynb", t, "pass")
                                                         for t in TASKS]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["my homework.ipynb", "notes.ipynb"]


def test_in_process_grading_gives_the_batch_graders_rows(graded):
    """The path Pyodide takes (no processes: the cells run in this process) grades the class
    folder exactly as the fresh-kernel grader did, but for the two submissions only a process
    of their own can contain here: the 8 GB allocation (no memory limit in-process) and the
    endless loop (stopped too, by the trace, after the whole budget: its own test above)."""
    from kafkalab.grade import find_submissions, grade_one
    from kafkalab.grade.exercises import load_all

    _, rows, _, folder = graded
    batch = {(r["student"], r["task"]): (r["status"], r["reason"]) for r in rows}
    exercises = load_all()
    seen = 0
    for sub in find_submissions(folder):
        if sub.student in ("hog", "loop"):
            continue
        got = grade_one(sub, exercises, budget_s=BUDGET, only="03", in_process=True)
        for r in got.rows:
            status, reason = batch[(r.student, r.task)]
            if "raised SyntaxError" in reason:  # IPython's and Python's own wording differ
                reason, r.reason = (x.split(":")[0] for x in (reason, r.reason))
            assert (status, reason) == (r.status, r.reason), (r.student, r.task)
            seen += 1
    assert seen >= 40, seen


def test_a_long_error_is_clipped_with_a_count_never_silently():
    from kafkalab.grade.capture import ERROR_TEXT_CHARS, clip
    from kafkalab.grade.here import _error

    assert clip("short") == "short"
    long = "x" * (ERROR_TEXT_CHARS + 25)
    assert clip(long) == "x" * ERROR_TEXT_CHARS + "… (25 more characters)"
    row = _error(ValueError("first line\nsecond\nthird"))
    assert row == {"error": "ValueError", "value": "first line (+2 more lines)"}
    assert _error(ValueError(""))["value"] == ""
