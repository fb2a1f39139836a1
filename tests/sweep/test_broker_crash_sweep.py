"""The sweep places leader crashes (issue 18): every append × acks × min.insync.replicas."""

from __future__ import annotations

from kafkalab import sweep
from kafkalab.sweep import KINDS, kind_name


def test_broker_crash_is_a_sweep_kind():
    assert KINDS["broker_crash"] == "broker_crash" and kind_name("broker_crash") == "broker_crash"


def test_every_leader_crash_point_loses_with_acks_1_and_none_with_acks_all_min_isr_2():
    lossy = sweep.sweep("acks-1-leader-failover", faults=["broker_crash"], processes=1)
    safe = sweep.sweep("acks-all-min-isr", faults=["broker_crash"], processes=1)
    assert lossy.exhaustive and safe.exhaustive and lossy.runs == safe.runs > 1
    assert lossy.counterexamples["no_loss"] is not None
    assert safe.counterexamples["no_loss"] is None
    assert all(row["faults"][0]["type"] == "broker_crash" for row in safe.table if row["faults"])
    labels = [row["label"] for row in lossy.table if row["faults"]]
    assert labels and all(label.startswith("leader crash (broker 0) after m") for label in labels)


def test_no_leader_crash_placements_with_one_replica():
    r = sweep.sweep("at-most-once-auto-commit", faults=["broker_crash"], processes=1)
    assert not [row for row in r.table if row["faults"]]
