"""The supported workloads run for real (confluent-kafka against librdkafka's mock cluster).

Each run takes 1-3 s: a producer, one or two consumer processes (a crash is a real os._exit),
and a read-back of the whole partition."""

from __future__ import annotations

import pytest

ck = pytest.importorskip("confluent_kafka")

import kafkalab.real as real  # noqa: E402
from kafkalab.real.mock_cluster import MockCluster, mock_api_problem  # noqa: E402

N = 10


@pytest.fixture(scope="module")
def results():
    """Each registered workload is run once per test session, on demand."""
    cache: dict[str, dict] = {}

    def get(name: str) -> dict:
        if name not in cache:
            cache[name] = real.run_real(name)
        return cache[name]

    return get


def _consistent(result: dict) -> None:
    outcome, ledger = result["outcome"], result["ledger"]
    assert list(outcome) == list(real.OUTCOME_KEYS)
    assert all(isinstance(outcome[k], int) for k in real.OUTCOME_KEYS if k != "resumed_from")
    assert [e["id"] for e in ledger] == list(range(outcome["sent"]))
    assert outcome["processed"] == sum(e["processed"] for e in ledger)
    assert outcome["delivered"] == sum(e["delivered"] for e in ledger)
    assert result["expectations"] == [], result["notes"]


def test_auto_commit_librdkafka_loses(results):
    r = results("auto-commit-librdkafka-loses")
    _consistent(r)
    o = r["outcome"]
    # batch of 10 handed out, 3 processed, background commit of offset 10, crash
    assert (o["sent"], o["acked"], o["written"]) == (N, N, N)
    assert o["processed"] == 3
    assert o["lost"] == 7 and o["duplicates"] == 0 and o["log_duplicates"] == 0
    assert o["resumed_from"] == 10


def test_auto_commit_long_interval_redelivers(results):
    r = results("auto-commit-long-interval-redelivers")
    _consistent(r)
    o = r["outcome"]
    assert o["resumed_from"] == 0
    assert o["lost"] == 0 and o["duplicates"] == 3 and o["log_duplicates"] == 0
    assert o["delivered"] == 2 * N


def test_commit_before_processing_loses(results):
    r = results("commit-before-processing-loses")
    _consistent(r)
    o = r["outcome"]
    assert o["resumed_from"] == 10
    assert o["lost"] == 7 and o["duplicates"] == 0


def test_commit_after_processing_redelivers(results):
    r = results("commit-after-processing-redelivers")
    _consistent(r)
    o = r["outcome"]
    # record 2 was processed, its commit never happened: committed offset 2
    assert o["resumed_from"] == 2
    assert o["lost"] == 0 and o["duplicates"] == 1
    assert [e["id"] for e in r["ledger"] if e["processed"] > 1] == [2]


@pytest.mark.skipif(mock_api_problem() is not None, reason=str(mock_api_problem()))
def test_non_idempotent_producer_duplicates(results):
    r = results("non-idempotent-producer-duplicates")
    _consistent(r)
    o = r["outcome"]
    assert o["acked"] == N and o["written"] == N
    assert o["log_duplicates"] > 0
    assert o["resumed_from"] is None
    copied = [e for e in r["ledger"] if len(e["offsets"]) > 1]
    assert copied and all(e["send_attempts"] >= 2 for e in copied)
    assert any("Produce requests" in note for note in r["notes"])
    assert r["not_comparable"] == []


def test_auto_commit_close_on_error_loses(results):
    r = results("auto-commit-close-on-error-loses")
    _consistent(r)
    o = r["outcome"]
    assert o["resumed_from"] == 10
    assert o["lost"] == 7 and o["duplicates"] == 0
    assert r["ledger"][3]["delivered"] == 1 and r["ledger"][3]["processed"] == 0


@pytest.mark.parametrize(
    "change, expected",
    [
        # per-batch commit, crash before processing record 5: nothing committed, redelivered
        (
            {"consumer": {"commit": "after-batch"},
             "crash": {"point": "before-process", "record": 5, "wait_ms": 0}},
            {"lost": 0, "duplicates": 5, "resumed_from": 0, "processed": 15},
        ),
        # a processing error is caught and skipped: that one record is lost, no restart needed
        (
            {"consumer": {"commit": "after-each"}, "failure": {"record": 4, "then": "skip"}},
            {"lost": 1, "duplicates": 0, "resumed_from": None, "processed": 9},
        ),
    ],
)
def test_custom_workloads(change, expected):
    w = real.get_workload("commit-after-processing-redelivers")
    w.update(name="custom", crash=None, expect={})
    w.update(change)
    r = real.run_real(w)
    _consistent(r)
    assert {k: r["outcome"][k] for k in expected} == expected


def test_refuses_non_loopback_bootstrap_before_connecting():
    with pytest.raises(real.NonLoopbackAddress):
        real.run_real("commit-before-processing-loses", bootstrap_servers="10.11.12.13:9092")


def test_broker_fault_needs_the_mock_cluster():
    # The guard fires before any client is created, so nothing listens on this port.
    with pytest.raises(real.NeedsMockApi, match="mock cluster"):
        real.run_real("non-idempotent-producer-duplicates", bootstrap_servers="127.0.0.1:1")


@pytest.mark.skipif(mock_api_problem() is not None, reason=str(mock_api_problem()))
def test_mock_cluster_ctypes_wrapper():
    with MockCluster() as mock:
        host = mock.bootstrap_servers.rsplit(":", 1)[0]
        assert host == "127.0.0.1"
        mock.create_topic("t", partitions=1)
        mock.start_request_tracking()
        assert mock.count_requests(0) == 0
        mock.stop_request_tracking()
    with pytest.raises(RuntimeError, match="closed"):
        mock.create_topic("u")
