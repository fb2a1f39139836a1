"""The assignment timeline (issue 17): partitions × time, a bar for each stretch a member
owned a partition (colour and hatching per member), grey bands where the group was
rebalancing with the generation each one produced, and the records processed a second time
marked where it happened (records a zombie processed after it was out of the group too).

A pure function of a ``RunResult``: it reads the members' events (``join``, ``restart``,
``rebalance``, ``revoke``, ``crash``, ``close``, ``left_group``), the coordinator's
(``rebalance_begin``, ``assignment``) and the ``process`` events; it never re-runs the model.
"""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go

from ..palette import CAPTION, DARK
from ._common import (
    MEMBER_COLOURS,
    MEMBER_PATTERNS,
    REBALANCE_BAND,
    C,
    base_layout,
    figure,
    sink_group,
    sink_prefix,
    time_range,
    wrap,
)

OWNING_KINDS = ("join", "restart", "rebalance")
ENDING_KINDS = ("crash", "close")
LABEL_STRIP_PX = 40  # room above the partitions for the upright "gen N" labels ("gen 12": ~35 px)
LABEL_BAND_FRACTION = 0.03  # a band narrower than this share of the time axis: label after it


def ownership(result) -> list[dict[str, Any]]:
    """Each stretch a member owned a partition: {member, partition, start, end, generation}."""
    prefix = sink_prefix(result)
    end_t = result.events[-1].t if result.events else 0.0
    open_: dict[tuple[str, int], dict[str, Any]] = {}
    out: list[dict[str, Any]] = []

    def close(member: str, parts, t: float) -> None:
        for p in list(parts):
            stretch = open_.pop((member, p), None)
            if stretch is not None:
                stretch["end"] = t
                out.append(stretch)

    for e in result.events:
        who = e.actor
        if not who.startswith(prefix):
            continue
        mine = [p for (m, p) in open_ if m == who]
        if e.kind in OWNING_KINDS:
            now = set(e.data.get("assignment", []))
            close(who, [p for p in mine if p not in now], e.t)
            for p in sorted(now):
                if (who, p) not in open_:
                    open_[(who, p)] = {"member": who, "partition": p, "start": e.t, "end": None,
                                       "generation": e.data.get("generation")}
        elif e.kind == "revoke":
            close(who, e.data.get("partitions", []), e.t)
        elif e.kind in ENDING_KINDS or (e.kind == "left_group" and who.startswith(prefix)):
            close(who, mine, e.t)
    for stretch in list(open_.values()):
        stretch["end"] = end_t
        out.append(stretch)
    return sorted(out, key=lambda s: (s["partition"], s["start"]))


def rebalance_bands(result) -> list[dict[str, Any]]:
    """Each rebalance of the sink's group: {start, end, generation, reason}."""
    group = sink_group(result)
    bands: list[dict[str, Any]] = []
    current: dict[str, Any] | None = None
    for e in result.events:
        if e.data.get("group") != group:
            continue
        if e.kind == "rebalance_begin" and current is None:
            current = {"start": e.t, "end": None, "generation": None,
                       "reason": e.data.get("reason", "")}
        elif e.kind == "assignment" and current is not None:
            current["end"], current["generation"] = e.t, e.data.get("generation")
            bands.append(current)
            current = None
    if current is not None:
        current["end"] = result.events[-1].t
        bands.append(current)
    return bands


def twice_processed(result) -> tuple[list[tuple[float, int, str]], list[tuple[float, int, str]]]:
    """([(t, partition, text)] for every processing of a record after its first,
    [(t, partition, text)] for every record a zombie processed)."""
    prefix = sink_prefix(result)
    seen: dict[int, int] = {}
    again, zombie = [], []
    for e in result.events:
        if e.kind != "process" or not e.actor.startswith(prefix):
            continue
        zombie_offsets = set(e.data.get("zombie", ()))
        for p, off, msg, t, _applied in e.data["records"]:
            n = seen[msg] = seen.get(msg, 0) + 1
            if n > 1:
                again.append((t, p, f"message {msg} (partition {p}, offset {off}) processed "
                                    f"again by {e.actor}: time {n}"))
            if off in zombie_offsets:
                zombie.append((t, p, f"{e.actor} processed offset {off} of partition {p} "
                                     "after the group had given the partition to another "
                                     "member (a zombie; its commit is refused)"))
    return again, zombie


