"""The Lab: pick a scenario, change Kafka settings and faults, watch what happens.

``Lab`` is an ipywidgets ``VBox``. Changing a control re-runs the model once; stepping (Play,
◀ ▶, the slider, ``lab.step = k``) only replays the recorded ``result.events`` /
``result.snapshots`` and never re-simulates. Errors (a setting Kafka would refuse, a value the
Lab cannot run) are shown in the dashboard and the last good run stays on screen.

Programmatic contract: ``lab.controls`` (name → widget), ``lab.figures`` (name →
``go.FigureWidget``: "timeline", "ledger", "log", "topology"), ``lab.result``, ``lab.outcome``,
``lab.step``, ``lab.error``, ``lab.explanation``, ``lab.select_message(id)``, ``lab.set(name,
value)`` (like setting ``.value``; a string is read as if typed into the box), ``lab.load(name)``,
``lab.show_result(result)`` (display any RunResult, e.g. one found by a sweep),
``lab.sweep_crash_points()`` (the "try every crash point" button: one run per crash point, a table
of what each did), ``lab.show_counterexample(prop)`` (load the shortest run that breaks ``prop``)
and ``lab.run_real()`` (the "run with a real client" button: the same workload through
confluent-kafka's mock cluster, both ledgers side by side).

Number boxes are ``number_box.IntBox``/``FloatBox``: text that is not a number is named in the
dashboard and stays in the box, marked, instead of silently reverting.
"""

from __future__ import annotations

import copy
import gc
import html
import time
from typing import Any

import ipywidgets as widgets
import plotly.graph_objects as go
import traitlets

from .. import model as _model
from .. import scenarios
from ..model.config import COMMIT_STRATEGIES, ERROR_ACTIONS, ConfigError, resolve
from ..model.faults import describe as describe_fault
from ..viz._common import C, sink_prefix, wrap
from ..viz.ledger import CATEGORIES as LEDGER_CATEGORIES
from ..viz.ledger import columns_for, ledger_hovers, ledger_spec
from ..viz.log import log_spec
from ..viz.timeline import now_line, series, timeline_spec
from ..viz.topology import build_graph, layout_positions, topology_spec
from . import link as _link
from . import tools
from .live_figure import LiveFigure
from .number_box import FloatBox, IntBox, NumberBox
from .settings import inert_controls, inert_notes

DEFAULT_SCENARIO = "at-most-once-auto-commit"
MAX_LAB_MESSAGES = 20_000  # the Lab keeps every snapshot in memory; simulate() allows more
NONE = -1  # "no fault" in the fault-number boxes
TRANSACTIONAL_ID = "kafkalab-app"
HOVER_EXPLAIN_LIMIT = 50  # messages; above, ledger hovers are summaries (click explains)
LAB_CAPTION_CHARS = 62  # caption line in the Lab's narrow figure column
FIGURE_HEIGHT = 420  # px at most: a figure and the controls fit a 1280x720 laptop screen
FIGURE_TABS = (("timeline", "offsets over time"), ("ledger", "message ledger"),
               ("log", "broker log"), ("topology", "topology"))

# Controls that are Kafka (or kafkalab workload) properties, passed to the model as config.
CONFIG_CONTROLS = ("client.model", "enable.auto.commit", "auto.commit.interval.ms",
                   "enable.auto.offset.store", "commit.strategy", "max.poll.records",
                   "on.processing.error", "enable.idempotence", "isolation.level", "acks",
                   "retries", "messages")
FAULT_CONTROLS = ("crash.after.record", "processing.failure.record", "lost.acks",
                  "lost.acks.probability", "crash.probability", "producer.restart.after.message",
                  "producer.restart.zombie")


class LabInputError(ValueError):
    """A value the Lab will not run (worded for the learner)."""


def _scenario_names() -> list[str]:
    names = []
    for name, preset in scenarios.PRESETS.items():
        names.append(name)
        names.extend(f"{name}/{variant}" for variant in preset.variants)
    return names + _link.extra_scenarios(names)  # scenario files (scenarios/ next to the notebook)


LABEL_PX = 170  # control labels; the side column is CONTROL_PX wide
CONTROL_PX = 300


def _style():
    return {"description_width": f"{LABEL_PX}px"}


