"""The broker's partition logs as strips of records with their offsets, and the broker's
producer-state table (PID, epoch, last sequence number per partition) beside them.

Built from ``append`` / ``marker`` events up to a step (the log is append-only, so the log at
step i is every append and marker with index ≤ i). Duplicates (a second visible copy of a
message id), control markers (they occupy an offset), aborted records and the high watermark,
last stable offset and the sink group's committed offset are all labelled, not only coloured.
"""

from __future__ import annotations

import plotly.graph_objects as go

from ..palette import CELL, DARK
from ._common import C, base_layout, clamp_step, figure, sink_group, wrap

CATEGORIES = (
    # key, legend name, colour, symbol
    ("record", "record (m = message id)", C["blue"], "square"),
    ("open", "record in an open transaction", C["sky"], "square"),
    ("duplicate", "DUP: another copy of a message already in the log", C["orange"], "square-dot"),
    ("aborted", "aborted record (read_committed skips it)", C["purple"], "square-x"),
    ("marker", "control marker (COMMIT / ABORT)", C["black"], "diamond-wide"),
)
BOUNDS = (
    # key, legend name, colour, dash, short label
    ("hw", "high watermark (HW)", C["black"], "solid", "HW"),
    ("lso", "last stable offset (LSO)", C["purple"], "dash", "LSO"),
    ("committed", "committed offset (sink group)", C["green"], "dot", "C"),
)
# The legend names of a compact figure (``log_spec(..., compact=True)``, the Lab's narrow
# column), by key of CATEGORIES / BOUNDS; a key not here keeps its legend name.
COMPACT_NAMES = {
    "aborted": "aborted record",
    "marker": "control marker",
    "committed": "committed offset",
}
# The producer-state table's header: full, and compact (two lines at most: "duplicate batches
# dropped" in three lines took the rows' room in the Lab's column)
TABLE_HEADER = ("producer", "PID", "epoch", "topic<br>partition", "last<br>seq",
                "last<br>offset", "duplicate<br>batches<br>dropped")
COMPACT_TABLE_HEADER = (*TABLE_HEADER[:-1], "dups<br>dropped")


TABLE_X0 = 0.62  # the producer-state table takes the right 38% of the figure

def log_width(max_end: int) -> int:
    if max_end <= 20:
        return max(max_end, 10)
    if max_end <= 300:
        return 20
    return 50


def partitions_of(result) -> list[tuple[str, int]]:
    last = result.snapshots[-1]["logs"] if result.snapshots else {}
    out = []
    for topic in sorted(last, key=lambda t: (t != "input", t)):
        out.extend((topic, p) for p in range(len(last[topic])))
    return out


def log_records(result, step: int | None = None, window: dict | None = None) -> list[dict]:
    """Every record and control marker in the logs at ``step``, with its status then.

    ``window`` ({(topic, partition): (first, end)}) keeps only records in those offset ranges
    (duplicates are still counted over the whole log)."""
    return result.log_history.records(clamp_step(result, step), window)


def producer_state(result, step: int | None = None) -> list[dict]:
    """The broker's idempotence table at ``step``, derived from append events: per producer id
    and partition, the latest epoch, last sequence number and last offset written."""
    step = clamp_step(result, step)
    table: dict[tuple[int, str, int], dict] = {}
    rejected: dict[tuple[int, str, int], int] = {}
    for e in result.events[: step + 1]:
        d = e.data
        if e.kind == "append" and d["pid"] >= 0:
            key = (d["pid"], d["topic"], d["partition"])
            table[key] = {"pid": d["pid"], "epoch": d["epoch"], "topic": d["topic"],
                          "partition": d["partition"], "producer": d["producer"],
                          "last_seq": d["seq"] + len(d["messages"]) - 1,
                          "last_offset": d["offset"] + len(d["messages"]) - 1}
        elif e.kind == "duplicate_batch":
            key = (d["pid"], d["topic"], d["partition"])
            rejected[key] = rejected.get(key, 0) + 1
    rows = []
    for key in sorted(table):
        row = dict(table[key])
        row["duplicates_dropped"] = rejected.get(key, 0)
        rows.append(row)
    return rows


