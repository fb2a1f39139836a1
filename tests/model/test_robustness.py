"""Issue 13's findings, one regression test each (every one failed on main before the fix).

The hangs (item 1) and the watchdog run in a child process: see test_termination.py.
"""

import json
import math

import pytest

from kafkalab import scenarios
from kafkalab.cli import main
from kafkalab.model import ConfigError, FaultError, simulate
from kafkalab.model.faults import from_json, normalise
from kafkalab.report import POINTS_PER_SERIES, cap_spec, html_report
from kafkalab.trace.ledger import CATEGORIES

# -- item 2: waiting inside poll() is polling ------------------------------------------------
# Fact sheet A, "Exceeding max.poll.interval.ms": the interval bounds the gap between two
# poll() calls. KafkaConsumer.poll(Duration) loops inside the call (updateAssignmentMetadata-
# IfNeeded → coordinator.poll → pollHeartbeat resets the poll timer), so a consumer blocked in
# poll() waiting for data is not a member that stopped polling.
IDLE = {"max.poll.interval.ms": 200, "fetch.max.wait.ms": 500,
        "producer.send.interval.ms": 300}


def test_a_consumer_waiting_inside_poll_is_not_evicted():
    r = simulate({"messages": 10, "enable.auto.commit": False,
                  "commit.strategy": "before-processing", "auto.offset.reset": "earliest",
                  **IDLE}, snapshots=False)
    assert not r.trace.of_kind("left_group")
    assert r.outcome["duplicates"] == 0 and r.outcome["lost"] == 0 and r.drained


def test_the_exactly_once_pipeline_waiting_in_poll_is_not_evicted():
    r = scenarios.run("exactly-once-pipeline", overrides=IDLE, faults=[], snapshots=False)
    assert not r.trace.of_kind("left_group")
    assert r.outcome["duplicates"] == 0 and r.outcome["lost"] == 0 and r.drained


def test_a_consumer_that_really_stops_polling_is_still_evicted():
    # The other side: processing a batch (10 × 30 ms) longer than max.poll.interval.ms.
    r = simulate({"messages": 10, "enable.auto.commit": False, "commit.strategy": "per-batch",
                  "max.poll.records": 10, "processing.ms": 30, "max.poll.interval.ms": 100,
                  "auto.offset.reset": "earliest", "producer.send.interval.ms": 0,
                  "consumer.start.ms": 20}, snapshots=False)
    assert r.trace.of_kind("left_group")


# -- item 3: CommitFailedException escapes the loop ------------------------------------------
# Fact sheet A: "a later commitSync() throws CommitFailedException"; a plain
# `while (true) { poll; process; commitSync(); }` does not catch it, so it leaves the loop.
SLOW = {"messages": 10, "enable.auto.commit": False, "commit.strategy": "per-record",
        "max.poll.records": 10, "processing.ms": 30, "max.poll.interval.ms": 100,
        "auto.offset.reset": "earliest", "producer.send.interval.ms": 0,
        "consumer.start.ms": 20}


def _after_first_failed_commit(r):
    events = [e for e in r.events if e.actor == "consumer-0"]
    i = next(k for k, e in enumerate(events) if e.kind == "commit_failed")
    return events[i + 1]


def test_after_commit_failed_the_application_does_not_go_on_processing():
    r = simulate(SLOW, snapshots=False)
    assert r.config["on.commit.error"] == "crash"  # the default: what a plain loop does
    nxt = _after_first_failed_commit(r)
    assert nxt.kind == "crash" and "CommitFailedException" in nxt.text
    assert r.outcome["lost"] == 0


def test_on_commit_error_close_and_skip_are_explicit_choices():
    closed = simulate({**SLOW, "on.commit.error": "close"}, snapshots=False)
    assert _after_first_failed_commit(closed).kind == "close"
    skipped = simulate({**SLOW, "on.commit.error": "skip"}, snapshots=False)
    assert _after_first_failed_commit(skipped).kind == "process"  # caught: it goes on
    with pytest.raises(ConfigError, match=r"on\.commit\.error"):
        simulate({**SLOW, "on.commit.error": "retry"})


