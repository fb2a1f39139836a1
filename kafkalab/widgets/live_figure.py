"""A plotly ``FigureWidget`` whose saved widget state does not carry plotly.js.

plotly's ``FigureWidget`` is an anywidget: its ``_esm`` trait holds plotly's whole widget bundle
(~4.9 MB), and a notebook saved with widget state stores that trait once per FigureWidget (the
Lab's four figures made notebooks 00 and 08 ~20 MB). ``LiveFigure`` is the same widget with a
``_esm`` of a few KB instead: a loader that runs plotly's own front end once the bundle is in.
The bundle travels once per page as a custom comm message (never part of widget state) from one
``PlotlyBundle`` widget per kernel, so a saved notebook holds only the loader.

Without a kernel (a saved notebook opened without running it) there is nobody to send the
bundle: the live figures stay empty until the cell runs again, as any live widget needs its
kernel. Static figures (``kafkalab.viz.show``) are unaffected: they are plotly JSON, no widget.
"""

from __future__ import annotations

import functools
import json
from copy import deepcopy
from pathlib import Path

import anywidget
import plotly
import plotly.graph_objects as go

#: plotly's own front end for FigureWidget (package data shipped in the plotly wheel).
BUNDLE_PATH = Path(plotly.__file__).parent / "package_data" / "widgetbundle.js"
_KEY = "__kafkalabPlotlyWidget"  # the page-wide promise of plotly's widget module
#: The key of a packed array in a message to the page (see ``pack``).
PACKED_KEY = "kafkalab.json"
#: The messages whose data LiveFigure packs (plotly's front end reads each with model.get()).
PACKED_ATTRS = ("_py2js_restyle", "_py2js_addTraces", "_py2js_update", "_py2js_animate")
PACK_MIN = 8  # items: a shorter list goes as it is

_DEFERRED = f"""
function deferred() {{
  let d = globalThis.{_KEY};
  if (!d) {{
    let resolve, reject;
    const promise = new Promise((res, rej) => {{ resolve = res; reject = rej; }});
    d = globalThis.{_KEY} = {{ promise, resolve, reject, done: false }};
  }}
  return d;
}}
"""

# plotly's widget module, imported once per page (every LiveFigure shares it: its default export
# is a factory, one closure per figure, as anywidget uses it), and patched once: under anywidget,
# plotly's view never hears of a resize and keeps its first width, so the view follows the width
# of its container (the notebook, a tab, a side panel opening). The bundle widget starts the
# import as soon as the bundle arrives, before any figure asks.
_DEFERRED += """
function plotlyModule() {
  const d = deferred();
  if (!d.module) d.module = d.promise.then(async (blob) => {
    const url = URL.createObjectURL(blob);
    let mod;
    try { mod = await import(/* webpackIgnore: true */ url); } finally { URL.revokeObjectURL(url); }
    const View = mod.FigureView.prototype;
    const render = View.perform_render, remove = View.remove;
    View.perform_render = function () {
      render.apply(this, arguments);
      let width = null, frame = 0;
      this.kafkalabResize = new ResizeObserver((entries) => {
        const w = Math.round(entries[0].contentRect.width);
        if (w === width || w === 0) return;
        width = w;
        cancelAnimationFrame(frame);
        frame = requestAnimationFrame(() => {
          // plotly's autosize takes the height from the element: keep the figure's own height
          const layout = this.model.get("_widget_layout") || {};
          if (layout.height) this.el.style.height = layout.height + "px";
          this.autosizeFigure();
        });
      });
      this.kafkalabResize.observe(this.el);
    };
    View.remove = function () {
      if (this.kafkalabResize) this.kafkalabResize.disconnect();
      return remove.apply(this, arguments);
    };
    return mod;
  });
  return d.module;
}
"""

# The bundle widget: asks its kernel for the bundle until one reply has arrived in this page
# (every bundle model asks: one restored from saved state without a kernel never gets a reply,
# a live one does), and keeps the first reply (as a Blob). initialize() must not wait for the reply:
# anywidget handles a model's comm messages only once its initialize() has returned.
_BUNDLE_ESM = _DEFERRED + """
export default {
  initialize({ model }) {
    const d = deferred();
    if (d.done) return;
    model.on("msg:custom", async (msg, buffers) => {
      if (!msg || msg.kind !== "kafkalab-plotly-bundle" || d.done) return;
      d.done = true;
      d.resolve(new Blob([buffers[0]], { type: "text/javascript" }));
      plotlyModule();  // start parsing the bundle before any figure asks for it
    });
    // The kernel pushes the bundle when it creates this widget; a page that opens later (a
    // reload while the kernel runs) asks for it.
    setTimeout(() => { if (!d.done) model.send({ kind: "kafkalab-need-plotly-bundle" }); }, 300);
  },
};
"""

