"""The broker log at a step from the run's LogHistory (an index built once) is what replaying
every event up to that step gives: at every step of every preset, windowed and whole, and of
runs with truncated logs (a leader elected with a shorter log) and aborted transactions."""

from __future__ import annotations

import pytest

from kafkalab import scenarios
from kafkalab.viz.log import MAX_CELLS, log_records, log_spec


def replayed_records(result, step: int | None = None, window: dict | None = None) -> list[dict]:
    """The oracle: the logs at ``step`` by replaying every append, marker and truncation up to
    it (kafkalab's code before the index; O(events) a step)."""
    # Compact entries first: [topic, partition, offset, message, status, event, k]
    entries: list[list] = []
    open_txn: dict[tuple[str, int, int], list[list]] = {}
    for e in result.events[: step + 1]:
        kind = e.kind
        if kind == "append":
            d = e.data
            topic, part, base = d["topic"], d["partition"], d["offset"]
            status = "open" if d["transactional"] else "none"
            bucket = open_txn.setdefault((topic, part, d["pid"]), []) if d["transactional"] \
                else None
            for k, m in enumerate(d["messages"]):
                entry = [topic, part, base + k, m, status, e, k]
                entries.append(entry)
                if bucket is not None:
                    bucket.append(entry)
        elif kind == "marker":
            d = e.data
            status = "committed" if d["control"] == "commit" else "aborted"
            for entry in open_txn.pop((d["topic"], d["partition"], d["pid"]), []):
                entry[4] = status
            entries.append([d["topic"], d["partition"], d["offset"], None, "marker", e, 0])
        elif kind == "leader_elected" and e.data.get("lost_from") is not None:
            # the new leader's log ends before the old one's: those offsets are no longer in
            # the partition (the replica log figure shows where they went)
            d = e.data
            gone = (d["topic"], d["partition"], d["lost_from"])
            entries = [x for x in entries
                       if not (x[0] == gone[0] and x[1] == gone[1] and x[2] >= gone[2])]
    entries.sort(key=lambda x: (x[0], x[1], x[2]))
    seen: dict[tuple[str, int], int] = {}
    records: list[dict] = []
    for topic, part, offset, m, status, e, k in entries:
        copy = 0
        if status == "marker":
            category = "marker"
        elif status == "aborted":
            category = "aborted"
        else:
            key = (topic, m)
            copy = seen[key] = seen.get(key, 0) + 1
            category = "duplicate" if copy > 1 else ("open" if status == "open" else "record")
        if window is not None:
            span = window.get((topic, part))
            if span is None or not span[0] <= offset < span[1]:
                continue
        d = e.data
        if status == "marker":
            records.append({"topic": topic, "partition": part, "offset": offset, "message": None,
                            "pid": d["pid"], "control": d["control"], "status": "marker",
                            "category": category, "step": e.index, "t": e.t})
            continue
        records.append({"topic": topic, "partition": part, "offset": offset, "message": m,
                        "pid": d["pid"], "epoch": d["epoch"],
                        "seq": d["seq"] + k if d["seq"] >= 0 else -1, "producer": d["producer"],
                        "attempt": d["attempt"], "status": status, "category": category,
                        "copy": copy, "step": e.index, "t": e.t})
    return records




def _window(result, step: int, width: int = 5) -> dict:
    """A window of ``width`` offsets per partition that follows the step (as log_spec's)."""
    logs = result.snapshots[step]["logs"]
    return {(t, p): (max(logs[t][p][1] - width, 0), logs[t][p][1] + 1)
            for t in logs for p in range(len(logs[t]))}


@pytest.fixture(scope="module")
def runs():
    return {name: scenarios.run(name) for name in sorted(scenarios.PRESETS)}


@pytest.mark.parametrize("name", sorted(scenarios.PRESETS))
def test_every_step_of_every_preset(name, runs):
    result = runs[name]
    steps = range(len(result.events))
    if len(result.events) > 150:  # every step near the faults, a stride elsewhere
        steps = sorted({*range(0, len(result.events), len(result.events) // 50),
                        *(e.index + d for e in result.events
                          if e.kind in ("crash", "marker", "leader_elected", "restart")
                          for d in (-1, 0, 1) if 0 <= e.index + d < len(result.events))})
    for step in steps:
        assert log_records(result, step) == replayed_records(result, step), (name, step)
        window = _window(result, step)
        assert log_records(result, step, window) == replayed_records(result, step, window), \
            (name, step, window)


def test_the_index_covers_truncation_and_aborts(runs):
    """The presets above include a log truncated by a leader election and aborted records
    (else the comparison proves less than it claims)."""
    kinds = {e.kind for result in runs.values() for e in result.events
             if e.kind == "marker" or (e.kind == "leader_elected"
                                       and e.data.get("lost_from") is not None)}
    assert kinds == {"marker", "leader_elected"}
    statuses = {r["category"] for result in runs.values() for r in log_records(result)}
    assert {"aborted", "duplicate", "marker", "record"} <= statuses


def test_a_long_log_steps_in_a_window():
    result = scenarios.run("at-least-once-manual-commit", messages=3000)
    for step in range(0, len(result.events), len(result.events) // 8):
        spec = log_spec(result, step)
        assert "Showing a window" in spec["layout"]["annotations"][0]["text"] or \
            sum(len(t.get("x") or []) for t in spec["data"] if t.get("type") == "scatter") \
            <= MAX_CELLS
        logs = result.snapshots[step]["logs"]
        window = {(t, p): (max(logs[t][p][1] - 400, 0), logs[t][p][1])
                  for t in logs for p in range(len(logs[t]))}
        assert log_records(result, step, window) == replayed_records(result, step, window)


@pytest.mark.parametrize("aborted", [True, False])
def test_log_offsets_are_the_offsets_of_every_message_copy(aborted, runs):
    """Ledger.log_offsets (read from the appends' columns) is what the per-message views say:
    every copy's offset in the observed topic, aborted ones only if asked, none truncated."""
    for name, result in runs.items():
        ledger = result.ledger
        for p in range(4):
            views = sorted(c.offset for rec in ledger.messages for c in rec.copies
                           if c.partition == p and c.topic == result.observed_topic
                           and (aborted or c.status != "aborted"))
            assert ledger.log_offsets(p, aborted=aborted) == views, (name, p)
