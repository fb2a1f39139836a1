"""Offsets over simulated time for one partition: log end offset, high watermark, last stable
offset, the sink consumer's position and committed offset, records processed, and the events.

The shaded band is where the committed offset is ahead of processing: offsets below the
committed offset that the sink has not processed yet. If the consumer dies inside the band,
those records are never read again (lost); a consumer that restarts from a committed offset
*behind* processing re-reads (duplicates).
"""

from __future__ import annotations

import plotly.graph_objects as go

from ._common import (
    EVENT_STYLE,
    C,
    base_layout,
    clamp_step,
    figure,
    sink_group,
    sink_prefix,
    time_range,
    wrap,
)

MAX_MARKERS_PER_KIND = 1000

TRACE_NAMES = ("log end offset", "high watermark", "last stable offset", "committed offset",
               "processed (count)", "committed ahead of processing")


def series(result, partition: int = 0) -> dict:
    """Step series (index, t, value) for one partition of the observed topic. Cheap and pure."""
    topic = result.observed_topic
    group = sink_group(result)
    prefix = sink_prefix(result)
    p = str(partition)
    # Only the changes are kept (a step line needs no more: the first point and each point whose
    # value differs from the one before), checked against each list's last point as the
    # snapshots go by (a 10,000-record run has 60,000 snapshots).
    leo: list[tuple[int, float, int]] = []
    hw: list[tuple[int, float, int]] = []
    lso: list[tuple[int, float, int]] = []
    committed: list[tuple[int, float, int | None]] = []
    positions: dict[str, list[tuple[int, float, int | None]]] = {}
    for e, snap in zip(result.events, result.snapshots, strict=False):
        i, t = e.index, e.t
        logs = snap["logs"].get(topic)
        if logs and partition < len(logs):
            a, b, c = logs[partition]
            if not leo or leo[-1][2] != a:
                leo.append((i, t, a))
            if not hw or hw[-1][2] != b:
                hw.append((i, t, b))
            if not lso or lso[-1][2] != c:
                lso.append((i, t, c))
        offsets = snap["committed"].get(group)
        off = offsets.get(p) if offsets else None
        if not committed or committed[-1][2] != off:
            committed.append((i, t, off))
        for name, member in snap["members"].items():
            if name.startswith(prefix):
                pos = member["positions"].get(p) if member["alive"] else None
                points = positions.setdefault(name, [])
                if not points or points[-1][2] != pos:
                    points.append((i, t, pos))
    # Processed records of this partition, by the time each finished (the sink's clock).
    done: list[tuple[int, float, int]] = []  # (event index, t_done, offset)
    for e in result.events:
        if e.kind == "process" and not e.data.get("transform") and e.actor.startswith(prefix):
            for part, off, _m, t_done, _applied in e.data["records"]:
                if part == partition:
                    done.append((e.index, t_done, off))
    done.sort(key=lambda r: (r[1], r[0]))
    processed = [(i, t, k + 1) for k, (i, t, _o) in enumerate(done)]
    data_offsets = _data_offsets(result, partition)
    return {"leo": leo, "hw": hw, "lso": lso, "committed": committed, "positions": positions,
            "processed": processed, "done": done, "data_offsets": data_offsets}


def _data_offsets(result, partition: int) -> list[int]:
    """Offsets the sink is expected to process: data records (not control markers); aborted
    ones only when the sink reads read_uncommitted. The ledger's observed topic: the only topic
    this figure draws."""
    return result.ledger.log_offsets(
        partition, aborted=result.config.get("isolation.level") != "read_committed")


def ahead_band(result, s: dict, upto: int | None = None) -> list[tuple[float, float, int, int]]:
    """Intervals (t0, t1, frontier, committed) where the committed offset is ahead of the
    first data offset the sink has not processed yet (``frontier``)."""
    events = result.events
    if not events:
        return []
    last_index = len(events) - 1 if upto is None else upto
    done = [d for d in s["done"] if d[0] <= last_index]
    data = s["data_offsets"]
    processed_at: dict[int, float] = {}
    for _i, t, off in done:
        processed_at.setdefault(off, t)
    # Breakpoints: every committed-offset change and every processing completion.
    times = sorted({t for i, t, _v in s["committed"] if i <= last_index} |
                   {t for _i, t, _o in done})
    end_t = events[last_index].t
    committed_pts = [(t, v) for i, t, v in s["committed"] if i <= last_index]
    out: list[tuple[float, float, int, int]] = []
    ci = 0
    current = None
    processed_set: set[int] = set()
    events_by_time = sorted((t, off) for off, t in processed_at.items())
    pi = 0
    frontier_idx = 0
    for k, t in enumerate(times):
        while ci < len(committed_pts) and committed_pts[ci][0] <= t:
            current = committed_pts[ci][1]
            ci += 1
        while pi < len(events_by_time) and events_by_time[pi][0] <= t:
            processed_set.add(events_by_time[pi][1])
            pi += 1
        while frontier_idx < len(data) and data[frontier_idx] in processed_set:
            frontier_idx += 1
        frontier = data[frontier_idx] if frontier_idx < len(data) else None
        t1 = times[k + 1] if k + 1 < len(times) else end_t
        if current is not None and frontier is not None and current > frontier and t1 >= t:
            if out and out[-1][1] == t and out[-1][2] == frontier and out[-1][3] == current:
                out[-1] = (out[-1][0], t1, frontier, current)
            else:
                out.append((t, t1, frontier, current))
    return out


