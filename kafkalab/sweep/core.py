"""Exhaustive fault sweeps and the shortest counterexample."""

from __future__ import annotations

import copy
import random
import time
from dataclasses import dataclass, field

from .. import scenarios
from ..model import ConfigError, simulate
from ..model.config import resolve
from ..model.faults import describe
from . import _space
from ._exec import Executor

# property -> the outcome keys that must all be 0 for it to hold
PROPERTIES: dict[str, tuple[str, ...]] = {
    "no_loss": ("lost",),
    "no_duplicates": ("duplicates",),
    "no_log_duplicates": ("log_duplicates",),
    "exactly_once": ("lost", "duplicates"),
}
_ANOMALIES = {"lost": ("lost",), "duplicates": ("duplicate",),
              "log_duplicates": ("log-duplicate",)}
DEFAULT_KINDS = ("crash", "lost_ack")
SECOND_FAULT_NOTE = ("the second fault of a pair is placed in the space of the first fault's "
                     "own run, not the fault-free one (a crash re-delivers, a lost ack is "
                     "retried: that run has more places for a fault); produce faults hit "
                     "first attempts and first retries")


def holds(prop: str, row: dict) -> bool:
    """Does a property hold for one run's outcome (a table row or an outcome dict)?"""
    return all(row[k] == 0 for k in PROPERTIES[_check_property(prop)])


def _check_property(prop: str) -> str:
    if prop not in PROPERTIES:
        raise ConfigError(f"unknown property {prop!r}; one of: {', '.join(PROPERTIES)}")
    return prop


def none_text(prop: str, depth: int) -> str:
    return f"{prop}: none up to depth {depth}"


# -- what is swept -----------------------------------------------------------------------
@dataclass
class Target:
    label: str
    config: dict  # Kafka property names, as a user would pass them (not resolved)
    messages: int
    members: int


def target(scenario_or_config, overrides: dict | None = None) -> Target:
    """A preset name (``name`` or ``name/variant``), a Scenario, or a config dict."""
    if isinstance(scenario_or_config, str):
        scenario = scenarios.get(scenario_or_config)
        label, config = scenario.name, copy.deepcopy(scenario.config)
    elif isinstance(scenario_or_config, scenarios.Scenario):
        label, config = scenario_or_config.name, copy.deepcopy(scenario_or_config.config)
    elif isinstance(scenario_or_config, dict):
        label, config = "custom config", copy.deepcopy(scenario_or_config)
    else:
        raise ConfigError("sweep takes a scenario name or a config dict, not "
                          f"{type(scenario_or_config).__name__}")
    config.update(overrides or {})
    effective = resolve(config)
    return Target(label, config, effective["messages"], effective["consumers"])


def _kinds(faults) -> tuple[str, ...]:
    if isinstance(faults, str):
        faults = (faults,)
    for k in faults:
        if not isinstance(k, str) or _space.kind_name(k) is None:
            raise ConfigError(f"unknown fault kind {k!r}; one of: {', '.join(_space.KINDS)} "
                              f"(or the model's {', '.join(_space.KINDS.values())})")
    # the model's words (lose_response) are accepted; the result names the sweep's kinds
    kinds = tuple(dict.fromkeys(_space.kind_name(k) for k in faults))
    if not kinds:
        raise ConfigError("give at least one fault kind")
    return kinds


def _depth(depth) -> int:
    if isinstance(depth, bool) or not isinstance(depth, int) or not 1 <= depth <= 2:
        raise ConfigError(f"Invalid value {depth!r} for depth: 1 (single faults) or 2 (pairs)")
    return depth


