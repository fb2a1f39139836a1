"""The Lab's links: ``lab.link()``, ``Lab.from_link(s)``, ``lab.open_link(s)``, the "copy
link" button, and opening the Lab at the state a page URL names (``#kafkalab=k1.…`` or
``?kafkalab=k1.…``).

The link codec itself is :mod:`kafkalab.links` (pure). Here: a small anywidget, ``LinkBox``,
shown under the Lab. Its button asks the kernel for the current link, shows it and copies it
(as a URL to this page with ``#kafkalab=…``) to the clipboard; on first render it reads
``window.location`` and hands a ``kafkalab=`` link it finds to Python, which restores the Lab at
that state. The kernel cannot read the page URL itself (in JupyterLite it runs in a worker),
hence the front end's part.

A link restores the run exactly (the same RunResult, the same step). The Lab's controls show
the run's settings; a setting or fault the controls cannot show (a fault plan beyond the
Lab's fault boxes) stays in the run until a control is changed.
"""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

import ipywidgets as widgets
import traitlets

from .. import links, scenario_files
from ..model import ConfigError
from ..model.faults import normalise
from ..palette import MUTED
from . import settings

try:
    import anywidget
except ImportError:  # the box then has no clipboard and reads no page URL
    anywidget = None

_ESM = r"""
function findLink() {
  const where = [window.location.hash, window.location.search];
  // JupyterLab rewrites the address once it has opened the notebook (dropping ?… and #…),
  // so also look at the address this document was loaded from (its navigation entry), when
  // it is this document's (a link to notebook 08 is not for a notebook opened later).
  try {
    const here = new URL(window.location.href);
    for (const nav of performance.getEntriesByType("navigation")) {
      const then = new URL(nav.name);
      const path = here.searchParams.get("path");
      if (then.pathname === here.pathname &&
          (path === null || path === then.searchParams.get("path"))) where.push(nav.name);
    }
  } catch (e) {}
  try { if (window.parent && window.parent !== window) {
    where.push(window.parent.location.hash, window.parent.location.search); } } catch (e) {}
  for (const part of where) {
    const m = /[#?&]kafkalab=([^&#\s]+)/.exec(part || "");
    if (m) return decodeURIComponent(m[1]);
  }
  return "";
}
function shareable(link) {
  const here = window.location;
  return here.origin + here.pathname + "#kafkalab=" + link;
}
function render({ model, el }) {
  el.classList.add("kafkalab-linkbox");
  const button = document.createElement("button");
  button.className = "jupyter-button kafkalab-copy-link";
  button.textContent = "copy link";
  button.title = "copy a link to this run, at this step";
  const box = document.createElement("input");
  box.readOnly = true;
  box.className = "kafkalab-link-text";
  box.style.cssText = "flex:1 1 auto;margin-left:6px;font-size:12px;min-width:120px";
  const note = document.createElement("span");
  note.style.cssText = "margin-left:6px;font-size:12px;color:__MUTED__";
  const row = document.createElement("div");
  row.style.cssText = "display:flex;align-items:center;width:100%";
  row.append(button, box, note);
  el.append(row);
  let wanted = false;
  const show = () => {
    const link = model.get("link");
    box.value = link ? shareable(link) : "";
    if (wanted && link) {
      wanted = false;
      const done = () => { note.textContent = "copied"; };
      const failed = () => { box.select(); note.textContent = "select and copy (Ctrl+C)"; };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(box.value).then(done, failed);
      } else { failed(); }
    }
  };
  model.on("change:link", show);
  button.addEventListener("click", () => {
    wanted = true;
    note.textContent = "";
    model.send({ type: "link" });
  });
  show();
  const found = findLink();
  if (found && !model.get("url_link")) {
    model.set("url_link", found);
    model.save_changes();
  }
}
export default { render };
""".replace("__MUTED__", MUTED)  # the palette's colour for a side note

if anywidget is not None:
    class LinkBox(anywidget.AnyWidget):
        """The "copy link" row; ``url_link`` is what the page URL held (set by the front end)."""

        _esm = _ESM
        link = traitlets.Unicode("").tag(sync=True)
        url_link = traitlets.Unicode("").tag(sync=True)

        def __init__(self, lab, **kwargs: Any):
            super().__init__(**kwargs)
            self._lab = lab
            self.on_msg(self._on_msg)
            self.observe(self._on_url, names="url_link")

        def _on_msg(self, _widget, content, _buffers) -> None:
            if isinstance(content, dict) and content.get("type") == "link":
                self.refresh()

        def refresh(self) -> str:
            text = self._lab.link() or ""
            self.link = ""  # a change even when the link is the same as last time
            self.link = text
            return text

        def _on_url(self, change) -> None:
            if change["new"]:
                self._lab.open_link(change["new"])
