"""`make lab`, exactly as the README says, starts JupyterLab and serves notebook 00 (issue 14.8).

The test runs ``make lab`` on a free port (``LAB_PORT``) with no display, waits for the server
to say it is running, reads the URL ``make lab`` printed, opens notebook 00 through the server,
and stops the server (its whole process group). When the user is root it checks the one line
that says so and that the server started anyway (JupyterLab refuses root without --allow-root).
The venv must already be installed: if ``make lab`` would install it first, the test is skipped.
"""

from __future__ import annotations

import json
import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
STARTUP_S = 180  # a deadline for the server to come up on a loaded machine, not a measurement


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _lines(stream, out: queue.Queue) -> None:
    for line in stream:
        out.put(line)
    out.put(None)


def _wait_until_it_answers(url: str, lines: queue.Queue, seen: list[str]) -> None:
    """The server logs "is running at" a moment before it accepts connections: retry a refused
    connection, each time after the next log line or a short pause, up to the deadline."""
    deadline = time.monotonic() + STARTUP_S
    while True:
        try:
            with urllib.request.urlopen(url, timeout=30) as reply:
                assert reply.status == 200
                return
        except urllib.error.URLError as exc:
            if not isinstance(exc.reason, ConnectionRefusedError) or \
                    time.monotonic() > deadline:
                raise AssertionError("the server never answered:\n" + "".join(seen)) from exc
        try:
            line = lines.get(timeout=0.2)
        except queue.Empty:
            continue
        assert line is not None, "make lab stopped:\n" + "".join(seen)
        seen.append(line)


def _make_args() -> list[str]:
    """Plain ``make lab`` in a checkout with its own .venv (CI). Run from a venv elsewhere (a
    shared one), point VENV at it; and when that venv already holds the stamp for exactly
    these pins (the stamp's name is their checksum), tell make not to redo it (``-o``) even
    if a checkout made pyproject.toml look newer."""
    venv = Path(sys.prefix)
    if venv.resolve() == (ROOT / ".venv").resolve():
        return []
    cksum = subprocess.run("cat pyproject.toml binder/requirements.txt | cksum | cut -d' ' -f1",
                           shell=True, cwd=ROOT, capture_output=True, text=True).stdout.strip()
    stamp = venv / f".installed-{cksum}"
    return [f"VENV={venv}"] + (["-o", str(stamp)] if stamp.exists() else [])


@pytest.mark.slow
def test_make_lab_starts_jupyterlab_and_serves_notebook_00():
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    args = _make_args()
    dry = subprocess.run(["make", "-n", "lab", *args], cwd=ROOT, capture_output=True, text=True,
                         check=True)
    if "pip install" in dry.stdout:
        pytest.skip("make lab would install the venv first; this test only starts the server")
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY",
                                                              "BROWSER")}
    env["LAB_PORT"] = str(_free_port())
    proc = subprocess.Popen(["make", "lab", *args], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=_lines, args=(proc.stdout, lines), daemon=True).start()
    seen: list[str] = []
    try:
        url = None
        while True:
            line = lines.get(timeout=STARTUP_S)
            assert line is not None, "make lab stopped:\n" + "".join(seen)
            seen.append(line)
            found = re.search(r"make lab: open (http://\S+)", line)
            if found:
                url = found.group(1)
            if "is running at" in line or "Use Control-C to stop this server" in line:
                break
        assert url, "make lab printed no URL:\n" + "".join(seen)
        text = "".join(seen)
        assert "Running as root is not recommended" not in text
        if os.geteuid() == 0:
            assert sum("--allow-root" in s and s.startswith("make lab:") for s in seen) == 1
        assert "no browser is opened" in text
        base, token = re.match(r"(http://[^/]+)/lab/tree/notebooks/00_start_here\.ipynb\?token=(\w+)",
                               url).groups()
        assert base == f"http://localhost:{env['LAB_PORT']}"
        _wait_until_it_answers(f"{base}/api/status?token={token}", lines, seen)
        with urllib.request.urlopen(url, timeout=60) as page:
            assert page.status == 200 and "JupyterLab" in page.read().decode()
        api = f"{base}/api/contents/notebooks/00_start_here.ipynb?content=1&token={token}"
        with urllib.request.urlopen(api, timeout=60) as reply:
            model = json.load(reply)
        assert model["type"] == "notebook" and model["name"] == "00_start_here.ipynb"
        assert model["content"]["cells"], "notebook 00 came back empty"
        # its "Practice" and glossary links leave notebooks/: they must be inside the root too
        exercises = f"{base}/api/contents/exercises?token={token}"
        with urllib.request.urlopen(exercises, timeout=60) as reply:
            assert json.load(reply)["type"] == "directory"
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    with pytest.raises(OSError):  # the server is gone
        urllib.request.urlopen(f"{base}/api/status", timeout=10)


def test_lab_launcher_flags():
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import lab
    finally:
        sys.path.pop(0)
    assert not lab.has_display({}, platform="linux")
    assert lab.has_display({"DISPLAY": ":0"}, platform="linux")
    assert lab.has_display({}, platform="darwin")
    cmd = lab.command({}, 8890, "t", root=True, display=False)
    assert "--allow-root" in cmd and "--no-browser" in cmd and "--ServerApp.port=8890" in cmd
    cmd = lab.command({}, 8890, "t", root=False, display=True)
    assert "--allow-root" not in cmd and "--no-browser" not in cmd
