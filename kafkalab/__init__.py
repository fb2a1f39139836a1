"""kafkalab: see Kafka's delivery guarantees.

``import kafkalab`` stays light (no plotly, no ipywidgets): ``Lab``, ``run``, ``simulate``,
``open_link`` and ``scenarios`` are imported on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["Lab", "open_link", "run", "scenarios", "simulate"]


def __getattr__(name: str) -> Any:
    if name == "Lab":
        return importlib.import_module("kafkalab.widgets.lab").Lab
    if name == "run":
        return importlib.import_module("kafkalab.scenarios").run
    if name == "simulate":
        return importlib.import_module("kafkalab.model").simulate
    if name == "open_link":
        return importlib.import_module("kafkalab.links").open_link
    if name == "scenarios":
        return importlib.import_module("kafkalab.scenarios")
    raise AttributeError(f"module 'kafkalab' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
