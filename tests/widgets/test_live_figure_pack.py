"""LiveFigure packs the long arrays of its messages to the page (one JSON text each: plotly's
serializer and ipywidgets' buffer search walked them item by item in Python); the page unpacks
them before plotly sees them (tests/browser/test_lab_widget.py checks that end)."""

from __future__ import annotations

import json
import math

from plotly.basedatatypes import Undefined

from kafkalab.widgets.live_figure import PACK_MIN, PACKED_ATTRS, PACKED_KEY, LiveFigure, pack


def _unpack(v):  # what the page's unpack() does
    if isinstance(v, dict):
        if set(v) == {PACKED_KEY}:
            return json.loads(v[PACKED_KEY])
        return {k: _unpack(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_unpack(x) for x in v]
    return v


def test_long_lists_travel_as_one_json_text_and_come_back_equal():
    xs = [0.5 * i for i in range(1000)]
    msg = {"x": [xs, list(range(3))], "text": [["m é ✗ <br>"] * 20], "marker.size": [9]}
    packed = pack(msg)
    assert isinstance(packed["x"][0], dict) and set(packed["x"][0]) == {PACKED_KEY}
    assert packed["x"][1] == [0, 1, 2]  # short: as it is
    assert _unpack(packed) == msg


def test_what_json_cannot_hold_goes_as_before():
    nan = [math.nan] * PACK_MIN
    undefined = [Undefined] * PACK_MIN
    assert pack({"y": [nan]})["y"][0] == nan  # walked, not packed: NaN is not JSON
    assert pack({"y": [undefined]})["y"][0] == undefined  # plotly's serializer handles it
    inner = pack([[1.0] * PACK_MIN, *undefined])  # the outer list walked, the inner packed
    assert json.loads(inner[0][PACKED_KEY]) == [1.0] * PACK_MIN and inner[1:] == undefined


def test_restyle_and_add_traces_messages_are_packed_and_the_figure_keeps_its_lists():
    fig = LiveFigure()
    sent: list[tuple[str, object]] = []
    fig.observe(lambda c: sent.append((c["name"], c["new"])) if c["new"] else None,
                names=list(PACKED_ATTRS))
    ys = list(range(500))
    fig.add_scatter(y=ys)
    fig.plotly_restyle({"y": [[v * 2 for v in ys]]}, [0])
    kinds = [name for name, _ in sent]
    assert kinds == ["_py2js_addTraces", "_py2js_restyle"]
    added = sent[0][1]["trace_data"][0]["y"]
    restyled = sent[1][1]["restyle_data"]["y"][0]
    assert set(added) == {PACKED_KEY} and json.loads(added[PACKED_KEY]) == ys
    assert json.loads(restyled[PACKED_KEY]) == [v * 2 for v in ys]
    assert list(fig.data[0].y) == [v * 2 for v in ys]  # the kernel's figure: plain lists


def test_the_page_code_unpacks_the_same_key_and_messages():
    from kafkalab.widgets.live_figure import _FIGURE_ESM

    assert f'const PACKED_KEY = "{PACKED_KEY}";' in _FIGURE_ESM
    assert f"new Set({json.dumps(list(PACKED_ATTRS))})" in _FIGURE_ESM
    assert "%(" not in _FIGURE_ESM
