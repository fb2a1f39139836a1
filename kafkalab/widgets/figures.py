"""Applying a run and a step to the Lab's four FigureWidgets.

``LabFigures`` owns the figures ("timeline", "ledger", "log", "topology") and what was last
sent to each: ``show_run(result)`` draws a new run (the timeline and ledger in full),
``show_step(result, step)`` moves the now-line and the ledger's "in this step" marker and
redraws the step-dependent log and topology, sending only what changed (``apply``). The
specs come from ``kafkalab.viz``; nothing here runs the model.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

import plotly.graph_objects as go

from ..model.faults import describe as describe_fault
from ..palette import ALERT_BACKGROUND, BLUE, CAPTION, MUTED, VERMILLION, C
from ..viz import wrap
from ..viz.ledger import CATEGORIES as LEDGER_CATEGORIES
from ..viz.ledger import columns_for, ledger_hovers, ledger_spec
from ..viz.log import log_spec
from ..viz.timeline import now_line, series, timeline_spec
from ..viz.topology import build_graph, layout_positions, topology_spec
from .live_figure import LiveFigure

HOVER_EXPLAIN_LIMIT = 50  # messages; above, ledger hovers are summaries (click explains)
LAB_CAPTION_CHARS = 62  # caption line in the Lab's narrow figure column
FIGURE_HEIGHT = 420  # px at most: a figure and the controls fit a 1280x720 laptop screen
FIGURE_TABS = (("timeline", "offsets over time"), ("ledger", "message ledger"),
               ("log", "broker log"), ("topology", "topology"))


class LabFigures:
    """The Lab's FigureWidgets and the specs last sent to them."""

    def __init__(self, on_message_click: Callable[[int], Any]):
        # autosize: the figures follow the width of their column (the notebook's width)
        self.figures: dict[str, go.FigureWidget] = {
            name: LiveFigure(layout={"autosize": True}) for name, _ in FIGURE_TABS}
        self._sent: dict[str, dict] = {name: {} for name in self.figures}
        self._on_message_click = on_message_click
        self._message_cells: dict[int, tuple[float, float]] = {}
        self._graph = None
        self._pos = None
        self._series = None
        self._redraw_all = True

    def show_run(self, r) -> None:
        """Draw a new run: the timeline and the ledger (the log and topology depend on the
        step: ``show_step`` draws them)."""
        self._series = series(r, 0)
        self._graph = build_graph(r)
        self._pos = layout_positions(self._graph)
        n = len(r.ledger.messages)
        specs = {
            "timeline": timeline_spec(r, 0, s=self._series),
            # explain() per message costs O(events) each: full stories on hover for small runs,
            # a one-line summary above (a click still shows the full story in the text panel)
            "ledger": ledger_spec(r, hovers=ledger_hovers(
                r, "explain" if n <= HOVER_EXPLAIN_LIMIT else "summary" if n <= 2000 else "brief")),
        }
        specs["timeline"]["layout"]["shapes"] = [now_line(r, None)]
        cols = columns_for(n)
        self._message_cells = {m: (m % cols, m // cols) for m in range(n)}
        ledger = specs["ledger"]
        size = ledger["data"][0]["marker"]["size"] + 4
        ledger["data"].append({"type": "scatter", "mode": "markers", "name": "in this step",
                               "x": [], "y": [], "hoverinfo": "skip", "showlegend": True,
                               "marker": {"symbol": "square-open", "size": size,
                                          "color": C["black"],
                                          "line": {"width": 3 if size > 12 else 1.5,
                                                   "color": C["black"]}}})
        for name, spec in specs.items():
            rebuilt = apply(self.figures[name], spec, self._sent[name])
            if name == "ledger" and rebuilt:
                for trace in self.figures["ledger"].data[: len(LEDGER_CATEGORIES) + 1]:
                    trace.on_click(self._on_ledger_click)
        self._redraw_all = True  # the next show_step redraws log and topology layouts in full

    def show_step(self, r, step: int) -> None:
        event = r.events[step]
        fig = self.figures["timeline"]
        if fig.layout.shapes:
            fig.plotly_relayout({"shapes[0].x0": event.t, "shapes[0].x1": event.t})
        ledger = self.figures["ledger"]
        ids = _message_ids(event)
        cells = [self._message_cells[m] for m in ids if m in self._message_cells]
        xs, ys = [c[0] for c in cells], [c[1] for c in cells]
        current = self._sent["ledger"]["data"][-1]
        if current.get("x") != xs or current.get("y") != ys:
            ledger.plotly_restyle({"x": [xs], "y": [ys]}, [len(ledger.data) - 1])
            current["x"], current["y"] = xs, ys
        keys = None if self._redraw_all else ("title", "annotations", "yaxis")
        self._redraw_all = False
        apply(self.figures["log"], log_spec(r, step), self._sent["log"], layout_keys=keys)
        apply(self.figures["topology"], topology_spec(r, step, self._graph, self._pos),
              self._sent["topology"], layout_keys=keys)

    def _on_ledger_click(self, trace, points, _selector=None) -> None:
        inds = list(getattr(points, "point_inds", []) or [])
        if not inds or trace.customdata is None:
            return
        self._on_message_click(trace.customdata[inds[0]])


def fit_beside_controls(spec: dict) -> dict:
    """A figure spec for the Lab's figure column (~500 px wide on a 1280 px laptop, beside the
    controls): at most FIGURE_HEIGHT tall, a smaller title font, a legend in fixed-width
    columns below the axis title."""
    layout = dict(spec["layout"])
    title = layout.get("title")
    if isinstance(title, dict) and isinstance(title.get("text"), str):
        layout["title"] = {**title, "font": {"size": 13 if len(title["text"]) > 50 else 15}}
    if isinstance(layout.get("legend"), dict) and layout["legend"].get("orientation") == "h":
        layout["legend"] = {**layout["legend"], "entrywidth": 0.5, "entrywidthmode": "fraction",
                            "font": {"size": 10}}
        margin = dict(layout.get("margin") or {})
        margin["b"] = max(margin.get("b", 0), 160)
        layout["margin"] = margin
        height = min(layout.get("height", FIGURE_HEIGHT), FIGURE_HEIGHT)
        plot_px = max(height - margin.get("t", 70) - margin["b"], 60)
        layout["legend"]["y"] = -58 / plot_px
    yaxis = layout.get("yaxis")
    if isinstance(yaxis, dict) and isinstance(yaxis.get("title"), dict):
        text = yaxis["title"].get("text") or ""
        if len(text) > 24 and "<br>" not in text:  # a short plot: the title in two lines
            layout["yaxis"] = {**yaxis, "title": {**yaxis["title"], "text": wrap(text, 24),
                                                  "font": {"size": 11}}}
    annotations = layout.get("annotations")
    if isinstance(annotations, list):
        lines = 1
        rewrapped = []
        for a in annotations:
            if isinstance(a, dict) and a.get("name") == "caption":
                text = wrap(str(a.get("text", "")).replace("<br>", " "), LAB_CAPTION_CHARS)
                lines = text.count("<br>") + 1
                a = {**a, "text": text}
            rewrapped.append(a)
        layout["annotations"] = rewrapped
        margin = dict(layout.get("margin") or {})
        margin["t"] = 70 + 14 * (lines - 1)
        layout["margin"] = margin
    if layout.get("height", 0) > FIGURE_HEIGHT:
        layout["height"] = FIGURE_HEIGHT
    return {**spec, "layout": layout}


def apply(fig: go.FigureWidget, spec: dict, sent: dict, layout_keys: tuple | None = None) -> bool:
    """Update a FigureWidget in place from a spec, sending only what differs from the spec
    sent last time (``sent``: the Lab's cache for this figure).

    Changed trace properties go out as one restyle per property (whole arrays, no per-point
    updates) and changed layout paths as one relayout; these skip plotly's per-element
    validation, which dominates for large runs (the specs are built by kafkalab.viz and were
    validated when the traces were first added). Traces are rebuilt only when their structure
    (count, types, names) changed. Returns True if they were rebuilt."""
    spec = fit_beside_controls(spec)
    data = spec["data"]
    old_data = sent.get("data")
    same = old_data is not None and len(fig.data) == len(data) == len(old_data) and all(
        o.get("type") == d.get("type") and o.get("name") == d.get("name")
        for o, d in zip(old_data, data, strict=False))
    layout = spec["layout"]
    old_layout = sent.get("layout", {})
    keys = layout_keys if layout_keys is not None else tuple(layout)
    relayout: dict[str, Any] = {}
    for key in keys:
        if key not in layout:
            continue
        value = layout[key]
        old = old_layout.get(key)
        if old == value:
            continue
        if isinstance(value, dict) and isinstance(old, dict) and key != "meta":
            for sub, sub_value in value.items():
                if old.get(sub) != sub_value:
                    relayout[f"{key}.{sub}"] = sub_value
        else:
            relayout[key] = value
    if same:
        restyle: dict[str, tuple[list, list]] = {}
        for index, (new, old) in enumerate(zip(data, old_data, strict=False)):
            for key, value in new.items():
                if key != "type" and old.get(key) != value:
                    values, indexes = restyle.setdefault(key, ([], []))
                    values.append(value)
                    indexes.append(index)
        for key, (values, indexes) in restyle.items():
            fig.plotly_restyle({key: values}, indexes)
        if relayout:
            fig.plotly_relayout(relayout)
    else:
        with fig.batch_update():
            fig.data = ()
            fig.add_traces(data)
            fig.layout.update({k: layout[k] for k in keys if k in layout}, overwrite=True)
    sent["data"] = data
    sent["layout"] = {**old_layout, **{k: layout[k] for k in keys if k in layout}}
    return not same


def _message_ids(event) -> list[int]:
    d = event.data
    if "records" in d:
        return sorted({rec[2] for rec in d["records"]})
    if "messages" in d:
        return list(d["messages"])
    if "message" in d:
        return [d["message"]]
    return []


def step_html(result, step: int, around: int = 2) -> str:
    events = result.events
    event = events[step]
    snap = result.snapshots[step] if result.snapshots else {}
    lines = [f"<b>Step {step} of {len(events) - 1}</b> · t = {event.t:g} ms · "
             f"<code>{html.escape(event.kind)}</code> by {html.escape(event.actor)}",
             f"<div style='font-size:15px;margin:4px 0'>{html.escape(event.text)}</div>"]
    if snap:
        prefix = result.sink_role
        alive = [f"{m} {'alive' if s['alive'] else 'down'}" for m, s in snap["members"].items()
                 if m.startswith(prefix)]
        lines.append(f"<span style='color:{MUTED}'>so far: {snap.get('processed', 0)} processed, "
                     f"{snap.get('acked', 0)} acknowledged"
                     + (f"; {', '.join(alive)}" if alive else "") + "</span>")
    nearby = []
    for i in range(max(0, step - around), min(len(events), step + around + 1)):
        if i == step:
            continue
        e = events[i]
        mark = "before" if i < step else "next"
        nearby.append(f"<li style='color:{MUTED}'>{mark} · step {i}, t={e.t:g} ms: "
                      f"{html.escape(e.text)}</li>")
    if nearby:
        lines.append("<ul style='margin:2px 0 0 0'>" + "".join(nearby) + "</ul>")
    return "".join(lines)


# -- the text around the figures ---------------------------------------------------------------
def counters_html(o: dict) -> str:
    """The counters line above the figures (sent, written, ..., throughput)."""
    cells = [("sent", o["sent"], None), ("written", o["written"], None),
             ("delivered", o["delivered"], None), ("processed", o["processed"], None),
             ("lost", o["lost"], C["vermillion"]), ("duplicates", o["duplicates"], C["orange"]),
             ("log duplicates", o["log_duplicates"], C["purple"]),
             ("throughput", f"{o['throughput_per_s']:,.0f} rec/s simulated", None)]
    parts = []
    for label, value, color in cells:
        style = f"color:{color};font-weight:bold" if color and value else ""
        parts.append(f"<span style='margin-right:10px;white-space:nowrap'>{label}: "
                     f"<span style='{style}'>"
                     f"{value}</span></span>")
    drained = "" if o.get("drained", True) else " <i>(the run did not drain: unseen " \
                                                    f"{o.get('unseen', 0)})</i>"
    return ("<div style='font-size:12.5px;line-height:1.4'>" + " ".join(parts) + drained
            + "</div>")


def error_html(message: str | None) -> str:
    if not message:
        return ""
    return (f"<div style='border:2px solid {VERMILLION};background:{ALERT_BACKGROUND};"
            "padding:6px 10px;border-radius:4px'><b>⚠ Not run:</b> " + html.escape(message) +
            "<br><i>The last good run is still shown.</i></div>")


def text_html(value: str) -> str:
    return (f"<div style='border-left:4px solid {BLUE};padding:4px 10px;max-width:1100px'>"
            + value + "</div>")


def story_html(preset) -> str:
    """One line until opened: the figures stay on a laptop screen beside the controls."""
    return (f"<details style='font-size:13px;line-height:1.35'><summary>"
            f"<b>{html.escape(preset.title)}</b> <span style='color:{MUTED}'>"
            f"(the story: click)</span></summary><span style='color:{CAPTION}'>"
            f"{html.escape(preset.story)}</span></details>")


def fault_note_html(other_faults: list[dict]) -> str:
    if not other_faults:
        return ""
    items = "; ".join(describe_fault(f) for f in other_faults)
    return f"<i>Also in this preset's fault plan: {html.escape(items)}.</i>"
