"""Drive the static JupyterLite site (build/lite) in headless Chromium.

- :func:`ensure_site` builds the site with lite/build.py when it is missing or older than its
  sources (kafkalab/, notebooks/, exercises/, lite/).
- :class:`StaticServer` serves it on a free loopback port. It adds
  ``exposeAppInBrowser: "true"`` to the served jupyter-lite.json files (so ``window.jupyterapp``
  exists for the test) without touching the built site.
- :class:`Watcher` records every request of the browser context (page, workers, service worker),
  aborts any that would leave the loopback host, and collects console messages of the page AND of
  its workers: the Pyodide kernel runs in a worker, and its errors show nowhere else.
- :func:`run_notebook` opens a notebook in JupyterLab (Lite), waits for the Pyodide kernel, runs
  all cells and returns a :class:`NotebookReport`.
"""

from __future__ import annotations

import functools
import http.server
import importlib.util
import json
import os
import re
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

REPO_ROOT = Path(__file__).resolve().parents[2]
SITE = REPO_ROOT / "build" / "lite"
BUILD_SUMMARY = REPO_ROOT / "build" / "lite-build.json"
SCREENSHOT_DIR = REPO_ROOT / "build" / "screenshots"
SITE_SOURCES = ("kafkalab", "notebooks", "exercises", "lite")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--no-first-run",
                 "--disable-sync", "--disable-quic"]
REQUIRE_BROWSER_ENV = "KAFKALAB_REQUIRE_BROWSER"
REBUILD_ENV = "KAFKALAB_LITE_REBUILD"
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1"}

KERNEL_TIMEOUT_S = 120
RUN_TIMEOUT_S = 300

BAD_TEXTS = ("Error displaying widget", "Model not found", "No version of module",
             "Click to show javascript error", "Mime type rendering requires nbformat")
# Worker/page console messages that mean the kernel or a package failed.
BAD_CONSOLE = re.compile(r"Traceback|PythonError|ModuleNotFoundError|Failed to fetch|"
                         r"No version of module|Could not find a version", re.I)

TIMINGS: list[str] = []


def browser_missing_reason() -> str | None:
    if not os.path.exists(CHROMIUM):
        return f"{CHROMIUM} not found; apt-get install -y chromium"
    if importlib.util.find_spec("playwright") is None:
        return "playwright is not installed (pip install playwright)"
    return None


def browser_required() -> bool:
    return os.environ.get(REQUIRE_BROWSER_ENV) == "1"


def launch_browser(p):
    t0 = time.monotonic()
    browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    TIMINGS.append(f"browser launch: {time.monotonic() - t0:.1f}s")
    return browser


# --------------------------------------------------------------------------- the site


