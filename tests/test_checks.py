"""kafkalab.checks: wrong answers fail with a counterexample, right ones pass, stubs and hostile
input get a friendly message, never an exception."""

from __future__ import annotations

import pytest

from kafkalab.checks import (
    CheckResult,
    _runner,
    check_consumer_loop,
    check_exactly_once,
    check_fast_and_safe,
    check_idempotent_producer,
    check_idempotent_sink,
    check_no_duplicates,
    check_no_loss,
    check_producer_restart,
)

AT_LEAST_ONCE = {"enable.auto.commit": False, "commit.strategy": "per-batch"}
COMMIT_FIRST = {"enable.auto.commit": False, "commit.strategy": "before-processing"}
EOS = {"transactional.id": "t-1", "commit.strategy": "transaction", "enable.auto.commit": False,
       "isolation.level": "read_committed"}


def _failed(result: CheckResult, *words: str) -> None:
    assert isinstance(result, CheckResult)
    assert result.status == "fail" and not result
    text = repr(result)
    assert text.startswith("✗"), text
    for word in words:
        assert word in text, f"{word!r} not in {text!r}"
    html = result._repr_html_()
    assert "✗" in html and "<script" not in html


def _passed(result: CheckResult) -> None:
    assert result.status == "pass", repr(result)
    assert repr(result).startswith("✓") and result.runs > 10
    assert "✓" in result._repr_html_()


# -- configuration checks ------------------------------------------------------------------
def test_commit_before_processing_loses_a_named_message():
    result = check_no_loss(COMMIT_FIRST)
    _failed(result, "message", "was lost when consumer-0 crashed", "LOST")
    ce = result.counterexample
    assert ce["faults"] and ce["faults"][0]["type"] == "consumer_crash"
    assert f"message {ce['message']}" in result.summary
    assert ce["message"] in result.run.ledger.lost()
    replay = result.replay()  # deterministic: the same loss again
    assert replay.outcome["lost"] == result.run.outcome["lost"] > 0


def test_at_least_once_passes_no_loss_but_not_no_duplicates():
    _passed(check_no_loss(AT_LEAST_ONCE))
    _failed(check_no_duplicates(AT_LEAST_ONCE), "was processed 2 times", "DUPLICATE")


def test_at_most_once_passes_no_duplicates():
    _passed(check_no_duplicates(COMMIT_FIRST))


def test_idempotent_sink_setting_gives_both():
    config = {**AT_LEAST_ONCE, "sink.idempotent": True}
    _passed(check_no_loss(config))
    _passed(check_no_duplicates(config))


def test_auto_commit_depends_on_the_client():
    config = {"enable.auto.commit": True, "auto.commit.interval.ms": 5}
    _passed(check_no_loss(config, client="java"))
    _failed(check_no_loss(config, client="librdkafka"), "was lost",
            "background auto-commit")


def test_exactly_once_pipeline():
    _passed(check_exactly_once(EOS))
    _failed(check_exactly_once({**EOS, "isolation.level": "read_uncommitted"}),
            "processed 2 times", "aborted transaction")
    _failed(check_exactly_once(AT_LEAST_ONCE), "processed 2 times")


def test_idempotent_producer():
    _passed(check_idempotent_producer({}))  # the Java default since Kafka 3.0
    _passed(check_idempotent_producer({"enable.idempotence": True}, client="librdkafka"))
    _failed(check_idempotent_producer({}, client="librdkafka"), "is in the log 2 times",
            "response", "is lost")
    # a defaulted idempotence is switched off silently by an incompatible setting
    result = check_idempotent_producer({"max.in.flight.requests.per.connection": 10})
    _failed(result, "in the log 2 times", "switched it off silently")
    # ... but not when the learner switched it off: that note would misstate what happened
    off = check_idempotent_producer({"enable.idempotence": False})
    _failed(off, "in the log 2 times")
    assert not any("silently" in n for n in off.notes), off.notes
    _failed(check_idempotent_producer({"acks": "0"}), "was lost", "never reaches the broker")


def test_fast_and_safe():
    _failed(check_fast_and_safe({**AT_LEAST_ONCE, "commit.strategy": "per-record"}),
            "below the target", "commits for 500 messages")
    _failed(check_fast_and_safe(COMMIT_FIRST), "fast enough", "was lost")
    result = check_fast_and_safe({**AT_LEAST_ONCE, "processing.ms": 0})
    _passed(result)
    assert any("processing.ms" in n for n in result.notes)  # the check owns the workload


