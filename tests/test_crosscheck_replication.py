"""The replication rows of the crosscheck (issue 18): produce errors and leader moves on a
3-broker librdkafka mock cluster, and the data-loss scenarios the mock cannot show.

Offline tests (no confluent-kafka needed) check the mapping onto the simulation; the CI's real
runs of the three fast rows are in tests/test_crosscheck.py (its ``report`` fixture); the
deeper rows run with ``make crosscheck-deep`` and, here, one real run of the row that needed a
model fix."""

from __future__ import annotations

import pytest

import kafkalab.real as real
from kafkalab import crosscheck as cc
from kafkalab.model import simulate
from kafkalab.real import workloads as W
from kafkalab.scenarios import PRESETS

CI_ROWS = ("produce-not-enough-replicas-retried", "produce-not-enough-replicas-retries-exhausted",
           "leader-failover-keeps-acknowledged")
DATA_LOSS = ("acks-1-acknowledged-write-lost-on-failover", "replica-truncation-on-return",
             "unflushed-tail-machine-failure", "unclean-leader-election-loss")


def test_ci_and_deep_rows_are_registered_apart():
    assert set(CI_ROWS) <= set(real.list_workloads())
    deep = W.list_deep_workloads()
    assert len(deep) == 8 and not set(deep) & set(real.list_workloads())
    for name in (*CI_ROWS, *deep):
        w = real.normalize(name)
        assert w["broker_fault"]["type"] in W.REPLICATION_FAULTS
        assert W.not_comparable_parts(w) == []  # nothing written twice: idempotence comparable
    acks = {real.normalize(n)["producer"]["acks"] for n in deep}
    idempotence = {real.normalize(n)["producer"]["enable.idempotence"] for n in deep}
    assert acks == {"1", "all"} and idempotence == {True, False}


@pytest.mark.parametrize("name", [*CI_ROWS, *W.DEEP_WORKLOADS])
def test_each_simulation_meets_the_rows_expectation(name):
    sim = cc.simulate_workload(name)
    assert sim["config"]["brokers"] == 3 and sim["config"]["replication.factor"] == 3
    assert sim["result"].outcome["stopped"] is None and sim["result"].outcome["drained"]
    assert real.check_expectations(sim["outcome"], W.get_workload(name)["expect"]) == []


def test_produce_errors_map_onto_the_same_requests():
    _, faults = cc.simulation_for("produce-not-enough-replicas-retried")
    assert faults == [{"type": "error_response", "message": 0, "attempt": a,
                       "error": "NOT_ENOUGH_REPLICAS"} for a in (1, 2)]
    assert "produce_requests" in cc.compared_keys("produce-not-enough-replicas-retried")
    assert cc.simulate_workload("produce-not-enough-replicas-retried")["outcome"][
        "produce_requests"] == 3  # one batch, refused twice, then written
    # one record per request: the first three requests carry messages 0-2
    name = "produce-not-enough-replicas-retried-single-record-requests-reordered"
    _, faults = cc.simulation_for(name)
    assert [(f["message"], f["attempt"]) for f in faults] == [(0, 1), (1, 1), (2, 1)]
    sim = cc.simulate_workload(name)
    # retried after the later requests were written: not idempotent, so the order changes
    assert [e["offsets"] for e in sim["ledger"]] == [[7], [8], [9], *([i] for i in range(7))]
    assert sim["outcome"]["produce_requests"] == 13


def test_leader_failover_is_a_crash_between_two_acknowledged_messages():
    config, faults = cc.simulation_for("leader-failover-keeps-acknowledged")
    assert config["producer.send.interval.ms"] == cc.FAILOVER_INTERVAL_MS
    assert faults == [{"type": "broker_crash", "broker": 0, "at_ms": 225.0}]
    result = cc.simulate_workload("leader-failover-keeps-acknowledged")["result"]
    elected = [e for e in result.events if e.kind == "leader_elected"]
    assert [(e.data["leader"], e.data["epoch"]) for e in elected] == [(1, 1)]
    acks = [e for e in result.events if e.kind == "ack"]
    before = [m for e in acks if e.t < 225 for m in e.data["messages"]]
    after = [(m, e.data["broker"]) for e in acks if e.t > 225 for m in e.data["messages"]]
    assert before == [0, 1, 2, 3, 4] and after == [(m, 1) for m in range(5, 10)]
    _, up = cc.simulation_for("leader-failover-keeps-acknowledged-old-leader-up")
    assert up[0]["restart_after_ms"] == 2


def test_the_data_loss_scenarios_are_not_comparable_with_a_cause():
    rows = {r["name"]: r for r in cc.not_comparable()}
    for name in DATA_LOSS:
        assert rows[name]["cause"] == "mock-no-replica-data-loss"
        assert rows[name]["reason"].startswith("not comparable: the mock cluster")
        assert rows[name]["simulation"] in PRESETS
    assert rows["isr-shrink-refuses-acks-all"]["cause"] == "mock-no-isr"
    assert set(W.NOT_COMPARABLE_CAUSES) == set(W.NOT_COMPARABLE)  # every gap has a cause
    text = cc.format_table({"scenarios": [], "not_comparable": list(rows.values())})
    assert "[mock-no-replica-data-loss]" in text
    with pytest.raises(real.WorkloadError, match="not comparable: the mock cluster keeps one"):
        W.get_workload("acks-1-acknowledged-write-lost-on-failover")


