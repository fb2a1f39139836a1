"""Links to a moment of a run (issue 19.1): a compact, versioned, checksummed string that
restores the run exactly (the model is deterministic: scenario + overrides + faults + seed
reproduce it, the step picks the moment)."""

from __future__ import annotations

import copy

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kafkalab import links, scenarios
from kafkalab.model import faults as faults_mod
from kafkalab.model.config import PROPERTIES, ConfigError

NAMES = [n for n, p in scenarios.PRESETS.items()] + [
    f"{n}/{v}" for n, p in scenarios.PRESETS.items() for v in p.variants]

def _value(prop):
    if prop.kind == "bool":
        return st.booleans()
    if prop.kind == "int":
        return st.integers(int(prop.low or 0), int(min(prop.high or 10**9, 2**31 - 1)))
    if prop.kind == "float":
        return st.floats(prop.low or 0, prop.high or 1e9, allow_nan=False)
    if prop.kind == "choice":
        return st.sampled_from(prop.choices)
    base = st.text(min_size=1, max_size=20)
    return st.one_of(st.none(), base) if prop.nullable else base

OVERRIDES = st.dictionaries(st.sampled_from(sorted(PROPERTIES)), st.nothing(), max_size=0)

@st.composite
def overrides(draw, max_size=12):
    keys = draw(st.lists(st.sampled_from(sorted(PROPERTIES)), unique=True, max_size=max_size))
    return {k: draw(_value(PROPERTIES[k])) for k in keys}

_OPTION = {"int": st.integers(0, 50), "float": st.floats(0, 1e6, allow_nan=False),
           "prob": st.floats(0, 1), "bool": st.booleans(),
           "point": st.sampled_from(faults_mod.CRASH_POINTS),
           "error": st.sampled_from(faults_mod.PRODUCE_ERRORS)}

@st.composite
def fault(draw):
    kind = draw(st.sampled_from(sorted(faults_mod._SPEC)))  # every kind the model has
    spec = faults_mod._SPEC[kind]
    out = {"type": kind}
    for key, (option, required) in spec.items():
        if required or draw(st.booleans()):
            out[key] = draw(_OPTION[option])
    return out

PLANS = st.one_of(st.none(), st.lists(fault(), max_size=4))

@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(NAMES), overrides(), PLANS, st.integers(0, 2**31),
       st.one_of(st.none(), st.integers(0, 10**6)))
def test_links_round_trip_exactly(name, over, plan, seed, step):
    state = links.LinkState(name, over, plan, seed, step)
    link = links.encode(state)
    assert links.decode(link) == state
    assert links.decode(f"https://example.org/lab/tree/notebooks/08_playground.ipynb#kafkalab="
                        f"{link}") == state

@settings(max_examples=40, deadline=None)
@given(st.sampled_from(NAMES), st.integers(0, 1000), st.data())
def test_restored_run_is_the_same_run(name, seed, data):
    """A random Lab state (preset, seed, a crash fault, a step) restores to the same
    RunResult JSON and the same step."""
    preset = scenarios.get(name)
    messages = preset.config.get("messages", 10)
    plan = copy.deepcopy(list(preset.faults))
    if data.draw(st.booleans()) and messages <= 100:
        plan.append({"type": "consumer_crash", "point": data.draw(st.sampled_from(
            faults_mod.CRASH_POINTS[:-1])), "message": data.draw(st.integers(0, messages - 1))})
    result = scenarios.run(name, seed=seed, faults=plan)
    step = data.draw(st.integers(0, max(len(result.events) - 1, 0)))
    link = links.link_of_result(result, step)
    opened = links.open_link(link, lab=False)
    assert opened.result.to_json() == result.to_json()
    assert opened.step == step
    assert opened.notes == []

def test_every_preset_round_trips_through_its_link():
    for name in NAMES:
        result = scenarios.run(name)
        opened = links.open_link(links.link_of_result(result), lab=False)
        assert opened.result.to_json() == result.to_json(), name
        assert opened.step == len(result.events) - 1

