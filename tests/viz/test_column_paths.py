"""The figures' fast paths give what the slow ones gave: the ledger's per-message columns
(``Ledger.counts()``) against the per-message views, and the timeline's series (changes
kept as the snapshots go by) against keeping every point and dropping repeats afterwards (the
code before). Every preset: they include truncated logs, aborted transactions, groups."""

from __future__ import annotations

import pytest

from kafkalab import scenarios
from kafkalab.viz._common import message_status, sink_group, sink_prefix
from kafkalab.viz.ledger import ledger_hovers, ledger_state
from kafkalab.viz.timeline import series


def _changes(points):
    out = []
    for p in points:
        if out and out[-1][2] == p[2]:
            continue
        out.append(p)
    return out


def series_oracle(result, partition: int) -> dict:
    """timeline.series before it kept only the changes (kafkalab's code until 2026-12-03)."""
    topic, group, prefix, p = (result.observed_topic, sink_group(result), sink_prefix(result),
                               str(partition))
    leo, hw, lso, committed = [], [], [], []
    positions: dict[str, list] = {}
    for e, snap in zip(result.events, result.snapshots, strict=False):
        logs = snap["logs"].get(topic)
        if logs and partition < len(logs):
            a, b, c = logs[partition]
            leo.append((e.index, e.t, a))
            hw.append((e.index, e.t, b))
            lso.append((e.index, e.t, c))
        committed.append((e.index, e.t, snap["committed"].get(group, {}).get(p)))
        for name, member in snap["members"].items():
            if name.startswith(prefix):
                pos = member["positions"].get(p) if member["alive"] else None
                positions.setdefault(name, []).append((e.index, e.t, pos))
    return {"leo": _changes(leo), "hw": _changes(hw), "lso": _changes(lso),
            "committed": _changes(committed),
            "positions": {k: _changes(v) for k, v in positions.items()}}


@pytest.fixture(scope="module")
def runs():
    return {name: scenarios.run(name) for name in sorted(scenarios.PRESETS)}


def test_the_presets_hold_what_the_comparisons_need(runs):
    """Else the comparisons below prove less than they claim: a log truncated by a leader
    election, aborted copies, duplicates, lost messages, more than one partition and member."""
    kinds = {e.kind for r in runs.values() for e in r.events}
    assert {"leader_elected", "marker", "rebalance"} <= kinds
    outcomes = [r.outcome for r in runs.values()]
    assert any(o["lost"] for o in outcomes) and any(o["duplicates"] for o in outcomes)
    assert any(r.config.get("partitions", 1) > 1 for r in runs.values())


def test_counts_are_what_each_message_view_says(runs):
    for name, result in runs.items():
        counts = result.ledger.counts()
        views = list(result.ledger.messages)
        assert list(counts.sends) == [v.sends for v in views], name
        assert list(counts.processed) == [len(v.processed) for v in views], name
        assert list(counts.visible) == [len(v.visible_copies) for v in views], name


def test_the_final_ledger_state_and_brief_hovers_match_the_views(runs):
    for name, result in runs.items():
        ledger = result.ledger
        expected = []
        for v in ledger.messages:
            k = len(v.processed)
            cat = ("once" if k == 1 else "duplicate" if k > 1 else
                   "lost" if ledger.drained and v.sends else "pending")
            expected.append((cat, k, len(v.visible_copies)))
        assert ledger_state(result) == expected, name
        assert ledger_hovers(result, "brief") == [
            f"Message {m}: {message_status(v, ledger.drained)}, processed {len(v.processed)}×. "
            "Click for its story." for m, v in enumerate(ledger.messages)], name


def test_series_keeps_the_changes_the_old_series_kept(runs):
    for name, result in runs.items():
        for partition in range(result.config.get("partitions", 1)):
            got = series(result, partition)
            assert {k: got[k] for k in ("leo", "hw", "lso", "committed", "positions")} == \
                series_oracle(result, partition), (name, partition)
