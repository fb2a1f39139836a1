"""Running many simulations: serially, or on a process pool when that pays."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time

from ..model import simulate
from . import _space

# Below this estimated serial time a pool costs more than it saves. Measured here (2 cores):
# starting and stopping a 2-worker pool takes ~8 ms with fork, ~120 ms with spawn; one run
# of a small preset takes 1–5 ms; a 124-run sweep took 0.16–0.19 s serially and 0.14–0.22 s
# on the pool (break-even), 411 runs 1.4–2.3 s serially and 0.9–1.3 s on the pool.
POOL_MIN_SECONDS = {"fork": 0.25, "spawn": 0.8}
POOL_MIN_RUNS = 48


# A run that takes longer than this (wall clock) is abandoned and reported, not waited for:
# model runs take milliseconds; one that never ends is a model bug the sweep should name.
RUN_TIMEOUT_S = 20.0


class RunTimeout(Exception):
    pass


@contextlib.contextmanager
def _deadline(seconds: float):
    """Raise RunTimeout in this thread after ``seconds`` (where SIGALRM exists and this is
    the main thread; elsewhere, e.g. Pyodide or a worker thread, no limit). An alarm set
    around this one (the self-grader's clock, kafkalab/grade/clock.py, when a learner's check
    sweeps) is set back afterwards with what was left of it: held back by one run at most."""
    usable = hasattr(signal, "setitimer") and \
        threading.current_thread() is threading.main_thread()
    if not usable or not seconds:
        yield
        return

    def on_alarm(signum, frame):
        raise RunTimeout

    previous = signal.signal(signal.SIGALRM, on_alarm)
    started = time.monotonic()
    outer, _ = signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if outer:  # an alarm set around this one (the self-grader's clock): set it back
            signal.setitimer(signal.ITIMER_REAL,
                             max(outer - (time.monotonic() - started), 1e-4))


def run_one(task: tuple) -> dict:
    """One simulation (see _run_one); a run that does not finish in RUN_TIMEOUT_S becomes
    {"error": ...} instead of hanging the sweep."""
    try:
        with _deadline(RUN_TIMEOUT_S):
            return _run_one(task)
    except RunTimeout:
        return {"error": f"the simulation did not finish within {RUN_TIMEOUT_S:g} s "
                         "(wall clock): a model hang?"}


def _run_one(task: tuple) -> dict:
    """One simulation of one fault plan (a top-level function: it must pickle).

    ``task`` = (config, plan, seed, want_space, kinds). With ``want_space`` the result also
    carries the fault space of this run (for the second fault of a pair)."""
    config, plan, seed, want_space, kinds = task
    result = simulate(config, plan, seed, snapshots=False)
    o = result.outcome
    row = {"lost": o["lost"], "duplicates": o["duplicates"],
           "log_duplicates": o["log_duplicates"], "drained": bool(o["drained"])}
    if result.config.get("replication.factor", 1) > 1:
        row["lost_after_ack"] = o.get("lost_after_ack", 0)  # issue 18: acknowledged, then lost
    if want_space:
        members = result.config["consumers"]
        # how often each member reached each crash point: the consumer's own counts
        reached = result.live_counters["crash_points"]
        counts = {(m, p): n for m in range(members)
                  for p, n in reached.get(f"consumer-{m}", {}).items()}
        row["space"] = _space.space(kinds, result.events, counts, members,
                                    result.config["messages"], first_attempt_only=False)
    return row


def pool_unavailable() -> str | None:
    """Why a process pool cannot be used here (None when it can)."""
    if sys.platform == "emscripten" or "pyodide" in sys.modules:
        return "multiprocessing is unavailable in Pyodide/JupyterLite: running serially"
    if (os.cpu_count() or 1) < 2:
        return None  # usable, but it never pays on one core
    try:
        import concurrent.futures  # noqa: F401
        import multiprocessing
        multiprocessing.get_context()
    except (ImportError, NotImplementedError, OSError) as exc:  # pragma: no cover
        return f"multiprocessing is unavailable ({exc}): running serially"
    return None


def _context():
    import multiprocessing
    methods = multiprocessing.get_all_start_methods()
    # fork starts workers in milliseconds and needs no importable __main__ (notebooks)
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


class Executor:
    """Runs tasks in order; chooses serial or a pool per batch; reports progress."""

    def __init__(self, processes: int | None, progress, notes: list[str]):
        self.requested = processes
        self.progress = progress
        self.notes = notes
        self.done = 0
        self.total = 0
        self.per_run = None  # seconds, measured on the first serial runs
        self.processes_used = 1
        self._pool = None
        self._pool_workers = 0
        self._pool_failed = False

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None

    def _workers(self, n_tasks: int) -> int:
        cpus = os.cpu_count() or 1
        if self.requested is not None:
            return max(1, min(self.requested, n_tasks))
        if cpus < 2 or n_tasks < POOL_MIN_RUNS:
            return 1
        per_run = self.per_run if self.per_run is not None else 0.004
        if per_run * n_tasks < POOL_MIN_SECONDS[_context().get_start_method()]:
            return 1
        return min(cpus, n_tasks)

    def _tick(self, n: int = 1) -> None:
        self.done += n
        if self.progress is not None and self.done < self.total:
            self.progress(self.done, self.total)

    def finish(self) -> None:
        if self.progress is not None:
            self.progress(self.done, max(self.total, self.done))

    def map(self, tasks: list[tuple]) -> list[dict]:
        if not tasks:
            return []
        workers = self._workers(len(tasks))
        if workers > 1 and not self._pool_failed:
            why = pool_unavailable()
            if why:
                self._pool_failed = True
                self.notes.append(why)
            else:
                try:
                    return self._map_pool(tasks, workers)
                except (OSError, NotImplementedError, ImportError, RuntimeError) as exc:
                    self._pool_failed = True
                    self.notes.append(f"the process pool failed ({exc}); running serially")
        out = []
        start = time.perf_counter()
        for task in tasks:
            out.append(run_one(task))
            self._tick()
        if self.per_run is None:
            self.per_run = (time.perf_counter() - start) / len(tasks)
        return out

    def _map_pool(self, tasks, workers):
        from concurrent.futures import ProcessPoolExecutor

        if self._pool is None or self._pool_workers != workers:
            self.close()
            self._pool = ProcessPoolExecutor(max_workers=workers, mp_context=_context())
            self._pool_workers = workers
        self.processes_used = max(self.processes_used, workers)
        chunk = max(1, min(64, len(tasks) // (workers * 8)))
        out = []
        for row in self._pool.map(run_one, tasks, chunksize=chunk):
            out.append(row)
            self._tick()
        return out
