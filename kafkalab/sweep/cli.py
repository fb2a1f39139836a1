"""The command line's sweep, a progress line, and the standard sweeps the guarantee figures
use (the sweep benchmark is in ``benchmarks/sweep.py``)."""

from __future__ import annotations

import json
import sys
import time

from .core import SweepResult, sweep


class _Progress:
    """progress(done, total): one updating line on stderr (at most ~10 updates a second)."""

    def __init__(self, stream=None, label: str = "sweep"):
        self.stream = stream
        self.label = label
        self._last = 0.0

    def __call__(self, done: int, total: int) -> None:
        stream = self.stream or sys.stderr
        now = time.monotonic()
        final = done >= total
        if not final and now - self._last < 0.1:
            return
        self._last = now
        stream.write(f"\r{self.label}: {done}/{total} runs" + ("\n" if final else ""))
        stream.flush()


def cli_progress(done: int, total: int) -> None:
    """A progress callback for the command line: one updating line on stderr."""
    _CLI(done, total)


_CLI = _Progress()


def run_sweep_cli(name: str, depth: int = 1, overrides: dict | None = None,
                  as_json: bool = False) -> tuple[str, int]:
    """``python -m kafkalab sweep NAME [--depth K] [--set k=v ...] [--json]``: returns
    (text to print, exit code). ConfigError propagates (the CLI turns it into exit 2)."""
    progress = cli_progress if sys.stderr.isatty() else None
    result = sweep(name, depth=depth, overrides=overrides, progress=progress)
    if as_json:
        return json.dumps(result.to_json_dict(), sort_keys=True), 0
    return result.format_text(), 0


# The five delivery semantics of the guarantee figures: label -> (preset, promise)
SEMANTICS = {
    "at-most-once (commit first)": ("at-most-once-commit-first", "no_duplicates"),
    "at-least-once (commit per record)": ("at-least-once-manual-commit", "no_loss"),
    "exactly-once (transactional pipeline)": ("exactly-once-pipeline", "exactly_once"),
    "auto-commit, Java client": ("auto-commit-java-crash", "no_loss"),
    "auto-commit, librdkafka": ("auto-commit-java-crash/librdkafka", None),
    # consumer groups (issue 17): two members, four partitions, Java auto-commit
    "auto-commit in a group, eager (range)": ("eager-vs-cooperative", "no_loss"),
    "auto-commit in a group, cooperative-sticky": ("eager-vs-cooperative/cooperative",
                                                   "no_loss"),
}
# Membership changes, the rebalance column: scale out, scale in, a graceful restart.
REBALANCE_KINDS = ("member_join", "member_leave", "member_restart")
FAULT_COLUMNS = ("crash", "lost_ack", "producer_restart", *REBALANCE_KINDS)
# The group rows' workload: long enough, and heartbeats frequent enough, that a member hears
# of a rebalance while records still flow (at the defaults, 3 s heartbeats, a 6-message run
# is over before any member learns of it).
GROUP_WORKLOAD = {"messages": 12, "heartbeat.interval.ms": 100, "session.timeout.ms": 1000}


def semantics_sweeps(messages: int = 6, processes: int | None = None) -> dict[str, SweepResult]:
    """One depth-1 sweep per delivery semantics (consumer crash, lost ack, producer
    restart, and the rebalances: a member joins, leaves or restarts), the input of
    ``kafkalab.viz.guarantee_map.semantics_matrix``. The consumer-group rows run
    ``GROUP_WORKLOAD`` (12 messages, heartbeats every 100 ms)."""
    from .. import scenarios

    out = {}
    for label, (preset, _) in SEMANTICS.items():
        group = scenarios.get(preset).config.get("consumers", 1) > 1
        overrides = dict(GROUP_WORKLOAD) if group else {"messages": messages}
        out[label] = sweep(preset, depth=1, faults=FAULT_COLUMNS, overrides=overrides,
                           processes=processes)
    return out


# Durability (issue 18): RF=3 on 3 brokers, the leader (broker 0) crashes or its machine fails
# right after each append. label -> (overrides of the base preset, promise). acks=1 promises
# nothing about a leader change; acks=all promises no acknowledged write is lost while the ISR
# keeps min.insync.replicas members (fact sheet; Kafka's "acks=all" doc).
DURABILITY_PRESET = "acks-1-leader-failover"
DURABILITY = {
    "acks=1, min.insync.replicas=1": ({"acks": "1", "enable.idempotence": False,
                                       "min.insync.replicas": 1}, None),
    "acks=all, min.insync.replicas=1": ({"acks": "all", "enable.idempotence": True,
                                         "min.insync.replicas": 1}, "no_acked_loss"),
    "acks=all, min.insync.replicas=2": ({"acks": "all", "enable.idempotence": True,
                                         "min.insync.replicas": 2}, "no_acked_loss"),
}
# the two columns: the leader's process crashes with the ISR full (sends every 10 ms, so each
# of the 6 messages is its own batch and its own crash point); the leader's machine fails
# after the ISR shrank to it (followers 1 and 2 cut off for 30 s from the start, out of the
# ISR after replica.lag.time.max.ms=1 s; sends every 500 ms; the consumer starts at 10 s, after
# the broker is back, so the log decides what is delivered)
DURABILITY_COLUMNS = ("broker_crash", "machine_failure")
DURABILITY_WORKLOADS = {
    "broker_crash": ({"producer.send.interval.ms": 10}, ()),
    "machine_failure": ({"producer.send.interval.ms": 500, "replica.lag.time.max.ms": 1000,
                         "consumer.start.ms": 10000},
                        ({"type": "slow_follower", "broker": 1, "at_ms": 0, "for_ms": 30000},
                         {"type": "slow_follower", "broker": 2, "at_ms": 0, "for_ms": 30000})),
}


def durability_sweeps(messages: int = 6, processes: int | None = None) -> dict[str, dict]:
    """The broker-crash rows of the guarantee map (opt-in: notebook 04b draws them; notebook
    01's ``semantics_sweeps`` does not run them): for each of ``DURABILITY``'s configurations
    a leader-crash sweep and a last-ISR-member machine-failure sweep, merged into one
    ``{"table": rows, "exhaustive", "runs"}`` per label, the input of
    ``kafkalab.viz.guarantee_map.semantics_matrix(..., kinds=DURABILITY_COLUMNS)``."""
    out: dict[str, dict] = {}
    for label, (config, _) in DURABILITY.items():
        table: list[dict] = []
        exhaustive = True
        for kind in DURABILITY_COLUMNS:
            extra, background = DURABILITY_WORKLOADS[kind]
            r = sweep(DURABILITY_PRESET, depth=1, faults=[kind],
                      overrides={"messages": messages, **config, **extra},
                      processes=processes, background=list(background))
            table.extend(r.table)
            exhaustive = exhaustive and r.exhaustive
        out[label] = {"table": table, "exhaustive": exhaustive, "runs": len(table)}
    return out
