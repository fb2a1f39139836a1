"""Lazy access to the optional ``confluent-kafka`` client (the ``real`` extra).

The kafkalab core never imports confluent_kafka. Everything under ``kafkalab.real`` that needs a
real client calls :func:`require_confluent_kafka`, which raises :class:`RealExtraMissing` with an
actionable message when the extra is not installed.
"""

from __future__ import annotations

import importlib
import sys
from types import ModuleType

#: The confluent-kafka release this package was written and tested against. The mock-cluster
#: C API reached through ctypes (``mock_cluster.py``) is experimental and ABI-unstable, so it is
#: only used when the bundled librdkafka matches :data:`TESTED_LIBRDKAFKA`.
TESTED_CONFLUENT_KAFKA = "2.16.1"
TESTED_LIBRDKAFKA = "2.16.0"

MISSING_EXTRA_MESSAGE = "kafkalab.real needs the 'real' extra: pip install 'kafkalab[real]'"
IN_BROWSER_MESSAGE = ("the real client (librdkafka) cannot run in the browser (Pyodide, "
                      "JupyterLite): open this notebook on Binder or with `make lab` to run it")


class RealExtraMissing(ImportError):
    """confluent-kafka (the ``real`` extra) is not installed."""

    def __init__(self, detail: str | None = None, message: str = MISSING_EXTRA_MESSAGE) -> None:
        if detail:
            message = f"{message} ({detail})"
        super().__init__(message, name="confluent_kafka")


def require_confluent_kafka() -> ModuleType:
    """Return the ``confluent_kafka`` module, or raise :class:`RealExtraMissing`."""
    if sys.platform == "emscripten":  # no wheel, no threads, no sockets: nothing to install
        raise RealExtraMissing(message=IN_BROWSER_MESSAGE)
    try:
        return importlib.import_module("confluent_kafka")
    except ImportError as exc:  # ModuleNotFoundError, or a broken native library
        raise RealExtraMissing(str(exc)) from exc


def unavailable_reason() -> str | None:
    """Why the real clients cannot run in this Python, or None when they can."""
    try:
        require_confluent_kafka()
    except RealExtraMissing as exc:
        return str(exc)
    return None


def available() -> bool:
    """True when confluent-kafka can be imported (the real clients can run)."""
    try:
        require_confluent_kafka()
    except RealExtraMissing:
        return False
    return True