# -- item 4: close() flushes the transform's producer ----------------------------------------
# KafkaProducer.close(): "waits up to timeout for the producer to complete the sending of all
# incomplete requests"; librdkafka's flush() before rd_kafka_destroy does the same.
@pytest.mark.parametrize("n", [10, 1000])
def test_a_pipeline_without_transactions_loses_nothing(n):
    r = simulate({"messages": n, "pipeline": True}, snapshots=False)
    assert r.outcome["lost"] == 0 and r.outcome["written"] == n and r.drained


def test_the_manual_commit_preset_as_a_pipeline_loses_nothing_without_a_crash():
    # With the preset's crash it may lose: it commits an input offset before the transform's
    # output is acknowledged (no flush before commit), which real Kafka loses too.
    r = scenarios.run("at-least-once-manual-commit", overrides={"pipeline": True}, faults=[],
                      snapshots=False)
    assert r.outcome["lost"] == 0 and r.outcome["written"] == 10 and r.drained


def test_a_pipeline_without_transactions_with_two_consumers_runs():
    # transactional.id=None with 2 transform instances used to raise KeyError: 'None-0'
    r = simulate({"messages": 10, "pipeline": True, "consumers": 2, "partitions": 2},
                 snapshots=False)
    assert r.outcome["lost"] == 0


# -- item 5: every message in exactly one category; an undrained run says so first -----------
def _categories_cover_everything(r):
    cats = r.ledger.categories()
    ids = sorted(m for ids in cats.values() for m in ids)
    assert ids == list(range(r.config["messages"]))
    assert sum(r.outcome[k] for k in CATEGORIES) == r.config["messages"]


def test_an_undrained_run_counts_the_messages_never_sent():
    r = simulate({"messages": 10, "max.simulated.ms": 1})
    assert not r.drained
    assert r.outcome["never_sent"] == 10
    _categories_cover_everything(r)
    assert r.verdict.startswith("NOT DRAINED")
    assert {a["type"] for a in r.anomalies} == {"never-sent"}