else:
    class LinkBox(widgets.HBox):
        """Without anywidget: a button that shows the link in a text box (copy it by hand)."""

        def __init__(self, lab, **kwargs: Any):
            self._lab = lab
            self._button = widgets.Button(description="copy link")
            self._text = widgets.Text(layout=widgets.Layout(flex="1 1 auto"))
            self._button.on_click(lambda _b: self.refresh())
            super().__init__([self._button, self._text], **kwargs)
            self.url_link = ""

        @property
        def link(self) -> str:
            return self._text.value

        def refresh(self) -> str:
            self._text.value = self._lab.link() or ""
            return self._text.value


def attach(lab) -> None:
    """Put the link row under the Lab (called once by ``Lab.__init__``)."""
    if getattr(lab, "link_box", None) is None:
        lab.link_box = LinkBox(lab)
    lab.children = (*lab.children, lab.link_box)


def scenario_name(name: str) -> str:
    """A scenario file's path becomes its scenario's name (the file is loaded and listed in
    the picker); any other name, or a file that cannot be loaded, is returned as it is (the Lab
    then reports the problem)."""
    split = scenario_files.split_file_name(name) if isinstance(name, str) else None
    if split is None:
        return name
    try:
        scenario = scenario_files.load(split[0])
    except ConfigError:
        return name
    return scenario.name + (f"/{split[1]}" if split[1] is not None else "")


def extra_scenarios(known: list[str]) -> list[str]:
    """Picker entries beyond the presets: files in ``scenarios/`` next to the notebook, in
    ``$KAFKALAB_SCENARIOS`` and any scenario file loaded in this kernel."""
    names, _errors = scenario_files.picker_entries()
    for s in scenario_files.REGISTRY.values():
        names.append(s.name)
        names.extend(f"{s.name}/{v}" for v in s.variants)
    return [n for n in dict.fromkeys(names) if n not in known]


def lab_link(lab) -> str | None:
    """The link to what the Lab shows: its run (scenario, changed settings, faults, seed) at
    its current step."""
    if lab.result is None:
        return None
    return links.link_of_result(lab.result, lab.step)


def open_in(lab, text: str) -> bool:
    """Restore ``lab`` at the state a link names; a bad link is reported in one line in the
    dashboard and the last good run stays."""
    try:
        state = links.decode(text)
        scenario = links.scenario_of(state)
        result = links.run(state, measure=False)  # the Lab's own runs measure nothing extra
        last = max(len(result.events) - 1, 0)
        step = last if state.step is None else state.step
        if step > last:
            raise links.LinkError(f"the link's step {step} is past the end of this run "
                                  f"({last + 1} steps): the model changed since the link was "
                                  "made")
    except ConfigError as exc:
        lab._set_error(str(exc))
        return False
    except Exception as exc:  # never raise into the notebook
        lab._set_error(f"kafkalab: this link cannot be opened ({type(exc).__name__}: {exc})")
        return False
    name = scenario.name
    options = list(lab.scenario_picker.options)
    if name not in options:
        lab.scenario_picker.options = [*options, name]
    if not lab.load(name):
        return False
    # the Lab's own writes (lab._show_values): its control observers do not re-run
    shown = {**settings.config_to_controls(result.config), "seed": state.seed}
    if state.faults is not None:  # the link's plan replaces the scenario's, as in a run
        lab._other_faults = copy.deepcopy(normalise(state.faults))
        shown.update({key: field.default for key, field in settings.FAULT_FIELDS.items()
                      if key != "producer.restart.zombie"})
        shown.update({key: field.default for key, field in settings.SLOT_FIELDS.items()})
    lab._show_values(shown)
    lab._explicit |= set(state.overrides)
    # settings no control shows stay in the run when a control is changed later
    lab._preset = dataclasses.replace(lab._preset, config={**lab._preset.config,
                                                           **state.overrides})
    lab.show_result(result)
    lab.step = step
    notes = links.changes(state, result)
    if notes:
        lab._set_text("<b>Note</b><br>" + "<br>".join(notes))
    return True


def from_link(cls, text: str, **kwargs: Any):
    """A new Lab at the state ``text`` names (a link, or a URL with ``#kafkalab=…``)."""
    try:
        state = links.decode(text)
        scenario = links.scenario_of(state).name
    except ConfigError as exc:
        lab = cls(**kwargs)
        lab._set_error(str(exc))
        return lab
    lab = cls(scenario, **kwargs)
    lab.open_link(text)
    return lab


def lab_from_link(text: str):
    """``kafkalab.open_link``'s Lab."""
    from .lab import Lab

    return Lab.from_link(text)