def _xy(points, upto):
    xs, ys = [], []
    for i, t, v in points:
        if upto is not None and i > upto:
            break
        xs.append(t)
        ys.append(v)
    return xs, ys


def timeline_spec(result, partition: int = 0, upto: int | None = None, s: dict | None = None,
                  markers: bool = True) -> dict:
    """The figure as a plain dict (what ``offsets_timeline`` and the Lab's FigureWidget use).

    ``upto`` truncates every trace at that step (animation frames); the axes stay fixed."""
    s = s or series(result, partition)
    data: list[dict] = []

    events = result.events
    end_t = events[clamp_step(result, upto)].t if events else 0.0

    def line(points, name, color, dash="solid", width=2, hover="offset"):
        xs, ys = _xy(points, upto)
        if xs and xs[-1] < end_t:  # hold the last value to "now"
            xs.append(end_t)
            ys.append(ys[-1])
        data.append({"type": "scatter", "mode": "lines", "name": name, "x": xs, "y": ys,
                     "line": {"shape": "hv", "color": color, "dash": dash, "width": width},
                     # a legend entry only for what is drawn (no commit yet: no line)
                     "showlegend": any(y is not None for y in ys),
                     "hovertemplate": f"{name}<br>t=%{{x}} ms<br>{hover} %{{y}}<extra></extra>"})

    band = ahead_band(result, s, upto)
    bx, by, btext = [], [], []
    for t0, t1, lo, hi in band:
        msg = (f"committed offset {hi} is ahead of processing: offsets {lo}–{hi - 1} are "
               "committed but not processed (lost if the consumer dies now)")
        bx += [t0, t1, t1, t0, t0, None]
        by += [lo, lo, hi, hi, lo, None]
        btext += [msg] * 5 + [None]
    data.append({"type": "scatter", "mode": "lines", "name": TRACE_NAMES[5], "x": bx, "y": by,
                 "fill": "toself", "fillcolor": "rgba(213,94,0,0.18)",
                 "line": {"color": "rgba(213,94,0,0.5)", "width": 1}, "text": btext,
                 "showlegend": bool(bx),
                 "hoverinfo": "text", "hoveron": "fills+points"})
    line(s["leo"], TRACE_NAMES[0], C["grey"], "dot", hover="log end offset")
    line(s["hw"], TRACE_NAMES[1], C["black"], "solid", 1.5, hover="high watermark")
    if any(v != h for (_, _, v), (_, _, h) in zip(s["lso"], s["hw"], strict=False)) or \
            result.config.get("transactional.id"):
        line(s["lso"], TRACE_NAMES[2], C["purple"], "dashdot", hover="last stable offset")
    else:
        line([], TRACE_NAMES[2], C["purple"], "dashdot")
    line(s["committed"], TRACE_NAMES[3], C["green"], "solid", 3, hover="committed offset")
    dashes = ("dash", "longdash", "dashdot", "dot")
    for k, (member, pts) in enumerate(sorted(s["positions"].items())):
        line(pts, f"{member} position", C["blue"], dashes[k % len(dashes)], 2, hover="position")
    line(s["processed"], TRACE_NAMES[4], C["orange"], "solid", 2, hover="records processed")
    if markers:
        data.extend(_marker_traces(result, partition, s, upto))
    ymax = max([v for pts in (s["leo"], s["committed"], s["processed"]) for _i, _t, v in pts
                if v is not None] + [1])
    title = (f"Offsets over time, {result.observed_topic} partition {partition}"
             + (f" — {result.scenario}" if result.scenario else ""))
    cap = timeline_caption(result, band, upto)
    layout = base_layout(title, cap, height=460,
                         xaxis={"title": {"text": "simulated time (ms)"}, "range": time_range(result),
                                "autorange": False, "zeroline": False},
                         yaxis={"title": {"text": "offset (next record) / records processed"},
                                "range": [-0.5, ymax * 1.08 + 0.5], "autorange": False},
                         shapes=[now_line(result, upto)] if upto is not None else [])
    return {"data": data, "layout": layout}


def now_line(result, step: int | None) -> dict:
    t = result.events[clamp_step(result, step)].t if result.events else 0
    return {"type": "line", "xref": "x", "yref": "paper", "x0": t, "x1": t, "y0": 0, "y1": 1,
            "line": {"color": C["black"], "width": 1, "dash": "dot"}, "name": "now"}


