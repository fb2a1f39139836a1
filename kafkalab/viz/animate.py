"""Static animations: a go.Figure with plotly frames, Play/Pause buttons and a step slider.

They run in plotly.js with no kernel (static HTML, nbviewer, JupyterLite). At most
``MAX_FRAMES`` frames: a longer run is sampled at its meaningful steps (crashes, commits,
retries, appends, markers, ...) and the caption says "showing N of M steps".
"""

from __future__ import annotations

import plotly.graph_objects as go

from ._common import (
    CAPTION_LINE_PX,
    MAX_FRAMES,
    caption_annotation,
    caption_lines,
    sample_steps,
    top_margin,
)
from ._common import figure as _make_figure
from .ledger import ledger_hovers, ledger_spec
from .log import log_spec
from .timeline import series, timeline_spec

FIGURES = ("timeline", "log", "ledger")


def _builder(result, kind: str, partition: int):
    if kind == "timeline":
        s = series(result, partition)
        return lambda step: timeline_spec(result, partition, upto=step, s=s)
    if kind == "log":
        return lambda step: log_spec(result, step)
    if kind == "ledger":
        n = len(result.ledger.messages)
        frames = min(len(result.events), MAX_FRAMES)
        hovers = ledger_hovers(result, "explain" if n * frames <= 3000 else "summary")
        return lambda step: ledger_spec(result, step, hovers=hovers)
    raise ValueError(f"figure must be one of {', '.join(FIGURES)}, not {kind!r}")


def animate(result, figure: str = "timeline", partition: int = 0, max_frames: int = MAX_FRAMES,
            frame_ms: int = 350) -> go.Figure:
    """A frames animation of ``figure`` ("timeline", "log" or "ledger") over the run's steps."""
    return _make_figure(animation_spec(result, figure, partition, max_frames, frame_ms))


def animation_spec(result, figure: str = "timeline", partition: int = 0,
                   max_frames: int = MAX_FRAMES, frame_ms: int = 350) -> dict:
    """``animate`` as a plain dict {data, layout, frames} (no plotly validation)."""
    kind = figure
    if not 1 <= max_frames <= MAX_FRAMES:
        raise ValueError(f"max_frames must be between 1 and {MAX_FRAMES}")
    build = _builder(result, kind, partition)
    total = len(result.events)
    steps = sample_steps(result, max_frames)
    if not steps:
        raise ValueError("this run recorded no events; there is nothing to animate")
    sampled = len(steps) < total
    note = (f"Showing {len(steps)} of {total} steps (sampled at crashes, commits, retries, "
            "appends and other key events)." if sampled else f"All {total} steps.")
    frames = []
    specs = {}
    for step in steps:
        spec = build(step)
        specs[step] = spec
        layout = spec["layout"]
        cap = f"{layout['meta']['caption']} {note}"
        annotations = [caption_annotation(cap)] + [a for a in layout.get("annotations", [])
                                                   if a.get("name") != "caption"]
        frames.append({"name": str(step), "data": _keep_legend(spec["data"]),
                       "layout": {"title": layout["title"], "annotations": annotations,
                                  "shapes": layout.get("shapes", [])}})
    _legend_only_what_appears(frames)
    last = specs[steps[-1]]
    base = build(steps[0])
    layout = dict(base["layout"])
    final_cap = f"{last['layout']['meta']['caption']} {note}"
    layout["meta"] = {"caption": final_cap, "frames": len(steps), "steps": total,
                      "sampled": sampled, "figure": kind}
    layout["annotations"] = frames[0]["layout"]["annotations"]
    margin = dict(layout.get("margin", {}))
    lines = max(caption_lines(f["layout"]["annotations"][0]["text"].replace("<br>", " "))
                for f in frames)
    grow = top_margin("", 70) + CAPTION_LINE_PX * (lines - 1) - margin.get("t", 70)
    if grow > 0:  # room for the longest frame caption
        margin["t"] = margin.get("t", 70) + grow
        layout["height"] = layout.get("height", 450) + grow
    margin["b"] = 150
    margin["r"] = max(margin.get("r", 20), 230)
    layout["margin"] = margin
    layout["height"] = max(layout.get("height", 450), 430) + 40
    plot_px = max(layout["height"] - margin.get("t", 70) - margin["b"], 60)
    below = -75 / plot_px
    layout["legend"] = {"orientation": "v", "x": 1.02, "y": 1, "font": {"size": 10}}
    play = {"frame": {"duration": frame_ms, "redraw": True}, "fromcurrent": True,
            "transition": {"duration": 0}, "mode": "immediate"}
    pause = {"frame": {"duration": 0, "redraw": False}, "mode": "immediate",
             "transition": {"duration": 0}}
    layout["updatemenus"] = [{
        "type": "buttons", "direction": "left", "showactive": False, "x": 0, "y": below,
        "xanchor": "left", "yanchor": "top", "pad": {"t": 30, "r": 10},
        "buttons": [{"label": "Play", "method": "animate", "args": [None, play]},
                    {"label": "Pause", "method": "animate", "args": [[None], pause]}]}]
    layout["sliders"] = [{
        "active": 0, "x": 0.16, "len": 0.84, "y": below, "yanchor": "top", "xanchor": "left",
        "pad": {"t": 10}, "currentvalue": {"prefix": "step ", "font": {"size": 12}},
        "steps": [{"label": str(step), "method": "animate",
                   "args": [[str(step)], {"mode": "immediate", "transition": {"duration": 0},
                                          "frame": {"duration": 0, "redraw": True}}]}
                  for step in steps]}]
    data = _keep_legend(base["data"])
    shown = {t.get("name") for f in frames for t in f["data"] if t.get("showlegend") is not False}
    for trace in data:
        if trace.get("name") not in shown:
            trace["showlegend"] = False
    return {"data": data, "layout": layout, "frames": frames}


def _has_points(trace: dict) -> bool:
    for key in ("x", "y", "cells"):
        values = trace.get(key)
        if isinstance(values, dict):
            return True
        if values and any(v is not None for v in values):
            return True
    return trace.get("type") not in (None, "scatter")


def _legend_only_what_appears(frames: list[dict]) -> None:
    """A legend entry only for what some frame draws (issue 14 item 3: the animated timeline
    listed every event kind, most of which never happen in the run)."""
    drawn = {t.get("name") for f in frames for t in f["data"] if _has_points(t)}
    for f in frames:
        for trace in f["data"]:
            if trace.get("name") not in drawn and trace.get("showlegend", True) is not False:
                trace["showlegend"] = False


def _keep_legend(data: list[dict]) -> list[dict]:
    """plotly drops empty traces from the legend; a single None point keeps them listed (and
    the legend steady from frame to frame)."""
    out = []
    for trace in data:
        if trace.get("type") == "scatter" and not trace.get("x") and \
                trace.get("showlegend", True) is not False:
            trace = {**trace, "x": [None], "y": [None]}
            for key in ("text", "hovertext", "customdata"):
                if key in trace:
                    trace[key] = [None]
        out.append(trace)
    return out
