"""``html_report(result)``: one self-contained HTML page for a run.

The page holds the counters, the explanation of every anomaly, the static figures and two
frame animations (timeline, broker log). plotly.js is embedded **once**: by default gzip-
compressed and base64-encoded, unpacked in the browser with ``DecompressionStream`` (all
current browsers), so the page works offline and the default scenario stays well under 3 MB
(plotly.min.js alone is ~4.8 MB uncompressed). ``plotlyjs="inline"`` embeds it uncompressed,
``"cdn"`` links it instead.
"""

from __future__ import annotations

import base64
import gzip
import html
import json
from functools import lru_cache

from .palette import CAPTION, FAINT, INK, LIGHT, PALE, VERMILLION
from .trace.anomalies import describe as describe_anomaly

EXPLAIN_LIMIT = 40  # anomalies explained in full; the rest are listed
LIST_LIMIT = 300  # anomalies listed at all; the page says how many more there are
LOG_ANIMATION_LIMIT = 300  # records; above this the page would grow by megabytes
REPORT_FRAMES = 60  # frames per animation in a report (the notebooks' animate() allows 120)
ANIMATION_MESSAGES = 2_000  # above this many messages a report leaves the animations out
POINTS_PER_SERIES = 2_000  # a report embeds at most this many points per figure series
# With these caps a page stays under 5 MB at any run size (tests/viz/test_report.py).


@lru_cache(maxsize=1)
def _plotlyjs_gzip_b64() -> str:
    from plotly.offline import get_plotlyjs

    return base64.b64encode(gzip.compress(get_plotlyjs().encode("utf-8"), 6, mtime=0)).decode()


def _plotlyjs_tag(mode: str) -> str:
    if mode == "cdn":
        from plotly.offline.offline import get_plotlyjs_version

        return (f'<script src="https://cdn.plot.ly/plotly-{get_plotlyjs_version()}.min.js" '
                'charset="utf-8"></script>\n<script>window.kafkalabPlotly = '
                'Promise.resolve(window.Plotly);</script>')
    if mode == "inline":
        from plotly.offline import get_plotlyjs

        return ("<script>" + get_plotlyjs() + "</script>\n<script>window.kafkalabPlotly = "
                "Promise.resolve(window.Plotly);</script>")
    if mode != "compressed":
        raise ValueError("plotlyjs must be 'compressed', 'inline' or 'cdn'")
    return (
        "<script>\n"
        "window.kafkalabPlotly = (async () => {\n"
        f'  const b64 = "{_plotlyjs_gzip_b64()}";\n'
        "  const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));\n"
        "  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'));\n"
        "  const code = await new Response(stream).text();\n"
        "  const tag = document.createElement('script');\n"
        "  tag.text = code;\n"
        "  document.head.appendChild(tag);\n"
        "  return window.Plotly;\n"
        "})();\n"
        "</script>")


def _cap_trace(trace: dict, cap: int) -> tuple[int, int] | None:
    """Sample one trace's per-point arrays down to ``cap`` points, in place. Points whose
    marker colour is not the trace's usual one (a LOST or duplicate cell) are kept first,
    then the usual ones evenly. Returns (kept, total) when it sampled."""
    arrays = {k: v for k, v in trace.items() if isinstance(v, list | tuple)}
    n = max((len(trace.get(k) or ()) for k in ("x", "y")), default=0)
    if n <= cap:
        return None
    marker = trace.get("marker") if isinstance(trace.get("marker"), dict) else {}
    marker_arrays = {k: v for k, v in marker.items() if isinstance(v, list | tuple)
                     and len(v) == n}
    keep: list[int] = []
    colors = marker_arrays.get("color")
    if colors is not None:
        try:
            usual = max(set(colors), key=colors.count)
            keep = [i for i, c in enumerate(colors) if c != usual][:cap]
        except TypeError:  # unhashable colours: sample evenly
            keep = []
    room = cap - len(keep)
    if room > 0:
        chosen = set(keep)
        rest = [i for i in range(n) if i not in chosen]
        step = len(rest) / room
        keep.extend(rest[int(k * step)] for k in range(min(room, len(rest))))
    keep.sort()
    for k, v in arrays.items():
        if len(v) == n:
            trace[k] = [v[i] for i in keep]
    for k, v in marker_arrays.items():
        marker[k] = [v[i] for i in keep]
    return len(keep), n


def cap_spec(spec: dict, cap: int = POINTS_PER_SERIES) -> str:
    """Sample every series of a figure spec (and of its animation frames) to at most ``cap``
    points, in place; returns the sentence that says so ("" when nothing was sampled)."""
    sampled = []
    for trace in spec.get("data", []):
        hit = _cap_trace(trace, cap)
        if hit:
            sampled.append(hit)
    for frame in spec.get("frames", []) or []:
        for trace in frame.get("data", []):
            _cap_trace(trace, cap)
    if not sampled:
        return ""
    kept, total = max(sampled, key=lambda h: h[1])
    return (f"(This report embeds at most {cap:,} points per series: {kept:,} of {total:,} "
            "shown, every unusual one kept first; the counters cover every message.)")


