"""Inside the grading kernel: run one check cell's source and hand its result back.

The grader replaces each check cell with ``run_check(<the exercise's check source>,
globals())``: the source runs in the learner's namespace like a cell (its last expression is
the result) and the CheckResult is displayed as a ``application/vnd.kafkalab.check+json``
bundle the grader reads back. Nothing here prints or parses English text.
"""

from __future__ import annotations

import ast

MIME = "application/vnd.kafkalab.check+json"
#: How much of an error's text a grade row keeps (it was cut at 300 characters without a
#: word); what is left out is counted in the row, never dropped silently.
ERROR_TEXT_CHARS = 1000


def clip(text: str, limit: int = ERROR_TEXT_CHARS) -> str:
    """``text`` itself, or its first ``limit`` characters and how many more there were."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text) - limit} more characters)"


def _emit(data: dict) -> None:
    from IPython.display import display

    display({MIME: data, "text/plain": f"{data.get('status')}: {data.get('summary')}"},
            raw=True)


def run_check(code: str, namespace: dict) -> None:
    _emit(check_data(code, namespace))


def check_data(code: str, namespace: dict) -> dict:
    """Run a check cell's source in ``namespace``; its result as plain data."""
    try:
        tree = ast.parse(code)
        last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
        exec(compile(tree, "<check>", "exec"), namespace)
        value = eval(compile(ast.Expression(last.value), "<check>", "eval"),
                     namespace) if last is not None else None
    except NameError as exc:
        return {"status": "error", "summary": f"the check cannot find your answer ({exc}): "
                "run the answer cell, and keep the name the task asks for"}
    except BaseException as exc:  # a learner's function may raise anything
        if isinstance(exc, KeyboardInterrupt):
            raise
        return {"status": "error", "summary": f"the check stopped with {type(exc).__name__}: "
                f"{str(exc).splitlines()[0][:200] if str(exc) else ''}"}
    from kafkalab.checks import CheckResult

    if not isinstance(value, CheckResult):
        return {"status": "error", "summary": "the check cell returned no check result"}
    return {"status": value.status, "summary": value.summary, "details": value.details,
            "notes": list(value.notes), "text": value.text(), "runs": value.runs}
