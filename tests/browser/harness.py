"""Drive JupyterLab in headless Chromium: start a server, run notebooks, inspect and interact.

Used by the browser tests (``tests/browser``); see ``conftest.py`` for the fixtures that hand out
one :class:`LabServer` and one browser per test session. Typical use in a test::

    report = run_notebook(lab_page, lab_server, "notebooks/01_topic.ipynb")
    report.assert_clean()
    move_slider(lab_page, 3)                         # first slider, three steps right
    assert kernel_eval(lab_page, "slider.value") == 3

Everything here talks to the page through ``window.jupyterapp`` (the server is started with
``--LabApp.expose_app_in_browser=True``) and to the DOM that JupyterLab 4, ipywidgets 8 and
plotly.js render. Notes on the pitfalls are in shared/reference/jupyter-notes.md.
"""

from __future__ import annotations

import contextlib
import ctypes
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import weakref
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat

REPO_ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT_DIR = REPO_ROOT / "build" / "screenshots"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]
REQUIRE_BROWSER_ENV = "KAFKALAB_REQUIRE_BROWSER"

# Timing lines ("what: seconds") collected during the session; conftest prints them at the end.
TIMINGS: list[str] = []

# Texts that mean a widget or a renderer failed in the page (ipywidgets, anywidget, JupyterLab).
BAD_TEXTS = (
    "Error displaying widget",
    "Loading widget",
    "Model not found",
    "No version of module",
    "Click to show javascript error",
)

# Console messages that are known and harmless. Each entry: (regex, why it is harmless).
# Keep this list short; every entry hides a class of messages from every browser test.
HARMLESS_CONSOLE: tuple[tuple[str, str], ...] = (
    # None needed so far: JupyterLab 4.6 + ipywidgets 8.1 + plotly 7.1 + anywidget 0.11 log no
    # console errors on a clean run here. Add an entry only with the reason it is harmless.
)


# --------------------------------------------------------------------------- browser policy


def browser_missing_reason() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    if not os.path.exists(CHROMIUM):
        return f"{CHROMIUM} not found; apt-get install -y chromium"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed; make (installs .[test])"
    return None


def browser_required() -> bool:
    """CI sets KAFKALAB_REQUIRE_BROWSER=1: then a missing browser fails instead of skipping."""
    return os.environ.get(REQUIRE_BROWSER_ENV, "") not in ("", "0", "false", "no")


def launch_browser(playwright: Any) -> Any:
    """Debian's Chromium through Playwright (its own browser download does not work here)."""
    return playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=list(CHROMIUM_ARGS)
    )


# --------------------------------------------------------------------------- the Lab server


def _set_parent_death_signal() -> None:
    """Runs in the child before exec: SIGTERM it when the test process dies (PR_SET_PDEATHSIG)."""
    with contextlib.suppress(Exception):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM, 0, 0, 0)


def _ephemeral_low() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_port() -> int:
    """A free loopback port for a server that binds it a moment later, from below the kernel's
    ephemeral range: a port the kernel hands out for ``bind(0)`` can be taken in that moment by
    any other process binding port 0 (the real clients' mock brokers, another suite's server),
    and once it was: CI's Lab server poll got another program's bytes (``BadStatusLine``).
    Several workers may still pick the same port; the loser's server exits with "address
    already in use" and :func:`start_lab_server` tries another."""
    low = _ephemeral_low()
    rng = random.Random()  # seeded from the OS: workers do not draw the same ports in turn
    for _ in range(50):
        port = rng.randrange(max(1024, low - 12000), low)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LabServer:
    """One headless JupyterLab serving ``root_dir`` on 127.0.0.1."""

    root_dir: Path
    port: int
    proc: subprocess.Popen
    log_path: Path
    start_seconds: float = 0.0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def api(self, method: str, path: str, body: Any = None, timeout: float = 10) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method)
        req.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            raw = resp.read()
        return json.loads(raw) if raw else None

    def log_tail(self, n: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return "(no server log)"

    def shutdown_kernels(self) -> None:
        """Delete every session (and so its kernel): call between tests to keep memory low."""
        with contextlib.suppress(Exception):
            for session in self.api("GET", "/api/sessions"):
                with contextlib.suppress(Exception):
                    self.api("DELETE", f"/api/sessions/{session['id']}")

    def stop(self, timeout: float = 20) -> None:
        """Stop the server by its own PID (SIGTERM, then SIGKILL to its process group)."""
        if self.proc.poll() is not None:
            return
        self.shutdown_kernels()
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            # start_new_session=True made the server leader of its own group: pgid == pid.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)


# JupyterLab user settings for the tests. windowingMode "none" keeps every cell in the DOM, so
# counting outputs and widgets is exact (the default virtualises off-screen cells).
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {
        "windowingMode": "none",
        "scrollPastEnd": False,
    },
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
    # "Save Widget State Automatically" (Settings menu): a save writes the widget state into
    # the notebook, as nbconvert --execute does; tests/browser/test_notebooks.py measures it.
    "@jupyter-widgets/jupyterlab-manager/plugin.jupyterlab-settings": {
        "saveState": True,
    },
}