# -- stubs and hostile input -----------------------------------------------------------------
@pytest.mark.parametrize("check", [check_no_loss, check_no_duplicates, check_exactly_once,
                                   check_idempotent_producer, check_fast_and_safe])
@pytest.mark.parametrize("stub", [..., None])
def test_a_stub_is_not_done_yet(check, stub):
    result = check(stub)
    assert result.status == "not done" and not result.done
    assert repr(result).startswith("… not done yet")


@pytest.mark.parametrize("config, words", [
    ({"enable.autocommit": False}, ["Unknown configuration", "did you mean 'enable.auto.commit'"]),
    ({"max.poll.records": "lots"}, ["max.poll.records", "integer"]),
    ({"max.poll.records": -3}, ["max.poll.records", "at least 1"]),
    ({"acks": "1", "enable.idempotence": True}, ["acks"]),
    ({"enable.auto.commit": False, "commit.strategy": "auto"}, ["nothing would ever commit"]),
    ({"max.poll.records": [1, 2]}, ["max.poll.records"]),
    ({1: 2}, ["property names are strings"]),
    ("enable.auto.commit=false", ["should be a dict"]),
    ([("acks", "all")], ["should be a dict"]),
])
def test_hostile_config_gets_a_friendly_message(config, words):
    for check in (check_no_loss, check_idempotent_producer):
        _failed(check(config), *words)


def test_the_check_controls_the_workload():
    result = check_no_loss({**AT_LEAST_ONCE, "messages": 0})
    _passed(result)
    assert any("messages=12" in n for n in result.notes)


def test_without_the_sweep_module_the_checks_enumerate_crash_points(monkeypatch):
    monkeypatch.setattr(_runner, "swept", lambda config, kinds: None)
    _failed(check_no_loss(COMMIT_FIRST), "was lost")
    _passed(check_no_loss(AT_LEAST_ONCE))
    _failed(check_idempotent_producer({"enable.idempotence": False}), "in the log 2 times")


# -- the code task: an idempotent sink ---------------------------------------------------------
def naive(db, message_id, value):
    db["balance"] += value


def idempotent(db, message_id, value):
    applied = db.setdefault("applied", set())
    if message_id not in applied:
        applied.add(message_id)
        db["balance"] += value


def test_sink_check_catches_a_non_idempotent_sink():
    result = check_idempotent_sink(naive)
    _failed(result, "was delivered again", "crashed", "it should have stayed", "DUPLICATE")
    assert result.counterexample["message"] in result.run.ledger.duplicates()


def test_sink_check_passes_an_idempotent_sink():
    result = check_idempotent_sink(idempotent)
    _passed(result)
    assert "re-deliveries" in result.summary and " 0 of them" not in result.summary


def test_sink_check_catches_state_kept_outside_db():
    seen = set()

    def global_state(db, message_id, value):
        if message_id not in seen:
            seen.add(message_id)
            db["balance"] += value

    _failed(check_idempotent_sink(global_state), "first delivery", "outside `db`")


def test_sink_check_catches_a_sink_that_drops_first_deliveries():
    def lossy(db, message_id, value):
        if message_id % 3:
            db["balance"] += value

    _failed(check_idempotent_sink(lossy), "first delivery of message 0")


def test_sink_check_stubs_and_hostile_functions():
    def stub(db, message_id, value):
        raise NotImplementedError

    assert check_idempotent_sink(stub).status == "not done"
    assert check_idempotent_sink(...).status == "not done"
    assert check_idempotent_sink(None).status == "not done"
    _failed(check_idempotent_sink(lambda db, m, v: db["total"]), "raised KeyError")
    _failed(check_idempotent_sink(lambda db: None), "raised TypeError")
    _failed(check_idempotent_sink(42), "should be a function")

    def replaces_db(db, message_id, value):
        db.clear()

    _failed(check_idempotent_sink(replaces_db), "first delivery")


# -- the code task: the commit decision in a poll loop -----------------------------------------
def process_then_commit(records, process, commit):
    for record in records:
        process(record)
    commit(records[-1].offset + 1)


def test_loop_check_passes_process_then_commit():
    result = check_consumer_loop(process_then_commit)
    _passed(result)
    assert "crashes" in result.summary


def test_loop_check_passes_a_commit_per_record():
    def per_record(records, process, commit):
        for record in records:
            process(record)
            commit(record.offset + 1)

    _passed(check_consumer_loop(per_record))


