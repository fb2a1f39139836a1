"""An instructor's own scenarios: JSON (or TOML) files shaped like the built-in presets.

A scenario file holds what a preset holds, by the same names::

    {
      "format": "kafkalab-scenario/1",
      "name": "my-lesson",
      "title": "Auto-commit loses the tail of a batch",
      "story": "What the room sees, in two or three sentences.",
      "config": {"enable.auto.commit": true, "messages": 10, ...},
      "faults": [{"type": "processing_failure", "message": 8}],
      "seed": 0,
      "expect": {"lost": 2, "duplicates": 0},
      "questions": ["Which records will be lost?"]
    }

Only ``name`` and ``config`` are required. ``config`` uses Kafka's property names and is
validated like any configuration; ``faults`` is a fault plan (docs/scenarios.md); ``expect``
is checked by running the scenario once when the file is loaded, so a file that does not show
what it claims is refused ("this scenario does not show what it claims: expected lost=2, got
0"). ``variants`` ({name: {"title", "story", "config", "faults", "expect"}}) and
``strategies`` (commit strategies to compare by throughput) are accepted as in the presets.

A path ending in ``.json`` or ``.toml`` is accepted wherever a preset name is
(``scenarios.get/run``, ``python -m kafkalab run|report|sweep FILE``, ``Lab("FILE")``, links).
A loaded file is registered under its ``name``, so later lookups by name find it.
"""

from __future__ import annotations

import copy
import json
import os
import re
from pathlib import Path
from typing import Any

from .expect import check as expect_check
from .expect import valid as expect_valid
from .model.config import COMMIT_STRATEGIES, ConfigError, closest_name, resolve
from .model.faults import check_against, normalise

FORMAT = "kafkalab-scenario/1"
SUFFIXES = (".json", ".toml")
KEYS = ("format", "name", "title", "story", "config", "faults", "seed", "expect", "questions",
        "variants", "strategies")
VARIANT_KEYS = ("title", "story", "config", "faults", "expect")
# The outcome counters an expectation may name (RunResult.outcome's integer counters).
EXPECT_KEYS = ("sent", "acked", "written", "delivered", "processed", "lost", "duplicates",
               "log_duplicates", "written_more_than_once", "extra_copies", "aborted_copies",
               "unseen", "never_sent", "exactly_once",
               "zombie_records", "rebalances",  # consumer groups (issue 17)
               "lost_after_ack", "lost_unacked", "truncated")  # replication (issue 18)
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$")
_FILE_NAME = re.compile(r"^(?P<path>.*\.(?:json|toml))(?:/(?P<variant>[^/]*))?$", re.IGNORECASE)

# Loaded files by scenario name (what scenarios.get falls back to), and by source text.
REGISTRY: dict[str, Any] = {}
_VERIFIED: dict[str, Any] = {}


class ScenarioFileError(ConfigError):
    """A scenario file kafkalab cannot use (one line, naming the file and the problem)."""

    def __init__(self, message: str):
        super().__init__(message if message.startswith("kafkalab: ") else f"kafkalab: {message}",
                         kafka=False)


def split_file_name(name: str) -> tuple[str, str | None] | None:
    """``("lesson.json", None)`` / ``("lesson.json", "variant")`` for a file name, else None."""
    if not isinstance(name, str):
        return None
    m = _FILE_NAME.match(name.strip())
    return (m["path"], m["variant"]) if m else None


def _hint(key: str, allowed) -> str:
    match = closest_name(key, allowed)  # the properties' own "did you mean" (model/config.py)
    return f"; did you mean {match!r}?" if match else f"; allowed: {', '.join(allowed)}"


def parse(text: str, where: str, toml: bool = False) -> dict:
    """The file's content as a dict (JSON, or TOML when ``toml``)."""
    try:
        if toml:
            import tomllib

            data = tomllib.loads(text)
        else:
            data = json.loads(text)
    except ValueError as exc:  # JSONDecodeError, TOMLDecodeError
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ScenarioFileError(f"{where} is not valid {'TOML' if toml else 'JSON'}: "
                                f"{first[:120]}") from None
    except RecursionError:
        raise ScenarioFileError(f"{where} is nested too deeply to read") from None
    if not isinstance(data, dict):
        raise ScenarioFileError(f"{where}: a scenario file holds one object (name, title, "
                                f"config, ...), not a {type(data).__name__}")
    return data


def read(path: str | os.PathLike) -> dict:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioFileError(f"scenario file {str(path)!r} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioFileError(f"scenario file {str(path)!r} cannot be read: "
                                f"{getattr(exc, 'strerror', None) or exc}") from None
    return parse(text, str(path), toml=p.suffix.lower() == ".toml")


