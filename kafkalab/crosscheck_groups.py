"""Cross-check of consumer groups: the model's classic rebalance protocol against real
``subscribe()`` members (librdkafka) on the mock cluster, message by message (issue 17).

For each workload in :data:`kafkalab.real.groups.GROUP_WORKLOADS` this module builds the
equivalent simulation (:func:`simulation_for_group`: ``client.model=librdkafka``, the same
partitions, members, ``partition.assignment.strategy`` and group timeouts, message ``i`` on
partition ``i % partitions``), runs both and compares what the workload's ``compare`` names:

* ``messages``: every message's processed count and lost flag, and the counts ``processed``,
  ``lost``, ``duplicates``;
* ``resumed``: per partition, the distinct offsets that later owners started from (after a
  crash, a member leaving, a rebalance);
* ``no-loss``: nothing lost on either side;
* ``explained-duplicates``: the set of messages processed twice, once the real run's
  duplicates that the mock alone caused (a commit it refused with REBALANCE_IN_PROGRESS while
  its group was Joining; Kafka accepts a commit of the current generation then) are set
  aside: the real set less those must equal the model's, and those must all be real
  duplicates.

How the real faults map onto the model: the member that processes message ``k`` first dies
after processing it (``consumer_crash`` at ``after_processing`` of ``k`` for the member the
model gives ``k``'s partition to, found by a fault-free pass; ``max.restarts=0``: the real
member stays dead); a slow message is ``slow_processing``; "a member starts once message ``k``
is processed" is ``member_join`` at the time the fault-free pass processed ``k``. Both sides
start processing once the whole first generation is assigned (the real members wait paused
for it; the model's ``group.initial.rebalance.delay.ms`` gathers them into one join).

Never compared: timings, and how many rebalances happen (the mock waits
``session.timeout.ms - 1000`` ms in every rebalance of a non-empty group; see
:data:`kafkalab.real.NOT_COMPARABLE` ``rebalance-takeover-timing``). Which member owns which
partition is not compared either: librdkafka's mock gives members pointer-valued ids, so the
range assignor's member order is not the model's.

Run it: ``python -m kafkalab.crosscheck_groups [--ci] [--workload NAME] [--json]``
(``make crosscheck-deep`` runs every group workload).
"""

from __future__ import annotations

import json
import time
from typing import Any

from .model import simulate
from .real import groups as rg

_STRATEGY = {"after-each": "per-record", "auto": "auto"}


class GroupNotMappable(ValueError):
    """A group workload has no equivalent simulation run."""


def _base_config(w: dict[str, Any]) -> dict[str, Any]:
    settings = rg.member_settings(w)
    config: dict[str, Any] = {
        "client.model": "librdkafka",
        "messages": w["messages"],
        "partitions": w["partitions"],
        "consumers": w["members"],
        "producer.send.interval.ms": 0,
        "linger.ms": 5,
        "acks": "all",
        "enable.idempotence": False,
        "consumer.start.ms": 20.0,
        "max.poll.records": w["batch"],
        "processing.ms": w["processing_ms"] or 1,
        "commit.strategy": _STRATEGY[w["commit"]],
        "enable.auto.commit": w["commit"] == "auto",
        # the real member logs a failed commit and goes on (real/group_member.py commit())
        "on.commit.error": "skip",
        "group.initial.rebalance.delay.ms": rg.INITIAL_REBALANCE_DELAY_MS,
    }
    if w["commit"] == "auto":
        config["auto.commit.interval.ms"] = w["auto_commit_interval_ms"]
    for key, value in settings.items():
        config[key] = value  # librdkafka's names (fetch.wait.max.ms) resolve in the model
    if w["crash"] is not None:
        config["max.restarts"] = 0  # the real member that crashed stays dead
    return config


def _first_processing(result: Any, msg_id: int) -> tuple[str, float] | None:
    """(member, time) of the first processing of ``msg_id`` in a run."""
    for e in result.events:
        if e.kind == "process":
            for r in e.data.get("records") or []:
                if r[2] == msg_id:
                    return e.actor, float(r[3])
    return None


