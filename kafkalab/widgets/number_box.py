"""A labelled number box that tells the kernel about text it cannot read.

ipywidgets' IntText/FloatText parse the typed text in the browser and, when it is not a number,
silently put the old value back: the kernel never hears of it, so the Lab could not say why the
learner's "abc" vanished. This box sends every submitted text (Enter or leaving the box) to the
kernel, which parses it, keeps the bad text on screen, marks the box and sets ``rejected``.
It keeps ipywidgets' CSS classes, so it looks and is found like the other controls.
"""

from __future__ import annotations

import math
import re

import anywidget
import traitlets

from ..palette import ALERT_BACKGROUND, BORDER, FOCUS, VERMILLION

_THOUSANDS = re.compile(r"[-+]?\d{1,3}(,\d{3})+")

_ESM = """
function render({ model, el }) {
  el.classList.add("jupyter-widgets", "widget-inline-hbox", "widget-text", "kafkalab-number");
  const id = "kafkalab-number-" + Math.random().toString(36).slice(2);
  const label = document.createElement("label");
  label.className = "widget-label";
  label.htmlFor = id;
  label.style.width = model.get("description_width");
  label.style.flexShrink = "0";
  const input = document.createElement("input");
  input.type = "text";
  input.id = id;
  input.className = "widget-input";
  input.inputMode = model.get("integer") ? "numeric" : "decimal";
  input.spellcheck = false;
  const show = () => {
    label.textContent = model.get("description");
    label.title = input.title = model.get("tooltip");
    if (!model.get("rejected")) input.value = String(model.get("value"));
    input.classList.toggle("kafkalab-invalid", Boolean(model.get("rejected")));
    input.setAttribute("aria-invalid", model.get("rejected") ? "true" : "false");
  };
  let sent = null;
  const submit = () => {
    // Unchanged text is not news, unless the box currently shows a rejected text.
    const unchanged = !model.get("rejected") && input.value === String(model.get("value"));
    if (input.value === sent || unchanged) return;
    sent = input.value;
    model.send({ text: input.value });
  };
  input.addEventListener("keydown", (e) => { if (e.key === "Enter") { sent = null; submit(); } });
  input.addEventListener("blur", submit);
  input.addEventListener("input", () => { sent = null; });
  model.on("change:value", () => { sent = null; show(); });
  model.on("change:rejected", show);
  model.on("change:description", show);
  model.on("change:tooltip", show);
  show();
  el.append(label, input);
}
export default { render };
"""

_CSS = f"""
.kafkalab-number {{ align-items: center; }}
.kafkalab-number input.widget-input {{
  flex: 1 1 auto; min-width: 0; height: var(--jp-widgets-inline-height, 28px);
  box-sizing: border-box; padding: 0 6px; font-size: var(--jp-widgets-font-size, 13px);
  color: var(--jp-widgets-input-color, black);
  background: var(--jp-widgets-input-background-color, white);
  border: var(--jp-widgets-input-border-width, 1px) solid
    var(--jp-widgets-input-border-color, {BORDER});
}}
.kafkalab-number input.widget-input:focus {{
  border-color: var(--jp-widgets-input-focus-border-color, {FOCUS}); outline: none;
}}
.kafkalab-number input.kafkalab-invalid,
.kafkalab-number input.kafkalab-invalid:focus {{
  border: 2px solid {VERMILLION}; background: {ALERT_BACKGROUND};
}}
"""


class NumberBox(anywidget.AnyWidget):
    """``value`` is the number (set it from Python as with IntText); ``rejected`` is the message
    for the last text the learner submitted that is not a number ("" when the box is fine)."""

    _esm = _ESM
    _css = _CSS
    description = traitlets.Unicode("").tag(sync=True)
    tooltip = traitlets.Unicode("").tag(sync=True)
    description_width = traitlets.Unicode("190px").tag(sync=True)
    integer = traitlets.Bool(True).tag(sync=True)
    rejected = traitlets.Unicode("").tag(sync=True)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.clearing = False  # True while a new value clears ``rejected`` (see _value_set)
        self.on_msg(self._on_text)
        self.observe(self._value_set, names="value")

    def _value_set(self, _change) -> None:
        """A new number (from Python, a preset, or typed) replaces any rejected text: the box
        shows that number again. Observers of ``rejected`` can tell this case by ``clearing``
        (the value's own observers run next)."""
        self.clear()

    def clear(self) -> bool:
        """Put the box back to its last good number (``rejected`` → ""), flagged as
        ``clearing`` like a new value; True if it showed rejected text."""
        if not self.rejected:
            return False
        self.clearing = True
        try:
            self.rejected = ""
        finally:
            self.clearing = False
        return True

    def _on_text(self, _widget, content, _buffers) -> None:
        if isinstance(content, dict) and "text" in content:
            self.submit(str(content["text"]))

    def submit(self, text: str) -> bool:
        """Read ``text`` as the learner typed it: a number becomes ``value``, anything else
        becomes ``rejected`` (and ``value`` keeps the last good number)."""
        try:
            number = self.parse(text)
        except ValueError as exc:
            self.rejected = f"{self.name}: {exc}"
            return False
        self.value = number  # clears ``rejected`` when the number changed (_value_set)
        self.rejected = ""  # the same number as before: readable again
        return True

    @property
    def name(self) -> str:
        return self.description.split(" (")[0]

    def parse(self, text: str) -> int | float:
        cleaned = text.strip().replace("_", "").replace("−", "-")
        kind = "a whole number" if self.integer else "a number"
        if "," in cleaned:
            # 5,000 is five thousand; "1,0" or "0,5" is a decimal comma (or a typo), never 10
            if self.integer and _THOUSANDS.fullmatch(cleaned):
                cleaned = cleaned.replace(",", "")
            else:
                raise ValueError(
                    f"{text.strip()!r} is not {kind}: a comma may only separate thousands "
                    "(5,000); " + ("type the number without it."
                                   if self.integer else "use a point for decimals (0.5)."))
        if not cleaned:
            raise ValueError(f"the box is empty; type {kind}.")
        try:
            number = int(cleaned) if self.integer else float(cleaned)
        except ValueError:
            raise ValueError(f"{text.strip()!r} is not {kind}.") from None
        if not self.integer and not math.isfinite(number):
            raise ValueError(f"{text.strip()!r} is not a finite number.")
        return number


_JS_SAFE = 2**53 - 1  # Number.MAX_SAFE_INTEGER


def _int_to_json(value: int, _widget) -> int | str:
    """An int beyond JavaScript's safe range (Kafka's Long.MAX_VALUE defaults, such as
    log.flush.interval.messages) travels as its decimal text: in JupyterLite the Pyodide
    kernel would hand it to the page as a BigInt, which JSON cannot serialise. The box shows
    ``String(value)`` either way."""
    return value if -_JS_SAFE <= value <= _JS_SAFE else str(value)


def _int_from_json(value, _widget) -> int:
    return int(value)


class IntBox(NumberBox):
    value = traitlets.Int(0).tag(sync=True, to_json=_int_to_json, from_json=_int_from_json)


class FloatBox(NumberBox):
    value = traitlets.Float(0.0).tag(sync=True)

    def __init__(self, **kwargs):
        kwargs.setdefault("integer", False)
        super().__init__(**kwargs)
