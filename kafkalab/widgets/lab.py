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

This module is the layout and the event wiring only. The rest of the Lab:

- ``settings`` (pure, no ipywidgets): which controls exist and in which group, the Lab's own
  fields and the one fault-control table, controls ⇄ ``(config, faults, seed)``, the notes;
- ``controls``: the widgets, generated from ``model.config.PROPERTIES`` and those tables (to
  add a Kafka property to the Lab, add its name to ``settings.CONTROL_GROUPS``);
- ``figures``: applying a run and a step to the four FigureWidgets, and the dashboard's text;
- ``tools``: the sweep and real-client panel (``tool_panel``, one row per tool: append rows
  there for more tools).
"""

from __future__ import annotations

import copy
import gc
import html
import time
from typing import Any

import ipywidgets as widgets
import traitlets

from .. import model as _model
from .. import scenarios
from ..model.config import ConfigError, resolve
from . import controls as _controls
from . import figures as panels
from . import link as _link
from . import settings
from .figures import FIGURE_HEIGHT, FIGURE_TABS, LabFigures, fit_beside_controls, step_html
from .number_box import FloatBox, IntBox, NumberBox
from .settings import (
    CONFIG_CONTROLS,
    FAULT_FIELDS,
    MAX_LAB_MESSAGES,
    TRANSACTIONAL_ID,
    LabInputError,
    faults_to_controls,
    inert_notes,
)
from .tools import LabTools

DEFAULT_SCENARIO = "at-most-once-auto-commit"
FAULT_CONTROLS = tuple(FAULT_FIELDS)
CONTROL_PX = _controls.CONTROL_PX
__all__ = ["CONFIG_CONTROLS", "DEFAULT_SCENARIO", "FAULT_CONTROLS", "FIGURE_HEIGHT",
           "MAX_LAB_MESSAGES", "TRANSACTIONAL_ID", "Lab", "LabInputError",
           "fit_beside_controls"]


def _scenario_names() -> list[str]:
    names = []
    for name, preset in scenarios.PRESETS.items():
        names.append(name)
        names.extend(f"{name}/{variant}" for variant in preset.variants)
    return names + _link.extra_scenarios(names)  # scenario files (scenarios/ next to the notebook)


class Lab(LabTools, widgets.VBox):
    """An interactive dashboard over one kafkalab scenario.

    The state is ``self.values`` (control name → the value the Lab runs), kept in step with
    the widgets by one observer per control: a widget change that differs from ``values`` is
    the learner's (it becomes explicit and reruns); the Lab shows a value by writing
    ``values`` first and the widget second (``_show_values``), so its own writes are no news.
    The step slider, the scenario picker and the number boxes' rejected text work the same
    way (``_step``, ``_scenario``, ``NumberBox.clearing``): no "busy" flag."""

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
        self.error_control: str | None = None  # the control self.error is about, if one is
        self.explanation: str = ""
        self.last_run_ms: float | None = None
        self._step = 0
        self._scenario: str | None = None  # what the picker shows, as the Lab set it
        self._preset = None
        self._explicit: set[str] = set()
        self._other_faults: list[dict] = []
        self._txn_id = TRANSACTIONAL_ID
        self._simulate_calls = 0
        self._runs = 0  # rerun() attempts, successful or not

        self.controls = _controls.make_controls()
        self.values: dict[str, Any] = {k: w.value for k, w in self.controls.items()}
        self.notes = _controls.make_notes()
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
        self._view = LabFigures(self.select_message)
        self.figures = self._view.figures

        for name, widget in self.controls.items():
            widget.observe(self._on_control(name), names="value")
            if isinstance(widget, NumberBox):
                widget.observe(self._on_rejected, names="rejected")
        self.scenario_picker.observe(self._on_scenario, names="value")

        self._build_tools()
        self.children = self._layout()
        _link.attach(self)  # the "copy link" row; it also opens a #kafkalab= link in the page URL
        self._show_scenario(scenario if scenario in self.scenario_picker.options
                            else self.scenario_picker.options[0])
        if not self.load(scenario) and self.result is None:
            message = self.error
            self.load(DEFAULT_SCENARIO)  # show something runnable, and say why
            self._set_error(message)

    def _layout(self) -> list[widgets.Widget]:
        """A laptop screen (1280x720, JupyterLab's side panel open) shows the control being
        changed and the figure it changes together: the controls in a side column of
        collapsible groups, the figures in tabs (offsets first), the counters and step controls
        above the figures."""
        self.settings_panel = _controls.settings_panel(self.controls, self.notes)
        self.tabs = widgets.Tab(children=[self.figures[name] for name, _ in FIGURE_TABS],
                                titles=[title for _, title in FIGURE_TABS],
                                layout=widgets.Layout(width="100%"))
        self.tabs.add_class("kafkalab-figures")
        self.tabs.observe(self._on_tab, names="selected_index")
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
        self._step = value  # first: the slider's observer then sees no news
        if self.slider.value != value:
            self.slider.value = value
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
        fault_values, self._other_faults = faults_to_controls(preset.faults)
        if name in self.scenario_picker.options:
            self._show_scenario(name)
        self._show_values({**settings.config_to_controls(effective), **fault_values,
                           "seed": preset.seed})  # the seed the scenario runs with
        self._clear_rejected()  # the preset has just put its own numbers there
        if not self.rerun():
            message = self.error
            if before["preset"] is not None:  # the old scenario's story, controls and figures
                self._restore(before)
                message = f"{name}: {message} (still showing {before['preset'].name})"
            self._set_error(message)
            return False
        # one line until opened: the figures stay on a laptop screen beside the controls
        self.story.value = panels.story_html(preset)
        self._update_real_button()
        return True

    def _snapshot(self) -> dict:
        return {"preset": self._preset, "explicit": set(self._explicit),
                "other": copy.deepcopy(self._other_faults), "txn": self._txn_id,
                "values": dict(self.values), "picker": self.scenario_picker.value}

    def _restore(self, snap: dict) -> None:
        self._preset, self._explicit = snap["preset"], snap["explicit"]
        self._other_faults, self._txn_id = snap["other"], snap["txn"]
        self._show_scenario(snap["picker"])
        self._show_values(snap["values"])
        self._update_notes()

    def _show_values(self, values: dict[str, Any]) -> None:
        """Show values the Lab chose (a preset, effective defaults): ``values`` first, then
        the widgets, so the controls' observers see no news."""
        for key, value in values.items():
            widget = self.controls[key]
            self.values[key] = value
            if widget.value != value:
                widget.value = value
            self.values[key] = widget.value  # as the widget holds it (5 → 5.0)

    def _show_scenario(self, name: str) -> None:
        self._scenario = name
        if self.scenario_picker.value != name:
            self.scenario_picker.value = name

    def _clear_rejected(self) -> bool:
        """Put every number box that shows unreadable text back to its last good number."""
        cleared = False
        for widget in self.controls.values():
            if isinstance(widget, NumberBox):
                cleared = widget.clear() or cleared
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
        except LabInputError as exc:
            self._set_error(str(exc), exc.control)
            return False
        except ConfigError as exc:
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
        self._show_values(settings.config_to_controls(result.config))
        self._update_notes()
        return True

    def show_result(self, result) -> None:
        """Display any RunResult (no simulation): figures, counters, step controls."""
        self.result = result
        self.outcome = result.outcome
        self._set_error(None)
        # the story line names the scenario whose figures are shown (load() then sets the
        # story of the scenario it loaded: the same)
        self.story.value = panels.result_story_html(result, self._preset)
        self._view.show_run(result)
        self._update_counters()
        self._update_fault_note()
        last = max(len(result.events) - 1, 0)
        self._step = last  # first: a slider clamped by a smaller max is then no news
        self.play.max = max(last, 1)
        self.slider.max = max(last, 1)
        self.step = last

    # -- building config and faults ---------------------------------------------------------
    def _assemble(self) -> tuple[dict, list, int]:
        for widget in self.controls.values():
            if isinstance(widget, NumberBox) and widget.rejected:
                raise LabInputError(widget.rejected)  # the screen shows text the run can't use
        return settings.assemble(self.values, self._preset.config, self._explicit,
                                 self._other_faults, self._txn_id)

    def _update_notes(self) -> None:
        """Next to a control with no effect in the current combination: say so; next to the
        control an error is about: the error. A fault slot shows only its kind's boxes."""
        notes = inert_notes(self.values)
        if self.result is not None and self.result.events and self.error is None:
            notes = {**settings.late_fault_notes(self.values, self.result.events[-1].t), **notes}
        for name, box in self.notes.items():
            if name == self.error_control and self.error:
                value = _controls.note_html(self.error, error=True)
            else:
                value = _controls.note_html(notes.get(name, ""))
            if box.value != value:
                box.value = value
        hidden = settings.hidden_controls(self.values)
        for name in settings.SLOT_FIELDS:
            display = "none" if name in hidden else None
            layout = self.controls[name].layout
            if layout.display != display:
                layout.display = display
                if name in self.notes:
                    self.notes[name].layout.display = display

    # -- events ------------------------------------------------------------------------------
    def _on_control(self, name: str):
        def handler(change):
            if change["new"] == self.values.get(name):
                return  # the Lab's own write (or no change)
            self.values[name] = change["new"]
            self._explicit.add(name)
            if name == "seed":
                self._clear_rejected()  # "run again with another seed" always runs
            self.rerun()
        return handler

    def _on_rejected(self, change) -> None:
        """Text in a number box that is not a number: say so; the box keeps its last number."""
        if change["new"]:
            self._set_error(change["new"], next((n for n, w in self.controls.items()
                                                 if w is change["owner"]), None))
        elif not change["owner"].clearing:
            self.rerun()  # readable again with the same number (a new number reruns anyway)

    def _on_scenario(self, change) -> None:
        if change["new"] != self._scenario:
            self.load(change["new"])

    def _on_tab(self, change) -> None:
        if change["new"] is not None:
            self._view.refit(FIGURE_TABS[change["new"]][0])

    def _on_slider(self, change) -> None:
        if change["new"] != self._step:
            self.step = change["new"]

    def _nudge(self, delta: int) -> None:
        self.step = self._step + delta

    # -- drawing -----------------------------------------------------------------------------
    def _set_error(self, message: str | None, control: str | None = None) -> None:
        had = self.error_control
        self.error = message
        self.error_control = control if message else None
        self.error_box.value = panels.error_html(message)
        if had is not None or self.error_control is not None:
            self._update_notes()

    def _set_text(self, value: str) -> None:
        self.explanation = value
        self.text_panel.value = panels.text_html(value)

    def _update_counters(self) -> None:
        self.counters.value = panels.counters_html(self.outcome)

    def _update_fault_note(self) -> None:
        self.fault_note.value = panels.fault_note_html(self._other_faults)

    def _show_step(self) -> None:
        self._view.show_step(self.result, self._step)
        self._set_text(step_html(self.result, self._step))
