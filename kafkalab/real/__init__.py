"""Delivery-semantics workloads run with REAL Kafka clients (confluent-kafka / librdkafka).

Optional: needs the ``real`` extra (``pip install 'kafkalab[real]'``). Importing this package
never imports confluent_kafka; calling a function that needs it without the extra raises
:class:`RealExtraMissing`.

By default a run uses librdkafka's in-process mock cluster (no broker to install); pass a
loopback ``bootstrap_servers`` to use your own cluster. The result has the simulation's shape::

    from kafkalab.real import run_real, WORKLOADS
    result = run_real("auto-commit-librdkafka-loses")
    result["outcome"]   # {"sent": 10, "acked": 10, ..., "lost": 7, "resumed_from": 10}

What the mock cluster does not implement (so cannot be compared) is in :data:`NOT_COMPARABLE`.
"""

from __future__ import annotations

from typing import Any

from ._deps import (
    MISSING_EXTRA_MESSAGE,
    TESTED_CONFLUENT_KAFKA,
    TESTED_LIBRDKAFKA,
    RealExtraMissing,
    available,
    require_confluent_kafka,
    unavailable_reason,
)
from .workloads import (
    NOT_COMPARABLE,
    OUTCOME_KEYS,
    WORKLOADS,
    WorkloadError,
    check_expectations,
    get_workload,
    list_workloads,
    normalize,
    not_comparable_parts,
    not_comparable_reason,
)

__all__ = [
    "MISSING_EXTRA_MESSAGE",
    "NOT_COMPARABLE",
    "OUTCOME_KEYS",
    "TESTED_CONFLUENT_KAFKA",
    "TESTED_LIBRDKAFKA",
    "WORKLOADS",
    "NeedsMockApi",
    "NonLoopbackAddress",
    "RealExtraMissing",
    "RealRunError",
    "WorkloadError",
    "available",
    "check_expectations",
    "get_workload",
    "list_workloads",
    "normalize",
    "not_comparable_parts",
    "not_comparable_reason",
    "require_confluent_kafka",
    "run_real",
    "unavailable_reason",
]


def run_real(workload: dict[str, Any] | str, bootstrap_servers: str | None = None) -> dict:
    """Run a workload with real clients; see :func:`kafkalab.real.runner.run_real`."""
    require_confluent_kafka()
    from .runner import run_real as _run_real

    return _run_real(workload, bootstrap_servers)


def __getattr__(name: str) -> Any:
    # The runner's exception classes, without importing the runner eagerly.
    if name in ("NeedsMockApi", "NonLoopbackAddress", "RealRunError"):
        from . import runner

        return getattr(runner, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