def test_loop_check_catches_commit_before_processing():
    def commit_first(records, process, commit):
        commit(records[-1].offset + 1)
        for record in records:
            process(record)

    _failed(check_consumer_loop(commit_first), "commit(5) covers message 0",
            "not processed yet")


def test_loop_check_catches_the_off_by_one_commit():
    def last_offset(records, process, commit):
        for record in records:
            process(record)
        commit(records[-1].offset)

    _failed(check_consumer_loop(last_offset), "committed offset is 11, not 12", "+ 1")


def test_loop_check_catches_commit_in_finally_and_swallowed_crashes():
    def commit_in_finally(records, process, commit):  # like close() committing on the way out
        try:
            for record in records:
                process(record)
        finally:
            commit(records[-1].offset + 1)

    _failed(check_consumer_loop(commit_in_finally), "not processed yet", "crashed")

    def swallows(records, process, commit):  # `except Exception` cannot stop a crash
        for record in records:
            try:
                process(record)
            except Exception as exc:
                print("ignored", exc)
        commit(records[-1].offset + 1)

    _passed(check_consumer_loop(swallows))


def test_loop_check_stubs_and_hostile_functions():
    def stub(records, process, commit):
        raise NotImplementedError

    assert check_consumer_loop(stub).status == "not done"
    assert check_consumer_loop(...).status == "not done"
    _failed(check_consumer_loop(lambda records: None), "raised TypeError")
    _failed(check_consumer_loop(lambda r, p, c: c("5")), "whole number")
    _failed(check_consumer_loop(lambda r, p, c: p("x")), "not with one of the records")
    _failed(check_consumer_loop(lambda r, p, c: None), "message 0 was never processed")
    _failed(check_consumer_loop("handle"), "should be a function")


# -- producer restarts -------------------------------------------------------------------------
def test_producer_restart_needs_a_transactional_id_and_read_committed():
    _failed(check_producer_restart({}), "processed 2 times", "restarts", "new producer id")
    _failed(check_producer_restart({"transactional.id": "app"}), "processed 2 times")  # Java
    # consumer default: read_uncommitted sees the aborted copies
    _passed(check_producer_restart({"transactional.id": "app",
                                    "isolation.level": "read_committed"}))
    _passed(check_producer_restart({"transactional.id": "app"}, client="librdkafka"))
    assert check_producer_restart(...).status == "not done"
    _failed(check_producer_restart({"transactional.id": ""}), "must not be empty")


# -- issue 14.1: timing, constraints, causes ----------------------------------------------------
# kafka-semantics.md §A: librdkafka stores each offset as poll() hands the message out and a
# background timer commits the stored offsets every auto.commit.interval.ms (5000 by default),
# processed or not; the Java consumer commits inside poll(), positions of earlier polls only.
@pytest.mark.parametrize("config", [{}, {"enable.auto.commit": True},
                                    {"auto.commit.interval.ms": 60_000},
                                    {"auto.commit.interval.ms": 1_000_000_000}])
def test_librdkafka_auto_commit_loses_whatever_the_interval(config):
    result = check_no_loss(config, client="librdkafka")
    _failed(result, "was lost", "background auto-commit", "ran ahead of processing")
    # the counterexample's workload makes the timer fire while a batch is processed
    assert result.counterexample["config"]["processing.ms"] > 1


def test_the_timing_sweep_spans_the_interval():
    from kafkalab.checks import timings
    from kafkalab.model.config import resolve

    variants = timings(resolve({"max.poll.records": 5}), 12)  # auto-commit on, every 5 s
    pers = [v["processing.ms"] for v in variants if v]
    assert min(pers) * 5 >= 5000  # a batch of 5 takes at least one interval
    assert max(pers) > 5000  # and one record can span a whole interval
    assert all(v["max.simulated.ms"] > 12 * v["processing.ms"] for v in variants if v)
    assert all(v["max.poll.interval.ms"] > 5 * v["processing.ms"] for v in variants if v)
    assert timings(resolve({"enable.auto.commit": False, "commit.strategy": "per-batch"}),
                   12) == [{}]


def test_auto_commit_that_is_at_least_once_passes_the_timing_sweep():
    _passed(check_no_loss({"enable.auto.offset.store": False}, client="librdkafka"))
    _passed(check_no_loss({"auto.commit.interval.ms": 1_000_000_000}, client="java"))
    result = check_no_loss({}, client="java")
    _passed(result)
    assert "auto-commit timer fires mid-batch" in result.summary