@functools.cache
def lite_build_module():
    """lite/build.py as a module (for ``server_only_reason``)."""
    spec = importlib.util.spec_from_file_location("kafkalab_lite_build", REPO_ROOT / "lite" / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _newest_source_mtime() -> float:
    newest = 0.0
    for folder in SITE_SOURCES:
        for p in (REPO_ROOT / folder).rglob("*"):
            if p.is_file() and "__pycache__" not in p.parts and ".ipynb_checkpoints" not in p.parts:
                newest = max(newest, p.stat().st_mtime)
    return newest


def site_is_stale() -> str | None:
    if not (SITE / "index.html").exists() or not BUILD_SUMMARY.exists():
        return "build/lite is missing"
    if os.environ.get(REBUILD_ENV) == "1":
        return f"{REBUILD_ENV}=1"
    if _newest_source_mtime() > BUILD_SUMMARY.stat().st_mtime:
        return "sources are newer than the site"
    return None


def ensure_site() -> Path:
    reason = site_is_stale()
    if reason:
        print(f"\n[lite] building the JupyterLite site ({reason}); the first build downloads ~40 MB",
              flush=True)
        t0 = time.monotonic()
        subprocess.run([sys.executable, str(REPO_ROOT / "lite" / "build.py")], check=True,
                       cwd=REPO_ROOT, timeout=1800)
        TIMINGS.append(f"site build ({reason}): {time.monotonic() - t0:.1f}s")
    summary = json.loads(BUILD_SUMMARY.read_text())
    TIMINGS.append(f"site size: {summary['size_bytes'] / 1e6:.1f} MB")
    return SITE


class _Handler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {  # noqa: RUF012 - the base class declares it as a class attribute
        **http.server.SimpleHTTPRequestHandler.extensions_map,
        ".mjs": "text/javascript", ".js": "text/javascript", ".wasm": "application/wasm",
        ".json": "application/json", ".whl": "application/zip", ".zip": "application/zip",
    }
    served: list[str]

    def log_message(self, format, *args):  # quiet
        pass

    def do_GET(self):
        self.served.append(self.path)
        path = urlsplit(self.path).path
        if path.endswith("/jupyter-lite.json"):
            file = Path(self.translate_path(path))
            if file.is_file():
                config = json.loads(file.read_text())
                config.setdefault("jupyter-config-data", {})["exposeAppInBrowser"] = "true"
                body = json.dumps(config).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
        super().do_GET()


class StaticServer:
    """build/lite on http://127.0.0.1:<free port>/, in a thread of the test process."""

    def __init__(self, root: Path):
        self.served: list[str] = []
        handler = type("Handler", (_Handler,), {"served": self.served})
        self.httpd = http.server.ThreadingHTTPServer(
            ("127.0.0.1", 0), functools.partial(handler, directory=str(root)))
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


# --------------------------------------------------------------------------- the browser


class Watcher:
    """Requests and console messages of one browser context, its pages and their workers."""

    def __init__(self, context):
        self.requests: list[str] = []
        self.blocked: list[str] = []
        self.console: list[str] = []  # "page|worker level: text"
        self.page_errors: list[str] = []
        self.workers = 0
        context.on("request", lambda r: self.requests.append(r.url))
        context.route("**/*", self._route)

    def _route(self, route):
        url = route.request.url
        if is_loopback(url):
            route.continue_()
        else:
            self.blocked.append(url)
            route.abort()

    def attach(self, page) -> None:
        page.on("request", lambda r: self.requests.append(r.url))
        page.on("console", lambda m: self.console.append(f"page {m.type}: {m.text}"))
        page.on("pageerror", lambda e: self.page_errors.append(str(e)))
        page.on("worker", self._on_worker)

    def _on_worker(self, worker) -> None:
        self.workers += 1
        worker.on("console", lambda m: self.console.append(f"worker {m.type}: {m.text}"))

    def outside_requests(self) -> list[str]:
        return sorted({u for u in [*self.requests, *self.blocked] if not is_loopback(u)})

    def bad_console(self) -> list[str]:
        return [m for m in self.console if BAD_CONSOLE.search(m)]


def is_loopback(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme in ("data", "blob", "about", "chrome-extension"):
        return True
    return (parts.hostname or "") in LOOPBACK_HOSTS or (parts.hostname or "").startswith("127.")


# --------------------------------------------------------------------------- notebooks

_JS_OPEN = """async ({path, nb}) => {
  const app = window.jupyterapp;
  await app.restored;
  if (nb !== null) {
    await app.serviceManager.contents.save(path, {type: 'notebook', format: 'json', content: nb});
  }
  const panel = await app.commands.execute('docmanager:open', {path, factory: 'Notebook'});
  window.__klPanel = panel;
  await panel.context.ready;
  app.shell.activateById(panel.id);
  return panel.id;
}"""

_JS_KERNEL_READY = """() => {
  const p = window.__klPanel;
  if (!p) return false;
  const sc = p.sessionContext;
  const k = sc && sc.session && sc.session.kernel;
  return !!(sc.isReady && k && k.connectionStatus === 'connected' && k.status === 'idle');
}"""

_JS_KERNEL_INFO = """async () => {
  const app = window.jupyterapp;
  const k = window.__klPanel.sessionContext.session.kernel;
  const specs = app.serviceManager.kernelspecs.specs;
  const spec = specs && specs.kernelspecs[k.name];
  const info = await k.info;
  return {name: k.name, display_name: spec ? spec.display_name : '',
          implementation: info ? info.implementation : '',
          language: info && info.language_info ? info.language_info.name : ''};
}"""

_JS_RUN_ALL = """() => {
  const app = window.jupyterapp;
  app.shell.activateById(window.__klPanel.id);
  app.commands.execute('notebook:run-all-cells');  // not awaited (see jupyter-notes.md)
  return true;
}"""

_JS_STATE = """() => {
  const p = window.__klPanel;
  const k = p.sessionContext.session.kernel;
  const cells = p.content.widgets.filter(c => c.model.type === 'code');
  let pending = 0, errors = 0;
  for (const c of cells) {
    if (c.model.sharedModel.getSource().trim() === '') continue;
    if (c.model.executionCount === null) pending++;
    for (const o of c.model.outputs.toJSON()) if (o.output_type === 'error') errors++;
  }
  return {pending, errors, status: k ? k.status : 'none', cells: cells.length};
}"""

_JS_REPORT = """(badTexts) => {
  const p = window.__klPanel;
  const node = p.node;
  const errors = [], texts = [];
  let plotlyOutputs = 0, widgetOutputs = 0, executed = 0, codeCells = 0;
  p.content.widgets.forEach((c, i) => {
    if (c.model.type !== 'code') return;
    codeCells++;
    if (c.model.executionCount !== null) executed++;
    const tags = c.model.getMetadata('tags') || [];
    for (const o of c.model.outputs.toJSON()) {
      if (o.output_type === 'error') {
        const tb = (o.traceback || []).join('\\n').replace(/\\u001b\\[[0-9;]*m/g, '');
        errors.push({cell: i, ename: o.ename, evalue: o.evalue, traceback: tb.slice(-1500),
                     expected: tags.includes('raises-exception')});
      }
      if (o.output_type === 'stream') texts.push(o.text);
      const d = o.data || {};
      if (d['text/plain']) texts.push(d['text/plain']);
      if (d['application/vnd.plotly.v1+json']) plotlyOutputs++;
      if (d['application/vnd.jupyter.widget-view+json']) widgetOutputs++;
    }
  });
  const inner = node.innerText;
  return {
    errors, codeCells, executed, plotlyOutputs, widgetOutputs,
    text: texts.join('\\n'),
    plots: node.querySelectorAll('.js-plotly-plot').length,
    plotTitles: Array.from(node.querySelectorAll('.js-plotly-plot')).map(
        d => (d.layout && d.layout.title && d.layout.title.text) || ''),
    widgetViews: node.querySelectorAll('.jupyter-widgets').length,
    badTexts: badTexts.filter(t => inner.includes(t)),
  };
}"""


@dataclass
class NotebookReport:
    path: str
    kernel: dict
    timings: dict
    errors: list = field(default_factory=list)
    code_cells: int = 0
    executed: int = 0
    plotly_outputs: int = 0
    widget_outputs: int = 0
    plots: int = 0
    plot_titles: list = field(default_factory=list)
    widget_views: int = 0
    bad_texts: list = field(default_factory=list)
    text: str = ""

    def unexpected_errors(self) -> list:
        return [e for e in self.errors if not e["expected"]]


def _wait(page, expr: str, timeout_s: float, what: str, watch: Watcher, arg=None) -> None:
    try:
        page.wait_for_function(expr, arg=arg, timeout=timeout_s * 1000, polling=250)
    except Exception as exc:  # playwright TimeoutError: add what the kernel said
        tail = "\n".join(watch.console[-25:])
        raise AssertionError(f"timed out after {timeout_s:.0f}s waiting for {what}; last console "
                             f"messages (page and kernel worker):\n{tail}") from exc


def run_notebook(page, watch: Watcher, server: StaticServer, path: str, nb: dict | None = None,
                 run_timeout_s: float = RUN_TIMEOUT_S) -> NotebookReport:
    """Open ``path`` (a site file, or ``nb`` saved under that path in the browser's storage),
    wait for the Pyodide kernel, run all cells, and report."""
    timings = {}
    t0 = time.monotonic()
    page.goto(server.url + "lab/index.html", wait_until="domcontentloaded")
    _wait(page, "() => !!window.jupyterapp", 60, "the JupyterLite app", watch)
    page.evaluate("async () => { await window.jupyterapp.restored; }")
    timings["app"] = time.monotonic() - t0

    t = time.monotonic()
    page.evaluate(_JS_OPEN, {"path": path, "nb": nb})
    _wait(page, _JS_KERNEL_READY, KERNEL_TIMEOUT_S, f"the Pyodide kernel of {path}", watch)
    timings["kernel"] = time.monotonic() - t
    kernel = page.evaluate(_JS_KERNEL_INFO)

    t = time.monotonic()
    page.evaluate(_JS_RUN_ALL)
    deadline = time.monotonic() + run_timeout_s
    idle_polls = 0
    while True:
        state = page.evaluate(_JS_STATE)
        if state["status"] == "idle":
            idle_polls += 1
            # Done, or stopped at an error (run-all stops at the first failing cell).
            if idle_polls >= 3 and (state["pending"] == 0 or state["errors"]):
                break
        else:
            idle_polls = 0
        if time.monotonic() > deadline:
            tail = "\n".join(watch.console[-25:])
            raise AssertionError(f"{path}: cells still pending after {run_timeout_s:.0f}s: {state}\n{tail}")
        time.sleep(0.4)
    timings["run_all"] = time.monotonic() - t
    page.wait_for_timeout(1000)  # let late widget views and plots render
    raw = page.evaluate(_JS_REPORT, list(BAD_TEXTS))
    report = NotebookReport(
        path=path, kernel=kernel, timings=timings, errors=raw["errors"], code_cells=raw["codeCells"],
        executed=raw["executed"], plotly_outputs=raw["plotlyOutputs"],
        widget_outputs=raw["widgetOutputs"], plots=raw["plots"], plot_titles=raw["plotTitles"],
        widget_views=raw["widgetViews"], bad_texts=raw["badTexts"], text=raw["text"])
    TIMINGS.append(f"{path}: app {timings['app']:.1f}s, kernel {timings['kernel']:.1f}s, "
                   f"run all {timings['run_all']:.1f}s ({report.code_cells} code cells, "
                   f"{report.plots} plots, {report.widget_views} widget views)")
    return report


def screenshot(page, name: str, selector: str | None = ".js-plotly-plot") -> Path:
    """Scroll the first ``selector`` match into view and save build/screenshots/lite-<name>.png."""
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    if selector:
        page.evaluate("(s) => { const n = window.__klPanel && window.__klPanel.node.querySelector(s);"
                      " if (n) n.scrollIntoView({block: 'center'}); }", selector)
        page.wait_for_timeout(500)
    out = SCREENSHOT_DIR / f"lite-{name}.png"
    page.screenshot(path=str(out))
    return out
