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
from ..viz import TEMPLATE, wrap
from ..viz.ledger import CATEGORIES as LEDGER_CATEGORIES
from ..viz.ledger import columns_for, ledger_hovers, ledger_spec
from ..viz.log import log_spec
from ..viz.timeline import now_line, series, timeline_spec
from ..viz.topology import build_graph, layout_positions, topology_spec
from .live_figure import LiveFigure

IN_THIS_STEP = "in this step"  # the ledger's marker of the messages the current step touches
HOVER_EXPLAIN_LIMIT = 50  # messages; above, ledger hovers are summaries (click explains)
LAB_CAPTION_CHARS = 62  # caption line in the Lab's narrow figure column
FIGURE_HEIGHT = 400  # px at most: a figure and the controls fit a 1280x720 laptop screen
TITLE_PX = 36  # the title at the top of a Lab figure, above its caption
MIN_PLOT_PX = 140  # px at least for the plot itself, between the caption and the legend
LAB_TITLE_CHARS = 56  # a title line at 15 px in the Lab's figure column at a 1000 px notebook
STORY_TITLE_CHARS = 64  # a longer scenario title: only its part before ": " in bold
LAB_AXIS_TITLE_CHARS = 40  # an x-axis title longer than this at 16 px runs off the column
TITLE_LINE_PX = 16  # a second title line: the scenario's name, smaller
FIGURE_TABS = (("timeline", "offsets over time"), ("ledger", "message ledger"),
               ("log", "broker log"), ("topology", "topology"))


