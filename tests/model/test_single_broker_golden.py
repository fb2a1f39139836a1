"""brokers=1 (the default) runs are unchanged byte for byte by the replication model (issue 18).

``golden/single_broker.json`` holds the sha256 of ``RunResult.to_json()`` for every preset, every
variant and a few other configurations, recorded by main's code WITHOUT the replication
changes. When main itself changes single-replica behaviour (another issue), regenerate it from a
checkout of main, never from this branch: load this file with main's ``kafkalab`` first on the
path and call ``record()`` (last done from main at ee21816, whose poll-loop changes moved the four
non-preset runs; every preset's hash was the same as before). Properties
added after the recording (replication's and other issues') are left out of the hashed config
when they hold their default, so a new table entry alone does not change the hash; any change
to the trace, the snapshots, the outcome or an existing setting does.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from kafkalab import scenarios
from kafkalab.model import simulate
from kafkalab.model.config import PROPERTIES

GOLDEN = Path(__file__).parent / "golden" / "single_broker.json"

# a few configurations beyond the presets: random faults, several partitions and consumers
OTHER_RUNS = {
    "random-faults-java": ({"messages": 60, "partitions": 3, "consumers": 2,
                            "commit.strategy": "per-batch", "enable.auto.commit": False},
                           [{"type": "random", "lose_request": 0.1, "lose_response": 0.1}], 7),
    "random-faults-librdkafka": ({"client.model": "librdkafka", "messages": 40, "acks": "1",
                                  "partitions": 2},
                                 [{"type": "random", "lose_response": 0.2}], 3),
    "acks-0": ({"messages": 30, "acks": "0", "enable.idempotence": False}, [], 1),
    "defaults": ({}, [], 0),
}


def _runs():
    for name, preset in scenarios.PRESETS.items():
        yield name, scenarios.run(name)
        for variant in preset.variants:
            yield f"{name}/{variant}", scenarios.run(f"{name}/{variant}")
    for name, (config, faults, seed) in OTHER_RUNS.items():
        yield name, simulate(config, faults, seed)


def digest(result, known: set[str]) -> str:
    d = result.to_dict()
    d["config"] = {k: v for k, v in d["config"].items()
                   if k in known or k not in PROPERTIES or (v != PROPERTIES[k].java
                   and v != PROPERTIES[k].librdkafka)}
    text = json.dumps(d, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def record() -> None:
    known = sorted(PROPERTIES)
    hashes = {name: digest(r, set(known)) for name, r in _runs()}
    GOLDEN.write_text(json.dumps({"properties": known, "sha256": hashes}, indent=1) + "\n")


@pytest.fixture(scope="module")
def golden():
    return json.loads(GOLDEN.read_text())


def test_every_single_broker_run_is_unchanged(golden):
    known = set(golden["properties"])
    got = {name: digest(r, known) for name, r in _runs()}
    missing = set(golden["sha256"]) - set(got)
    assert not missing, f"golden runs no longer produced: {sorted(missing)}"
    changed = [n for n, h in golden["sha256"].items() if got[n] != h]
    assert not changed, f"brokers=1 runs changed: {changed}"


if __name__ == "__main__":
    record()
