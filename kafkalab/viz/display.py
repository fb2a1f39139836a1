"""Display figures through their mime bundle, so notebooks work where nbformat cannot load
(JupyterLite/Pyodide): ``fig.show()`` and a bare ``fig`` need nbformat, this does not."""

from __future__ import annotations

from typing import Any

PLOTLY_MIME = "application/vnd.plotly.v1+json"


def bundle(fig: Any) -> dict:
    """The mime bundle of a figure: plotly JSON plus a text/plain caption."""
    from ._common import caption

    spec = fig.to_plotly_json()
    spec.setdefault("config", {"displaylogo": False, "responsive": True})
    title = ""
    layout = spec.get("layout") or {}
    if isinstance(layout.get("title"), dict):
        title = layout["title"].get("text") or ""
    text = " — ".join(part for part in (title, caption(fig)) if part) or "plotly figure"
    return {PLOTLY_MIME: spec, "text/plain": text}


def show(fig: Any) -> None:
    """Display ``fig``: a FigureWidget (or any widget) as itself; a go.Figure by mime bundle."""
    from IPython.display import display

    try:
        import ipywidgets

        if isinstance(fig, ipywidgets.DOMWidget):
            display(fig)
            return
    except ImportError:  # pragma: no cover - ipywidgets is a notebook dependency
        pass
    display(bundle(fig), raw=True)
