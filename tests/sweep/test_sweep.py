"""Exhaustive fault sweeps: what must hold holds, what must break has a minimal witness."""

from __future__ import annotations

import io
import json

import pytest

from kafkalab.model import ConfigError, simulate
from kafkalab.sweep import (
    PROPERTIES,
    _space,
    cli_progress,
    find_counterexample,
    holds,
    run_sweep_cli,
    shortest_counterexample,
    sweep,
)
from kafkalab.sweep.cli import _Progress
from kafkalab.sweep.core import target


def _assert_minimal(name, cx, overrides=None):
    """The schedule breaks the property; removing any one fault makes it hold."""
    t = target(name, overrides)
    plan = cx["schedule"]
    assert not holds(cx["property"], simulate(t.config, plan, 0, snapshots=False).outcome)
    for i in range(len(plan)):
        rest = plan[:i] + plan[i + 1:]
        outcome = simulate(t.config, rest, 0, snapshots=False).outcome
        assert holds(cx["property"], outcome), (plan, rest, outcome)


# -- properties that must hold: no counterexample at depth 2 --------------------------------
def test_at_least_once_never_loses_up_to_two_faults():
    result = sweep("at-least-once-manual-commit", depth=2, overrides={"messages": 6})
    assert result.exhaustive
    assert result.space[2] > 100  # pairs really were tried
    assert result.counterexamples["no_loss"] is None
    assert all(row["lost"] == 0 for row in result.table)
    assert result.counterexamples["no_duplicates"] is not None  # …but it duplicates


def test_exactly_once_pipeline_neither_loses_nor_duplicates_up_to_two_faults():
    result = sweep("exactly-once-pipeline", depth=2, overrides={"messages": 5})
    assert result.exhaustive and result.space[2] > 50
    for prop in PROPERTIES:
        assert result.counterexamples[prop] is None, (prop, result.counterexamples[prop])
    assert shortest_counterexample("exactly-once-pipeline", "exactly_once", depth=2,
                                   overrides={"messages": 4}) is None


def test_idempotent_producer_survives_every_lost_ack_and_its_retry():
    result = sweep("idempotent-producer-lost-ack", depth=2, faults=("lost_ack",),
                   overrides={"messages": 6})
    assert result.rows(depth=1) and all(r["log_duplicates"] == 0 for r in result.table)
    assert result.counterexamples["no_log_duplicates"] is None
    # the second fault may hit the retry (attempt 2), which the fault-free run never sends
    assert any(f.get("attempt") == 2 for r in result.rows(depth=2) for f in r["faults"])


# -- properties that must break: a minimal counterexample ------------------------------------
def test_commit_first_loses_with_a_single_crash():
    cx = shortest_counterexample("at-most-once-commit-first", "no_loss", depth=2)
    assert cx is not None and cx["depth"] == 1 and cx["minimal"]
    assert cx["schedule"][0]["type"] == "consumer_crash"
    assert cx["outcome"]["lost"] > 0 and cx["messages"]
    assert "LOST" in cx["explanation"]
    _assert_minimal("at-most-once-commit-first", cx)
    # commit-first never duplicates under a single crash
    result = sweep("at-most-once-commit-first", depth=1, overrides={"messages": 6})
    assert result.counterexamples["no_duplicates"] is None


def test_at_least_once_duplicates_with_a_single_crash():
    cx = shortest_counterexample("at-least-once-manual-commit", "no_duplicates",
                                 overrides={"messages": 6})
    assert cx["depth"] == 1
    assert cx["schedule"] == [{"type": "consumer_crash", "point": "after_processing",
                               "index": 1}]
    assert "DUPLICATE" in cx["explanation"]
    _assert_minimal("at-least-once-manual-commit", cx, {"messages": 6})


def test_idempotence_off_writes_a_lost_ack_twice():
    name = "idempotent-producer-lost-ack/idempotence-off"
    cx = shortest_counterexample(name, "no_log_duplicates", overrides={"messages": 6})
    assert cx["depth"] == 1 and cx["schedule"][0]["type"] == "lose_response"
    _assert_minimal(name, cx, {"messages": 6})
    on = sweep("idempotent-producer-lost-ack", depth=1, faults=("lost_ack",),
               overrides={"messages": 6})
    off = sweep(name, depth=1, faults=("lost_ack",), overrides={"messages": 6})
    assert len(on.rows(depth=1)) == len(off.rows(depth=1)) == 6
    assert all(r["log_duplicates"] == 0 for r in on.table)  # every single lost ack
    assert all(r["log_duplicates"] >= 1 for r in off.rows(depth=1))  # every single one


