"""The Lab's two tools: "try every crash point" (a depth-1 crash sweep of the Lab's current
config) and "run with a real client" (the comparable crosscheck workload).

``LabTools`` (mixed into ``Lab``) builds the tools panel (``tool_panel``: a row per tool;
more rows can be appended) and runs the tools; the functions below it are pure: budgets, the
scenario → real workload map, and the HTML the Lab shows.
"""

from __future__ import annotations

import copy
import functools
import html
import time
from typing import Any

import ipywidgets as widgets

from .. import model as _model
from ..model.config import ConfigError
from ..model.faults import describe as describe_fault
from ..palette import (
    AGREE,
    ALERT_BACKGROUND,
    DARK,
    DISAGREE,
    DUPLICATE,
    GREEN,
    HEADER,
    LOST,
    MUTED,
    PURPLE,
    VERMILLION,
    WARNING,
    ZERO,
)
from ..sweep import plan_label
from .settings import LabInputError

# A sweep in the Lab should answer in a second or two: the number of runs is capped so that
# runs × (time of one run) stays near SWEEP_TARGET_S. A run in the sweep has no snapshots, so
# it takes about 0.7 of the Lab's own last run; measured on 2 cores (Python 3.11): a 10-message
# preset sweeps all of its 20–40 crash points in 0.01–0.05 s, a 200-message per-record-commit
# config runs 300 placements in 2.3 s.
SWEEP_TARGET_S = 1.5
SWEEP_MIN_BUDGET = 40
SWEEP_MAX_BUDGET = 2000
SWEEP_PROPERTIES = ("no_loss", "no_duplicates")
_PROPERTY_WORDS = {"no_loss": "no loss", "no_duplicates": "no duplicates"}