def _make_controls() -> dict[str, widgets.Widget]:
    lay = widgets.Layout(width=f"{CONTROL_PX}px")
    s = _style()

    def it(name, value, tip):
        return IntBox(value=value, description=name, tooltip=tip, layout=lay,
                      description_width=f"{LABEL_PX}px")

    def ft(name, value, tip):
        return FloatBox(value=value, description=name, tooltip=tip, layout=lay,
                        description_width=f"{LABEL_PX}px")

    def dd(name, options, value):
        return widgets.Dropdown(options=list(options), value=value, description=name, style=s,
                                layout=lay)

    def cb(name, value):
        return widgets.Checkbox(value=value, description=name, indent=False,
                                style={"description_width": "initial"},
                                layout=widgets.Layout(width=f"{CONTROL_PX - 20}px",
                                                      margin="0 0 0 20px"))

    return {
        # consumer
        "client.model": dd("client.model", ("java", "librdkafka"), "java"),
        "enable.auto.commit": cb("enable.auto.commit", True),
        "auto.commit.interval.ms": it("auto.commit.interval.ms", 5000, "minimum gap between "
                                      "auto-commits"),
        "enable.auto.offset.store": cb("enable.auto.offset.store", True),
        "commit.strategy": dd("commit.strategy", COMMIT_STRATEGIES, "auto"),
        "max.poll.records": it("max.poll.records", 500, "records one poll() hands out"),
        "isolation.level": dd("isolation.level", ("read_uncommitted", "read_committed"),
                              "read_uncommitted"),
        "on.processing.error": dd("on.processing.error", ERROR_ACTIONS, "crash"),
        # producer
        "acks": dd("acks", ("0", "1", "all"), "all"),
        "retries": it("retries", 2147483647, "retries of a failed produce request"),
        "enable.idempotence": cb("enable.idempotence", True),
        "transactions": cb("transactions (transactional.id)", False),
        # workload
        "messages": it("messages", 10, f"messages to send (1–{MAX_LAB_MESSAGES:,})"),
        "seed": it("seed", 0, "the random seed (random faults)"),
        # faults
        "crash.after.record": it("crash.after.record", NONE,
                                 "the consumer crashes after processing this message"),
        "processing.failure.record": it("processing.failure.record", NONE,
                                        "processing this message fails once"),
        "lost.acks": it("lost.acks (first N)", 0,
                        "lose the produce response of the first N messages' batches"),
        "lost.acks.probability": ft("lost.acks probability", 0.0,
                                    "each produce response is lost with this probability"),
        "crash.probability": ft("crash probability", 0.0,
                                "the consumer crashes after each record with this probability"),
        "producer.restart.after.message": it("producer.restart.after", NONE,
                                             "the producer application restarts after sending "
                                             "this message"),
        "producer.restart.zombie": cb("old producer lives on (zombie)", False),
    }