def start_lab_server(root_dir: Path, state_dir: Path, *, timeout: float = 90) -> LabServer:
    """Start JupyterLab headless on a free loopback port; return once /api/status answers 200.

    ``state_dir`` receives the temporary Jupyter config, data, runtime, settings and workspace
    folders and the server log.
    """
    env = dict(os.environ)
    for var, sub in (
        ("JUPYTER_CONFIG_DIR", "config"),
        ("JUPYTER_DATA_DIR", "data"),
        ("JUPYTER_RUNTIME_DIR", "runtime"),
        ("JUPYTERLAB_SETTINGS_DIR", "lab-settings"),
        ("JUPYTERLAB_WORKSPACES_DIR", "lab-workspaces"),
        ("IPYTHONDIR", "ipython"),
    ):
        path = state_dir / sub
        path.mkdir(parents=True, exist_ok=True)
        env[var] = str(path)
    for rel, content in LAB_SETTINGS.items():
        target = state_dir / "lab-settings" / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(content))
    env["JUPYTER_PLATFORM_DIRS"] = "1"
    env.pop("JUPYTER_TOKEN", None)

    last_error = ""
    for attempt in range(3):
        port = free_port()
        log_path = state_dir / f"server-{attempt}.log"
        cmd = [
            sys.executable, "-m", "jupyter", "lab",
            "--no-browser",
            f"--port={port}",
            "--ip=127.0.0.1",
            "--ServerApp.port_retries=0",
            "--IdentityProvider.token=",
            "--ServerApp.password=",
            "--ServerApp.disable_check_xsrf=True",
            "--allow-root",
            f"--ServerApp.root_dir={root_dir}",
            "--LabApp.expose_app_in_browser=True",
            "--LabApp.news_url=",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        ]  # fmt: skip
        t0 = time.monotonic()
        log = open(log_path, "wb")  # noqa: SIM115 (the server writes to it until it stops)
        proc = subprocess.Popen(
            cmd,
            cwd=root_dir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_set_parent_death_signal,
        )
        log.close()
        server = LabServer(root_dir=root_dir, port=port, proc=proc, log_path=log_path)
        deadline = t0 + timeout
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(server.url + "/api/status", timeout=2) as resp:
                    if resp.status == 200:
                        server.start_seconds = time.monotonic() - t0
                        return server
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError,
                    http.client.HTTPException):
                # HTTPException: something else answers on the port (our server then exits
                # with "address already in use", and the next attempt takes another port)
                pass
            time.sleep(0.2)
        last_error = server.log_tail()
        server.stop()
        # jupyter_server 2 logs "The port N is already in use." (and then "... because port N
        # is not available"); older servers logged the OS's "Address already in use".
        if "already in use" not in last_error.lower():
            break
    raise RuntimeError(f"JupyterLab did not become ready; server log tail:\n{last_error}")


# --------------------------------------------------------------------------- notebook copies


def copy_notebook(src: Path, dest: Path) -> Path:
    """Copy a notebook for serving: kernelspec python3, outputs and execution counts cleared.

    Clearing outputs makes sure everything the harness inspects was rendered in this run.
    """
    nb = nbformat.read(src, as_version=4)
    prepare_notebook(nb)
    dest.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, dest)
    return dest


def prepare_notebook(nb: Any) -> Any:
    spec = nb.metadata.setdefault("kernelspec", {})
    if spec.get("name") != "python3":
        spec.update(name="python3", display_name="Python 3 (ipykernel)", language="python")
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    return nb


def write_notebook(path: Path, sources: list[str]) -> Path:
    """Write a notebook made of code cells (a source starting with '#md\\n' becomes markdown)."""
    cells = []
    for src in sources:
        if src.startswith("#md\n"):
            cells.append(nbformat.v4.new_markdown_cell(src[4:]))
        else:
            cells.append(nbformat.v4.new_code_cell(src))
    nb = nbformat.v4.new_notebook(cells=cells)
    prepare_notebook(nb)
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


# --------------------------------------------------------------------------- console capture


@dataclass
class PageLog:
    console_errors: list[str] = field(default_factory=list)
    ignored_console: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)

    def mark(self) -> tuple[int, int]:
        return len(self.console_errors), len(self.page_errors)


_LOGS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def watch_page(page: Any) -> PageLog:
    """Start (once per page) recording console errors, page errors and failed requests."""
    log = _LOGS.get(page)
    if log is not None:
        return log
    log = PageLog()
    _LOGS[page] = log

    def on_console(msg: Any) -> None:
        if msg.type != "error":
            return
        text = msg.text
        loc = msg.location or {}
        if loc.get("url"):
            text = f"{text} ({loc['url']})"
        if any(re.search(rx, text) for rx, _why in HARMLESS_CONSOLE):
            log.ignored_console.append(text)
        else:
            log.console_errors.append(text)

    page.on("console", on_console)
    page.on("pageerror", lambda exc: log.page_errors.append(str(exc)))
    page.on(
        "requestfailed",
        lambda req: log.failed_requests.append(f"{req.method} {req.url}: {req.failure}"),
    )
    return log


