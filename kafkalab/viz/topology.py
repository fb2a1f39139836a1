"""Who talks to whom: producer(s) → partitions → consumer group members → sink, at one step.

The graph is a networkx ``DiGraph``; its layout is computed by hand from
``nx.topological_generations`` (networkx's layout functions need numpy, which JupyterLite
lacks). At a step, edges carry the producer's in-flight requests, a lost acknowledgement or
request is drawn dashed and labelled, and a crashed member is drawn as a labelled ✗.

With replication (a snapshot has ``replicas``, issue 18) a row of brokers is drawn under the
partitions: each partition's replicas are joined to their brokers by a line and a marker that
says the replica's role at this step (leader: a star, with its leader epoch; follower in the
ISR: a filled circle; follower out of sync: an open circle, dashed line; on a crashed broker:
an x, dotted line), and a crashed broker is a labelled ✗. With a consumer group of more than
one member (issue 17) each member is labelled with what it owns and its generation, a member
out of the group (removed by the coordinator, or not yet in it) is drawn apart, and a
rebalance in progress is a dashed box around the members saying its phase. Both read only the
snapshots and the events' ``data``; single-replica, single-consumer runs are drawn as before.
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
    groups = shared_groups(result)
    group = group_state(result, step, groups) if groups else None
    if group is not None:
        _label_members(g, node_state, node_text, group, assigned)
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
    replica_meta: dict = {}
    bottom = None
    if _is_replicated(result):
        replica_traces, replica_meta, bottom = _replica_layer(result, snap, pos, step, node_text)
        data.extend(replica_traces)
    for key, name, color, symbol in NODE_STYLES:
        nodes = [n for n in g.nodes if node_state[n] == key]
        texts = [n + (" ✗" if key == "down" else "") for n in nodes]
        if group is not None:
            texts = [group["labels"].get(n, t) for n, t in zip(nodes, texts, strict=True)]
        data.append({"type": "scatter", "mode": "markers+text", "name": name,
                     "x": [pos[n][0] for n in nodes], "y": [pos[n][1] for n in nodes],
                     "text": texts, "textposition": "bottom center",
                     "hovertext": [wrap(node_text[n]) for n in nodes], "hoverinfo": "text",
                     "marker": {"symbol": symbol, "size": 26, "color": color,
                                "line": {"color": DARK, "width": 1.5}}})
    if group is not None:
        data.extend(_group_traces(g, pos, node_state, group, node_text))
    active = event.actor if event is not None else None
    data.append({"type": "scatter", "mode": "markers", "name": "acting now",
                 "x": [pos[active][0]] if active in pos else [],
                 "y": [pos[active][1]] if active in pos else [], "hoverinfo": "skip",
                 "marker": {"symbol": "circle-open", "size": 40, "color": C["orange"],
                            "line": {"width": 3, "color": C["orange"]}}})
    xs = [p[0] for p in pos.values()] or [0]
    ys = [p[1] for p in pos.values()] or [0]
    height = 420
    if bottom is not None:
        ys = [*ys, bottom]
        height += 110
    if group is not None:
        ys = [*ys, max(ys) + 0.45]
        height += 60 * max(len(group["members"]) - 2, 0)
    what = wrap(event.text, 110) if event is not None else "no events"
    cap = f"Step {step}: {event.text.rstrip('.')}." if event is not None else "An empty run."
    layout = base_layout(
        f"Topology at step {step}" + (f" — {result.scenario}" if result.scenario else ""),
        cap if len(cap) < 160 else cap[:157] + "…", height=height,
        xaxis={"title": {"text": "data flows left to right: producer → broker → consumer → sink"},
               "range": [min(xs) - 0.5, max(xs) + 0.5], "autorange": False, "showticklabels": False,
               "showgrid": False, "zeroline": False},
        yaxis={"title": {"text": "instances"}, "range": [min(ys) - 0.8, max(ys) + 0.8],
               "autorange": False, "showticklabels": False, "showgrid": False, "zeroline": False})
    layout["meta"]["event"] = what
    if replica_meta:
        layout["meta"]["replicas"] = replica_meta
    if group is not None:
        layout["meta"]["group"] = {"owners": group["owners"], "in_group": group["in_group"],
                                   "rebalance": group["rebalance"],
                                   "generation": group["generation"]}
    return {"data": data, "layout": layout}


# -- replication (issue 18) -----------------------------------------------------------------------
# role, legend name, colour, marker symbol, line dash, line width
REPLICA_STYLES = (
    ("leader", "replica: leader (★, with its leader epoch)", C["blue"], "star", "solid", 3.5),
    ("isr", "replica: follower in sync (ISR)", C["green"], "circle", "solid", 2),
    ("out", "replica: follower out of sync (not in the ISR)", C["orange"], "circle-open",
     "dash", 2),
    ("dead", "replica on a crashed broker", C["vermillion"], "x-open", "dot", 1.5),
)
BROKER_STYLES = (
    ("up", "broker (running)", C["sky"], "diamond"),
    ("down", "broker crashed ✗", C["vermillion"], "x"),
)
BROKER_DX = 0.42  # the brokers' spacing along the bottom row
BROKER_DY = 1.35  # how far under the lowest node the broker row sits
MARK_AT = 0.72  # a replica's marker sits this far along its line, towards its broker


def _is_replicated(result) -> bool:
    return bool(result.snapshots) and "replicas" in result.snapshots[-1]


def broker_positions(result, pos: dict) -> dict[int, tuple[float, float]]:
    """The broker row: under the partitions, centred on them."""
    brokers = int(result.config.get("brokers", 1) or 1)
    parts = [xy for node, xy in pos.items() if " p" in node and node.split(" p")[-1].isdigit()]
    xc = sum(x for x, _ in parts) / len(parts) if parts else 1.0
    y = min((y for _, y in pos.values()), default=0.0) - BROKER_DY
    return {b: (xc + (b - (brokers - 1) / 2) * BROKER_DX, y) for b in range(brokers)}


def _machine_failures(result, step: int) -> dict[int, bool]:
    out: dict[int, bool] = {}
    for e in result.events[: step + 1]:
        if e.kind == "broker_crash":
            out[e.data["broker"]] = bool(e.data.get("machine"))
        elif e.kind == "broker_restart":
            out.pop(e.data["broker"], None)
    return out


def _replica_layer(result, snap: dict, pos: dict, step: int, node_text: dict):
    """(traces, meta, the broker row's y): the brokers, and each replica's role at ``step``."""
    bpos = broker_positions(result, pos)
    replicas = snap.get("replicas") or {}
    live = set(range(len(bpos)))
    for parts in replicas.values():
        for entry in parts:
            live = set(entry[5])
            break
        break
    machine = _machine_failures(result, step)
    lines: dict[str, tuple[list, list]] = {k: ([], []) for k, *_ in REPLICA_STYLES}
    marks: dict[str, list] = {k: [] for k, *_ in REPLICA_STYLES}
    roles_of: dict[int, list[str]] = {b: [] for b in bpos}
    meta: dict = {}
    for topic, parts in replicas.items():
        for p, (leader, epoch, isr, _leos, own, _live) in enumerate(parts):
            node = f"{topic} p{p}"
            if node not in pos:
                continue
            where = (f"leader broker {leader} (epoch {epoch})" if leader >= 0
                     else f"OFFLINE (no live ISR member; epoch {epoch})")
            node_text[node] = (node_text.get(node, node) + f"; {where}, ISR {sorted(isr)}")
            meta[node] = {"leader": leader, "epoch": epoch, "isr": sorted(isr),
                          "out_of_sync": sorted(int(b) for b in own if int(b) not in isr),
                          "crashed": sorted(int(b) for b in own if int(b) not in live)}
            x0, y0 = pos[node]
            y0 -= 0.3  # under the partition's label
            for b_str in own:
                b = int(b_str)
                if b not in bpos:
                    continue
                role = ("dead" if b not in live else "leader" if b == leader
                        else "isr" if b in isr else "out")
                x1, y1 = bpos[b]
                xs, ys = lines[role]
                xs += [x0, x1, None]
                ys += [y0, y1, None]
                words = {"leader": f"leads {node} (epoch {epoch})",
                         "isr": f"follows {node}, in the ISR",
                         "out": f"follows {node}, out of sync (not in the ISR)",
                         "dead": f"holds a replica of {node} (crashed)"}[role]
                roles_of[b].append(words)
                marks[role].append((x0 + (x1 - x0) * MARK_AT, y0 + (y1 - y0) * MARK_AT,
                                    f"epoch {epoch}" if role == "leader" else "",
                                    f"broker-{b}: {words}; log end offset {own[b_str]}",
                                    [topic, p, b, role]))
    data: list[dict] = []
    for role, name, colour, _symbol, dash, width in REPLICA_STYLES:
        xs, ys = lines[role]
        data.append({"type": "scatter", "mode": "lines", "name": "line: " + name, "x": xs,
                     "y": ys, "hoverinfo": "skip", "showlegend": False,
                     "line": {"color": colour, "dash": dash, "width": width}})
    for role, name, colour, symbol, _dash, _width in REPLICA_STYLES:
        ms = marks[role]
        data.append({"type": "scatter", "mode": "markers+text", "name": name,
                     "x": [m[0] for m in ms], "y": [m[1] for m in ms],
                     "text": [m[2] for m in ms], "textposition": "middle right",
                     "textfont": {"size": 11, "color": DARK},
                     "hovertext": [wrap(m[3]) for m in ms], "hoverinfo": "text",
                     "customdata": [m[4] for m in ms],
                     "marker": {"symbol": symbol, "size": 16 if role == "leader" else 12,
                                "color": colour, "line": {"color": colour if role != "leader"
                                                          else DARK, "width": 2}}})
    for key, name, colour, symbol in BROKER_STYLES:
        bs = [b for b in bpos if (b in live) == (key == "up")]
        hover = []
        for b in bs:
            state = "running" if key == "up" else (
                "its machine failed (the unflushed log tail is gone)" if machine.get(b)
                else "crashed (its process; the log on disk survives)")
            hover.append(wrap(f"broker-{b}: {state}" + ("; " + "; ".join(roles_of[b])
                                                        if roles_of[b] else "")))
        data.append({"type": "scatter", "mode": "markers+text", "name": name,
                     "x": [bpos[b][0] for b in bs], "y": [bpos[b][1] for b in bs],
                     "text": [f"broker-{b}" + (" ✗" if key == "down" else "") for b in bs],
                     "textposition": "bottom center", "hovertext": hover, "hoverinfo": "text",
                     "customdata": bs,
                     "marker": {"symbol": symbol, "size": 24, "color": colour,
                                "line": {"color": DARK, "width": 1.5}}})
    ys = [y for _, y in bpos.values()]
    return data, meta, (min(ys) if ys else None)


# -- consumer groups (issue 17) ----------------------------------------------------------------
GROUP_STYLES = (
    ("left", "member out of the group (removed, or not in it yet)", C["purple"],
     "hexagram-open"),
)
REBALANCE_STYLE = ("rebalance in progress (dashed box: its phase above it)", C["orange"])


def shared_groups(result) -> dict[str, list[str]]:
    """{group: its members}, for the groups that ever had more than one member (from the
    coordinator's ``generation`` events); a group of one consumer is drawn as before."""
    members: dict[str, list[str]] = {}
    for e in result.events:
        if e.kind == "generation":
            seen = members.setdefault(e.data.get("group", ""), [])
            seen.extend(m for m in e.data.get("members", []) if m not in seen)
    return {g: ms for g, ms in members.items() if len(ms) > 1}


def group_state(result, step: int, groups: dict[str, list[str]] | None = None) -> dict:
    """The group at ``step``, from the events' data: its members (the last ``generation``'s,
    less any ``left_group`` since), the rebalance in progress (``rebalance_begin`` →
    ``generation`` → ``assignment``), each member's partitions and generation. ``groups``:
    the groups to follow (default: ``shared_groups(result)``)."""
    groups = shared_groups(result) if groups is None else groups
    everyone = {m for ms in groups.values() for m in ms}
    in_group: list[str] = []
    generation = 0
    rebalance: dict | None = None
    member_gen: dict[str, int] = {}
    restarted: set[str] = set()  # crashed since its last SyncGroup: a new process, rejoining
    for e in result.events[: step + 1]:
        d = e.data
        if "group" in d and d["group"] not in groups:
            continue
        if e.actor not in everyone and e.actor != "coordinator":
            continue
        if e.kind == "crash":
            restarted.add(e.actor)
        if e.kind == "rebalance_begin":
            rebalance = {"phase": "join", "generation": d.get("generation", 0),
                         "waiting_for": list(d.get("waiting_for", [])),
                         "reason": d.get("reason", "")}
        elif e.kind == "generation":
            generation = d["generation"]
            in_group = list(d.get("members", []))
            rebalance = {"phase": "sync", "generation": generation,
                         "waiting_for": [d.get("leader")], "reason": ""}
        elif e.kind == "assignment":
            rebalance = None
        elif e.kind == "left_group":
            in_group = [m for m in in_group if m != d.get("member")]
        elif e.kind in ("join", "restart", "rebalance", "static_rejoin"):
            member_gen[d.get("member", e.actor)] = d.get("generation", generation)
            restarted.discard(d.get("member", e.actor))
    owners: dict[str, str] = {}
    for m, parts in member_assignments(result, step).items():
        if m in in_group and m in everyone:
            for p in parts:
                owners[str(p)] = m
    return {"in_group": in_group, "generation": generation, "rebalance": rebalance,
            "owners": owners, "member_generation": member_gen, "labels": {},
            "restarted": restarted, "members": sorted(everyone)}


def _label_members(g, node_state: dict, node_text: dict, group: dict, assigned: dict) -> None:
    """Each member's label says what it owns and its generation; a live member the group
    no longer (or not yet) counts is moved to the 'out of the group' style."""
    for node in g.nodes:
        if node not in group["members"]:
            continue
        state = node_state[node]
        parts = assigned.get(node, [])
        owns = ", ".join(f"p{p}" for p in parts) if parts else "nothing"
        gen = group["member_generation"].get(node)
        gen_txt = f" · gen {gen}" if gen else ""
        inside = node in group["in_group"]
        if state == "app" and not inside and gen is None:
            node_state[node] = "left"
            node_text[node] += "; joining the group: it owns nothing until its first SyncGroup"
            group["labels"][node] = f"{node} · joining"
            continue
        if state == "app" and not inside:
            node_state[node] = "left"
            node_text[node] += ("; not a member of the group now (the coordinator removed it, "
                                "or it has not joined yet): what it still processes, nobody "
                                "counts")
            group["labels"][node] = f"{node} · out of the group"
            continue
        mark = " ✗" if state == "down" else ""
        if state == "app" and node in group["restarted"]:
            group["labels"][node] = f"{node} · restarted, rejoining"
            node_text[node] += (f"; a new process after a crash, not in a generation yet: the "
                                f"group still counts its old instance as the owner of {owns} "
                                "until session.timeout.ms expires")
            continue
        if state == "waiting":
            group["labels"][node] = node
            continue
        if state in ("down", "closed") and not inside:
            group["labels"][node] = f"{node}{mark} · left the group"
            continue
        group["labels"][node] = f"{node}{mark} · owns {owns}{gen_txt}"
        if state == "down":
            node_text[node] += (f"; the group still counts it as the owner of {owns} until "
                                "session.timeout.ms expires")


def _group_traces(g, pos: dict, node_state: dict, group: dict, node_text: dict) -> list[dict]:
    data = []
    for key, name, colour, symbol in GROUP_STYLES:
        nodes = [n for n in g.nodes if node_state[n] == key]
        data.append({"type": "scatter", "mode": "markers+text", "name": name,
                     "x": [pos[n][0] for n in nodes], "y": [pos[n][1] for n in nodes],
                     "text": [group["labels"].get(n, n) for n in nodes],
                     "textposition": "bottom center", "hoverinfo": "text",
                     "hovertext": [wrap(node_text[n]) for n in nodes],
                     "marker": {"symbol": symbol, "size": 26, "color": colour,
                                "line": {"color": colour, "width": 2}}})
    members = [n for n in g.nodes if n in group["members"]]
    reb = group["rebalance"]
    xs: list = []
    ys: list = []
    label_x: list = []
    label_y: list = []
    label_t: list = []
    if reb is not None and members:
        mx = [pos[m][0] for m in members]
        my = [pos[m][1] for m in members]
        x0, x1 = min(mx) - 0.3, max(mx) + 0.3
        y0, y1 = min(my) - 0.55, max(my) + 0.3
        xs = [x0, x1, x1, x0, x0]
        ys = [y0, y0, y1, y1, y0]
        if reb["phase"] == "join":
            waiting = ", ".join(reb["waiting_for"]) or "nobody"
            words = (f"rebalance: join phase (generation {reb['generation']} → "
                     f"{reb['generation'] + 1}), waiting for {waiting}")
        else:
            words = (f"rebalance: sync phase (generation {reb['generation']}), waiting for "
                     f"the leader {reb['waiting_for'][0]}'s assignment")
        label_x, label_y, label_t = [(x0 + x1) / 2], [y1 + 0.12], [words]
    name, colour = REBALANCE_STYLE
    data.append({"type": "scatter", "mode": "lines", "name": name, "x": xs, "y": ys,
                 "hoverinfo": "skip", "line": {"color": colour, "dash": "dash", "width": 2.5}})
    data.append({"type": "scatter", "mode": "text", "name": "rebalance phase", "x": label_x,
                 "y": label_y, "text": label_t, "showlegend": False, "hoverinfo": "skip",
                 "textfont": {"size": 12, "color": DARK}})
    return data


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
