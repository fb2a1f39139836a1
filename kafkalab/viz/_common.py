"""Shared pieces of the figures: palette, captions, hover wrapping, trace extraction.

Everything here reads a ``RunResult`` (its events, snapshots and ledger); nothing re-runs the
model and nothing imports numpy.
"""

from __future__ import annotations

import re
from typing import Any

import plotly.graph_objects as go

from ..palette import CAPTION, C
from ..palette import OKABE_ITO as OKABE_ITO  # re-exported
from ..trace.events import sink_role

# The palette is kafkalab.palette (Okabe–Ito and the named neutrals); re-exported here.

# Group members in the assignment timeline: a colour and a hatching each (never colour
# alone); vermillion is kept for what went wrong (records processed twice, crashes).
MEMBER_COLOURS = (C["blue"], C["orange"], C["green"], C["purple"], C["sky"], C["yellow"],
                  C["grey"], C["black"])
MEMBER_PATTERNS = ("", "/", "x", "\\", ".", "+", "-", "|")
REBALANCE_BAND = "rgba(153, 153, 153, 0.25)"  # grey: a rebalance under way

FONT = {"family": "Helvetica, Arial, sans-serif", "size": 13}

# Event kinds drawn as markers on the timeline: label, colour, symbol. Never colour alone:
# each kind also has its own symbol and a legend entry.
EVENT_STYLE: dict[str, tuple[str, str, str]] = {
    "poll": ("poll()", C["sky"], "triangle-right"),
    "commit": ("commit", C["green"], "diamond"),
    "commit_failed": ("commit failed", C["vermillion"], "diamond-open"),
    "crash": ("crash", C["vermillion"], "x"),
    "close": ("close()", C["grey"], "square-open"),
    "restart": ("restart", C["blue"], "star"),
    "rebalance": ("rebalance", C["purple"], "hexagram"),
    "left_group": ("left group", C["purple"], "hexagram-open"),
    "process_error": ("processing error", C["vermillion"], "circle-x"),
    "retry": ("retry", C["orange"], "arrow-bar-right"),
    "ack_lost": ("lost ack", C["vermillion"], "triangle-down"),
    "request_lost": ("lost request", C["vermillion"], "triangle-down-open"),
    "producer_restart": ("producer restart", C["orange"], "star-triangle-up"),
    "fenced": ("fenced (zombie)", C["black"], "x-thin-open"),
    "txn_commit": ("txn commit", C["green"], "star-square"),
    "txn_abort": ("txn abort", C["vermillion"], "star-square-open"),
    "marker": ("control marker", C["black"], "line-ns-open"),
}

# Steps worth stopping at when an animation has to be sampled, most important first.
MEANINGFUL_TIERS = (
    ("crash", "restart", "rebalance", "left_group", "process_error", "producer_restart",
     "fenced", "txn_abort", "ack_lost", "request_lost", "gave_up", "duplicate_batch",
     "commit_failed"),
    ("commit", "retry", "txn_commit", "marker", "close", "join"),
    ("append",),
)
MEANINGFUL = tuple(k for tier in MEANINGFUL_TIERS for k in tier)

MAX_FRAMES = 120
FULL_EXPLAIN_LIMIT = 400  # above this many messages, hover gives a summary, click explains


def caption(fig: Any) -> str:
    """The one-line plain-English caption stored in ``fig.layout.meta["caption"]``."""
    meta = fig.layout.meta if hasattr(fig, "layout") else (fig.get("layout") or {}).get("meta")
    if isinstance(meta, dict):
        return str(meta.get("caption", ""))
    return ""


_WRAP = {}


def wrap(text: str, width: int = 72) -> str:
    """Wrap long hover text with <br> so hover boxes stay readable (a regex on spaces: much
    faster than textwrap, which matters for thousands of hover strings)."""
    if len(text) <= width:
        return text
    pattern = _WRAP.get(width)
    if pattern is None:
        pattern = _WRAP[width] = re.compile(r"\S.{0," + str(width - 2) + r"}(?=\s|$)|\S+")
    return "<br>".join(pattern.findall(text))


CAPTION_CHARS = 90  # a caption line: ~520 px of 11 px text, fits a figure beside the Lab's controls
CAPTION_LINE_PX = 14


def caption_lines(text: str) -> int:
    return wrap(text, CAPTION_CHARS).count("<br>") + 1


