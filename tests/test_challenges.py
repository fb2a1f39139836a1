"""Notebook 08's challenges say "Solved!" only when solved (issue 14.2).

Every challenge cell (tagged ``challenge``) is run as the notebook ships it, on its defaults:
its ``check_challenge`` must not say solved. Then each challenge is run on a solution: it must.
The solutions live here, not in the notebook. Facts: /work/shared/reference/kafka-semantics.md
§A (an application that catches a processing error and keeps polling skips that record;
auto.offset.reset=latest skips what was written before the consumer started), §B (a restarted
producer without a transactional.id gets a new PID), §C (read_uncommitted reads aborted output; a
zombie is fenced when it next talks to the broker after the new instance's initTransactions).
"""

from __future__ import annotations

import ast
import contextlib
import io
import json
from pathlib import Path

import pytest

from kafkalab import scenarios
from kafkalab.checks import CheckResult
from kafkalab.checks.challenges import check_challenge
from kafkalab.model import simulate

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "08_playground.ipynb"

CONFIG = {"messages": 10, "producer.send.interval.ms": 0, "consumer.start.ms": 20,
          "auto.offset.reset": "earliest", "enable.auto.commit": False,
          "commit.strategy": "per-batch", "max.poll.records": 5}

SOLUTIONS = {
    1: lambda: simulate({**CONFIG, "enable.idempotence": True,
                         "commit.strategy": "before-processing"},
                        [{"type": "consumer_crash", "point": "before_processing", "index": 1}],
                        seed=0),
    2: lambda: scenarios.run("at-least-once-manual-commit",
                             overrides={"on.processing.error": "skip"},
                             faults=[{"type": "processing_failure", "message": 5}]),
    3: lambda: scenarios.run("idempotent-producer-lost-ack", overrides={},
                             faults=[{"type": "producer_restart", "after_message": 3}]),
    4: lambda: scenarios.run("exactly-once-pipeline", seed=0,
                             overrides={"isolation.level": "read_uncommitted"}),
    5: lambda: {1, 2, 4, 7, 8},
    6: lambda: scenarios.run("transactional-fencing", overrides={"request.timeout.ms": 50}),
    7: lambda: scenarios.run("commit-cost", overrides={"network.rtt.ms": 0.2,
                                                       "commit.write.ms": 0.1}),
    8: lambda: simulate({**CONFIG, "auto.offset.reset": "latest"}, [], seed=0),
}


def _cells():
    nb = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    return [c for c in nb["cells"] if c["cell_type"] == "code"]


def _src(cell) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def _challenges() -> list[str]:
    return [_src(c) for c in _cells() if "challenge" in c.get("metadata", {}).get("tags", [])]


def _setup() -> dict:
    """The notebook's own setup (its helpers and the `config` of "Without widgets"), without
    the Lab."""
    namespace: dict = {}
    for cell in _cells():
        source = _src(cell)
        if "challenge" in cell.get("metadata", {}).get("tags", []):
            break
        if "lab" in source.lower().replace("kafkalab", "") or "show_events(run)" in source:
            continue
        with contextlib.redirect_stdout(io.StringIO()):
            exec(compile(source, "<setup>", "exec"), namespace)
    return namespace


def _run_cell(source: str, namespace: dict):
    """Run a cell; return its last expression's value and what it printed."""
    tree = ast.parse(source)
    last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(tree, "<challenge>", "exec"), namespace)
        value = eval(compile(ast.Expression(last.value), "<challenge>", "eval"), namespace) \
            if last else None
    return value, out.getvalue()


def test_every_challenge_cell_is_checked_by_check_challenge():
    cells = _challenges()
    assert len(cells) == len(SOLUTIONS) == 8
    for n, source in enumerate(cells, start=1):
        assert source.rstrip().splitlines()[-1].startswith(f"check_challenge({n}, "), source
    assert "Solved!" not in json.dumps([_src(c) for c in _cells()])  # no home-made verdicts


@pytest.mark.parametrize("n", range(1, 9))
def test_the_defaults_do_not_solve_the_challenge(n):
    namespace = _setup()
    value, printed = _run_cell(_challenges()[n - 1], namespace)
    assert isinstance(value, CheckResult)
    assert value.status == "fail" and "Solved!" not in repr(value) + printed, repr(value)
    assert repr(value).startswith("✗ Not yet")


@pytest.mark.parametrize("n", range(1, 9))
def test_a_solution_solves_the_challenge(n):
    result = check_challenge(n, SOLUTIONS[n]())
    assert result.status == "pass" and repr(result).startswith("✓ Solved!"), repr(result)


@pytest.mark.parametrize("n, wrong, missing", [
    (6, lambda: scenarios.run("transactional-fencing", overrides={"request.timeout.ms": 10,
                                                                 "retry.backoff.ms": 1}),
     "fenced"),  # too early: the zombie retries before the new instance is up, no fencing
    (6, lambda: scenarios.run("transactional-fencing", overrides={"request.timeout.ms": 50,
                                                                 "restart.delay.ms": 10}),
     "only producer timing settings"),
    (7, lambda: scenarios.run("commit-cost", overrides={"processing.ms": 0.0,
                                                        "network.rtt.ms": 0.2,
                                                        "commit.write.ms": 0.1}),
     "only infrastructure cost settings"),
    (4, lambda: scenarios.run("exactly-once-pipeline", seed=0, faults=[],
                              overrides={"isolation.level": "read_uncommitted"}),
     "fault plan"),
    (8, lambda: simulate({**CONFIG, "auto.offset.reset": "latest"},
                         [{"type": "random", "consumer_crash": 0.0}], seed=0), "no faults"),
])
def test_a_dodge_is_not_solved(n, wrong, missing):
    result = check_challenge(n, wrong())
    assert result.status == "fail" and missing in result.summary, repr(result)
