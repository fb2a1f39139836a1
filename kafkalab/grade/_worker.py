"""Run one submission's cells in a fresh kernel (nbclient), in a temporary directory.

The kernel is its own process (its own session and process group), started with the
temporary directory as its working directory and as ``HOME``/``IPYTHONDIR``/``TMPDIR``, so
the learner's code writes nothing elsewhere by default. An IPython startup file in that
``IPYTHONDIR`` caps the kernel's address space (RLIMIT_AS) before the first cell runs. A time
budget covers the whole notebook: a cell that runs past it is interrupted and the cells after
it are not run; the kernel is killed at the end in any case.

``execute(cells, budget_s, memory_mb)`` returns ``{"cells": [{"id", "outputs", "timed_out",
"skipped"}], "died": str | None}``; each output is ``{"error", "value"}`` or ``{"check":
{...}}`` (see :mod:`.capture`).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from .capture import MIME, clip

_LIMIT = """import resource as _r
_s = {size}
try:
    _r.setrlimit(_r.RLIMIT_AS, (_s, _s))
except (ValueError, OSError):
    pass
del _r, _s
"""


def _outputs(cell) -> list[dict]:
    out = []
    for o in cell.get("outputs", []):
        if o.get("output_type") == "error":
            out.append({"error": o.get("ename", ""), "value": clip(str(o.get("evalue", "")))})
        elif o.get("output_type") in ("display_data", "execute_result"):
            data = o.get("data", {})
            if MIME in data:
                out.append({"check": data[MIME]})
    return out


def _env(tmp: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JPY_", "JUPYTER_"))}
    root = str(Path(__file__).resolve().parents[2])
    env.update(HOME=tmp, IPYTHONDIR=os.path.join(tmp, ".ipython"), MPLCONFIGDIR=tmp,
               XDG_CACHE_HOME=tmp, PYTHONDONTWRITEBYTECODE="1", TMPDIR=tmp,
               PYTHONPATH=os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p))
    return env


def _client_class():
    import nbclient

    class Client(nbclient.NotebookClient):
        """Keeps only what grading reads (errors and check results): a submission that
        prints without end cannot fill the grader's memory."""

        def output(self, outs, msg, display_id, cell_index):
            content = msg.get("content", {})
            if msg["msg_type"] == "error" or MIME in content.get("data", {}):
                return super().output(outs, msg, display_id, cell_index)
            return None

    return Client


def execute(cells: list[dict], budget_s: float = 60, memory_mb: int = 1024) -> dict:
    import subprocess

    import nbformat
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    nb = nbformat.from_dict({
        "nbformat": 4, "nbformat_minor": 5,
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                    "language": "python"}},
        "cells": [{"cell_type": "code", "id": (c["id"][:64] or "cell"), "metadata": {},
                   "source": c["source"], "outputs": [], "execution_count": None}
                  for c in cells]})
    tmp = tempfile.mkdtemp(prefix="kafkalab-grade-")
    startup = Path(tmp, ".ipython", "profile_default", "startup")
    startup.mkdir(parents=True)
    (startup / "00-kafkalab-limits.py").write_text(
        _LIMIT.format(size=int(memory_mb) * 1024 * 1024), encoding="utf-8")
    deadline = time.monotonic() + budget_s
    client = _client_class()(nb, timeout=60, kernel_name="python3", allow_errors=True,
                             interrupt_on_timeout=False, record_timing=False,
                             startup_timeout=60, resources={"metadata": {"path": tmp}})
    results, died = [], None
    try:
        with client.setup_kernel(env=_env(tmp), cwd=tmp, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL):
            for index, cell in enumerate(nb.cells):
                entry = {"id": cell.get("id"), "outputs": [], "timed_out": False,
                         "skipped": False}
                results.append(entry)
                remaining = deadline - time.monotonic()
                if remaining <= 0 or died:
                    entry["skipped"] = True
                    continue
                client.timeout = max(1, int(remaining + 0.999))
                try:
                    client.execute_cell(cell, index)
                except CellTimeoutError:
                    entry["timed_out"] = True
                    with contextlib.suppress(Exception):  # the kernel may be gone already
                        client.km.interrupt_kernel()
                except DeadKernelError:
                    died = "the kernel died while running this notebook (out of memory?)"
                    entry["outputs"] = [{"error": "DeadKernelError", "value": died}]
                    continue
                entry["outputs"] = _outputs(cell)
    except DeadKernelError:
        died = died or "the kernel died while running this notebook (out of memory?)"
    except Exception as exc:
        died = clip(f"the notebook could not be run: {type(exc).__name__}: {exc}")
    finally:
        try:
            if client.km is not None and client.km.has_kernel:
                client.km.shutdown_kernel(now=True)
        except Exception:
            pass
        shutil.rmtree(tmp, ignore_errors=True)
    return {"cells": results, "died": died}


def main() -> int:  # python -m kafkalab.grade._worker < job.json: the same, standalone
    import json

    job = json.loads(sys.stdin.read())
    json.dump(execute(job["cells"], job.get("budget_s", 60), job.get("memory_mb", 1024)),
              sys.stdout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
