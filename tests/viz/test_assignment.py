"""The assignment timeline (issue 17): what it draws is what the trace says."""

from __future__ import annotations

import plotly.graph_objects as go

from kafkalab import scenarios
from kafkalab.viz import assignment_timeline, caption
from kafkalab.viz._common import MEMBER_COLOURS, MEMBER_PATTERNS


def _trace(fig, name):
    return next(t for t in fig.data if t.name == name)


def test_owners_bands_generations_and_twice_processed_records():
    r = scenarios.run("max-poll-interval-exceeded")
    fig = assignment_timeline(r)
    assert isinstance(fig, go.Figure) and caption(fig)
    assert fig.layout.xaxis.title.text and fig.layout.yaxis.title.text
    bars = [t for t in fig.data if t.type == "bar"]
    assert {t.name for t in bars} == {"consumer-0 owns", "consumer-1 owns"}
    # colour AND pattern per member, from the palette constants
    assert [b.marker.color for b in bars] == list(MEMBER_COLOURS[:2])
    assert [b.marker.pattern.shape for b in bars] == list(MEMBER_PATTERNS[:2])
    assert len({b.marker.pattern.shape for b in bars}) == 2
    # one grey band per rebalance, labelled with its generation
    gens = [e.data["generation"] for e in r.events if e.kind == "assignment"]
    labels = [a.text for a in fig.layout.annotations if a.text.startswith("gen ")]
    rects = [s for s in fig.layout.shapes if s.type == "rect"]
    assert labels == [f"gen {g}" for g in gens] and len(rects) == len(gens)
    # the records processed twice, and the zombie's, are marked where they happened
    assert len(_trace(fig, "processed again").x) == r.outcome["duplicates"]
    assert len(_trace(fig, "zombie (out of the group)").x) == r.outcome["zombie_records"]


def test_cooperative_scale_out_shows_the_moved_partition_changing_owner():
    r = scenarios.run("eager-vs-cooperative/cooperative")
    fig = assignment_timeline(r)
    owners = {}
    for t in fig.data:
        if t.type == "bar":
            for y in t.y:
                owners.setdefault(y, set()).add(t.name)
    assert any("consumer-2 owns" in names for names in owners.values())


def test_generation_labels_sit_inside_the_plot_above_the_bars():
    """Issue 14 item 3: the "gen N" labels used to sit above the plot, on the caption's last
    line (tests/browser/test_figure_text.py measured the overlap). They hang upright from the
    top of the plot area, in a strip above the last partition's bar, against their band."""
    r = scenarios.run("eager-vs-cooperative/cooperative")
    fig = assignment_timeline(r)
    labels = [a for a in fig.layout.annotations if a.text.startswith("gen ")]
    assert labels
    for a in labels:
        assert (a.yref, a.y, a.yanchor, a.textangle) == ("paper", 1.0, "top", -90)
    partitions = int(r.config["partitions"])
    low, high = fig.layout.yaxis.range
    # the bars (width 0.6) end 0.3 above the last partition; the strip above is 40 px tall
    rows_px = fig.layout.height - fig.layout.margin.t - fig.layout.margin.b
    strip_px = (high - (partitions - 1 + 0.3)) / (high - low) * rows_px
    assert strip_px >= 40
    # each band's start has an edge, so back-to-back rebalances read as separate bands
    edges = [s for s in fig.layout.shapes if s.type == "line"]
    assert len(edges) == len(labels)