# Each LiveFigure: a small module that anywidget imports and initialises at once (anywidget gives
# a model's initialize() 2 s, counting the import of its _esm, before it gives up with "Failed to
# initialize model" and an empty figure: a 4.9 MB bundle parsed on a busy machine or a slow laptop
# takes longer). initialize() returns at once; plotly's own initialize() runs when the shared
# module is ready. Until then every model event (state changes, the kernel's messages) is held in
# order and then handed to the listeners plotly registered, so no update is lost however long the
# bundle takes. plotly's handlers read the changed value with model.get() (the kernel sets a
# _py2js_* trait and resets it at once), so while the held events are replayed, get() answers
# with each attribute's value as of the event being replayed. Afterwards events pass straight
# through. Messages that came before initialize() itself (while this small module loaded) found
# nobody listening, so the figure then asks the kernel for itself whole (LiveFigure._on_sync);
# render() waits for plotly's initialize and that reply.
_FIGURE_ESM = _DEFERRED + """
// The kernel sends a trace's long arrays packed (LiveFigure: {"kafkalab.json": "[...]"}, one
// JSON text): plotly reads the messages through get(), which hands it the arrays unpacked,
// once per message (the model's copy of the data and the view share them).
const PACKED_KEY = "%(packed)s";
const PACKED_ATTRS = new Set(%(attrs)s);
const unpackedOf = new WeakMap();
function unpack(v) {
  if (v === null || typeof v !== "object") return v;
  if (Array.isArray(v)) {
    let out = null;
    for (let i = 0; i < v.length; i++) {
      const u = unpack(v[i]);
      if (u !== v[i]) { out = out || v.slice(); out[i] = u; }
    }
    return out || v;
  }
  const keys = Object.keys(v);
  if (keys.length === 1 && keys[0] === PACKED_KEY && typeof v[PACKED_KEY] === "string") {
    return JSON.parse(v[PACKED_KEY]);
  }
  let out = null;
  for (const k of keys) {
    const u = unpack(v[k]);
    if (u !== v[k]) { out = out || { ...v }; out[k] = u; }
  }
  return out || v;
}
function unpacked(attr, v) {
  if (!PACKED_ATTRS.has(attr) || v === null || typeof v !== "object") return v;
  if (!unpackedOf.has(v)) unpackedOf.set(v, unpack(v));
  return unpackedOf.get(v);
}
export default () => {
  let ready;
  return {
    initialize({ model, signal, experimental }) {
      const listeners = new Map();  // event name -> plotly's callbacks
      let held = [];  // events before plotly's initialize() has returned, in order
      const before = new Map();  // attribute -> its value before its first held change
      let asOf = null;  // while replaying: attribute -> its value as of the replayed event
      const dispatch = (name, ...args) => {
        for (const cb of listeners.get(name) || []) cb(...args);
      };
      model.on("all", (name, ...args) => {
        if (!held) return dispatch(name, ...args);
        if (name.startsWith("change:")) {
          const attr = name.slice(7);
          if (!before.has(attr)) before.set(attr, args[0].previous(attr));
        }
        held.push([name, args]);
      });
      const proxy = {
        ...model,
        get(attr) {
          return unpacked(attr, asOf && asOf.has(attr) ? asOf.get(attr) : model.get(attr));
        },
        on(name, cb) {
          for (const n of String(name).split(/\\s+/)) {
            if (!listeners.has(n)) listeners.set(n, []);
            listeners.get(n).push(cb);
          }
        },
        off(name, cb) {
          for (const n of name ? String(name).split(/\\s+/) : [...listeners.keys()]) {
            listeners.set(n, cb ? (listeners.get(n) || []).filter((f) => f !== cb) : []);
          }
        },
      };
      ready = plotlyModule().then(async (mod) => {
        const widget = mod.default();
        asOf = new Map(before);  // plotly starts from the state before the held changes
        await widget.initialize({ model: proxy, signal, experimental });
        // One set() call fires change:a, change:b, ... and then "change": all of its values are
        // in place before the first of its events, as they were when it happened.
        let upTo = 0;  // the values of held[0 .. upTo) are in asOf
        for (let i = 0; i < held.length; i++) {
          if (i >= upTo) {
            upTo = i;
            while (upTo < held.length && held[upTo][0].startsWith("change:")) {
              asOf.set(held[upTo][0].slice(7), held[upTo][1][1]);
              upTo++;
            }
            if (upTo === i) upTo = i + 1;
          }
          dispatch(held[i][0], ...held[i][1]);
        }
        held = null;
        asOf = null;
        // Messages that reached the model before this initialize() ran (its module was still
        // loading) were applied with nobody listening: plotly keeps the figure's traces in the
        // model by pushing each addTraces into _widget_data, so such a figure stayed empty. Ask
        // the kernel for the figure as it is now, and draw once it has arrived.
        await new Promise((resolve) => {
          listeners.set("msg:custom", [...(listeners.get("msg:custom") || []), function synced(msg) {
            if (!msg || msg.kind !== "kafkalab-figure-synced") return;
            listeners.set("msg:custom", listeners.get("msg:custom").filter((f) => f !== synced));
            resolve();
          }]);
          model.send({ kind: "kafkalab-figure-sync" });
        });
        return widget;
      });
      ready.catch((err) => console.error("[kafkalab] plotly's figure did not start:", err));
    },
    async render(view) {
      const widget = await ready;
      return widget.render(view);
    },
  };
};
""".replace("%(packed)s", PACKED_KEY).replace("%(attrs)s", json.dumps(list(PACKED_ATTRS)))