def _marker_traces(result, partition: int, s: dict, upto: int | None) -> list[dict]:
    prefix = sink_prefix(result)
    p = str(partition)
    topic = result.observed_topic
    leo_pts = s["leo"]
    by_kind: dict[str, tuple[list, list, list]] = {k: ([], [], []) for k in EVENT_STYLE}
    li = 0
    leo_now = 0
    for e in result.events:
        if upto is not None and e.index > upto:
            break
        while li < len(leo_pts) and leo_pts[li][0] <= e.index:
            leo_now = leo_pts[li][2]
            li += 1
        if e.kind not in EVENT_STYLE:
            continue
        d = e.data
        if "topic" in d and d["topic"] != topic:
            continue
        if "partition" in d and d["partition"] != partition:
            continue
        y = leo_now
        if e.kind in ("poll", "commit", "commit_failed", "close", "rebalance", "left_group"):
            if not e.actor.startswith(prefix) and e.kind != "left_group":
                continue
            src = d.get("positions") if e.kind in ("poll", "close") else d.get("offsets")
            if e.kind == "poll" and not d.get("records"):
                continue  # empty polls would bury the timeline
            if isinstance(src, dict) and p in src:
                y = src[p]
            elif e.kind in ("poll", "commit", "commit_failed"):
                continue
        elif e.kind in ("crash", "restart") and isinstance(d.get("positions"), dict):
            y = d["positions"].get(p, y)
        elif e.kind == "restart" and isinstance(d.get("resumed"), dict) and p in d["resumed"]:
            y = d["resumed"][p][0]
        elif e.kind == "marker":
            y = d["offset"]
        xs, ys, shown = by_kind[e.kind]
        xs.append(e.t)
        ys.append(y)
        shown.append(e)
    out = []
    for kind, (xs, ys, shown) in by_kind.items():
        label, color, symbol = EVENT_STYLE[kind]
        if len(xs) > MAX_MARKERS_PER_KIND:  # thin evenly, and say so in the legend
            stride = -(-len(xs) // MAX_MARKERS_PER_KIND)
            xs, ys, shown = xs[::stride], ys[::stride], shown[::stride]
            label = f"{label} (1 in {stride} shown)"
        # the hover texts of the markers drawn only (a 10,000-record run has 30,000 commits)
        texts = [wrap(f"t={e.t:g} ms, step {e.index}: {e.text}") for e in shown]
        out.append({"type": "scatter", "mode": "markers", "name": label, "x": xs, "y": ys,
                    "text": texts, "hoverinfo": "text",
                    "visible": True if xs or upto is not None else "legendonly",
                    "showlegend": bool(xs) or upto is not None,
                    "marker": {"symbol": symbol, "color": color, "size": 11,
                               "line": {"width": 1.5, "color": color}}})
    return out


def timeline_caption(result, band, upto: int | None = None) -> str:
    """What the figure shows. With ``upto`` before the run's last step (an animation frame) it
    describes that frame only: nothing about what happens later (issue 14 item 3: frame 0 said
    "never runs ahead" of the very run whose point is that it does)."""
    o = result.outcome
    end_t = result.events[-1].t if result.events else 0.0
    step = clamp_step(result, upto)
    if upto is not None and 0 <= step < len(result.events) - 1:
        now = result.events[step].t
        snap = result.snapshots[step] if result.snapshots else {}
        if band:
            t0, _t1, lo, hi = band[-1]
            if band[-1][1] >= now:
                where = (f"now the committed offset ({hi}) is ahead of processing: offsets "
                         f"{lo}–{hi - 1} are committed but not processed")
            else:
                where = (f"at t={band[0][0]:g} ms the committed offset ran ahead of "
                         "processing")
        else:
            where = "so far the committed offset has not run ahead of processing"
        done = f"; {snap['processed']} records processed so far" if "processed" in snap else ""
        return f"Step {step} (t={now:g} ms): {where}{done}."
    if band and band[-1][1] >= end_t:
        t0, _t1, lo, hi = band[-1]
        where = (f"From t={band[0][0]:g} ms the committed offset runs ahead of processing; "
                 f"offsets {lo}–{hi - 1} end up committed but never processed")
    elif band:
        t0, _t1, lo, hi = band[0]
        where = (f"At t={t0:g} ms the committed offset ({hi}) runs ahead of processing "
                 f"(offset {lo} not yet processed)")
    else:
        where = "The committed offset never runs ahead of processing"
    whole = "" if result.config.get("partitions", 1) == 1 else " in the whole run"
    if not o["drained"]:  # no message is lost before the run ends: do not say "0 lost"
        return (f"{where}; {o['processed']} records processed{whole}. The run ended before "
                f"every message was through: {o['never_sent']} never sent, {o['unseen']} sent "
                "but not processed yet.")
    return (f"{where}; {o['processed']} records processed{whole}, {o['lost']} lost, "
            f"{o['duplicates']} processed more than once.")


def offsets_timeline(result, partition: int = 0) -> go.Figure:
    """Offsets of one partition over simulated time, with the run's events as markers."""
    partitions = result.config.get("partitions", 1)
    if not 0 <= partition < partitions:
        raise ValueError(f"partition {partition} does not exist; the topic has {partitions}")
    return figure(timeline_spec(result, partition))
