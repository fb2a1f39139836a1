"""The replica log figure (issue 18): what it draws is what the trace says."""

from __future__ import annotations

import plotly.graph_objects as go

from kafkalab import scenarios
from kafkalab.viz import caption, replica_logs
from kafkalab.viz.replicas import STRUCK_DY, replica_state


def _trace(fig, name):
    matches = [t for t in fig.data if t.name == name]
    assert matches, f"no trace {name!r} in {[t.name for t in fig.data]}"
    return matches[0]


def test_replica_logs_after_a_failover():
    r = scenarios.run("acks-1-leader-failover")
    fig = replica_logs(r)
    assert isinstance(fig, go.Figure) and fig.layout.title.text
    assert fig.layout.xaxis.autorange is False and fig.layout.yaxis.autorange is False
    text = caption(fig)
    assert "broker 1 leads (epoch 1)" in text and text.endswith(".")
    # the truncated records are exactly broker 0's truncated event, struck through above its row
    (cut,) = [e for e in r.events if e.kind == "truncated"]
    struck = _trace(fig, "truncated (struck out)")
    assert sorted(struck.x) == list(range(cut.data["start"], cut.data["end"]))
    rows = list(reversed(replica_state(r).replicas))
    assert set(struck.y) == {rows.index(0) + STRUCK_DY}
    assert _trace(fig, "strike-through").x == struck.x
    # both epochs drawn; every replica's LEO is the snapshot's own log end
    assert {t.name for t in fig.data} >= {"record, epoch 0", "record, epoch 1"}
    own = r.snapshots[-1]["replicas"]["input"][0][4]
    leo = _trace(fig, "log end offset (LEO)")
    assert sorted(leo.text) == sorted(f"LEO {v}" for v in own.values())
    # the high watermark line sits at the snapshot's HW
    hw = r.snapshots[-1]["logs"]["input"][0][1]
    assert fig.layout.shapes[0].x0 == hw - 0.5


def test_replica_state_at_an_earlier_step_and_with_one_replica():
    r = scenarios.run("acks-1-leader-failover")
    crash = next(e.index for e in r.events if e.kind == "broker_crash")
    st = replica_state(r, crash)
    assert st.leader == 0 and st.epoch == 0 and not any(st.struck.values())
    assert len(st.logs[0]) == st.leo[0] >= st.leo[1]
    one = scenarios.run("at-most-once-auto-commit")
    fig = replica_logs(one)
    assert len(replica_state(one).replicas) == 1 and caption(fig)