# --------------------------------------------------------------------------- running notebooks

# The notebook panel the harness works on: the Lab's current widget when it is a notebook,
# otherwise the first notebook in the main area.
_JS_PANEL = """
const __panel = (path) => {
  const app = window.jupyterapp;
  if (!app) return null;
  const isNb = (w) => w && w.sessionContext && w.content && w.content.widgets
                      && w.context && (!path || w.context.path === path);
  if (isNb(app.shell.currentWidget)) return app.shell.currentWidget;
  for (const w of app.shell.widgets('main')) if (isNb(w)) return w;
  return null;
};
"""

_JS_KERNEL_READY = (
    "(path) => {"
    + _JS_PANEL
    + """
  const w = __panel(path);
  if (!w) return false;
  const sc = w.sessionContext;
  const k = sc.session && sc.session.kernel;
  return !!(sc.isReady && k && k.connectionStatus === 'connected' && k.status === 'idle'
            && w.content.widgets.length > 0);
}"""
)

_JS_STATE = (
    "(path) => {"
    + _JS_PANEL
    + """
  const w = __panel(path);
  if (!w) return null;
  const k = w.sessionContext.session && w.sessionContext.session.kernel;
  let code = 0, executed = 0, errors = 0, running = 0;
  for (const cell of w.content.widgets) {
    if (cell.model.type !== 'code') continue;
    if (!cell.model.sharedModel.getSource().trim()) continue;  // Lab skips empty cells
    code += 1;
    if (cell.model.executionCount !== null) executed += 1;
    const prompt = cell.node.querySelector('.jp-InputPrompt');
    if (prompt && prompt.textContent.includes('*')) running += 1;
    const outs = cell.model.outputs.toJSON();
    if (outs.some((o) => o.output_type === 'error')) errors += 1;
  }
  const dialog = document.querySelector('.jp-Dialog');
  return {code, executed, errors, running,
          kernel: k ? k.status : 'none',
          dialog: dialog ? dialog.innerText.slice(0, 300) : null};
}"""
)

_JS_SETTLED = """() => {
  const plots = Array.from(document.querySelectorAll('.js-plotly-plot'));
  // A FigureWidget draws its frame before its traces arrive over the comm; wait for them too
  // (a figure that never gets data is still reported, after the timeout).
  const plotsReady = plots.every((gd) => gd._fullLayout && gd.querySelector('.main-svg')
                                 && gd.data && gd.data.length > 0);
  const text = document.body.innerText;
  // Every widget output of the current notebook has its view (what the report checks).
  const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  let viewsReady = true;
  if (w && w.content && w.content.widgets) {
    for (const cell of w.content.widgets) {
      if (cell.model.type !== 'code' || !cell.outputArea) continue;
      const children = cell.outputArea.node.querySelectorAll(':scope > .jp-OutputArea-child');
      cell.model.outputs.toJSON().forEach((o, i) => {
        if (!(o.data && o.data['application/vnd.jupyter.widget-view+json'])) return;
        const out = children[i] && children[i].querySelector('.jp-OutputArea-output');
        if (!out || (out.children.length === 0 && !out.innerText.trim())) viewsReady = false;
      });
    }
  }
  return plotsReady && viewsReady && !text.includes('Loading widget');
}"""