def test_the_cli_says_not_drained_first(capsys):
    assert main(["run", "at-least-once-manual-commit", "--set", "max.simulated.ms=1"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[2].startswith("NOT DRAINED")
    assert "every message processed exactly once" not in "\n".join(out)


def test_zero_messages_is_nothing_to_deliver(capsys):
    assert main(["run", "at-least-once-manual-commit", "--messages", "0"]) == 0
    out = capsys.readouterr().out
    assert "nothing to deliver" in out and "exactly once" not in out


def test_a_drained_run_without_anomalies_says_exactly_once(capsys):
    assert main(["run", "at-least-once-manual-commit", "--faults", "/dev/null"]) == 2  # not JSON
    assert main(["run", "at-least-once-manual-commit", "--fault",
                 "lose_response:message=3"]) == 0
    out = capsys.readouterr().out
    assert "every message processed exactly once" in out


def test_the_report_says_not_drained_first():
    page = html_report(simulate({"messages": 10, "max.simulated.ms": 1}), animations=False)
    body = page[page.index("<body>"):]
    assert body.index("NOT DRAINED") < body.index("<h2>Counters")
    assert "every message was processed exactly once" not in body


# -- item 6: fault plans ---------------------------------------------------------------------
BAD_PLANS = [
    ('[{"type": "lose_response", "message": NaN}]', "finite"),
    ('[{"type": "lose_response", "message": Infinity}]', "finite"),
    ('[{"type": ["x"]}]', "unknown fault type"),
    ('[{"type": {"a": 1}}]', "unknown fault type"),
    ('[{"type": "consumer_crash", "point": "time", "at_ms": NaN}]', "finite"),
    ('[{"type": "consumer_crash", "point": "time", "at_ms": 1e300}]', "between 0"),
    ('[{"type": "delay_response", "message": 1, "delay_ms": NaN}]', "finite"),
    ('[{"type": "slow_processing", "message": 1, "extra_ms": -Infinity}]', "finite"),
    ('[{"type": "consumer_crash", "point": ["time"], "at_ms": 1}]', "is not one of"),
    ('[{"type": "random", "lose_request": NaN}]', "finite"),
    ('[{"type": "lose_request", "message": 1, "attempt": 1.5}]', "whole number"),
    ('[{"type": "lose_request", "message": ' + "9" * 5000 + "}]", "cannot be read"),
    ("[" * 100_000 + "]" * 100_000, "cannot be read"),
]


@pytest.mark.parametrize(("text", "why"), BAD_PLANS)
def test_a_malformed_plan_is_one_line_naming_the_entry(text, why):
    with pytest.raises(FaultError, match=why) as info:
        simulate({"messages": 10}, from_json(text))
    message = str(info.value)
    # one line; it names every allowed fault type (21 of them now), so it may be long-ish
    assert "\n" not in message and len(message) < 400
    assert message.startswith(("fault 1", "the fault plan"))


@pytest.mark.parametrize(("fault", "why"), [
    ({"type": "consumer_crash", "point": "after_poll", "message": 1, "member": 3},
     "member 3 does not exist"),
    ({"type": "consumer_crash", "point": "time", "at_ms": 5000}, "after max.simulated.ms"),
    ({"type": "lose_response", "message": 10}, "message 10 does not exist"),
    ({"type": "lose_response", "message": 10**40}, "does not exist"),
    ({"type": "lose_response", "message": math.nan}, "finite"),
    ({"type": "lose_response", "message": 2**5000}, "whole number|does not exist"),
])
def test_a_fault_that_could_never_fire_is_refused(fault, why):
    with pytest.raises(FaultError, match=why) as info:
        simulate({"messages": 10, "consumers": 2, "partitions": 2, "max.simulated.ms": 4000},
                 [fault])
    assert str(info.value).startswith("fault 1 (")


def test_a_huge_integer_in_a_plan_prints_in_one_short_line():
    with pytest.raises(FaultError) as info:
        normalise([{"type": "lose_response", "message": -(10**5000)}])
    assert len(str(info.value)) < 200


def test_the_cli_takes_fault_plans(tmp_path, capsys):
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps([{"type": "consumer_crash", "point": "after_processing",
                                 "message": 2}]))
    assert main(["run", "at-least-once-manual-commit", "--faults", str(plan), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["faults"][0]["message"] == 2 and len(summary["faults"]) == 1
    assert main(["run", "at-least-once-manual-commit", "--faults", str(plan), "--fault",
                 "lose_response:message=4,attempt=1", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert [f["type"] for f in summary["faults"]] == ["consumer_crash", "lose_response"]


@pytest.mark.parametrize(("args", "why"), [
    (["--fault", "consumer_crash:point=sometimes,message=1"], "fault 1 (consumer_crash)"),
    (["--fault", "lose_response:message"], "is not key=value"),
    (["--fault", ":message=1"], "--fault takes"),
    (["--fault", "lose_response:message=1", "--fault", "nope"], "fault 2: unknown fault"),
    (["--faults", "/nonexistent/plan.json"], "--faults /nonexistent/plan.json"),
])
def test_the_cli_refuses_a_malformed_plan_with_exit_2_and_one_line(args, why, capsys):
    assert main(["run", "at-least-once-manual-commit", *args]) == 2
    err = capsys.readouterr().err.strip()
    assert why in err and "\n" not in err and "Traceback" not in err


# -- item 7: a preset name with a trailing slash ---------------------------------------------
def test_a_trailing_slash_is_not_the_base_preset(capsys):
    with pytest.raises(ConfigError, match="no variant ''"):
        scenarios.get("at-least-once-manual-commit/")
    assert main(["run", "at-least-once-manual-commit/"]) == 2
    assert "no variant" in capsys.readouterr().err


# -- item 8: a report's size does not grow with the run --------------------------------------
def test_cap_spec_keeps_the_unusual_points_and_says_so():
    n = 10_000
    colors = ["green"] * n
    for m in (5, 7000, 9999):
        colors[m] = "red"
    spec = {"data": [{"x": list(range(n)), "y": [0] * n, "text": [str(i) for i in range(n)],
                      "marker": {"color": colors}}]}
    note = cap_spec(spec)
    trace = spec["data"][0]
    assert len(trace["x"]) == POINTS_PER_SERIES == len(trace["text"])
    assert {5, 7000, 9999} <= set(trace["x"])
    assert trace["marker"]["color"].count("red") == 3
    assert f"{POINTS_PER_SERIES:,}" in note and "10,000" in note


def test_a_large_report_stays_small_and_states_its_caps():
    r = scenarios.run("at-least-once-manual-commit", messages=6000,
                      overrides={"commit.strategy": "per-batch", "max.poll.records": 500})
    page = html_report(r)
    # 115 MB at 100,000 messages before the caps; the caps do not depend on the size
    assert len(page.encode()) < 5_000_000
    assert "animations are left out" in page and "points per series" in page