class Lab(widgets.VBox):
    """An interactive dashboard over one kafkalab scenario."""

    link = _link.lab_link  # lab.link(): this run at this step, as a kafkalab link
    open_link = _link.open_in  # lab.open_link(s): restore a link's state (bad link: one line)
    from_link = classmethod(_link.from_link)  # Lab.from_link(s): a new Lab at a link's state

    def __init__(self, scenario: str = DEFAULT_SCENARIO, **kwargs: Any):
        super().__init__(**kwargs)
        scenario = _link.scenario_name(scenario)  # a scenario file's path: its name
        self.link_box = _link.LinkBox(self)  # first: its front end loads while the Lab computes
        self.result = None
        self.outcome: dict = {}
        self.error: str | None = None
        self.explanation: str = ""
        self.last_run_ms: float | None = None
        self._step = 0
        self._busy = False  # True while controls are set by the Lab itself
        self._preset = None
        self._explicit: set[str] = set()
        self._other_faults: list[dict] = []
        self._txn_id = TRANSACTIONAL_ID
        self._graph = None
        self._pos = None
        self._series = None
        self._message_cells: dict[int, tuple[float, float]] = {}
        self._simulate_calls = 0
        self._runs = 0  # rerun() attempts, successful or not
        self._redraw_all = True

        self.controls = _make_controls()
        self.scenario_picker = widgets.Dropdown(options=_scenario_names(), description="scenario",
                                                layout=widgets.Layout(width="560px"))
        self.story = widgets.HTML()
        self.error_box = widgets.HTML(layout=widgets.Layout(min_height="0px"))
        self.fault_note = widgets.HTML()
        self.counters = widgets.HTML()
        self.text_panel = widgets.HTML(layout=widgets.Layout(min_height="120px"))
        for widget, css in ((self.error_box, "kafkalab-error"), (self.counters, "kafkalab-counters"),
                            (self.text_panel, "kafkalab-text"), (self.story, "kafkalab-story")):
            widget.add_class(css)  # stable hooks for the browser tests and for styling
        self.play = widgets.Play(min=0, max=1, value=0, interval=350, description="Play")
        self.slider = widgets.IntSlider(min=0, max=1, value=0, description="step",
                                        continuous_update=True,
                                        layout=widgets.Layout(width="520px"))
        widgets.jslink((self.play, "value"), (self.slider, "value"))
        self.back = widgets.Button(description="◀ step back", layout=widgets.Layout(width="110px"))
        self.forward = widgets.Button(description="step ▶", layout=widgets.Layout(width="110px"))
        self.back.on_click(lambda _b: self._nudge(-1))
        self.forward.on_click(lambda _b: self._nudge(+1))
        self.slider.observe(self._on_slider, names="value")

        # autosize: the figures follow the width of their column (the notebook's width)
        self.figures: dict[str, go.FigureWidget] = {
            name: LiveFigure(layout={"autosize": True}) for name, _ in FIGURE_TABS}
        self._sent: dict[str, dict] = {name: {} for name in self.figures}
        self.notes = {name: widgets.HTML(layout=widgets.Layout(width=f"{CONTROL_PX}px"))
                      for name in inert_controls()}
        for note in self.notes.values():
            note.add_class("kafkalab-note")

        for name, widget in self.controls.items():
            widget.observe(self._on_control(name), names="value")
            if isinstance(widget, NumberBox):
                widget.observe(self._on_rejected, names="rejected")
        self.scenario_picker.observe(self._on_scenario, names="value")

        self._build_tools()
        self.children = self._layout()
        _link.attach(self)  # the "copy link" row; it also opens a #kafkalab= link in the page URL
        self._busy = True
        try:
            self.scenario_picker.value = scenario if scenario in self.scenario_picker.options \
                else self.scenario_picker.options[0]
        finally:
            self._busy = False
        if not self.load(scenario) and self.result is None:
            message = self.error
            self.load(DEFAULT_SCENARIO)  # show something runnable, and say why
            self._set_error(message)

    def _layout(self) -> list[widgets.Widget]:
        """A laptop screen (1280x720, JupyterLab's side panel open) shows the control being
        changed and the figure it changes together: the controls in a side column of
        collapsible groups, the figures in tabs (offsets first), the counters and step controls
        above the figures."""
        c = self.controls

        def group(names):
            items = []
            for n in names:
                items.append(c[n])
                if n in self.notes:
                    items.append(self.notes[n])
            return widgets.VBox(items, layout=widgets.Layout(width=f"{CONTROL_PX + 16}px"))

        self.settings_panel = widgets.Accordion(children=[
            group(("client.model", "enable.auto.commit", "auto.commit.interval.ms",
                   "enable.auto.offset.store", "commit.strategy", "max.poll.records",
                   "isolation.level", "on.processing.error")),
            group(("acks", "retries", "enable.idempotence", "transactions", "messages", "seed")),
            widgets.VBox([widgets.HTML("<span style='font-size:12px;color:#555'>a message id, "
                                       "or −1 for none</span>"), group(FAULT_CONTROLS)]),
        ], titles=("Consumer", "Producer and workload", "Faults"), selected_index=0,
            layout=widgets.Layout(width=f"{CONTROL_PX + 40}px"))
        self.settings_panel.add_class("kafkalab-settings")
        self.tabs = widgets.Tab(children=[self.figures[name] for name, _ in FIGURE_TABS],
                                titles=[title for _, title in FIGURE_TABS],
                                layout=widgets.Layout(width="100%"))
        self.tabs.add_class("kafkalab-figures")
        self.slider.layout = widgets.Layout(flex="1 1 200px", min_width="120px")
        self.play.layout = widgets.Layout(width="auto")
        for button in (self.back, self.forward):
            button.layout = widgets.Layout(width="100px")
        steps = widgets.HBox([self.play, self.back, self.forward, self.slider],
                             layout=widgets.Layout(width="100%", flex_flow="row wrap"))
        side = widgets.VBox([self.scenario_picker, self.settings_panel],
                            layout=widgets.Layout(flex="0 0 auto", margin="0 8px 0 0"))
        main = widgets.VBox([self.counters, steps, self.tabs],
                            layout=widgets.Layout(flex="1 1 400px", min_width="0"))
        self.scenario_picker.layout = widgets.Layout(width=f"{CONTROL_PX + 40}px")
        self.scenario_picker.style = {"description_width": "60px"}
        return [
            self.story, self.error_box,
            widgets.HBox([side, main], layout=widgets.Layout(width="100%", align_items=
                                                              "flex-start")),
            self.fault_note, self.text_panel, self.tool_panel,
        ]

    # -- public -----------------------------------------------------------------------------
    @property
    def step(self) -> int:
        return self._step

    @step.setter
    def step(self, value: int) -> None:
        if self.result is None or not self.result.events:
            return
        n = len(self.result.events)
        try:
            value = int(value)
        except (TypeError, ValueError):
            self._set_error(f"step must be a whole number between 0 and {n - 1}, not {value!r}")
            return
        value = max(0, min(n - 1, value))
        self._step = value
        if self.slider.value != value:
            self._busy = True
            try:
                self.slider.value = value
            finally:
                self._busy = False
        self._show_step()

    def load(self, name: str) -> bool:
        """Load a preset (``name`` or ``name/variant``): set every control, run once."""
        try:
            preset = scenarios.get(name)
            effective = resolve(copy.deepcopy(preset.config))
        except ConfigError as exc:
            self._set_error(str(exc))
            return False
        before = self._snapshot()
        self._preset = preset
        self._explicit = set(preset.config)
        self._txn_id = preset.config.get("transactional.id") or TRANSACTIONAL_ID
        fault_values, self._other_faults = _faults_to_controls(preset.faults)
        self._busy = True
        try:
            if self.scenario_picker.value != name and name in self.scenario_picker.options:
                self.scenario_picker.value = name
            self._sync_controls(effective)
            for key, value in fault_values.items():
                self.controls[key].value = value
            self.controls["seed"].value = 0
            self._clear_rejected()  # the preset has just put its own numbers there
        finally:
            self._busy = False
        if not self.rerun():
            message = self.error
            if before["preset"] is not None:  # the old scenario's story, controls and figures
                self._restore(before)
                message = f"{name}: {message} (still showing {before['preset'].name})"
            self._set_error(message)
            return False
        # one line until opened: the figures stay on a laptop screen beside the controls
        self.story.value = (f"<details style='font-size:13px;line-height:1.35'><summary>"
                            f"<b>{html.escape(preset.title)}</b> <span style='color:#555'>"
                            f"(the story: click)</span></summary><span style='color:#444'>"
                            f"{html.escape(preset.story)}</span></details>")
        self._update_real_button()
        return True

    def _snapshot(self) -> dict:
        return {"preset": self._preset, "explicit": set(self._explicit),
                "other": copy.deepcopy(self._other_faults), "txn": self._txn_id,
                "values": {k: w.value for k, w in self.controls.items()},
                "picker": self.scenario_picker.value}

    def _restore(self, snap: dict) -> None:
        self._preset, self._explicit = snap["preset"], snap["explicit"]
        self._other_faults, self._txn_id = snap["other"], snap["txn"]
        self._busy = True
        try:
            self.scenario_picker.value = snap["picker"]
            for key, value in snap["values"].items():
                self.controls[key].value = value
        finally:
            self._busy = False
        self._update_notes()

    def _clear_rejected(self) -> bool:
        """Put every number box that shows unreadable text back to its last good number."""
        cleared = False
        busy, self._busy = self._busy, True
        try:
            for widget in self.controls.values():
                if isinstance(widget, NumberBox) and widget.rejected:
                    widget.rejected = ""
                    cleared = True
        finally:
            self._busy = busy
        return cleared

    def _recover(self) -> None:
        """Before a tool runs: unreadable boxes go back to their numbers, and an error from
        earlier settings is cleared by running the current ones."""
        if self._clear_rejected() or self.error is not None:
            self.rerun()

    def set(self, name: str, value: Any) -> bool:
        """Set a control like ``lab.controls[name].value = value``, but report values the
        widget itself refuses (text in a number box, ...) in the dashboard instead of raising."""
        if name not in self.controls:
            self._set_error(f"There is no control {name!r}; controls: {', '.join(self.controls)}")
            return False
        widget = self.controls[name]
        runs = self._runs
        try:
            if isinstance(widget, NumberBox) and isinstance(value, str):
                if not widget.submit(value):  # as if typed in the box
                    return False
            else:
                widget.value = value
                if isinstance(widget, NumberBox) and widget.rejected:
                    widget.rejected = ""  # the same number as before: readable again, reruns
        except (ValueError, TypeError, traitlets.TraitError):
            kind = "a whole number" if isinstance(widget, IntBox) else (
                "a number" if isinstance(widget, FloatBox) else "one of the options")
            self._set_error(f"{name}: {value!r} is not {kind}.")
            return False
        if self._runs == runs and self.error is not None:
            self.rerun()  # an unchanged valid value still clears an earlier error
        return self.error is None

    def select_message(self, message_id: int) -> str:
        """Show ``result.explain(message_id)`` in the text panel (also what a ledger click does)."""
        if self.result is None:
            return ""
        try:
            story = self.result.explain(int(message_id))
        except (ValueError, TypeError) as exc:
            self._set_error(str(exc))
            return ""
        self._set_text(f"<b>Message {int(message_id)}</b><br>{html.escape(story)}")
        return story

    def rerun(self) -> bool:
        """Run the model with the current controls; keep the last good run on failure."""
        self._runs += 1
        self._update_notes()
        gc_was_enabled = gc.isenabled()
        gc.disable()  # a run allocates many small objects; collections would dominate
        try:
            return self._rerun()
        finally:
            if gc_was_enabled:
                gc.enable()

    def _rerun(self) -> bool:
        try:
            config, faults, seed = self._assemble()
            t0 = time.perf_counter()
            result = _model.simulate(config, faults, seed, scenario=self._preset.name)
            result.outcome  # noqa: B018 - build the ledger now, inside the timed region
            self.last_run_ms = (time.perf_counter() - t0) * 1000
            self._simulate_calls += 1
        except (ConfigError, LabInputError) as exc:
            self._set_error(str(exc))
            return False
        except Exception as exc:  # never raise into the notebook
            self._set_error(f"kafkalab could not run these settings ({type(exc).__name__}: "
                            f"{exc}).")
            return False
        try:
            self.show_result(result)
        except Exception as exc:  # a drawing bug must not take the notebook down either
            self._set_error(f"kafkalab ran the model but could not draw it ({type(exc).__name__}:"
                            f" {exc}).")
            return False
        self._busy = True
        try:
            self._sync_controls(result.config)
        finally:
            self._busy = False
        self._update_notes()
        return True

    def show_result(self, result) -> None:
        """Display any RunResult (no simulation): figures, counters, step controls."""
        self.result = result
        self.outcome = result.outcome
        self._set_error(None)
        self._series = series(result, 0)
        self._graph = build_graph(result)
        self._pos = layout_positions(self._graph)
        self._update_figures()
        self._redraw_all = True  # the next _show_step redraws log and topology layouts in full
        self._update_counters()
        self._update_fault_note()
        last = max(len(result.events) - 1, 0)
        self._busy = True
        try:
            self.play.max = max(last, 1)
            self.slider.max = max(last, 1)
        finally:
            self._busy = False
        self.step = last

    # -- tools: every crash point, a real client -----------------------------------------------
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
            for prop in tools.SWEEP_PROPERTIES}
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
            self.sweep_output.value = tools.message_html(
                f"Cannot try the crash points: {exc}")
            return None
        budget = budget or tools.sweep_budget(self.last_run_ms)
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
            for prop in tools.SWEEP_PROPERTIES:
                plan = sw.counterexamples.get(prop)
                cex[prop] = None if plan is None else self._counterexample(config, plan, seed,
                                                                           prop)
        except Exception as exc:  # never raise into the notebook
            self.sweep_output.value = tools.message_html(
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
        self.sweep_output.value = tools.sweep_html(sw, budget, cex, dropped)
        for prop, button in self.counterexample_buttons.items():
            button.layout.display = "" if cex.get(prop) else "none"
        return sw

    def _counterexample(self, config: dict, plan: list, seed: int, prop: str) -> dict:
        result = _model.simulate(copy.deepcopy(config), copy.deepcopy(plan), seed,
                                 scenario=self._preset.name)
        hurt = tools.hurt_messages(result, prop)
        shown = hurt[:3]
        text = "\n".join(f"- {result.explain(m)}" for m in shown)
        if len(hurt) > len(shown):
            text += f"\n- … and {len(hurt) - len(shown)} more message(s)"
        return {"property": prop, "schedule": plan, "label": tools.plan_label(plan),
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
        name, why = tools.real_target(self._preset.name)
        if name is not None:
            missing = tools.real_client_missing()
            if missing:
                name, why = None, missing
        self.real_button.disabled = name is None
        self.real_button.tooltip = why
        colour = "#555" if name else "#8a5a00"
        self.real_note.value = f"<span style='color:{colour}'>{html.escape(why)}</span>"

    def run_real(self) -> dict | None:
        """Run the comparable real-client workload for the current scenario (librdkafka on its
        in-process mock cluster, loopback only) beside its simulation; show both ledgers and
        whether they agree. Returns the report dict, or None (with the reason shown) when the
        scenario is not comparable or the real client cannot run here."""
        from .. import crosscheck, real

        self._recover()
        name, why = tools.real_target(self._preset.name)
        missing = tools.real_client_missing() if name is not None else None
        if name is None or missing:
            self.real_output.value = tools.message_html(missing or why, "#8a5a00")
            return None
        self.real_button.disabled = True
        self.real_output.value = "<i>running the real client (a few seconds)…</i>"
        try:
            real.require_confluent_kafka()
            unavailable = crosscheck._unavailable_here(name)
            if unavailable:
                self.real_output.value = tools.message_html(unavailable, "#8a5a00")
                return None
            sim = crosscheck.simulate_workload(name)
            run = real.run_real(name)
        except real.RealExtraMissing as exc:
            self.real_output.value = tools.message_html(str(exc))
            return None
        except Exception as exc:  # a failed real run must not take the notebook down
            self.real_output.value = tools.message_html(
                f"the real run failed ({type(exc).__name__}: {' '.join(str(exc).split())})")
            return None
        finally:
            self.real_button.disabled = False
        keys = crosscheck.compared_keys(name)
        differences = [k for k in keys if sim["outcome"][k] != run["outcome"].get(k)]
        caveats = list(run.get("not_comparable") or [])
        if self._explicit - set(self._preset.config):
            caveats.append("the real run is the registered workload, not your edited settings")
        report = {"workload": name, "title": real.WORKLOADS[name]["title"],
                  "simulated": sim["outcome"], "real": run["outcome"],
                  "agree": not differences, "compared": keys, "differences": differences,
                  "simulated_ledger": sim["ledger"],
                  "real_ledger": [{k: e[k] for k in ("id", "acked", "offsets", "delivered",
                                                     "processed")} for e in run["ledger"]],
                  "real_elapsed_s": run["elapsed_s"], "caveats": caveats}
        self.real_report = report
        self.real_output.value = tools.real_html(report)
        return report

    # -- building config and faults ---------------------------------------------------------
    def _assemble(self) -> tuple[dict, list, int]:
        c = self.controls
        for name, widget in c.items():
            if isinstance(widget, NumberBox) and widget.rejected:
                raise LabInputError(widget.rejected)  # the screen shows text the run can't use
            value = widget.value
            if isinstance(widget, NumberBox) and (
                    isinstance(value, bool) or not isinstance(value, int | float)):
                raise LabInputError(f"{name}: {value!r} is not a number")
        messages = c["messages"].value
        if messages < 1:
            raise LabInputError(f"messages: {messages} — send at least 1 message.")
        if messages > MAX_LAB_MESSAGES:
            raise LabInputError(
                f"messages: {messages:,} is more than the Lab simulates at once (at most "
                f"{MAX_LAB_MESSAGES:,}); kafkalab.simulate() runs larger workloads without the "
                "dashboard.")
        seed = c["seed"].value
        if seed < 0:
            raise LabInputError(f"seed: {seed} — a seed is a whole number ≥ 0.")
        config = copy.deepcopy(self._preset.config)
        for key in CONFIG_CONTROLS:
            if key in self._explicit:
                config[key] = c[key].value
        if "transactions" in self._explicit:
            config["transactional.id"] = self._txn_id if c["transactions"].value else None
        faults = copy.deepcopy(self._other_faults)
        for key in ("crash.after.record", "processing.failure.record",
                    "producer.restart.after.message"):
            value = c[key].value
            if value < NONE:
                raise LabInputError(f"{key}: {value} — use a message id, or −1 for none.")
        if c["crash.after.record"].value >= 0:
            faults.append({"type": "consumer_crash", "point": "after_processing",
                           "message": c["crash.after.record"].value})
        if c["processing.failure.record"].value >= 0:
            faults.append({"type": "processing_failure",
                           "message": c["processing.failure.record"].value})
        if c["producer.restart.after.message"].value >= 0:
            faults.append({"type": "producer_restart",
                           "after_message": c["producer.restart.after.message"].value,
                           "zombie": bool(c["producer.restart.zombie"].value)})
        lost = c["lost.acks"].value
        if lost < 0 or lost > messages:
            raise LabInputError(f"lost.acks: {lost} — between 0 and the number of messages "
                                f"({messages}).")
        faults.extend({"type": "lose_response", "message": m} for m in range(lost))
        rnd = {}
        for key, fault_key in (("lost.acks.probability", "lose_response"),
                               ("crash.probability", "consumer_crash")):
            p = c[key].value
            if not 0 <= p <= 1:
                raise LabInputError(f"{key}: {p} — a probability is between 0 and 1.")
            if p > 0:
                rnd[fault_key] = float(p)
        if rnd:
            merged = next((f for f in faults if f["type"] == "random"), None)
            if merged is None:
                faults.append({"type": "random", **rnd})
            else:
                merged.update(rnd)
        return config, faults, seed

    def _update_notes(self) -> None:
        """Next to a control with no effect in the current combination: say so."""
        notes = inert_notes({k: w.value for k, w in self.controls.items()})
        for name, box in self.notes.items():
            text = notes.get(name, "")
            value = (f"<div style='font-size:12px;line-height:1.3;color:#8a5a00;"
                     f"margin:0 0 4px 20px'>⚠ {html.escape(text)}</div>") if text else ""
            if box.value != value:
                box.value = value

    def _sync_controls(self, config: dict) -> None:
        """Show effective values (defaults filled in, idempotence switched off, ...)."""
        c = self.controls
        for key in CONFIG_CONTROLS:
            if key in config and c[key].value != config[key]:
                c[key].value = config[key]
        c["transactions"].value = bool(config.get("transactional.id"))

    # -- events ------------------------------------------------------------------------------
    def _on_control(self, name: str):
        def handler(change):
            if self._busy:
                return
            self._explicit.add(name)
            if name == "seed":
                self._clear_rejected()  # "run again with another seed" always runs
            self.rerun()
        return handler

    def _on_rejected(self, change) -> None:
        """Text in a number box that is not a number: say so; the box keeps its last number."""
        if change["new"]:
            self._set_error(change["new"])
        elif not self._busy and not change["owner"].clearing:
            self.rerun()  # readable again with the same number (a new number reruns anyway)

    def _on_scenario(self, change) -> None:
        if not self._busy:
            self.load(change["new"])

    def _on_slider(self, change) -> None:
        if not self._busy:
            self.step = change["new"]

    def _nudge(self, delta: int) -> None:
        self.step = self._step + delta

    def _on_ledger_click(self, trace, points, _selector=None) -> None:
        inds = list(getattr(points, "point_inds", []) or [])
        if not inds or trace.customdata is None:
            return
        self.select_message(trace.customdata[inds[0]])

    # -- drawing -----------------------------------------------------------------------------
    def _set_error(self, message: str | None) -> None:
        self.error = message
        if message:
            self.error_box.value = (
                "<div style='border:2px solid #D55E00;background:#FFF3EC;padding:6px 10px;"
                "border-radius:4px'><b>⚠ Not run:</b> " + html.escape(message) +
                "<br><i>The last good run is still shown.</i></div>")
        else:
            self.error_box.value = ""

    def _set_text(self, value: str) -> None:
        self.explanation = value
        self.text_panel.value = ("<div style='border-left:4px solid #0072B2;padding:4px 10px;"
                                 "max-width:1100px'>" + value + "</div>")

    def _update_counters(self) -> None:
        o = self.outcome
        cells = [("sent", o["sent"], None), ("written", o["written"], None),
                 ("delivered", o["delivered"], None), ("processed", o["processed"], None),
                 ("lost", o["lost"], C["vermillion"]), ("duplicates", o["duplicates"], C["orange"]),
                 ("log duplicates", o["log_duplicates"], C["purple"]),
                 ("throughput", f"{o['throughput_per_s']:,.0f} rec/s simulated", None)]
        parts = []
        for label, value, color in cells:
            style = f"color:{color};font-weight:bold" if color and value else ""
            parts.append(f"<span style='margin-right:10px;white-space:nowrap'>{label}: "
                         f"<span style='{style}'>"
                         f"{value}</span></span>")
        drained = "" if o.get("drained", True) else " <i>(the run did not drain: unseen " \
                                                        f"{o.get('unseen', 0)})</i>"
        self.counters.value = ("<div style='font-size:12.5px;line-height:1.4'>" + " ".join(parts)
                               + drained + "</div>")

    def _update_fault_note(self) -> None:
        if self._other_faults:
            items = "; ".join(describe_fault(f) for f in self._other_faults)
            self.fault_note.value = f"<i>Also in this preset's fault plan: {html.escape(items)}.</i>"
        else:
            self.fault_note.value = ""

    def _update_figures(self) -> None:
        r = self.result
        n = len(r.ledger.messages)
        specs = {
            "timeline": timeline_spec(r, 0, s=self._series),
            # explain() per message costs O(events) each: full stories on hover for small runs,
            # a one-line summary above (a click still shows the full story in the text panel)
            "ledger": ledger_spec(r, hovers=ledger_hovers(
                r, "explain" if n <= HOVER_EXPLAIN_LIMIT else "summary" if n <= 2000 else "brief")),
        }  # the log and topology depend on the step: _show_step draws them
        specs["timeline"]["layout"]["shapes"] = [now_line(r, None)]
        cols = columns_for(n)
        self._message_cells = {m: (m % cols, m // cols) for m in range(n)}
        ledger = specs["ledger"]
        size = ledger["data"][0]["marker"]["size"] + 4
        ledger["data"].append({"type": "scatter", "mode": "markers", "name": "in this step",
                               "x": [], "y": [], "hoverinfo": "skip", "showlegend": True,
                               "marker": {"symbol": "square-open", "size": size,
                                          "color": C["black"],
                                          "line": {"width": 3 if size > 12 else 1.5,
                                                   "color": C["black"]}}})
        for name, spec in specs.items():
            rebuilt = _apply(self.figures[name], spec, self._sent[name])
            if name == "ledger" and rebuilt:
                for trace in self.figures["ledger"].data[: len(LEDGER_CATEGORIES) + 1]:
                    trace.on_click(self._on_ledger_click)

    def _show_step(self) -> None:
        r = self.result
        step = self._step
        event = r.events[step]
        fig = self.figures["timeline"]
        if fig.layout.shapes:
            fig.plotly_relayout({"shapes[0].x0": event.t, "shapes[0].x1": event.t})
        ledger = self.figures["ledger"]
        ids = _message_ids(event)
        cells = [self._message_cells[m] for m in ids if m in self._message_cells]
        xs, ys = [c[0] for c in cells], [c[1] for c in cells]
        current = self._sent["ledger"]["data"][-1]
        if current.get("x") != xs or current.get("y") != ys:
            ledger.plotly_restyle({"x": [xs], "y": [ys]}, [len(ledger.data) - 1])
            current["x"], current["y"] = xs, ys
        keys = None if self._redraw_all else ("title", "annotations", "yaxis")
        self._redraw_all = False
        _apply(self.figures["log"], log_spec(r, step), self._sent["log"], layout_keys=keys)
        _apply(self.figures["topology"], topology_spec(r, step, self._graph, self._pos),
               self._sent["topology"], layout_keys=keys)
        self._set_text(_step_html(r, step))


def fit_beside_controls(spec: dict) -> dict:
    """A figure spec for the Lab's figure column (~500 px wide on a 1280 px laptop, beside the
    controls): at most FIGURE_HEIGHT tall, a smaller title font, a legend in fixed-width
    columns below the axis title."""
    layout = dict(spec["layout"])
    title = layout.get("title")
    if isinstance(title, dict) and isinstance(title.get("text"), str):
        layout["title"] = {**title, "font": {"size": 13 if len(title["text"]) > 50 else 15}}
    if isinstance(layout.get("legend"), dict) and layout["legend"].get("orientation") == "h":
        layout["legend"] = {**layout["legend"], "entrywidth": 0.5, "entrywidthmode": "fraction",
                            "font": {"size": 10}}
        margin = dict(layout.get("margin") or {})
        margin["b"] = max(margin.get("b", 0), 160)
        layout["margin"] = margin
        height = min(layout.get("height", FIGURE_HEIGHT), FIGURE_HEIGHT)
        plot_px = max(height - margin.get("t", 70) - margin["b"], 60)
        layout["legend"]["y"] = -58 / plot_px
    yaxis = layout.get("yaxis")
    if isinstance(yaxis, dict) and isinstance(yaxis.get("title"), dict):
        text = yaxis["title"].get("text") or ""
        if len(text) > 24 and "<br>" not in text:  # a short plot: the title in two lines
            layout["yaxis"] = {**yaxis, "title": {**yaxis["title"], "text": wrap(text, 24),
                                                  "font": {"size": 11}}}
    annotations = layout.get("annotations")
    if isinstance(annotations, list):
        lines = 1
        rewrapped = []
        for a in annotations:
            if isinstance(a, dict) and a.get("name") == "caption":
                text = wrap(str(a.get("text", "")).replace("<br>", " "), LAB_CAPTION_CHARS)
                lines = text.count("<br>") + 1
                a = {**a, "text": text}
            rewrapped.append(a)
        layout["annotations"] = rewrapped
        margin = dict(layout.get("margin") or {})
        margin["t"] = 70 + 14 * (lines - 1)
        layout["margin"] = margin
    if layout.get("height", 0) > FIGURE_HEIGHT:
        layout["height"] = FIGURE_HEIGHT
    return {**spec, "layout": layout}


def _apply(fig: go.FigureWidget, spec: dict, sent: dict, layout_keys: tuple | None = None) -> bool:
    """Update a FigureWidget in place from a spec, sending only what differs from the spec
    sent last time (``sent``: the Lab's cache for this figure).

    Changed trace properties go out as one restyle per property (whole arrays, no per-point
    updates) and changed layout paths as one relayout; these skip plotly's per-element
    validation, which dominates for large runs (the specs are built by kafkalab.viz and were
    validated when the traces were first added). Traces are rebuilt only when their structure
    (count, types, names) changed. Returns True if they were rebuilt."""
    spec = fit_beside_controls(spec)
    data = spec["data"]
    old_data = sent.get("data")
    same = old_data is not None and len(fig.data) == len(data) == len(old_data) and all(
        o.get("type") == d.get("type") and o.get("name") == d.get("name")
        for o, d in zip(old_data, data, strict=False))
    layout = spec["layout"]
    old_layout = sent.get("layout", {})
    keys = layout_keys if layout_keys is not None else tuple(layout)
    relayout: dict[str, Any] = {}
    for key in keys:
        if key not in layout:
            continue
        value = layout[key]
        old = old_layout.get(key)
        if old == value:
            continue
        if isinstance(value, dict) and isinstance(old, dict) and key != "meta":
            for sub, sub_value in value.items():
                if old.get(sub) != sub_value:
                    relayout[f"{key}.{sub}"] = sub_value
        else:
            relayout[key] = value
    if same:
        restyle: dict[str, tuple[list, list]] = {}
        for index, (new, old) in enumerate(zip(data, old_data, strict=False)):
            for key, value in new.items():
                if key != "type" and old.get(key) != value:
                    values, indexes = restyle.setdefault(key, ([], []))
                    values.append(value)
                    indexes.append(index)
        for key, (values, indexes) in restyle.items():
            fig.plotly_restyle({key: values}, indexes)
        if relayout:
            fig.plotly_relayout(relayout)
    else:
        with fig.batch_update():
            fig.data = ()
            fig.add_traces(data)
            fig.layout.update({k: layout[k] for k in keys if k in layout}, overwrite=True)
    sent["data"] = data
    sent["layout"] = {**old_layout, **{k: layout[k] for k in keys if k in layout}}
    return not same


def _message_ids(event) -> list[int]:
    d = event.data
    if "records" in d:
        return sorted({rec[2] for rec in d["records"]})
    if "messages" in d:
        return list(d["messages"])
    if "message" in d:
        return [d["message"]]
    return []


def _step_html(result, step: int, around: int = 2) -> str:
    events = result.events
    event = events[step]
    snap = result.snapshots[step] if result.snapshots else {}
    lines = [f"<b>Step {step} of {len(events) - 1}</b> · t = {event.t:g} ms · "
             f"<code>{html.escape(event.kind)}</code> by {html.escape(event.actor)}",
             f"<div style='font-size:15px;margin:4px 0'>{html.escape(event.text)}</div>"]
    if snap:
        prefix = sink_prefix(result)
        alive = [f"{m} {'alive' if s['alive'] else 'down'}" for m, s in snap["members"].items()
                 if m.startswith(prefix)]
        lines.append(f"<span style='color:#555'>so far: {snap.get('processed', 0)} processed, "
                     f"{snap.get('acked', 0)} acknowledged"
                     + (f"; {', '.join(alive)}" if alive else "") + "</span>")
    nearby = []
    for i in range(max(0, step - around), min(len(events), step + around + 1)):
        if i == step:
            continue
        e = events[i]
        mark = "before" if i < step else "next"
        nearby.append(f"<li style='color:#666'>{mark} · step {i}, t={e.t:g} ms: "
                      f"{html.escape(e.text)}</li>")
    if nearby:
        lines.append("<ul style='margin:2px 0 0 0'>" + "".join(nearby) + "</ul>")
    return "".join(lines)


def _faults_to_controls(faults: list[dict]) -> tuple[dict, list[dict]]:
    """Split a preset's fault plan into control values and the faults no control expresses."""
    values: dict[str, Any] = {"crash.after.record": NONE, "processing.failure.record": NONE,
                              "lost.acks": 0, "lost.acks.probability": 0.0,
                              "crash.probability": 0.0, "producer.restart.after.message": NONE,
                              "producer.restart.zombie": False}
    other: list[dict] = []
    for f in faults:
        kind = f["type"]
        if kind == "consumer_crash" and f.get("point") == "after_processing" and "message" in f \
                and values["crash.after.record"] == NONE and set(f) <= {"type", "point", "message"}:
            values["crash.after.record"] = f["message"]
        elif kind == "processing_failure" and f.get("times", 1) == 1 and \
                values["processing.failure.record"] == NONE:
            values["processing.failure.record"] = f["message"]
        elif kind == "producer_restart" and "after_message" in f and \
                values["producer.restart.after.message"] == NONE:
            values["producer.restart.after.message"] = f["after_message"]
            values["producer.restart.zombie"] = bool(f.get("zombie", False))
        elif kind == "random":
            rest = {k: v for k, v in f.items() if k not in ("type", "lose_response",
                                                             "consumer_crash")}
            values["lost.acks.probability"] = float(f.get("lose_response", 0.0))
            values["crash.probability"] = float(f.get("consumer_crash", 0.0))
            if rest:
                other.append({"type": "random", **rest})
        else:
            other.append(copy.deepcopy(f))
    return values, other
