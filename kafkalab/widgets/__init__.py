"""The interactive Lab (ipywidgets + plotly FigureWidgets).

``kafkalab.widgets.settings`` is pure (no ipywidgets): importing it does not load the Lab.
"""

__all__ = ["Lab"]


def __getattr__(name):
    if name == "Lab":
        from .lab import Lab

        return Lab
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
