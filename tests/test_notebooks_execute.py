"""Every course notebook runs top to bottom, stays small, and is committed without outputs."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
EXECUTED = sorted((ROOT / "notebooks").glob("*.ipynb")) + sorted((ROOT / "solutions").glob("*.ipynb"))
COMMITTED = EXECUTED + sorted((ROOT / "exercises").glob("*.ipynb"))
MAX_BYTES = 2 * 1024 * 1024


def _ids(paths):
    return [str(p.relative_to(ROOT)) for p in paths]


# Notebooks whose nbclient run other tests read (the solutions' check cells: test_exercises;
# notebook 09's agreement line: test_crosscheck): always executed here.
READ_BY_OTHER_TESTS = ("solutions/", "notebooks/09_run_it_for_real.ipynb")
JUPYTERLAB_TEST = "test_notebook_runs_clean_in_lab"  # tests/browser/test_notebooks.py


def assert_saved_notebook_small(nb, name: str, saved: Path) -> None:
    """``saved`` (``nb`` written with its widget state) is under MAX_BYTES and its widget state
    holds no plotly.js: the Lab's figures are LiveFigures, whose saved state holds a small
    loader (~4.9 MB per plotly FigureWidget; issue 14 item 7: notebooks 00 and 08 were ~20 MB).
    Used on nbclient's run here and on JupyterLab's own save in tests/browser."""
    errors = [(i, out.get("ename"), out.get("evalue"))
              for i, cell in enumerate(nb.cells) if cell.cell_type == "code"
              for out in cell.get("outputs", []) if out.get("output_type") == "error"]
    assert not errors, f"{name}: error outputs in cells {errors}"
    size = saved.stat().st_size
    widgets = json.dumps(nb.metadata.get("widgets", {}))
    assert size < MAX_BYTES, (f"{name}: executed notebook is {size:,} bytes (limit "
                              f"{MAX_BYTES:,}; widget state {len(widgets):,})")
    assert "Plotly.newPlot" not in widgets and len(widgets) < MAX_BYTES // 2, (
        f"{name}: plotly.js is in the saved widget state ({len(widgets):,} bytes)")


def _run_in_jupyterlab_this_session(request, rel: str) -> bool:
    """True when this session's JupyterLab test runs ``rel`` (Chromium is here and the test is
    collected): it executes the notebook in a fresh kernel, saves it with widget state as a
    learner's JupyterLab does, and makes the same checks on that file."""
    from tests.browser.harness import browser_missing_reason

    if browser_missing_reason() is not None:
        return False
    return any(item.originalname == JUPYTERLAB_TEST and getattr(item, "callspec", None)
               and item.callspec.params.get("relpath") == rel for item in request.session.items)


@pytest.mark.slow
@pytest.mark.parametrize("path", EXECUTED, ids=_ids(EXECUTED))
def test_notebook_executes_without_errors(path: Path, tmp_path: Path, executed_notebook,
                                          request) -> None:
    # Measure the notebook as saved WITH widget state (nbconvert --execute's default; JupyterLab
    # with "Save Widget State Automatically"). One execution per session, shared with the other
    # tests that read it (tests/conftest.py executed_notebook). A course notebook that the
    # JupyterLab test runs this session is executed and measured there instead (the same
    # checks on JupyterLab's own save; one kernel's work less, ~5 CPU-s a notebook).
    rel = path.relative_to(ROOT).as_posix()
    if not rel.startswith(READ_BY_OTHER_TESTS) and _run_in_jupyterlab_this_session(request, rel):
        pytest.skip(f"{rel} is executed, saved with widget state and measured in JupyterLab "
                    f"this session (tests/browser/test_notebooks.py::{JUPYTERLAB_TEST})")
    run = executed_notebook(path)
    if run.error is not None:  # the message carries the cell and the traceback
        pytest.fail(f"{path.name}: a cell raised\n{run.error}")
    executed = tmp_path / path.name
    nbformat.write(run.nb, executed)
    assert_saved_notebook_small(run.nb, path.name, executed)


@pytest.mark.parametrize("path", COMMITTED, ids=_ids(COMMITTED))
def test_committed_notebook_has_no_outputs(path: Path) -> None:
    nb = json.loads(path.read_text(encoding="utf-8"))
    dirty = [i for i, cell in enumerate(nb["cells"]) if cell["cell_type"] == "code"
             and (cell.get("outputs") or cell.get("execution_count") is not None)]
    assert not dirty, f"{path.name}: code cells {dirty} have stored outputs or execution counts"