# -- the result ----------------------------------------------------------------------------
@dataclass
class SweepResult:
    scenario: str
    depth: int
    kinds: tuple[str, ...]
    seed: int
    exhaustive: bool
    table: list[dict]  # rows: faults, label, lost, duplicates, log_duplicates, drained
    counterexamples: dict[str, list | None]
    space: dict[int, int]  # depth -> size of the fault space at that depth
    notes: list[str] = field(default_factory=list)  # deterministic: part of the JSON
    run_notes: list[str] = field(default_factory=list)  # about this machine: text only
    seconds: float = 0.0
    processes: int = 1
    errors: list[dict] = field(default_factory=list)  # runs that did not finish

    @property
    def runs(self) -> int:
        return len(self.table) + len(self.errors)

    def rows(self, depth: int | None = None, kind: str | None = None) -> list[dict]:
        """Table rows, optionally only schedules of ``depth`` faults / of one fault kind."""
        out = []
        for row in self.table:
            if depth is not None and len(row["faults"]) != depth:
                continue
            if kind is not None and not all(_space.kind_of(f) == kind for f in row["faults"]):
                continue
            out.append(row)
        return out

    def by_point(self) -> dict[str, dict]:
        """Single-fault rows grouped by crash point (or by fault kind for other faults):
        {group: {runs, lost_runs, dup_runs, log_dup_runs, lost, duplicates, log_duplicates}}."""
        groups: dict[str, dict] = {}
        for row in self.rows(depth=1):
            f = row["faults"][0]
            key = f["point"] if f["type"] == "consumer_crash" else \
                _space.KIND_LABELS[_space.kind_of(f)]
            g = groups.setdefault(key, {"runs": 0, "lost_runs": 0, "dup_runs": 0,
                                        "log_dup_runs": 0, "lost": 0, "duplicates": 0,
                                        "log_duplicates": 0})
            g["runs"] += 1
            g["lost_runs"] += row["lost"] > 0
            g["dup_runs"] += row["duplicates"] > 0
            g["log_dup_runs"] += row["log_duplicates"] > 0
            for k in ("lost", "duplicates", "log_duplicates"):
                g[k] += row[k]
        return groups

    def to_json_dict(self) -> dict:
        return {"scenario": self.scenario, "depth": self.depth, "runs": self.runs,
                "exhaustive": self.exhaustive, "faults": list(self.kinds), "seed": self.seed,
                "space": {str(k): v for k, v in self.space.items()},
                "counterexamples": {p: copy.deepcopy(s) for p, s in
                                    self.counterexamples.items()},
                "notes": list(self.notes), "errors": copy.deepcopy(self.errors),
                "table": copy.deepcopy(self.table)}

    def format_text(self) -> str:
        how = "exhaustive" if self.exhaustive else "SAMPLED (the space exceeds the budget)"
        lines = [f"sweep {self.scenario}: depth {self.depth}, {self.runs} runs, {how}; "
                 f"{self.seconds:.2f} s on {self.processes} process"
                 f"{'es' if self.processes > 1 else ''}",
                 "faults: " + ", ".join(_space.KIND_LABELS[k] for k in self.kinds)]
        lines += [f"note: {n}" for n in self.notes + self.run_notes]
        lines.append("")
        head = f"{'placement':<28}{'runs':>6}{'lost':>7}{'dup':>7}{'log-dup':>9}"
        lines += [head, "(runs in which messages were lost / duplicated / written twice)"]

        def line(name, rows):
            lines.append(f"{name:<28}{len(rows):>6}{sum(r['lost'] > 0 for r in rows):>7}"
                         f"{sum(r['duplicates'] > 0 for r in rows):>7}"
                         f"{sum(r['log_duplicates'] > 0 for r in rows):>9}")

        line("no fault", self.rows(depth=0))
        for group, g in self.by_point().items():
            name = f"crash {group}" if group in _space.CRASH_POINTS else group
            lines.append(f"{name:<28}{g['runs']:>6}{g['lost_runs']:>7}{g['dup_runs']:>7}"
                         f"{g['log_dup_runs']:>9}")
        if self.depth >= 2:
            line("pairs of faults", self.rows(depth=2))
        for err in self.errors:
            lines.append(f"DID NOT FINISH: {err['label']}: {err['error']}")
        lines += ["", "smallest schedule breaking each property:"]
        for prop, plan in self.counterexamples.items():
            if plan is None:
                lines.append("  " + none_text(prop, self.depth))
            else:
                lines.append(f"  {prop}: {_space.plan_label(plan)} (depth {len(plan)})")
        return "\n".join(lines)