def pack(value):
    """``value`` with each list of ``PACK_MIN`` or more items replaced by
    ``{"kafkalab.json": "<the list as JSON>"}``, which the page's LiveFigure code turns back into
    the list before plotly sees it. plotly's serializer and ipywidgets' buffer search walk a
    message item by item in Python (~1.3 µs an item: 40% of a Lab control change at 10,000
    messages); ``json.dumps`` writes the list in C, and the kernel then sends one string. A list
    that JSON cannot hold as it is (plotly's ``Undefined``, NaN, a numpy array) is walked as
    before, its items packed where they can be."""
    if isinstance(value, dict):
        return {k: pack(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        if len(value) >= PACK_MIN:
            try:
                return {PACKED_KEY: json.dumps(value, allow_nan=False, ensure_ascii=False,
                                               separators=(",", ":"))}
            except (TypeError, ValueError):
                pass
        return [pack(v) for v in value]
    return value


@functools.cache
def _bundle_bytes() -> bytes:
    return BUNDLE_PATH.read_bytes()


class PlotlyBundle(anywidget.AnyWidget):
    """Sends plotly's widget bundle to each page that asks (a custom message, not state)."""

    _esm = _BUNDLE_ESM

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.on_msg(self._on_request)
        self.push()

    def push(self) -> None:
        # Sent at once: the figures created next wait for it while their own first updates
        # queue in the page, and those are dropped if the wait takes seconds (measured: a 3 s
        # wait loses them, 10 ms does not). A request from the page would only be answered
        # after the cell that creates the figures has finished.
        self.send({"kind": "kafkalab-plotly-bundle"}, buffers=[_bundle_bytes()])

    def _on_request(self, _widget, content, _buffers) -> None:
        if isinstance(content, dict) and content.get("kind") == "kafkalab-need-plotly-bundle":
            self.push()


_BUNDLE: PlotlyBundle | None = None


def bundle_widget() -> PlotlyBundle:
    """The kernel's one PlotlyBundle (created on first use; its model needs no display)."""
    global _BUNDLE
    if _BUNDLE is None or _BUNDLE.comm is None:
        _BUNDLE = PlotlyBundle()
    return _BUNDLE


class LiveFigure(go.FigureWidget):
    """``go.FigureWidget`` that saves small: see the module docstring."""

    _esm = _FIGURE_ESM

    def __init__(self, *args, **kwargs):
        bundle_widget()  # before this figure's model, so the page has a supplier
        super().__init__(*args, **kwargs)
        self.on_msg(self._on_sync)

    # plotly's messages to the page, their data packed (``pack``): the Python side keeps the
    # figure's data as it was given (plotly applied it before sending)
    def _send_restyle_msg(self, restyle_data, trace_indexes=None, source_view_id=None):
        super()._send_restyle_msg(pack(restyle_data), trace_indexes=trace_indexes,
                                  source_view_id=source_view_id)

    def _send_addTraces_msg(self, new_traces_data):
        super()._send_addTraces_msg(pack(new_traces_data))

    def _send_update_msg(self, restyle_data, relayout_data, trace_indexes=None,
                         source_view_id=None):
        super()._send_update_msg(pack(restyle_data), relayout_data, trace_indexes=trace_indexes,
                                 source_view_id=source_view_id)

    def _send_animate_msg(self, styles_data, relayout_data, trace_indexes, animation_opts):
        super()._send_animate_msg(pack(styles_data), relayout_data, trace_indexes,
                                  animation_opts)

    def _on_sync(self, _widget, content, _buffers) -> None:
        """The page's plotly front end is up and asks for the figure as it is now (what
        plotly's own ``_repr_mimebundle_`` sends when a figure is displayed by itself)."""
        if isinstance(content, dict) and content.get("kind") == "kafkalab-figure-sync":
            self._widget_layout = deepcopy(self._layout_obj._props)
            self._widget_data = deepcopy(self._data)
            self.send({"kind": "kafkalab-figure-synced"})
