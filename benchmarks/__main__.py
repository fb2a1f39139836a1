"""`make bench`: measure, print a table and write build/bench.json.

Goals are ratios measured side by side in the same process, never timed assertions.
"""

from __future__ import annotations

import heapq
import json
import os
import platform
import time
from pathlib import Path

N = 100_000
REPEAT = 3


def best_cpu(fn, repeat=REPEAT) -> float:
    times = []
    for _ in range(repeat):
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return min(times)


def heapq_floor(n: int = N) -> None:
    """The practical floor: push and pop one timed event per record."""
    heap: list = []
    push, pop = heapq.heappush, heapq.heappop
    for i in range(n):
        push(heap, (i * 0.01, i))
    while heap:
        pop(heap)


def simpy_one_event_per_record(n: int = N) -> None:
    import simpy

    env = simpy.Environment()

    def proc():
        for _ in range(n):
            yield env.timeout(0.01)

    env.process(proc())
    env.run()


def model_run(snapshots: bool, extra: dict | None = None):
    from kafkalab import scenarios

    def go():
        r = scenarios.run("at-least-once-manual-commit", messages=N, faults=[],
                          snapshots=snapshots,
                          overrides={"commit.strategy": "per-batch", "max.poll.records": 500,
                                     "producer.send.interval.ms": 0.01, **(extra or {})})
        return r

    return go


def lab_sweep_200():
    """The Lab's "try every crash point" button on a 200-message run (capped by its budget)."""
    try:
        from kafkalab import Lab
    except ImportError:
        return "kafkalab.widgets not installed"
    lab = Lab("at-least-once-manual-commit")
    lab.controls["messages"].value = 200
    start = time.perf_counter()
    sw = lab.sweep_crash_points()
    return {"messages": 200, "runs": sw.runs, "exhaustive": sw.exhaustive,
            "seconds": round(time.perf_counter() - start, 3)}


def crosscheck_wall_time():
    """Every comparable scenario run with real clients on the mock cluster (goal: about a
    minute at most for the whole real-client suite)."""
    from kafkalab import crosscheck as cc
    from kafkalab.real import RealExtraMissing

    try:
        report = cc.crosscheck()
    except RealExtraMissing as exc:
        return str(exc)
    rows = report["scenarios"]
    return {"comparable": len(rows), "agree": sum(r["agree"] for r in rows),
            "seconds": report["elapsed_s"], "workloads_per_s": report["workloads_per_s"]}


def crosscheck_randomised(examples: int = 12, seed: int = 0):
    """The randomised differential test as CI runs it: random workloads, each run in the
    simulation and with real clients, compared message by message (workloads per second)."""
    from kafkalab import crosscheck as cc
    from kafkalab.real import RealExtraMissing

    try:
        report = cc.randomised(examples=examples, seed=seed)
    except RealExtraMissing as exc:
        return str(exc)
    return {"examples": examples, "seed": seed, "agree": report["agreeing"],
            "failures": len(report["failures"]), "seconds": report["elapsed_s"],
            "workloads_per_s": report["workloads_per_s"]}


def grade_50(submissions: int = 50, jobs: int | None = None):
    """``python -m kafkalab grade`` on a class of 50 submitted notebooks of exercise 03 (the
    solution, the untouched stub, each wrong answer of solutions/03_*_misconceptions.py in
    turn), each in a fresh kernel: seconds in all and per submission."""
    import importlib.util
    import inspect
    import shutil
    import tempfile

    try:
        import nbclient  # noqa: F401
    except ImportError:
        return "nbclient not installed"
    from kafkalab.grade import grade_folder

    root = Path(__file__).resolve().parents[1]
    solution = json.loads((root / "solutions" / "03_at_least_once_manual_commit_exercises.ipynb")
                          .read_text(encoding="utf-8"))
    spec = importlib.util.spec_from_file_location(
        "m03", root / "solutions" / "03_at_least_once_manual_commit_misconceptions.py")
    wrong = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(wrong)
    answer_cells = {"per_record": "03-03", "async_commits": "03-06", "group_config": "03-09",
                    "handle_batch": "03-12"}
    variants = [{}] + [{task: w} for task, ws in wrong.MISCONCEPTIONS.items() for w in ws]
    folder = Path(tempfile.mkdtemp(prefix="kafkalab-bench-grade-"))
    try:
        for i in range(submissions):
            nb = json.loads(json.dumps(solution))
            for task, w in variants[i % len(variants)].items():
                text = (inspect.getsource(w.answer) + f"\n{task} = {w.answer.__name__}\n"
                        if callable(w.answer) else f"{task} = {w.answer!r}\n")
                for cell in nb["cells"]:
                    if cell.get("id") == answer_cells[task]:
                        cell["source"] = text
            (folder / f"student-{i:02d}.ipynb").write_text(json.dumps(nb), encoding="utf-8")
        jobs = jobs or min(4, os.cpu_count() or 1)
        start = time.perf_counter()
        subs = grade_folder(folder, jobs=jobs)
        seconds = time.perf_counter() - start
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return {"submissions": len(subs), "jobs": jobs, "seconds": round(seconds, 2),
            "seconds_per_submission": round(seconds / max(len(subs), 1), 3),
            "kernel_seconds_per_submission": round(
                sum(s.seconds for s in subs) / max(len(subs), 1), 3)}


