import json
import subprocess
import sys

import pytest

from kafkalab import scenarios
from kafkalab.cli import main
from kafkalab.model import ConfigError, FaultError, simulate
from kafkalab.trace import RunResult


def test_result_round_trips_through_json():
    r = scenarios.run("transactional-fencing")
    back = RunResult.from_json(r.to_json())
    assert back.outcome == r.outcome and back.to_json() == r.to_json()
    assert back.explain(6) == r.explain(6)


def test_explain_rejects_an_unknown_message():
    r = scenarios.run("at-most-once-commit-first")
    with pytest.raises(ValueError, match="not in this run"):
        r.explain(99)


@pytest.mark.parametrize("faults,needle", [
    ([{"type": "meteor"}], "unknown fault type"),
    ([{"type": "consumer_crash", "point": "lunch", "message": 1}], "point 'lunch'"),
    ([{"type": "lose_response"}], "'message' is required"),
    ([{"type": "lose_response", "message": 50}], "does not exist"),
    ([{"type": "random", "consumer_crash": 2}], "probability"),
])
def test_bad_fault_plans_are_named(faults, needle):
    with pytest.raises(FaultError, match=needle):
        simulate({"messages": 10}, faults)


def test_bad_seed_is_named():
    with pytest.raises(ConfigError, match="seed"):
        simulate({}, [], seed=-1)


def test_cli_json_has_the_contract_keys(capsys):
    assert main(["run", "at-most-once-auto-commit", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {"scenario", "seed", "config", "faults", "outcome", "anomalies"} <= set(data)
    for key in ("sent", "acked", "written", "delivered", "processed", "lost", "duplicates",
                "log_duplicates"):
        assert isinstance(data["outcome"][key], int)
    assert isinstance(data["outcome"]["throughput_per_s"], float)
    assert data["outcome"]["lost"] == 2
    assert "committed" in data["anomalies"][0]["explanation"]


def test_cli_commit_cost_has_throughput_by_strategy(capsys):
    assert main(["run", "commit-cost", "--json", "--messages", "500"]) == 0
    outcome = json.loads(capsys.readouterr().out)["outcome"]
    assert set(outcome["throughput_by_strategy"]) == {"auto", "async-per-batch", "per-batch",
                                                      "per-record"}


def test_cli_set_overrides_by_kafka_property(capsys):
    assert main(["run", "idempotent-producer-lost-ack", "--set", "enable.idempotence=false",
                 "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["outcome"]["log_duplicates"] == 5


@pytest.mark.parametrize("argv,needle", [
    (["run", "nope"], "Unknown scenario"),
    (["run", "commit-cost", "--set", "enable.idempotance=false"], "did you mean"),
    (["run", "commit-cost", "--set", "auto.commit.interval.ms=-1"], "at least 0"),
    (["run", "commit-cost", "--messages", "-3"], "at least 0"),
    (["run", "commit-cost", "--set", "novalue"], "key=value"),
    (["frobnicate"], "invalid choice"),
])
def test_cli_bad_arguments_exit_2_with_one_line(argv, needle, capsys):
    assert main(argv) == 2 if argv[0] != "frobnicate" else True
    if argv[0] == "frobnicate":
        with pytest.raises(SystemExit) as info:
            main(argv)
        assert info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert needle in err and len(err.splitlines()) == 1


def test_cli_scenarios_lists_every_preset():
    out = subprocess.run([sys.executable, "-m", "kafkalab", "scenarios"], capture_output=True,
                         text=True, check=True).stdout.splitlines()
    assert [line.split(" — ")[0] for line in out] == list(scenarios.PRESETS)


def test_configuration_docs_are_generated_from_the_model():
    from pathlib import Path

    from kafkalab.model.config import markdown_table

    doc = Path(__file__).parents[2] / "docs" / "configuration.md"
    assert doc.read_text(encoding="utf-8").endswith(markdown_table()), \
        "regenerate docs/configuration.md with python -m kafkalab config"


def test_cli_error_for_a_kafkalab_key_says_kafkalab_once(capsys):
    """kafkalab's own keys are refused as "kafkalab: …" (ConfigError.kafka is False): the CLI
    must not prefix it a second time."""
    assert main(["run", "at-least-once-manual-commit", "--set", "commit.strategy=bogus"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("kafkalab: commit.strategy"), err
    assert "kafkalab: kafkalab:" not in err


def test_cli_crosscheck_takes_the_randomised_and_reproduction_options(capsys):
    """`python -m kafkalab crosscheck` forwards --workload/--random/--seed/--out to the
    crosscheck; a malformed reproduction is one line and exit 2 (no real client is started)."""
    assert main(["crosscheck", "--workload", "{bad"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("kafkalab: --workload is not valid JSON") and "\n" not in err