_JS_COLLECT = (
    "([path, badTexts]) => {"
    + _JS_PANEL
    + """
  const w = __panel(path);
  const root = w ? w.content.node : document.body;
  const strip = (s) => String(s).replace(/\\u001b\\[[0-9;]*[A-Za-z]/g, '');
  const errors = [];
  const expected = [];
  let unexecuted = 0;
  let index = 0;
  if (w) {
    for (const cell of w.content.widgets) {
      index += 1;
      if (cell.model.type !== 'code') continue;
      const src = cell.model.sharedModel.getSource();
      const tags = cell.model.getMetadata('tags') || [];
      if (src.trim() && cell.model.executionCount === null) unexecuted += 1;
      for (const o of cell.model.outputs.toJSON()) {
        let text = null;
        if (o.output_type === 'error') {
          text = o.ename + ': ' + o.evalue + '\\n' + strip((o.traceback || []).join('\\n'));
        } else if (o.output_type === 'stream' && o.name === 'stderr'
                   && /Traceback \\(most recent call last\\)/.test(o.text)) {
          text = strip(o.text);
        }
        if (text === null) continue;
        const item = `cell ${index}: ${text.slice(0, 2000)}`;
        (tags.includes('raises-exception') ? expected : errors).push(item);
      }
    }
  }
  // Tracebacks rendered as stderr that are not in the model (e.g. printed by a widget callback
  // into an Output widget).
  for (const el of root.querySelectorAll(
      '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')) {
    const t = el.innerText;
    if (/Traceback|Error/.test(t) && !errors.some((e) => e.includes(t.slice(0, 80)))
        && !expected.some((e) => e.includes(t.slice(0, 80)))) {
      if (/Traceback/.test(t)) errors.push('stderr output: ' + t.slice(0, 2000));
    }
  }
  const text = root.innerText;
  const badTextsFound = badTexts.filter((b) => text.includes(b));
  const plots = Array.from(root.querySelectorAll('.js-plotly-plot')).map((gd) => {
    const lay = gd.layout || {};
    const title = lay.title ? (typeof lay.title === 'string' ? lay.title : lay.title.text) : null;
    const data = Array.isArray(gd.data) ? gd.data : [];
    return {title: title || null, traces: data.length,
            has_data: data.length > 0,
            rendered: !!(gd._fullLayout && gd.querySelector('.main-svg')),
            frames: Array.isArray(gd._transitionData && gd._transitionData._frames)
                    ? gd._transitionData._frames.length : 0};
  });
  // Widget outputs carry no data-mime-type in the DOM: pair each output in the model with
  // its rendered child in the cell's output area.
  let widgetOutputs = 0, emptyWidgetOutputs = 0;
  const WIDGET_MIME = 'application/vnd.jupyter.widget-view+json';
  if (w) {
    for (const cell of w.content.widgets) {
      if (cell.model.type !== 'code' || !cell.outputArea) continue;
      const outs = cell.model.outputs.toJSON();
      const children = cell.outputArea.node.querySelectorAll(':scope > .jp-OutputArea-child');
      outs.forEach((o, i) => {
        if (!(o.data && o.data[WIDGET_MIME])) return;
        widgetOutputs += 1;
        const out = children[i] && children[i].querySelector('.jp-OutputArea-output');
        if (!out || (out.children.length === 0 && !out.innerText.trim())) emptyWidgetOutputs += 1;
      });
    }
  }
  return {
    errors, expected, unexecuted, bad_texts: badTextsFound, plots,
    widget_views: root.querySelectorAll('.jupyter-widgets').length,
    widget_outputs: widgetOutputs,
    empty_widget_outputs: emptyWidgetOutputs,
    cells: w ? w.content.widgets.length : 0,
  };
}"""
)


@dataclass
class PlotInfo:
    title: str | None
    traces: int
    has_data: bool
    rendered: bool
    frames: int


@dataclass
class NotebookReport:
    """What a run of one notebook in the Lab showed. ``problems()`` lists what is wrong."""

    relpath: str
    errors: list[str]
    expected_errors: list[str]
    unexecuted_cells: int
    bad_texts: list[str]
    plots: list[PlotInfo]
    widget_views: int
    widget_outputs: int
    empty_widget_outputs: int
    console_errors: list[str]
    page_errors: list[str]
    screenshot: Path | None
    timings: dict[str, float]
    #: The Lab server's log tail, kept when a console error says the server answered 5xx (the
    #: page only sees the status; the cause is in the server's own log).
    server_log: str = ""

    @property
    def plotly_plots(self) -> int:
        return len(self.plots)

    @property
    def plotly_plots_with_data(self) -> int:
        return sum(p.has_data for p in self.plots)

    def problems(self) -> list[str]:
        out = [f"error: {e}" for e in self.errors]
        if self.unexecuted_cells:
            out.append(f"{self.unexecuted_cells} code cell(s) never ran")
        out += [f"page shows {t!r}" for t in self.bad_texts]
        out += [f"plotly figure {p.title!r} has no data" for p in self.plots if not p.has_data]
        out += [f"plotly figure {p.title!r} did not render" for p in self.plots if not p.rendered]
        if self.empty_widget_outputs:
            out.append(f"{self.empty_widget_outputs} widget output(s) rendered no view")
        out += [f"console error: {e}" for e in self.console_errors]
        out += [f"page error: {e}" for e in self.page_errors]
        return out

    @property
    def ok(self) -> bool:
        return not self.problems()

    def summary(self) -> str:
        lines = [
            f"{self.relpath}: {self.plotly_plots} plotly plot(s) "
            f"({self.plotly_plots_with_data} with data), {self.widget_views} widget view(s), "
            f"timings {', '.join(f'{k} {v:.1f}s' for k, v in self.timings.items())}, "
            f"screenshot {self.screenshot}",
        ]
        lines += [f"  - {p}" for p in self.problems()]
        if self.server_log:
            lines += ["server log tail (a console error names a 5xx answer):", self.server_log]
        return "\n".join(lines)

    def assert_clean(self) -> None:
        assert self.ok, "notebook run showed problems:\n" + self.summary()


