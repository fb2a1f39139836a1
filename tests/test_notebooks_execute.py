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


@pytest.mark.slow
@pytest.mark.parametrize("path", EXECUTED, ids=_ids(EXECUTED))
def test_notebook_executes_without_errors(path: Path, tmp_path: Path, executed_notebook) -> None:
    # Measure the notebook as saved WITH widget state (nbconvert --execute's default; JupyterLab
    # with "Save Widget State Automatically"): the Lab's figures are LiveFigures, whose saved
    # state holds a small loader instead of plotly.js (~4.9 MB per plotly FigureWidget; issue 14
    # item 7: notebooks 00 and 08 were ~20 MB). One execution per session, shared with the other
    # tests that read it (tests/conftest.py executed_notebook).
    run = executed_notebook(path)
    if run.error is not None:  # the message carries the cell and the traceback
        pytest.fail(f"{path.name}: a cell raised\n{run.error}")
    nb = run.nb
    errors = [(i, out.get("ename"), out.get("evalue"))
              for i, cell in enumerate(nb.cells) if cell.cell_type == "code"
              for out in cell.get("outputs", []) if out.get("output_type") == "error"]
    assert not errors, f"{path.name}: error outputs in cells {errors}"
    executed = tmp_path / path.name
    nbformat.write(nb, executed)
    size = executed.stat().st_size
    widgets = json.dumps(nb.metadata.get("widgets", {}))
    assert size < MAX_BYTES, (f"{path.name}: executed notebook is {size:,} bytes (limit "
                              f"{MAX_BYTES:,}; widget state {len(widgets):,})")
    assert "Plotly.newPlot" not in widgets and len(widgets) < MAX_BYTES // 2, (
        f"{path.name}: plotly.js is in the saved widget state ({len(widgets):,} bytes)")


@pytest.mark.parametrize("path", COMMITTED, ids=_ids(COMMITTED))
def test_committed_notebook_has_no_outputs(path: Path) -> None:
    nb = json.loads(path.read_text(encoding="utf-8"))
    dirty = [i for i, cell in enumerate(nb["cells"]) if cell["cell_type"] == "code"
             and (cell.get("outputs") or cell.get("execution_count") is not None)]
    assert not dirty, f"{path.name}: code cells {dirty} have stored outputs or execution counts"
