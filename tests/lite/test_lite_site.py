"""The JupyterLite site (build/lite) in headless Chromium: Python runs in the browser (Pyodide),
served from a loopback port, and nothing may be fetched from anywhere else.

- ``test_smoke_notebook``: a notebook made here (imports kafkalab, runs a scenario, shows a plotly
  figure by its mime bundle, and an ipywidgets slider driving kafkalab's LiveFigure, a plotly
  FigureWidget, from Python).
- ``test_course_notebook``: every notebooks/*.ipynb that can run without a server; then, where
  the notebook has them, a static frame animation is played and the Lab is driven by keyboard
  (a typed value re-runs the model in Pyodide, text that is not a number is named).

Run with ``make e2e-lite`` (builds the site first) or ``pytest tests/lite``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from . import lite_harness as h

pytestmark = [pytest.mark.browser, pytest.mark.slow]

NOTEBOOKS = sorted((h.REPO_ROOT / "notebooks").glob("*.ipynb"))
SMOKE_PATH = "lite_smoke.ipynb"  # saved into the browser's storage, not a site file


def _cell(kind: str, source: str) -> dict:
    cell = {"cell_type": kind, "metadata": {}, "source": source}
    if kind == "code":
        cell.update(outputs=[], execution_count=None)
    return cell


SMOKE_NOTEBOOK = {
    "nbformat": 4,
    "nbformat_minor": 5,
    "metadata": {"kernelspec": {"name": "python", "display_name": "Python (Pyodide)",
                                "language": "python"}},
    "cells": [
        _cell("markdown", "# kafkalab in the browser: smoke test"),
        # No %pip install: the kernel preloads kafkalab (lite/jupyter-lite.json).
        _cell("code", "import sys\n"
                      "import kafkalab\n"
                      "from kafkalab import scenarios\n"
                      "print('platform', sys.platform)\n"
                      "result = scenarios.run('at-most-once-auto-commit')\n"
                      "o = result.outcome\n"
                      "print(f\"outcome sent={o['sent']} processed={o['processed']} lost={o['lost']} "
                      "duplicates={o['duplicates']}\")"),
        # The kernel imports bytecode compiled at build time (lite/precompile.py): plotly's and
        # the standard library's .pyc, and kafkalab's checked-hash .pyc beside its source.
        _cell("code", "import importlib.util, json, plotly, kafkalab.model.log as log\n"
                      "pyc = open(log.__spec__.cached, 'rb').read()\n"
                      "source = open(log.__file__, 'rb').read()\n"
                      "checked = pyc[4:8] == b'\\x03\\0\\0\\0'\n"
                      "print('bytecode', plotly.__file__.endswith('.pyc'), json.__file__.endswith('.pyc'),\n"
                      "      checked and pyc[8:16] == importlib.util.source_hash(source))"),
        _cell("code", "import plotly.graph_objects as go\n"
                      "from IPython.display import display\n"
                      "static = go.Figure(go.Scatter(x=[0, 1, 2, 3], y=[0, 1, 4, 9]),\n"
                      "                   layout_title_text='lite-static')\n"
                      "display({'application/vnd.plotly.v1+json': static.to_plotly_json()}, raw=True)"),
        # kafkalab's LiveFigure (a go.FigureWidget that loads plotly's 4.9 MB front end outside
        # anywidget's 2 s init window, as every live figure of the course does): plotly's own
        # FigureWidget failed that window on a loaded machine ("[anywidget] Failed to
        # initialize model.", make test-under-load), which no course notebook can hit.
        _cell("code", "import ipywidgets as widgets\n"
                      "from kafkalab.widgets.live_figure import LiveFigure\n"
                      "slider = widgets.IntSlider(value=0, min=0, max=5, description='k')\n"
                      "fw = LiveFigure(go.Scatter(x=[0, 1, 2], y=[0, 0, 0]))\n"
                      "fw.layout.title.text = 'k=0'\n"
                      "fw.layout.yaxis.range = [0, 12]\n"
                      "def on_change(change):\n"
                      "    with fw.batch_update():\n"
                      "        fw.data[0].y = [change.new * i for i in range(3)]\n"
                      "        fw.layout.title.text = f'k={change.new}'\n"
                      "slider.observe(on_change, names='value')\n"
                      "display(widgets.VBox([slider, fw]))"),
        _cell("code", "print('smoke done')"),
    ],
}


def _assert_clean(report: h.NotebookReport, watch: h.Watcher) -> None:
    details = "\n\n".join(f"cell {e['cell']}: {e['ename']}: {e['evalue']}\n{e['traceback']}"
                          for e in report.unexpected_errors())
    assert not report.unexpected_errors(), f"{report.path}: error outputs:\n{details}"
    assert report.executed >= report.code_cells - _empty_cells(report), report
    assert not report.bad_texts, f"{report.path}: failed renderers: {report.bad_texts}"
    assert not watch.page_errors, f"{report.path}: page errors: {watch.page_errors}"
    assert not watch.bad_console(), f"{report.path}: console errors:\n" + "\n".join(watch.bad_console())
    assert report.plots >= report.plotly_outputs, (
        f"{report.path}: {report.plotly_outputs} plotly outputs but {report.plots} rendered plots")
    assert report.widget_views >= report.widget_outputs, (
        f"{report.path}: {report.widget_outputs} widget outputs but {report.widget_views} widget views")


def _empty_cells(report) -> int:
    return 0  # empty code cells are not counted as executed by JupyterLab; see _JS_STATE


def _assert_pyodide(report: h.NotebookReport) -> None:
    kernel = report.kernel
    assert kernel["name"] == "python" and "Pyodide" in kernel["display_name"], kernel
    assert kernel["implementation"] == "pyodide", kernel


def _assert_offline(watch: h.Watcher) -> None:
    outside = watch.outside_requests()
    assert not outside, "requests left the loopback host:\n" + "\n".join(outside)
    assert watch.requests, "no request was recorded at all: the watcher is broken"


def test_site_layout(lite_site: Path):
    """The built site holds its own Pyodide, a lock with only local wheels, and no CDN URL."""
    config = json.loads((lite_site / "jupyter-lite.json").read_text())
    kernel = config["jupyter-config-data"]["litePluginSettings"][
        "@jupyterlite/pyodide-kernel-extension:kernel"]
    assert kernel["disablePyPIFallback"] is True
    assert kernel["pyodideUrl"].startswith("./"), kernel["pyodideUrl"]
    lock = json.loads((lite_site / "static" / "pyodide" / "pyodide-lock.json").read_text())
    for name, entry in lock["packages"].items():
        assert "/" not in entry["file_name"], entry
        assert (lite_site / "static" / "pyodide" / entry["file_name"]).is_file(), name
    for pkg in kernel["loadPyodideOptions"]["packages"]:
        assert pkg in lock["packages"], pkg
    names = {p.name for p in (lite_site / "extensions").iterdir()}
    assert {"@jupyter-widgets", "@jupyterlite", "anywidget", "jupyterlab-plotly"} <= names, names


def test_smoke_notebook(lite_run):
    run = lite_run(SMOKE_PATH)
    page, watch, report = run.page, run.watch, run.report
    h.screenshot(page, "smoke")
    _assert_pyodide(report)
    _assert_clean(report, watch)
    assert "platform emscripten" in report.text, report.text
    assert "outcome sent=10 processed=8 lost=2 duplicates=0" in report.text, report.text
    assert "smoke done" in report.text
    assert "bytecode True True True" in report.text, report.text
    assert report.plots >= 2 and "lite-static" in report.plot_titles and "k=0" in report.plot_titles, report
    assert watch.workers >= 1, "the kernel worker was never seen"

    # Move the slider: the Python observer updates the LiveFigure, the page redraws it.
    handle = page.locator(".widget-slider .noUi-handle").first
    handle.focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.wait_for_function(
        """() => Array.from(document.querySelectorAll('.js-plotly-plot')).some(d =>
             d.layout && d.layout.title && d.layout.title.text === 'k=2'
             && d.data && d.data[0] && d.data[0].y && d.data[0].y[2] === 4)""",
        timeout=h.WAIT_S * 1000)
    h.screenshot(page, "smoke-slider", ".widget-slider")
    _assert_offline(watch)


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_course_notebook(lite_run, notebook: Path):
    reason = h.lite_build_module().server_only_reason(notebook)
    if reason:
        pytest.skip(f"{notebook.name} needs a Jupyter server ({reason}); not in the JupyterLite site")
    rel = notebook.relative_to(h.REPO_ROOT).as_posix()
    run = lite_run(rel)
    page, watch, report = run.page, run.watch, run.report
    h.screenshot(page, notebook.stem)
    _assert_pyodide(report)
    _assert_clean(report, watch)
    if notebook.stem == "09_run_it_for_real":  # the real client: one line says why not here
        assert "Real clients unavailable" in report.text, report.text[-2000:]
        assert "cannot run in the browser (Pyodide" in report.text
        assert report.text.count("cannot run in the browser") == 1, report.text[-2000:]
    if page.locator(".kafkalab-counters").count():
        _drive_the_lab(page, notebook.stem)
    if page.evaluate(_JS_HAS_ANIMATION):
        _play_the_first_animation(page, notebook.stem)
    assert not watch.page_errors, f"{rel}: page errors after interaction: {watch.page_errors}"
    _assert_offline(watch)


_JS_HAS_ANIMATION = """() => Array.from(document.querySelectorAll('.js-plotly-plot'))
    .some(d => d.layout && d.layout.sliders && d.layout.sliders.length && d.layout.updatemenus)"""


def _play_the_first_animation(page, stem: str) -> None:
    """Press Play on the first figure with frames: its slider must move on by itself."""
    plot = page.locator(".js-plotly-plot").filter(has=page.locator(".updatemenu-button")).first
    plot.scroll_into_view_if_needed()
    plot.locator(".updatemenu-button").first.click()
    page.wait_for_function(
        """() => Array.from(document.querySelectorAll('.js-plotly-plot')).some(d =>
             d.layout && d.layout.sliders && d.layout.sliders.length
             && d.layout.sliders[0].active >= 2)""", timeout=h.WAIT_S * 1000)
    h.screenshot(page, f"{stem}-playing", None)


def _lab_box(page, description: str):
    box = page.locator(".widget-inline-hbox").filter(
        has=page.locator("label", has_text=re.compile(rf"^{re.escape(description)}"))).first
    return box.locator("input").first


def _reveal(page, description: str):
    """The control, with its group of the settings accordion opened (as a learner opens it):
    the Lab's controls sit in an accordion (Consumer / Producer and workload / Faults)."""
    box = _lab_box(page, description)
    if not box.is_visible():
        group = page.locator(".kafkalab-settings .jupyter-widget-Collapse").filter(has=box).first
        assert group.count(), f"control {description!r} is hidden and in no settings group"
        group.locator(".jupyter-widget-Collapse-header").first.click()
        box.wait_for(state="visible", timeout=h.WAIT_S * 1000)
    return box


