"""The Lab's figures are drawn with viz's template (kafkalab.viz.TEMPLATE), set once per
FigureWidget: plotly validates a whole template each time one is set (~25 ms in CPython, several
times that in Pyodide), and the Lab used to set plotly's default and then viz's at every rebuild."""

from __future__ import annotations

import plotly.graph_objects as go
import plotly.io as pio
import pytest

from kafkalab.viz import TEMPLATE
from kafkalab.widgets.lab import Lab


def test_every_figure_keeps_the_template_through_rebuilds(monkeypatch: pytest.MonkeyPatch):
    made = []
    original = go.layout.Template.__init__

    def counted(self, *args, **kwargs):
        made.append(1)
        original(self, *args, **kwargs)

    Lab("at-most-once-auto-commit")  # plotly loads its template registry on first use
    monkeypatch.setattr(go.layout.Template, "__init__", counted)
    lab = Lab("at-most-once-auto-commit")
    figures = lab.figures
    assert len(made) == len(figures)  # one template each, when the figure is made
    made.clear()
    lab.controls["messages"].value = 37  # a new run: traces restyled or rebuilt
    lab.controls["enable.auto.commit"].value = False
    lab.step = len(lab.result.events) // 2
    lab.scenario_picker.value = "exactly-once-pipeline"  # other traces: each figure rebuilt
    assert made == []
    expected = pio.templates[TEMPLATE]
    for name, fig in figures.items():
        assert fig.layout.template == expected, name
