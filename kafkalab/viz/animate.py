"""Static animations: a go.Figure with plotly frames, Play/Pause buttons and a step slider.

They run in plotly.js with no kernel (static HTML, nbviewer, JupyterLite). At most
``MAX_FRAMES`` frames: a longer run is sampled at its meaningful steps (crashes, commits,
retries, appends, markers, ...) and the caption says "showing N of M steps".
"""

from __future__ import annotations

import copy

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
    specs = {step: build(step) for step in steps}
    # A legend entry for each trace some frame draws, in every frame (the legend stays put
    # while the animation plays); none for a trace no frame draws (issue 14 item 3).
    drawn = {t.get("name") for spec in specs.values() for t in spec["data"] if _has_points(t)}
    frames = []
    for step in steps:
        layout = specs[step]["layout"]
        cap = f"{layout['meta']['caption']} {note}"
        annotations = [caption_annotation(cap)] + [a for a in layout.get("annotations", [])
                                                   if a.get("name") != "caption"]
        frames.append({"name": str(step), "data": _legend(specs[step]["data"], drawn),
                       "layout": {"title": _top(layout["title"]), "annotations": annotations,
                                  "shapes": layout.get("shapes", [])}})
    last = specs[steps[-1]]
    base = specs[steps[0]]
    layout = dict(base["layout"])
    layout["title"] = frames[0]["layout"]["title"]
    # The figure's own caption (a report prints it under the animation, text/plain shows it)
    # is about the whole animation: it names the step it describes; each frame has its own.
    final_cap = (f"At the last step ({steps[-1]}): {last['layout']['meta']['caption']} "
                 f"{note}")
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
    data = copy.deepcopy(frames[0]["data"])  # frame 0's traces (not shared with the frame)
    return {"data": data, "layout": layout, "frames": frames}


def _has_points(trace: dict) -> bool:
    """Whether a trace draws something: a scatter needs a point with both x and y set (a
    committed-offset line before any commit is all None)."""
    if trace.get("type") not in (None, "scatter"):
        return True
    xs, ys = trace.get("x") or [], trace.get("y") or []
    return any(x is not None and y is not None for x, y in zip(xs, ys, strict=False))


def _top(title: dict) -> dict:
    """The title at the top of the figure, not centred in the top margin: a frame's caption
    (up to four lines) fills the margin below it."""
    return {**title, "y": 1, "yref": "container", "yanchor": "top", "pad": {"t": 12}}


def _legend(data: list[dict], drawn: set) -> list[dict]:
    """A frame's traces with their legend entries: shown for a trace some frame draws (an
    empty one gets a single None point: plotly drops empty traces from the legend), hidden for
    a trace no frame draws."""
    out = []
    for trace in data:
        if trace.get("type") not in (None, "scatter", "bar"):
            out.append(trace)  # tables and the like have no legend entry
            continue
        trace = {**trace, "showlegend": trace.get("name") in drawn}
        if trace["showlegend"] and trace.get("type", "scatter") == "scatter" \
                and not trace.get("x"):
            trace["x"], trace["y"] = [None], [None]
            for key in ("text", "hovertext", "customdata"):
                if key in trace:
                    trace[key] = [None]
        out.append(trace)
    return out