def test_longest_link_under_2000_characters():
    """Any preset plus a dozen overrides with long values: measured, printed, bounded."""
    longest = ("", 0)
    for name in NAMES:
        preset = scenarios.get(name)
        over = {}
        for key in sorted(PROPERTIES, key=lambda k: -len(k))[:12]:
            p = PROPERTIES[key]
            over[key] = {"bool": True, "int": int(min(p.high or 10**9, 2**31 - 1)),
                         "float": 123456.789012, "choice": (p.choices or ("x",))[-1],
                         "str": "orders-app-transactional-id"}[p.kind]
        plan = [*preset.faults, {"type": "consumer_crash", "point": "before_commit",
                                 "index": 40},
                {"type": "random", "lose_response": 0.125, "consumer_crash": 0.0625}]
        link = links.encode(links.LinkState(
            name, over, plan, 2**31 - 1, 123456,
            {"lost": 1000, "duplicates": 1000, "log_duplicates": 1000, "events": 100000}))
        if len(link) > longest[1]:
            longest = (name, len(link))
    print(f"longest link: {longest[1]} characters ({longest[0]})")
    assert longest[1] < links.MAX_LINK

@pytest.fixture
def good():
    return links.link_of_result(scenarios.run("at-least-once-manual-commit"), 4)

def _one_line(exc):
    text = str(exc.value)
    assert text.startswith("kafkalab: ") and "\n" not in text
    return text

def test_truncated_link(good):
    for cut in (10, len(good) // 2, len(good) - 3):
        with pytest.raises(ConfigError) as exc:
            links.decode(good[:cut])
        assert "incomplete" in _one_line(exc) or "damaged" in _one_line(exc)

def test_tampered_link(good):
    head, body, check = good.split(".")
    i = len(body) // 2
    changed = body[:i] + ("A" if body[i] != "A" else "B") + body[i + 1:]
    with pytest.raises(ConfigError) as exc:
        links.decode(f"{head}.{changed}.{check}")
    assert "checksum" in _one_line(exc)

def test_newer_version():
    state = links.LinkState("at-least-once-manual-commit")
    body = links.encode(state).split(".")[1]
    with pytest.raises(ConfigError) as exc:
        links.decode(f"k2.{body}.{links._checksum(2, body)}")
    assert "newer kafkalab" in _one_line(exc)

def test_unknown_scenario():
    link = links.encode(links.LinkState("at-least-once-manual-comit"))
    with pytest.raises(ConfigError) as exc:
        links.open_link(link, lab=False)
    assert "did you mean 'at-least-once-manual-commit'" in _one_line(exc)

def test_unknown_property_is_named():
    link = links.encode(links.LinkState("at-least-once-manual-commit",
                                        {"enable.autocommit": False}))
    with pytest.raises(ConfigError) as exc:
        links.decode(link)
    assert "enable.autocommit" in _one_line(exc) and "enable.auto.commit" in _one_line(exc)

def test_not_a_link():
    with pytest.raises(ConfigError) as exc:
        links.decode("hello")
    assert "not a kafkalab link" in _one_line(exc)

def test_older_model_says_what_changed():
    """A link records the counters of its run: when the model has changed since, the
    link still opens, with a note saying what differs."""
    result = scenarios.run("at-most-once-auto-commit")
    state = links.decode(links.link_of_result(result))
    state.outcome = {**state.outcome, "lost": 7}
    opened = links.open_link(links.encode(state), lab=False)
    assert opened.notes and "lost=7 then, 2 now" in opened.notes[0]

def test_step_past_the_end():
    result = scenarios.run("at-most-once-auto-commit")
    state = links.decode(links.link_of_result(result))
    state.step = len(result.events) + 5
    with pytest.raises(ConfigError) as exc:
        links.open_link(links.encode(state), lab=False)
    assert "past the end" in _one_line(exc)

def test_links_module_is_pure():
    import subprocess
    import sys

    code = ("import sys, kafkalab.links, kafkalab.scenario_files; "
            "print([m for m in ('ipywidgets', 'plotly') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[]"

def test_cli_link_and_report(tmp_path, capsys):
    from kafkalab.cli import main

    assert main(["link", "at-least-once-manual-commit", "--step", "3",
                 "--set", "max.poll.records=5"]) == 0
    link = capsys.readouterr().out.strip()
    state = links.decode(link)
    assert state.step == 3 and state.overrides == {"max.poll.records": 5}
    out = tmp_path / "r.html"
    assert main(["report", "--link", link, "--html", str(out)]) == 0
    page = out.read_text(encoding="utf-8")
    assert "kafkalab-link" in page and "k1." in page
    assert main(["run", "--link", link[:-4]]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("kafkalab: ") and "kafkalab: kafkalab" not in err
