"""A long trace packs its older events' text and data (kafkalab.trace.events.PACK_AFTER), and
the ledger is stored by column: neither may change anything a run reports (issue 13's size
goal must lose nothing from the RunResult contract)."""

from __future__ import annotations

import random
import statistics

import pytest

from kafkalab import scenarios
from kafkalab.model import simulate
from kafkalab.trace import events as trace_events
from kafkalab.trace.ledger import _mean

CASES = [
    ("at-least-once-manual-commit", {}),
    ("at-least-once-manual-commit", {"partitions": 3, "consumers": 2,
                                     "commit.strategy": "per-batch", "max.poll.records": 7}),
    ("exactly-once-pipeline", {}),
    ("transactional-fencing", {}),
    ("unclean-leader-election", {}),  # a leader change truncates copies
    ("acks-all-isr-shrunk", {}),
]


def _everything(r) -> dict:
    led = r.ledger
    ids = sorted({0, len(led.messages) - 1, *led.duplicates()[:3], *led.lost()[:3]})
    return {"json": r.to_json(), "outcome": r.outcome, "anomalies": r.anomalies,
            "categories": led.categories(), "ledger": led.to_list(),
            "explain": [r.explain(m) for m in ids], "texts": [e.text for e in r.events],
            "events": [e.to_dict() for e in r.events]}


def _run(name: str, overrides: dict):
    try:
        return scenarios.run(name, overrides=overrides, measure=False)
    except KeyError:
        pytest.skip(f"no preset {name}")


@pytest.mark.parametrize(("name", "overrides"), CASES)
def test_packing_every_event_changes_nothing(monkeypatch, name, overrides):
    plain = _everything(_run(name, overrides))
    monkeypatch.setattr(trace_events, "PACK_AFTER", 0)
    monkeypatch.setattr(trace_events, "CHUNK", 2)
    monkeypatch.setattr(trace_events, "UNPACKED_CHUNKS", 1)
    r = _run(name, overrides)
    assert any(e._text is None for e in r.events), "nothing was packed"
    assert _everything(r) == plain


def test_packed_events_compare_and_read_like_plain_ones(monkeypatch):
    monkeypatch.setattr(trace_events, "PACK_AFTER", 0)
    monkeypatch.setattr(trace_events, "CHUNK", 4)
    packed = simulate({"messages": 40, "partitions": 2}, [], 0)
    monkeypatch.setattr(trace_events, "PACK_AFTER", 10 ** 12)
    plain = simulate({"messages": 40, "partitions": 2}, [], 0)
    assert packed.events == plain.events
    polls = [e for e in packed.events if e.kind == "poll" and e.data["records"]]
    assert polls and all(type(r) is trace_events.Record for e in polls for r in e.data["records"])


def test_a_run_does_not_keep_the_simulation_alive():
    r = simulate({"messages": 5}, [], 0)
    assert r.trace.clock is None and r.trace.snapshot_fn is None


def test_the_ledger_mean_is_statistics_mean():
    rng = random.Random(3)
    for _ in range(500):
        values = sorted(round(rng.uniform(0, 5000), 6) for _ in range(rng.randint(1, 200)))
        if rng.random() < 0.3:
            values = sorted([0.0, *(rng.random() * 10 ** rng.randint(-8, 8) for _ in range(30))])
        assert _mean(values) == statistics.mean(values)