BIG_RUN = ["at-least-once-manual-commit", "--messages", "1000000", "--set",
           "commit.strategy=per-batch", "--set", "max.poll.records=500", "--set",
           "producer.send.interval.ms=0.01"]


def _time_v(args: list[str]) -> dict:
    """Run ``python -m kafkalab ARGS`` under /usr/bin/time -v: peak RSS and wall time."""
    import subprocess
    import sys

    if not Path("/usr/bin/time").exists():
        return {"error": "/usr/bin/time not installed (GNU time; apt-get install time)"}
    proc = subprocess.run(["/usr/bin/time", "-v", sys.executable, "-m", "kafkalab", *args],
                          capture_output=True, text=True)
    out = {"exit": proc.returncode}
    for line in proc.stderr.splitlines():
        line = line.strip()
        if line.startswith("Maximum resident set size (kbytes):"):
            out["peak_rss_mb"] = round(int(line.rsplit(":", 1)[1]) / 1024, 1)
        elif line.startswith("Elapsed (wall clock) time"):
            clock = line.rsplit(" ", 1)[1]
            parts = [float(x) for x in clock.split(":")]
            out["wall_s"] = round(sum(x * 60 ** i for i, x in enumerate(reversed(parts))), 2)
    return out


def cli_peak_rss_1m() -> dict:
    """A 1,000,000-message CLI run (goal: under 1 GB peak RSS, issue 13)."""
    res = _time_v(["run", *BIG_RUN])
    res["goal_mb"] = 1024
    return res


def cli_peak_rss_1m_per_record() -> dict:
    """The per-record commit preset as it is, at 1,000,000 messages: a commitSync and a
    process event per record, ~2,000,000 events (goal: under 1 GB peak RSS, issue 13)."""
    res = _time_v(["run", "at-least-once-manual-commit", "--messages", "1000000"])
    res["goal_mb"] = 1024
    return res


def report_size_100k() -> dict:
    """``report --html`` for 100,000 messages (goal: under 5 MB at any size, issue 13)."""
    out = Path("build") / "report-100k.html"
    out.parent.mkdir(exist_ok=True)
    res = _time_v(["report", "at-least-once-manual-commit", "--messages", "100000",
                   "--html", str(out)])
    if out.exists():
        res["html_mb"] = round(out.stat().st_size / 1e6, 2)
    res["goal_mb"] = 5
    return res


def watchdog_stop_times() -> dict:
    """Wall time until the issue-13 hang cases end (they hung, or took seconds, before)."""
    from kafkalab import scenarios

    cases = {
        "rtt=0, 2 partitions, 2 consumers": {"network.rtt.ms": 0, "partitions": 2,
                                             "consumers": 2},
        "rebalance storm (stopped by the watchdog)": {
            "max.poll.interval.ms": 5, "processing.ms": 10, "commit.strategy": "per-batch",
            "on.commit.error": "skip"},
    }
    out = {}
    for name, overrides in cases.items():
        start = time.perf_counter()
        r = scenarios.run("at-least-once-manual-commit", overrides=overrides, snapshots=False)
        out[name] = {"seconds": round(time.perf_counter() - start, 3), "drained": r.drained,
                     "stopped": bool(r.outcome["stopped"])}
    return out


