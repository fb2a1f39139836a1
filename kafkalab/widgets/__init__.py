"""The interactive Lab (ipywidgets + plotly FigureWidgets)."""

from .lab import Lab

__all__ = ["Lab"]
