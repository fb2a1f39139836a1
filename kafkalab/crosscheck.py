"""Cross-check: the simulation against real confluent-kafka clients, scenario by scenario.

For every workload in :data:`kafkalab.real.WORKLOADS` this module builds the equivalent
simulation run (a config with Kafka property names plus a fault plan for
:func:`kafkalab.model.simulate`), with timings chosen so that the fault lands at the same
logical point as in the real run, runs both, and compares the counts that matter::

    from kafkalab.crosscheck import crosscheck, format_table
    report = crosscheck()            # ~10 s: six real runs on librdkafka's mock cluster
    print(format_table(report))

How a real workload maps onto the simulation (:func:`simulation_for`):

* the real producer writes the whole topic and flushes before the first consumer starts:
  ``producer.send.interval.ms=0`` (one batch of all messages, as librdkafka's 5 ms linger makes
  it) and ``auto.offset.reset=earliest`` (the real consumer's setting);
* ``client.model=librdkafka``: the real clients are librdkafka, so auto-commit is its background
  timer over offsets stored as records are handed out (``enable.auto.offset.store``);
* consumer ``batch`` → ``max.poll.records``; commit modes ``auto`` / ``before-processing`` /
  ``after-each`` / ``after-batch`` → ``commit.strategy`` ``auto`` / ``before-processing`` /
  ``per-record`` / ``per-batch``;
* a real crash is ``os._exit`` at a record, after the process lived ``wait_ms`` longer: a
  ``consumer_crash`` fault at the same point of the same message, and (for ``wait_ms > 0``) a
  ``slow_processing`` fault of ``wait_ms`` on that message (on the record before it for a
  ``before-process`` crash, which must not be the first of its batch), so the simulated
  process lives just as long and librdkafka's background auto-commit timer fires (or not)
  before the crash exactly as in the real run; processing itself costs ``processing.ms=1``;
* a processing failure → ``processing_failure`` with ``on.processing.error`` ``skip`` or
  ``close`` (the exception escapes, the consumer is closed);
* the broker fault "first Produce response delayed beyond ``socket.timeout.ms``" →
  ``delay_response`` of the request carrying message 0 with ``request.timeout.ms`` =
  ``socket.timeout.ms``: the producer retries a batch the broker already wrote. librdkafka's
  retry carries the whole batch (all 10 messages), and so does the simulation's single batch.

What is compared is listed per scenario in ``compared``. Always: ``lost``, ``duplicates``,
``log_duplicates`` and ``resumed_from`` (the offset the restarted consumer resumed from: the
simulation's ``restart`` event ``data["resumed"]``, the real second session's committed offset;
``None`` without a restart), plus ``processed`` (sink applications). For the producer scenario
also ``acked`` and ``written``. Never ``delivered``: how many records one fetch hands out before
a crash is fetch behaviour, not a delivery guarantee.

Scenarios the mock cluster gets wrong (:data:`kafkalab.real.NOT_COMPARABLE`) are listed as
``not_comparable`` rows with the reason, never run and never asserted.

Importing this module never imports confluent_kafka: the simulation side
(:func:`simulate_workload`, :func:`not_comparable`) works without the ``real`` extra.
"""

from __future__ import annotations

import json
from typing import Any

from . import real
from .model import simulate

#: Keys compared by default, in report order.
COMPARED = ("processed", "lost", "duplicates", "log_duplicates", "resumed_from")
#: Keys compared when the workload injects a broker fault (the producer side matters too).
COMPARED_PRODUCER = ("acked", "written", *COMPARED)

#: The simulation preset that teaches each scenario the mock cluster cannot run.
_TAUGHT_BY = {
    "idempotent-producer-dedup": "idempotent-producer-lost-ack",
    "read-committed-lso": "read-committed-vs-uncommitted",
    "zombie-fencing": "transactional-fencing",
    "transactional-offset-commit": "exactly-once-pipeline",
    "exactly-once-consume-transform-produce": "exactly-once-pipeline",
    "replica-data-loss": None,
}

