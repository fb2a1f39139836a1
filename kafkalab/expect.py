"""The one expectation language, for presets (``Scenario.expect``) and real workloads.

An expectation maps an outcome key to what it must be: a literal (``10``, ``None``) that
must be equal, or a string ``"<op><int or outcome key>"`` with op in ``== >= <= > <``
(``">0"``, ``"==sent"``, ``"<=duplicates"``). Pure: imports nothing else of kafkalab.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from typing import Any

_EXPECT_RE = re.compile(r"^(==|>=|<=|>|<)\s*(-?\w+)$")
_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq, ">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt}


def valid(want: Any, keys: tuple[str, ...]) -> bool:
    """Whether ``want`` is a well-formed expectation of a whole-number counter: an int ≥ 0, or
    ``"<op><int or one of keys>"`` (``">0"``, ``"==lost"``)."""
    if isinstance(want, str):
        m = _EXPECT_RE.match(want.strip())
        return m is not None and (m.group(2).lstrip("-").isdigit() or m.group(2) in keys)
    return isinstance(want, int) and not isinstance(want, bool) and want >= 0


def check(outcome: Mapping[str, Any], expect: Mapping[str, Any]) -> list[str]:
    """Problems found comparing an outcome with an expectation (empty = all met), one short
    line each: ``lost=3, expected 0``."""
    problems = []
    for key, want in expect.items():
        got = outcome.get(key)
        if isinstance(want, str):
            m = _EXPECT_RE.match(want.strip())
            if not m:
                problems.append(f"{key}: bad expectation {want!r} (a number, or an operator "
                                "== >= <= > < and a number or outcome key, e.g. '>0')")
                continue
            op, rhs_text = m.groups()
            rhs = int(rhs_text) if rhs_text.lstrip("-").isdigit() else outcome.get(rhs_text)
            if got is None or rhs is None:
                problems.append(f"{key}={got!r} cannot be compared with {want!r}")
                continue
            if not _OPS[op](got, rhs):
                problems.append(f"{key}={got!r}, expected {want}")
        elif got != want:
            problems.append(f"{key}={got!r}, expected {want!r}")
    return problems