# -- the search ------------------------------------------------------------------------------
class _Search:
    def __init__(self, tgt: Target, kinds, seed, budget, processes, progress, depth):
        if isinstance(budget, bool) or not isinstance(budget, int) or budget < 1:
            raise ConfigError(f"Invalid value {budget!r} for budget: a whole number ≥ 1")
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise ConfigError(f"Invalid value {seed!r} for seed: Expected a whole number ≥ 0")
        self.t, self.kinds, self.seed, self.budget, self.depth = tgt, kinds, seed, budget, depth
        self.notes: list[str] = []
        self.run_notes: list[str] = []
        self.exec = Executor(processes, progress, self.run_notes)
        self.exhaustive = True
        self.space: dict[int, int] = {}
        self.rows: list[dict] = []
        self.errors: list[dict] = []  # runs that did not finish: {faults, label, error}
        self.background: list[dict] = []  # faults every run has (not swept, not in labels)

    def _task(self, plan, want_space=False):
        return (self.t.config, [*self.background, *plan], self.seed, want_space, self.kinds)

    def _run(self, plans, want_space=False) -> list[dict]:
        rows = self.exec.map([self._task(p, want_space) for p in plans])
        ok = []
        for plan, row in zip(plans, rows, strict=True):
            row["faults"] = plan
            row["label"] = _space.plan_label(plan)
            (self.errors if "error" in row else ok).append(row)
        self.rows.extend(ok)
        return ok

    def _sample(self, plans, k, what):
        if len(plans) <= k:
            return plans
        self.exhaustive = False
        self.notes.append(f"{what}: {len(plans)} placements exceed the budget; ran a random "
                          f"sample of {k} (seed {self.seed})")
        chosen = random.Random(self.seed).sample(range(len(plans)), k)
        return [plans[i] for i in sorted(chosen)]

    def baseline(self) -> dict:
        self.exec.total = 1 + min(self.budget, 1000)
        rows = self._run([[]], want_space=True)
        if not rows:
            raise ConfigError(f"the fault-free run did not finish: {self.errors[0]['error']}")
        return rows[0]

    def level1(self, base) -> list[dict]:
        plans = [[f] for f in base["space"]]
        self.space[1] = len(plans)
        plans = self._sample(plans, max(self.budget - 1, 0), "depth 1")
        self.exec.total = 1 + len(plans) + (1 if self.depth > 1 else 0)
        return self._run(plans, want_space=self.depth > 1)

    def pairs(self, rows1) -> list[list[dict]]:
        seen: dict[str, list[dict]] = {}
        for row in rows1:
            (f1,) = row["faults"]
            for f2 in row.get("space", ()):
                if f2 == f1:
                    continue
                plan = sorted([f1, f2], key=_space.order)
                seen.setdefault(_space.plan_key(plan), plan)
        plans = sorted(seen.values(), key=_space.plan_order)
        self.space[2] = len(plans)
        if SECOND_FAULT_NOTE not in self.notes:
            self.notes.append(SECOND_FAULT_NOTE)
        return plans

    def level2(self, rows1, stop=None) -> list[dict]:
        if not self.exhaustive:  # depth 1 was sampled already: the budget is spent
            self.notes.append("depth 2 skipped: depth 1 alone exceeds the budget")
            return []
        plans = self.pairs(rows1)
        left = self.budget - len(self.rows) - len(self.errors)
        if left <= 0 and plans:
            self.exhaustive = False
            self.notes.append(f"depth 2: {len(plans)} pairs, no budget left; none run")
            return []
        plans = self._sample(plans, left, "depth 2")
        self.exec.total = len(self.rows) + len(self.errors) + len(plans)
        if stop is None:
            return self._run(plans)
        out = []
        for i in range(0, len(plans), 256):  # in canonical order: stop at the first failure
            chunk = self._run(plans[i:i + 256])
            out.extend(chunk)
            if any(not holds(stop, r) for r in chunk):
                break
        return out

    def finish(self):
        self.exec.finish()
        self.exec.close()
        for row in self.rows:
            row.pop("space", None)


def _first_failing(rows, prop) -> list | None:
    bad = [r["faults"] for r in rows if not holds(prop, r)]
    return min(bad, key=_space.plan_order) if bad else None


def sweep(scenario_or_config, depth: int = 1, faults=DEFAULT_KINDS, overrides=None,
          budget: int = 5000, seed: int = 0, processes: int | None = None,
          progress=None, background: list[dict] | None = None) -> SweepResult:
    """Run every placement of single faults (``depth=1``) and pairs (``depth=2``).

    ``faults``: kinds among ``crash`` (every consumer crash point), ``lost_ack`` (the
    response to each produce request), ``lost_request``, ``producer_restart``,
    ``broker_crash`` (with replication: the leader's process crashes right after each append,
    back 5 s later), ``machine_failure`` (the same places, the leader's machine: its unflushed
    log tail is lost), ``member_join`` / ``member_leave`` / ``member_restart`` (the group scales
    out, scales in, a member restarts: at four moments of the run, see
    ``kafkalab.sweep._space``). The
    scenario's own fault plan is replaced (random faults included). Over ``budget`` runs,
    a seeded random sample is run and ``exhaustive`` is False.
    ``processes``: None = a pool when it pays, 1 = serial, n = n workers.
    ``progress(done, total)`` is called as runs finish.
    ``background``: fault dicts every run has besides the swept one (the fault-free run too),
    e.g. followers cut off so that the ISR shrinks to the leader; they are not swept and not
    in the rows' ``faults`` or labels (a note names them)."""
    depth = _depth(depth)
    s = _Search(target(scenario_or_config, overrides), _kinds(faults), seed, budget,
                processes, progress, depth)
    s.background = [dict(f) for f in background or ()]
    start = time.perf_counter()
    try:
        base = s.baseline()
        rows1 = s.level1(base)
        if depth >= 2:
            s.level2(rows1)
    finally:
        s.finish()
    table = sorted(s.rows, key=lambda r: _space.plan_order(r["faults"]))
    cex = {p: _first_failing(table, p) for p in PROPERTIES}
    own = scenarios.get(scenario_or_config).faults if isinstance(scenario_or_config, str) \
        else getattr(scenario_or_config, "faults", None)
    if own:
        s.notes.insert(0, "the scenario's own fault plan is replaced by the swept faults")
    if s.background:
        s.notes.append("every run also has: " + ", ".join(describe(f) for f in s.background))
    if s.errors:
        s.notes.append(f"{len(s.errors)} run(s) did not finish and are left out of the table "
                       "(see errors): a model bug to report")
    errors = sorted(s.errors, key=lambda r: _space.plan_order(r["faults"]))
    return SweepResult(s.t.label, depth, s.kinds, seed, s.exhaustive, table, cex, s.space,
                       s.notes, s.run_notes, time.perf_counter() - start,
                       s.exec.processes_used, errors)