def test_malformed_replication_faults_are_refused():
    w = W.get_workload("leader-failover-keeps-acknowledged")
    w["broker_fault"]["after"] = 10
    with pytest.raises(real.WorkloadError, match="after must be < messages"):
        real.normalize(w)
    w = W.get_workload("produce-not-enough-replicas-retried")
    w["broker_fault"]["error"] = "NOT_ENOUGH_REPLICAS_AFTER_APPEND"
    with pytest.raises(real.WorkloadError, match=r"broker_fault\.error"):
        real.normalize(w)
    w["broker_fault"] = {"type": "produce-errors", "count": 2, "delay_ms": 5}
    with pytest.raises(real.WorkloadError, match="unknown broker_fault keys"):
        real.normalize(w)


def _retries_run(client: str) -> dict:
    config = {"client.model": client, "messages": 3, "retries": 1, "brokers": 3,
              "replication.factor": 3}
    faults = [{"type": "error_response", "message": 0, "attempt": a,
               "error": "NOT_LEADER_OR_FOLLOWER"} for a in (1, 2, 3)]
    return simulate(config, faults, 0, snapshots=False).outcome


def test_librdkafka_does_not_count_not_leader_retries():
    # librdkafka rd_kafka_handle_Produce_error (rdkafka_request.c): NOT_LEADER_FOR_PARTITION is
    # ERR_ACTION_REFRESH, so incr_retry = 0: three refusals with retries=1 still deliver.
    # Java Sender.canRetry counts every attempt: the batch fails after its one retry.
    assert _retries_run("librdkafka")["acked"] == 3
    assert _retries_run("java")["acked"] == 0


@pytest.mark.skipif(not real.available(), reason="confluent-kafka is not installed")
def test_the_uncounted_not_leader_retries_agree_for_real():
    row = cc.compare_workload("produce-not-leader-retried-uncounted")
    assert row["agree"], cc.format_difference(row)
    assert row["real"]["acked"] == 10 and row["real"]["produce_requests"] == 4


def test_random_replication_workloads_are_seeded_valid_and_cover_the_space():
    import random

    assert cc.random_replication_workload(random.Random(4)) == \
        cc.random_replication_workload(random.Random(4))
    rng = random.Random(1)
    ws = [cc.random_replication_workload(rng) for _ in range(200)]
    kinds = {(w["broker_fault"]["type"], w["broker_fault"].get("error"),
              w["broker_fault"].get("old_leader")) for w in ws}
    assert kinds == {("produce-errors", "NOT_ENOUGH_REPLICAS", None),
                     ("produce-errors", "NOT_LEADER_OR_FOLLOWER", None),
                     ("leader-failover", None, "down"), ("leader-failover", None, "up")}
    for w in ws:
        p, fault = w["producer"], w["broker_fault"]
        cc.simulation_for(w)  # mappable by construction
        assert W.not_comparable_parts(real.normalize(w)) == []
        if fault.get("error") == "NOT_ENOUGH_REPLICAS":
            assert p["acks"] == "all"  # a real broker answers it only to acks=all
        if p["enable.idempotence"]:
            assert "batch.num.messages" not in p and "retries" not in p
    assert {w["producer"]["acks"] for w in ws} == {"1", "all"}
    assert any(w["producer"].get("batch.num.messages") == 1 for w in ws)


def test_the_cli_forwards_deep_and_replication(monkeypatch):
    import kafkalab.crosscheck
    from kafkalab.cli import main

    seen = []
    monkeypatch.setattr(kafkalab.crosscheck, "main", lambda argv: seen.append(argv) or 0)
    assert main(["crosscheck", "--random", "3", "--replication"]) == 0
    assert main(["crosscheck", "--deep", "--out", "x.json"]) == 0
    assert seen == [["--random", "3", "--replication", "--seed", "0"],
                    ["--out", "x.json", "--deep", "--seed", "0"]]


def test_produce_errors_workloads_send_all_their_messages_in_one_request():
    """The refusals are counted per Produce request and the simulation sends one batch: a
    produce-errors workload lingers long enough that a busy machine cannot split its produce()
    calls into two requests (with 5 ms one did: retries=1 then acknowledged all ten)."""
    rows = {**W.WORKLOADS, **W.DEEP_WORKLOADS}
    checked = 0
    for name, w in rows.items():
        fault = w.get("broker_fault")
        if not fault or fault["type"] != "produce-errors":
            continue
        checked += 1
        if str(w["producer"].get("batch.num.messages")) == "1":
            continue  # one record per request on purpose
        assert w["producer"]["linger.ms"] >= W.ONE_REQUEST_LINGER_MS, name
        config, _ = cc.simulation_for(name)
        assert config["linger.ms"] == w["producer"]["linger.ms"], name
    assert checked >= 3
