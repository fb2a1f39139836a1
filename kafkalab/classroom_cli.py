"""The command line's classroom parts: scenario files (``scenarios --export``,
``--scenarios DIR``), links (``link``, ``run/report --link``) and ``grade``.

``kafkalab.cli`` registers these options and calls :func:`dispatch` first; a command this
module does not handle returns None and the CLI carries on as before.
"""

from __future__ import annotations

import sys

from .model import ConfigError


def add_scenarios_options(p) -> None:
    p.add_argument("--export", metavar="NAME",
                   help="write preset NAME (or NAME/variant) as a scenario file to start from")
    p.add_argument("--out", metavar="FILE", help="with --export: the file (default: stdout)")
    p.add_argument("--scenarios", metavar="DIR", action="append", default=[],
                   help="also list the scenario files in DIR (repeatable)")


def add_link_option(p) -> None:
    p.add_argument("--link", metavar="LINK",
                   help="a kafkalab link (k1.…, or a URL with #kafkalab=…): its run")


def add_commands(sub) -> None:
    link = sub.add_parser("link", help="print the link to a run (kafkalab.open_link opens it)")
    link.add_argument("name", help="a preset, preset/variant or scenario file")
    link.add_argument("--seed", type=int, help="seed for random faults (default: the "
                                               "scenario's)")
    link.add_argument("--set", action="append", default=[], metavar="key=value",
                      help="override a Kafka property (repeatable)")
    link.add_argument("--step", type=int, help="the step the link opens at (default: last)")
    link.add_argument("--fault", action="append", default=[], metavar="type:key=value,...",
                      help="one fault (repeatable); replaces the scenario's plan")

    grade = sub.add_parser("grade", help="grade a folder of submitted exercise notebooks")
    grade.add_argument("submissions", metavar="SUBMISSIONS_DIR",
                       help="a folder of .ipynb files (any names; searched recursively)")
    grade.add_argument("--out", default="grades.csv", metavar="FILE",
                       help="the CSV, one row per student × task (default: grades.csv)")
    grade.add_argument("--feedback", metavar="DIR",
                       help="write one HTML feedback page per student here")
    grade.add_argument("--jobs", type=int, default=1, metavar="N",
                       help="notebooks graded at once (default 1)")
    grade.add_argument("--timeout", type=float, default=60, metavar="S",
                       help="seconds one notebook may run at most (default 60)")
    grade.add_argument("--memory", type=int, default=1024, metavar="MB",
                       help="memory one notebook may use at most (default 1024 MB)")
    grade.add_argument("--exercise", metavar="NN",
                       help="the exercise that was set (e.g. 03): another exercise's notebook "
                            "is then reported, not graded")
    grade.add_argument("--exercises", metavar="DIR",
                       help="the exercise notebooks to grade against (default: kafkalab's)")


def dispatch(args, parse_sets, fault_plan) -> int | None:
    """Run the command if it is one of ours (or one of ours options is used); else None."""
    from . import links, scenario_files, scenarios

    if args.command == "scenarios" and (args.export or args.scenarios):
        if args.export:
            text = scenario_files.export(args.export)
            if args.out:
                with open(args.out, "w", encoding="utf-8") as fh:
                    fh.write(text)
                print(f"wrote {args.out}")
            else:
                print(text, end="")
            return 0
        for name, s in scenarios.PRESETS.items():
            print(f"{name} — {s.title}")
        for folder in args.scenarios:
            found, errors = scenario_files.load_folder(folder)
            for s in found:
                print(f"{s.name} — {s.title} ({folder})")
            for e in errors:
                print(e, file=sys.stderr)
            if errors:
                return 2
        return 0
    if args.command == "link":
        if args.seed is not None and args.seed < 0:
            raise ConfigError(f"Invalid value {args.seed} for --seed: Value must be at least 0")
        plan = fault_plan(None, args.fault)
        result = scenarios.run(args.name, seed=args.seed, overrides=parse_sets(args.set),
                               faults=plan)
        last = max(len(result.events) - 1, 0)
        if args.step is not None and not 0 <= args.step <= last:
            raise ConfigError(f"kafkalab: --step {args.step}: this run has steps 0–{last}",
                              kafka=False)
        print(links.link_of_result(result, args.step))
        return 0
    if args.command == "grade":
        from .grade import grade_cli

        return grade_cli(args)
    if args.command in ("run", "report") and getattr(args, "link", None):
        if args.name or args.set or args.fault or args.faults or args.messages is not None:
            raise ConfigError("kafkalab: --link holds the whole run: give no scenario name, "
                              "--set, --fault(s) or --messages with it", kafka=False)
        opened = links.open_link(args.link, lab=False)
        for note in opened.notes:
            print(f"note: {note}", file=sys.stderr)
        return _print_or_write(args, opened.result)
    if args.command in ("run", "report") and not args.name:
        raise ConfigError("kafkalab: give a scenario (a preset, preset/variant or scenario "
                          "file) or --link", kafka=False)
    return None


def _print_or_write(args, result) -> int:
    import json

    if args.command == "report":
        from .report import html_report

        with open(args.html, "w", encoding="utf-8") as fh:
            fh.write(html_report(result))
        print(f"wrote {args.html}")
        return 0
    from .cli import _report

    print(json.dumps(result.summary(), sort_keys=True) if args.json else _report(result))
    return 0