_STRATEGY = {
    "auto": "auto",
    "before-processing": "before-processing",
    "after-each": "per-record",
    "after-batch": "per-batch",
}
_CRASH_POINT = {"before-process": "before_processing", "after-process": "after_processing"}
_ON_ERROR = {"skip": "skip", "raise": "close"}

CONSUMER_START_MS = 20.0


class NotMappable(ValueError):
    """A (custom) workload has no equivalent simulation run."""


# ---------------------------------------------------------------------------------------------
# the simulation side


def simulation_for(workload: dict[str, Any] | str) -> tuple[dict[str, Any], list[dict]]:
    """The simulation ``(config, faults)`` equivalent to a real workload (or its name)."""
    w = real.normalize(workload)
    p, c = w["producer"], w["consumer"]
    idempotent = str(p.get("enable.idempotence", False)).lower() == "true"
    config: dict[str, Any] = {
        "client.model": "librdkafka",
        "messages": w["messages"],
        "producer.send.interval.ms": 0,
        "consumer.start.ms": CONSUMER_START_MS,
        "auto.offset.reset": "earliest",
        "acks": p.get("acks", "all"),
        "enable.idempotence": idempotent,
        "linger.ms": p.get("linger.ms", 5),
        "max.poll.records": c["batch"],
        "processing.ms": 1,
        "commit.strategy": _STRATEGY[c["commit"]],
        "enable.auto.commit": c["commit"] == "auto",
    }
    if c["commit"] == "auto":
        config["auto.commit.interval.ms"] = c["auto_commit_interval_ms"]
    faults: list[dict] = []

    fault = w["broker_fault"]
    if fault is not None:
        config["request.timeout.ms"] = fault["socket_timeout_ms"]
        config["retry.backoff.ms"] = 100
        # the real consumer starts once the producer has flushed (the late response included)
        config["consumer.start.ms"] = fault["delay_ms"] + CONSUMER_START_MS
        faults.append({"type": "delay_response", "message": 0, "delay_ms": fault["delay_ms"]})

    crash, failure = w["crash"], w["failure"]
    if crash is not None or failure is not None:
        if fault is not None:
            raise NotMappable("a crash or failure together with a broker fault: with copies in "
                              "the log a record index is no longer a message id")
        if not w["restart"]:
            raise NotMappable("restart=false after a crash: the simulated consumer always "
                              "comes back")
    if crash is not None:
        # the topic is written before the consumer starts, so record index k is message id k
        msg = crash["record"]
        faults.append({"type": "consumer_crash", "point": _CRASH_POINT[crash["point"]],
                       "message": msg})
        if crash["wait_ms"] and crash["point"] == "after-process":
            faults.append({"type": "slow_processing", "message": msg,
                           "extra_ms": crash["wait_ms"]})
        elif crash["wait_ms"]:
            # before-process: the real process waits after record msg-1, before touching msg;
            # that is record msg-1 taking wait_ms longer, if both come from the same batch.
            if msg % c["batch"] == 0:
                raise NotMappable("a before-process crash with wait_ms > 0 at the first record "
                                  "of a batch: the simulation has no wait between a poll and "
                                  "the first record's processing")
            faults.append({"type": "slow_processing", "message": msg - 1,
                           "extra_ms": crash["wait_ms"]})
    if failure is not None:
        config["on.processing.error"] = _ON_ERROR[failure["then"]]
        faults.append({"type": "processing_failure", "message": failure["record"]})
    return config, faults


def resumed_from(result: Any) -> int | None:
    """Offset of partition 0 in the first ``restart`` event (the consumer after its crash)."""
    for event in result.events:
        if event.kind == "restart":
            resumed = event.data.get("resumed") or {}
            entry = resumed.get("0")
            return None if entry is None else int(entry[0])
    return None