def _expect(value, where: str) -> dict:
    if not isinstance(value, dict):
        raise ScenarioFileError(f"{where}: 'expect' is an object such as "
                                f"{{\"lost\": 2, \"duplicates\": 0}}")
    out = {}
    for key, want in value.items():
        if key not in EXPECT_KEYS:
            raise ScenarioFileError(f"{where}: expect has no counter {key!r}"
                                    + _hint(key, EXPECT_KEYS))
        if not expect_valid(want, EXPECT_KEYS):
            raise ScenarioFileError(f"{where}: expect {key}={want!r}: a whole number ≥ 0, or "
                                    "an operator (== >= <= > <) and a number or counter, such "
                                    "as \">0\" or \"==lost\"")
        out[key] = want
    return out


def _config(value, where: str) -> dict:
    if not isinstance(value, dict):
        raise ScenarioFileError(f"{where}: 'config' is an object of Kafka properties, such as "
                                "{\"enable.auto.commit\": false}")
    try:
        resolve(copy.deepcopy(value))
    except ConfigError as exc:
        raise ScenarioFileError(f"{where}: {str(exc).removeprefix('kafkalab: ')}") from None
    return dict(value)


def _faults(value, config: dict, where: str) -> list:
    try:
        plan = normalise(copy.deepcopy(value))
        check_against(plan, resolve(copy.deepcopy(config)))
    except ConfigError as exc:
        raise ScenarioFileError(f"{where}: {str(exc).removeprefix('kafkalab: ')}") from None
    return list(value) if isinstance(value, list) else [value]


def from_dict(data: dict, where: str = "scenario file", source: str | None = None):
    """Validate a scenario file's content and build a Scenario (not run, not registered)."""
    from .scenarios import Scenario

    if not isinstance(data, dict):
        raise ScenarioFileError(f"{where}: a scenario is an object, not a {type(data).__name__}")
    for key in data:
        if key not in KEYS:
            raise ScenarioFileError(f"{where}: unknown key {key!r}" + _hint(key, KEYS))
    fmt = data.get("format", FORMAT)
    if fmt != FORMAT:
        raise ScenarioFileError(f"{where}: format {fmt!r} is not one this kafkalab reads "
                                f"({FORMAT!r})")
    name = data.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        raise ScenarioFileError(f"{where}: 'name' is required: letters, digits, '.', '_' or "
                                f"'-' (at most 80), not {name!r}")
    for key in ("title", "story"):
        if not isinstance(data.get(key, ""), str):
            raise ScenarioFileError(f"{where}: {key!r} is text")
    if "config" not in data:
        raise ScenarioFileError(f"{where}: 'config' is required (an object of Kafka "
                                "properties; {} for every default)")
    config = _config(data["config"], where)
    faults = _faults(data.get("faults", []), config, where)
    seed = data.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ScenarioFileError(f"{where}: seed {seed!r} is not a whole number ≥ 0")
    expect = _expect(data.get("expect", {}), where)
    questions = data.get("questions", [])
    if not isinstance(questions, list) or not all(isinstance(q, str) for q in questions):
        raise ScenarioFileError(f"{where}: 'questions' is a list of strings")
    strategies = data.get("strategies", [])
    if not isinstance(strategies, list) or any(s not in COMMIT_STRATEGIES for s in strategies):
        raise ScenarioFileError(f"{where}: 'strategies' is a list of commit strategies: "
                                f"{', '.join(COMMIT_STRATEGIES)}")
    variants = data.get("variants", {})
    if not isinstance(variants, dict):
        raise ScenarioFileError(f"{where}: 'variants' is an object of name → variant")
    clean_variants = {}
    for vname, v in variants.items():
        vwhere = f"{where}, variant {vname!r}"
        if not isinstance(v, dict) or not _NAME.match(str(vname)):
            raise ScenarioFileError(f"{vwhere}: a variant is an object with a plain name")
        for key in v:
            if key not in VARIANT_KEYS:
                raise ScenarioFileError(f"{vwhere}: unknown key {key!r}"
                                        + _hint(key, VARIANT_KEYS))
        vconfig = _config({**config, **v.get("config", {})}, vwhere)
        out = dict(v)
        if "faults" in v:
            out["faults"] = _faults(v["faults"], vconfig, vwhere)
        else:
            _faults(faults, vconfig, vwhere)
        if "expect" in v:
            out["expect"] = _expect(v["expect"], vwhere)
        clean_variants[vname] = out
    return Scenario(name, data.get("title", "") or name, data.get("story", ""), config,
                    faults, expect, clean_variants, tuple(strategies), seed=seed,
                    questions=tuple(questions), source=source)


def to_dict(scenario) -> dict:
    """A Scenario as a scenario file's content (what ``scenarios --export`` writes)."""
    out: dict[str, Any] = {"format": FORMAT, "name": scenario.name, "title": scenario.title,
                           "story": scenario.story, "config": copy.deepcopy(scenario.config),
                           "faults": copy.deepcopy(list(scenario.faults)),
                           "seed": getattr(scenario, "seed", 0),
                           "expect": dict(scenario.expect)}
    if getattr(scenario, "questions", ()):
        out["questions"] = list(scenario.questions)
    if scenario.variants:
        out["variants"] = copy.deepcopy(scenario.variants)
    if scenario.strategies:
        out["strategies"] = list(scenario.strategies)
    return out