class LabTools:
    """The tools panel of the Lab (``Lab`` inherits it): the sweep and the real client.
    Needs from the Lab: ``_recover()``, ``_assemble()``, ``_set_error()``, ``show_result()``,
    ``select_message()``, ``fault_note``, ``_preset``, ``_explicit``, ``last_run_ms``."""

    def _build_tools(self) -> None:
        self.sweep_button = widgets.Button(
            description="try every crash point", icon="bolt",
            tooltip="run the current settings once per possible consumer crash (depth 1) and "
                    "find the shortest counterexample for no loss / no duplicates",
            layout=widgets.Layout(width="220px"))
        self.sweep_progress = widgets.IntProgress(
            value=0, min=0, max=1, description="", bar_style="info",
            layout=widgets.Layout(width="260px", visibility="hidden"))
        self.sweep_output = widgets.HTML()
        self.sweep_output.add_class("kafkalab-sweep")
        self.counterexample_buttons = {
            prop: widgets.Button(description=f"show the {prop} counterexample",
                                 layout=widgets.Layout(width="330px", display="none"))
            for prop in SWEEP_PROPERTIES}
        for prop, button in self.counterexample_buttons.items():
            button.on_click(lambda _b, p=prop: self.show_counterexample(p))
        self.real_button = widgets.Button(
            description="run with a real client", icon="plug",
            layout=widgets.Layout(width="220px"))
        self.real_note = widgets.HTML()
        self.real_note.add_class("kafkalab-real-note")
        self.real_output = widgets.HTML()
        self.real_output.add_class("kafkalab-real")
        self.sweep_button.on_click(lambda _b: self.sweep_crash_points())
        self.real_button.on_click(lambda _b: self.run_real())
        self.sweep_result = None
        self.counterexamples: dict[str, dict | None] = {}
        self.real_report: dict | None = None
        self._sweep_config: tuple | None = None
        self.tool_panel = widgets.VBox([
            widgets.HBox([self.sweep_button, self.sweep_progress]),
            self.sweep_output,
            widgets.HBox(list(self.counterexample_buttons.values())),
            widgets.HBox([self.real_button, self.real_note]),
            self.real_output,
        ], layout=widgets.Layout(margin="6px 0"))

    def sweep_crash_points(self, budget: int | None = None):
        """Run every single consumer crash placement (depth 1) for the current settings; show
        a table per crash point and the shortest counterexample for no_loss / no_duplicates.
        Returns the SweepResult (None when the settings cannot run). The displayed run is not
        changed; ``show_counterexample(prop)`` loads a counterexample into the Lab.
        ``budget`` caps the runs (default: what fits in about SWEEP_TARGET_S seconds)."""
        from ..sweep import sweep

        self._recover()
        try:
            config, faults, seed = self._assemble()
        except (ConfigError, LabInputError) as exc:
            self.sweep_output.value = message_html(
                f"Cannot try the crash points: {exc}")
            return None
        budget = budget or sweep_budget(self.last_run_ms)
        bar = self.sweep_progress
        bar.value, bar.max, bar.bar_style = 0, 1, "info"
        bar.layout.visibility = "visible"
        self.sweep_button.disabled = True
        self.sweep_output.value = "<i>trying every crash point…</i>"
        for button in self.counterexample_buttons.values():
            button.layout.display = "none"
        last = [0.0]

        def progress(done, total):
            now = time.perf_counter()
            if done >= total or now - last[0] > 0.05:  # at most ~20 front-end updates a second
                last[0] = now
                bar.max = max(total, 1)
                bar.value = min(done, bar.max)

        try:
            sw = sweep(config, depth=1, faults=("crash",), budget=budget, seed=seed,
                       processes=1, progress=progress)
            cex = {}
            for prop in SWEEP_PROPERTIES:
                plan = sw.counterexamples.get(prop)
                cex[prop] = None if plan is None else self._counterexample(config, plan, seed,
                                                                           prop)
        except Exception as exc:  # never raise into the notebook
            self.sweep_output.value = message_html(
                f"The sweep could not run these settings ({type(exc).__name__}: {exc}).")
            bar.bar_style = "danger"
            return None
        finally:
            self.sweep_button.disabled = False
        bar.bar_style = "success"
        self.sweep_result = sw
        self.counterexamples = cex
        self._sweep_config = (config, seed)
        dropped = [describe_fault(f) for f in faults]
        self.sweep_output.value = sweep_html(sw, budget, cex, dropped)
        for prop, button in self.counterexample_buttons.items():
            button.layout.display = "" if cex.get(prop) else "none"
        return sw

    def _counterexample(self, config: dict, plan: list, seed: int, prop: str) -> dict:
        result = _model.simulate(copy.deepcopy(config), copy.deepcopy(plan), seed,
                                 scenario=self._preset.name)
        hurt = hurt_messages(result, prop)
        shown = hurt[:3]
        text = "\n".join(f"- {result.explain(m)}" for m in shown)
        if len(hurt) > len(shown):
            text += f"\n- … and {len(hurt) - len(shown)} more message(s)"
        return {"property": prop, "schedule": plan, "label": plan_label(plan),
                "outcome": {k: result.outcome[k] for k in ("lost", "duplicates",
                                                            "log_duplicates")},
                "messages": hurt, "explanation": text, "result": result}

    def show_counterexample(self, prop: str = "no_loss") -> bool:
        """Show the last sweep's shortest counterexample for ``prop`` in the Lab (its run, with
        the first hurt message explained). False when there is none."""
        cx = self.counterexamples.get(prop)
        if not cx:
            self._set_error(f"no {prop} counterexample: press “try every crash point” first, "
                            "or no single crash breaks it")
            return False
        self.show_result(cx["result"])
        self.fault_note.value = (
            f"<i>Showing the shortest <b>{html.escape(prop)}</b> counterexample from the sweep: "
            f"{html.escape(cx['label'])} (this fault is not in the controls; change any control "
            "to go back to your settings).</i>")
        if cx["messages"]:
            self.select_message(cx["messages"][0])
        return True

    def _update_real_button(self) -> None:
        name, why = real_target(self._preset.name)
        if name is not None:
            missing = real_client_missing()
            if missing:
                name, why = None, missing
        self.real_button.disabled = name is None
        self.real_button.tooltip = why
        colour = MUTED if name else WARNING
        self.real_note.value = f"<span style='color:{colour}'>{html.escape(why)}</span>"

    def run_real(self) -> dict | None:
        """Run the comparable real-client workload for the current scenario (librdkafka on its
        in-process mock cluster, loopback only) beside its simulation; show both ledgers and
        whether they agree. Returns the report dict, or None (with the reason shown) when the
        scenario is not comparable or the real client cannot run here."""
        from .. import crosscheck, real

        self._recover()
        name, why = real_target(self._preset.name)
        missing = real_client_missing() if name is not None else None
        if name is None or missing:
            self.real_output.value = message_html(missing or why, WARNING)
            return None
        self.real_button.disabled = True
        self.real_output.value = "<i>running the real client (a few seconds)…</i>"
        try:
            real.require_confluent_kafka()
            unavailable = crosscheck.unavailable_here(name)
            if unavailable:
                self.real_output.value = message_html(unavailable, WARNING)
                return None
            row = crosscheck.compare_workload(name, details=True)  # the crosscheck's own path
        except real.RealExtraMissing as exc:
            self.real_output.value = message_html(str(exc))
            return None
        except Exception as exc:  # a failed real run must not take the notebook down
            self.real_output.value = message_html(
                f"the real run failed ({type(exc).__name__}: {' '.join(str(exc).split())})")
            return None
        finally:
            self.real_button.disabled = False
        caveats = list(row["real_not_comparable"])
        if row["known_divergence"]:
            caveats.append(f"a known divergence of the model: {row['known_divergence']}")
        if self._explicit - set(self._preset.config):
            caveats.append("the real run is the registered workload, not your edited settings")
        report = {"workload": name, "title": row["title"], "simulated": row["simulated"],
                  "real": row["real"], "agree": row["agree"], "compared": row["compared"],
                  "differences": row["differences"],
                  "first_difference": row["first_difference"],
                  "simulated_ledger": row["simulated_ledger"], "real_ledger": row["real_ledger"],
                  "real_elapsed_s": row["real_elapsed_s"], "caveats": caveats}
        self.real_report = report
        self.real_output.value = real_html(report)
        return report


