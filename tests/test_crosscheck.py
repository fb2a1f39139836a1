"""The simulation against real confluent-kafka clients (kafkalab.crosscheck).

The simulation-only tests need no confluent-kafka. The real runs (six workloads on librdkafka's
in-process mock cluster, 1-3 s each, ~10 s in all here) happen once per session; the notebook
test runs them a second time inside a kernel."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest

import kafkalab.real as real
from kafkalab import crosscheck as cc

REPO_ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = REPO_ROOT / "notebooks" / "09_run_it_for_real.ipynb"
GAPS = ("idempotent-producer-dedup", "read-committed-lso", "zombie-fencing",
        "transactional-offset-commit")

# What the fact sheet (section E) and the real runs show, per workload.
EXPECTED = {
    "auto-commit-librdkafka-loses": {"lost": 7, "duplicates": 0, "resumed_from": 10},
    "auto-commit-long-interval-redelivers": {"lost": 0, "duplicates": 3, "resumed_from": 0},
    "commit-before-processing-loses": {"lost": 7, "duplicates": 0, "resumed_from": 10},
    "commit-after-processing-redelivers": {"lost": 0, "duplicates": 1, "resumed_from": 2},
    "non-idempotent-producer-duplicates": {"lost": 0, "duplicates": 10, "log_duplicates": 10,
                                           "resumed_from": None},
    "auto-commit-close-on-error-loses": {"lost": 7, "duplicates": 0, "resumed_from": 10},
}


def _has_confluent_kafka() -> bool:
    return real.available()


needs_real = pytest.mark.skipif(not _has_confluent_kafka(),
                                reason="confluent-kafka (the 'real' extra) is not installed")


# ---------------------------------------------------------------------------------------------
# without real clients


def test_every_registered_workload_has_a_simulation():
    assert set(EXPECTED) == set(real.list_workloads())
    for name, want in EXPECTED.items():
        sim = cc.simulate_workload(name)
        assert {k: sim["outcome"][k] for k in want} == want, name
        assert sim["result"].config["client.model"] == "librdkafka"


def test_the_crash_lands_where_the_real_one_does():
    # The real process lives 500 ms after processing record 2: librdkafka's 100 ms background
    # auto-commit fires first. The simulation mirrors the wait with slow_processing.
    config, faults = cc.simulation_for("auto-commit-librdkafka-loses")
    assert config["auto.commit.interval.ms"] == 100
    assert {"type": "consumer_crash", "point": "after_processing", "message": 2} in faults
    assert {"type": "slow_processing", "message": 2, "extra_ms": 500} in faults
    # Without the wait the crash comes before the first auto-commit: re-delivery, not loss.
    quick = [f for f in faults if f["type"] != "slow_processing"]
    result = cc.simulate(config, quick, 0, snapshots=False)
    assert cc.resumed_from(result) == 0 and result.outcome["lost"] == 0


def test_non_idempotent_retry_resends_the_whole_batch():
    config, faults = cc.simulation_for("non-idempotent-producer-duplicates")
    assert config["producer.send.interval.ms"] == 0 and config["enable.idempotence"] is False
    assert faults == [{"type": "delay_response", "message": 0, "delay_ms": 2000}]
    sim = cc.simulate_workload("non-idempotent-producer-duplicates")
    assert sim["outcome"]["log_duplicates"] == 10  # one batch of 10, written twice
    assert all(len(e["offsets"]) == 2 for e in sim["ledger"])
    assert cc.compared_keys("non-idempotent-producer-duplicates") == [
        "acked", "written", "processed", "lost", "duplicates", "log_duplicates", "resumed_from"]


def test_not_comparable_names_each_gap():
    rows = cc.not_comparable()
    names = [r["name"] for r in rows]
    for gap in GAPS:
        assert gap in names
    for r in rows:
        assert r["reason"].startswith("not comparable: ")
        assert "mock cluster" in r["reason"]
    text = cc.format_table({"scenarios": [], "not_comparable": rows})
    assert text.count("not comparable: ") == len(rows)


def test_unmappable_custom_workload_is_refused():
    w = real.get_workload("non-idempotent-producer-duplicates")
    w.update(name="custom", crash={"point": "after-process", "record": 1, "wait_ms": 0},
             restart=True, expect={})
    with pytest.raises(cc.NotMappable):
        cc.simulation_for(w)


def test_cli_exit_codes(monkeypatch):
    agree = {"name": "x", "simulated": {"lost": 1}, "real": {"lost": 1}, "agree": True,
             "compared": ["lost"], "differences": []}
    differ = {**agree, "name": "y", "real": {"lost": 2}, "agree": False,
              "differences": ["lost"]}
    gap = {"name": "zombie-fencing", "reason": "not comparable: the mock cluster ...",
           "simulation": "transactional-fencing"}
    monkeypatch.setattr(cc, "crosscheck", lambda names=None: {
        "scenarios": [agree], "not_comparable": [gap], "elapsed_s": 1.0})
    text, code = cc.run_crosscheck_cli(False)
    assert code == 0 and "yes" in text and "zombie-fencing" in text
    text, code = cc.run_crosscheck_cli(True)
    assert code == 0 and json.loads(text)["scenarios"][0]["agree"] is True
    monkeypatch.setattr(cc, "crosscheck", lambda names=None: {
        "scenarios": [agree, differ], "not_comparable": [], "elapsed_s": 1.0})
    text, code = cc.run_crosscheck_cli(False)
    assert code == 1 and "no (lost)" in text


def test_cli_without_the_real_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "confluent_kafka", None)
    text, code = cc.run_crosscheck_cli(False)
    assert code == 2
    assert "\n" not in text and text.startswith(real.MISSING_EXTRA_MESSAGE)


# ---------------------------------------------------------------------------------------------
# with real clients


@pytest.fixture(scope="module")
def report():
    started = time.monotonic()
    result = cc.crosscheck(details=True)
    result["wall_s"] = time.monotonic() - started
    print(f"\ncrosscheck: {len(result['scenarios'])} real runs in {result['wall_s']:.1f} s")
    return result


@needs_real
def test_crosscheck_agrees_on_every_comparable_scenario(report):
    rows = {r["name"]: r for r in report["scenarios"]}
    skipped = {r["name"] for r in report["not_comparable"]}
    # every registered workload is either compared or listed with a reason, never dropped
    assert set(rows) | skipped >= set(real.list_workloads())
    for name, row in rows.items():
        assert row["agree"], (name, row["differences"], row["simulated"], row["real"])
        for key, value in EXPECTED[name].items():
            assert row["real"][key] == value, (name, key)
        assert {"lost", "duplicates", "log_duplicates", "resumed_from"} <= set(row["compared"])
        assert "delivered" not in row["compared"]
        assert len(row["simulated_ledger"]) == len(row["real_ledger"]) == 10
    text = cc.format_table(report)
    assert f"{len(rows)}/{len(rows)} comparable scenarios agree" in text
    json.dumps({k: v for k, v in report.items()})  # JSON-serialisable


@needs_real
def test_crosscheck_lists_the_gaps_as_rows(report):
    gaps = {r["name"]: r["reason"] for r in report["not_comparable"]}
    for gap in GAPS:
        assert gaps[gap].startswith("not comparable: the mock cluster does not")


@needs_real
def test_crosscheck_selected_names():
    rep = cc.crosscheck(["zombie-fencing"])
    assert rep["scenarios"] == [] and [r["name"] for r in rep["not_comparable"]] == [
        "zombie-fencing"]
    with pytest.raises(real.WorkloadError, match="unknown workload"):
        cc.crosscheck(["no-such-workload"])


@needs_real
def test_notebook_runs_clean():
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None  # stored without outputs
    client = nbclient.NotebookClient(nb, timeout=120, kernel_name="python3",
                                     resources={"metadata": {"path": str(NOTEBOOK.parent)}})
    client.execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
              if o.output_type == "error"]
    assert errors == []
    text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code"
                   for o in c.outputs if o.output_type == "stream")
    assert "comparable scenarios agree" in text
    assert "Traceback" not in text


def test_notebook_runs_without_the_real_extra():
    """As in JupyterLite: confluent-kafka missing, one line says so, the rest still runs."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nb.cells.insert(0, nbformat.v4.new_code_cell(
        "import sys\nsys.modules['confluent_kafka'] = None  # simulate a missing 'real' extra"))
    client = nbclient.NotebookClient(nb, timeout=120, kernel_name="python3",
                                     resources={"metadata": {"path": str(NOTEBOOK.parent)}})
    client.execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert [o for o in outputs if o.output_type == "error"] == []
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    unavailable = [line for line in text.splitlines() if "Real clients unavailable" in line]
    assert len(unavailable) == 1 and real.MISSING_EXTRA_MESSAGE in unavailable[0]
    assert "simulation only" in text and "zombie-fencing" in text


def test_before_process_wait_goes_on_the_previous_record():
    w = real.get_workload("auto-commit-librdkafka-loses")
    w.update(name="custom", crash={"point": "before-process", "record": 1, "wait_ms": 500})
    _, faults = cc.simulation_for(w)
    assert {"type": "slow_processing", "message": 0, "extra_ms": 500} in faults
    w["crash"]["record"] = 0  # no record before it in the batch: no equivalent wait
    with pytest.raises(cc.NotMappable, match="first record of a batch"):
        cc.simulation_for(w)