def export(name: str) -> str:
    """A preset (or preset/variant) as scenario-file JSON text, to start a lesson from."""
    from . import scenarios

    scenario = scenarios.get(name)
    data = to_dict(scenario)
    if "/" in scenario.name:  # a variant becomes a scenario of its own
        data["name"] = scenario.name.replace("/", ".")
        data.pop("variants", None)
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def claims(scenario, seed: int | None = None) -> list[str]:
    """What the scenario (and each variant) claims but does not show: ["expected lost=2,
    got 0", ...] (empty when every expectation holds)."""
    from .model import simulate

    problems = []
    targets = [(scenario, "")] + [(scenario.variant(v), f" (variant {v})")
                                  for v in scenario.variants]
    for target, label in targets:
        if not target.expect:
            continue
        plan = copy.deepcopy(list(target.faults))
        config = copy.deepcopy(target.config)
        outcome = simulate(config, plan, scenario.seed if seed is None else seed,
                           snapshots=False).outcome
        for key, want in target.expect.items():  # the one expectation language
            if expect_check(outcome, {key: want}):
                problems.append(f"expected {key}={want}, got {outcome.get(key)}{label}")
    return problems


def register(scenario, where: str) -> None:
    """Make a loaded scenario findable by name; a built-in preset's name is refused unless
    the file is that preset unchanged (an exported preset)."""
    from .scenarios import PRESETS

    preset = PRESETS.get(scenario.name)
    if preset is not None and to_dict(preset) != to_dict(scenario):
        raise ScenarioFileError(f"{where}: name {scenario.name!r} is a built-in preset's; give "
                                "your scenario its own name")
    REGISTRY[scenario.name] = scenario


def from_text(text: str, where: str = "scenario", toml: bool = False, verify: bool = True,
              source: str | None = None):
    """Parse, validate, check its claims (once per content) and register a scenario."""
    key = f"{int(toml)}:{text}"
    if key in _VERIFIED:
        scenario = _VERIFIED[key]
    else:
        scenario = from_dict(parse(text, where, toml), where, source=source)
        if verify:
            problems = claims(scenario)
            if problems:
                raise ScenarioFileError(f"{where}: this scenario does not show what it claims: "
                                        + "; ".join(problems))
        _VERIFIED[key] = scenario
    register(scenario, where)
    return scenario


def load(path: str | os.PathLike, verify: bool = True):
    """Load a scenario file: validated, its expectation checked, registered by name."""
    p = Path(path)
    if p.suffix.lower() not in SUFFIXES:
        raise ScenarioFileError(f"scenario file {str(path)!r}: the name ends in .json or .toml")
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioFileError(f"scenario file {str(path)!r} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioFileError(f"scenario file {str(path)!r} cannot be read: "
                                f"{getattr(exc, 'strerror', None) or exc}") from None
    return from_text(text, str(path), toml=p.suffix.lower() == ".toml", verify=verify,
                     source=text)


def load_folder(folder: str | os.PathLike) -> tuple[list, list[str]]:
    """Every scenario file in ``folder`` (sorted by file name): (scenarios, one-line errors).
    A bad file is reported, never fatal for the others."""
    found, errors = [], []
    p = Path(folder)
    if not p.is_dir():
        return [], ([f"kafkalab: scenario folder {str(folder)!r} does not exist"]
                    if str(folder) else [])
    for f in sorted(p.iterdir()):
        if f.suffix.lower() in SUFFIXES and f.is_file():
            try:
                found.append(load(f))
            except ConfigError as exc:
                errors.append(str(exc))
    return found, errors


def default_folders() -> list[Path]:
    """Where the Lab's picker looks: ``$KAFKALAB_SCENARIOS`` (os.pathsep-separated) and a
    ``scenarios/`` folder in the current directory (the notebook's folder in Jupyter)."""
    folders = [Path(p) for p in os.environ.get("KAFKALAB_SCENARIOS", "").split(os.pathsep) if p]
    here = Path("scenarios")
    if here.is_dir():
        folders.append(here)
    return folders


def picker_entries(folders=None) -> tuple[list[str], list[str]]:
    """Names for a scenario picker (each loaded file's name and name/variant) and the
    errors of files that could not be loaded."""
    names, errors = [], []
    for folder in (default_folders() if folders is None else folders):
        found, errs = load_folder(folder)
        errors.extend(errs)
        for s in found:
            names.append(s.name)
            names.extend(f"{s.name}/{v}" for v in s.variants)
    return list(dict.fromkeys(names)), errors