# A producer allowed one retry: a lost request is retried, two lost requests lose the message.
RETRY_ONCE = {"messages": 3, "producer.send.interval.ms": 1, "linger.ms": 0, "retries": 1,
              "enable.idempotence": False, "request.timeout.ms": 50, "retry.backoff.ms": 10,
              "auto.offset.reset": "earliest", "enable.auto.commit": False,
              "commit.strategy": "per-batch"}


def test_a_depth_two_counterexample_is_minimal():
    assert find_counterexample(RETRY_ONCE, "no_loss", depth=1,
                               faults=("lost_request",)) is None
    cx = find_counterexample(RETRY_ONCE, "no_loss", depth=2, faults=("lost_request",))
    assert cx["depth"] == 2 and cx["minimal"] and not cx["shrunk"]
    assert cx["schedule"] == [{"type": "lose_request", "message": 0, "attempt": 1},
                              {"type": "lose_request", "message": 0, "attempt": 2}]
    assert "gave up" in cx["explanation"]
    _assert_minimal(RETRY_ONCE, cx)


def test_depth_one_is_searched_before_depth_two():
    # lost acks duplicate at depth 1 already: the pair space is never needed
    cx = shortest_counterexample(RETRY_ONCE, "no_duplicates", depth=2,
                                 faults=("lost_request", "lost_ack"))
    assert cx["depth"] == 1 and cx["runs"] < 10
    # the fault-free run itself breaking a property gives the empty schedule (here the
    # consumer starts after the writes with auto.offset.reset=latest)
    cx = shortest_counterexample("at-least-once-manual-commit", "no_loss", depth=1,
                                 overrides={"messages": 3, "auto.offset.reset": "latest"})
    assert cx["schedule"] == [] and cx["depth"] == 0 and cx["outcome"]["lost"] == 3


# -- the fault space -------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["at-least-once-manual-commit", "exactly-once-pipeline",
                                  "at-most-once-commit-first", "auto-commit-java-crash"])
def test_every_counted_crash_point_is_reached_and_no_more(name):
    """index = count fires; index = count + 1 never does (the run is the fault-free one)."""
    t = target(name, {"messages": 4})
    base = simulate(t.config, [], 0, snapshots=False)
    counts = base.live_counters["crash_points"]["consumer-0"]  # the consumer's own counts
    assert set(counts) == set(_space.CRASH_POINTS)
    sig = [(e.kind, e.t) for e in base.events]
    for point, n in counts.items():
        for index, fires in ((n, True), (n + 1, False)):
            if index == 0:
                continue
            plan = [{"type": "consumer_crash", "point": point, "index": index}]
            run = simulate(t.config, plan, 0, snapshots=False)
            assert ([(e.kind, e.t) for e in run.events] != sig) == fires, (point, index, n)


def test_the_scenario_faults_are_replaced_and_random_faults_kept_out():
    result = sweep("exactly-once-pipeline", depth=1, overrides={"messages": 4})
    assert result.table[0]["faults"] == []
    assert all(f["type"] != "random" for row in result.table for f in row["faults"])
    assert any("replaced" in n for n in result.notes)


# -- output, sampling, determinism ---------------------------------------------------------
def test_json_shape_and_text():
    result = sweep("at-least-once-manual-commit", depth=1, overrides={"messages": 4})
    data = json.loads(json.dumps(result.to_json_dict()))
    assert {"scenario", "depth", "runs", "exhaustive", "counterexamples", "table"} <= set(data)
    assert data["scenario"] == "at-least-once-manual-commit" and data["depth"] == 1
    assert data["runs"] == len(data["table"]) == result.runs and data["errors"] == []
    assert data["exhaustive"] is True
    assert set(data["counterexamples"]) == set(PROPERTIES)
    assert data["counterexamples"]["no_loss"] is None
    assert data["counterexamples"]["no_duplicates"][0]["type"] == "consumer_crash"
    row = data["table"][1]
    assert {"faults", "label", "lost", "duplicates", "log_duplicates"} <= set(row)
    text = result.format_text()
    assert "no_loss: none up to depth 1" in text
    assert "crash after_processing" in text


