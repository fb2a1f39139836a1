"""Who talks to whom: producer(s) → partitions → consumer group members → sink, at one step.

The graph is a networkx ``DiGraph``; its layout is computed by hand from
``nx.topological_generations`` (networkx's layout functions need numpy, which JupyterLite
lacks). At a step, edges carry the producer's in-flight requests, a lost acknowledgement or
request is drawn dashed and labelled, and a crashed member is drawn as a labelled ✗.
"""

from __future__ import annotations

import networkx as nx
import plotly.graph_objects as go

from ..palette import DARK, IDLE, PALE, UNASSIGNED
from ._common import C, base_layout, clamp_step, figure, sink_prefix, wrap

NODE_STYLES = (
    # key, legend name, colour, symbol
    ("app", "application (running)", C["blue"], "circle"),
    ("partition", "broker partition", C["grey"], "square"),
    ("sink", "sink (the application's database)", C["green"], "hexagon"),
    ("down", "crashed ✗", C["vermillion"], "x"),
    ("closed", "stopped (closed or replaced)", C["grey"], "circle-open-dot"),
    ("waiting", "not started yet", PALE, "circle-open"),
    ("zombie", "zombie (old producer instance)", C["black"], "circle-x-open"),
)
EDGE_STYLES = (
    ("idle", "data path", IDLE, "solid", 1.5),
    ("busy", "requests in flight", C["orange"], "solid", 4),
    ("lost", "lost acknowledgement / request", C["vermillion"], "dash", 4),
    ("crashed", "path to a crashed member", C["vermillion"], "dot", 1.5),
    ("unassigned", "partition not assigned to this member now", UNASSIGNED, "dot", 1),
)


def build_graph(result) -> nx.DiGraph:
    """The run's topology (every node that ever exists in the run)."""
    g = nx.DiGraph()
    final = result.snapshots[-1] if result.snapshots else {"logs": {}, "members": {}}
    prefix = sink_prefix(result)
    producers = []
    for e in result.events:
        if e.kind in ("send", "produce", "init_producer", "producer_restart") and \
                e.actor not in producers and not e.actor.startswith(("consumer", "reader")):
            producers.append(e.actor)
    producers = producers or ["producer"]
    topics = final["logs"]
    for name in producers:
        g.add_node(name, kind="app", role="producer")
    for topic, parts in topics.items():
        for p in range(len(parts)):
            g.add_node(f"{topic} p{p}", kind="partition", topic=topic, partition=p)
    members = sorted(final["members"])
    for m in members:
        g.add_node(m, kind="app", role="sink" if m.startswith(prefix) else "transform")
    g.add_node("sink", kind="sink")
    for name in producers:
        for p in range(len(topics.get("input", []))):
            g.add_edge(name, f"input p{p}")
    assignment = member_assignments(result, len(result.events) - 1, all_time=True)
    for m in members:
        topic = "output" if m.startswith("reader") else "input"
        for p in assignment.get(m, range(len(topics.get(topic, [])))):
            g.add_edge(f"{topic} p{p}", m)
        if m.startswith(prefix):
            g.add_edge(m, "sink")
        else:  # a pipeline transform produces into the output topic
            for p in range(len(topics.get("output", []))):
                g.add_edge(m, f"output p{p}")
    return g


def member_assignments(result, step: int, all_time: bool = False) -> dict[str, list[int]]:
    out: dict[str, set[int]] = {}
    for e in result.events[: step + 1]:
        if e.kind in ("join", "restart", "rebalance"):
            parts = set(e.data.get("assignment", []))
            out[e.actor] = (out.get(e.actor, set()) | parts) if all_time else parts
        elif e.kind == "revoke" and not all_time and e.actor in out:
            out[e.actor] = out[e.actor] - set(e.data.get("partitions", []))  # issue 17
    return {k: sorted(v) for k, v in out.items()}


def layout_positions(g: nx.DiGraph) -> dict[str, tuple[float, float]]:
    """Layers from topological generations; nodes spread evenly in each layer (no numpy)."""
    pos = {}
    for x, layer in enumerate(nx.topological_generations(g)):
        layer = sorted(layer)
        for k, node in enumerate(layer):
            pos[node] = (float(x), (len(layer) - 1) / 2 - k)
    return pos


