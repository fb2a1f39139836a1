"""Every notebook in notebooks/ and solutions/ runs clean in a real JupyterLab.

Run All in headless Chromium, then: no tracebacks, every cell ran, no widget error texts, every
plotly figure has data and drew, every widget output rendered a view, no console or page errors;
then the notebook is saved as a learner saves it (widget state included) and must stay small.
Screenshots land in build/screenshots/<name>.png. Each notebook opens in a new tab of one Lab
page (its tab and kernel closed after its test). The list is taken at collection time; with no
notebooks yet, pytest reports one skipped "empty parameter set" item.
"""

from __future__ import annotations

import nbformat
import pytest

from tests.test_notebooks_execute import assert_saved_notebook_small

from .harness import REPO_ROOT, notebook_tab, save_notebook

NOTEBOOK_DIRS = ("notebooks", "solutions")


def _notebooks() -> list[str]:
    found = []
    for folder in NOTEBOOK_DIRS:
        for path in sorted((REPO_ROOT / folder).rglob("*.ipynb")):
            if ".ipynb_checkpoints" not in path.parts:
                found.append(path.relative_to(REPO_ROOT).as_posix())
    return found


@pytest.mark.browser
@pytest.mark.parametrize("relpath", _notebooks())
def test_notebook_runs_clean_in_lab(lab_tabs, lab_server, relpath):
    # conftest copied notebooks/ and solutions/ into the server root under the same paths;
    # lab_tabs is the worker's one Lab page (conftest), the notebook a tab of it.
    with notebook_tab(lab_tabs, lab_server, relpath, timeout=300) as report:
        report.assert_clean()
        # Saved as a learner saves it, widget state included: small, and no plotly.js in it.
        # This is the size check of tests/test_notebooks_execute.py, which leaves the course
        # notebooks to this test when it runs (the solutions and 09 are executed there too).
        saved = save_notebook(lab_tabs, lab_server, relpath)
        nb = nbformat.read(saved, as_version=4)
        assert nb.metadata.get("widgets") or not report.widget_outputs, (
            f"{relpath}: saved without its widget state")
        assert_saved_notebook_small(nb, relpath, saved)