def test_over_budget_samples_and_says_so():
    full = sweep("at-least-once-manual-commit", depth=2, overrides={"messages": 4})
    assert full.exhaustive
    small = sweep("at-least-once-manual-commit", depth=2, overrides={"messages": 4},
                  budget=40)
    assert not small.exhaustive and small.runs == 40
    assert not small.to_json_dict()["exhaustive"]
    assert "SAMPLED" in small.format_text() and any("sample" in n for n in small.notes)
    full_rows = {r["label"]: r for r in full.table}
    assert all(full_rows[r["label"]] == r for r in small.table)  # a subset, same outcomes
    tiny = sweep("at-least-once-manual-commit", depth=1, overrides={"messages": 4}, budget=5)
    assert not tiny.exhaustive and tiny.runs == 5


def test_deterministic_and_independent_of_the_pool():
    a = sweep("at-least-once-manual-commit", depth=2, overrides={"messages": 4},
              budget=60, seed=3, processes=1)
    b = sweep("at-least-once-manual-commit", depth=2, overrides={"messages": 4},
              budget=60, seed=3, processes=2)
    assert a.to_json_dict() == b.to_json_dict()
    assert json.dumps(a.to_json_dict()) == json.dumps(b.to_json_dict())


def test_progress_is_reported_to_the_end():
    calls = []
    result = sweep("at-least-once-manual-commit", depth=1, overrides={"messages": 4},
                   progress=lambda done, total: calls.append((done, total)))
    assert calls[-1] == (result.runs, result.runs)
    assert all(d < t for d, t in calls[:-1]) and [d for d, _ in calls] == sorted(
        d for d, _ in calls)
    stream = io.StringIO()
    line = _Progress(stream)
    line(1, 10)
    line(10, 10)
    assert stream.getvalue().startswith("\rsweep: 1/10 runs") and stream.getvalue()[-1] == "\n"
    assert callable(cli_progress)


def test_cli_entry():
    text, code = run_sweep_cli("at-most-once-commit-first", 1, {"messages": 4}, False)
    assert code == 0 and "no_loss: crash before_processing #1" in text
    text, code = run_sweep_cli("at-most-once-commit-first", 1, {"messages": 4}, True)
    assert code == 0 and json.loads(text)["counterexamples"]["no_loss"]


@pytest.mark.parametrize("kwargs", [{"depth": 3}, {"depth": 0}, {"faults": ("flood",)},
                                    {"budget": 0}, {"overrides": {"mesages": 3}}])
def test_bad_arguments_are_config_errors(kwargs):
    with pytest.raises(ConfigError):
        sweep("at-least-once-manual-commit", **kwargs)
    with pytest.raises(ConfigError):
        shortest_counterexample("at-least-once-manual-commit", "no_lies")


def test_without_multiprocessing_it_runs_serially_and_says_so(monkeypatch):
    import sys

    monkeypatch.setattr(sys, "platform", "emscripten")
    result = sweep("at-least-once-manual-commit", depth=1, overrides={"messages": 20},
                   processes=2)
    assert result.processes == 1
    assert result.run_notes == ["multiprocessing is unavailable in Pyodide/JupyterLite: "
                                "running serially"]
    assert "Pyodide" in result.format_text()
    assert "Pyodide" not in json.dumps(result.to_json_dict())  # the JSON stays deterministic


def test_benchmark_reports_runs_and_speed():
    from benchmarks.sweep import benchmark  # moved out of kafkalab.sweep (issue 15)

    out = benchmark(messages=10, processes=1)
    assert out["runs"] == 1 + 1 + 4 * 10  # fault-free, 1 poll, 10 records × 4 points
    assert out["processes"] == 1 and out["runs_per_s"] > 0 and out["seconds"] > 0


def test_a_run_that_never_finishes_is_reported_not_waited_for(monkeypatch):
    import time

    from kafkalab.sweep import _exec

    real = _exec._run_one

    def hangs_on_one_plan(task):
        if task[1] == [{"type": "consumer_crash", "point": "after_processing", "index": 2}]:
            while True:
                time.sleep(0.01)
        return real(task)

    monkeypatch.setattr(_exec, "_run_one", hangs_on_one_plan)
    monkeypatch.setattr(_exec, "RUN_TIMEOUT_S", 0.3)
    result = sweep("at-least-once-manual-commit", depth=1, overrides={"messages": 3},
                   processes=1)
    assert [e["label"] for e in result.errors] == ["crash after_processing #2"]
    assert result.runs == len(result.table) + 1
    assert "DID NOT FINISH: crash after_processing #2" in result.format_text()
    assert result.to_json_dict()["errors"][0]["faults"][0]["index"] == 2
