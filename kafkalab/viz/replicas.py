"""The replica log figure (issue 18): one partition's replicas side by side.

Top: each broker's copy of the partition's log at a step (one square per record, its message id
on it, coloured and labelled by the leader epoch it was written in), each replica's log end
offset, the leader's high watermark, the leader marker with its epoch, ISR membership, and the
records a replica truncated (after a leader change or a machine failure) struck through.
Bottom: ISR membership over time, with crashes, restarts and elections marked.

Pure: it reads the run's events (``append``, ``truncated``, ``leader_elected``, ``broker_crash``
…) and snapshots (``replicas``: each replica's own log end), never re-runs the model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import plotly.graph_objects as go

from ._common import C, base_layout, clamp_step, figure, wrap

# leader epoch -> colour (cycled); the epoch is also written in the hover and the legend
EPOCH_COLOURS = (C["blue"], C["orange"], C["green"], C["purple"], C["sky"], C["yellow"])
MAX_OFFSETS = 120  # offsets drawn: the window ending at the longest log end
STRUCK_DY = 0.36  # truncated records sit just above their replica's row
# The offset axis at a 1000 px notebook is about this wide (the replica labels take the rest):
# a record's square is sized so neighbours do not overlap there, and carries its message id
# only where the digits fit inside it (hover always has it).
PLOT_PX = 600
DIGIT_PX = 5  # an 8 px digit is ~4.5 px wide


@dataclass
class ReplicaState:
    """What the figure draws for one partition at one step."""

    replicas: list[int]
    logs: dict[int, dict[int, tuple[int | None, int]]]  # broker -> offset -> (message, epoch)
    struck: dict[int, list[tuple[int, int | None, int, str]]]  # (offset, message, epoch, cause)
    leo: dict[int, int] = field(default_factory=dict)
    leader: int = 0
    epoch: int = 0
    isr: list[int] = field(default_factory=list)
    live: list[int] = field(default_factory=list)
    hw: int = 0
    t: float = 0.0
    # ISR over time: (t, broker, in ISR?, alive?)
    history: list[tuple[float, dict[int, bool], list[int]]] = field(default_factory=list)
    marks: list[tuple[float, int, str, str]] = field(default_factory=list)  # (t, broker, kind, text)


def replica_state(result: Any, step: int | None = None, topic: str = "input",
                  partition: int = 0) -> ReplicaState:
    """Rebuild each replica's log of ``topic``/``partition`` up to event ``step`` (default the
    last): the leader's appends, followers copying the leader up to their own log end (from the
    snapshots), truncations struck through."""
    events = result.events
    snaps = result.snapshots
    last = clamp_step(result, step)
    first = _replicas_at(snaps, 0, topic, partition) if snaps else None
    replicas = sorted(first[3]) if first else [0]
    replicas = [int(b) for b in replicas]
    st = ReplicaState(replicas, {b: {} for b in replicas}, {b: [] for b in replicas})
    st.leader = first[0] if first else 0
    st.isr = list(first[2]) if first else [0]
    st.live = list(replicas)
    for i in range(last + 1):
        e = events[i]
        d = e.data
        mine = d.get("topic") == topic and d.get("partition") == partition
        if e.kind == "append" and mine:
            broker = d.get("broker", st.leader)
            epoch = d.get("leader_epoch", 0)
            log = st.logs.setdefault(broker, {})
            for k, m in enumerate(d["messages"]):
                log[d["offset"] + k] = (m, epoch)
        elif e.kind == "marker" and mine:
            st.logs.setdefault(st.leader, {})[d["offset"]] = (None, st.epoch)
        elif e.kind == "truncated" and mine:
            log = st.logs.setdefault(d["broker"], {})
            for o in sorted(o for o in log if o >= d["start"]):
                m, epoch = log.pop(o)
                st.struck.setdefault(d["broker"], []).append((o, m, epoch, d["cause"]))
            st.marks.append((e.t, d["broker"], "truncated", e.text))
        elif e.kind == "leader_elected" and mine:
            st.leader, st.epoch = d["leader"], d["epoch"]
            st.marks.append((e.t, d["leader"], "leader_elected", e.text))
        elif e.kind in ("broker_crash", "broker_restart") and d["broker"] in st.logs:
            st.marks.append((e.t, d["broker"], e.kind, e.text))
        elif e.kind == "partition_offline" and mine:
            st.marks.append((e.t, -1, e.kind, e.text))
        rep = _replicas_at(snaps, i, topic, partition) if snaps else None
        if rep is None:
            continue
        st.leader, st.epoch, st.isr = rep[0], rep[1], list(rep[2])
        own = rep[4] if len(rep) > 4 else rep[3]
        st.live = list(rep[5]) if len(rep) > 5 else list(replicas)
        source = st.logs.get(st.leader, {})
        for b_str, end in own.items():
            b = int(b_str)
            log = st.logs.setdefault(b, {})
            if b != st.leader:
                for o in range(len(log), end):  # a follower copied the leader up to its end
                    if o in source:
                        log[o] = source[o]
            st.leo[b] = end
        members = {b: b in st.isr for b in replicas}
        if not st.history or st.history[-1][1] != members or st.history[-1][2] != st.live:
            st.history.append((e.t, members, list(st.live)))
    if last >= 0:
        st.t = events[last].t
        if snaps:
            st.hw = snaps[last]["logs"][topic][partition][1]
    for b in replicas:
        st.leo.setdefault(b, len(st.logs.get(b, {})))
    return st


def _replicas_at(snaps: list[Any], i: int, topic: str, partition: int) -> list[Any] | None:
    reps = snaps[i].get("replicas") if i < len(snaps) else None
    if not reps or topic not in reps:
        return None
    row: list[Any] = reps[topic][partition]
    return row


def replica_logs(result: Any, step: int | None = None, topic: str = "input",
                 partition: int = 0) -> go.Figure:
    """Each replica's log of one partition at ``step`` (default: the end), side by side, with
    log end offsets, the high watermark, the leader and its epoch, ISR membership, struck-through
    truncated records, and the ISR over time below."""
    st = replica_state(result, step, topic, partition)
    rows = list(reversed(st.replicas))  # broker 0 on top
    y_of = {b: i for i, b in enumerate(rows)}
    end = max([st.leo.get(b, 0) for b in rows] + [o + 1 for b in rows
                                                  for o, *_ in st.struck.get(b, [])] + [1])
    lo = max(0, end - MAX_OFFSETS)
    span = (end + 4) - (lo - 1)  # the offset axis' range
    size = max(6, min(18, PLOT_PX // max(span, 1)))
    digits = len(str(max([0] + [m for b in rows for m, _ in st.logs.get(b, {}).values()
                                if m is not None]
                         + [m for b in rows for _, m, _, _ in st.struck.get(b, [])
                            if m is not None])))
    labelled = size >= DIGIT_PX * digits + 1
    font = 9 if size >= 14 else 8
    data: list[dict[str, Any]] = []
    by_epoch: dict[int, dict[str, list[Any]]] = {}
    for b in rows:
        for o, (m, epoch) in sorted(st.logs.get(b, {}).items()):
            if o < lo:
                continue
            pts = by_epoch.setdefault(epoch, {"x": [], "y": [], "text": [], "hover": []})
            pts["x"].append(o)
            pts["y"].append(y_of[b])
            pts["text"].append("M" if m is None else str(m))
            what = "a transaction marker" if m is None else f"message {m}"
            pts["hover"].append(wrap(f"broker {b}, offset {o}: {what}, written in leader "
                                     f"epoch {epoch}" + (" (below the high watermark: committed)"
                                                         if o < st.hw else
                                                         " (above the high watermark)")))
    for epoch, pts in sorted(by_epoch.items()):
        data.append({"type": "scatter", "mode": "markers+text", "name": f"record, epoch {epoch}",
                     "x": pts["x"], "y": pts["y"], "text": pts["text"] if labelled else None,
                     "textfont": {"size": font, "color": "white"},
                     "hovertext": pts["hover"], "hoverinfo": "text",
                     "marker": {"symbol": "square", "size": size,
                                "color": EPOCH_COLOURS[epoch % len(EPOCH_COLOURS)],
                                "line": {"width": 1, "color": "white"}},
                     "xaxis": "x", "yaxis": "y"})
    sx: list[int] = []
    sy: list[int] = []
    stext: list[str] = []
    shover: list[str] = []
    for b in rows:
        for o, m, epoch, cause in st.struck.get(b, []):
            if o < lo:
                continue
            sx.append(o)
            sy.append(y_of[b] + STRUCK_DY)  # just above the row: new records may reuse them
            stext.append("M" if m is None else str(m))
            why = ("its machine failed before it was flushed to disk" if cause ==
                   "machine_failure" else "it diverged from the new leader's log")
            shover.append(wrap(f"TRUNCATED from broker {b}: offset {o}, "
                               + ("a marker" if m is None else f"message {m}")
                               + f" (epoch {epoch}): {why}"))
    if sx:
        data.append({"type": "scatter", "mode": "markers+text", "name": "truncated (struck out)",
                     "x": sx, "y": sy, "text": stext if labelled else None,
                     "textfont": {"size": font, "color": C["black"]},
                     "hovertext": shover, "hoverinfo": "text",
                     "marker": {"symbol": "square-open", "size": size,
                                "color": C["grey"]},
                     "xaxis": "x", "yaxis": "y"})
        data.append({"type": "scatter", "mode": "markers", "name": "strike-through",
                     "showlegend": False, "x": sx, "y": sy, "hoverinfo": "skip",
                     "marker": {"symbol": "line-ew-open", "size": size,
                                "color": C["vermillion"],
                                "line": {"width": 2, "color": C["vermillion"]}},
                     "xaxis": "x", "yaxis": "y"})
    # each replica's log end offset
    data.append({"type": "scatter", "mode": "markers+text", "name": "log end offset (LEO)",
                 "x": [st.leo.get(b, 0) - 0.5 for b in rows], "y": [y_of[b] for b in rows],
                 "text": [f"LEO {st.leo.get(b, 0)}" for b in rows], "textposition": "top right",
                 "textfont": {"size": 10},
                 "hovertext": [f"broker {b}: log end offset {st.leo.get(b, 0)}" for b in rows],
                 "hoverinfo": "text", "marker": {"symbol": "line-ns-open", "size": 24,
                                                  "color": C["black"],
                                                  "line": {"width": 3, "color": C["black"]}},
                 "xaxis": "x", "yaxis": "y"})
    # ISR over time (bottom panel)
    t_end = max(st.t, 1.0)
    for b in rows:
        xs: list[float | None] = []
        ys: list[float | None] = []
        for k, (t, members, live) in enumerate(st.history):
            t_next = st.history[k + 1][0] if k + 1 < len(st.history) else t_end
            if members.get(b) and b in live:
                xs += [t, t_next, None]
                ys += [y_of[b], y_of[b], None]
        data.append({"type": "scatter", "mode": "lines", "name": "in the ISR (and up)",
                     "showlegend": b == rows[-1], "legendgroup": "isr",
                     "x": xs, "y": ys, "line": {"width": 8, "color": C["green"]},
                     "hoverinfo": "skip", "xaxis": "x2", "yaxis": "y2"})
    styles = {"broker_crash": ("crash", C["vermillion"], "x"),
              "broker_restart": ("restart", C["blue"], "star"),
              "leader_elected": ("new leader", C["black"], "diamond"),
              "truncated": ("truncation", C["purple"], "line-ew-open"),
              "partition_offline": ("offline", C["vermillion"], "circle-open")}
    for kind, (label, colour, symbol) in styles.items():
        marks = [mk for mk in st.marks if mk[2] == kind]
        if not marks:
            continue
        data.append({"type": "scatter", "mode": "markers", "name": label,
                     "x": [mk[0] for mk in marks],
                     "y": [y_of.get(mk[1], len(rows) - 0.5) for mk in marks],
                     "hovertext": [wrap(f"t={mk[0]:g} ms: {mk[3]}") for mk in marks],
                     "hoverinfo": "text",
                     "marker": {"symbol": symbol, "size": 12, "color": colour,
                                "line": {"width": 2, "color": colour}},
                     "xaxis": "x2", "yaxis": "y2"})
    labels = []
    for b in rows:
        role = (f"★ leader, epoch {st.epoch}" if b == st.leader else
                "follower" if b in st.live else "down")
        if b not in st.live:
            role = "down"
        member = "ISR" if b in st.isr else "not in ISR"
        labels.append(f"broker {b}<br>{role} · {member}")
    leader_text = (f"broker {st.leader} leads (epoch {st.epoch})" if st.leader >= 0
                   else "no leader: the partition is offline")
    struck_n = sum(len(v) for v in st.struck.values())
    text = (f"Partition {partition} of {topic} at t={st.t:g} ms: {leader_text}, ISR {st.isr}, "
            f"high watermark {st.hw}"
            + (f"; {struck_n} record(s) truncated, struck through" if struck_n else "")
            + (f"; offsets {lo}–{end - 1} shown" if lo else "") + ".")
    layout = base_layout("Replica logs: leader, followers, high watermark and ISR", text,
                         height=520)
    layout.update({
        "xaxis": {"title": {"text": "offset"}, "range": [lo - 1, end + 4], "autorange": False,
                  "domain": [0, 1], "anchor": "y"},
        "yaxis": {"title": {"text": "replica"}, "range": [-0.5, len(rows) - 0.3],
                  "autorange": False, "tickvals": list(range(len(rows))), "ticktext": labels,
                  "domain": [0.42, 1]},
        "xaxis2": {"title": {"text": "time (ms)"}, "range": [0, t_end * 1.02],
                   "autorange": False, "anchor": "y2"},
        "yaxis2": {"title": {"text": "ISR over time"}, "range": [-0.6, len(rows) - 0.4],
                   "autorange": False, "tickvals": list(range(len(rows))),
                   "ticktext": [f"broker {b}" for b in rows], "domain": [0, 0.26],
                   "anchor": "x2"},
        "shapes": [{"type": "line", "xref": "x", "yref": "y", "x0": st.hw - 0.5,
                    "x1": st.hw - 0.5, "y0": -0.6, "y1": len(rows) - 0.4,
                    "line": {"color": C["vermillion"], "width": 2, "dash": "dash"},
                    # below the traces: a LEO equal to the high watermark stays visible
                    "layer": "below", "name": "high watermark"}],
    })
    layout["annotations"] = [*layout["annotations"],
                             {"text": f"HW {st.hw}", "xref": "x", "yref": "y",
                              "x": st.hw - 0.5, "y": len(rows) - 0.4, "yanchor": "bottom",
                              "showarrow": False, "font": {"size": 10,
                                                           "color": C["vermillion"]},
                              "name": "high watermark"}]
    return figure({"data": data, "layout": layout})
