"""One fault vocabulary, and events that carry data (issue 15, items 2 and 3)."""

import pytest

from kafkalab.model import FaultError, simulate
from kafkalab.model import faults as F
from kafkalab.sweep import sweep


def test_every_fault_type_has_one_entry_in_the_table():
    assert set(F.FAULT_KINDS) == set(F._SPEC)
    assert F.fault_kind("lost_ack").type == "lose_response"
    assert F.fault_kind("lose_response").label == "lost ack"
    assert F.fault_kind("crash").type == "consumer_crash"
    assert set(F.CRASH_POINT_LABELS) == set(F.CRASH_POINTS)
    with pytest.raises(FaultError, match="unknown fault kind 'lost_acks'"):
        F.fault_kind("lost_acks")


def test_the_sweep_takes_the_models_words_and_keeps_its_own_as_aliases():
    model = sweep("at-least-once-manual-commit", faults=("consumer_crash", "lose_response"),
                  overrides={"messages": 3}, processes=1)
    short = sweep("at-least-once-manual-commit", faults=("crash", "lost_ack"),
                  overrides={"messages": 3}, processes=1)
    assert model.to_json_dict() == short.to_json_dict()


def test_a_crash_event_names_its_point_cause_and_message():
    r = simulate({"messages": 3}, [{"type": "consumer_crash", "point": "after_processing",
                                    "message": 1}], snapshots=False)
    crash = next(e for e in r.events if e.kind == "crash")
    assert (crash.data["cause"], crash.data["point"], crash.data["message"]) == \
        ("fault", "after_processing", 1)
    r = simulate({"messages": 3, "on.processing.error": "crash"},
                 [{"type": "processing_failure", "message": 2}], snapshots=False)
    crash = next(e for e in r.events if e.kind == "crash")
    assert (crash.data["cause"], crash.data["point"], crash.data["message"]) == \
        ("processing_error", None, 2)


def test_the_consumer_counts_its_crash_points_without_a_crash_aimed_at_it():
    """The counts a consumer_crash ``index`` refers to (docs/trace-format.md)."""
    r = simulate({"messages": 4, "max.poll.records": 2}, [], snapshots=False)
    counts = r.live_counters["crash_points"]["consumer-0"]
    assert counts["before_processing"] == counts["after_processing"] == 4
    assert counts["after_poll"] == len([e for e in r.events if e.kind == "poll"
                                        and e.data["records"]])


def test_a_join_names_the_partitions_placed_by_auto_offset_reset():
    r = simulate({"messages": 2}, [], snapshots=False)
    join = next(e for e in r.events if e.kind == "join")
    assert join.data["reset"] == {"0": "latest"}  # Kafka's default (kafka-semantics.md)