def assignment_timeline(result) -> go.Figure:
    partitions = int(result.config.get("partitions", 1))
    stretches = ownership(result)
    bands = rebalance_bands(result)
    again, zombie = twice_processed(result)
    members = sorted({s["member"] for s in stretches},
                     key=lambda m: (len(m), m))
    style = {m: (MEMBER_COLOURS[i % len(MEMBER_COLOURS)],
                 MEMBER_PATTERNS[i % len(MEMBER_PATTERNS)]) for i, m in enumerate(members)}
    data: list[dict[str, Any]] = []
    for m in members:
        mine = [s for s in stretches if s["member"] == m]
        colour, pattern = style[m]
        data.append({
            "type": "bar", "orientation": "h", "name": f"{m} owns",
            "y": [f"partition {s['partition']}" for s in mine],
            "x": [max(s["end"] - s["start"], 0.0) for s in mine],
            "base": [s["start"] for s in mine],
            "marker": {"color": colour, "pattern": {"shape": pattern, "fgcolor": DARK,
                                                    "solidity": 0.3},
                       "line": {"color": DARK, "width": 0.5}},
            "hovertext": [wrap(f"{m} owned partition {s['partition']} from t={s['start']:g} to "
                               f"t={s['end']:g} ms (generation {s['generation']})")
                          for s in mine],
            "hoverinfo": "text", "width": 0.6,
        })
    for marks, name, symbol, colour in ((again, "processed again", "x", C["vermillion"]),
                                        (zombie, "zombie (out of the group)", "circle-open",
                                         C["black"])):
        data.append({
            "type": "scatter", "mode": "markers", "name": name,
            "x": [t for t, _, _ in marks], "y": [f"partition {p}" for _, p, _ in marks],
            "hovertext": [wrap(text) for _, _, text in marks], "hoverinfo": "text",
            "marker": {"symbol": symbol, "size": 9, "color": colour,
                       "line": {"width": 1.5, "color": colour}},
        })
    # The generation labels hang from the top of the plot, turned upright, against the right
    # edge of the band they label (inside it; a band too narrow for the label gets it just
    # after its end): a strip above the partitions keeps them off the bars and off the
    # caption above the plot, and upright labels of bands close together do not collide.
    lo_t, hi_t = time_range(result)
    span = max(hi_t - lo_t, 1e-9)
    shapes, annotations = [], []
    for b in bands:
        end = max(b["end"], b["start"])
        shapes.append({"type": "rect", "xref": "x", "yref": "paper", "x0": b["start"],
                       "x1": end, "y0": 0, "y1": 1,
                       "fillcolor": REBALANCE_BAND, "line": {"width": 0}, "layer": "below"})
        # where one band starts as another ends, a thin edge keeps them two bands
        shapes.append({"type": "line", "xref": "x", "yref": "paper", "x0": b["start"],
                       "x1": b["start"], "y0": 0, "y1": 1, "layer": "below",
                       "line": {"width": 1, "color": CAPTION, "dash": "dot"}})
        if b["generation"] is not None:
            narrow = (end - b["start"]) / span < LABEL_BAND_FRACTION
            annotations.append({"x": end, "y": 1.0, "xref": "x", "yref": "paper",
                                "yanchor": "top", "xanchor": "left" if narrow else "right",
                                "textangle": -90, "text": f"gen {b['generation']}",
                                "showarrow": False, "font": {"size": 10, "color": CAPTION},
                                "hovertext": wrap(f"rebalance: {b['reason']}"),
                                "name": "generation"})
    cap = (f"Who owned each partition when (colour and hatching per member). Grey bands: "
           f"{len(bands)} rebalance(s), each labelled with the generation it made. "
           f"× {len(again)} record(s) processed again; ○ {len(zombie)} processed by a member "
           "the group had already replaced.")
    rows_px = max(300, 120 + 60 * partitions) - 190  # the plot's height for the partitions
    headroom = LABEL_STRIP_PX / (rows_px / partitions)  # the label strip, in category units
    layout = base_layout("Partition assignment over time", cap,
                         height=max(300, 120 + 60 * partitions) + LABEL_STRIP_PX,
                         barmode="overlay")
    layout["annotations"] = layout["annotations"] + annotations
    layout["shapes"] = shapes
    layout["xaxis"] = {"title": {"text": "simulated time (ms)"}, "range": time_range(result)}
    layout["yaxis"] = {"title": {"text": "partition"}, "type": "category",
                       "categoryorder": "array",
                       "categoryarray": [f"partition {p}" for p in range(partitions)],
                       "range": [-0.5, partitions - 0.5 + headroom]}
    return figure({"data": data, "layout": layout})