def _cell(offset: int, width: int, row0: int) -> tuple[int, int]:
    return offset % width, row0 + offset // width


MAX_CELLS = 1000  # a longer log is shown as a window of offsets that follows the step


def log_spec(result, step: int | None = None, max_cells: int = MAX_CELLS,
             compact: bool = False) -> dict:
    """The broker log figure's spec at ``step``. ``compact`` (the Lab's narrow column): control
    markers are labelled C / A (the hover says COMMIT / ABORT), the legend names are short
    (COMPACT_NAMES), the committed offset has no label under its row (it hit the ticks; its
    hover and legend say what it is), the producer table's header is COMPACT_TABLE_HEADER and
    the axes have no titles (the row labels say what the y axis holds)."""
    step = clamp_step(result, step)
    parts = partitions_of(result)
    final = result.snapshots[-1]["logs"] if result.snapshots else {}
    now = result.snapshots[step]["logs"] if result.snapshots else {}
    max_end = max([final[t][p][0] for t, p in parts] + [1])
    width = log_width(max_end)
    max_rows = max(max_cells // width // max(len(parts), 1), 1)
    # Rows: each (topic, partition) gets enough rows for its final length (axes fixed), or a
    # fixed window of rows ending at the current high watermark when the log is long.
    row0: dict[tuple[str, int], int] = {}  # y of offset 0 (may be negative in a window)
    window: dict[tuple[str, int], tuple[int, int]] = {}
    row = 0
    ticks, ticktext = [], []
    windowed = False
    for t, p in parts:
        total = max((final[t][p][0] + width - 1) // width, 1)
        n_rows = min(total, max_rows)
        first_row = 0
        if total > n_rows:
            windowed = True
            hw = now.get(t, [[0, 0, 0]] * (p + 1))[p][1] if t in now and p < len(now[t]) else 0
            first_row = min(max((hw + width - 1) // width - n_rows, 0), total - n_rows)
        row0[(t, p)] = row - first_row
        window[(t, p)] = (first_row * width, (first_row + n_rows) * width)
        for r in range(first_row, first_row + n_rows):
            ticks.append(row + r - first_row)
            ticktext.append(f"{t} p{p} [{r * width}–{(r + 1) * width - 1}]")
        row += n_rows + (1 if len(parts) > 1 else 0)
    total_rows = max(row - (1 if len(parts) > 1 else 0), 1)
    records = log_records(result, step, window if windowed else None)
    small = width <= 20 and max_end <= 200
    size = 30 if width <= 20 else 13
    data = []
    by_category: dict[str, list[dict]] = {key: [] for key, *_ in CATEGORIES}
    for rec in records:
        if (rec["topic"], rec["partition"]) in row0:
            by_category[rec["category"]].append(rec)
    for key, name, color, symbol in CATEGORIES:
        xs, ys, texts, hovers = [], [], [], []
        for rec in by_category[key]:
            x, y = _cell(rec["offset"], width, row0[(rec["topic"], rec["partition"])])
            xs.append(x)
            ys.append(y)
            if key == "marker":
                texts.append(("COMMIT" if rec["control"] == "commit" else "ABORT")
                             if small and not compact else rec["control"][0].upper())
                hovers.append(f"offset {rec['offset']}: {rec['control'].upper()} marker of PID "
                              f"{rec['pid']} (a control record: it occupies an offset but is "
                              "never returned to applications)")
                continue
            m = rec["message"]
            tag = {"duplicate": " DUP", "aborted": " ✗"}.get(key, "")
            texts.append(f"m{m}{'<br>' + tag.strip() if tag and small else tag}" if small
                         else (tag.strip() or ""))
            pid = f"PID {rec['pid']} epoch {rec['epoch']} seq {rec['seq']}" if rec["pid"] >= 0 \
                else "no PID (idempotence off)"
            extra = {"duplicate": f"; copy #{rec.get('copy')} of message {m}",
                     "aborted": "; its transaction was aborted",
                     "open": "; its transaction is still open"}.get(key, "")
            hovers.append(wrap(f"offset {rec['offset']}: message {m}, written at t={rec['t']:g} ms "
                               f"by {rec['producer']} (attempt {rec['attempt']}, {pid}){extra}"))
        legend = COMPACT_NAMES.get(key, name) if compact else name
        data.append({"type": "scatter", "mode": "markers+text", "name": legend, "x": xs, "y": ys,
                     "text": texts, "hovertext": hovers, "hoverinfo": "text",
                     "textposition": "middle center",
                     "textfont": {"size": (7 if key == "marker" else 9) if small else 8,
                                  "color": "black" if key in ("open", "duplicate") else "white"},
                     "marker": {"symbol": symbol, "size": size, "color": color,
                                "line": {"color": DARK, "width": 1}},
                     "showlegend": bool(xs),  # a legend entry only for what is drawn
                     "xaxis": "x", "yaxis": "y"})
    snap = result.snapshots[step] if result.snapshots else {"logs": {}, "committed": {}}
    group = sink_group(result)
    transactional = bool(result.config.get("transactional.id"))
    for key, name, color, dash, short in BOUNDS:
        xs, ys, texts, labels = [], [], [], []
        for t, p in parts:
            logs = snap["logs"].get(t)
            if not logs or p >= len(logs):
                continue
            if key == "hw":
                off = logs[p][1]
            elif key == "lso":
                if not transactional and logs[p][2] == logs[p][1]:
                    continue
                off = logs[p][2]
            else:
                if t != result.observed_topic:
                    continue
                off = snap["committed"].get(group, {}).get(str(p))
                if off is None:
                    continue
            lo, hi = window[(t, p)]
            if not lo <= off <= hi:
                continue
            # A bound sits on the left edge of cell ``off``; at a row's end, on the right edge.
            r = (off - 1) // width if off > 0 else 0
            x, y = off - r * width, row0[(t, p)] + r
            nudge = {"hw": 0.0, "lso": 0.08, "committed": -0.08}[key]
            xs += [x - 0.5 + nudge, x - 0.5 + nudge, None]
            ys += [y - 0.48, y + 0.48, None]
            texts += [f"{name}: {off} ({t} p{p})"] * 2 + [None]
            # Bounds often coincide: HW labelled top left, LSO top right, C below the row.
            labels += (["", "" if compact else short, None] if key == "committed"
                       else [short, "", None])
        legend = COMPACT_NAMES.get(key, name) if compact else name
        data.append({"type": "scatter", "mode": "lines+text", "name": legend, "x": xs, "y": ys,
                     "hovertext": texts, "hoverinfo": "text", "text": labels,
                     "textposition": {"hw": "top left", "lso": "top right"}.get(key,
                                                                              "bottom center"),
                     "textfont": {"size": 9, "color": color}, "cliponaxis": False,
                     "line": {"color": color, "dash": dash, "width": 3},
                     "showlegend": bool(xs), "xaxis": "x", "yaxis": "y"})
    rows = producer_state(result, step)
    if rows:
        data.append({"type": "table", "name": "producer state",
                     "domain": {"x": [TABLE_X0, 1.0], "y": [0.0, 1.0]},
                     "columnwidth": [1.5, 0.8, 0.9, 1.2, 0.8, 0.9, 1.1],
                     # line breaks here: plotly.js does not wrap header words by itself, so
                     # narrow columns printed "epochpartition" (issue 14 item 3)
                     "header": {"values": list(COMPACT_TABLE_HEADER if compact
                                               else TABLE_HEADER),
                                "fill": {"color": CELL}, "font": {"size": 10},
                                "height": 46},
                     "cells": {"values": [
                         [r["producer"] for r in rows], [r["pid"] for r in rows],
                         [r["epoch"] for r in rows],
                         [f"{r['topic']} p{r['partition']}" for r in rows],
                         [r["last_seq"] for r in rows], [r["last_offset"] for r in rows],
                         [r["duplicates_dropped"] for r in rows]],
                         "font": {"size": 11}, "height": 24}})
    else:  # one cell that says why the table is empty, where the table would be
        # Lines are broken here: plotly.js wraps long cell text itself only after measuring
        # it, and in a FigureWidget that pass left the cell (and its header) blank.
        reason = wrap(no_producer_id_reason(result),
                      COMPACT_REASON_LINE_CHARS if compact else REASON_LINE_CHARS)
        data.append({"type": "table", "name": "producer state",
                     "domain": {"x": [TABLE_X0, 1.0], "y": [0.0, 1.0]}, "columnwidth": [1.0],
                     "header": {"values": ["producer state<br>(PID, epoch, last sequence)"],
                                "fill": {"color": CELL}, "font": {"size": 10},
                                "height": 36, "align": "left"},
                     "cells": {"values": [[reason]], "font": {"size": 11},
                               "height": 16 * (reason.count("<br>") + 1) + 10, "align": "left"}})
    title = f"Broker log at step {step} of {len(result.events) - 1}" + (
        f" — {result.scenario}" if result.scenario else "")
    height = min(max(300, total_rows * (size + 6) + 230), 1400)
    cap = log_caption(result, records, rows, windowed)
    if windowed:
        spans = ", ".join(f"{t} p{p} offsets {lo}–{hi - 1}" for (t, p), (lo, hi) in window.items())
        written = sum(logs[p][0] for t, logs in now.items() for p in range(len(logs))
                      if (t, p) in window)
        cap += f" Showing a window: {spans}, of {written:,} offsets written so far."
    layout = base_layout(
        title, cap, height=height,
        xaxis={"title": {"text": "" if compact
                         else "offset within its row (each row label gives its offsets)"},
               "domain": [0.0, TABLE_X0 - 0.04],
               "range": [-0.7, width - 0.3], "autorange": False, "dtick": 1 if width <= 20 else 5,
               "showgrid": False, "zeroline": False},
        yaxis={"title": {"text": "" if compact else "topic, partition [offsets]"},
               "range": [total_rows - 0.5, -0.6],
               "autorange": False, "tickvals": ticks, "ticktext": ticktext, "showgrid": False,
               "zeroline": False},
        margin={"l": 150, "r": 10, "t": 70, "b": 120})
    return {"data": data, "layout": layout}


# characters per line of the empty table's reason: fits its column at 11 px from 1050 px wide
REASON_LINE_CHARS = 40
# ... and in a compact figure, where the Lab puts the table under the log (~465 px wide)
COMPACT_REASON_LINE_CHARS = 52


def no_producer_id_reason(result) -> str:
    if result.config.get("enable.idempotence") or result.config.get("transactional.id"):
        return ("No producer id yet: the producer gets one from the broker (InitProducerId) "
                "before its first send.")
    return ("No producer id: idempotence is off, so the broker cannot recognise a retried "
            "batch and appends it again.")


def log_caption(result, records, rows, windowed: bool = False) -> str:
    """What the log figure shows at its step (with ``windowed``: what its window shows)."""
    counts = {key: sum(1 for r in records if r["category"] == key) for key, *_ in CATEGORIES}
    data_records = len(records) - counts["marker"]
    parts = [f"{data_records} record(s)"]
    if counts["duplicate"]:
        parts.append(f"{counts['duplicate']} duplicate cop{'y' if counts['duplicate'] == 1 else 'ies'}")
    if counts["marker"]:
        parts.append(f"{counts['marker']} control marker(s) occupying offsets")
    if counts["aborted"]:
        parts.append(f"{counts['aborted']} aborted record(s)")
    if counts["open"]:
        parts.append(f"{counts['open']} in an open transaction")
    pids = sorted({r["pid"] for r in rows})
    who = (f"; producer id(s) {', '.join(map(str, pids))}" if pids
           else "; no producer id yet" if result.config.get("enable.idempotence")
           or result.config.get("transactional.id")
           else "; no producer id (idempotence off)")
    return ("The window shows " if windowed else "The log holds ") + ", ".join(parts) + who + "."


def broker_log(result, step: int | None = None, compact: bool = False) -> go.Figure:
    """The partition log(s) up to ``step`` (default: the end) and the producer-state table
    (``compact``: short labels for a narrow column, see log_spec)."""
    return figure(log_spec(result, step, compact=compact))
