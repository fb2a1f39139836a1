"""The guarantee figures: pure functions of sweep results."""

from __future__ import annotations

import json

import plotly.graph_objects as go
import pytest

from kafkalab.sweep import SEMANTICS, semantics_sweeps, sweep
from kafkalab.viz.guarantee_map import guarantee_map, semantics_matrix


@pytest.fixture(scope="module")
def sweeps():
    return semantics_sweeps(messages=4, processes=1)


def _cells(fig):
    heat = next(t for t in fig.data if isinstance(t, go.Heatmap))
    return heat


def test_guarantee_map_counts_each_crash_point(sweeps):
    fig = guarantee_map(sweeps)
    assert fig.layout.meta["caption"]
    heat = _cells(fig)
    rows = list(heat.y)
    assert rows[:5] == ["crash after poll", "crash before processing",
                        "crash after processing", "crash before commit",
                        "crash after commit"]
    assert len(heat.x) == len(sweeps)
    col = list(sweeps).index("at-most-once (commit first)")
    cell = heat.text[rows.index("crash before processing")][col]
    assert cell.startswith("✗ lost 4/4") and "✓ dup 0/4" in cell
    col = list(sweeps).index("at-least-once (commit per record)")
    assert "✓ lost 0/" in heat.text[rows.index("crash after processing")][col]
    assert "✗ dup" in heat.text[rows.index("crash after processing")][col]
    # auto-commit has no commit calls of its own: no such crash point
    col = list(sweeps).index("auto-commit, Java client")
    assert heat.text[rows.index("crash before commit")][col] == "—"


def test_guarantee_map_takes_json_dicts_too(sweeps):
    a = guarantee_map(sweeps)
    b = guarantee_map({k: json.loads(json.dumps(v.to_json_dict())) for k, v in sweeps.items()})
    assert a.to_dict() == b.to_dict()


def test_semantics_matrix_shows_which_guarantee_survives(sweeps):
    promises = {label: promise for label, (_, promise) in SEMANTICS.items()}
    fig = semantics_matrix(sweeps, promises)
    assert fig.layout.meta["caption"]
    heat = _cells(fig)
    assert list(heat.x) == ["consumer crash", "lost ack", "producer restart"]
    rows = {label.split("<br>")[0]: i for i, label in enumerate(heat.y)}
    at_least = heat.y[rows["at-least-once (commit per record)"]]
    assert "kept" in at_least
    crash_cell = heat.text[rows["at-least-once (commit per record)"]][0]
    assert "✓ lost 0/" in crash_cell and "✗ dup" in crash_cell
    eos = rows["exactly-once (transactional pipeline)"]
    assert heat.text[eos][0].count("✓") == 2 and heat.text[eos][1].count("✓") == 2
    assert "broken by producer restart" in heat.y[eos]  # upstream re-sends, new PID
    assert "✗ dup" in heat.text[rows["auto-commit, librdkafka"]][1]  # no idempotence
    assert "no duplicates: kept" in heat.y[rows["at-most-once (commit first)"]]
    assert "promises neither" in heat.y[rows["auto-commit, librdkafka"]]


def test_sampled_sweeps_are_flagged_in_the_caption():
    s = sweep("at-least-once-manual-commit", depth=1, overrides={"messages": 4}, budget=5)
    assert "sampled" in guarantee_map({"a": s}).layout.meta["caption"]
    with pytest.raises(ValueError):
        guarantee_map({})


def test_the_heatmaps_follow_the_notebook_width(sweeps):
    """Issue 14 item 3: with a fixed width (190 + 160 px a column) notebook 04's six-column
    map was 1150 px and ran off a 1000 px notebook, two columns out of sight
    (tests/browser/test_figure_text.py measured 12 clipped cells). Both heatmaps autosize."""
    many = {f"{label} {i}": sw for i in range(2) for label, sw in sweeps.items()}
    for fig in (guarantee_map(many), semantics_matrix(sweeps)):
        assert fig.layout.width is None and fig.layout.autosize is True
