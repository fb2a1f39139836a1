"""Figure content matches the model: what each figure marks is what the ledger/trace says."""

from __future__ import annotations

import json
import subprocess
import sys

import plotly.graph_objects as go
import pytest

from kafkalab import scenarios
from kafkalab.viz import (
    animate,
    broker_log,
    caption,
    commit_cost_chart,
    comparison,
    message_ledger,
    offsets_timeline,
    topology,
)
from kafkalab.viz._common import sample_steps
from kafkalab.viz.ledger import ledger_state
from kafkalab.viz.log import REASON_LINE_CHARS, log_records, producer_state
from kafkalab.viz.timeline import ahead_band, series


@pytest.fixture(scope="module")
def amo():
    return scenarios.run("at-most-once-auto-commit")


@pytest.fixture(scope="module")
def rc():
    return scenarios.run("read-committed-vs-uncommitted")


def _trace(fig, name):
    matches = [t for t in fig.data if t.name == name]
    assert matches, f"no trace {name!r} in {[t.name for t in fig.data]}"
    return matches[0]


def _all_names():
    for name, preset in scenarios.PRESETS.items():
        yield name
        for variant in preset.variants:
            yield f"{name}/{variant}"


# -- every figure: title, axis labels, caption, fixed ranges ------------------------------------
@pytest.mark.parametrize("name", list(_all_names()))
def test_every_figure_is_labelled(name):
    r = scenarios.run(name, messages=None)
    figs = [offsets_timeline(r), message_ledger(r), broker_log(r), topology(r),
            topology(r, len(r.events) // 2)]
    for fig in figs:
        assert isinstance(fig, go.Figure)
        assert fig.layout.title.text
        assert fig.layout.xaxis.title.text and fig.layout.yaxis.title.text
        assert fig.layout.xaxis.range is not None and fig.layout.xaxis.autorange is False
        assert fig.layout.yaxis.range is not None and fig.layout.yaxis.autorange is False
        text = caption(fig)
        assert text and "\n" not in text and text.endswith((".", "…"))


def test_comparison_and_commit_cost_are_labelled():
    results = {n: scenarios.run(n) for n in ("at-most-once-auto-commit",
                                             "at-most-once-auto-commit/java-crash")}
    fig = comparison(results)
    assert fig.layout.title.text and caption(fig)
    assert "2 lost" in caption(fig) and "8 duplicated" in caption(fig)
    bars = [t for t in fig.data if t.type == "bar"]
    assert {t.y[0] for t in bars if t.name == "lost"} == {2, 0}
    runs = scenarios.run_commit_strategies(messages=300)
    chart = commit_cost_chart(runs)
    assert list(chart.data[0].x) == ["auto", "async-per-batch", "per-batch", "per-record"]
    rates = dict(zip(chart.data[0].x, chart.data[0].y, strict=True))
    assert rates["per-record"] < rates["per-batch"]  # a round trip per record costs
    assert all("0 lost, 0 dup" in t for t in chart.data[0].text)
    assert chart.layout.yaxis.title.text and chart.layout.xaxis.title.text
    # a commit-cost result works too (its outcome carries throughput_by_strategy)
    from_outcome = commit_cost_chart(scenarios.run("commit-cost", messages=300))
    assert "not run" in from_outcome.data[0].text[0]
    assert "round trip" in caption(from_outcome)


# -- ledger -------------------------------------------------------------------------------------
def test_ledger_marks_exactly_the_lost_messages(amo):
    fig = message_ledger(amo)
    lost = _trace(fig, "LOST: never processed")
    assert sorted(lost.customdata) == [8, 9] == sorted(
        a["message"] for a in amo.anomalies if a["type"] == "lost")
    assert all("LOST" in t for t in lost.text)
    once = _trace(fig, "processed once")
    assert sorted(once.customdata) == list(range(8))
    assert not any("LOST" in t or "×" in t for t in once.text)
    # hover is the message's explain()
    assert lost.hovertext[0].replace("<br>", " ") == amo.explain(8)
    assert "8, 9" in caption(fig)


def test_ledger_labels_duplicates_and_log_copies():
    r = scenarios.run("producer-restart-new-pid")
    fig = message_ledger(r)
    dup = _trace(fig, "×n: processed more than once")
    assert sorted(dup.customdata) == [4, 5, 6]
    assert all("×2" in t for t in dup.text)
    copies = _trace(fig, "2+ copies in the log")
    assert sorted(copies.customdata) == sorted(
        m.id for m in r.ledger.messages if len(m.visible_copies) > 1)


def test_ledger_before_the_end_has_no_verdict(amo):
    state = ledger_state(amo, 3)
    assert all(cat == "pending" for cat, *_ in state)  # nothing processed at step 3
    assert [cat for cat, *_ in ledger_state(amo)].count("lost") == 2


# -- timeline -----------------------------------------------------------------------------------
def test_committed_line_ahead_of_processing_exactly_where_the_model_says(amo):
    band = ahead_band(amo, series(amo))
    # librdkafka's background commit stores offset 10 at t=29 ms while processing is still at 5
    commit = next(e for e in amo.events if e.kind == "commit")
    assert band[0][0] == commit.t and band[0][3] == commit.data["offsets"]["0"] == 10
    # it ends ahead of offsets 8 and 9: the lost messages
    end_t, frontier, committed = band[-1][1], band[-1][2], band[-1][3]
    assert end_t == amo.events[-1].t
    assert list(range(frontier, committed)) == [c.offset for m in (8, 9)
                                                for c in amo.ledger.messages[m].copies]
    fig = offsets_timeline(amo)
    shaded = _trace(fig, "committed ahead of processing")
    assert shaded.fill == "toself" and len(shaded.x) > 0
    assert "offsets 8–9 end up committed but never processed" in caption(fig)


@pytest.mark.parametrize("name", ["auto-commit-java-crash", "at-least-once-manual-commit",
                                  "at-most-once-auto-commit/java-crash"])
def test_no_band_when_commits_follow_processing(name):
    r = scenarios.run(name)
    assert ahead_band(r, series(r)) == []
    assert "never runs ahead" in caption(offsets_timeline(r))


def test_timeline_lines_come_from_snapshots(amo):
    fig = offsets_timeline(amo)
    committed = _trace(fig, "committed offset")
    snaps = [(e.t, s["committed"].get("kafkalab", {}).get("0"))
             for e, s in zip(amo.events, amo.snapshots, strict=True)]
    for t, y in zip(committed.x, committed.y, strict=True):
        latest = [v for (st, v) in snaps if st <= t][-1]
        assert y == latest
    position = _trace(fig, "consumer-0 position")
    assert 10 in position.y and None in position.y  # gone while the consumer is down
    processed = _trace(fig, "processed (count)")
    assert max(processed.y) == amo.outcome["processed"]


def test_timeline_markers_carry_event_text(amo):
    fig = offsets_timeline(amo)
    crash = _trace(fig, "crash")
    event = next(e for e in amo.events if e.kind == "crash")
    assert event.text in crash.text[0].replace("<br>", " ")
    for kind in ("poll()", "commit", "restart", "processing error"):
        assert len(_trace(fig, kind).x) >= 1


def test_timeline_marks_lost_acks_and_retries():
    r = scenarios.run("idempotent-producer-lost-ack")
    fig = offsets_timeline(r)
    assert len(_trace(fig, "lost ack").x) == 1
    assert len(_trace(fig, "retry").x) >= 1


# -- broker log ---------------------------------------------------------------------------------
def test_markers_occupy_offsets_in_the_log_strip(rc):
    fig = broker_log(rc)
    markers = _trace(fig, "control marker (COMMIT / ABORT)")
    marker_offsets = sorted(e.data["offset"] for e in rc.events if e.kind == "marker")
    records = log_records(rc)
    assert sorted(r["offset"] for r in records if r["category"] == "marker") == marker_offsets
    assert len(markers.x) == len(marker_offsets) == 3
    assert {t for t in markers.text} == {"COMMIT", "ABORT"}
    aborted = _trace(fig, "aborted record (read_committed skips it)")
    assert len(aborted.x) == rc.outcome["aborted_copies"] == 3
    data_offsets = {r["offset"] for r in records if r["category"] != "marker"}
    assert not data_offsets & set(marker_offsets)  # a marker has its own offset


def test_log_at_a_step_shows_open_transaction_and_lso(rc):
    # the step right after the dying producer's batch lands: an open transaction
    step = next(e.index for e in rc.events if e.kind == "append" and e.data["offset"] == 6)
    fig = broker_log(rc, step)
    assert len(_trace(fig, "record in an open transaction").x) == 3
    lso = _trace(fig, "last stable offset (LSO)")
    hw = _trace(fig, "high watermark (HW)")
    assert lso.hovertext[0].startswith("last stable offset (LSO): 6")
    assert hw.hovertext[0].startswith("high watermark (HW): 9")
    assert "LSO" in lso.text and "HW" in hw.text


def test_log_duplicates_and_producer_state():
    r = scenarios.run("idempotent-producer-lost-ack/idempotence-off")
    fig = broker_log(r)
    dup = _trace(fig, "DUP: another copy of a message already in the log")
    assert len(dup.x) == r.outcome["extra_copies"] == 5  # every batch in flight with the lost one
    assert "DUP" in dup.text[0]
    assert producer_state(r) == []  # no PID without idempotence
    reason = next(t for t in fig.data if t.type == "table").cells.values[0][0]
    lines = reason.split("<br>")  # broken here, not by plotly.js (blank in a FigureWidget)
    assert "idempotence is off" in reason.replace("<br>", " ")
    assert len(lines) > 1 and all(len(line) <= REASON_LINE_CHARS for line in lines), lines
    idem = scenarios.run("idempotent-producer-lost-ack")
    rows = producer_state(idem)
    assert len(rows) == 1 and rows[0]["pid"] >= 0
    assert rows[0]["last_seq"] == 9 and rows[0]["duplicates_dropped"] == 5
    table = next(t for t in broker_log(idem).data if t.type == "table")
    assert list(table.cells.values[1]) == [rows[0]["pid"]]


def test_restarted_producer_has_a_new_pid_in_the_table():
    r = scenarios.run("producer-restart-new-pid")
    rows = producer_state(r)
    assert len({row["pid"] for row in rows}) == 2


def test_long_log_is_windowed_and_says_so():
    r = scenarios.run("at-most-once-auto-commit", messages=3000)
    fig = broker_log(r)
    assert sum(len(t.x) for t in fig.data if t.type == "scatter" and t.mode == "markers+text") \
        <= 1000
    assert "Showing a window" in caption(fig)


# -- topology -----------------------------------------------------------------------------------
def test_topology_shows_lost_ack_and_crash():
    r = scenarios.run("producer-restart-new-pid")
    step = next(e.index for e in r.events if e.kind == "ack_lost")
    fig = topology(r, step)
    lost = _trace(fig, "lost acknowledgement / request")
    assert len(lost.x) == 3  # one edge: two points and a gap
    labels = _trace(fig, "edge labels")
    assert "ack lost" in labels.text
    amo = scenarios.run("at-most-once-auto-commit")
    crash = next(e.index for e in amo.events if e.kind == "crash")
    fig = topology(amo, crash)
    assert list(_trace(fig, "crashed ✗").text) == ["consumer-0 ✗"]
    end = topology(amo)
    assert list(_trace(end, "stopped (closed or replaced)").text) == ["consumer-0"]


def test_topology_layers_without_numpy():
    r = scenarios.run("exactly-once-pipeline")
    fig = topology(r)
    xs = {}
    for t in fig.data:
        if t.mode == "markers+text":
            for x, label in zip(t.x, t.text, strict=True):
                xs[label.rstrip(" ✗")] = x
    assert xs["producer"] < xs["input p0"] < xs["consumer-0"] < xs["output p0"] \
        < xs["reader-0"] < xs["sink"]


# -- animation ----------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["timeline", "log", "ledger"])
def test_animation_short_run_has_every_step(amo, kind):
    fig = animate(amo, kind)
    assert len(fig.frames) == len(amo.events) <= 120
    assert "sampled" not in caption(fig) and f"All {len(amo.events)} steps" in caption(fig)
    assert [b.label for b in fig.layout.updatemenus[0].buttons] == ["Play", "Pause"]
    assert len(fig.layout.sliders[0].steps) == len(fig.frames)
    # every frame has the same traces (plotly animates trace by trace)
    assert {len(f.data) for f in fig.frames} == {len(fig.data)}
    ranges = {(tuple(fig.layout.xaxis.range), tuple(fig.layout.yaxis.range))}
    assert len(ranges) == 1


@pytest.mark.parametrize("kind", ["timeline", "log", "ledger"])
def test_long_animation_is_sampled_and_says_so(kind):
    r = scenarios.run("exactly-once-pipeline")
    fig = animate(r, kind)
    assert len(fig.frames) == 120 < len(r.events)
    assert f"Showing 120 of {len(r.events)} steps" in caption(fig)
    steps = [int(f.name) for f in fig.frames]
    crashes = [e.index for e in r.events if e.kind == "crash"]
    assert set(crashes) <= set(steps)  # meaningful steps are kept
    assert steps[0] == 0 and steps[-1] == len(r.events) - 1


def test_sampling_keeps_crashes_and_commits():
    r = scenarios.run("at-least-once-manual-commit", messages=200)
    steps = sample_steps(r, 120)
    assert len(steps) == 120 and steps == sorted(set(steps))
    crashes = {e.index for e in r.events if e.kind in ("crash", "restart")}
    assert crashes <= set(steps)


# -- display and purity -------------------------------------------------------------------------
def test_show_displays_the_mime_bundle(amo, monkeypatch):
    from kafkalab.viz import display as display_mod

    shown = []
    import IPython.display

    monkeypatch.setattr(IPython.display, "display", lambda obj, raw=False: shown.append((obj, raw)))
    fig = message_ledger(amo)
    display_mod.show(fig)
    bundle, raw = shown[0]
    assert raw is True
    assert set(bundle) == {"application/vnd.plotly.v1+json", "text/plain"}
    assert caption(fig) in bundle["text/plain"]
    json.dumps(bundle)  # JSON-serialisable: no numpy, no custom objects


def test_no_numpy_after_building_every_figure():
    code = (
        "import sys\n"
        "from kafkalab import scenarios\n"
        "from kafkalab.viz import *\n"
        "from kafkalab.report import html_report\n"
        "r = scenarios.run('read-committed-vs-uncommitted')\n"
        "for f in (offsets_timeline(r), message_ledger(r), broker_log(r, 20), topology(r, 20),\n"
        "          comparison({'a': r, 'b': r}), animate(r, 'timeline'), animate(r, 'log'),\n"
        "          animate(r, 'ledger'), commit_cost_chart(scenarios.run_commit_strategies(messages=50))):\n"
        "    f.to_plotly_json()\n"
        "html_report(r, plotlyjs='cdn')\n"
        "from kafkalab import Lab\n"
        "Lab()\n"
        "print('numpy' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=120)
    assert out.stdout.strip().splitlines()[-1] == "False", out.stderr
