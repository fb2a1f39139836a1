"""The exercise notebooks: generated from the solutions, runnable, and graded by behaviour.

* the committed ``exercises/`` equal what ``tools/make_exercises.py`` makes of ``solutions/``;
* every solution and exercise notebook runs top to bottom without an error output;
* in the solutions every check cell reports ``✓``; in the exercises, ``not done yet``.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))
EXERCISES = sorted((ROOT / "exercises").glob("*.ipynb"))


def _generator():
    spec = importlib.util.spec_from_file_location("make_exercises",
                                                  ROOT / "tools" / "make_exercises.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _tags(cell) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def _text(cell) -> str:
    out = []
    for o in cell.get("outputs", []):
        if o.get("output_type") == "stream":
            out.append(o.get("text", ""))
        data = o.get("data", {})
        out.append(data.get("text/plain", ""))
    return "".join("".join(x) if isinstance(x, list) else x for x in out)


def test_there_are_exercises_for_topics_02_to_07():
    names = [p.name for p in SOLUTIONS]
    for topic in ("02", "03", "04", "05", "06", "07"):
        assert any(n.startswith(topic + "_") for n in names), f"no solution notebook {topic}_*"
    assert "02_at_most_once_auto_commit_exercises.ipynb" in names
    assert "07_exactly_once_pipeline_exercises.ipynb" in names
    for path in SOLUTIONS:
        nb = json.loads(path.read_text(encoding="utf-8"))
        tasks = sum(1 for c in nb["cells"] if "solution" in _tags(c))
        checks = sum(1 for c in nb["cells"] if "check" in _tags(c))
        assert 2 <= tasks <= 4, f"{path.name}: {tasks} tasks"
        assert checks >= tasks, f"{path.name}: a task without a check cell"


def test_committed_exercises_equal_the_generated_ones(tmp_path):
    written = _generator().generate(ROOT / "solutions", tmp_path)
    assert [p.name for p in written] == [p.name for p in EXERCISES], \
        "exercises/ and solutions/ hold different notebooks: run `make exercises`"
    for path in written:
        fresh = json.loads(path.read_text(encoding="utf-8"))
        committed = json.loads((ROOT / "exercises" / path.name).read_text(encoding="utf-8"))
        assert fresh == committed, f"exercises/{path.name} is stale: run `make exercises`"


@pytest.mark.parametrize("path", SOLUTIONS + EXERCISES,
                         ids=[f"{p.parent.name}/{p.name}" for p in SOLUTIONS + EXERCISES])
def test_stored_without_outputs_with_python3_kernel(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    dirty = [i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code"
             and (c.get("outputs") or c.get("execution_count") is not None)]
    assert not dirty, f"{path.name}: cells {dirty} have stored outputs"


def test_stubs_keep_the_names_the_checks_use():
    gen = _generator()
    stub = gen.stub('x = {"a": 1}  # answer\ny: dict = {}\nprint(x)\n'
                    'def f(a, b=2):\n    """Doc."""\n    return a + b\n')
    namespace: dict = {}
    exec(stub, namespace)
    assert namespace["x"] is ... and namespace["y"] is ...
    assert namespace["f"].__doc__ == "Doc."
    with pytest.raises(NotImplementedError):
        namespace["f"](1)
    assert stub.startswith("# YOUR CODE HERE")
    assert '"a": 1' not in stub and "return a + b" not in stub


def _execute(path: Path, executed_notebook):
    """The notebook executed once per session (tests/conftest.py executed_notebook: the
    solutions' run is shared with test_notebooks_execute); its check cells."""
    run = executed_notebook(path)
    if run.error is not None:
        raise run.error
    nb = run.nb
    errors = [(i, o.get("ename"), o.get("evalue")) for i, c in enumerate(nb.cells)
              if c.cell_type == "code" for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    assert not errors, f"{path.name}: error outputs {errors}"
    return [c for c in nb.cells if "check" in _tags(c)]


@pytest.mark.parametrize("path", SOLUTIONS, ids=[p.name for p in SOLUTIONS])
def test_solution_runs_and_every_check_passes(path, executed_notebook):
    checks = _execute(path, executed_notebook)
    assert checks
    for cell in checks:
        text = _text(cell)
        assert text.startswith("✓"), f"{path.name}: check cell {cell.source!r} says {text!r}"


@pytest.mark.parametrize("path", EXERCISES, ids=[p.name for p in EXERCISES])
def test_exercise_runs_and_every_check_says_not_done_yet(path, executed_notebook):
    checks = _execute(path, executed_notebook)
    assert checks
    for cell in checks:
        text = _text(cell)
        assert "not done yet" in text, f"{path.name}: check cell {cell.source!r} says {text!r}"
        assert "✗" not in text and "✓" not in text


def test_the_grader_finds_the_consumer_groups_exercise_by_its_metadata(tmp_path):
    """03b declares itself (notebook metadata ``kafkalab.exercise``): the grader matches a
    submission by it even when the learner's cells lost their ids, and grades every task."""
    from kafkalab.grade import Submission, grade_one
    from kafkalab.grade.exercises import load_all, match

    exercises = load_all()
    assert "03b" in exercises
    path = ROOT / "solutions" / "03b_consumer_groups_exercises.ipynb"
    nb = json.loads(path.read_text(encoding="utf-8"))
    assert nb["metadata"]["kafkalab"]["exercise"] == "03b"
    exercise, how = match(nb, exercises)
    assert (exercise.id, how) == ("03b", "metadata")
    assert [t.name for t in exercise.tasks] == ["crash_safe_group", "scale_config",
                                                "predictions"]
    for cell in nb["cells"]:
        cell["id"] = f"x-{id(cell)}"  # the ids no longer tell
    assert match(nb, exercises)[1] == "metadata"
    sub = grade_one(Submission(path, "me"), exercises, budget_s=120)
    assert [(r.task, r.status) for r in sub.rows] == [
        ("crash_safe_group", "pass"), ("scale_config", "pass"), ("predictions", "pass")]