def shortest_counterexample(scenario_or_config, property: str, depth: int = 2,
                            faults=DEFAULT_KINDS, overrides=None, budget: int = 5000,
                            seed: int = 0, processes: int | None = None,
                            progress=None) -> dict | None:
    """The smallest fault schedule that breaks ``property`` (one of PROPERTIES), or None
    ("none up to depth k"). Depth 1 is searched completely before depth 2, and the result
    is checked (and if need be shrunk) so that removing any one fault makes the property
    hold. Returns {property, schedule, label, described, outcome, messages, explanation,
    minimal, depth, runs, exhaustive}; the explanation is ``explain()`` of the hurt
    messages in a re-run of that schedule with snapshots."""
    prop = _check_property(property)
    depth = _depth(depth)
    tgt = target(scenario_or_config, overrides)
    s = _Search(tgt, _kinds(faults), seed, budget, processes, progress, depth)
    found = None
    try:
        base = s.baseline()
        if not holds(prop, base):
            found = []
        else:
            rows1 = s.level1(base)
            found = _first_failing(rows1, prop)
            if found is None and depth >= 2:
                found = _first_failing(s.level2(rows1, stop=prop), prop)
        if found is not None:
            found, shrunk = _shrink(s, found, prop)
    finally:
        s.finish()
    if found is None:
        return None
    return _explain(tgt, prop, found, shrunk, seed, s)


def _shrink(s: _Search, plan: list, prop: str) -> tuple[list, bool]:
    """Remove faults while the property still fails (so that removing any one fault of the
    result makes the property hold); returns (plan, whether anything was removed)."""
    shrunk = False
    while plan:
        subsets = [plan[:i] + plan[i + 1:] for i in range(len(plan))]
        failing = [r["faults"] for r in s._run(subsets) if not holds(prop, r)]
        if not failing:
            break
        shrunk, plan = True, failing[0]
    return plan, shrunk


def _explain(tgt: Target, prop: str, plan: list, shrunk: bool, seed: int, s: _Search) -> dict:
    result = simulate(tgt.config, copy.deepcopy(plan), seed, snapshots=True,
                      scenario=tgt.label if tgt.label != "custom config" else None)
    o = result.outcome
    types = {t for k in PROPERTIES[prop] for t in _ANOMALIES[k]}
    hurt = list(dict.fromkeys(a["message"] for a in result.anomalies
                              if a["type"] in types and "message" in a))
    shown = hurt[:3]
    text = "\n".join(f"- {result.explain(m)}" for m in shown)
    if len(hurt) > len(shown):
        text += f"\n- … and {len(hurt) - len(shown)} more message(s)"
    return {"property": prop, "scenario": tgt.label, "depth": len(plan), "schedule": plan,
            "label": _space.plan_label(plan), "described": [describe(f) for f in plan],
            "outcome": {k: o[k] for k in ("lost", "duplicates", "log_duplicates")},
            "messages": hurt, "explanation": text, "minimal": True, "shrunk": shrunk,
            "runs": len(s.rows), "exhaustive": s.exhaustive}


def find_counterexample(config, property: str, depth: int = 1,
                        budget: int = 2000, faults=DEFAULT_KINDS, seed: int = 0) -> dict | None:
    """For exercise checks: the smallest fault schedule breaking ``property`` for a
    learner's ``config`` (a dict of Kafka settings, or a preset name), as a dict with
    ``schedule`` and ``explanation`` — or None when there is none up to ``depth``."""
    return shortest_counterexample(config, property, depth=depth, faults=faults,
                                   budget=budget, seed=seed, processes=1)