@pytest.mark.parametrize("check, config, words", [
    (lambda c: check_no_loss(c, require={"enable.auto.commit": False}),
     {"commit.strategy": "per-record"}, ["the task asks for enable.auto.commit=false",
                                         "the default"]),
    (lambda c: check_no_loss(c, require={"partitions": 2, "consumers": 2}), AT_LEAST_ONCE,
     ["the task asks for partitions=2", "consumers=2"]),
    (lambda c: check_fast_and_safe(c, min_throughput=2500, require={"max.poll.records": 20}),
     {**AT_LEAST_ONCE, "commit.strategy": "async-per-batch", "max.poll.records": 500},
     ["the task asks for max.poll.records=20"]),
])
def test_a_check_enforces_its_tasks_constraints(check, config, words):
    _failed(check(config), *words)


def test_in_flight_as_many_as_idempotence_allows():
    from kafkalab.checks import AS_MANY_AS_IDEMPOTENCE_ALLOWS

    rule = {"max.in.flight.requests.per.connection": AS_MANY_AS_IDEMPOTENCE_ALLOWS}
    result = check_idempotent_producer({"max.in.flight.requests.per.connection": 1},
                                       client="java", require=rule)
    _failed(result, "as many as idempotence allows", "fewer than that")
    assert "5" not in result.summary  # the constraint is named, the answer is not given
    _passed(check_idempotent_producer({"max.in.flight.requests.per.connection": 5},
                                      client="java", require=rule))


def test_a_transaction_never_committed_is_named_as_the_cause():
    # §C: read_committed reads only below the LSO, which stays at an open transaction's start
    result = check_exactly_once({"transactional.id": "t", "commit.strategy": "per-batch",
                                 "enable.auto.commit": False,
                                 "isolation.level": "read_committed"})
    _failed(result, "never committed", "last stable offset never moved", "read_committed")
    assert "had not finished" not in result.summary


def test_minimal_refuses_settings_the_defaults_already_give():
    _failed(check_producer_restart({"transactional.id": "app",
                                    "isolation.level": "read_committed"},
                                   client="librdkafka", minimal=True),
            "only what the librdkafka defaults do not already give", "isolation.level")
    _passed(check_producer_restart({"transactional.id": "app"}, client="librdkafka",
                                   minimal=True))


def test_a_wrong_signature_is_reported_at_the_learners_line():
    def handle_batch(records, process):  # this line's number is what the learner needs
        pass

    line = handle_batch.__code__.co_firstlineno
    _failed(check_consumer_loop(handle_batch), "TypeError", f"line {line} of your code",
            "handle_batch(records, process)")

    def apply(db, message_id, value):
        db["total"] += value  # KeyError here, at this line

    _failed(check_idempotent_sink(apply), "KeyError",
            f"line {apply.__code__.co_firstlineno + 1} of your code")


# -- durability (issue 18; /work/shared/reference/kafka-semantics.md §F) -------------------------
def test_durability_check_follows_the_fact_sheet():
    """§F: acks=1 loses acknowledged writes with a clean election; acks=all covers only the
    current ISR (ISR = {leader}, then its unflushed log is gone); min.insync.replicas gates only
    acks=all; RF=3, min.insync.replicas=2, acks=all is the advice and loses nothing."""
    from kafkalab.checks import check_durability

    _failed(check_durability({"acks": "1"}), "lost after it was acknowledged", "acks=1")
    _failed(check_durability({"acks": "1", "min.insync.replicas": 2}),
            "lost after it was acknowledged")
    _failed(check_durability({"acks": "all"}), "lost after it was acknowledged",
            "loses its machine")
    _failed(check_durability({"acks": "0"}), "never acknowledged")
    ok = check_durability({"acks": "all", "min.insync.replicas": 2})
    assert ok.passed and ok.runs == 25, repr(ok)
    assert not check_durability(...).done


def test_acknowledged_but_lost_check():
    from kafkalab.checks import check_acknowledged_but_lost

    def right(run):
        return run.ledger.lost_after_ack()

    assert check_acknowledged_but_lost(right).passed
    _failed(check_acknowledged_but_lost(lambda run: run.ledger.lost()), "never acknowledged")
    _failed(check_acknowledged_but_lost(lambda run: 1 / 0), "ZeroDivisionError")
    _failed(check_acknowledged_but_lost(lambda run: "abc"), "message ids")
    _failed(check_acknowledged_but_lost(lambda: []), "must take 1 arguments")
    assert not check_acknowledged_but_lost(...).done
