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


def test_durability_rows_lose_acknowledged_writes_only_where_kafka_does():
    """Fact sheet (kafka-semantics.md, replication: "acks=all covers only the current ISR",
    min.insync.replicas gates only acks=all; KIP-966). acks=1 loses acknowledged writes when
    the leader fails before a follower fetched them; acks=all loses none while the ISR holds
    more than the leader, and with min.insync.replicas=1 loses them when the ISR shrank to the
    leader and its machine fails (no fsync per write: log.flush.interval.messages defaults to never);
    min.insync.replicas=2 refuses those writes instead (NOT_ENOUGH_REPLICAS)."""
    from kafkalab.sweep import DURABILITY, DURABILITY_COLUMNS, durability_sweeps
    from kafkalab.viz.guarantee_map import semantics_matrix

    sweeps = durability_sweeps(processes=1)
    assert list(sweeps) == list(DURABILITY)

    def losing(label, kind):
        rows = [r for r in sweeps[label]["table"] if r["faults"]
                and r["faults"][0]["type"] == kind]
        assert rows, (label, kind)
        # every loss here is of acknowledged writes: the map's "lost" is the acked loss
        assert all(r["lost"] == r["lost_after_ack"] for r in rows)
        return sum(r["lost_after_ack"] > 0 for r in rows), len(rows)

    acks1, all1, all2 = DURABILITY
    crash, machine = DURABILITY_COLUMNS
    assert losing(acks1, crash) == (6, 6) and losing(acks1, machine) == (6, 6)
    assert losing(all1, crash) == (0, 6)
    lost, n = losing(all1, machine)
    assert 0 < lost < n  # only the failures after the ISR shrank to the leader
    # the losing placements come after the ISR shrank: m3 onwards (sends every 500 ms, the
    # followers leave the ISR after replica.lag.time.max.ms = 1 s)
    late = [r["faults"][0]["after_message"] for r in sweeps[all1]["table"]
            if r["faults"] and r["faults"][0]["type"] == machine and r["lost"]]
    assert late == [3, 4, 5]
    assert losing(all2, crash) == (0, 6) and losing(all2, machine) == (0, 6)
    fig = semantics_matrix(sweeps, kinds=DURABILITY_COLUMNS,
                           no_promise_note="promises nothing once the leader changes")
    heat = fig.data[0]
    assert [list(row) for row in heat.z] == [[2, 2], [0, 2], [0, 0]]  # loss, fine
    assert "broken by machine failure of the last ISR member" in heat.y[1].replace("<br>", " ")
    assert list(heat.x) == ["leader crash (process, ISR full)",
                            "machine failure of the last ISR member"]
    assert "kept" in heat.y[2] and "promises nothing once the leader changes" in heat.y[0]
    assert heat.text[1][1].startswith("✗ lost 3/6")
