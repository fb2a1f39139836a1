"""Figures tell the truth at every frame (issue 14 item 3).

For every preset and variant (``kafkalab.scenarios.PRESETS``) and every frame of the ledger,
log and timeline animations: the frame's title and caption describe *that* frame, checked
against what the frame draws and against the model's own counters in the run's snapshots
(never against the end state); and no legend lists a trace that no frame draws. The static
figures (the whole run) list no empty trace either.
"""

from __future__ import annotations

import re

import pytest

from kafkalab import scenarios
from kafkalab.model import simulate
from kafkalab.viz.animate import animation_spec
from kafkalab.viz.ledger import CATEGORIES as LEDGER_CATEGORIES
from kafkalab.viz.ledger import COPIES_TRACE, ledger_spec
from kafkalab.viz.log import CATEGORIES as LOG_CATEGORIES
from kafkalab.viz.log import log_spec
from kafkalab.viz.timeline import timeline_spec

NAMES = [name for name, preset in scenarios.PRESETS.items()
         for name in (name, *(f"{name}/{v}" for v in preset.variants))]
UNDRAINED = "undrained"  # a run stopped before every message was sent (never-sent messages)


@pytest.fixture(scope="module")
def runs():
    out = {name: scenarios.run(name) for name in NAMES}
    out[UNDRAINED] = simulate({"messages": 10, "producer.send.interval.ms": 5,
                               "max.simulated.ms": 22}, [], 0, scenario=UNDRAINED)
    return out


CASES = [*NAMES, UNDRAINED]


@pytest.fixture(scope="module")
def animation(runs):
    """``animation(name, kind)``: that run's animation spec, made once for the module (the caption
    and the legend tests read the same ones and change nothing)."""
    made: dict[tuple[str, str], dict] = {}

    def get(name: str, kind: str) -> dict:
        if (name, kind) not in made:
            made[name, kind] = animation_spec(runs[name], kind)
        return made[name, kind]

    return get


def _points(trace: dict) -> list:
    """The points a trace draws: x and (where it has one) y both set."""
    xs = trace.get("x") or []
    ys = trace.get("y") or [0] * len(xs)
    return [x for x, y in zip(xs, ys, strict=False) if x is not None and y is not None]


def _by_name(frame: dict) -> dict[str, dict]:
    return {t["name"]: t for t in frame["data"] if "name" in t}


def _caption(annotations: list[dict]) -> str:
    [cap] = [a for a in annotations if a.get("name") == "caption"]
    return cap["text"].replace("<br>", " ")


def _title(frame: dict) -> str:
    return frame["layout"]["title"]["text"]


def _ids(ids: list[int]) -> str:
    shown = ", ".join(str(i) for i in ids[:8])
    return shown + (f", … (+{len(ids) - 8})" if len(ids) > 8 else "")


def _mentions(caption: str, count: int, phrase: str) -> None:
    """"``count`` ``phrase``" is in the caption when count > 0; no number of that phrase at
    all when count is 0."""
    if count:
        assert f"{count} {phrase}" in caption, (count, phrase, caption)
    else:
        assert not re.search(r"\d " + re.escape(phrase), caption), (phrase, caption)


# -- the ledger ---------------------------------------------------------------------------------
@pytest.mark.parametrize("name", CASES)
def test_every_ledger_frame_caption_describes_that_frame(runs, animation, name):
    r = runs[name]
    spec = animation(name, "ledger")
    last = len(r.events) - 1
    n = len(r.ledger.messages)
    for frame in spec["frames"]:
        step = int(frame["name"])
        traces = _by_name(frame)
        ids = {key: sorted(traces[label]["customdata"][i]
                           for i, x in enumerate(traces[label]["x"]) if x is not None)
               for key, label, *_ in LEDGER_CATEGORIES}
        assert sum(len(v) for v in ids.values()) == n  # every message in one category
        # the model's own counter of applications to the sink, at this step
        dups = traces["×n: processed more than once"]
        times = [int(str(text).split("<br>")[-1].lstrip("×"))  # the cell's label: ×n
                 for m, text in zip(dups["customdata"], dups["text"], strict=True)
                 if m is not None]
        assert len(ids["once"]) + sum(times) == r.snapshots[step]["processed"]
        title, cap = _title(frame), _caption(frame["layout"]["annotations"])
        assert title.startswith(f"Message ledger at step {step} of {last}"), title
        _mentions(cap, len(ids["lost"]), "lost")
        if ids["lost"]:
            assert f"lost ({_ids(ids['lost'])})" in cap
        _mentions(cap, len(ids["duplicate"]), "processed more than once")
        if ids["duplicate"]:
            assert f"({_ids(ids['duplicate'])})" in cap
        _mentions(cap, len(_points(traces[COPIES_TRACE])), "with 2+ copies in the log")
        if step < last:
            assert cap.startswith(f"Step {step} (t={r.events[step].t:g} ms): "
                                  f"{len(ids['once'])} of {n} messages processed once so far")
            assert not ids["lost"], "a message is lost only once the run has ended"
            _mentions(cap, len(ids["pending"]), "not processed yet")
            assert "exactly once" not in cap and "none lost" not in cap, cap
        else:  # the run's verdict, the ledger's own categories
            categories = r.ledger.categories()
            assert ids["lost"] == categories["lost"]
            assert ids["duplicate"] == categories["duplicates"]
            assert ids["once"] == categories["exactly_once"]
            assert cap.startswith(f"{len(ids['once'])} of {n} messages processed exactly once")
            _mentions(cap, len(categories["never_sent"]), "never sent")
            _mentions(cap, len(categories["unseen"]), "sent but not processed when the run ended")
            if not ids["lost"] and not ids["duplicate"] and r.drained:
                assert "none lost or duplicated" in cap