def _figure_block(fig, div_id: str, cap: int | None = POINTS_PER_SERIES) -> str:
    """A figure (go.Figure or a kafkalab spec dict) as a div and the script that draws it."""
    from .viz import caption

    spec = fig if isinstance(fig, dict) else fig.to_plotly_json()
    note = cap_spec(spec, cap) if cap else ""
    payload = json.dumps({"data": spec.get("data", []), "layout": spec.get("layout", {}),
                          "frames": spec.get("frames", []),
                          "config": {"responsive": True, "displaylogo": False}},
                         separators=(",", ":"), default=str)
    payload = payload.replace("</", "<\\/")  # never close the script tag early
    cap = caption(fig) + (" " + note if note else "")
    return (f'<figure><div id="{div_id}" class="plot"></div>'
            f"<figcaption>{html.escape(cap)}</figcaption></figure>\n"
            f"<script>window.kafkalabPlotly.then(P => P.newPlot('{div_id}', {payload}));</script>")


def _counters_table(outcome: dict) -> str:
    rows = [("sent", "messages the application sent"),
            ("acked", "acknowledged to the producer application"),
            ("written", "messages with at least one visible copy in the log"),
            ("delivered", "records returned by poll() to the sink consumer"),
            ("processed", "applications to the sink (repeats included)"),
            ("lost", "sent but never processed"),
            ("duplicates", "processed more than once"),
            ("log_duplicates", "2+ visible copies in the log"),
            ("extra_copies", "extra visible copies in the log"),
            ("aborted_copies", "copies in aborted transactions"),
            ("unseen", "not processed yet (the run did not drain)"),
            ("never_sent", "never handed to the producer (the run ended first)")]
    cells = []
    for key, doc in rows:
        value = outcome.get(key, 0)
        flag = " class='bad'" if key in ("lost", "duplicates", "log_duplicates") and value else ""
        cells.append(f"<tr><th>{key}</th><td{flag}>{value}</td><td>{doc}</td></tr>")
    lat = outcome.get("latency_ms", {}) or {}
    cells.append(f"<tr><th>throughput</th><td>{outcome.get('throughput_per_s', 0):,.1f}/s</td>"
                 "<td>records processed per simulated second</td></tr>")
    if lat.get("p50") is not None:
        cells.append(f"<tr><th>latency</th><td>p50 {lat['p50']:g} ms, p99 {lat['p99']:g} ms</td>"
                     "<td>first send → first processing (simulated)</td></tr>")
    cells.append(f"<tr><th>simulated time</th><td>{outcome.get('simulated_ms', 0):g} ms</td>"
                 "<td></td></tr>")
    return "<table class='counters'>" + "".join(cells) + "</table>"


def _anomalies(result) -> str:
    items = []
    explained = 0
    seen_messages = set()
    anomalies = result.anomalies
    for a in anomalies[:LIST_LIMIT]:
        kind = a["type"]
        if kind == "never-sent":
            items.append(f"<li><b>message {a['message']}</b>: never sent (the run ended "
                         "first)</li>")
        elif kind in ("lost", "duplicate", "log-duplicate", "unseen"):
            m = a["message"]
            label = {"lost": "LOST", "duplicate": f"processed ×{a.get('times', 2)}",
                     "log-duplicate": "2+ copies in the log", "unseen": "not processed yet"}[kind]
            if m in seen_messages or explained >= EXPLAIN_LIMIT:
                items.append(f"<li><b>message {m}</b>: {label}</li>")
                continue
            seen_messages.add(m)
            explained += 1
            items.append(f"<li><b>message {m}</b> — {label}<br>"
                         f"{html.escape(result.explain(m))}</li>")
        else:
            items.append(f"<li><b>{html.escape(kind)}</b>: {html.escape(describe_anomaly(a))}</li>")
    if not items:
        if not result.config.get("messages"):
            return "<p>Nothing to deliver: the workload has 0 messages.</p>"
        return "<p>No anomalies: every message was processed exactly once.</p>"
    more = "" if explained < EXPLAIN_LIMIT else (
        f"<p><i>The first {EXPLAIN_LIMIT} messages are explained in full.</i></p>")
    if len(anomalies) > LIST_LIMIT:
        more += (f"<p><i>This report lists the first {LIST_LIMIT:,} of {len(anomalies):,} "
                 "anomalies (python -m kafkalab run … --json gives them all).</i></p>")
    return "<ul class='anomalies'>" + "".join(items) + "</ul>" + more