def topology_spec(result, step: int | None = None, g: nx.DiGraph | None = None,
                  pos: dict | None = None) -> dict:
    g = g if g is not None else build_graph(result)
    pos = pos if pos is not None else layout_positions(g)
    step = clamp_step(result, step)
    event = result.events[step] if result.events else None
    snap = result.snapshots[step] if result.snapshots else {"members": {}, "producer": {}}
    seen_actors = {e.actor for e in result.events[: step + 1]}
    zombies = set()
    fenced = set()
    inits: list[str] = []
    last_exit: dict[str, str] = {}
    for e in result.events[: step + 1]:
        if e.kind == "init_producer":
            inits.append(e.actor)
        if e.kind == "fenced":
            fenced.add(e.actor)
        if e.kind in ("crash", "close", "left_group"):
            last_exit[e.actor] = e.kind
        if e.kind == "producer_restart" and e.data.get("zombie"):
            zombies.add(e.actor)
        if e.kind == "fenced":
            zombies.add(e.actor)
    current_producer = snap.get("producer", {}).get("name")
    in_flight = snap.get("producer", {}).get("in_flight", 0)
    lost_edge = None
    if event is not None and event.kind in ("ack_lost", "request_lost"):
        lost_edge = (event.actor, f"{event.data.get('topic', 'input')} p{event.data.get('partition', 0)}")
    node_state: dict[str, str] = {}
    node_text: dict[str, str] = {}
    for node, attrs in g.nodes(data=True):
        kind = attrs["kind"]
        if kind == "partition":
            logs = snap.get("logs", {}).get(attrs["topic"])
            leo = logs[attrs["partition"]] if logs and attrs["partition"] < len(logs) else [0, 0, 0]
            node_state[node] = "partition"
            node_text[node] = (f"{node}: log end offset {leo[0]}, high watermark {leo[1]}, "
                               f"last stable offset {leo[2]}")
        elif kind == "sink":
            node_state[node] = "sink"
            node_text[node] = f"sink: {snap.get('processed', 0)} record(s) applied so far"
        elif attrs.get("role") == "producer":
            if node not in seen_actors:
                node_state[node] = "waiting"
                node_text[node] = f"{node} has not started yet"
            elif node in zombies or (current_producer and node != current_producer):
                node_state[node] = "zombie" if node in zombies else "closed"
                node_text[node] = _zombie_text(node, result, fenced, inits) if node in zombies \
                    else f"{node} has stopped (the application restarted)"
            else:
                node_state[node] = "app"
                node_text[node] = (f"{node}: PID {snap['producer'].get('pid')}, epoch "
                                   f"{snap['producer'].get('epoch')}, {in_flight} request(s) in flight")
        else:
            member = snap.get("members", {}).get(node)
            if member is None:
                node_state[node] = "waiting"
                node_text[node] = f"{node} has not joined the group yet"
            elif member["alive"]:
                node_state[node] = "app"
                pos_txt = ", ".join(f"p{p} @ {o}" for p, o in member["positions"].items())
                node_text[node] = f"{node}: alive, position {pos_txt or '—'}"
            elif last_exit.get(node) == "close":
                node_state[node] = "closed"
                node_text[node] = f"{node} closed the consumer (it left the group cleanly)"
            else:
                node_state[node] = "down"
                node_text[node] = f"{node} crashed; its in-memory position is gone"
    data = []
    assigned = member_assignments(result, step)
    edges_by: dict[str, list] = {k: [] for k, *_ in EDGE_STYLES}
    labels_x, labels_y, labels_t = [], [], []
    for u, v in g.edges:
        style = "idle"
        label = ""
        if (u, v) == lost_edge:
            style = "lost"
            label = "ack lost" if event.kind == "ack_lost" else "request lost"
        elif u == current_producer and node_state.get(u) == "app" and in_flight:
            style = "busy"
            label = f"{in_flight} in flight"
        elif node_state.get(v) == "down" or node_state.get(u) == "down":
            style = "crashed"
        elif g.nodes[u].get("kind") == "partition" and v in assigned and \
                g.nodes[u]["partition"] not in assigned[v]:
            style = "unassigned"
        edges_by[style].append((u, v))
        if label:
            (x0, y0), (x1, y1) = pos[u], pos[v]
            labels_x.append((x0 + x1) / 2)
            labels_y.append((y0 + y1) / 2 + 0.12)
            labels_t.append(label)
    for key, name, color, dash, width in EDGE_STYLES:
        xs, ys = [], []
        for u, v in edges_by[key]:
            (x0, y0), (x1, y1) = pos[u], pos[v]
            xs += [x0, x1, None]
            ys += [y0, y1, None]
        data.append({"type": "scatter", "mode": "lines", "name": name, "x": xs, "y": ys,
                     "hoverinfo": "skip", "line": {"color": color, "dash": dash, "width": width}})
    data.append({"type": "scatter", "mode": "text", "name": "edge labels", "x": labels_x,
                 "y": labels_y, "text": labels_t, "hoverinfo": "skip", "showlegend": False,
                 "textfont": {"size": 12, "color": C["vermillion"] if lost_edge else DARK}})
    for key, name, color, symbol in NODE_STYLES:
        nodes = [n for n in g.nodes if node_state[n] == key]
        texts = [n + (" ✗" if key == "down" else "") for n in nodes]
        data.append({"type": "scatter", "mode": "markers+text", "name": name,
                     "x": [pos[n][0] for n in nodes], "y": [pos[n][1] for n in nodes],
                     "text": texts, "textposition": "bottom center",
                     "hovertext": [wrap(node_text[n]) for n in nodes], "hoverinfo": "text",
                     "marker": {"symbol": symbol, "size": 26, "color": color,
                                "line": {"color": DARK, "width": 1.5}}})
    active = event.actor if event is not None else None
    data.append({"type": "scatter", "mode": "markers", "name": "acting now",
                 "x": [pos[active][0]] if active in pos else [],
                 "y": [pos[active][1]] if active in pos else [], "hoverinfo": "skip",
                 "marker": {"symbol": "circle-open", "size": 40, "color": C["orange"],
                            "line": {"width": 3, "color": C["orange"]}}})
    xs = [p[0] for p in pos.values()] or [0]
    ys = [p[1] for p in pos.values()] or [0]
    what = wrap(event.text, 110) if event is not None else "no events"
    cap = f"Step {step}: {event.text.rstrip('.')}." if event is not None else "An empty run."
    layout = base_layout(
        f"Topology at step {step}" + (f" — {result.scenario}" if result.scenario else ""),
        cap if len(cap) < 160 else cap[:157] + "…", height=420,
        xaxis={"title": {"text": "data flows left to right: producer → broker → consumer → sink"},
               "range": [min(xs) - 0.5, max(xs) + 0.5], "autorange": False, "showticklabels": False,
               "showgrid": False, "zeroline": False},
        yaxis={"title": {"text": "instances"}, "range": [min(ys) - 0.8, max(ys) + 0.8],
               "autorange": False, "showticklabels": False, "showgrid": False, "zeroline": False})
    layout["meta"]["event"] = what
    return {"data": data, "layout": layout}


def _zombie_text(node: str, result, fenced: set, inits: list) -> str:
    if not result.config.get("transactional.id"):
        return (f"{node} is a zombie: the old instance still runs; without a transactional.id "
                "nothing fences it")
    if node in fenced:
        return (f"{node} is fenced: a newer instance with the same transactional.id bumped the "
                "epoch, so the broker rejects the old epoch")
    newer = inits and inits[-1] != node
    if newer:
        return (f"{node} is a zombie: a newer instance with the same transactional.id bumped "
                "the epoch, so its next write or commit will be fenced")
    return (f"{node} is a zombie: the application restarted but this old instance still runs; "
            "the new instance has not called initTransactions() yet")


def topology(result, step: int | None = None) -> go.Figure:
    """The run's topology at ``step`` (default: the last step)."""
    return figure(topology_spec(result, step))
