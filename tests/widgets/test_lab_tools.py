"""The Lab's tools: "try every crash point" (issue 6) and "run with a real client" (issue 7)."""

from __future__ import annotations

import sys

import pytest

import kafkalab.model
from kafkalab import real
from kafkalab.sweep import sweep
from kafkalab.widgets import tools
from kafkalab.widgets.lab import Lab


@pytest.fixture
def lab():
    return Lab()


def test_sweep_matches_kafkalab_sweep_and_leaves_the_run_alone(lab):
    before = (lab.result, lab.counters.value, lab.step)
    seen = []
    lab.sweep_progress.observe(lambda ch: seen.append(ch["new"]), names="value")
    sw = lab.sweep_crash_points()
    config, _faults, seed = lab._assemble()
    expected = sweep(config, depth=1, faults=("crash",), seed=seed, processes=1)
    assert sw.exhaustive and sw.table == expected.table
    assert sw.counterexamples == expected.counterexamples
    assert (lab.result, lab.counters.value, lab.step) == before  # the displayed run stays
    assert seen and lab.sweep_progress.value == lab.sweep_progress.max
    assert lab.sweep_progress.bar_style == "success"
    text = lab.sweep_output.value
    assert "kafkalab-sweep-table" in text and "crash before processing" in text
    assert f"{sw.runs} runs (every placement)" in text
    # librdkafka auto-commit: a crash loses; the preset's processing failure is replaced
    cx = lab.counterexamples["no_loss"]
    assert cx["label"] == "crash before_processing #4" and cx["outcome"]["lost"] == 7
    assert "LOST" in cx["explanation"] and cx["label"] in text
    assert "replaces the Lab's own fault plan" in text
    assert lab.counterexample_buttons["no_loss"].layout.display == ""


def test_counterexample_loads_into_the_lab(lab):
    lab.sweep_crash_points()
    cx = lab.counterexamples["no_loss"]
    lab.counterexample_buttons["no_loss"].click()
    assert lab.result is cx["result"] and lab.outcome["lost"] == 7
    assert lab.explanation.startswith(f"<b>Message {cx['messages'][0]}</b>")
    assert "shortest <b>no_loss</b> counterexample" in lab.fault_note.value
    lab.controls["seed"].value = 1  # any control: back to the learner's own settings
    assert lab.outcome["lost"] == 2 and "counterexample" not in lab.fault_note.value


def test_at_least_once_has_no_loss_counterexample():
    lab = Lab("at-least-once-manual-commit")
    sw = lab.sweep_crash_points()
    assert sw.counterexamples["no_loss"] is None and lab.counterexamples["no_loss"] is None
    assert lab.counterexamples["no_duplicates"]["outcome"]["duplicates"] > 0
    assert "no single crash breaks it" in lab.sweep_output.value
    assert lab.counterexample_buttons["no_loss"].layout.display == "none"
    assert not lab.show_counterexample("no_loss") and "no no_loss counterexample" in lab.error


def test_sweep_of_200_messages_is_capped():
    # How long it takes is measured by `make bench` (lab_sweep), not asserted here.
    lab = Lab("at-least-once-manual-commit")
    lab.controls["messages"].value = 200
    sw = lab.sweep_crash_points()
    budget = tools.sweep_budget(lab.last_run_ms)
    assert sw.runs <= budget
    if not sw.exhaustive:
        assert "random sample" in lab.sweep_output.value and f"at {budget} runs" in \
            lab.sweep_output.value
    assert lab.counterexamples["no_duplicates"] is not None


def test_sweep_budget_bounds():
    assert tools.sweep_budget(None) == int(tools.SWEEP_TARGET_S * 1000 / 3.5)
    assert tools.sweep_budget(0.01) == tools.SWEEP_MAX_BUDGET
    assert tools.sweep_budget(10_000) == tools.SWEEP_MIN_BUDGET


def test_sweep_with_bad_settings_says_why(lab):
    lab.controls["messages"].value = 0  # refused: the last good run stays
    sw = lab.sweep_crash_points()
    assert sw is None and "Cannot try the crash points" in lab.sweep_output.value
    assert not lab.sweep_button.disabled


def test_sweep_never_raises(lab, monkeypatch):
    import kafkalab.sweep as ks

    def boom(*a, **k):
        raise RuntimeError("model bug")

    monkeypatch.setattr(ks, "sweep", boom)
    assert lab.sweep_crash_points() is None
    assert "model bug" in lab.sweep_output.value and not lab.sweep_button.disabled


@pytest.mark.parametrize("scenario", ["at-most-once-auto-commit", "at-most-once-commit-first",
                                      "at-least-once-manual-commit",
                                      "at-most-once-auto-commit/java-close-on-error",
                                      "auto-commit-java-crash/librdkafka",
                                      "idempotent-producer-lost-ack/idempotence-off"])
def test_comparable_scenarios_map_to_registered_workloads(scenario):
    name, why = tools.real_target(scenario)
    assert name in real.WORKLOADS and name in why


