"""Side by side: the same fault plan under different settings, and what commits cost.

Both figures take results/outcomes only and never run the model: the runs come from
``kafkalab.scenarios`` (``run``, ``run_commit_strategies``) or ``kafkalab.model.simulate``.
"""

from __future__ import annotations

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..palette import MUTED
from ._common import FONT, TEMPLATE, C, caption_annotation, caption_lines, top_margin, wrap
from .ledger import CATEGORIES as LEDGER_CATEGORIES
from .ledger import label, ledger_state

BARS = (("lost", "lost", C["vermillion"], "x"),
        ("duplicates", "processed<br>2+ times", C["orange"], "/"),
        ("log_duplicates", "2+ copies<br>in the log", C["purple"], "."))


def comparison(results: dict) -> go.Figure:
    """Small multiples: per run, bars of lost / duplicates / log duplicates (same y scale) and a
    mini ledger strip below. ``results`` maps a label (e.g. a variant) to a RunResult."""
    if not results:
        raise ValueError("comparison() needs at least one run: {label: RunResult}")
    names = list(results)
    k = len(names)
    fig = make_subplots(rows=2, cols=k, row_heights=[0.62, 0.38], vertical_spacing=0.16,
                        horizontal_spacing=0.06, subplot_titles=[_short(n) for n in names] +
                        [""] * k)
    top = max([max(results[n].outcome.get(key, 0) for key, *_ in BARS) for n in names] + [1])
    for c, name in enumerate(names, start=1):
        o = results[name].outcome
        for key, lab, color, pattern in BARS:
            value = o.get(key, 0)
            fig.add_trace(go.Bar(
                x=[lab], y=[value], name=lab.replace("<br>", " "), legendgroup=lab, showlegend=c == 1,
                marker={"color": color, "pattern": {"shape": pattern}}, text=[str(value)],
                textposition="outside", cliponaxis=False,
                hovertext=[f"{name}: {value} {lab.replace('<br>', ' ')}"], hoverinfo="text"), row=1, col=c)
        fig.update_yaxes(range=[0, top * 1.25 + 0.5], autorange=False, row=1, col=c,
                         title_text="messages" if c == 1 else None)
        fig.update_xaxes(tickangle=0, tickfont={"size": 10}, row=1, col=c)
        result = results[name]
        state = ledger_state(result)
        n = len(state)
        per_row = 50 if n > 50 else max(n, 1)
        rows = (n + per_row - 1) // per_row
        for key, lab, color, symbol, _tc in LEDGER_CATEGORIES:
            ids = [m for m in range(n) if state[m][0] == key]
            fig.add_trace(go.Scatter(
                x=[m % per_row for m in ids], y=[m // per_row for m in ids], mode="markers+text",
                name=lab, legendgroup="ledger-" + key, showlegend=c == 1, customdata=ids,
                text=[label(key, state[m][1]).replace("LOST", "L") if n > 20
                      else label(key, state[m][1]) for m in ids],
                textfont={"size": 8}, textposition="top center",
                hovertext=[wrap(result.explain(m)) if n <= 400 else f"message {m}: {key}"
                           for m in ids], hoverinfo="text",
                marker={"symbol": symbol, "color": color, "size": 9 if per_row <= 20 else 5,
                        "line": {"color": MUTED, "width": 0.5}}), row=2, col=c)
        fig.update_xaxes(range=[-1, per_row], autorange=False, showgrid=False, zeroline=False,
                         title_text="message id", title_font={"size": 11}, row=2, col=c)
        fig.update_yaxes(range=[rows - 0.3, -0.9], autorange=False, showticklabels=False,
                         showgrid=False, zeroline=False, row=2, col=c)
    cap = "; ".join(f"{_short(n)}: {results[n].outcome['lost']} lost, "
                    f"{results[n].outcome['duplicates']} duplicated" for n in names) + "."
    fig.update_layout(
        title={"text": "Same fault plan, different settings", "x": 0.01},
        meta={"caption": cap}, font=FONT, template=TEMPLATE, height=480,
        margin={"l": 70, "r": 20, "t": top_margin(cap, 100), "b": 110}, barmode="group",
        legend={"orientation": "h", "y": -0.2, "x": 0, "font": {"size": 11}},
        hoverlabel={"align": "left"})
    ann = caption_annotation(cap)
    ann["y"] = 1.08
    fig.add_annotation(ann)
    return fig


def _short(name: str, limit: int = 38) -> str:
    return name if len(name) <= limit else name[: limit - 1] + "…"


def commit_cost_chart(outcome_by_strategy) -> go.Figure:
    """Records per second (simulated) by commit strategy: throughput only.

    Accepts either ``{strategy: RunResult or outcome dict}`` (from ``run_commit_strategies``)
    or a ``commit-cost`` RunResult / outcome whose ``throughput_by_strategy`` holds the rates
    (then lost/duplicate counts are not shown: those runs measured throughput only).

    The title says "throughput only" and, when the runs had no fault, "a fault-free run": with
    no fault every strategy processes each message once, so the bars compare speed and never
    delivery guarantees (a learner must not read "per-record: 0 lost" as a guarantee)."""
    rows = _strategy_rows(outcome_by_strategy)
    faults = _fault_count(outcome_by_strategy)
    names = [r[0] for r in rows]
    rates = [r[1] for r in rows]
    texts = []
    hovers = []
    for name, rate, lost, dups in rows:
        texts.append(f"{rate:,.0f}/s" if lost is None else f"{rate:,.0f}/s<br>{lost} lost, {dups} dup")
        hovers.append(f"{name}: {rate:,.1f} records/s (simulated); " +
                      ("loss and duplicates not shown: this run measured throughput only"
                       if lost is None else f"{lost} lost, {dups} processed more than once"
                       + (" (no fault was injected)" if faults == 0 else "")))
    patterns = ["", "/", "x", "."]
    colors = [C["blue"], C["sky"], C["green"], C["orange"], C["purple"], C["vermillion"]]
    data = [go.Bar(x=names, y=rates, text=texts, textposition="outside", cliponaxis=False,
                   hovertext=hovers, hoverinfo="text", name="records/s",
                   marker={"color": [colors[i % len(colors)] for i in range(len(names))],
                           "pattern": {"shape": [patterns[i % 4] for i in range(len(names))]}})]
    top = max([*rates, 1])
    slowest = min(rows, key=lambda r: r[1]) if rows else None
    fastest = max(rows, key=lambda r: r[1]) if rows else None
    if faults == 0:
        scope = ("Throughput only, in a fault-free run: with no crash every strategy processes "
                 "each message once, so this is not a delivery-guarantee comparison. ")
        subtitle = "throughput only: a fault-free run"
    elif faults is None:
        scope = "Throughput only: this compares speed, not delivery guarantees. "
        subtitle = "throughput only"
    else:
        scope = (f"Throughput under this fault plan ({faults} fault(s)); its lost/duplicate "
                 "counts hold for this plan only: they are not a guarantee. ")
        subtitle = f"throughput with {faults} fault(s)"
    cap = scope + (f"{fastest[0]} is fastest ({fastest[1]:,.0f} records/s), {slowest[0]} "
                   f"slowest ({slowest[1]:,.0f}/s): each commit is a round trip to the group "
                   "coordinator." if rows else "No strategies.")
    fig = go.Figure(data)
    fig.update_layout(
        # the title at the top, the caption (several lines) between it and the plot
        title={"text": f"What a commit costs, by commit strategy ({subtitle})", "x": 0.01,
               "y": 1, "yref": "container", "yanchor": "top", "pad": {"t": 12}},
        meta={"caption": cap, "throughput_only": True, "faults": faults},
        font=FONT, template=TEMPLATE, height=430 + 14 * (caption_lines(cap) - 1),
        margin={"l": 80, "r": 20, "t": top_margin(cap, 80), "b": 70}, showlegend=False,
        xaxis={"title": {"text": "commit strategy"}},
        yaxis={"title": {"text": "records processed per second (simulated)"},
               "range": [0, top * 1.3], "autorange": False},
        annotations=[caption_annotation(cap)], hoverlabel={"align": "left"})
    return fig


def _fault_count(source) -> int | None:
    """How many faults the runs behind the chart had (the most of any run), None if unknown
    (plain outcome dicts do not say)."""
    plan = getattr(source, "faults", None)
    if plan is not None:
        return len(plan)
    if isinstance(source, dict) and "throughput_by_strategy" not in source:
        counts = [len(item.faults) for item in source.values() if hasattr(item, "faults")]
        if counts and len(counts) == len(source):
            return max(counts)
    return None


def _strategy_rows(source) -> list[tuple[str, float, int | None, int | None]]:
    outcome = getattr(source, "outcome", None)
    if outcome is None and isinstance(source, dict) and "throughput_by_strategy" in source:
        outcome = source
    if outcome is not None:
        if "throughput_by_strategy" not in outcome:
            raise ValueError("this outcome has no throughput_by_strategy; run the commit-cost "
                             "scenario or pass {strategy: RunResult}")
        return [(k, float(v), None, None) for k, v in outcome["throughput_by_strategy"].items()]
    if not isinstance(source, dict):
        raise TypeError("commit_cost_chart takes {strategy: RunResult | outcome} or a "
                        "commit-cost RunResult/outcome")
    rows = []
    for name, item in source.items():
        o = getattr(item, "outcome", item)
        rows.append((name, float(o["throughput_per_s"]), o.get("lost"), o.get("duplicates")))
    return rows

