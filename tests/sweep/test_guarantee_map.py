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
    assert list(heat.x) == ["consumer crash", "lost ack", "producer restart",
                            "rebalance (member joins, member leaves, member restarts)"]
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


# -- rebalances (issue 17): membership changes are one row of the map, one column of the matrix
REBALANCE = "rebalance (member joins, member leaves, member restarts)"
EAGER, COOPERATIVE = ("auto-commit in a group, eager (range)",
                      "auto-commit in a group, cooperative-sticky")


def test_the_guarantee_map_has_a_row_for_rebalances(sweeps):
    """Fact sheet §G: Java's eager rebalance auto-commits in onJoinPrepare before it revokes,
    so a scale out, scale in or restart duplicates nothing; cooperative-sticky revokes the
    moved partition after the first rebalance, without that commit: a join duplicates."""
    fig = guarantee_map(sweeps)
    heat = _cells(fig)
    rows = list(heat.y)
    assert rows.count(REBALANCE) == 1 and rows[-1] == REBALANCE
    cells = dict(zip(sweeps, heat.text[rows.index(REBALANCE)], strict=True))
    # two members: a join and a leave and a restart of each member, at four moments each
    assert cells[EAGER] == "✓ lost 0/20<br>✓ dup 0/20"
    assert cells[COOPERATIVE].startswith("✓ lost 0/20<br>✗ dup ")
    # one member: no scale in (nobody would read on), a join and a restart
    for label in ("at-least-once (commit per record)", "exactly-once (transactional pipeline)"):
        assert cells[label] == "✓ lost 0/8<br>✓ dup 0/8", (label, cells[label])
    z = heat.z[rows.index(REBALANCE)]
    assert z[list(sweeps).index(EAGER)] != z[list(sweeps).index(COOPERATIVE)]
    hover = heat.hovertext[rows.index(REBALANCE)][list(sweeps).index(COOPERATIVE)]
    assert "first duplicating placement: member joins at" in hover


def test_the_semantics_matrix_has_the_group_rows_and_a_rebalance_column(sweeps):
    fig = semantics_matrix(sweeps)
    heat = _cells(fig)
    rows = {label.split("<br>")[0]: i for i, label in enumerate(heat.y)}
    col = list(heat.x).index(REBALANCE)
    assert "✗ dup" in heat.text[rows[COOPERATIVE]][col]
    assert heat.text[rows[EAGER]][col].count("✓") == 2
    # both keep their promise (no loss); a crash duplicates in both (auto-commit)
    for label in (EAGER, COOPERATIVE):
        assert "promises no loss: kept" in heat.y[rows[label]]
        assert "✗ dup" in heat.text[rows[label]][0]
    # a single consumer's rebalances duplicate nothing in any of the five semantics
    for label in list(SEMANTICS)[:5]:
        assert "✗" not in heat.text[rows[label]][col], label


def test_the_heatmaps_follow_the_notebook_width(sweeps):
    """Issue 14 item 3: with a fixed width (190 + 160 px a column) notebook 04's six-column
    map was 1150 px and ran off a 1000 px notebook, two columns out of sight
    (tests/browser/test_figure_text.py measured 12 clipped cells). Both heatmaps autosize."""
    many = {f"{label} {i}": sw for i in range(2) for label, sw in sweeps.items()}
    for fig in (guarantee_map(many), semantics_matrix(sweeps)):
        assert fig.layout.width is None and fig.layout.autosize is True
