"""Guarantee figures from fault sweeps: which crash point or fault breaks which guarantee.

Pure functions from ``kafkalab.sweep.SweepResult`` objects (or their ``to_json_dict()``) to
plotly figures; nothing here runs the model and nothing imports numpy. Each figure has a
one-line caption in ``fig.layout.meta["caption"]``. Colours are Okabe–Ito (colour-blind
safe) and never carry the meaning alone: every cell also says it in words and ✓/✗.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import plotly.graph_objects as go

from ..model.faults import CRASH_POINTS, FAULT_KINDS
from ..palette import CAPTION, LIGHT, C
from ._common import TEMPLATE

_NEITHER, _DUP, _LOST, _BOTH, _NA = 0, 1, 2, 3, 4
_COLOURS = {_NEITHER: C["sky"],  # sky blue: nothing lost, nothing duplicated
            _DUP: C["orange"],  # orange: duplicates
            _LOST: C["vermillion"],  # vermillion: loss
            _BOTH: C["purple"],  # reddish purple: both
            _NA: LIGHT}  # light grey: this fault has no place in this configuration
# Never colour alone: the cells also say ✗/✓ in words, and each state has its own legend shape
# (the ledger's: plain for fine, x for loss, dot for duplicates).
_SYMBOLS = {_NEITHER: "square", _DUP: "square-dot", _LOST: "square-x", _BOTH: "square-cross",
            _NA: "square-open"}
_STATE_WORDS = {_NEITHER: "no loss, no duplicates", _DUP: "duplicates",
                _LOST: "loss", _BOTH: "loss and duplicates", _NA: "no such place"}
# The fault kinds a sweep places, in the model's words (model/faults.py FAULT_KINDS): the
# sweep's short name (the kind's alias) and its label.
_SWEPT = ("consumer_crash", "lose_response", "lose_request", "producer_restart")
_KIND_OF_TYPE = {t: FAULT_KINDS[t].alias for t in _SWEPT}
KIND_LABELS = {FAULT_KINDS[t].alias: FAULT_KINDS[t].label for t in _SWEPT}
# The membership changes (issue 17) share one row / column: a rebalance.
REBALANCE = "rebalance"
_MEMBER_TYPES = ("member_join", "member_leave", "member_restart")
_KIND_OF_TYPE.update({t: REBALANCE for t in _MEMBER_TYPES})
KIND_LABELS[REBALANCE] = "rebalance (" + ", ".join(FAULT_KINDS[t].label
                                                  for t in _MEMBER_TYPES) + ")"
# Broker crashes (issue 18): the leader's process (the ISR full) and the machine of the last
# ISR member (the ISR shrank to the leader; its unflushed log tail is gone).
_BROKER_KINDS = ("broker_crash", "machine_failure")
_KIND_OF_TYPE.update({k: k for k in _BROKER_KINDS})
KIND_LABELS["broker_crash"] = "leader crash (process, ISR full)"
KIND_LABELS["machine_failure"] = "machine failure of the last ISR member"
_PROMISE_WORDS = {"no_acked_loss": "no acknowledged write lost", "no_loss": "no loss",
                  "no_duplicates": "no duplicates",
                  "exactly_once": "no loss, no duplicates",
                  "no_log_duplicates": "no duplicates in the log"}
_KIND_HOVER = {
    "crash": "the consumer process dies at one point of its loop and restarts",
    "lost_ack": "the broker writes a produce request but its response is lost; the "
                "producer retries",
    "lost_request": "a produce request never reaches the broker; the producer retries",
    "producer_restart": "the (upstream) producer application restarts and re-sends what was "
                        "not acknowledged yet: a new PID, so idempotence cannot see copies",
    "broker_crash": "the partition leader's process crashes right after an append (RF=3, every "
                    "follower in the ISR) and comes back 5 s later; a follower in the ISR "
                    "takes over",
    "machine_failure": "the followers were cut off and left the ISR, so the leader was its "
                       "only member; then the leader's machine fails right after an append: "
                       "its unflushed log tail is gone (Kafka does not fsync each write)",
    REBALANCE: "the consumer group rebalances: a member joins (scale out), leaves (scale in) "
               "or restarts gracefully, at four moments of the run; partitions move at their "
               "committed offsets",
}


def _colorscale() -> list:
    """A stepped colour scale for the integer states 0..4."""
    n = len(_COLOURS)
    out = []
    for state in range(n):
        out.append([state / n, _COLOURS[state]])
        out.append([(state + 1) / n, _COLOURS[state]])
    return out


def _data(sweep: Any) -> dict:
    return sweep.to_json_dict() if hasattr(sweep, "to_json_dict") else dict(sweep)


def _single_rows(sweep: Any) -> list[dict]:
    return [r for r in _data(sweep)["table"] if len(r["faults"]) == 1]


def _tally(rows: list[dict]) -> dict:
    return {"runs": len(rows), "lost_runs": sum(r["lost"] > 0 for r in rows),
            "dup_runs": sum(r["duplicates"] > 0 for r in rows),
            "lost": sum(r["lost"] for r in rows), "duplicates": sum(r["duplicates"] for r in rows),
            "first_lost": next((r["label"] for r in rows if r["lost"] > 0), None),
            "first_dup": next((r["label"] for r in rows if r["duplicates"] > 0), None)}


def _state(t: dict | None) -> int:
    if not t or not t["runs"]:
        return _NA
    return (_LOST if t["lost_runs"] else 0) + (_DUP if t["dup_runs"] else 0)


def _hover(row_name: str, col_name: str, t: dict | None) -> str:
    if not t or not t["runs"]:
        return f"{col_name}<br>{row_name}: not a place where this configuration can fail"
    lines = [f"<b>{col_name}</b>", f"{row_name}: {t['runs']} placement(s)",
             f"lost messages in {t['lost_runs']} run(s), {t['lost']} message(s) in all",
             f"duplicates in {t['dup_runs']} run(s), {t['duplicates']} extra in all"]
    if t["first_lost"]:
        lines.append(f"first losing placement: {t['first_lost']}")
    if t["first_dup"]:
        lines.append(f"first duplicating placement: {t['first_dup']}")
    return "<br>".join(lines)


def _heatmap(z, text, hover, x, y) -> go.Heatmap:
    return go.Heatmap(z=z, x=x, y=y, text=text, texttemplate="%{text}", hovertext=hover,
                      hoverinfo="text", colorscale=_colorscale(), zmin=0,
                      zmax=len(_COLOURS), showscale=False, xgap=3, ygap=3,
                      textfont={"size": 12, "color": C["black"]})


def _legend_traces() -> list[go.Scatter]:
    """Legend entries for the cell colours (the heatmap itself has no legend)."""
    return [go.Scatter(x=[None], y=[None], mode="markers", name=_STATE_WORDS[s],
                       marker={"size": 12, "symbol": _SYMBOLS[s], "color": _COLOURS[s],
                               "line": {"color": C["black"], "width": 1}},
                       hoverinfo="skip") for s in (_NEITHER, _DUP, _LOST, _BOTH)]


def _wrap(text: str, width: int) -> str:
    words, lines, line = text.split(" "), [], ""
    for w in words:
        if line and len(line) + 1 + len(w) > width:
            lines.append(line)
            line = w
        else:
            line = f"{line} {w}" if line else w
    return "<br>".join([*lines, line])


NOTEBOOK_PX = 800  # a notebook's output area at a 1000 px wide browser is about 820 px


def _layout(title: str, caption: str, height: int, width: int, left: int,
            top: int) -> dict:
    # ``width`` is the width the grid needs; the figure follows the notebook's width (a fixed
    # width ran off a 1000 px notebook: notebook 04's six columns were 1150 px) and the caption
    # is wrapped for the narrower of the two
    chars = max(40, int((min(width, NOTEBOOK_PX) - 40) / 6.2))
    layout = {"title": {"text": title, "x": 0.01, "xanchor": "left", "y": 0.985,
                        "yanchor": "top"},
              "meta": {"caption": caption},
              "font": {"family": "Helvetica, Arial, sans-serif", "size": 13},
              "template": TEMPLATE, "height": height, "autosize": True,
              "margin": {"l": left, "r": 20, "t": top, "b": 70},
              "hoverlabel": {"align": "left"},
              "legend": {"orientation": "h", "yanchor": "top", "y": -0.02, "x": 0},
              "xaxis": {"side": "top", "showgrid": False, "zeroline": False,
                        "tickangle": 0},
              "yaxis": {"autorange": "reversed", "showgrid": False, "zeroline": False},
              "annotations": [{"text": _wrap(caption, chars), "xref": "paper",
                               "yref": "paper", "x": 0, "y": 1.0, "xanchor": "left",
                               "yanchor": "bottom", "yshift": top - 78, "align": "left",
                               "showarrow": False, "font": {"size": 11, "color": CAPTION},
                               "name": "caption"}]}
    layout["annotations"][0]["xshift"] = -left + 12
    return layout


def _column_label(text: str) -> str:
    return text.replace(" (", "<br>(").replace(", ", ",<br>")


def _cell_text(t: dict | None) -> str:
    if not t or not t["runs"]:
        return "—"
    n = t["runs"]
    lost = f"✗ lost {t['lost_runs']}/{n}" if t["lost_runs"] else f"✓ lost 0/{n}"
    dup = f"✗ dup {t['dup_runs']}/{n}" if t["dup_runs"] else f"✓ dup 0/{n}"
    return f"{lost}<br>{dup}"


def guarantee_map(sweeps: Mapping[str, Any], title: str | None = None) -> go.Figure:
    """Heatmap: crash point (and other fault kinds) × configuration. Each cell counts the
    single-fault placements at that point whose run lost messages / processed some twice
    ("lost 3/6" = 3 of the 6 crash positions at that point lose). ``sweeps`` maps a
    configuration label to a SweepResult (or its ``to_json_dict()``)."""
    if not sweeps:
        raise ValueError("guarantee_map needs at least one sweep")
    columns = list(sweeps)
    groups: dict[str, dict[str, list[dict]]] = {c: {} for c in columns}
    for col, sw in sweeps.items():
        for row in _single_rows(sw):
            f = row["faults"][0]
            kind = _KIND_OF_TYPE.get(f["type"], f["type"])
            key = f"crash {f['point']}" if kind == "crash" else KIND_LABELS.get(kind, kind)
            groups[col].setdefault(key, []).append(row)
    present = {k for g in groups.values() for k in g}
    rows = [f"crash {p}" for p in CRASH_POINTS if f"crash {p}" in present]
    rows += sorted(present - set(rows))
    z, text, hover = [], [], []
    for r in rows:
        tallies = [_tally(groups[c][r]) if r in groups[c] else None for c in columns]
        z.append([_state(t) for t in tallies])
        text.append([_cell_text(t) for t in tallies])
        hover.append([_hover(r, c, t) for c, t in zip(columns, tallies, strict=True)])
    labels = [r.replace("_", " ") for r in rows]
    fig = go.Figure([_heatmap(z, text, hover, [_column_label(c) for c in columns], labels),
                     *_legend_traces()])
    depth_note = ""
    data = [_data(s) for s in sweeps.values()]
    if not all(d.get("exhaustive", True) for d in data):
        depth_note = " Some sweeps were sampled, not exhaustive."
    caption = ("Every single fault placement, run once: a cell counts the placements at that "
               "point that lost messages (lost k/n) or processed some twice (dup k/n)."
               + depth_note)
    fig.update_layout(**_layout(title or "Where each configuration breaks: crash point × "
                                "configuration", caption, height=230 + 56 * len(rows),
                                width=max(620, 190 + 160 * len(columns)), left=170, top=150))
    return fig


def semantics_matrix(sweeps: Mapping[str, Any] | None,
                     promises: Mapping[str, str | None] | None = None,
                     kinds: tuple[str, ...] = ("crash", "lost_ack", "producer_restart",
                                               REBALANCE),
                     title: str | None = None,
                     no_promise_note: str = "promises neither") -> go.Figure:
    """Delivery semantics × fault type: does each guarantee survive each kind of single
    fault? ✓ = no placement of that fault lost (or duplicated) a message; ✗ k/n = k of the
    n placements did. ``sweeps`` maps a semantics label to a SweepResult, e.g. the five of
    ``kafkalab.sweep.semantics_sweeps()`` (this figure never runs them itself); ``promises``
    maps the label to the property the semantics promises (``no_loss``, ``no_duplicates``,
    ``exactly_once`` or None), shown under the row label (default: ``kafkalab.sweep.SEMANTICS``'s
    promises). The broker-crash rows: ``kafkalab.sweep.durability_sweeps()`` with
    ``kinds=kafkalab.sweep.DURABILITY_COLUMNS`` (``no_promise_note`` says what a row without a
    promise promises)."""
    if sweeps is None:
        raise TypeError("kafkalab: semantics_matrix(sweeps) draws sweeps it is given and never "
                        "runs the model: pass kafkalab.sweep.semantics_sweeps() (about 2 s)")
    if promises is None:
        from ..sweep.cli import DURABILITY, SEMANTICS  # the tables: label -> (..., promise)

        promises = {label: promise for label, (_, promise) in SEMANTICS.items()}
        promises.update({label: promise for label, (_, promise) in DURABILITY.items()})
    if not sweeps:
        raise ValueError("semantics_matrix needs at least one sweep")
    labels = list(sweeps)
    columns = [KIND_LABELS.get(k, k) for k in kinds]
    z, text, hover, ylabels = [], [], [], []
    for label in labels:
        rows = _single_rows(sweeps[label])
        by_kind = {k: [r for r in rows
                       if _KIND_OF_TYPE.get(r["faults"][0]["type"]) == k] for k in kinds}
        tallies = [_tally(by_kind[k]) if by_kind[k] else None for k in kinds]
        z.append([_state(t) for t in tallies])
        text.append([_cell_text(t) for t in tallies])
        hover.append([_hover(col, label, t) + "<br><i>" + _wrap(_KIND_HOVER.get(k, ""), 60)
                      + "</i>" for k, col, t in zip(kinds, columns, tallies, strict=True)])
        promise = (promises or {}).get(label)
        broken = [KIND_LABELS.get(k, k) for k, t in zip(kinds, tallies, strict=True)
                  if not _keeps(promise, t)]
        if promise is None:
            note = no_promise_note
        else:
            note = f"promises {_PROMISE_WORDS.get(promise, promise)}: " + (
                f"broken by {' and '.join(broken)}" if broken else "kept")
        ylabels.append(f"{label}<br><i>{_wrap(note, 60)}</i>")
    fig = go.Figure([_heatmap(z, text, hover, columns, ylabels), *_legend_traces()])
    caption = ("Which guarantee survives which single fault: ✓ no placement of the fault "
               "lost / duplicated a message, ✗ k/n = k of its n placements did.")
    fig.update_layout(**_layout(title or "Delivery semantics × fault: what survives",
                                caption, height=210 + 74 * len(labels),
                                width=max(700, 330 + 170 * len(columns)), left=320, top=120))
    # long column labels wrap to a column's width at 1000 px (~16 characters; the rebalance one
    # overlapped its neighbour); x keeps the label
    fig.update_xaxes(tickvals=columns, ticktext=[_wrap(c, 16) for c in columns])
    return fig


def _keeps(promise: str | None, t: dict | None) -> bool:
    if promise is None or not t or not t["runs"]:
        return True
    lost_ok = not t["lost_runs"]
    dup_ok = not t["dup_runs"]
    return {"no_loss": lost_ok, "no_acked_loss": lost_ok, "no_duplicates": dup_ok,
            "exactly_once": lost_ok and dup_ok,
            "no_log_duplicates": True}.get(promise, True)


__all__ = ["guarantee_map", "semantics_matrix"]