def simulated_ledger(result: Any) -> list[dict[str, Any]]:
    """The simulation's ledger in the real ledger's shape (id, acked, offsets, delivered,
    processed), for side-by-side tables."""
    return [
        {
            "id": m.id,
            "acked": m.acked,
            "offsets": sorted(c.offset for c in m.visible_copies),
            "delivered": len(m.deliveries),
            "processed": len(m.processed),
        }
        for m in result.ledger.messages
    ]


def simulate_workload(name: str, seed: int = 0) -> dict[str, Any]:
    """Run only the simulation side of a workload (no confluent-kafka needed).

    Returns ``{"name", "config", "faults", "outcome", "ledger", "result"}``; ``outcome`` has
    :data:`kafkalab.real.OUTCOME_KEYS` (``resumed_from`` included), ``result`` the RunResult."""
    config, faults = simulation_for(name)
    result = simulate(config, faults, seed, snapshots=False, scenario=f"crosscheck:{name}")
    outcome = {k: result.outcome.get(k) for k in real.OUTCOME_KEYS if k != "resumed_from"}
    outcome["resumed_from"] = resumed_from(result)
    return {"name": name, "config": config, "faults": faults, "outcome": outcome,
            "ledger": simulated_ledger(result), "result": result}


def compared_keys(workload: dict[str, Any] | str) -> list[str]:
    w = real.normalize(workload)
    return list(COMPARED_PRODUCER if w["broker_fault"] is not None else COMPARED)


# ---------------------------------------------------------------------------------------------
# what cannot be compared


def not_comparable() -> list[dict[str, Any]]:
    """``[{"name", "reason", "simulation"}]``: each known gap of the mock cluster, with the
    simulation preset that teaches it (None when the simulation does not model it either)."""
    return [
        {"name": name, "reason": real.not_comparable_reason(name),
         "simulation": _TAUGHT_BY.get(name)}
        for name in real.NOT_COMPARABLE
    ]


def _unavailable_here(name: str) -> str | None:
    """A reason this registered workload cannot run on this machine, else None."""
    if real.get_workload(name)["broker_fault"] is None:
        return None
    from .real.mock_cluster import mock_api_problem

    problem = mock_api_problem()
    if problem is None:
        return None
    return ("not comparable here: the broker fault needs librdkafka's mock-cluster C API, "
            f"unavailable on this machine ({problem})")


# ---------------------------------------------------------------------------------------------
# the cross-check


def crosscheck(names: list[str] | None = None, details: bool = False) -> dict[str, Any]:
    """Run each comparable workload in the simulation and with real clients; compare.

    ``names``: registered workload names and/or :data:`kafkalab.real.NOT_COMPARABLE` names
    (default: all of both). Returns ``{"scenarios": [{"name", "title", "simulated", "real",
    "agree", "compared", "differences", "config", "faults", "real_elapsed_s"}], "not_comparable":
    [{"name", "reason", "simulation"}], "elapsed_s"}``; with ``details=True`` each scenario also
    has ``simulated_ledger``, ``real_ledger`` and ``real_notes``.

    Raises :class:`kafkalab.real.RealExtraMissing` (before running anything) without the
    ``real`` extra, :class:`kafkalab.real.WorkloadError` for an unknown name."""
    import time

    if names is None:
        names = [*real.list_workloads(), *real.NOT_COMPARABLE]
    for name in names:
        if name not in real.WORKLOADS and name not in real.NOT_COMPARABLE:
            real.get_workload(name)  # raises WorkloadError naming the supported ones
    real.require_confluent_kafka()
    started = time.monotonic()
    gaps = {row["name"]: row for row in not_comparable()}
    rows: list[dict[str, Any]] = []
    skipped: list[dict[str, Any]] = []
    for name in names:
        if name in gaps:
            skipped.append(gaps[name])
            continue
        why = _unavailable_here(name)
        if why is not None:
            skipped.append({"name": name, "reason": why, "simulation": None})
            continue
        sim = simulate_workload(name)
        run = real.run_real(name)
        keys = compared_keys(name)
        differences = [k for k in keys if sim["outcome"][k] != run["outcome"].get(k)]
        row = {
            "name": name,
            "title": real.WORKLOADS[name]["title"],
            "simulated": sim["outcome"],
            "real": run["outcome"],
            "agree": not differences,
            "compared": keys,
            "differences": differences,
            "config": sim["config"],
            "faults": sim["faults"],
            "real_elapsed_s": run["elapsed_s"],
        }
        if details:
            row["simulated_ledger"] = sim["ledger"]
            row["real_ledger"] = [
                {k: e[k] for k in ("id", "acked", "offsets", "delivered", "processed")}
                for e in run["ledger"]
            ]
            row["real_notes"] = run["notes"]
        rows.append(row)
    return {"scenarios": rows, "not_comparable": skipped,
            "elapsed_s": round(time.monotonic() - started, 3)}


