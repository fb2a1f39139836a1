"""Links to a moment of a run: a compact, URL-safe, versioned string.

A run is reproducible from its scenario, config overrides, fault plan and seed (the model is
deterministic), and a moment in it is a step. ``encode(LinkState(...))`` packs those into
``k1.<body>.<check>``: ``k1`` is the link format version, ``body`` the state as compact JSON,
raw-deflated and base64url-encoded, ``check`` the first 6 bytes of its SHA-256 (base64url), so
a truncated or changed link is refused instead of opening a different run. ``decode`` also
accepts a whole URL holding ``#kafkalab=…`` or ``?kafkalab=…``.

The scenario is a preset name (``preset`` or ``preset/variant``) or, for an instructor's own
scenario file, the file's whole content (the link then opens anywhere, without the file).
The link also records the run's counters when it was made, so that a link from an older
kafkalab whose model has since changed opens with a note saying what changed.

No ipywidgets or plotly here: ``kafkalab.links`` works in any kernel and on the command line.
"""

from __future__ import annotations

import base64
import binascii
import copy
import hashlib
import json
import re
import zlib
from dataclasses import dataclass, field
from typing import Any

from .model.config import PROPERTIES, ConfigError, closest_key

VERSION = 1
MAX_LINK = 2_000  # characters: a URL limit old browsers, chat tools and LMSs all keep
_LINK = re.compile(r"^k(?P<version>\d+)\.(?P<body>[A-Za-z0-9_-]*)\.(?P<check>[A-Za-z0-9_-]{8})$")
_START = re.compile(r"^k\d+(\.|$)")
_FRAGMENT = re.compile(r"[#?&]kafkalab=(?P<link>[^&#\s]*)")
_KEYS = {"s", "o", "f", "seed", "step", "out"}
PARAM = "kafkalab"  # the URL fragment / query parameter: …/08_playground.ipynb#kafkalab=k1.…


class LinkError(ConfigError):
    """A link kafkalab cannot open (one line, saying why)."""

    def __init__(self, message: str):
        super().__init__(f"kafkalab: {message}", kafka=False)


@dataclass
class LinkState:
    """What a link holds. ``scenario``: a preset name, or a scenario file's text (a str
    starting with ``{`` or a dict); ``overrides``: config over the scenario's; ``faults``:
    the fault plan (None: the scenario's own); ``seed``; ``step`` (None: the run's last)."""

    scenario: str
    overrides: dict = field(default_factory=dict)
    faults: list | None = None
    seed: int = 0
    step: int | None = None
    outcome: dict | None = None  # the counters when the link was made (checked on opening)

    def __post_init__(self):
        if isinstance(self.scenario, dict):
            self.scenario = json.dumps(self.scenario, sort_keys=True, separators=(",", ":"),
                                       ensure_ascii=False)

    @property
    def inline(self) -> bool:
        return self.scenario.lstrip().startswith(("{", "format", "name", "["))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _checksum(version: int, body: str) -> str:
    return _b64(hashlib.sha256(f"k{version}.{body}".encode("ascii")).digest()[:6])


def encode(state: LinkState) -> str:
    """The link for ``state`` (see the module docstring for the format)."""
    data: dict[str, Any] = {"s": state.scenario}
    if state.overrides:
        data["o"] = state.overrides
    if state.faults is not None:
        data["f"] = state.faults
    if state.seed:
        data["seed"] = state.seed
    if state.step is not None:
        data["step"] = state.step
    if state.outcome:
        data["out"] = state.outcome
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False)
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    body = _b64(packer.compress(text.encode("utf-8")) + packer.flush())
    return f"k{VERSION}.{body}.{_checksum(VERSION, body)}"


def extract(text: str) -> str:
    """The link inside ``text``: the link itself, or a URL with ``#kafkalab=``/``?kafkalab=``."""
    if not isinstance(text, str):
        raise LinkError(f"a link is text such as 'k1.…', not {type(text).__name__}")
    text = text.strip()
    m = _FRAGMENT.search(text)
    if m:
        from urllib.parse import unquote

        text = unquote(m["link"])
    return text