def notebook_url(server: LabServer, relpath: str) -> str:
    # ?reset starts from an empty workspace, so notebooks opened by earlier tests don't reopen.
    return f"{server.url}/lab/tree/{urllib.request.pathname2url(relpath)}?reset"


_JS_APP_UP = "() => !!(window.jupyterapp && window.jupyterapp.shell && window.__klAppUp)"
_JS_OPEN_TAB = ("(p) => { window.jupyterapp.commands.execute('docmanager:open', {path: p});"
                " return true; }")
# Shut the notebook's kernel down and close its tab without the save dialog (the run's outputs
# are not kept: the server root holds copies).
_JS_CLOSE_OTHERS = """async (path) => {
  const app = window.jupyterapp;
  if (!app) return false;
  for (const w of Array.from(app.shell.widgets('main'))) {
    if (!w.context || w.context.path === path) continue;
    try { if (w.sessionContext) await w.sessionContext.shutdown(); } catch (e) { /* gone */ }
    w.context.model.dirty = false;
    w.dispose();
  }
  return true;
}"""
_JS_CLOSE = """async (path) => {
  const app = window.jupyterapp;
  if (!app) return false;
  for (const w of Array.from(app.shell.widgets('main'))) {
    if (!(w.context && w.context.path === path)) continue;
    try { if (w.sessionContext) await w.sessionContext.shutdown(); } catch (e) { /* gone */ }
    w.context.model.dirty = false;
    w.dispose();
  }
  return true;
}"""


def open_notebook(page: Any, server: LabServer, relpath: str, *, timeout: float = 180,
                  in_tab: bool = False) -> float:
    """Open ``relpath`` in the Lab and wait for a connected, idle kernel. Returns seconds taken.

    ``in_tab``: when ``page`` already shows this server's Lab (a notebook opened before with
    ``in_tab``), open the notebook as a new tab of that Lab instead of loading the page again:
    a Lab start costs Chromium about 5 s of CPU, a tab about 1.5 s (measured, 2026-12-02). A
    page whose Lab is gone (say, it crashed) is loaded again.

    This is the cure for the kernel race: the status bar says idle before a kernel exists.
    """
    watch_page(page)
    t0 = time.monotonic()
    if in_tab and page.url.startswith(server.url) and page.evaluate(_JS_APP_UP):
        page.evaluate(_JS_OPEN_TAB, relpath)
    else:
        page.goto(notebook_url(server, relpath), wait_until="domcontentloaded")
    try:
        page.wait_for_function(_JS_KERNEL_READY, arg=relpath, timeout=timeout * 1000)
        # Give the notebook the page's width: close the file browser (also for screenshots).
        page.evaluate("() => { window.jupyterapp.shell.collapseLeft(); window.__klAppUp = true; }")
    except Exception as exc:
        dialog = page.evaluate(
            "() => { const d = document.querySelector('.jp-Dialog'); return d && d.innerText; }"
        )
        raise RuntimeError(
            f"kernel for {relpath} not ready after {timeout}s"
            + (f"; dialog open: {dialog!r}" if dialog else "")
            + f"\nserver log tail:\n{server.log_tail()}"
        ) from exc
    return time.monotonic() - t0


def notebook_state(page: Any, relpath: str | None = None) -> dict | None:
    return page.evaluate(_JS_STATE, relpath)


def run_all_and_wait(page: Any, relpath: str | None = None, *, timeout: float = 300) -> float:
    """Run all cells (without awaiting the command) and wait until done. Returns seconds taken.

    Done means: the kernel is idle and every non-empty code cell has an execution count, or a
    cell raised and nothing is queued any more; held for three polls in a row, because the
    kernel is briefly idle between two cells.
    """
    t0 = time.monotonic()
    page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")
    deadline = t0 + timeout
    stable = 0
    state: dict | None = None
    while time.monotonic() < deadline:
        page.wait_for_timeout(250)
        state = notebook_state(page, relpath)
        if state is None:
            stable = 0
            continue
        if state["dialog"]:
            raise RuntimeError(f"a dialog opened while running {relpath}: {state['dialog']!r}")
        if state["kernel"] in ("dead", "unknown") and time.monotonic() - t0 > 5:
            raise RuntimeError(f"kernel {state['kernel']} while running {relpath}")
        finished = (
            state["kernel"] == "idle"
            and state["running"] == 0
            and (state["executed"] == state["code"] or state["errors"] > 0)
        )
        stable = stable + 1 if finished else 0
        if stable >= 3:
            return time.monotonic() - t0
    raise TimeoutError(f"{relpath} did not finish within {timeout}s; last state {state}")


def wait_settled(page: Any, *, timeout: float = 120) -> bool:
    """Wait for plotly plots to draw with their data, every widget output to have its view and
    'Loading widget...' to go: on state, not time (the timeout is a ceiling for a busy machine).
    False when it never did (the report then lists what is missing)."""
    try:
        page.wait_for_function(_JS_SETTLED, timeout=timeout * 1000)
    except Exception:
        return False
    return True