def _settings(result) -> str:
    from .model.config import defaults
    from .model.faults import describe

    base = defaults(result.config.get("client.model", "java"))
    changed = [(k, v) for k, v in sorted(result.config.items()) if base.get(k) != v]
    rows = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>"
                   for k, v in changed)
    faults = "".join(f"<li>{html.escape(describe(f))}</li>" for f in result.faults) or \
        "<li>no faults</li>"
    return (f"<p>client model: <b>{html.escape(str(result.config.get('client.model')))}</b>, "
            f"seed {result.seed}. Settings that differ from that client's defaults:</p>"
            f"<table class='settings'>{rows}</table><p>Fault plan:</p><ul>{faults}</ul>")


CSS = f"""
body{{font-family:Helvetica,Arial,sans-serif;max-width:1200px;margin:20px auto;padding:0 16px;
color:{INK}}}
h1{{font-size:24px;margin-bottom:4px}} h2{{font-size:18px;margin-top:28px;border-bottom:1px solid {PALE}}}
table{{border-collapse:collapse;font-size:14px}} th,td{{padding:3px 10px;text-align:left;
border-bottom:1px solid {LIGHT}}} td.bad{{color:{VERMILLION};font-weight:bold}}
figure{{margin:16px 0}} figcaption{{font-size:13px;color:{CAPTION};margin-top:2px}}
.plot{{width:100%}} ul.anomalies li{{margin-bottom:8px;font-size:14px}}
.story{{color:{CAPTION};font-size:15px}} .verdict{{color:{VERMILLION};font-size:16px}}
"""


def _link(result) -> str:
    from .links import link_html

    return link_html(result)


def html_report(result, plotlyjs: str = "compressed", animations: bool = True) -> str:
    """One self-contained HTML page for ``result`` (see the module docstring)."""
    from .viz.animate import animation_spec
    from .viz.ledger import ledger_spec
    from .viz.log import log_spec
    from .viz.timeline import timeline_spec
    from .viz.topology import topology_spec

    title = result.scenario or "kafkalab run"
    story = ""
    if result.scenario:
        try:
            from .scenarios import get

            preset = get(result.scenario)
            title = f"{preset.title} ({result.scenario})"
            story = f"<p class='story'>{html.escape(preset.story)}</p>"
        except Exception:  # a custom scenario name: no story to show
            story = ""
    # Plain specs (what offsets_timeline() etc. wrap in go.Figure): no validation pass, fast.
    figures = [timeline_spec(result), ledger_spec(result), log_spec(result),
               topology_spec(result)]
    n_messages = result.config.get("messages", 0)
    left_out = ""
    if animations and result.events and n_messages > ANIMATION_MESSAGES:
        left_out = (f"<p class='story'><i>The animations are left out of this report: the run "
                    f"has {n_messages:,} messages and a report animates at most "
                    f"{ANIMATION_MESSAGES:,} (each frame carries a whole figure). Open the "
                    "run in the Lab to step through it.</i></p>")
    elif animations and result.events:
        frames = REPORT_FRAMES if len(result.events) > REPORT_FRAMES else len(result.events)
        figures.append(animation_spec(result, "timeline", max_frames=frames))
        records = sum(len(e.data["messages"]) for e in result.events if e.kind == "append")
        if records <= LOG_ANIMATION_LIMIT:  # each frame carries the whole strip
            figures.append(animation_spec(result, "log", max_frames=frames))
    blocks = "\n".join(_figure_block(f, f"kafkalab-fig-{i}") for i, f in enumerate(figures))
    o = result.outcome
    verdict = (f"<p class='verdict'><b>{html.escape(result.verdict)}</b></p>"
               if not o["drained"] or not n_messages else "")
    headline = verdict + (
        f"<p>{o['sent']} sent, {o['processed']} processed: <b>{o['lost']} lost</b>, "
        f"<b>{o['duplicates']} processed more than once</b>, "
        f"{o['log_duplicates']} with 2+ copies in the log.</p>")
    caps = (f"<p class='story'><i>This run has {n_messages:,} messages: each figure embeds at "
            f"most {POINTS_PER_SERIES:,} points per series (the unusual ones first) and the "
            f"anomaly list at most {LIST_LIMIT:,} entries, so the page stays small; the "
            "counters cover every message.</i></p>" if n_messages > POINTS_PER_SERIES else "")
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>{CSS}</style>\n"
        f"{_plotlyjs_tag(plotlyjs)}\n</head><body>\n"
        f"<h1>{html.escape(title)}</h1>{headline}{story}\n"
        f"<h2>Counters</h2>{_counters_table(o)}\n"
        f"<h2>What went wrong, message by message</h2>{_anomalies(result)}\n"
        f"<h2>Figures</h2>{caps}{left_out}{blocks}\n"
        f"<h2>Settings</h2>{_settings(result)}\n{_link(result)}\n"
        f"<p style='color:{FAINT};font-size:12px'>Generated by kafkalab from a deterministic "
        "simulation; the same settings and seed give the same page.</p>\n"
        "</body></html>\n")
