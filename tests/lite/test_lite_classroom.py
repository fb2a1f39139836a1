"""Issue 19 on the JupyterLite site, in headless Chromium (Python in the browser, Pyodide):

- ``test_self_grade_an_upload``: a learner uploads finished exercise notebooks with the file
  browser's upload button into notebooks/ and runs notebooks/10_grade_yourself.ipynb: the
  grader runs in the Pyodide kernel (no processes there) and gives the rows the CPython
  grader gives for the same files: a correct notebook passes, a misconception fails with the
  check's reason, an endless loop is stopped by the time budget;
- ``test_self_grade_groups_and_durability``: the same for the exercises of issues 17 and 18
  (03b consumer groups, 04b durability): each solution passes every task in the Pyodide kernel,
  a named misconception of each (solutions/*_misconceptions.py) fails with its cause, and the
  rows are the CPython grader's rows. The two tests share one page and Pyodide kernel (the
  ``self_grade`` fixture: every file of both uploaded, the notebook run once);
- ``test_notebook_08_opens_at_the_link``: ``…/lab/index.html?path=notebooks/08_playground.ipynb``
  with ``#kafkalab=<link>`` (or ``&kafkalab=<link>``) lands the playground's Lab at the link's
  state after Run All (the Lab's link row, an anywidget, reads the page's address).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from kafkalab import links, scenarios
from kafkalab.grade.exercises import load_exercise
from kafkalab.grade.here import BUDGET_S
from kafkalab.grade.here import self_grade as self_grade_here
from tests.classroom.test_grade import SOLUTION, _answer, _misconceptions, _with
from tests.test_misconceptions import misconceptions

from . import lite_harness as h

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SELF_GRADE = "notebooks/10_grade_yourself.ipynb"
LOOP = ("async_commits = {'enable.auto.commit': False}\n"
        "while True:\n"
        "    pass\n")


def _submissions(tmp_path) -> dict[str, bytes]:
    """file name -> bytes: the solution, one named misconception, one endless loop."""
    solution = json.loads(SOLUTION.read_text(encoding="utf-8"))
    wrong = _misconceptions()["handle_batch"][0]
    out = {
        "my homework.ipynb": SOLUTION.read_bytes(),
        "wrong_batch.ipynb": json.dumps(_with(solution, handle_batch=_answer(
            "handle_batch", wrong))).encode(),
        "x_loop.ipynb": json.dumps(_with(solution, async_commits=LOOP)).encode(),
    }
    for name, data in out.items():
        (tmp_path / name).write_bytes(data)
    return out


def _upload(page, folder: str, files: dict[str, bytes]) -> None:
    """As a learner does: the file browser at ``folder``, its upload button, the files."""
    page.evaluate("(folder) => window.jupyterapp.commands.execute('filebrowser:go-to-path', "
                  "{path: folder, showBrowser: true})", folder)
    button = page.locator("#filebrowser").get_by_title("Upload Files").first
    button.wait_for(state="visible", timeout=h.WAIT_S * 1000)
    with page.expect_file_chooser(timeout=h.WAIT_S * 1000) as chooser:
        button.click()
    chooser.value.set_files([{"name": name, "mimeType": "application/x-ipynb+json",
                              "buffer": data} for name, data in files.items()])
    page.wait_for_function(
        """async ({folder, names}) => {
             const got = await window.jupyterapp.serviceManager.contents.get(folder,
                                                                              {content: true});
             const have = new Set(got.content.map(m => m.name));
             return names.every(n => have.has(n));
           }""", arg={"folder": folder, "names": list(files)}, timeout=h.WAIT_S * 1000,
        polling=500)


def _rows(rows) -> list[list[str]]:
    return [[r.task, r.status, r.reason] for r in rows]


# issues 17 and 18: solution notebook -> (a task, the named wrong answer of it graded here)
GROUP_DURABILITY = {
    "03b_consumer_groups_exercises.ipynb": (
        "crash_safe_group", "the myth: static membership prevents all duplicates"),
    "04b_durability_exercises.ipynb": (
        "durable_config", "the myth: acks=all alone guarantees durability"),
}


def _with_wrong(solution, task: str, name: str):
    """The solution notebook with ``task``'s answer cell replaced by its wrong answer ``name``
    (as tests/classroom builds wrong answers): (bytes, the Wrong)."""
    wrong = next(w for w in misconceptions(solution)[task] if w.name == name)
    cell_id = next(t.answer_cells[0] for t in load_exercise(solution).tasks if t.name == task)
    nb = json.loads(solution.read_text(encoding="utf-8"))
    (cell,) = [c for c in nb["cells"] if c.get("id") == cell_id]
    cell["source"] = _answer(task, wrong)
    return json.dumps(nb).encode(), wrong


@dataclass
class SelfGradePage:
    """notebooks/10_grade_yourself.ipynb, run once in one page and Pyodide kernel after a
    learner's uploads of both tests' files (a Pyodide start is ~12 CPU-s: one, not two)."""

    page: object
    watch: h.Watcher
    report: h.NotebookReport
    homework: dict[str, bytes]  # test_self_grade_an_upload's files
    group_durability: dict[str, bytes]  # test_self_grade_groups_and_durability's files
    folder: Path  # the same files, for CPython's grader

    @property
    def uploads(self) -> list[str]:
        return sorted([*self.homework, *self.group_durability])


@pytest.fixture(scope="module")
def self_grade(lite_chromium, lite_server, tmp_path_factory):
    folder = tmp_path_factory.mktemp("self-grade")
    homework = _submissions(folder)
    group_durability = {}
    for name, (task, myth) in GROUP_DURABILITY.items():
        solution = h.REPO_ROOT / "solutions" / name
        group_durability[f"solved {name}"] = solution.read_bytes()
        group_durability[f"myth {name}"], _wrong = _with_wrong(solution, task, myth)
    for name, data in group_durability.items():
        (folder / name).write_bytes(data)

    def upload(p):  # the endless loop first and the homework last, so that the notebook's own
        # cell (it grades the newest upload) grades one of the homework, not the loop
        _upload(p, "notebooks", {n: d for n, d in homework.items() if n == "x_loop.ipynb"})
        _upload(p, "notebooks", group_durability)
        _upload(p, "notebooks", {n: d for n, d in homework.items() if n != "x_loop.ipynb"})

    context = lite_chromium.new_context(viewport={"width": 1280, "height": 1000})
    watch = h.Watcher(context)
    page = context.new_page()
    watch.attach(page)
    report = h.run_notebook(page, watch, lite_server, SELF_GRADE, before=upload)
    h.TIMINGS.append(f"self-grade notebook ({len(homework) + len(group_durability)} uploads): "
                     f"kernel {report.timings['kernel']:.1f}s, run all "
                     f"{report.timings['run_all']:.1f}s")
    yield SelfGradePage(page, watch, report, homework, group_durability, folder)
    context.close()


def test_self_grade_an_upload(self_grade):
    page, watch, report = self_grade.page, self_grade.watch, self_grade.report
    files, folder = self_grade.homework, self_grade.folder
    expected = {name: _rows(self_grade_here(folder / name, budget_s=5 if name == "x_loop.ipynb"
                                            else 120)) for name in files}
    assert [s for _t, s, _r in expected["my homework.ipynb"]] == ["pass"] * 4
    assert ["handle_batch", "fail"] in [row[:2] for row in expected["wrong_batch.ipynb"]]

    assert not report.unexpected_errors(), report.errors
    assert not watch.page_errors, watch.page_errors
    assert report.kernel["implementation"] == "pyodide", report.kernel
    # the notebook's own cells: the uploads are listed, the newest one is graded as a table
    listed = h.kernel_eval(page, "sorted(p.name for p in uploaded())")
    assert listed == self_grade.uploads, listed
    h.screenshot(page, "self-grade", ".kafkalab-self-grade")
    table = page.locator(".kafkalab-self-grade .kafkalab-grade-row")
    assert table.count() >= 4, report.text[-2000:]
    assert page.locator(".kafkalab-grade-limits").first.inner_text().count("\n") >= 3
    assert "Pyodide" in page.locator(".kafkalab-grade-limits").first.inner_text()

    # every upload, graded in the Pyodide kernel: the same rows as CPython's grader gives
    for name in files:
        budget = 5 if name == "x_loop.ipynb" else 120
        t0 = time.monotonic()
        got = h.kernel_eval(page, f"(lambda r: [[[x.task, x.status, x.reason] for x in r], "
                                  f"r.seconds, r.limits])(self_grade({name!r}, "
                                  f"budget_s={budget}))", timeout_s=h.RUN_TIMEOUT_S)
        rows, seconds, limits = got
        h.TIMINGS.append(f"self-grade in Pyodide, {name}: {seconds:.1f}s grading "
                         f"({time.monotonic() - t0:.1f}s round trip)")
        assert rows == expected[name], (name, rows)
        assert any(line.startswith("memory: no limit") and "Pyodide" in line for line in limits)
    loop = {task: (status, reason) for task, status, reason in expected["x_loop.ipynb"]}
    assert loop["async_commits"][0] == "error"
    assert "did not finish within the notebook's 5 s" in loop["async_commits"][1]
    assert not watch.outside_requests(), watch.outside_requests()


def test_self_grade_groups_and_durability(self_grade):
    page, watch, report = self_grade.page, self_grade.watch, self_grade.report
    files = self_grade.group_durability
    tasks: dict[str, list[str]] = {}
    myths: dict[str, tuple] = {}
    for name, (task, myth) in GROUP_DURABILITY.items():
        solution = h.REPO_ROOT / "solutions" / name
        names = [t.name for t in load_exercise(solution).tasks]
        tasks[f"solved {name}"] = tasks[f"myth {name}"] = names
        myths[f"myth {name}"] = (task, next(w for w in misconceptions(solution)[task]
                                           if w.name == myth))
    expected = {}
    for name in files:
        rows = self_grade_here(self_grade.folder / name, budget_s=BUDGET_S)
        h.TIMINGS.append(f"self-grade in CPython, {name}: {rows.seconds:.1f}s grading")
        expected[name] = _rows(rows)
    for name, rows in expected.items():  # what CPython's grader says: the facts the rows carry
        assert [row[0] for row in rows] == tasks[name], (name, rows)
        task, wrong = myths.get(name, (None, None))
        for got_task, status, reason in rows:
            if got_task != task:
                assert status == "pass", (name, got_task, status, reason)
            else:
                assert status == "fail", (name, wrong.name, status, reason)
                assert wrong.says[0] in reason, (name, wrong.name, wrong.says, reason)

    assert not report.unexpected_errors(), report.errors
    assert not watch.page_errors, watch.page_errors
    assert report.kernel["implementation"] == "pyodide", report.kernel
    listed = h.kernel_eval(page, "sorted(p.name for p in uploaded())")
    assert listed == self_grade.uploads, listed

    # every upload, graded in the Pyodide kernel with the learner's default budget: the rows of
    # CPython's grader (a check too slow for the budget would show as an "error" row here)
    for name in files:
        t0 = time.monotonic()
        rows, seconds = h.kernel_eval(
            page, f"(lambda r: [[[x.task, x.status, x.reason] for x in r], r.seconds])"
                  f"(self_grade({name!r}, budget_s={BUDGET_S!r}))", timeout_s=h.RUN_TIMEOUT_S)
        h.TIMINGS.append(f"self-grade in Pyodide, {name}: {seconds:.1f}s grading "
                         f"({time.monotonic() - t0:.1f}s round trip, budget {BUDGET_S:g}s)")
        assert rows == expected[name], (name, rows)
    assert not watch.outside_requests(), watch.outside_requests()


@pytest.mark.parametrize("where", ["#", "&"])
def test_notebook_08_opens_at_the_link(lite_page, lite_server, where):
    page, watch = lite_page
    target = "exactly-once-pipeline/read-uncommitted"
    link = links.link_of_result(scenarios.run(target), 7)
    path = "notebooks/08_playground.ipynb"
    tail = f"?path={path}{where}kafkalab={link}"
    report = h.run_notebook(page, watch, lite_server, path, url_tail=tail)
    h.TIMINGS.append(f"08 with a link ({where}): kernel {report.timings['kernel']:.1f}s, run all "
                     f"{report.timings['run_all']:.1f}s, render {report.timings['render']:.1f}s")
    assert not report.unexpected_errors(), report.errors
    state = f"[lab.result.scenario, lab.step, lab.error, lab.link_box.url_link == {link!r}]"
    deadline = time.monotonic() + h.WAIT_S
    got = None
    while time.monotonic() < deadline:
        got = h.kernel_eval(page, state)
        if got == [target, 7, None, True]:
            break
        page.wait_for_function(  # the next animation frame: no fixed sleep
            "() => new Promise(r => requestAnimationFrame(() => r(true)))")
    assert got == [target, 7, None, True], (page.url, got)
    assert not watch.page_errors, watch.page_errors
    assert not watch.outside_requests(), watch.outside_requests()