# Chromium's console line for a failed request: "... the server responded with a status of 500
# (Internal Server Error)".
SERVER_ERROR = re.compile(r"status of 5\d\d|Internal Server Error")


def _short(text: str, limit: int = 600) -> str:
    """First line of a console message (JS stacks are long), cut to ``limit`` characters."""
    first = text.strip().splitlines()[0] if text.strip() else text
    return first if len(first) <= limit else first[:limit] + "..."


def collect_report(
    page: Any, relpath: str, *, timings: dict[str, float] | None = None, since=(0, 0)
) -> NotebookReport:
    """Inspect the page as it is now. ``since`` is a PageLog.mark() to count errors from."""
    raw = page.evaluate(_JS_COLLECT, [relpath, list(BAD_TEXTS)])
    log = watch_page(page)
    return NotebookReport(
        relpath=relpath,
        errors=raw["errors"],
        expected_errors=raw["expected"],
        unexecuted_cells=raw["unexecuted"],
        bad_texts=raw["bad_texts"],
        plots=[PlotInfo(**p) for p in raw["plots"]],
        widget_views=raw["widget_views"],
        widget_outputs=raw["widget_outputs"],
        empty_widget_outputs=raw["empty_widget_outputs"],
        console_errors=[_short(e) for e in log.console_errors[since[0] :]],
        page_errors=[_short(e) for e in log.page_errors[since[1] :]],
        screenshot=None,
        timings=dict(timings or {}),
    )


def screenshot(page: Any, name: str, *, max_height: int = 12000) -> Path:
    """Save a PNG of the whole notebook to build/screenshots/<name>.png.

    JupyterLab scrolls inside its own panel, so a 'full page' screenshot would show only the
    viewport: grow the viewport to the notebook's height for the shot, then restore it.
    """
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOT_DIR / f"{name}.png"
    size = page.viewport_size or {"width": 1280, "height": 900}
    needed = page.evaluate(
        """() => {
      const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
      const node = w && w.content && w.content.node;
      if (!node) return 0;
      const sc = node.querySelector('.jp-WindowedPanel-outer') || node;
      return sc.scrollHeight - sc.clientHeight;
    }"""
    )
    height = min(max_height, size["height"] + max(0, int(needed or 0)))
    try:
        if height > size["height"]:
            page.set_viewport_size({"width": size["width"], "height": height})
            page.wait_for_timeout(500)
        page.screenshot(path=str(path), full_page=True)
    finally:
        if height > size["height"]:
            page.set_viewport_size(size)
    return path


def screenshot_name(relpath: str) -> str:
    """'notebooks/01_x.ipynb' -> '01_x'; other folders keep theirs: 'solutions-01_x'."""
    parts = Path(relpath).with_suffix("").parts
    if len(parts) > 1 and parts[0] == "notebooks":
        parts = parts[1:]
    return "-".join(parts)


DEFAULT_VIEWPORT = {"width": 1280, "height": 900}


@contextlib.contextmanager
def notebook_tab(page: Any, server: LabServer, relpath: str, *,
                 viewport: dict[str, int] | None = None, **run_kw: Any) -> Iterator[NotebookReport]:
    """:func:`run_notebook` of ``relpath`` as a new tab of the Lab ``page`` shows (the
    ``lab_tabs`` fixture), at ``viewport`` (default :data:`DEFAULT_VIEWPORT`); yields its
    report, then closes the tab and shuts its kernel down, whatever happened (other notebooks'
    tabs are closed before it opens)."""
    page.set_viewport_size(dict(viewport or DEFAULT_VIEWPORT))
    # A module-scoped fixture's tab can outlive its tests (pytest finalises a parametrized
    # module fixture at the module's end): close every other notebook first, so the page's DOM
    # holds one notebook and a locator's .first is this one (a hidden Lab of the tab before
    # once took a click).
    with contextlib.suppress(Exception):
        page.evaluate(_JS_CLOSE_OTHERS, relpath)
    try:
        yield run_notebook(page, server, relpath, in_tab=True, **run_kw)
    finally:
        close_notebook(page, relpath)


_JS_SAVE = """async (path) => {
  const app = window.jupyterapp;
  for (const w of Array.from(app.shell.widgets('main'))) {
    if (w.context && w.context.path === path) { await w.context.save(); return true; }
  }
  return false;
}"""


def save_notebook(page: Any, server: LabServer, relpath: str) -> Path:
    """Save ``relpath``'s tab as a learner does (File > Save: outputs, and the widget state
    with the Lab's "Save Widget State Automatically", on in :data:`LAB_SETTINGS`); the saved
    file in the server's root."""
    if not page.evaluate(_JS_SAVE, relpath):
        raise RuntimeError(f"no open tab shows {relpath}")
    return server.root_dir / relpath