class LabFigures:
    """The Lab's FigureWidgets and the specs last sent to them."""

    def __init__(self, on_message_click: Callable[[int], Any]):
        # autosize: the figures follow the width of their column (the notebook's width). Made
        # with viz's template, and noted as sent: plotly validates a template whenever one is
        # set (~25 ms each in CPython, several times that in Pyodide), and would otherwise set
        # its default first and viz's at every rebuild of the traces
        self.figures: dict[str, go.FigureWidget] = {
            name: LiveFigure(layout={"autosize": True, "template": TEMPLATE})
            for name, _ in FIGURE_TABS}
        self._sent: dict[str, dict] = {name: {"layout": {"template": TEMPLATE}}
                                       for name in self.figures}
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
        ledger["data"].append({"type": "scatter", "mode": "markers", "name": IN_THIS_STEP,
                               "x": [], "y": [], "hoverinfo": "skip", "showlegend": False,
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
            # the legend names the marker only while it marks something: a step that touches
            # no message has no "in this step" entry (it said so over an empty ledger)
            ledger.plotly_restyle({"x": [xs], "y": [ys], "showlegend": [bool(cells)]},
                                  [len(ledger.data) - 1])
            current["x"], current["y"], current["showlegend"] = xs, ys, bool(cells)
        # meta too: the topology's says which event, replicas and group state the figure shows
        # (it stayed at the first step's)
        keys = None if self._redraw_all else ("title", "annotations", "yaxis", "meta")
        self._redraw_all = False
        apply(self.figures["log"], fit_log(log_spec(r, step, compact=True)), self._sent["log"],
              layout_keys=keys)
        apply(self.figures["topology"], topology_spec(r, step, self._graph, self._pos),
              self._sent["topology"], layout_keys=keys)

    def refit(self, name: str) -> None:
        """Fit a figure to its tab again: plotly sizes a figure drawn while its tab was hidden
        at its default 700 px, wider than the Lab's column at a 1000 px notebook (the ledger ran
        off its tab; a figure redrawn while hidden even keeps that width in its layout). What
        plotly.js's own ``Plots.resize`` does: autosize off and on again, which drops the width
        and measures the container (a relayout that changes nothing is never sent)."""
        fig = self.figures[name]
        fig.plotly_relayout({"autosize": False})
        fig.plotly_relayout({"autosize": True, "datarevision": (fig.layout.datarevision or 0) + 1})

    def _on_ledger_click(self, trace, points, _selector=None) -> None:
        inds = list(getattr(points, "point_inds", []) or [])
        if not inds or trace.customdata is None:
            return
        self._on_message_click(trace.customdata[inds[0]])


def fit_beside_controls(spec: dict) -> dict:
    """A figure spec for the Lab's figure column (~500 px wide on a 1280 px laptop, beside the
    controls): at most FIGURE_HEIGHT tall, a smaller title font, a legend in fixed-width
    columns below the axis title, and a plot of at least MIN_PLOT_PX (the legend's room is
    added below the plot, not taken from it: a one-row ledger was squashed to a line)."""
    layout = dict(spec["layout"])
    title = layout.get("title")
    title_lines = 1
    if isinstance(title, dict) and isinstance(title.get("text"), str):
        parts = lab_title(title["text"])
        title_lines = 2 if parts["subtitle"]["text"] else 1
        n = len(parts["text"])
        size = 15 if n <= 50 else 13 if n <= 62 else 12 if n <= 70 else 11
        # at the top, not centred in the top margin: the margin is then only as tall as the
        # title and the caption need (a 1280x720 laptop has no pixel to spare)
        layout["title"] = {**title, **parts, "font": {"size": size}, "y": 1,
                           "yref": "container", "yanchor": "top", "pad": {"t": 8}}
    margin = dict(layout.get("margin") or {})
    grown = 0
    if isinstance(layout.get("legend"), dict) and layout["legend"].get("orientation") == "h":
        layout["legend"] = {**layout["legend"], "entrywidth": 0.5, "entrywidthmode": "fraction",
                            "font": {"size": 10}}
        grown = max(160 - margin.get("b", 0), 0)
        margin["b"] = margin.get("b", 0) + grown
    yaxis = layout.get("yaxis")
    if isinstance(yaxis, dict) and isinstance(yaxis.get("title"), dict):
        text = yaxis["title"].get("text") or ""
        if len(text) > 24 and "<br>" not in text:  # a short plot: the title in two lines
            layout["yaxis"] = {**yaxis, "title": {**yaxis["title"], "text": wrap(text, 24),
                                                  "font": {"size": 11}}}
    xaxis = layout.get("xaxis")
    if isinstance(xaxis, dict) and isinstance(xaxis.get("title"), dict):
        text = xaxis["title"].get("text") or ""
        if len(text) > LAB_AXIS_TITLE_CHARS:  # the topology's "data flows left to right: …"
            layout["xaxis"] = {**xaxis, "title": {**xaxis["title"], "font": {"size": 11}}}
    annotations = layout.get("annotations")
    if isinstance(annotations, list):
        # the caption starts at the plot's left edge: a wider left margin leaves fewer
        # characters per line before the figure's right edge (~5.5 px per character)
        chars = LAB_CAPTION_CHARS - max(margin.get("l", 70) - 70, 0) * 2 // 11
        lines = 1
        rewrapped = []
        for a in annotations:
            if isinstance(a, dict) and a.get("name") == "caption":
                text = wrap(str(a.get("text", "")).replace("<br>", " "), chars)
                lines = text.count("<br>") + 1
                a = {**a, "text": text}
            rewrapped.append(a)
        layout["annotations"] = rewrapped
        margin["t"] = TITLE_PX + TITLE_LINE_PX * (title_lines - 1) + 14 * lines
    if margin:
        layout["margin"] = margin
    height = layout.get("height", FIGURE_HEIGHT) + grown
    floor = margin.get("t", 70) + margin.get("b", 0) + MIN_PLOT_PX
    layout["height"] = min(max(height, floor), FIGURE_HEIGHT)
    if isinstance(layout.get("legend"), dict) and "entrywidth" in layout["legend"]:
        plot_px = max(layout["height"] - margin.get("t", 70) - margin["b"], 60)
        layout["legend"]["y"] = -58 / plot_px
    return {**spec, "layout": layout}


def lab_title(text: str) -> dict:
    """A figure's title in the Lab's column, as ``{"text": ..., "subtitle": ...}``: a title too
    long for one line there (they end with the scenario's name, "… —
    read-committed-vs-uncommitted/read-uncommitted") puts the name in a smaller subtitle
    under it instead of running to the figure's edge."""
    head, sep, name = text.partition(" — ")
    subtitle = {"font": {"size": 11, "color": CAPTION}}
    if not sep or len(text) <= LAB_TITLE_CHARS or "<br>" in text:
        # an empty subtitle, not none: the Lab updates a title in place, and a subtitle left
        # out would stay on screen from the run before
        return {"text": text, "subtitle": {**subtitle, "text": ""}}
    return {"text": head, "subtitle": {**subtitle, "text": name}}


LAB_LOG_LEFT_PX = 110  # the log's left margin in the Lab: its row labels, no axis title
LAB_LOG_TABLE = 0.45  # the producer-state table's share of the plot's height, under the log
LAB_LOG_CELL_PX = 20  # a record's square in the Lab: 16 to 20 of them share a ~345 px row


def fit_log(spec: dict) -> dict:
    """The broker log for the Lab's column (~465 px at a 1000 px notebook; issue 14 item 3),
    from ``log_spec(..., compact=True)`` (which chose the short texts: C / A markers, short
    legend names and table header, no axis titles, no committed-offset label): geometry only.
    The producer-state table goes under the log instead of beside it (beside it, seven columns
    got 25 px each and the log 170 px) and the records' squares and labels shrink to fit a row
    of 16-20 offsets. viz wraps the empty producer table's reason for the column."""
    layout = dict(spec["layout"])
    margin = dict(layout.get("margin") or {})
    margin["l"] = min(margin.get("l", LAB_LOG_LEFT_PX), LAB_LOG_LEFT_PX)
    layout["margin"] = margin
    layout["height"] = FIGURE_HEIGHT
    if isinstance(layout.get("yaxis"), dict):
        layout["yaxis"] = {**layout["yaxis"], "domain": [LAB_LOG_TABLE + 0.1, 1.0]}
    if isinstance(layout.get("xaxis"), dict):
        lo, hi = layout["xaxis"].get("range") or (-0.7, 15.7)
        # room on the right for the LSO's label at a row's end
        layout["xaxis"] = {**layout["xaxis"], "domain": [0.0, 1.0], "range": [lo, hi + 0.8]}
        if layout["xaxis"].get("dtick") == 1:  # no tick for the offset past the row's end
            layout["xaxis"]["tickvals"] = list(range(round(hi + 0.3)))
    data = []
    for trace in spec["data"]:
        if trace.get("type") == "table":
            trace = {**trace, "domain": {"x": [0.0, 1.0], "y": [0.0, LAB_LOG_TABLE]}}
            if len(trace["cells"]["values"]) > 1:  # a compact header (two lines), rows
                trace = {**trace,
                         "columnwidth": [1.4, 0.8, 0.8, 1.6, 0.7, 0.8, 0.9],
                         "header": {**trace["header"], "height": 30},
                         "cells": {**trace["cells"], "height": 20,
                                   "font": {**(trace["cells"].get("font") or {}), "size": 10}}}
            else:  # why the table is empty: viz wrapped it for this width (compact=True)
                trace = {**trace, "header": {**trace["header"], "height": 30}}
        elif trace.get("type") == "scatter":
            marker = trace.get("marker")
            if isinstance(marker, dict) and (marker.get("size") or 0) > LAB_LOG_CELL_PX:
                font = {**(trace.get("textfont") or {}), "size": 8}
                trace = {**trace, "marker": {**marker, "size": LAB_LOG_CELL_PX},
                         "textfont": font}
        data.append(trace)
    return {**spec, "data": data, "layout": layout}


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
            fig.layout.update({k: layout[k] for k in keys if k in layout
                               and not (k == "template" and old_layout.get(k) == layout[k])},
                              overwrite=True)
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
def _n(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def verdict(o: dict) -> str | None:
    """The run's verdict in a few words, for a run with a bad outcome only (lost, processed
    more than once, never sent, not drained or stopped); None for a clean run, which then
    shows no verdict line. E.g. "at-least-once: 3 duplicates, 0 lost"."""
    if o.get("stopped"):
        return str(o["stopped"])
    lost, dups = o.get("lost", 0), o.get("duplicates", 0)
    never, unseen = o.get("never_sent", 0), o.get("unseen", 0)
    drained = o.get("drained", True)
    if drained and not (lost or dups or never):
        return None
    if lost and dups:
        label, parts = "neither at-most-once nor at-least-once", [f"{lost} lost",
                                                                  _n(dups, "duplicate")]
    elif lost:
        label, parts = "at-most-once", [f"{lost} lost", "0 duplicates"]
    elif dups:
        label, parts = "at-least-once", [_n(dups, "duplicate"), "0 lost"]
    else:
        label, parts = "", []
    if not drained or never:
        # partial counts: say so first (the CLI and the report do too)
        label = "NOT DRAINED" + (f" (so far {label})" if label else "")
        parts.append(f"{never} never sent")
        if unseen:
            parts.append(f"{unseen} sent but not processed yet")
    return f"{label}: {', '.join(parts)}"


def verdict_html(o: dict) -> str:
    """The verdict, before the counters ("" for a clean run)."""
    text = verdict(o)
    if text is None:
        return ""
    only_duplicates = o.get("duplicates") and not (o.get("lost") or o.get("never_sent")
                                                   or o.get("stopped")) and o.get("drained", True)
    color = C["orange"] if only_duplicates else C["vermillion"]
    # inline, first in the counters' flow: on a laptop it shares their first line (a line of
    # its own pushed the offsets figure below a 1280x720 screen)
    return (f"<span class='kafkalab-verdict' style='font-size:13px;font-weight:bold;"
            f"margin-right:14px;color:{color}'>✗ {html.escape(text)}</span>")


def counters_html(o: dict) -> str:
    """The verdict first (bad runs only), then the counters (sent, written, ..., never sent,
    throughput)."""
    cells = [("sent", o["sent"], None), ("written", o["written"], None),
             ("delivered", o["delivered"], None), ("processed", o["processed"], None),
             ("lost", o["lost"], C["vermillion"]), ("duplicates", o["duplicates"], C["orange"]),
             ("log duplicates", o["log_duplicates"], C["purple"]),
             ("never sent", o.get("never_sent", 0), C["black"])]
    if not o.get("drained", True):
        cells.append(("unseen", o.get("unseen", 0), C["black"]))
    cells.append(("throughput", f"{o['throughput_per_s']:,.0f} rec/s simulated", None))
    parts = []
    for label, value, color in cells:
        style = f"color:{color};font-weight:bold" if color and value else ""
        parts.append(f"<span style='margin-right:10px;white-space:nowrap'>{label}: "
                     f"<span style='{style}'>"
                     f"{value}</span></span>")
    head = verdict_html(o)
    return ("<div style='font-size:12.5px;line-height:1.4'>" + (head + " " if head else "")
            + " ".join(parts) + "</div>")


def error_html(message: str | None) -> str:
    if not message:
        return ""
    return (f"<div style='border:2px solid {VERMILLION};background:{ALERT_BACKGROUND};"
            "padding:6px 10px;border-radius:4px'><b>⚠ Not run:</b> " + html.escape(message) +
            "<br><i>The last good run is still shown.</i></div>")


def text_html(value: str) -> str:
    return (f"<div style='border-left:4px solid {BLUE};padding:4px 10px;max-width:1100px'>"
            + value + "</div>")


def story_html(preset, note: str = "") -> str:
    """One line until opened: the figures stay on a laptop screen beside the controls. A long
    title wraps inside the Lab (a word too long for the line breaks too; the hint stays whole)
    instead of filling the line to the edge. ``note``: a line under the story (plain text),
    e.g. that the figures show a result the controls did not run."""
    extra = (f"<br><i style='color:{MUTED}'>{html.escape(note)}</i>" if note else "")
    head, colon, rest = preset.title.partition(": ")
    if colon and len(preset.title) > STORY_TITLE_CHARS:
        # a long title: the setting in bold, what it does in plain weight (92 bold characters
        # filled the Lab's whole line at 1000 px)
        title = f"<b>{html.escape(head)}:</b> {html.escape(rest)}"
    else:
        title = f"<b>{html.escape(preset.title)}</b>"
    return (f"<details style='font-size:13px;line-height:1.35;max-width:100%;"
            f"overflow-wrap:anywhere;text-wrap:balance'><summary>"
            f"{title} <span style='color:{MUTED};white-space:nowrap'>"
            f"(the story: click)</span></summary><span style='color:{CAPTION}'>"
            f"{html.escape(preset.story)}</span>{extra}</details>")


def result_story_html(result, preset) -> str:
    """The story line for a result shown with ``lab.show_result``: its own scenario's story
    (the previous scenario's stayed on screen above another run's figures), and when that is
    not the scenario the controls run, a note saying so."""
    from .. import scenarios
    from ..model.config import ConfigError

    name = result.scenario
    if preset is not None and name == preset.name:
        return story_html(preset)
    running = f"the controls still run {preset.name}: change one to go back to it" \
        if preset is not None else "the controls run nothing yet"
    try:
        shown = scenarios.get(name) if name else None
    except (ConfigError, KeyError, ValueError, OSError):
        shown = None
    if shown is None:
        what = f"scenario {name!r}" if name else "a run with no scenario name"
        return (f"<div style='font-size:13px;line-height:1.35;overflow-wrap:anywhere'>"
                f"<b>Showing {html.escape(what)}</b> <span style='color:{MUTED}'>"
                f"(given to lab.show_result; {html.escape(running)})</span></div>")
    return story_html(shown, note=f"Shown with lab.show_result; {running}.")


def fault_note_html(other_faults: list[dict]) -> str:
    if not other_faults:
        return ""
    items = "; ".join(describe_fault(f) for f in other_faults)
    return f"<i>Also in this preset's fault plan: {html.escape(items)}.</i>"
