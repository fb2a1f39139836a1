"""``python -m kafkalab``: run presets, sweep faults, cross-check with a real client, export.

Bad arguments exit with code 2 and one clear line on stderr.
"""

from __future__ import annotations

import argparse
import json
import sys

from . import classroom_cli, scenarios
from .model import ConfigError
from .model.faults import FaultError, from_json, normalise
from .trace.anomalies import describe as describe_anomaly

EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2 (argparse prints usage too; keep it short)
        print(f"kafkalab: {message}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


def _parse_sets(pairs: list[str]) -> dict:
    out = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set takes key=value, not {pair!r}")
        out[key.strip()] = _literal(value.strip())
    return out


def _literal(text: str):
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered in ("null", "none"):
        return None
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


def _parse_fault(text: str) -> dict:
    """``--fault type:key=value,key=value`` as one fault-plan entry (validated later)."""
    kind, _, rest = text.partition(":")
    if not kind.strip():
        raise FaultError(f"--fault takes type:key=value,..., not {text!r}")
    fault: dict = {"type": kind.strip()}
    for pair in filter(None, (p.strip() for p in rest.split(","))):
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise FaultError(f"--fault {text!r}: {pair!r} is not key=value")
        fault[key.strip()] = _literal(value.strip())
    return fault


def _fault_plan(path: str | None, entries: list[str]) -> list | None:
    """The run's fault plan from ``--faults FILE`` and ``--fault ...``; None = the preset's."""
    if path is None and not entries:
        return None
    plan: list = []
    if path is not None:
        try:
            with open(path, encoding="utf-8") as fh:
                text = fh.read()
        except OSError as exc:
            raise FaultError(f"--faults {path}: {exc.strerror or exc}") from None
        plan = from_json(text)
    return normalise(plan + [_parse_fault(e) for e in entries])


def _add_fault_options(p) -> None:
    p.add_argument("--faults", metavar="PLAN.json",
                   help="a fault plan (JSON list of faults, see docs) instead of the preset's")
    p.add_argument("--fault", action="append", default=[], metavar="type:key=value,...",
                   help="one fault, e.g. consumer_crash:point=after_processing,message=5 "
                        "(repeatable; with --faults, added to that plan; either replaces the "
                        "preset's plan)")


def _report(result) -> str:
    o = result.outcome
    lines = [f"{result.scenario}: {scenarios.get(result.scenario).title}" if result.scenario
             else "run", "", result.verdict]
    keys = ["sent", "acked", "written", "delivered", "processed", "lost", "duplicates",
            "log_duplicates", "aborted_copies"] + (["unseen", "never_sent"] if not o["drained"]
                                                   else [])
    lines.append("  ".join(f"{k}={o[k]}" for k in keys))
    lines.append(f"simulated throughput {o['throughput_per_s']:g} records/s over "
                 f"{o['simulated_ms']:g} ms; drained={o['drained']}")
    if "throughput_by_strategy" in o:
        lines.append("throughput by commit strategy (records/s): " + ", ".join(
            f"{k} {v:g}" for k, v in o["throughput_by_strategy"].items()))
    anomalies = result.anomalies
    lines.extend(f"note: {n}" for n in result.notes)
    grouped: dict[str, list[int]] = {}
    for a in anomalies:
        if a["type"] in ("unseen", "never-sent"):
            grouped.setdefault(a["type"], []).append(a["message"])
    for kind, ids in grouped.items():
        shown = ", ".join(map(str, ids[:20])) + (f" … ({len(ids)} in all)" if len(ids) > 20
                                                 else "")
        label = "not processed yet (unseen)" if kind == "unseen" else "never sent"
        lines.append(f"- {label}: message{'s' if len(ids) > 1 else ''} {shown}")
    explained = set()
    for a in anomalies:
        if a["type"] in grouped:
            continue
        m = a.get("message")
        if a["type"] in ("lost", "duplicate", "log-duplicate") and m not in explained:
            explained.add(m)
            lines.append(f"- {a['type']}: {result.explain(m)}")
        elif a["type"] not in ("lost", "duplicate", "log-duplicate"):
            lines.append(f"- {a['type']}: {describe_anomaly(a)}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = _Parser(prog="python -m kafkalab",
                     description="kafkalab: see Kafka's delivery guarantees.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    classroom_cli.add_scenarios_options(sub.add_parser("scenarios",
                                                       help="list the scenario presets"))
    sub.add_parser("config", help="every property with its Java and librdkafka defaults")

    run = sub.add_parser("run", help="run a scenario preset")
    run.add_argument("name", nargs="?", help="a preset or preset/variant (see: scenarios), "
                                             "or a scenario file (.json, .toml)")
    run.add_argument("--seed", type=int, help="seed for random faults (default: the "
                                              "scenario's, 0 for every preset)")
    classroom_cli.add_link_option(run)
    run.add_argument("--messages", type=int, help="messages to send (default: the preset's)")
    run.add_argument("--set", action="append", default=[], metavar="key=value",
                     help="override a Kafka property, e.g. enable.idempotence=false (repeatable)")
    run.add_argument("--json", action="store_true", help="print the whole run as JSON")
    _add_fault_options(run)

    report = sub.add_parser("report", help="write a self-contained HTML report")
    report.add_argument("name", nargs="?", help="a preset, preset/variant or scenario file")
    report.add_argument("--seed", type=int, help="seed for random faults")
    classroom_cli.add_link_option(report)
    report.add_argument("--set", action="append", default=[], metavar="key=value",
                        help="override a Kafka property (repeatable)")
    report.add_argument("--html", required=True, metavar="FILE",
                        help="where to write the report (opens without a kernel or network)")
    report.add_argument("--messages", type=int, help="messages to send (default: the preset's)")
    _add_fault_options(report)

    sweep = sub.add_parser("sweep", help="try every crash point and lost ack")
    sweep.add_argument("name", help="a preset, preset/variant or scenario file")
    sweep.add_argument("--depth", type=int, default=1,
                       help="faults per run: 1 = every single fault point, 2 = every pair")
    sweep.add_argument("--set", action="append", default=[], metavar="key=value",
                       help="override a Kafka property (repeatable)")
    sweep.add_argument("--json", action="store_true", help="print the table as JSON")

    cross = sub.add_parser("crosscheck", help="compare the model with a real Kafka client")
    cross.add_argument("--json", action="store_true", help="print the comparison as JSON")
    cross.add_argument("--workload", help="one workload as JSON (a reproduction the randomised "
                                          "test printed)")
    cross.add_argument("--random", type=int, metavar="N",
                       help="N randomised workloads, compared message by message")
    cross.add_argument("--seed", type=int, default=0, help="the randomised run's seed")
    cross.add_argument("--out", help="also write the JSON report to this file")
    cross.add_argument("--deep", action="store_true",
                       help="also the deeper workloads (replication: make crosscheck-deep)")
    cross.add_argument("--replication", action="store_true",
                       help="with --random: draw replication workloads (3-broker mock cluster)")

    classroom_cli.add_commands(sub)

    args = parser.parse_args(argv)
    try:
        handled = classroom_cli.dispatch(args, _parse_sets, _fault_plan)
        if handled is not None:
            return handled
        if args.command == "scenarios":
            for name, s in scenarios.PRESETS.items():
                print(f"{name} — {s.title}")
            return 0
        if args.command == "config":
            from .model.config import markdown_table

            print(markdown_table(), end="")
            return 0
        if args.command == "run":
            if args.messages is not None and args.messages < 0:
                raise ConfigError(f"Invalid value {args.messages} for --messages: Value must "
                                  "be at least 0")
            if args.seed is not None and args.seed < 0:
                raise ConfigError(f"Invalid value {args.seed} for --seed: Value must be at "
                                  "least 0")
            result = scenarios.run(args.name, seed=args.seed, messages=args.messages,
                                   overrides=_parse_sets(args.set), snapshots=False,
                                   faults=_fault_plan(args.faults, args.fault))
            print(json.dumps(result.summary(), sort_keys=True) if args.json else _report(result))
            return 0
        if args.command == "report":
            from .report import html_report

            if args.messages is not None and args.messages < 0:
                raise ConfigError(f"Invalid value {args.messages} for --messages: Value must "
                                  "be at least 0")
            result = scenarios.run(args.name, seed=args.seed, messages=args.messages,
                                   overrides=_parse_sets(args.set),
                                   faults=_fault_plan(args.faults, args.fault))
            with open(args.html, "w", encoding="utf-8") as fh:
                fh.write(html_report(result))
            print(f"wrote {args.html}")
            return 0
        if args.command == "sweep":
            from .sweep import run_sweep_cli

            scenarios.get(args.name)  # a clear error for an unknown name
            text, code = run_sweep_cli(args.name, args.depth, _parse_sets(args.set), args.json)
            print(text)
            return code
        if args.command == "crosscheck":
            from .crosscheck import main as crosscheck_main

            forwarded = ["--json"] if args.json else []
            for flag in ("workload", "random", "out"):
                if getattr(args, flag) is not None:
                    forwarded += [f"--{flag}", str(getattr(args, flag))]
            forwarded += [f"--{flag}" for flag in ("deep", "replication") if getattr(args, flag)]
            return crosscheck_main([*forwarded, "--seed", str(args.seed)])
    except ConfigError as exc:
        # kafkalab's own keys already say "kafkalab: …" (ConfigError.kafka is False for them)
        text = str(exc)
        print(text if text.startswith("kafkalab: ") else f"kafkalab: {text}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:
        print(f"kafkalab: {exc}", file=sys.stderr)
        return EXIT_USAGE
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