def close_notebook(page: Any, relpath: str) -> bool:
    """Shut down the kernel of ``relpath``'s tab and close the tab, discarding its changes.
    False when the page could not be reached (the next :func:`open_notebook` loads it again)."""
    try:
        return bool(page.evaluate(_JS_CLOSE, relpath))
    except Exception:  # a crashed or closed page: nothing left to close
        return False


def run_notebook(
    page: Any,
    server: LabServer,
    relpath: str,
    *,
    timeout: float = 300,
    shot: bool = True,
    in_tab: bool = False,
) -> NotebookReport:
    """Open ``relpath`` (relative to the server root), run all cells, inspect, screenshot.
    ``in_tab``: in a new tab of the Lab ``page`` already shows (:func:`open_notebook`).

    Raises on infrastructure trouble (kernel never ready, timeout, a dialog); everything the
    notebook itself got wrong is in the returned report (``report.problems()``).
    """
    log = watch_page(page)
    since = log.mark()
    t0 = time.monotonic()
    timings = {"kernel_ready": open_notebook(page, server, relpath, timeout=timeout,
                                             in_tab=in_tab)}
    timings["run_all"] = run_all_and_wait(page, relpath, timeout=timeout)
    t1 = time.monotonic()
    wait_settled(page)
    timings["settle"] = time.monotonic() - t1
    report = collect_report(page, relpath, timings=timings, since=since)
    if any(SERVER_ERROR.search(e) for e in report.console_errors):
        report.server_log = server.log_tail(80)
    if shot:
        report.screenshot = screenshot(page, screenshot_name(relpath))
    report.timings["total"] = time.monotonic() - t0
    TIMINGS.append(f"{relpath}: " + ", ".join(f"{k} {v:.1f}s" for k, v in report.timings.items()))
    return report


# --------------------------------------------------------------------------- interaction helpers


def move_slider(page: Any, steps: int, *, nth: int = 0, scope: str = "") -> None:
    """Move the nth ipywidgets slider by ``steps`` keyboard steps (negative: to the left).

    ``scope`` is an optional CSS selector to look inside (e.g. a widget's added class).
    """
    handle = page.locator(f"{scope} .widget-slider .noUi-handle".strip()).nth(nth)
    handle.focus()
    key = "ArrowRight" if steps >= 0 else "ArrowLeft"
    for _ in range(abs(steps)):
        handle.press(key)
    page.wait_for_timeout(200)


def slider_readout(page: Any, *, nth: int = 0, scope: str = "") -> str:
    """The readout text next to the nth ipywidgets slider."""
    loc = page.locator(f"{scope} .widget-slider .widget-readout".strip()).nth(nth)
    return loc.inner_text().strip()


def click_button(page: Any, description: str, *, nth: int = 0) -> None:
    """Click an ipywidgets Button whose text is exactly ``description``."""
    pattern = re.compile(rf"^\s*{re.escape(description)}\s*$")
    page.locator("button.widget-button, button.jupyter-button").filter(has_text=pattern).nth(
        nth
    ).click()


def widget_text(page: Any, selector: str, *, nth: int = 0) -> str:
    """Visible text of the nth element matching ``selector`` (e.g. '.widget-html',
    '.widget-label', or a class added with ``widget.add_class('my-label')``)."""
    return page.locator(selector).nth(nth).inner_text().strip()


_JS_FIGURE = """([title, nth]) => {
  const gds = Array.from(document.querySelectorAll('.js-plotly-plot'));
  const titleOf = (gd) => {
    const t = (gd.layout || {}).title;
    return t ? (typeof t === 'string' ? t : t.text) : null;
  };
  const matches = title === null ? gds : gds.filter((gd) => titleOf(gd) === title);
  return matches[nth] || null;
}"""


def _figure_handle(page: Any, title: str | None, nth: int) -> Any:
    handle = page.evaluate_handle(_JS_FIGURE, [title, nth])
    if handle.evaluate("(gd) => gd === null"):
        titles = page.evaluate(
            """() => Array.from(document.querySelectorAll('.js-plotly-plot')).map((gd) => {
                const t = (gd.layout || {}).title;
                return t ? (typeof t === 'string' ? t : t.text) : null; })"""
        )
        raise LookupError(f"no plotly figure with title {title!r} (nth {nth}); titles: {titles}")
    return handle


def plotly_titles(page: Any) -> list[str | None]:
    """Titles of all plotly figures on the page, in document order."""
    return page.evaluate(
        """() => Array.from(document.querySelectorAll('.js-plotly-plot')).map((gd) => {
            const t = (gd.layout || {}).title;
            return t ? (typeof t === 'string' ? t : t.text) : null; })"""
    )


