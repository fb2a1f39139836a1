"""Every exercise rejects its misconceptions (issue 14.1).

Next to each solution notebook, ``solutions/NN_<topic>_misconceptions.py`` lists named wrong
answers per task (``kafkalab.checks.Wrong``). Each one is run through its task's check cells,
in process: it must get ✗ (never ✓, never "not done yet", never an exception) with feedback
that names the cause (``says``) and does not quote the solution. Every solution gets ✓. A task
with fewer than three wrong answers, or none, fails.

Facts behind the wrong answers: /work/shared/reference/kafka-semantics.md §A (librdkafka's
background auto-commit of stored offsets; Java commits inside poll(); a committed offset is the
next record to read), §B (idempotence needs acks=all and at most 5 in flight; a restart gets a new
PID without a transactional.id), §C (read_committed stops at the LSO; aborted data).
"""

from __future__ import annotations

import importlib.util
import itertools
import json
import re
from pathlib import Path

import pytest

from kafkalab.checks import CheckResult, Wrong
from kafkalab.grade.exercises import defined_names, load_all, load_exercise, match

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = sorted((ROOT / "solutions").glob("*_exercises.ipynb"))
MIN_WRONG = 3


def tasks(path: Path) -> list[dict]:
    """Each task as the grader reads it (kafkalab.grade.exercises: its ``## Task`` heading, the
    cell tagged ``solution`` and the cells tagged ``check``, by cell id): its name, the solution
    source, its check cells and the setup cells before the first task."""
    exercise = load_exercise(path)
    first = exercise.tasks[0].answer_cells[0] if exercise.tasks else None
    setup = list(itertools.takewhile(lambda c: c["id"] != first, exercise.cells))
    out: list[dict] = []
    for task in exercise.tasks:
        assert len(task.answer_cells) == 1, f"{path.name}: {task.title} has {task.answer_cells}"
        solution = exercise.cell(task.answer_cells[0])["source"]
        names = defined_names(solution)
        assert names == [task.name], f"{path.name}: a solution cell defines {names}"
        out.append({"name": task.name, "solution": solution,
                    "checks": [exercise.cell(i)["source"] for i in task.check_cells],
                    "setup": [c["source"] for c in setup]})
    return out


def misconceptions(path: Path) -> dict:
    data = path.with_name(path.name.replace("_exercises.ipynb", "_misconceptions.py"))
    assert data.exists(), f"{path.name} has no list of wrong answers: add {data.name}"
    spec = importlib.util.spec_from_file_location(data.stem.replace(".", "_"), data)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.MISCONCEPTIONS


def run_checks(task: dict, value) -> list[CheckResult]:
    namespace: dict = {}
    for source in task["setup"]:
        exec(compile(source, "<setup>", "exec"), namespace)
    namespace[task["name"]] = value
    results = []
    for source in task["checks"]:
        result = eval(compile(source, "<check>", "eval"), namespace)
        assert isinstance(result, CheckResult), f"a check cell returned {result!r}"
        results.append(result)
    return results


def solution_value(task: dict):
    namespace: dict = {}
    exec(compile(task["solution"], "<solution>", "exec"), namespace)
    return namespace[task["name"]]


def answer_lines(task: dict) -> list[str]:
    """The solution's own lines (comments dropped), which feedback must never quote."""
    lines = []
    for line in task["solution"].splitlines():
        code = line.split("#", 1)[0].strip().rstrip(",")
        if len(code) >= 12 and not code.startswith(("def ", '"""')):
            lines.append(code)
    return lines


CASES = [(path, task, wrong) for path in SOLUTIONS for task in tasks(path)
         for wrong in misconceptions(path).get(task["name"], [])]


def test_every_task_has_its_list_of_wrong_answers():
    counted = {}
    for path in SOLUTIONS:
        data = misconceptions(path)
        names = [t["name"] for t in tasks(path)]
        assert set(data) == set(names), \
            f"{path.name}: tasks {names}, wrong-answer lists for {sorted(data)}"
        for name in names:
            wrongs = data[name]
            assert len(wrongs) >= MIN_WRONG, \
                f"{path.name} task {name!r}: {len(wrongs)} wrong answers, at least {MIN_WRONG}"
            assert all(isinstance(w, Wrong) and w.name and w.why and w.says for w in wrongs)
            assert len({w.name for w in wrongs}) == len(wrongs), "two wrong answers, one name"
            counted[f"{path.name.split('_')[0]}.{name}"] = len(wrongs)
    assert len(counted) >= 15, counted


def test_the_grader_matches_each_solution_to_its_exercise():
    """The solution notebooks carry the exercises' cell ids: the grader's own matching
    (kafkalab.grade.exercises.match) tells each one's exercise, so the tasks read here are
    the tasks it grades."""
    exercises = load_all()
    for path in SOLUTIONS:
        exercise, how = match(json.loads(path.read_text(encoding="utf-8")), exercises)
        assert exercise is not None and exercise.id == path.name.split("_")[0], (path.name, how)
        assert [t.name for t in exercise.tasks] == [t["name"] for t in tasks(path)]


def test_a_task_without_its_list_fails(tmp_path):
    nb = json.loads(SOLUTIONS[0].read_text(encoding="utf-8"))
    nb["cells"] += [
        {"cell_type": "markdown", "id": "99-01", "metadata": {}, "source": "## Task 9 · new"},
        {"cell_type": "code", "id": "99-02", "metadata": {"tags": ["solution"]},
         "source": "new_task = {}", "outputs": [], "execution_count": None},
        {"cell_type": "code", "id": "99-03", "metadata": {"tags": ["check"]},
         "source": "new_task", "outputs": [], "execution_count": None}]
    copy = tmp_path / SOLUTIONS[0].name
    copy.write_text(json.dumps(nb), encoding="utf-8")
    (tmp_path / SOLUTIONS[0].name.replace("_exercises.ipynb", "_misconceptions.py")).write_text(
        SOLUTIONS[0].with_name(SOLUTIONS[0].name.replace(
            "_exercises.ipynb", "_misconceptions.py")).read_text(encoding="utf-8"))
    assert "new_task" not in misconceptions(copy)
    assert "new_task" in [t["name"] for t in tasks(copy)]
    with pytest.raises(AssertionError):
        assert set(misconceptions(copy)) == {t["name"] for t in tasks(copy)}


@pytest.mark.parametrize("path, task", [(p, t) for p in SOLUTIONS for t in tasks(p)],
                         ids=[f"{p.name.split('_')[0]}-{t['name']}" for p in SOLUTIONS for t in tasks(p)])
def test_the_solution_passes(path, task):
    for result in run_checks(task, solution_value(task)):
        assert result.status == "pass", f"{path.name} {task['name']}: {result!r}"


@pytest.mark.parametrize("path, task, wrong", CASES,
                         ids=[f"{p.name.split('_')[0]}-{t['name']}-"
                              f"{re.sub(r'[^a-z0-9]+', '_', w.name.lower())[:40]}"
                              for p, t, w in CASES])
def test_the_wrong_answer_fails_and_says_why(path, task, wrong):
    results = run_checks(task, wrong.answer)
    assert all(r.done for r in results), [repr(r) for r in results]
    failed = [r for r in results if r.status == "fail"]
    assert failed, f"{path.name} {task['name']}: {wrong.name!r} got ✓ ({wrong.why})"
    text = repr(failed[0])
    assert text.startswith("✗")
    for word in wrong.says:
        assert word in text, f"{wrong.name!r}: the feedback does not name {word!r}:\n{text}"
    for line in answer_lines(task):
        assert line not in text, f"{wrong.name!r}: the feedback quotes the answer {line!r}"
