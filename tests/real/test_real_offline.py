"""kafkalab.real without any Kafka client running: the missing extra, workloads, guards, ledger.

These tests need no confluent-kafka (the scenario runs are in test_real_scenarios.py)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

import kafkalab.real as real
from kafkalab.real import workloads
from kafkalab.real.ledger import build_ledger
from kafkalab.real.runner import NonLoopbackAddress, check_loopback, is_loopback_host

MESSAGE = "kafkalab.real needs the 'real' extra: pip install 'kafkalab[real]'"


def test_missing_extra_message_is_clear(monkeypatch):
    # A None entry in sys.modules makes `import confluent_kafka` raise ImportError.
    monkeypatch.setitem(sys.modules, "confluent_kafka", None)
    assert real.MISSING_EXTRA_MESSAGE == MESSAGE
    assert real.available() is False
    with pytest.raises(real.RealExtraMissing) as info:
        real.run_real("auto-commit-librdkafka-loses")
    assert str(info.value).startswith(MESSAGE)
    assert isinstance(info.value, ImportError)
    with pytest.raises(real.RealExtraMissing, match=r"pip install 'kafkalab\[real\]'"):
        real.require_confluent_kafka()


def test_missing_extra_in_a_fresh_interpreter():
    """The package and its pure modules import without confluent_kafka, and say what to do."""
    code = textwrap.dedent(
        """
        import sys
        sys.modules["confluent_kafka"] = None
        import kafkalab.real as real
        from kafkalab.real import consumer_app, ledger, runner, workloads
        assert not real.available()
        assert real.NonLoopbackAddress is runner.NonLoopbackAddress
        assert "auto-commit-librdkafka-loses" in real.list_workloads()
        try:
            real.run_real("commit-before-processing-loses")
        except real.RealExtraMissing as exc:
            print(exc)
        else:
            raise SystemExit("no error")
        try:
            from kafkalab.real import mock_cluster
            mock_cluster.MockCluster()
        except real.RealExtraMissing as exc:
            print(exc)
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60, check=True).stdout.splitlines()
    assert len(out) == 2
    assert all(line.startswith(MESSAGE) for line in out)


def test_registry_is_valid_and_complete():
    expected = {
        "auto-commit-librdkafka-loses",
        "auto-commit-long-interval-redelivers",
        "commit-before-processing-loses",
        "commit-after-processing-redelivers",
        "non-idempotent-producer-duplicates",
    }
    assert expected <= set(real.WORKLOADS)
    for name in real.WORKLOADS:
        w = workloads.normalize(name)
        assert w["name"] == name
        assert w["expect"], name
        assert set(w["expect"]) <= set(real.OUTCOME_KEYS)
        assert w == workloads.normalize(w)  # normalising is idempotent


def test_get_workload_returns_a_copy():
    w = real.get_workload("auto-commit-librdkafka-loses")
    w["consumer"]["batch"] = 99
    assert real.WORKLOADS["auto-commit-librdkafka-loses"]["consumer"]["batch"] == 10


def test_not_comparable_scenarios_have_reasons():
    for key in ("idempotent-producer-dedup", "read-committed-lso", "zombie-fencing",
                "transactional-offset-commit"):
        text = real.not_comparable_reason(key)
        assert text.startswith("not comparable: the mock cluster does not ")
    assert real.not_comparable_reason("auto-commit-librdkafka-loses") is None
    with pytest.raises(real.WorkloadError, match="not comparable: the mock cluster"):
        real.get_workload("zombie-fencing")


def test_idempotent_retry_on_the_mock_is_flagged_not_comparable():
    w = real.get_workload("non-idempotent-producer-duplicates")
    assert real.not_comparable_parts(workloads.normalize(w)) == []
    w["producer"]["enable.idempotence"] = True
    assert real.not_comparable_parts(workloads.normalize(w)) == ["idempotent-producer-dedup"]
    w["producer"]["transactional.id"] = "tx"
    with pytest.raises(real.WorkloadError, match="not comparable: the mock cluster does not"):
        workloads.normalize(w)


@pytest.mark.parametrize(
    "change, match",
    [
        ({"messages": 0}, "messages"),
        ({"color": "red"}, "unknown workload keys"),
        ({"producer": {"bootstrap.servers": "10.0.0.1:9092"}}, "may not set"),
        ({"consumer": {"commit": "auto", "config": {"test.mock.num.brokers": 1}}}, "may not"),
        ({"consumer": {"commit": "sometimes"}}, "consumer.commit"),
        ({"crash": {"point": "after-process", "record": 10}}, "crash.record"),
        ({"crash": {"point": "mid-air", "record": 1}}, "crash.point"),
        ({"failure": {"record": 1, "then": "ignore"}}, "failure.then"),
        ({"broker_fault": {"type": "delay-produce-response", "delay_ms": 900,
                           "socket_timeout_ms": 500}}, "at least 1000 ms"),
        ({"produce_after_start": 10}, "produce_after_start"),
        ({"slow": {"record": 10, "ms": 100}}, "slow.record"),
        ({"slow": {"record": 1, "ms": 0}}, "slow.ms"),
        ({"slow": {"record": 1, "ms": 10, "when": "now"}}, "slow is"),
        ({"consumer": {"subscribe": "yes"}}, "consumer.subscribe"),
        ({"consumer": {"processing_ms": -1}}, "processing_ms"),
        ({"consumer": {"config": {"enable.auto.offset.store": False}}}, "consumer.commit"),
        ({"consumer": {"config": {"enable.auto.commit": False}}}, "consumer.commit"),
        ({"produce_after_start": 2, "crash": None,
          "broker_fault": {"type": "delay-produce-response"}}, "produce_after_start"),
    ],
)
def test_bad_workloads_are_refused(change, match):
    w = real.get_workload("auto-commit-librdkafka-loses")
    w.update(change)
    with pytest.raises(real.WorkloadError, match=match):
        workloads.normalize(w)


