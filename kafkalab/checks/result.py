"""CheckResult: what a check found, worded for a learner (never a bare AssertionError)."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

from ..model import simulate
from ..model.faults import describe
from ..palette import STATUS

PASS, FAIL, NOT_DONE = "pass", "fail", "not done"
_MARK = {PASS: "✓", FAIL: "✗", NOT_DONE: "…"}
_COLOUR = {status: STATUS[status] for status in (PASS, FAIL, NOT_DONE)}


@dataclass
class CheckResult:
    """The outcome of one check.

    ``status`` is ``"pass"``, ``"fail"`` or ``"not done"``; ``summary`` is one sentence;
    ``details`` is more text (e.g. the ``explain()`` of the counterexample's message);
    ``counterexample`` is ``{"config", "faults", "seed", "message"}`` when a run broke the
    property, and ``run`` that run's :class:`~kafkalab.trace.RunResult` (to plot or replay).
    """

    check: str
    status: str
    summary: str
    details: str = ""
    runs: int = 0
    counterexample: dict | None = None
    run: Any = field(default=None, repr=False)
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.status == PASS

    @property
    def done(self) -> bool:
        return self.status != NOT_DONE

    def __bool__(self) -> bool:
        return self.passed

    def replay(self, snapshots: bool = True):
        """Run the counterexample again (with snapshots, for the figures); None if none."""
        if not self.counterexample:
            return None
        ce = self.counterexample
        return simulate(ce["config"], ce["faults"], ce["seed"], snapshots=snapshots)

    def text(self) -> str:
        lines = [f"{_MARK[self.status]} {self.summary}"]
        if self.details:
            lines.append(self.details)
        if self.counterexample:
            ce = self.counterexample
            lines.append(_replay_hint(ce))
        lines.extend(f"Note: {n}" for n in self.notes)
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.text()

    __str__ = __repr__

    def _repr_html_(self) -> str:
        bg, fg = _COLOUR[self.status]
        head = html.escape(f"{_MARK[self.status]} {self.summary}")
        body = ""
        if self.details:
            body += f"<div style='margin-top:.4em'>{html.escape(self.details)}</div>"
        if self.counterexample:
            ce = self.counterexample
            body += f"<div style='margin-top:.4em'>{html.escape(_replay_hint(ce))}</div>"
        for n in self.notes:
            body += f"<div style='margin-top:.4em;font-style:italic'>Note: {html.escape(n)}</div>"
        return (f"<div class='kafkalab-check kafkalab-check-{self.status.replace(' ', '-')}' "
                f"style='background:{bg};border-left:4px solid {fg};padding:.5em .8em;"
                f"font-family:sans-serif'><b style='color:{fg}'>{head}</b>{body}</div>")


def _replay_hint(ce: dict) -> str:
    faults = "; ".join(describe(f) for f in ce["faults"]) or "no faults at all"
    return (f"Counterexample: {faults} (seed {ce['seed']}). `.replay()` on this result runs it "
            "again; `.counterexample` holds its configuration and fault plan.")


def not_done(check: str, what: str) -> CheckResult:
    return CheckResult(check, NOT_DONE, f"not done yet: {what}")