def simulation_for_group(workload: dict[str, Any] | str
                         ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The simulation ``(config, faults)`` equivalent to a real group workload."""
    w = rg.normalize_group(workload)
    config = _base_config(w)
    faults: list[dict[str, Any]] = []
    if w["slow"] is not None:
        faults.append({"type": "slow_processing", "message": w["slow"]["message"],
                       "extra_ms": max(w["slow"]["ms"] - w["processing_ms"], 1)})
    probe = None
    if w["crash"] is not None or w["join"] is not None:
        probe = simulate({**config, "max.restarts": 50}, faults, 0, snapshots=False,
                         scenario="crosscheck-groups:probe")
    if w["crash"] is not None:
        assert probe is not None
        first = _first_processing(probe, w["crash"]["message"])
        if first is None:
            raise GroupNotMappable(f"message {w['crash']['message']} is never processed in "
                                   "the fault-free simulation")
        member = int(first[0].rsplit("-", 1)[1])
        faults.append({"type": "consumer_crash", "point": "after_processing",
                       "message": w["crash"]["message"], "member": member})
    if w["join"] is not None:
        assert probe is not None
        first = _first_processing(probe, w["join"]["after_message"])
        if first is None:
            raise GroupNotMappable(f"message {w['join']['after_message']} is never processed "
                                   "in the fault-free simulation")
        faults.append({"type": "member_join", "at_ms": first[1] + 0.5})
    return config, faults


def simulated_resumed(result: Any, ends: list[int] | None = None) -> dict[str, list[int]]:
    """Per partition, the distinct offsets later owners started from (the model's join /
    restart / rebalance events' ``resumed`` after each partition's first), in
    :func:`kafkalab.real.groups.resumed_offsets`' shape; with ``ends``, only those below the
    partition's end offset."""
    seen: set[str] = set()
    later: dict[str, set[int]] = {}
    for e in result.events:
        if e.kind not in ("join", "restart", "rebalance"):
            continue
        for p, entry in (e.data.get("resumed") or {}).items():
            if p not in seen:
                seen.add(p)
            elif ends is None or int(entry[0]) < ends[int(p)]:
                later.setdefault(p, set()).add(int(entry[0]))
    return {p: sorted(later[p]) for p in sorted(later, key=int)}


def simulate_group_workload(workload: dict[str, Any] | str, seed: int = 0) -> dict[str, Any]:
    """Only the simulation side (no confluent-kafka needed): ``{"name", "config", "faults",
    "outcome", "processed", "resumed", "result"}``; ``processed``: times each message was
    processed."""
    w = rg.normalize_group(workload)
    config, faults = simulation_for_group(w)
    result = simulate(config, faults, seed, snapshots=False,
                      scenario=f"crosscheck-groups:{w['name']}")
    outcome = {k: result.outcome.get(k) for k in ("processed", "lost", "duplicates",
                                                  "rebalances", "zombie_records")}
    processed = [len(m.processed) for m in result.ledger.messages]
    return {"name": w["name"], "config": config, "faults": faults, "outcome": outcome,
            "processed": processed, "resumed": simulated_resumed(result, _ends(w)),
            "resumed_all": simulated_resumed(result), "result": result}


def _ends(w: dict[str, Any]) -> list[int]:
    n, parts = w["messages"], w["partitions"]
    return [len(range(p, n, parts)) for p in range(parts)]


def _dups(processed: list[int]) -> set[int]:
    return {i for i, n in enumerate(processed) if n > 1}


def compare_processed(sim: list[int], real_counts: list[int]) -> list[dict[str, Any]]:
    """Messages whose processed count (or lost flag) differs: ``[{"id", "simulated",
    "real"}]``."""
    return [{"id": i, "simulated": s, "real": r}
            for i, (s, r) in enumerate(zip(sim, real_counts, strict=True)) if s != r]


def compare_group_workload(workload: dict[str, Any] | str) -> dict[str, Any]:
    """Run one group workload in the simulation and with real members; compare what its
    ``compare`` names. Returns ``{"name", "title", "compare", "agree", "differences",
    "messages", "messages_agree", "simulated", "real", "simulated_resumed", "real_resumed",
    "mock_refused_commits", "not_compared", "real_elapsed_s", "sim_faults", "real_notes"}``."""
    w = rg.normalize_group(workload)
    sim = simulate_group_workload(w)
    run = rg.run_group_real(w)
    real_counts = [e["processed"] for e in run["ledger"]]
    real_out = {k: run["outcome"][k] for k in ("processed", "lost", "duplicates")}
    differences: list[str] = []
    per_message = compare_processed(sim["processed"], real_counts)
    not_compared = []
    if "messages" in w["compare"]:
        differences += [k for k in real_out if sim["outcome"][k] != real_out[k]]
        if per_message:
            differences.append("messages")
    else:
        not_compared.append("per-message processed counts: which records are in flight when "
                            "a rebalance stops the members depends on its timing, and the "
                            "mock's rebalances take session.timeout.ms - 1000 ms where the "
                            "model's take a heartbeat")
    if "resumed" in w["compare"]:
        fault = w["crash"] or w["slow"]
        if fault is not None:
            # the faulty member's partition: its new owner starts at the committed offset
            key = str(fault["message"] % w["partitions"])
            if sim["resumed"].get(key) != run["resumed"].get(key):
                differences.append("resumed")
            not_compared.append("resume offsets of the other partitions: how far the faulty "
                                "member had read its other partitions depends on the order "
                                "librdkafka's fetches return them (seen both ways on the "
                                "mock), as in the model on its own fetch order")
        elif sim["resumed"] != run["resumed"]:
            differences.append("resumed")
        not_compared.append("resume offsets at a partition's end (nothing left to read): "
                            "how many of those there are follows how many rebalances run "
                            "(the model's members close one by one, each a LeaveGroup; the "
                            "real ones stop together)")
    else:
        not_compared.append("resume offsets: they follow the rebalances' timing")
    if "no-loss" in w["compare"] and (sim["outcome"]["lost"] != 0 or real_out["lost"] != 0):
        differences.append("lost")
    refused = set(run["refused_commits"])
    if "explained-duplicates" in w["compare"] and \
            _dups(real_counts) - refused != _dups(sim["processed"]):
        differences.append("duplicates beyond the mock's refused commits")
    messages_agree = len(sim["processed"]) - len(per_message)
    return {
        "name": w["name"],
        "title": w["title"],
        "compare": w["compare"],
        "agree": not differences,
        "differences": differences,
        "messages": len(real_counts),
        "messages_agree": messages_agree,
        "first_differences": per_message[:5],
        "simulated": sim["outcome"],
        "real": real_out,
        "simulated_duplicates": sorted(_dups(sim["processed"])),
        "real_duplicates": sorted(_dups(real_counts)),
        "simulated_resumed": sim["resumed"],
        "real_resumed": run["resumed"],
        "simulated_resumed_all": sim["resumed_all"],
        "real_resumed_all": run["resumed_all"],
        "mock_refused_commits": sorted(refused),
        "not_compared": not_compared,
        "expectations": run["expectations"],
        "real_elapsed_s": run["elapsed_s"],
        "sim_faults": sim["faults"],
        "real_notes": run["notes"],
    }


def group_crosscheck(names: list[str] | None = None, ci: bool = False,
                     on_row: Any = None) -> dict[str, Any]:
    """Compare each named group workload (default: all; ``ci=True``: the CI subset)."""
    if names is None:
        names = rg.ci_group_workloads() if ci else list(rg.GROUP_WORKLOADS)
    for name in names:
        rg.get_group_workload(name)
    started = time.monotonic()
    rows = []
    for name in names:
        row = compare_group_workload(name)
        rows.append(row)
        if on_row is not None:
            on_row(row)
    return {"scenarios": rows, "elapsed_s": round(time.monotonic() - started, 3),
            "messages": sum(r["messages"] for r in rows),
            "messages_agree": sum(r["messages_agree"] for r in rows),
            "agreeing": sum(r["agree"] for r in rows)}


def format_group_row(row: dict[str, Any]) -> str:
    verdict = "yes" if row["agree"] else f"NO ({', '.join(row['differences'])})"
    lines = [f"{row['name']}: agree {verdict}; messages {row['messages_agree']}/"
             f"{row['messages']}; compared {', '.join(row['compare'])}; "
             f"real {row['real_elapsed_s']:.1f} s",
             f"  simulated: {row['simulated']} duplicates {row['simulated_duplicates']} "
             f"resumed {row['simulated_resumed']}",
             f"  real:      {row['real']} duplicates {row['real_duplicates']} "
             f"resumed {row['real_resumed']}"]
    if row["mock_refused_commits"]:
        lines.append(f"  mock refused the commits of {row['mock_refused_commits']} "
                     "(REBALANCE_IN_PROGRESS while Joining)")
    for d in row["first_differences"] if not row["agree"] else []:
        lines.append(f"  message {d['id']}: processed {d['simulated']}x simulated, "
                     f"{d['real']}x real")
    lines += [f"  not compared: {why}" for why in row["not_compared"]]
    return "\n".join(lines)


def format_group_report(report: dict[str, Any]) -> str:
    out = [format_group_row(r) for r in report["scenarios"]]
    out.append(f"{report['agreeing']}/{len(report['scenarios'])} group workloads agree; "
               f"{report['messages_agree']}/{report['messages']} messages agree "
               f"({report['elapsed_s']:.1f} s)")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    import argparse
    import sys
    from pathlib import Path

    from . import real

    parser = argparse.ArgumentParser(prog="python -m kafkalab.crosscheck_groups",
                                     description="compare the model's consumer groups with "
                                                 "real subscribe() members")
    parser.add_argument("--ci", action="store_true", help="only the CI subset")
    parser.add_argument("--workload", action="append", help="a group workload's name")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--out", help="also write the JSON report to this file")
    args = parser.parse_args(argv)
    try:
        real.require_confluent_kafka()
        report = group_crosscheck(args.workload, ci=args.ci,
                                  on_row=None if args.json else
                                  lambda r: print(format_group_row(r), flush=True))
    except (rg.GroupWorkloadError, GroupNotMappable) as exc:
        print(f"kafkalab: {exc}", file=sys.stderr)
        return 2
    except real.RealExtraMissing as exc:
        print(" ".join(str(exc).split()), file=sys.stderr)
        return 2
    except rg.GroupRunError as exc:
        print(f"crosscheck-groups: a real run failed: {exc}", file=sys.stderr)
        return 1
    if args.out:
        path = Path(args.out)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(report, indent=2, default=str))
    if args.json:
        print(json.dumps(report, indent=2, default=str))
    else:
        print(f"{report['agreeing']}/{len(report['scenarios'])} group workloads agree; "
              f"{report['messages_agree']}/{report['messages']} messages agree "
              f"({report['elapsed_s']:.1f} s)")
    return 0 if report["agreeing"] == len(report["scenarios"]) else 1


if __name__ == "__main__":
    raise SystemExit(main())