def plotly_figure(page: Any, title: str | None = None, *, nth: int = 0) -> dict:
    """``{"data": [...], "layout": {...}}`` of a plotly figure found by ``layout.title.text``
    (or the nth figure when title is None). Typed arrays come back as lists."""
    gd = _figure_handle(page, title, nth)
    return gd.evaluate(
        """(gd) => JSON.parse(JSON.stringify({data: gd.data, layout: gd.layout}, (k, v) => {
            if (k.startsWith('_')) return undefined;
            if (ArrayBuffer.isView(v)) return Array.from(v);
            return v;
        }))"""
    )


def press_play(page: Any, title: str | None = None, *, nth: int = 0, label: str = "Play") -> None:
    """Click the updatemenu button labelled ``label`` ("Play") on a frames figure."""
    gd = _figure_handle(page, title, nth)
    button = gd.evaluate_handle(
        """(gd, label) => Array.from(gd.querySelectorAll('g.updatemenu-button'))
              .find((b) => b.textContent.trim() === label) || null""",
        label,
    )
    if button.evaluate("(b) => b === null"):
        raise LookupError(f"no updatemenu button {label!r} on figure {title!r}")
    button.as_element().click()


def frame_slider_active(page: Any, title: str | None = None, *, nth: int = 0) -> int:
    """Index of the active step of the figure's first layout slider (the frame slider)."""
    gd = _figure_handle(page, title, nth)
    return gd.evaluate("(gd) => gd._fullLayout.sliders[0].active")


def wait_for_frame(
    page: Any, at_least: int, title: str | None = None, *, nth: int = 0, timeout: float = 60
) -> int:
    """Wait until the frame slider's active index reaches ``at_least``; return the index."""
    deadline = time.monotonic() + timeout
    active = frame_slider_active(page, title, nth=nth)
    while active < at_least and time.monotonic() < deadline:
        page.wait_for_timeout(100)
        active = frame_slider_active(page, title, nth=nth)
    return active


class KernelError(RuntimeError):
    """Python code sent with kernel_execute raised in the kernel."""


_JS_EXECUTE = (
    "async ([path, code, ms]) => {"
    + _JS_PANEL
    + """
  const w = __panel(path);
  if (!w) throw new Error('no notebook panel open');
  const kernel = w.sessionContext.session.kernel;
  const future = kernel.requestExecute({code, silent: false, store_history: false,
                                        stop_on_error: false});
  let stdout = '', stderr = '', result = null, error = null;
  future.onIOPub = (msg) => {
    const t = msg.header.msg_type;
    if (t === 'stream') {
      if (msg.content.name === 'stdout') stdout += msg.content.text;
      else stderr += msg.content.text;
    } else if (t === 'execute_result') {
      result = msg.content.data['text/plain'];
    } else if (t === 'error') {
      error = msg.content.ename + ': ' + msg.content.evalue + '\\n'
              + msg.content.traceback.join('\\n').replace(/\\u001b\\[[0-9;]*[A-Za-z]/g, '');
    }
  };
  let timer = null;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`kernel did not answer in ${ms} ms`)), ms);
  });
  const reply = await Promise.race([future.done, timeout]);
  clearTimeout(timer);
  return {status: reply.content.status, stdout, stderr, result, error};
}"""
)


def kernel_execute(page: Any, code: str, *, relpath: str | None = None, timeout: float = 120) -> str:
    """Run ``code`` in the notebook's kernel (not as a cell); return its stdout.

    Raises KernelError with the traceback when the code raises.
    """
    reply = page.evaluate(_JS_EXECUTE, [relpath, code, int(timeout * 1000)])
    if reply["status"] != "ok" or reply["error"]:
        raise KernelError(reply["error"] or f"status {reply['status']}: {reply['stderr']}")
    return reply["stdout"]


def kernel_eval(page: Any, expr: str, *, relpath: str | None = None, timeout: float = 30) -> Any:
    """Evaluate a Python expression in the kernel and return it (must be JSON-serialisable)."""
    code = f"import json as __j; print('\\x00' + __j.dumps({expr}))"
    out = kernel_execute(page, code, relpath=relpath, timeout=timeout)
    return json.loads(out.rsplit("\x00", 1)[1])


def wait_until(page: Any, predicate: Any, *, timeout: float = 60, interval: float = 0.1) -> Any:
    """Poll ``predicate()`` (a Python callable) until truthy; return its last value."""
    deadline = time.monotonic() + timeout
    value = predicate()
    while not value and time.monotonic() < deadline:
        page.wait_for_timeout(interval * 1000)
        value = predicate()
    return value


def copy_tree_notebooks(src_dir: Path, dest_dir: Path) -> list[Path]:
    """Copy a folder (its files too, for data the notebooks read) and prepare its notebooks."""
    if not src_dir.is_dir():
        return []
    shutil.copytree(
        src_dir, dest_dir, dirs_exist_ok=True,
        ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"),
    )  # fmt: skip
    copied = []
    for nb in sorted(dest_dir.rglob("*.ipynb")):
        copy_notebook(nb, nb)
        copied.append(nb)
    return copied
