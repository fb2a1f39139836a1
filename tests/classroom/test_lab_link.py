"""The Lab's links (issue 19.1): lab.link(), Lab.from_link(s), the "copy link" row, the page
URL's #kafkalab= link, bad links in the dashboard; scenario files in the picker (19.2)."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

pytest.importorskip("ipywidgets")

from kafkalab import Lab, links, open_link, scenarios
from kafkalab.widgets.lab import CONFIG_CONTROLS

NAMES = [n for n in scenarios.PRESETS] + [
    f"{n}/{v}" for n, p in scenarios.PRESETS.items() for v in p.variants]


@pytest.fixture(scope="module")
def lab():
    return Lab()


def _figures(lab) -> dict:
    """Each figure's traces (without plotly's random per-trace ``uid``)."""
    out = {}
    for name, fig in lab.figures.items():
        data = [{k: v for k, v in trace.items() if k != "uid"} for trace in fig.to_dict()["data"]]
        out[name] = json.dumps(data, sort_keys=True, default=str)
    return out


CHANGES = {"max.poll.records": st.integers(1, 20), "enable.auto.commit": st.booleans(),
           "isolation.level": st.sampled_from(["read_committed", "read_uncommitted"]),
           "seed": st.integers(0, 50), "crash.after.record": st.integers(-1, 9)}


@settings(max_examples=12, deadline=None, phases=[Phase.explicit, Phase.generate],
          suppress_health_check=[
    HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(name=st.sampled_from(NAMES), data=st.data())
def test_random_lab_states_round_trip(lab, name, data):
    assert lab.load(name)
    for key in data.draw(st.lists(st.sampled_from(sorted(CHANGES)), unique=True, max_size=3)):
        lab.set(key, data.draw(CHANGES[key]))
    if lab.error:  # a combination Kafka refuses: nothing to link
        return
    lab.step = data.draw(st.integers(0, max(len(lab.result.events) - 1, 0)))
    link = lab.link()
    assert len(link) < links.MAX_LINK
    other = Lab.from_link(link)
    assert other.error is None
    a, b = json.loads(other.result.to_json()), json.loads(lab.result.to_json())
    assert [k for k in a if a[k] != b[k]] == [], {
        k: {kk: (a[k].get(kk), b[k].get(kk)) for kk in a[k] if a[k].get(kk) != b[k].get(kk)}
        if isinstance(a[k], dict) else (a[k], b[k]) for k in a if a[k] != b[k] and k != "trace"}
    assert other.step == lab.step
    assert _figures(other) == _figures(lab)
    assert {k: other.controls[k].value for k in CONFIG_CONTROLS} == {
        k: lab.controls[k].value for k in CONFIG_CONTROLS}


def test_open_link_gives_the_lab_and_the_run(lab):
    assert lab.load("at-least-once-manual-commit")
    lab.step = 5
    opened = open_link(lab.link())
    assert opened.lab.step == 5 and opened.step == 5
    assert opened.result.to_json() == lab.result.to_json()


def test_bad_link_keeps_the_last_good_run(lab):
    assert lab.load("at-most-once-auto-commit")
    lab.step = 4
    before = lab.result.to_json()
    good = lab.link()
    for bad in (good[:-5], good[:20], "k9.abc.abcdefgh", "hello"):
        assert lab.open_link(bad) is False
        assert lab.error.startswith("kafkalab: ") and "\n" not in lab.error
        assert lab.result.to_json() == before and lab.step == 4
    unknown = links.encode(links.LinkState("no-such-scenario"))
    assert lab.open_link(unknown) is False and "no-such-scenario" in lab.error


def test_copy_link_button_and_page_url(lab):
    assert lab.load("idempotent-producer-lost-ack")
    lab.step = 3
    assert lab.link_box.refresh() == lab.link()  # what the button asks the kernel for
    # the front end found #kafkalab=… in the page URL: the Lab lands at that state
    target = links.link_of_result(scenarios.run("exactly-once-pipeline/read-uncommitted"), 9)
    lab.link_box.url_link = target
    assert lab.result.scenario == "exactly-once-pipeline/read-uncommitted"
    assert lab.step == 9 and lab.error is None
    esm = lab.link_box._esm
    assert "kafkalab=" in esm and "window.location" in esm


def test_overrides_no_control_shows_survive_a_control_change(lab):
    link = links.link_for("at-least-once-manual-commit", {"processing.ms": 7.5})
    assert lab.open_link(link)
    assert lab.result.config["processing.ms"] == 7.5
    lab.set("seed", 3)
    assert lab.result.config["processing.ms"] == 7.5


def test_scenario_files_in_the_picker(tmp_path, monkeypatch):
    data = json.loads(scenarios_export("at-most-once-commit-first"))
    data.update(name="lesson-picker", title="From a file")
    (tmp_path / "scenarios").mkdir()
    (tmp_path / "scenarios" / "lesson.json").write_text(json.dumps(data), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    lab = Lab()
    assert "lesson-picker" in lab.scenario_picker.options
    lab.scenario_picker.value = "lesson-picker"
    assert lab.result.scenario == "lesson-picker" and lab.outcome["lost"] == 4
    other = Lab("scenarios/lesson.json")
    assert other.scenario_picker.value == "lesson-picker" and other.error is None


def scenarios_export(name: str) -> str:
    from kafkalab import scenario_files

    return scenario_files.export(name)


def test_a_link_kafka_would_refuse_keeps_the_last_good_run(lab):
    assert lab.load("at-least-once-manual-commit")
    before = lab.result.to_json()
    bad = links.link_for("at-least-once-manual-commit", {"enable.idempotence": True,
                                                         "acks": "0"})
    assert lab.open_link(bad) is False
    assert "\n" not in lab.error and lab.result.to_json() == before