def sweep_budget(last_run_ms: float | None) -> int:
    """Runs the Lab's sweep may make, from the Lab's last run time (ms, with snapshots)."""
    per_run_ms = max((last_run_ms or 5.0) * 0.7, 0.5)
    return int(max(SWEEP_MIN_BUDGET, min(SWEEP_MAX_BUDGET, SWEEP_TARGET_S * 1000 / per_run_ms)))


def hurt_messages(result, prop: str) -> list[int]:
    """Message ids that break ``prop`` in a run (lost ones for no_loss, duplicated ones for
    no_duplicates), in order of first appearance."""
    kinds = {"no_loss": ("lost",), "no_duplicates": ("duplicate",)}[prop]
    return list(dict.fromkeys(a["message"] for a in result.anomalies
                              if a["type"] in kinds and "message" in a))


def sweep_html(sw, budget: int, counterexamples: dict[str, dict | None],
               dropped_faults: list[str]) -> str:
    """The sweep's result: one row per crash point, then each property's counterexample."""
    rows = []
    base = sw.rows(depth=0)
    if base:
        b = base[0]
        rows.append(("no crash", 1, int(b["lost"] > 0), int(b["duplicates"] > 0), b["lost"],
                     b["duplicates"]))
    for point, g in sw.by_point().items():
        rows.append((f"crash {point.replace('_', ' ')}", g["runs"], g["lost_runs"],
                     g["dup_runs"], g["lost"], g["duplicates"]))
    head = (f"<tr style='background:{HEADER}'><th style='text-align:left;padding:2px 8px'>"
            "crash point</th>" + "".join(f"<th style='padding:2px 8px'>{h}</th>" for h in (
                "runs", "runs that lost", "runs with duplicates", "lost messages",
                "duplicate messages")) + "</tr>")
    body = []
    for name, runs, lost_runs, dup_runs, lost, dups in rows:
        def cell(value, colour):
            style = f"color:{colour};font-weight:bold" if value else f"color:{ZERO}"
            return f"<td style='text-align:right;padding:2px 8px;{style}'>{value}</td>"
        body.append(f"<tr><td style='padding:2px 8px'>{html.escape(name)}</td>"
                    f"<td style='text-align:right;padding:2px 8px'>{runs}</td>"
                    + cell(lost_runs, LOST) + cell(dup_runs, DUPLICATE)
                    + cell(lost, LOST) + cell(dups, DUPLICATE) + "</tr>")
    how = "every placement" if sw.exhaustive else (
        f"a random sample of {sw.runs - 1} of the {sw.space.get(1, 0)} placements (the Lab caps "
        f"a sweep at {budget} runs to answer in a second or two; use kafkalab.sweep.sweep() "
        "for all of them)")
    lines = [f"<div class='kafkalab-sweep-summary'><b>Tried every crash point:</b> "
             f"{sw.runs} runs ({how}) in {sw.seconds:.2f} s.</div>"]
    if dropped_faults:
        lines.append(f"<div style='color:{MUTED}'><i>The sweep replaces the Lab's own fault plan "
                     f"({html.escape('; '.join(dropped_faults))}) by one crash per run.</i></div>")
    lines.append("<table class='kafkalab-sweep-table' style='border-collapse:collapse;"
                 "margin:4px 0'>" + head + "".join(body) + "</table>")
    for prop in SWEEP_PROPERTIES:
        cx = counterexamples.get(prop)
        words = _PROPERTY_WORDS[prop]
        if cx is None:
            lines.append(f"<div>✓ <b>{words}</b>: no single crash breaks it"
                         + ("" if sw.exhaustive else " (in the sample)") + ".</div>")
            continue
        story = "<br>".join(html.escape(line) for line in cx["explanation"].splitlines())
        lines.append(f"<div style='margin-top:4px'>✗ <b>{words}</b>: shortest counterexample "
                     f"<code>{html.escape(cx['label'])}</code> (lost {cx['outcome']['lost']}, "
                     f"duplicates {cx['outcome']['duplicates']})<br>"
                     f"<span style='color:{DARK}'>{story}</span></div>")
    for err in sw.errors:
        lines.append(f"<div style='color:{VERMILLION}'>did not finish: {html.escape(err['label'])}: "
                     f"{html.escape(err['error'])}</div>")
    return f"<div style='border-left:4px solid {GREEN};padding:4px 10px'>" + "".join(lines) \
        + "</div>"


