"""Prove the harness on notebooks made here: one that works, two that are broken.

The demo notebook holds what kafkalab's notebooks use: an ipywidgets slider linked to a label by an
observer, a plotly FigureWidget (kafkalab's LiveFigure) updated by a button, and a static
frames figure with a Play button and a slider shown with fig.show().
"""

from __future__ import annotations

import pytest

from .harness import (
    KernelError,
    click_button,
    frame_slider_active,
    kernel_eval,
    kernel_execute,
    move_slider,
    notebook_tab,
    plotly_figure,
    press_play,
    run_notebook,
    slider_readout,
    wait_for_frame,
    wait_until,
    widget_text,
    write_notebook,
)

pytestmark = pytest.mark.browser

DEMO_CELLS = [
    "#md\n# Harness demo\nWidgets, a FigureWidget and a frames animation.",
    "import ipywidgets as widgets\nimport plotly.graph_objects as go\n"
    "from IPython.display import display",
    # slider + label linked by an observer
    """slider = widgets.IntSlider(value=3, min=0, max=10, description="n")
label = widgets.Label(value="n = 3")
label.add_class("demo-label")

def on_change(change):
    label.value = f"n = {change['new']}"

slider.observe(on_change, names="value")
display(widgets.VBox([slider, label]))""",
    # live FigureWidget updated from a button: kafkalab's LiveFigure, the FigureWidget its
    # notebooks use (plotly's own loads its 4.9 MB front end inside anywidget's 2 s limit, and on
    # a loaded machine that took longer: the figure stayed empty under make test-under-load)
    """from kafkalab.widgets.live_figure import LiveFigure

fw = LiveFigure(
    data=[go.Scatter(x=[0, 1, 2, 3], y=[0, 1, 4, 9], mode="lines+markers")],
    layout=dict(title=dict(text="live figure"), height=320),
)
double = widgets.Button(description="Double")

def on_double(_):
    with fw.batch_update():
        fw.data[0].y = [2 * v for v in fw.data[0].y]

double.on_click(on_double)
display(widgets.VBox([double, fw]))""",
    # static frames figure with Play + slider
    """N = 20
frames = [
    go.Frame(name=str(i), data=[go.Scatter(x=[0, 1, 2], y=[i, i + 1, i + 2])])
    for i in range(N)
]
fig = go.Figure(
    data=[go.Scatter(x=[0, 1, 2], y=[0, 1, 2], mode="lines+markers")],
    frames=frames,
    layout=dict(
        title=dict(text="frames figure"), height=380,
        yaxis=dict(range=[0, N + 3]),
        updatemenus=[dict(type="buttons", showactive=False, buttons=[
            dict(label="Play", method="animate",
                 args=[None, dict(frame=dict(duration=60, redraw=False),
                                  transition=dict(duration=0), fromcurrent=True)]),
        ])],
        sliders=[dict(active=0, steps=[
            dict(label=str(i), method="animate",
                 args=[[str(i)], dict(mode="immediate", frame=dict(duration=0, redraw=False),
                                      transition=dict(duration=0))])
            for i in range(N)
        ])],
    ),
)
fig.show()""",
]


@pytest.fixture(scope="module")
def demo(lab_tabs, lab_server):
    """The demo notebook, run once (a tab of the worker's Lab page); the tests below interact
    with it in order. The two deliberately broken notebooks below take pages of their own."""
    relpath = "harness_demo/demo.ipynb"
    write_notebook(lab_server.root_dir / relpath, DEMO_CELLS)
    with notebook_tab(lab_tabs, lab_server, relpath) as report:
        yield lab_tabs, report


def test_demo_runs_clean(demo):
    _page, report = demo
    report.assert_clean()
    assert report.plotly_plots == 2, report.summary()
    assert report.plotly_plots_with_data == 2, report.summary()
    assert {p.title for p in report.plots} == {"live figure", "frames figure"}
    assert [p.frames for p in report.plots if p.title == "frames figure"] == [20]
    # ipywidgets views: VBox, IntSlider, Label, VBox, Button (the FigureWidget is an anywidget)
    assert report.widget_views >= 5, report.summary()
    assert report.widget_outputs == 2
    assert report.screenshot is not None and report.screenshot.stat().st_size > 20_000


def test_slider_moves_kernel_value_and_label(demo):
    page, _report = demo
    assert kernel_eval(page, "slider.value") == 3
    move_slider(page, 4)
    assert wait_until(page, lambda: kernel_eval(page, "slider.value") == 7)
    assert wait_until(page, lambda: widget_text(page, ".demo-label") == "n = 7")
    assert slider_readout(page) == "7"
    move_slider(page, -2)
    assert wait_until(page, lambda: kernel_eval(page, "label.value") == "n = 5")


def test_button_updates_figure_widget(demo):
    page, _report = demo
    assert plotly_figure(page, "live figure")["data"][0]["y"] == [0, 1, 4, 9]
    click_button(page, "Double")
    doubled = [0, 2, 8, 18]
    assert wait_until(page, lambda: plotly_figure(page, "live figure")["data"][0]["y"] == doubled)
    assert kernel_eval(page, "list(fw.data[0].y)") == doubled


def test_play_advances_frame_slider(demo):
    page, _report = demo
    assert frame_slider_active(page, "frames figure") == 0
    press_play(page, "frames figure")
    assert wait_for_frame(page, 5, "frames figure") >= 5
    data = plotly_figure(page, "frames figure")["data"]
    assert data[0]["y"][0] >= 1  # the trace moved with the frames


def test_kernel_execute_reports_errors(demo):
    page, _report = demo
    assert kernel_execute(page, "print(40 + 2)") == "42\n"
    with pytest.raises(KernelError, match="ZeroDivisionError"):
        kernel_execute(page, "1 / 0")


BROKEN_CELLS = [
    "x = 1",
    "raise ValueError('deliberately broken')",
    "print('never runs')",
]

# A widget whose front-end module does not exist: the Lab cannot render it.
MISSING_WIDGET_CELLS = [
    """import ipywidgets as widgets
from traitlets import Unicode

class Ghost(widgets.DOMWidget):
    _view_name = Unicode("GhostView").tag(sync=True)
    _view_module = Unicode("kafkalab-no-such-module").tag(sync=True)
    _view_module_version = Unicode("0.1.0").tag(sync=True)
    _model_module = Unicode("kafkalab-no-such-module").tag(sync=True)
    _model_module_version = Unicode("0.1.0").tag(sync=True)
    _model_name = Unicode("GhostModel").tag(sync=True)

Ghost()""",
]


def test_harness_catches_a_raising_cell(lab_page, lab_server):
    relpath = "harness_demo/broken.ipynb"
    write_notebook(lab_server.root_dir / relpath, BROKEN_CELLS)
    report = run_notebook(lab_page, lab_server, relpath, timeout=300)
    assert not report.ok
    assert any("ValueError: deliberately broken" in e for e in report.errors), report.summary()
    assert report.unexecuted_cells == 1, report.summary()
    with pytest.raises(AssertionError, match="deliberately broken"):
        report.assert_clean()


def test_harness_catches_an_unrenderable_widget(lab_page, lab_server):
    relpath = "harness_demo/missing_widget.ipynb"
    write_notebook(lab_server.root_dir / relpath, MISSING_WIDGET_CELLS)
    report = run_notebook(lab_page, lab_server, relpath, timeout=300)
    assert not report.errors  # Python is happy; only the page knows
    assert not report.ok
    assert any(
        "No version of module kafkalab-no-such-module" in e for e in report.console_errors
    ), report.summary()
    assert "Click to show javascript error" in report.bad_texts, report.summary()
