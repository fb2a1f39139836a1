"""A plotly ``FigureWidget`` whose saved widget state does not carry plotly.js.

plotly's ``FigureWidget`` is an anywidget: its ``_esm`` trait holds plotly's whole widget bundle
(~4.9 MB), and a notebook saved with widget state stores that trait once per FigureWidget (the
Lab's four figures made notebooks 00 and 08 ~20 MB). ``LiveFigure`` is the same widget with a
~1 KB ``_esm`` instead: a loader that waits for the bundle and then runs plotly's own front end.
The bundle travels once per page as a custom comm message (never part of widget state) from one
``PlotlyBundle`` widget per kernel, so a saved notebook holds only the loader.

Without a kernel (a saved notebook opened without running it) there is nobody to send the
bundle: the live figures stay empty until the cell runs again, as any live widget needs its
kernel. Static figures (``kafkalab.viz.show``) are unaffected: they are plotly JSON, no widget.
"""

from __future__ import annotations

import functools
from pathlib import Path

import anywidget
import plotly
import plotly.graph_objects as go

#: plotly's own front end for FigureWidget (package data shipped in the plotly wheel).
BUNDLE_PATH = Path(plotly.__file__).parent / "package_data" / "widgetbundle.js"
_KEY = "__kafkalabPlotlyWidget"  # the page-wide promise of plotly's widget module

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
    });
    // The kernel pushes the bundle when it creates this widget; a page that opens later (a
    // reload while the kernel runs) asks for it.
    setTimeout(() => { if (!d.done) model.send({ kind: "kafkalab-need-plotly-bundle" }); }, 300);
  },
};
"""

# Each LiveFigure: the loader module itself waits (top-level await) for the bundle, imports its
# own instance of plotly's module (one per figure, as anywidget does with _esm) and re-exports
# its widget. anywidget sees an ES module that is slow to import, as when it imports the 4.9 MB
# bundle from _esm; the figure's comm messages queue meanwhile, so the wait must stay short
# (hence the kernel pushes the bundle: measured here, a 3 s wait lost a figure's first updates).
_FIGURE_ESM = _DEFERRED + """
const url = URL.createObjectURL(await deferred().promise);
const plotlyWidget = await import(/* webpackIgnore: true */ url);
URL.revokeObjectURL(url);
// Follow the width of the figure's container (the notebook, a tab, a side panel opening):
// under anywidget, plotly's view never hears of a resize and keeps its first width.
const View = plotlyWidget.FigureView.prototype;
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
export default plotlyWidget.default;
"""


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
