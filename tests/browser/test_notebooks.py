"""Every notebook in notebooks/ and solutions/ runs clean in a real JupyterLab.

Run All in headless Chromium, then: no tracebacks, every cell ran, no widget error texts, every
plotly figure has data and drew, every widget output rendered a view, no console or page errors.
Screenshots land in build/screenshots/<name>.png. Each notebook opens in a new tab of one Lab
page (its tab and kernel closed after its test). The list is taken at collection time; with no
notebooks yet, pytest reports one skipped "empty parameter set" item.
"""

from __future__ import annotations

import pytest

from .harness import REPO_ROOT, close_notebook, run_notebook, watch_page

NOTEBOOK_DIRS = ("notebooks", "solutions")


def _notebooks() -> list[str]:
    found = []
    for folder in NOTEBOOK_DIRS:
        for path in sorted((REPO_ROOT / folder).rglob("*.ipynb")):
            if ".ipynb_checkpoints" not in path.parts:
                found.append(path.relative_to(REPO_ROOT).as_posix())
    return found


@pytest.fixture(scope="module")
def lab_tabs(chromium_browser, lab_server):
    """One Lab page for the module: each notebook opens in a new tab of it (``in_tab``), is
    checked, and its tab and kernel are closed; the Lab itself starts once, not per notebook."""
    context = chromium_browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    watch_page(page)
    yield page
    context.close()
    lab_server.shutdown_kernels()


@pytest.mark.browser
@pytest.mark.parametrize("relpath", _notebooks())
def test_notebook_runs_clean_in_lab(lab_tabs, lab_server, relpath):
    # conftest copied notebooks/ and solutions/ into the server root under the same paths.
    try:
        report = run_notebook(lab_tabs, lab_server, relpath, timeout=300, in_tab=True)
    finally:
        close_notebook(lab_tabs, relpath)
    report.assert_clean()