def top_margin(caption_text: str, base: int = 70) -> int:
    """Room above the plot for the title and a caption of that many wrapped lines."""
    return base + CAPTION_LINE_PX * (caption_lines(caption_text) - 1)


# every figure's plotly template (the Lab makes its FigureWidgets with it)
TEMPLATE = "plotly_white"


def base_layout(title: str, caption_text: str, *, height: int = 420, **extra: Any) -> dict:
    top = top_margin(caption_text)
    height += top - 70  # the plot keeps its height; a longer caption adds room above it
    plot_px = max(height - top - 120, 60)
    layout = {
        "title": {"text": title, "x": 0.01, "xanchor": "left"},
        "meta": {"caption": caption_text},
        "font": FONT,
        "height": height,
        "margin": {"l": 70, "r": 20, "t": top, "b": 120},
        "template": TEMPLATE,
        "hoverlabel": {"align": "left"},
        "legend": {"orientation": "h", "yanchor": "top", "y": -58 / plot_px, "x": 0,
                   "font": {"size": 11}},
        "annotations": [caption_annotation(caption_text)],
    }
    layout.update(extra)
    return layout


def caption_annotation(text: str) -> dict:
    """The caption above the plot, wrapped so that it reads at a laptop's width."""
    return {"text": wrap(text, CAPTION_CHARS), "align": "left",
            "xref": "paper", "yref": "paper", "x": 0, "y": 1.0, "yanchor": "bottom",
            "xanchor": "left", "showarrow": False, "font": {"size": 11, "color": CAPTION},
            "name": "caption"}


def figure(spec: dict) -> go.Figure:
    """A go.Figure from a spec dict {data: [...], layout: {...}, frames?: [...]}."""
    return go.Figure(spec)


def sink_prefix(result) -> str:
    return sink_role(result.config)


def sink_group(result) -> str:
    group = result.config.get("group.id", "kafkalab")
    return group + "-reader" if result.config.get("pipeline") else group


def clamp_step(result, step: int | None) -> int:
    n = len(result.events)
    if n == 0:
        return -1
    if step is None:
        return n - 1
    step = int(step)
    return max(0, min(n - 1, step if step >= 0 else n + step))




def time_range(result) -> list[float]:
    end = result.events[-1].t if result.events else 1.0
    pad = max(end * 0.03, 1.0)
    return [-pad, end + pad]




def sample_steps(result, limit: int = MAX_FRAMES) -> list[int]:
    """At most ``limit`` step indices: every step when short; otherwise the meaningful ones
    (crashes, commits, retries, appends, ...) first, evenly thinned if they alone are too many,
    then evenly spaced fill. Always includes the first and last step."""
    n = len(result.events)
    if n <= limit:
        return list(range(n))
    keep = {0, n - 1}
    for tier in MEANINGFUL_TIERS:
        room = limit - len(keep)
        if room <= 0:
            break
        picked = [e.index for e in result.events if e.kind in tier and e.index not in keep]
        if len(picked) > room:  # thin this tier evenly; the tiers above are all kept
            picked = [picked[round(i * (len(picked) - 1) / max(room - 1, 1))]
                      for i in range(room)]
        keep.update(picked)
    room = limit - len(keep)
    if room > 0:
        spare = [i for i in range(n) if i not in keep]
        stride = len(spare) / room
        keep.update(spare[int(k * stride)] for k in range(room))
    return sorted(keep)[:limit]


def message_status(rec, drained: bool) -> str:
    """once / lost / duplicate / unseen / never-sent, from a MessageLedger."""
    return status_of(rec.sends, len(rec.processed), drained)


def status_of(sends: int, processed: int, drained: bool) -> str:
    """once / lost / duplicate / unseen / never-sent, from a message's sends and processings
    (``Ledger.counts()``)."""
    if not sends:
        return "not sent"
    if processed == 0:
        return "lost" if drained else "unseen"
    return "duplicate" if processed > 1 else "once"


def short_summary(rec, drained: bool) -> str:
    """One line per message when a full explain() per message is too costly."""
    status = message_status(rec, drained)
    copies = rec.visible_copies
    where = ", ".join(f"p{c.partition}@{c.offset}" for c in copies[:4]) or "none"
    more = f" (+{len(copies) - 4})" if len(copies) > 4 else ""
    return (f"Message {rec.id}: {status}; processed {len(rec.processed)}×; "
            f"{len(copies)} visible cop{'y' if len(copies) == 1 else 'ies'} in the log "
            f"({where}{more}). Click for the full story.")