_SHORT = {"processed": "processed", "lost": "lost", "duplicates": "dup",
          "log_duplicates": "log_dup", "resumed_from": "resumed", "acked": "acked",
          "written": "written"}


def _cell(outcome: dict[str, Any], keys: list[str]) -> str:
    return " ".join(f"{_SHORT.get(k, k)}={outcome.get(k)}" for k in keys)


def format_table(report: dict[str, Any]) -> str:
    """A plain-text table: scenario, simulated, real, agree (yes/no); then the scenarios that
    are not comparable, each with its reason."""
    header = ("scenario", "simulated", "real", "agree")
    body = [
        (r["name"], _cell(r["simulated"], r["compared"]), _cell(r["real"], r["compared"]),
         "yes" if r["agree"] else f"no ({', '.join(r['differences'])})")
        for r in report["scenarios"]
    ]
    widths = [max(len(row[i]) for row in [header, *body]) for i in range(4)]

    def line(row: tuple[str, ...]) -> str:
        return "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()

    out = [line(header), line(tuple("-" * w for w in widths)), *(line(b) for b in body)]
    if body:
        out.append("")
        out.append("each cell shows exactly the keys compared for that scenario "
                   "(dup = duplicates, log_dup = log_duplicates, resumed = resumed_from)")
    if report["not_comparable"]:
        out.append("")
        out.append("not comparable:")
        out.extend(f"  {r['name']}: {r['reason']}" for r in report["not_comparable"])
    agreed = sum(r["agree"] for r in report["scenarios"])
    out.append("")
    out.append(f"{agreed}/{len(report['scenarios'])} comparable scenarios agree"
               + (f" ({report['elapsed_s']:.1f} s)" if "elapsed_s" in report else ""))
    return "\n".join(out)


def run_crosscheck_cli(as_json: bool = False, names: list[str] | None = None) -> tuple[str, int]:
    """``python -m kafkalab crosscheck [--json]``: (text, exit code).

    Exit 0 when every comparable scenario agrees, 1 when one disagrees (or a real run failed),
    2 with a one-line message when the ``real`` extra (confluent-kafka) is missing."""
    try:
        report = crosscheck(names)
    except real.RealExtraMissing as exc:
        return " ".join(str(exc).split()), 2
    except real.RealRunError as exc:
        return f"crosscheck: a real run failed: {' '.join(str(exc).split())}", 1
    code = 0 if all(r["agree"] for r in report["scenarios"]) else 1
    text = json.dumps(report, indent=2, sort_keys=False) if as_json else format_table(report)
    return text, code


__all__ = [
    "COMPARED",
    "COMPARED_PRODUCER",
    "NotMappable",
    "compared_keys",
    "crosscheck",
    "format_table",
    "not_comparable",
    "resumed_from",
    "run_crosscheck_cli",
    "simulate_workload",
    "simulated_ledger",
    "simulation_for",
]