def _type(page, description: str, text: str) -> None:
    box = _reveal(page, description)
    box.scroll_into_view_if_needed()
    box.click()
    page.keyboard.press("Control+A")
    page.keyboard.type(text)
    page.keyboard.press("Enter")


def _drive_the_lab(page, stem: str) -> None:
    """A typed value re-runs the model in the Pyodide kernel and the figures follow; text that is
    not a number is named in the dashboard and the last good run stays."""
    counters = page.locator(".kafkalab-counters").first
    error = page.locator(".kafkalab-error").first
    _type(page, "messages", "20")
    page.wait_for_function(
        """() => /sent: 20(?!\\d)/.test(document.querySelector('.kafkalab-counters').innerText)
             && Array.from(document.querySelectorAll('.js-plotly-plot')).some(d =>
                  (d.data || []).some(t => (t.customdata || []).includes(19)))""",
        timeout=h.WAIT_S * 1000)
    good = counters.inner_text()
    _type(page, "auto.commit.interval.ms", "abc")
    page.wait_for_function(
        """() => document.querySelector('.kafkalab-error').innerText
             .includes("'abc' is not a whole number")""", timeout=h.WAIT_S * 1000)
    assert counters.inner_text() == good
    assert _lab_box(page, "auto.commit.interval.ms").get_attribute("aria-invalid") == "true"
    h.screenshot(page, f"{stem}-lab-refused", ".kafkalab-error")
    _type(page, "auto.commit.interval.ms", "5")
    page.wait_for_function(
        "() => document.querySelector('.kafkalab-error').innerText.trim() === ''",
        timeout=h.WAIT_S * 1000)
    assert error.inner_text().strip() == ""
