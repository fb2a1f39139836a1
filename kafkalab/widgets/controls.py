"""The Lab's controls, generated from the tables: nothing about a property is typed here.

A Kafka (or kafkalab workload) property's control comes from
``kafkalab.model.config.PROPERTIES`` (kind → widget, choices → options, doc → tooltip); the
Lab's own fields and the fault controls from ``settings.LAB_FIELDS`` / ``settings.FAULT_FIELDS`` /
``settings.SLOT_FIELDS`` (member and broker faults, from ``model.faults``' own tables);
which controls exist and in which group from ``settings.CONTROL_GROUPS``. Ranges are not
repeated either: a value out of range reaches ``model.config.resolve()``, which refuses it in
Kafka's words.
"""

from __future__ import annotations

import html

import ipywidgets as widgets

from ..model.config import PROPERTIES
from ..palette import MUTED, VERMILLION, WARNING
from . import settings
from .number_box import FloatBox, IntBox

LABEL_PX = 170  # control labels; the side column is CONTROL_PX wide
CONTROL_PX = 300
SLOT_LABEL_PX = 95  # "broker fault 1": its dropdown shows "machine failure (unflushed ..."


def make_control(name: str) -> widgets.Widget:
    """One control: an IntBox/FloatBox, a Dropdown or a Checkbox, labelled and explained."""
    kind = settings.control_kind(name)
    label, tip = settings.control_label(name), settings.control_help(name)
    value = settings.control_default(name)
    lay = widgets.Layout(width=f"{CONTROL_PX}px")
    label_px = LABEL_PX
    if name in settings.SLOT_FIELDS and name not in settings.FAULT_SLOTS:
        # a fault slot's option box, indented under its dropdown
        lay = widgets.Layout(width=f"{CONTROL_PX - 20}px", margin="0 0 0 20px")
        label_px = LABEL_PX - 20
    if kind == "int":
        return IntBox(value=value, description=label, tooltip=tip, layout=lay,
                      description_width=f"{label_px}px")
    if kind == "float":
        return FloatBox(value=value, description=label, tooltip=tip, layout=lay,
                        description_width=f"{label_px}px")
    if kind == "choice":
        options = ([c for _, c in settings.control_choices(name)] if name in PROPERTIES
                   else settings.control_choices(name))  # a fault slot's: (label, type)
        if name in settings.FAULT_SLOTS:  # a short label, room for the fault kinds' labels
            label_px = SLOT_LABEL_PX
        return widgets.Dropdown(options=options, value=value,
                                description=label, tooltip=tip,
                                style={"description_width": f"{label_px}px"}, layout=lay)
    if kind == "bool":
        return widgets.Checkbox(value=value, description=label, tooltip=tip,
                                indent=False, style={"description_width": "initial"},
                                layout=widgets.Layout(width=f"{CONTROL_PX - 20}px",
                                                      margin="0 0 0 20px"))
    if kind == "str":  # a nullable name (group.instance.id): empty means unset
        return widgets.Text(value=value or "", description=label, tooltip=tip,
                            placeholder="(not set)",
                            style={"description_width": f"{LABEL_PX}px"}, layout=lay)
    raise ValueError(f"kafkalab: no control for {name!r} (a {kind} property)")


def make_controls() -> dict[str, widgets.Widget]:
    """name → widget for every control in ``settings.CONTROL_GROUPS``."""
    return {name: make_control(name) for name in settings.control_names()}


def make_notes() -> dict[str, widgets.HTML]:
    """The "no effect here" note under each control that can get one."""
    notes = {name: widgets.HTML(layout=widgets.Layout(width=f"{CONTROL_PX}px"))
             for name in settings.noted_controls()}
    for note in notes.values():
        note.add_class("kafkalab-note")
    return notes


def note_html(text: str, error: bool = False) -> str:
    """A note under a control: why it has no effect here, or (``error``) why the Lab did not
    run its value."""
    if not text:
        return ""
    if error:
        return (f"<div class='kafkalab-control-error' style='font-size:12px;line-height:1.3;"
                f"color:{VERMILLION};margin:0 0 4px 20px'>✖ {html.escape(text)}</div>")
    return (f"<div style='font-size:12px;line-height:1.3;color:{WARNING};"
            f"margin:0 0 4px 20px'>⚠ {html.escape(text)}</div>")


def settings_panel(controls: dict[str, widgets.Widget],
                   notes: dict[str, widgets.HTML]) -> widgets.Accordion:
    """The side column's accordion: one collapsible group per ``CONTROL_GROUPS`` entry, the
    first open."""

    def group(names):
        items = []
        for n in names:
            items.append(controls[n])
            if n in notes:
                items.append(notes[n])
        return widgets.VBox(items, layout=widgets.Layout(width=f"{CONTROL_PX + 16}px"))

    children = []
    for title, names in settings.CONTROL_GROUPS.items():
        box = group(names)
        if title == "Faults":
            box = widgets.VBox([widgets.HTML(f"<span style='font-size:12px;color:{MUTED}'>a "
                                             "message id, or −1 for none</span>"), box])
        elif title in ("Member faults", "Broker faults"):
            box = widgets.VBox([widgets.HTML(f"<span style='font-size:12px;color:{MUTED}'>"
                                             "times in simulated ms; −1: not set</span>"), box])
        children.append(box)
    panel = widgets.Accordion(children=children, titles=tuple(settings.CONTROL_GROUPS),
                              selected_index=0,
                              layout=widgets.Layout(width=f"{CONTROL_PX + 40}px"))
    panel.add_class("kafkalab-settings")
    return panel
