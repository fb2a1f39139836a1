"""The consumer's batch fast path (issue 15's bench: no Python step per record) changes nothing.

With no fault to watch, ``ConsumerApplication._process`` makes a batch's processed records with
``map``/``zip`` instead of its record-by-record loop, ``Log.read_spans`` hands out runs of one
batch instead of (offset, message id) pairs, and ``_offsets`` names the spans from columns. Each
run below is made twice, the second time with the fast path switched off (an empty pause table
that counts as a fault to watch, so every record goes through the loop), and the two JSON exports
must be identical: the events' texts and records, every time, the snapshots, the outcome.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kafkalab import scenarios
from kafkalab.model import consumer as consumer_module
from kafkalab.model import simulate
from kafkalab.model.consumer import ConsumerApplication, _offsets
from kafkalab.model.log import PartitionLog


class _Watched(dict[int, list[float]]):
    """An empty pause table that is truthy: ``_process`` takes its careful path."""

    def __bool__(self) -> bool:
        return True


def _careful(monkeypatch: pytest.MonkeyPatch) -> None:
    original = ConsumerApplication._process

    def process(self: ConsumerApplication, inc: Any, records: Any) -> Any:
        if not self.pauses:
            self.pauses = _Watched()
        return original(self, inc, records)

    monkeypatch.setattr(ConsumerApplication, "_process", process)


RUNS: dict[str, Any] = {
    "per-batch, float processing.ms": lambda: scenarios.run(
        "at-least-once-manual-commit", messages=3000,
        overrides={"commit.strategy": "per-batch", "max.poll.records": 500,
                   "producer.send.interval.ms": 0.01, "processing.ms": 0.3}),
    "per-record preset": lambda: scenarios.run("at-least-once-manual-commit", messages=600),
    "auto-commit, int processing.ms": lambda: simulate(
        {"messages": 2000, "partitions": 3, "consumers": 2, "processing.ms": 2}, [], 3),
    "processing.ms 0": lambda: simulate(
        {"messages": 800, "partitions": 2, "processing.ms": 0, "enable.auto.commit": False,
         "commit.strategy": "per-batch"}, [], 1),
    "librdkafka store after processing, lost acks": lambda: simulate(
        {"client.model": "librdkafka", "messages": 1500, "partitions": 2,
         "commit.strategy": "store-after-processing"},
        [{"type": "random", "lose_response": 0.1}], 3),
    "idempotent sink, rebalances": lambda: simulate(
        {"messages": 2000, "partitions": 4, "consumers": 3, "sink.idempotent": True,
         "enable.auto.commit": False, "commit.strategy": "per-batch"},
        [{"type": "random", "lose_request": 0.05, "lose_response": 0.05}], 7),
    "replicated": lambda: simulate(
        {"messages": 1500, "brokers": 3, "replication.factor": 3, "partitions": 2}, [], 2),
}


@pytest.mark.parametrize("name", RUNS)
def test_fast_path_matches_the_record_by_record_loop(name: str,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    fast = RUNS[name]()
    with monkeypatch.context() as m:
        _careful(m)
        careful = RUNS[name]()
    assert fast.outcome["processed"] > 0
    assert fast.to_json() == careful.to_json()


def test_the_careful_switch_really_switches(monkeypatch: pytest.MonkeyPatch) -> None:
    """The comparison above means something only if the switch reaches the loop."""
    seen: list[bool] = []
    original = consumer_module.ConsumerApplication._flush_columns

    def flush(self: ConsumerApplication, *args: Any, **kwargs: Any) -> Any:
        seen.append(bool(self.pauses))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(ConsumerApplication, "_flush_columns", flush)
    simulate({"messages": 50}, [], 0)
    assert seen and not any(seen)
    seen.clear()
    _careful(monkeypatch)
    simulate({"messages": 50}, [], 0)
    assert seen and all(seen)


def _offsets_by_loop(records: list[tuple[int, int]]) -> str:
    """The record-by-record version ``_offsets`` replaced (the oracle)."""
    if not records:
        return "none"
    by_p: dict[int, list[int]] = {}
    for r in records:
        by_p.setdefault(r[0], []).append(r[1])
    parts = []
    for p, offs in by_p.items():
        span = f"{offs[0]}" if len(offs) == 1 else f"{offs[0]}–{offs[-1]}"
        parts.append(span if len(by_p) == 1 else f"p{p}:{span}")
    return ", ".join(parts)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 50)), max_size=30))
def test_offsets_text_matches_the_loop(records: list[tuple[int, int]]) -> None:
    assert _offsets(records) == _offsets_by_loop(records)


@settings(max_examples=200, deadline=None)
@given(batches=st.lists(st.integers(1, 6), min_size=1, max_size=8),
       start=st.integers(0, 40), max_records=st.integers(1, 30),
       controls=st.sets(st.integers(0, 7)))
def test_read_spans_are_read_by_runs(batches: list[int], start: int, max_records: int,
                                     controls: set[int]) -> None:
    log = PartitionLog("t", 0)
    mid = 0
    for i, size in enumerate(batches):
        if i in controls:  # a transaction: committed, aborted, or (the last batch) still open
            log.append(list(range(mid, mid + size)), pid=1, epoch=0, base_seq=mid,
                       transactional=True)
            if i < len(batches) - 1:
                log.write_marker(1, 0, commit=i % 2 == 0)
        else:
            log.append(list(range(mid, mid + size)))
        mid += size
    for read_committed in (False, True):
        pairs, position = log.read(start, max_records, read_committed)
        spans, span_position = log.read_spans(start, max_records, read_committed)
        assert span_position == position
        assert [(first + k, m) for first, msgs in spans
                for k, m in enumerate(msgs)] == pairs
        assert len(pairs) <= max_records