@pytest.mark.parametrize("scenario,words", [
    ("transactional-fencing", "does not fence a zombie"),
    ("transactional-fencing/read-uncommitted", "does not fence a zombie"),
    ("idempotent-producer-lost-ack", "does not de-duplicate"),
    ("read-committed-vs-uncommitted", "last stable offset"),
    ("exactly-once-pipeline", "transactional offset commits"),
    ("auto-commit-java-crash", "librdkafka"),
    ("commit-cost", "throughput"),
    ("producer-restart-new-pid", "restarts the producer"),
])
def test_not_comparable_scenarios_disable_the_button(scenario, words):
    lab = Lab(scenario)
    assert lab.real_button.disabled
    assert lab.real_button.tooltip.startswith("not comparable") and words in \
        lab.real_button.tooltip
    assert words in lab.real_note.value
    assert lab.run_real() is None and words in lab.real_output.value


def test_every_scenario_has_an_answer():
    lab = Lab()
    for name in lab.scenario_picker.options:
        workload, why = tools.real_target(name)
        assert workload in real.WORKLOADS or why.startswith("not comparable"), name


def test_missing_real_extra_shows_the_message(lab, monkeypatch):
    monkeypatch.setitem(sys.modules, "confluent_kafka", None)  # import raises ImportError
    assert not lab.real_button.disabled
    assert lab.run_real() is None
    assert real.MISSING_EXTRA_MESSAGE in lab.real_output.value.replace("&#x27;", "'")
    assert not lab.real_button.disabled and lab.error is None


@pytest.mark.parametrize("where,words", [
    ("pyodide", "cannot run in the browser (Pyodide, JupyterLite)"),
    ("no extra", "pip install 'kafkalab[real]'"),
])
def test_real_button_says_why_the_client_cannot_run_here(monkeypatch, where, words):
    """In JupyterLite (Pyodide) or without confluent-kafka the button is off and says why,
    for a scenario that is otherwise comparable."""
    if where == "pyodide":
        monkeypatch.setattr(sys, "platform", "emscripten")
    else:
        monkeypatch.setitem(sys.modules, "confluent_kafka", None)
    tools.real_client_missing.cache_clear()
    try:
        lab = Lab()  # at-most-once-auto-commit: comparable with a real workload
        assert lab.real_button.disabled and words in lab.real_button.tooltip
        assert words in lab.real_note.value.replace("&#x27;", "'")
        assert lab.run_real() is None and words in lab.real_output.value.replace("&#x27;", "'")
    finally:
        tools.real_client_missing.cache_clear()


def test_failed_real_run_is_reported(lab, monkeypatch):
    def boom(*a, **k):
        raise real.RealRunError("consumer session timed out")

    monkeypatch.setattr(real, "run_real", boom)
    if not real.available():
        pytest.skip("the real extra (confluent-kafka) is not installed")
    assert lab.run_real() is None and "consumer session timed out" in lab.real_output.value


def test_real_run_never_contacts_a_non_loopback_address(lab, monkeypatch):
    calls = []
    monkeypatch.setattr(real, "run_real", lambda name, bootstrap_servers=None: calls.append(
        bootstrap_servers) or (_ for _ in ()).throw(real.RealRunError("stop")))
    if not real.available():
        pytest.skip("the real extra (confluent-kafka) is not installed")
    lab.run_real()
    assert calls == [None]  # None: librdkafka's in-process mock cluster on 127.0.0.1


@pytest.mark.skipif(not real.available(), reason="the real extra (confluent-kafka) is missing")
def test_real_run_beside_the_simulation(lab, monkeypatch):
    from kafkalab import crosscheck  # imported before the patch: the comparison's own run
    # is not the Lab's (run alone, the test used to count it)

    calls = []
    original = kafkalab.model.simulate
    assert crosscheck.simulate is original
    monkeypatch.setattr(kafkalab.model, "simulate",
                        lambda *a, **k: calls.append(a) or original(*a, **k))
    before = lab.result
    report = lab.run_real()
    assert report["workload"] == "auto-commit-librdkafka-loses"
    assert report["agree"], report
    assert report["real"]["lost"] == report["simulated"]["lost"] > 0
    assert [r["processed"] for r in report["real_ledger"]] == \
        [r["processed"] for r in report["simulated_ledger"]]
    text = lab.real_output.value
    assert "kafkalab-real-table" in text and "✓ agree" in text and "processed (real)" in text
    assert lab.result is before and not calls  # the Lab's own run is untouched


def test_the_real_button_is_the_crosscheck_comparison(lab, monkeypatch):
    """One comparison for crosscheck() and the Lab (issue 15 item 4): the button shows what
    kafkalab.crosscheck.compare_workload found, verdict and all."""
    from kafkalab import crosscheck

    if not real.available():
        pytest.skip("the real extra (confluent-kafka) is not installed")
    calls = []
    sim = crosscheck.simulate_workload("auto-commit-librdkafka-loses")
    row = {"title": "t", "simulated": sim["outcome"], "real": {**sim["outcome"], "lost": 0},
           "agree": False, "compared": ["lost"], "differences": ["lost", "messages"],
           "first_difference": None, "known_divergence": None,
           "simulated_ledger": sim["ledger"], "real_ledger": sim["ledger"],
           "real_elapsed_s": 0.5, "real_not_comparable": []}
    monkeypatch.setattr(crosscheck, "compare_workload",
                        lambda name, details=False: calls.append((name, details)) or row)
    report = lab.run_real()
    assert calls == [("auto-commit-librdkafka-loses", True)]
    assert not report["agree"] and report["differences"] == ["lost", "messages"]
    assert "✗ disagree" in lab.real_output.value and "lost, messages" in lab.real_output.value