def main() -> None:
    from kafkalab import scenarios

    results: dict = {"machine": {"python": platform.python_version(),
                                 "cpus": os.cpu_count(), "platform": platform.platform()}}
    floor = best_cpu(heapq_floor)
    simpy_per_record = best_cpu(simpy_one_event_per_record)
    run_only = best_cpu(model_run(snapshots=False))

    def run_and_ledger():
        r = model_run(snapshots=True)()
        return r.outcome

    full = best_cpu(run_and_ledger)
    check = model_run(snapshots=False)().outcome
    assert check["processed"] == N and check["lost"] == 0
    results["model"] = {
        "messages": N,
        "heapq_floor_s": round(floor, 4),
        "simpy_one_event_per_record_s": round(simpy_per_record, 4),
        "run_s": round(run_only, 4),
        "run_with_snapshots_ledger_outcome_s": round(full, 4),
        "records_per_cpu_s": round(N / run_only),
        "ratio_run_to_floor": round(run_only / floor, 2),
        "ratio_full_to_floor": round(full / floor, 2),
    }
    # issue 18: a 3-broker, RF=3 run of the same workload, side by side (goal: within 3x)
    rf3 = {"brokers": 3, "replication.factor": 3}
    rf3_run = best_cpu(model_run(snapshots=False, extra=rf3))
    rf3_full = best_cpu(lambda: model_run(snapshots=True, extra=rf3)().outcome)
    results["replication"] = {
        "messages": N, "single_replica_run_s": round(run_only, 4),
        "rf3_run_s": round(rf3_run, 4), "ratio_run": round(rf3_run / run_only, 2),
        "single_replica_full_s": round(full, 4), "rf3_full_s": round(rf3_full, 4),
        "ratio_full": round(rf3_full / full, 2), "goal_ratio": 3,
    }
    commit_cost = scenarios.run("commit-cost").outcome["throughput_by_strategy"]
    results["commit_cost_records_per_simulated_s"] = commit_cost

    try:
        import kafkalab.widgets  # noqa: F401

        from .lab_timing import measure_latencies
    except ImportError:
        results["lab"] = results["lab_commit_per_record"] = "kafkalab.widgets not installed"
    else:
        results["lab"] = measure_latencies()  # the Lab's default scenario: the goals
        results["lab_commit_per_record"] = measure_latencies("at-least-once-manual-commit")
    from .sweep import benchmark as sweep_benchmark

    results["sweep"] = sweep_benchmark()
    results["lab_sweep"] = lab_sweep_200()
    results["crosscheck"] = crosscheck_wall_time()
    results["crosscheck_randomised"] = crosscheck_randomised()
    results["cli_1m"] = cli_peak_rss_1m()
    results["cli_1m_per_record"] = cli_peak_rss_1m_per_record()
    results["report_100k"] = report_size_100k()
    results["watchdog"] = watchdog_stop_times()
    results["grade_50"] = grade_50()

    out = Path("build")
    out.mkdir(exist_ok=True)
    (out / "bench.json").write_text(json.dumps(results, indent=2, sort_keys=True))
    m = results["model"]
    rows = [
        ("bare heapq loop, 1 event/record (floor)", f"{m['heapq_floor_s']:.3f} s"),
        ("SimPy, 1 timeout/record", f"{m['simpy_one_event_per_record_s']:.3f} s"),
        ("model run, 100k msgs, commit per batch", f"{m['run_s']:.3f} s"),
        ("  + snapshots, ledger, outcome", f"{m['run_with_snapshots_ledger_outcome_s']:.3f} s"),
        ("simulated records per CPU-second", f"{m['records_per_cpu_s']:,}"),
        ("run / floor", f"{m['ratio_run_to_floor']}×"),
        ("full / floor", f"{m['ratio_full_to_floor']}×"),
    ]
    for k, v in commit_cost.items():
        rows.append((f"commit-cost: {k} (records per simulated s)", f"{v:,.0f}"))
    for section in ("lab", "lab_commit_per_record", "sweep", "lab_sweep", "crosscheck",
                    "crosscheck_randomised", "cli_1m", "cli_1m_per_record", "report_100k", "watchdog",
                    "grade_50"):
        if isinstance(results[section], dict):
            for k, v in results[section].items():
                rows.append((f"{section}: {k}", str(v)))
        else:
            rows.append((section, results[section]))
    lite = out / "bench-lite.json"  # the browser kernel, from `make bench-lite` (needs Chromium)
    if lite.exists():
        from .lite import rows as lite_rows

        rows += lite_rows(json.loads(lite.read_text()))
    else:
        rows.append(("lite (browser kernel)", "not measured: run `make bench-lite`"))
    width = max(len(r[0]) for r in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    print("\nwrote build/bench.json")


if __name__ == "__main__":
    main()