@pytest.mark.parametrize(
    "servers", ["127.0.0.1:9092", "localhost:9092", "[::1]:9092", "PLAINTEXT://127.0.0.9:1",
                "127.0.0.1:1,localhost:2"]
)
def test_loopback_bootstrap_accepted(servers):
    assert check_loopback(servers)


@pytest.mark.parametrize(
    "servers", ["10.0.0.1:9092", "kafka:9092", "192.168.1.5:9092", "127.0.0.1:1,8.8.8.8:2",
                "[2001:db8::1]:9092", "localhost.example.com:9092", ""]
)
def test_non_loopback_bootstrap_refused(servers):
    with pytest.raises(NonLoopbackAddress):
        check_loopback(servers)


def test_is_loopback_host():
    assert is_loopback_host("LOCALHOST.")
    assert is_loopback_host("127.255.0.1")
    assert not is_loopback_host("0.0.0.0")


def test_ledger_counts():
    acks = {i: {"acked": True, "offset": i, "error": None} for i in range(4)}
    acks[3] = {"acked": False, "offset": None, "error": "timed out"}
    log = [(0, 0), (1, 1), (2, 2), (3, 0), (4, 1)]  # id 3 never written; 0 and 1 twice
    deliveries = [0, 1, 2, 0, 1, 2]
    processed = [0, 1, 0, 1, 0]
    ledger, outcome = build_ledger(4, acks, log, deliveries, processed, resumed_from=1)
    assert outcome == {
        "sent": 4, "acked": 3, "written": 3, "delivered": 6, "processed": 5, "lost": 2,
        "duplicates": 2, "log_duplicates": 2, "written_more_than_once": 2, "extra_copies": 2,
        "resumed_from": 1,
    }
    assert ledger[0] == {"id": 0, "send_attempts": 2, "acked": True, "ack_offset": 0,
                         "ack_error": None, "offsets": [0, 3], "delivered": 2, "processed": 3}
    assert ledger[3]["send_attempts"] == 1 and ledger[3]["offsets"] == []
    assert list(outcome) == list(real.OUTCOME_KEYS)


def test_check_expectations():
    outcome = {"sent": 10, "acked": 10, "lost": 0, "duplicates": 3, "resumed_from": None}
    assert real.check_expectations(
        outcome, {"lost": "==0", "duplicates": ">0", "acked": "==sent", "resumed_from": None}
    ) == []
    problems = real.check_expectations(outcome, {"lost": ">0", "resumed_from": 0})
    assert len(problems) == 2


def test_ledger_names_copies_two_ways():
    # one message with three copies: one message with more than one copy, two extra copies
    # (the simulation's outcome uses the same two names)
    acks = {0: {"acked": True, "offset": 2, "error": None}}
    _, outcome = build_ledger(1, acks, [(0, 0), (1, 0), (2, 0)], [0, 0, 0], [0, 0, 0], None)
    assert outcome["log_duplicates"] == outcome["written_more_than_once"] == 1
    assert outcome["extra_copies"] == 2


def test_new_workload_fields():
    w = workloads.normalize({"name": "x", "produce_after_start": 3,
                             "consumer": {"commit": "store-after-processing",
                                          "auto_commit_interval_ms": 0, "processing_ms": 5}})
    assert w["produce_after_start"] == 3 and w["consumer"]["auto_commit_interval_ms"] == 0
    assert "store-after-processing" in workloads.COMMIT_MODES
    assert len(real.WORKLOADS) >= 18


def test_explain_message_tells_the_real_story():
    from kafkalab.real.ledger import explain_message

    entry = {"id": 2, "acked": True, "ack_offset": 2, "ack_error": None, "offsets": [2],
             "delivered": 2, "processed": 2}
    events = [
        {"ev": "positioned", "session": 1, "offset": 0, "how": "auto.offset.reset=earliest"},
        {"ev": "delivered", "session": 1, "id": 2, "offset": 2, "record": 2},
        {"ev": "processed", "session": 1, "id": 2, "offset": 2, "record": 2},
        {"ev": "commit", "session": 1, "offset": 2},
        {"ev": "crash", "session": 1, "point": "after-process", "record": 2, "offset": 2},
        {"ev": "positioned", "session": 2, "offset": 2, "how": "committed offset"},
        {"ev": "delivered", "session": 2, "id": 2, "offset": 2, "record": 0},
        {"ev": "processed", "session": 2, "id": 2, "offset": 2, "record": 0},
        {"ev": "closed", "session": 2},
    ]
    text = explain_message(entry, events)
    assert text.startswith("Message 2: DUPLICATE (processed 2 times).")
    assert "Consumer session 1 started at offset 0 (auto.offset.reset=earliest)" in text
    assert "crashed (os._exit) at after-process of record 2" in text
    assert "Consumer session 2 started at offset 2 (committed offset)" in text