def decode(text: str) -> LinkState:
    """Read a link; refuses (LinkError, one line) a truncated, changed or newer link, or one
    whose contents this kafkalab cannot use (an unknown scenario or property)."""
    link = extract(text)
    if not link:
        raise LinkError("the link is empty")
    m = _LINK.match(link)
    if m is None:
        if _START.match(link):
            head = re.match(r"^k(\d+)", link)
            if head and int(head[1]) > VERSION:
                raise _newer(int(head[1]))
            if link.count(".") == 2:
                raise LinkError("the link is damaged (truncated or changed): its checksum "
                                "does not match; copy the whole link again")
            raise LinkError("the link is incomplete (cut off when it was copied?): copy the "
                            "whole link, it ends with an 8-character checksum")
        raise LinkError(f"{_short(link)} is not a kafkalab link (they start with 'k{VERSION}.')")
    version = int(m["version"])
    if version > VERSION:
        raise _newer(version)
    if version < 1:
        raise LinkError(f"link format {version} does not exist")
    if _checksum(version, m["body"]) != m["check"]:
        raise LinkError("the link is damaged (truncated or changed): its checksum does not "
                        "match; copy the whole link again")
    try:
        raw = zlib.decompress(_unb64(m["body"]), -15)
        data = json.loads(raw.decode("utf-8"))
    except (binascii.Error, zlib.error, UnicodeDecodeError, ValueError, RecursionError):
        raise LinkError("the link is damaged: its contents cannot be read") from None
    return _state(data)


def _newer(version: int) -> LinkError:
    return LinkError(f"this link was made by a newer kafkalab (link format {version}; this "
                     f"kafkalab reads format {VERSION}): upgrade kafkalab to open it")


def _short(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:37] + "...")


def _state(data) -> LinkState:
    if not isinstance(data, dict) or not isinstance(data.get("s"), str):
        raise LinkError("the link is damaged: it names no scenario")
    unknown = set(data) - _KEYS
    if unknown:
        raise LinkError(f"the link holds {', '.join(sorted(unknown))}, which this kafkalab "
                        "does not know (made by a newer kafkalab?)")
    overrides = data.get("o", {})
    if not isinstance(overrides, dict):
        raise LinkError("the link is damaged: its settings are not key=value pairs")
    for key in overrides:
        if key not in PROPERTIES:
            hint = closest_key(key)
            raise LinkError(f"the link sets {key!r}, which this kafkalab does not know"
                            + (f" (did you mean {hint!r}?)" if hint else ""))
    faults = data.get("f")
    if faults is not None and not isinstance(faults, list):
        raise LinkError("the link is damaged: its fault plan is not a list")
    seed, step = data.get("seed", 0), data.get("step")
    for label, value in (("seed", seed), ("step", step)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                  or value < 0):
            raise LinkError(f"the link's {label} {value!r} is not a whole number ≥ 0")
    outcome = data.get("out")
    if outcome is not None and not isinstance(outcome, dict):
        raise LinkError("the link is damaged: its recorded outcome is not an object")
    return LinkState(data["s"], overrides, faults, seed, step, outcome)


# -- from a link to a run -------------------------------------------------------------------

OUTCOME_KEYS = ("lost", "duplicates", "log_duplicates", "events")


def scenario_of(state: LinkState):
    """The link's Scenario (an inline scenario file is validated and registered)."""
    from . import scenario_files, scenarios

    if state.inline:
        toml = not state.scenario.lstrip().startswith("{")
        return scenario_files.from_text(state.scenario, "the link's scenario", toml=toml,
                                        source=state.scenario)
    try:
        return scenarios.get(state.scenario)
    except ConfigError as exc:
        message = str(exc).removeprefix("kafkalab: ")
        raise LinkError(f"this link's scenario cannot be opened: {message}") from None