# -- run with a real client ----------------------------------------------------------------

#: Lab scenario → the registered real workload that runs the same story with librdkafka.
REAL_WORKLOAD = {
    "at-most-once-auto-commit": "auto-commit-librdkafka-loses",
    "auto-commit-java-crash/librdkafka": "auto-commit-librdkafka-loses",
    "at-most-once-auto-commit/java-close-on-error": "auto-commit-close-on-error-loses",
    "at-most-once-commit-first": "commit-before-processing-loses",
    "at-least-once-manual-commit": "commit-after-processing-redelivers",
    "idempotent-producer-lost-ack/idempotence-off": "non-idempotent-producer-duplicates",
}
#: Lab scenario (or its base name) → the kafkalab.real.NOT_COMPARABLE gap it runs into.
REAL_GAP = {
    "idempotent-producer-lost-ack": "idempotent-producer-dedup",
    "transactional-fencing": "zombie-fencing",
    "exactly-once-pipeline": "exactly-once-consume-transform-produce",
    "read-committed-vs-uncommitted": "read-committed-lso",
}
_OTHER_REASONS = {
    "java": "not comparable: the real client is librdkafka (confluent-kafka); the Java "
            "consumer's commit inside poll() is not what it runs",
    "commit-cost": "not comparable: throughput depends on this machine and the mock cluster "
                   "has no commit latency; there is no delivery outcome to compare",
    "producer-restart-new-pid": "not comparable: no real workload restarts the producer "
                                "application (the mock cluster has no producer-restart fault)",
    "per-batch": "not comparable: no real workload crashes between a batch and its commit yet",
    "java-skip-on-error": "not comparable: the real client is librdkafka; this variant is the "
                          "Java consumer catching the error",
}