# -- the broker log -----------------------------------------------------------------------------
@pytest.mark.parametrize("name", CASES)
def test_every_log_frame_caption_describes_that_frame(runs, animation, name):
    r = runs[name]
    spec = animation(name, "log")
    last = len(r.events) - 1
    for frame in spec["frames"]:
        step = int(frame["name"])
        traces = _by_name(frame)
        count = {key: len(_points(traces[label])) for key, label, *_ in LOG_CATEGORIES}
        title, cap = _title(frame), _caption(frame["layout"]["annotations"])
        assert title.startswith(f"Broker log at step {step} of {last}"), title
        records = count["record"] + count["open"] + count["duplicate"] + count["aborted"]
        logs = r.snapshots[step]["logs"]
        written = sum(end for parts in logs.values() for end, _hw, _lso in parts)
        window = re.search(r"Showing a window: (.*), of ([\d,]+) offsets written so far\.", cap)
        if window:
            assert cap.startswith(f"The window shows {records} record(s)"), cap
            assert int(window.group(2).replace(",", "")) == written
        else:  # every offset of the log is drawn: a record or a control marker
            assert records + count["marker"] == written, (records, count, written)
            assert cap.startswith(f"The log holds {records} record(s)"), cap
        _mentions(cap, count["duplicate"], "duplicate cop")
        _mentions(cap, count["marker"], "control marker(s)")
        _mentions(cap, count["aborted"], "aborted record(s)")
        _mentions(cap, count["open"], "in an open transaction")


# -- the timeline -------------------------------------------------------------------------------
@pytest.mark.parametrize("name", CASES)
def test_every_timeline_frame_caption_describes_that_frame(runs, animation, name):
    r = runs[name]
    spec = animation(name, "timeline")
    last = len(r.events) - 1
    for frame in spec["frames"]:
        step = int(frame["name"])
        t = r.events[step].t
        cap = _caption(frame["layout"]["annotations"])
        assert frame["layout"]["shapes"][0]["x0"] == t  # the now-line at this step's time
        if step < last:
            processed = r.snapshots[step]["processed"]
            assert cap.startswith(f"Step {step} (t={t:g} ms): "), cap
            assert f"{processed} records processed so far" in cap, cap
            assert " lost" not in cap and "never runs ahead" not in cap, cap
        elif r.drained:
            o = r.outcome
            assert f"{o['lost']} lost, {o['duplicates']} processed more than once" in cap
        else:  # nothing is lost before the end: it says what did not get through instead
            o = r.outcome
            assert " lost" not in cap, cap
            assert f"{o['never_sent']} never sent, {o['unseen']} sent but not processed" in cap


def test_the_animation_caption_names_the_step_it_describes(runs, animation):
    """The figure's own caption (under an animation in a report, in text/plain) is about the
    last step and says so; what is on screen at first is frame 0's caption."""
    r = runs["at-most-once-auto-commit"]
    spec = animation("at-most-once-auto-commit", "ledger")
    last = len(r.events) - 1
    assert spec["layout"]["meta"]["caption"].startswith(f"At the last step ({last}): ")
    assert _caption(spec["layout"]["annotations"]) == _caption(
        spec["frames"][0]["layout"]["annotations"])
    assert _caption(spec["layout"]["annotations"]).startswith("Step 0 ")


# -- legends ------------------------------------------------------------------------------------
def _legend_traces(data: list[dict]) -> list[dict]:
    return [t for t in data if t.get("type", "scatter") in ("scatter", "bar")]


@pytest.mark.parametrize("kind", ["ledger", "log", "timeline"])
@pytest.mark.parametrize("name", CASES)
def test_animated_legends_list_only_what_some_frame_draws(animation, name, kind):
    spec = animation(name, kind)
    base = _legend_traces(spec["data"])
    legend = [t["name"] for t in base if t.get("showlegend") is not False]
    assert legend, "an animation with nothing in its legend"
    for trace_name in legend:
        assert any(_points(t) for f in spec["frames"] for t in _legend_traces(f["data"])
                   if t["name"] == trace_name), f"legend entry {trace_name!r}: no frame draws it"
    for frame in spec["frames"]:  # the same legend in every frame: it does not jump
        traces = _legend_traces(frame["data"])
        assert [t["name"] for t in traces] == [t["name"] for t in base]
        assert [t["name"] for t in traces if t.get("showlegend") is not False] == legend


@pytest.mark.parametrize("name", CASES)
def test_static_figures_list_no_empty_trace(runs, name):
    r = runs[name]
    for spec in (ledger_spec(r), log_spec(r), timeline_spec(r)):
        for trace in _legend_traces(spec["data"]):
            if trace.get("showlegend") is not False and trace.get("visible") != "legendonly":
                assert _points(trace), (spec["layout"]["title"]["text"], trace["name"])


def test_an_undrained_run_says_never_sent_not_not_yet(runs):
    r = runs[UNDRAINED]
    never = r.ledger.never_sent()
    assert never and not r.drained
    cap = _caption(ledger_spec(r)["layout"]["annotations"])
    assert f"{len(never)} never sent (the run ended first)" in cap
    assert "not processed yet" not in cap
