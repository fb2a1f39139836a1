"""An instructor's own scenarios (issue 19.2): JSON/TOML files accepted wherever a preset
name is, validated like any config, their claimed outcome checked."""

from __future__ import annotations

import json

import pytest

from kafkalab import links, scenario_files, scenarios
from kafkalab.cli import main
from kafkalab.model import ConfigError

NAMES = [n for n in scenarios.PRESETS] + [
    f"{n}/{v}" for n, p in scenarios.PRESETS.items() for v in p.variants]

LESSON = {
    "name": "my-lesson", "title": "Commit first, lose the rest",
    "story": "The consumer commits before it processes.",
    "config": {"messages": 10, "enable.auto.commit": False,
               "commit.strategy": "before-processing", "max.poll.records": 10,
               "producer.send.interval.ms": 0, "consumer.start.ms": 20,
               "auto.offset.reset": "earliest"},
    "faults": [{"type": "consumer_crash", "point": "after_processing", "message": 5}],
    "seed": 3, "expect": {"lost": 4, "duplicates": 0},
    "questions": ["How many records are lost?"],
}


def _write(tmp_path, data, name="lesson.json"):
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


@pytest.mark.parametrize("name", NAMES)
def test_every_preset_exports_to_a_file_that_runs_identically(name, tmp_path):
    path = tmp_path / "exported.json"
    path.write_text(scenario_files.export(name), encoding="utf-8")
    from_file = scenarios.run(str(path))
    builtin = scenarios.run(name)
    a, b = json.loads(from_file.to_json()), json.loads(builtin.to_json())
    if "/" in name:  # a variant is exported as a scenario of its own name
        assert a.pop("scenario") == name.replace("/", ".")
        b.pop("scenario")
    assert a == b


def test_a_lesson_file_runs_everywhere(tmp_path, capsys):
    path = _write(tmp_path, LESSON)
    result = scenarios.run(str(path))
    assert result.scenario == "my-lesson" and result.seed == 3
    assert result.outcome["lost"] == 4
    assert scenarios.get("my-lesson").questions == ("How many records are lost?",)
    assert main(["run", str(path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["outcome"]["lost"] == 4
    assert main(["sweep", str(path)]) == 0
    capsys.readouterr()
    out = tmp_path / "r.html"
    assert main(["report", str(path), "--html", str(out)]) == 0
    assert "Commit first, lose the rest" in out.read_text(encoding="utf-8")
    # its link carries the file: it opens without it
    link = links.link_of_result(result, 2)
    scenario_files.REGISTRY.pop("my-lesson")
    opened = links.open_link(link, lab=False)
    assert opened.result.to_json() == result.to_json()


def test_toml(tmp_path):
    text = """name = "toml-lesson"
title = "From TOML"
seed = 3
faults = [{type = "consumer_crash", point = "after_processing", message = 5}]
[config]
messages = 10
"enable.auto.commit" = false
"commit.strategy" = "before-processing"
"max.poll.records" = 10
"producer.send.interval.ms" = 0
"consumer.start.ms" = 20
"auto.offset.reset" = "earliest"
[expect]
lost = 4
"""
    path = tmp_path / "lesson.toml"
    path.write_text(text, encoding="utf-8")
    assert scenarios.run(str(path)).outcome["lost"] == 4


def _error(tmp_path, data, capsys):
    path = _write(tmp_path, data)
    with pytest.raises(ConfigError) as exc:
        scenarios.get(str(path))
    text = str(exc.value)
    assert "\n" not in text and text.startswith("kafkalab: ")
    assert main(["run", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "kafkalab: kafkalab" not in err
    return text


def test_wrong_expected_outcome(tmp_path, capsys):
    text = _error(tmp_path, {**LESSON, "expect": {"lost": 2}}, capsys)
    assert "this scenario does not show what it claims: expected lost=2, got 4" in text


def test_unknown_keys_get_did_you_mean(tmp_path, capsys):
    assert "did you mean 'story'" in _error(tmp_path, {**LESSON, "stroy": "x"}, capsys)
    bad = {**LESSON, "config": {**LESSON["config"], "enable.autocommit": False}}
    assert "did you mean 'enable.auto.commit'" in _error(tmp_path, bad, capsys)
    assert "did you mean 'duplicates'" in _error(tmp_path, {**LESSON, "expect": {
        "duplicate": 0}}, capsys)


def test_bad_fault_and_bad_file(tmp_path, capsys):
    text = _error(tmp_path, {**LESSON, "faults": [{"type": "consumer_crash", "point": "x",
                                                   "message": 1}]}, capsys)
    assert "point 'x'" in text
    text = _error(tmp_path, {**LESSON, "faults": [{"type": "processing_failure",
                                                   "message": 99}]}, capsys)
    assert "message 99 does not exist" in text
    path = tmp_path / "broken.json"
    path.write_text("{", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid JSON"):
        scenarios.get(str(path))
    with pytest.raises(ConfigError, match="does not exist"):
        scenarios.get(str(tmp_path / "missing.json"))


def test_a_preset_name_is_refused_unless_unchanged(tmp_path, capsys):
    data = json.loads(scenario_files.export("at-most-once-commit-first"))
    data["config"]["messages"] = 12
    data["expect"] = {}
    assert "built-in preset" in _error(tmp_path, data, capsys)


def test_export_and_folder_listing(tmp_path, capsys):
    assert main(["scenarios", "--export", "commit-cost", "--out",
                 str(tmp_path / "cost.json")]) == 0
    _write(tmp_path, LESSON, "b_lesson.json")
    capsys.readouterr()
    assert main(["scenarios", "--scenarios", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "my-lesson — Commit first, lose the rest" in out
    names, errors = scenario_files.picker_entries([tmp_path])
    assert names == ["my-lesson", "commit-cost"] and errors == []
    _write(tmp_path, {**LESSON, "name": "c", "expect": {"lost": 1}}, "c_bad.json")
    names, errors = scenario_files.picker_entries([tmp_path])
    assert names == ["my-lesson", "commit-cost"] and "does not show" in errors[0]


def test_scenarios_folder_next_to_the_notebook(tmp_path, monkeypatch):
    (tmp_path / "scenarios").mkdir()
    _write(tmp_path / "scenarios", LESSON)
    monkeypatch.chdir(tmp_path)
    assert scenario_files.picker_entries()[0] == ["my-lesson"]