def real_target(scenario: str) -> tuple[str | None, str]:
    """(workload name, what runs) or (None, why not comparable) for a Lab scenario."""
    from .. import real

    if scenario in REAL_WORKLOAD:
        name = REAL_WORKLOAD[scenario]
        return name, f"runs the real workload “{name}”: {real.WORKLOADS[name]['title']}"
    base, _, variant = scenario.partition("/")
    gap = REAL_GAP.get(scenario) or REAL_GAP.get(base)
    if gap is not None:
        return None, real.not_comparable_reason(gap) or "not comparable"
    for key in (scenario, variant, base):
        if key in _OTHER_REASONS:
            return None, _OTHER_REASONS[key]
    if "java" in scenario:
        return None, _OTHER_REASONS["java"]
    return None, "not comparable: no real-client workload runs this scenario"


@functools.cache  # importing confluent_kafka once per kernel is enough
def real_client_missing() -> str | None:
    """Why the real client cannot run in this kernel, or None when it can."""
    from ..real import unavailable_reason

    return unavailable_reason()


def real_html(report: dict[str, Any]) -> str:
    """Simulated and real ledgers side by side, the compared outcome and the agree line."""
    sim, rl = report["simulated_ledger"], report["real_ledger"]
    n = max(len(sim), len(rl))
    rows = []
    for i in range(n):
        s = sim[i] if i < len(sim) else {}
        r = rl[i] if i < len(rl) else {}
        differ = s.get("processed") != r.get("processed")
        style = f"background:{ALERT_BACKGROUND}" if differ else ""
        rows.append(f"<tr style='{style}'><td style='padding:1px 8px'>{i}</td>"
                    f"<td style='text-align:right;padding:1px 8px'>{s.get('processed', '—')}</td>"
                    f"<td style='text-align:right;padding:1px 8px'>{r.get('processed', '—')}</td>"
                    f"<td style='padding:1px 8px'>{s.get('offsets', '—')}</td>"
                    f"<td style='padding:1px 8px'>{r.get('offsets', '—')}</td></tr>")
    table = ("<table class='kafkalab-real-table' style='border-collapse:collapse;margin:4px 0'>"
             f"<tr style='background:{HEADER}'><th>message</th><th>processed (simulated)</th>"
             "<th>processed (real)</th><th>offsets (simulated)</th><th>offsets (real)</th></tr>"
             + "".join(rows) + "</table>")
    keys = report["compared"]
    outcome = "".join(
        f"<tr><td style='padding:1px 8px'>{html.escape(k)}</td>"
        f"<td style='text-align:right;padding:1px 8px'>{report['simulated'].get(k)}</td>"
        f"<td style='text-align:right;padding:1px 8px'>{report['real'].get(k)}</td></tr>"
        for k in keys)
    outcome = ("<table style='border-collapse:collapse;margin:4px 0'><tr style='background:"
               f"{HEADER}'><th>compared</th><th>simulated</th><th>real</th></tr>" + outcome
               + "</table>")
    if report["agree"]:
        verdict = (f"<div class='kafkalab-real-verdict' style='color:{AGREE}'><b>✓ agree:</b> "
                   f"the simulation and the real client agree on {', '.join(keys)}.</div>")
    else:
        verdict = (f"<div class='kafkalab-real-verdict' style='color:{DISAGREE}'><b>✗ disagree</b> "
                   f"on {html.escape(', '.join(report['differences']))}.</div>")
    caveats = "".join(f"<div style='color:{MUTED}'><i>{html.escape(c)}</i></div>"
                      for c in report.get("caveats", []))
    return (f"<div style='border-left:4px solid {PURPLE};padding:4px 10px'>"
            f"<b>Real client:</b> workload <code>{html.escape(report['workload'])}</code> — "
            f"{html.escape(report['title'])} (real run {report['real_elapsed_s']:.1f} s on "
            "librdkafka's in-process mock cluster, 127.0.0.1)" + verdict + caveats
            + "<div style='display:flex;gap:24px;align-items:flex-start'>" + table + outcome
            + "</div></div>")


def message_html(text: str, colour: str = VERMILLION) -> str:
    return (f"<div style='border-left:4px solid {colour};padding:4px 10px'>"
            f"{html.escape(text)}</div>")