def run(state: LinkState, snapshots: bool = True, measure: bool = True):
    """The link's run (a RunResult), re-simulated (``measure=False``: as the Lab runs it,
    without a preset's extra measured runs)."""
    from . import scenarios

    scenario = scenario_of(state)
    name = scenario.name
    return scenarios.run(name, seed=state.seed, overrides=copy.deepcopy(state.overrides),
                         faults=copy.deepcopy(state.faults), snapshots=snapshots,
                         measure=measure)


def fingerprint(result) -> dict:
    """The counters a link records, to tell on opening whether the model changed."""
    o = result.outcome
    out = {k: o[k] for k in OUTCOME_KEYS[:-1] if k in o}
    out["events"] = len(result.events)
    return out


def changes(state: LinkState, result) -> list[str]:
    """Notes when the run differs from the one the link was made from (an older model)."""
    if not state.outcome:
        return []
    now = fingerprint(result)
    diff = [f"{k}={state.outcome[k]} then, {now[k]} now" for k in OUTCOME_KEYS
            if k in state.outcome and k in now and state.outcome[k] != now[k]]
    if not diff:
        return []
    return ["this link was made with another version of kafkalab's model; the run differs: "
            + ", ".join(diff)]


def link_for(scenario: str, overrides: dict | None = None, faults: list | None = None,
             seed: int = 0, step: int | None = None, result=None) -> str:
    """The link of a run given by its parts (``result``: its RunResult, to record counters)."""
    state = LinkState(scenario, dict(overrides or {}), faults, seed, step)
    if result is not None:
        state.outcome = fingerprint(result)
    return encode(state)


def link_of_result(result, step: int | None = None) -> str | None:
    """The link of a RunResult that came from a preset or scenario file, or None when the
    run does not name one. The config is stored as overrides of the scenario's (only what
    differs) and the fault plan in full."""
    from . import scenarios

    if not result.scenario:
        return None
    try:
        scenario = scenarios.get(result.scenario)
    except ConfigError:
        return None
    from .model.config import resolve

    base = resolve(copy.deepcopy(scenario.config))
    overrides = {k: v for k, v in result.config.items() if k in PROPERTIES and
                 base.get(k) != v}
    name = scenario.source if scenario.source else scenario.name
    from .model.faults import normalise

    faults = list(result.faults)
    same = faults == normalise(copy.deepcopy(list(scenario.faults)))
    return link_for(name, overrides, None if same else faults, result.seed, step, result)


@dataclass
class OpenedLink:
    """What ``kafkalab.open_link`` returns: the decoded ``state``, the re-simulated
    ``result``, the ``step`` it points at, ``notes`` (the model changed since) and the
    ``lab`` at that state when ipywidgets is installed (displaying this shows the Lab)."""

    state: LinkState
    result: Any
    step: int
    notes: list[str]
    lab: Any = None

    def _ipython_display_(self):
        from IPython.display import display

        display(self.lab if self.lab is not None else self.result)


def open_link(text: str, lab: bool = True) -> OpenedLink:
    """Decode a link and restore its run (and a Lab at its step, when widgets exist)."""
    state = decode(text)
    result = run(state)
    last = max(len(result.events) - 1, 0)
    step = last if state.step is None else state.step
    if step > last:
        raise LinkError(f"the link's step {step} is past the end of this run ({last + 1} "
                        "steps): the model changed since the link was made")
    notes = changes(state, result)
    opened = OpenedLink(state, result, step, notes)
    if lab:
        try:
            from .widgets.link import lab_from_link
        except ImportError:  # no ipywidgets/plotly: the run alone
            return opened
        opened.lab = lab_from_link(text)
    return opened


def link_html(result, step: int | None = None) -> str:
    """A paragraph with the run's link (for the HTML report), or "" when it has none."""
    import html

    try:
        link = link_of_result(result, step)
    except (ConfigError, ValueError):
        return ""
    if not link:
        return ""
    return ("<p class='kafkalab-link' style='font-size:13px'>Link to this run (open it with "
            "<code>kafkalab.open_link(…)</code>, <code>python -m kafkalab report --link …</code> "
            f"or notebook 08's URL <code>#{PARAM}=…</code>):<br><code style='word-break:"
            f"break-all'>{html.escape(link)}</code></p>")
