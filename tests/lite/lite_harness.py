"""Drive the static JupyterLite site (build/lite) in headless Chromium.

- :func:`ensure_site` builds the site with lite/build.py when it is missing or was built from
  other sources (a digest of kafkalab/, notebooks/, exercises/, lite/; modification times do
  not matter, so a fresh checkout of the same commit reuses a cached build/lite).
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

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--no-first-run",
                 "--disable-sync", "--disable-quic"]
REQUIRE_BROWSER_ENV = "KAFKALAB_REQUIRE_BROWSER"
REBUILD_ENV = "KAFKALAB_LITE_REBUILD"
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1"}

# Ceilings, not expectations: a notebook takes 20-60 s here; a ceiling reached means something is
# stuck, and the failure says which phase and which cells or views were still pending.
RUN_TIMEOUT_S = 900  # one notebook, from page load to every output rendered
WAIT_S = 180  # one interaction (a typed value, a Play press) until the page shows its effect
PARALLEL_ENV = "KAFKALAB_LITE_PARALLEL"  # notebooks run at once (own pages, own kernels); default 2

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


def site_is_stale() -> str | None:
    """Why build/lite must be (re)built, or None: a site built from the same sources (the same
    digest of kafkalab/, notebooks/, exercises/, lite/) is reused, whatever the files' times."""
    if not (SITE / "index.html").exists() or not BUILD_SUMMARY.exists():
        return "build/lite is missing"
    if os.environ.get(REBUILD_ENV) == "1":
        return f"{REBUILD_ENV}=1"
    built_from = json.loads(BUILD_SUMMARY.read_text()).get("sources_sha256")
    if built_from != lite_build_module().sources_digest():
        return "built from other sources"
    return None


def ensure_site() -> Path:
    reason = site_is_stale()
    if reason:
        print(f"\n[lite] building the JupyterLite site ({reason}); the first build downloads ~40 MB",
              flush=True)
        t0 = time.monotonic()
        # --if-stale: a build already under way (CI starts one early) holds the build lock; this
        # one waits for it and then does nothing if that build was of the same sources.
        forced = os.environ.get(REBUILD_ENV) == "1"
        subprocess.run([sys.executable, str(REPO_ROOT / "lite" / "build.py"),
                        *([] if forced else ["--if-stale"])], check=True, cwd=REPO_ROOT, timeout=1800)
        TIMINGS.append(f"site build ({reason}): {time.monotonic() - t0:.1f}s")
    else:
        TIMINGS.append("site build: reused (built from the same sources)")
    summary = json.loads(BUILD_SUMMARY.read_text())
    parts = summary.get("make_up_bytes", {}).get("parts", {})
    TIMINGS.append(f"site size: {summary['size_bytes'] / 1e6:.1f} MB ("
                   + ", ".join(f"{k} {v / 1e6:.1f}" for k, v in parts.items()) + " MB)")
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


# The whole run of one notebook, driven by the page itself (so several pages progress at once
# while the test process waits on one of them): app restored -> notebook open -> kernel connected
# and idle -> Run All -> every code cell executed (or stopped at an error) with the kernel idle ->
# every plotly output and widget output has its rendered view. Each phase waits on a condition,
# never on time; window.__klState says where it is, for a report when a ceiling is reached.
# Run before the next notebook in the same kernel (RunQueue's lanes): every widget closed (their
# front-end models go with them) and the user namespace emptied, as a fresh kernel has it; the
# packages stay imported (the kernel preloads them anyway).
_KERNEL_RESET = ("import ipywidgets as __w\n__w.Widget.close_all()\n"
                 "get_ipython().run_line_magic('reset', '-f')\n")

_JS_DRIVE = """({path, nb, pollMs, reuse, reset}) => {
  const st = window.__klState = {phase: 'app', path, times: {}, error: null, state: null,
                                 pending: null};
  const t0 = performance.now();
  const mark = (k) => { st.times[k] = (performance.now() - t0) / 1000; };
  const until = async (fn) => { while (!fn()) await new Promise(r => setTimeout(r, pollMs)); };
  const kernelReady = () => {
    const sc = window.__klPanel.sessionContext;
    const k = sc && sc.session && sc.session.kernel;
    return !!(sc.isReady && k && k.connectionStatus === 'connected' && k.status === 'idle');
  };
  let idle = 0;
  let lastSig = '', sigSince = 0;
  const QUIET_MS = 2000;
  const ranAll = () => {
    const s = st.state = (""" + _JS_STATE.strip() + """)();
    // Done, or stopped at an error (run-all stops at the first failing cell); twice in a row,
    // so an idle between two queued cells does not count.
    idle = (s.status === 'idle' && (s.pending === 0 || s.errors)) ? idle + 1 : 0;
    return idle >= 2;
  };
  const rendered = () => {
    const node = window.__klPanel.node;
    let plotly = 0, widgets = 0;
    for (const c of window.__klPanel.content.widgets) {
      if (c.model.type !== 'code') continue;
      for (const o of c.model.outputs.toJSON()) {
        const d = o.data || {};
        if (d['application/vnd.plotly.v1+json']) plotly++;
        if (d['application/vnd.jupyter.widget-view+json']) widgets++;
      }
    }
    const plots = Array.from(node.querySelectorAll('.js-plotly-plot'));
    const drawn = plots.filter(d => d._fullLayout).length;
    const views = node.querySelectorAll('.jupyter-widgets').length;
    st.pending = {plotly_outputs: plotly, plots: plots.length, drawn, widget_outputs: widgets,
                  widget_views: views};
    // A widget output's own view comes first and the views inside it (a Lab's controls and
    // figures) after, one comm message at a time: done once every output has its view AND the
    // counts of views and drawn plots have not changed for QUIET_MS (the quiet is measured on
    // the page's state, so a busy machine only makes it come later).
    const sig = `${plots.length}/${drawn}/${views}`;
    const now = performance.now();
    if (sig !== lastSig) { lastSig = sig; sigSince = now; }
    return plots.length >= plotly && drawn === plots.length && views >= widgets
           && !node.innerText.includes('Loading widget') && now - sigSince >= QUIET_MS;
  };
  window.__klDrive = (async () => {
    try {
      await until(() => !!window.jupyterapp);
      const app = window.jupyterapp;
      await app.restored;
      mark('app');
      st.phase = 'open';
      if (nb !== null) {
        await app.serviceManager.contents.save(path, {type: 'notebook', format: 'json', content: nb});
      }
      // reuse: the previous notebook of this page hands its kernel on; its tab goes (with its
      // widget views), then the kernel is reset through the new notebook's connection
      const prev = reuse ? window.__klPanel : null;
      let kernel = undefined;
      if (prev) {
        const k = prev.sessionContext.session.kernel;
        kernel = {id: k.id, name: k.name};
      }
      const panel = await app.commands.execute('docmanager:open', {path, factory: 'Notebook', kernel});
      window.__klPanel = panel;
      await panel.context.ready;
      if (prev) {
        await panel.sessionContext.ready;
        prev.context.model.dirty = false;
        prev.dispose();
        st.phase = 'reset';
        await until(kernelReady);
        const k = panel.sessionContext.session.kernel;
        const reply = await k.requestExecute({code: reset, silent: true, store_history: false}).done;
        if (reply.content.status !== 'ok') throw new Error('kernel reset failed: ' + reply.content.evalue);
        st.phase = 'open';
      }
      app.shell.activateById(panel.id);
      st.phase = 'kernel';
      await until(kernelReady);
      mark('kernel');
      st.phase = 'run';
      app.commands.execute('notebook:run-all-cells');  // not awaited (see jupyter-notes.md)
      await until(ranAll);
      mark('run_all');
      st.phase = 'render';
      await until(rendered);
      mark('rendered');
      st.phase = 'done';
    } catch (e) {
      st.error = String((e && e.stack) || e);
      st.phase = 'failed';
    }
  })();
  return true;
}"""

_JS_DONE = "() => !!window.__klState && ['done', 'failed'].includes(window.__klState.phase)"


class WatchSince:
    """What a :class:`Watcher` saw since a point: the console messages and page errors after it
    (one notebook of a page that runs several); requests, blocked requests and workers are the
    whole context's (the offline check stays over everything the page ever fetched)."""

    def __init__(self, base: Watcher):
        self.base = base
        self._console, self._errors = len(base.console), len(base.page_errors)

    @property
    def requests(self) -> list[str]:
        return self.base.requests

    @property
    def blocked(self) -> list[str]:
        return self.base.blocked

    @property
    def workers(self) -> int:
        return self.base.workers

    @property
    def console(self) -> list[str]:
        return self.base.console[self._console:]

    @property
    def page_errors(self) -> list[str]:
        return self.base.page_errors[self._errors:]

    def outside_requests(self) -> list[str]:
        return self.base.outside_requests()

    def bad_console(self) -> list[str]:
        return [m for m in self.console if BAD_CONSOLE.search(m)]


@dataclass
class LiteRun:
    """One notebook in a browser context of its own (own IndexedDB), or the next notebook of a
    page whose previous notebook is done (``reused``: same page and kernel, the kernel reset
    first), its page driving itself from page load to rendered outputs."""

    path: str
    context: object
    page: object
    watch: Watcher | WatchSince
    started: float
    report: NotebookReport | None = None
    reused: bool = False


def _drive(page, path: str, nb: dict | None, reuse: bool) -> None:
    page.evaluate(_JS_DRIVE, {"path": path, "nb": nb, "pollMs": 200, "reuse": reuse,
                              "reset": _KERNEL_RESET})


def start_run(browser, server: StaticServer, path: str, nb: dict | None = None,
              viewport=(1280, 1000), url_tail: str = "", after: LiteRun | None = None) -> LiteRun:
    """Open a context and page on the site and start ``path`` (a site file, or ``nb`` saved under
    that path in the browser's storage); returns at once, the page goes on by itself.
    ``url_tail`` follows ``lab/index.html`` in the page's address (``?path=…#kafkalab=…``).
    ``after``: a finished run whose page and kernel this one takes over (its kernel's widgets
    closed and namespace reset, its tab closed): no new page, no new Pyodide kernel."""
    if after is not None:
        started = time.monotonic()
        _drive(after.page, path, nb, reuse=True)
        base = after.watch.base if isinstance(after.watch, WatchSince) else after.watch
        return LiteRun(path=path, context=after.context, page=after.page,
                       watch=WatchSince(base), started=started, reused=True)
    context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
    watch = Watcher(context)
    page = context.new_page()
    watch.attach(page)
    started = time.monotonic()
    page.goto(server.url + "lab/index.html" + url_tail, wait_until="commit")
    _drive(page, path, nb, reuse=False)
    return LiteRun(path=path, context=context, page=page, watch=watch, started=started)


def finish_run(run: LiteRun, ceiling_s: float = RUN_TIMEOUT_S) -> NotebookReport:
    """Wait (on the page's own state, with a generous ceiling) until the run is done, and report;
    a ceiling that is reached says which phase and which cells or views were still pending."""
    if run.report is not None:
        return run.report
    page, watch = run.page, run.watch
    left = max(ceiling_s - (time.monotonic() - run.started), 1.0)
    try:
        page.wait_for_function(_JS_DONE, timeout=left * 1000, polling=250)
    except Exception as exc:
        try:
            st = page.evaluate("() => window.__klState || null")
        except Exception as exc2:  # the page itself is gone
            st = f"(page state unreadable: {exc2})"
        tail = "\n".join(watch.console[-25:])
        raise AssertionError(f"{run.path}: not done after {ceiling_s:.0f}s; still pending: {st}\n"
                             f"last console messages (page and kernel worker):\n{tail}") from exc
    st = page.evaluate("() => window.__klState")
    if st["phase"] == "failed":
        raise AssertionError(f"{run.path}: the run failed in phase {st}\n" + "\n".join(watch.console[-25:]))
    kernel = page.evaluate(_JS_KERNEL_INFO)
    times = st["times"]
    timings = {"app": times["app"], "kernel": times["kernel"] - times["app"],
               "run_all": times["run_all"] - times["kernel"],
               "render": times["rendered"] - times["run_all"],
               "total": time.monotonic() - run.started}
    raw = page.evaluate(_JS_REPORT, list(BAD_TEXTS))
    report = NotebookReport(
        path=run.path, kernel=kernel, timings=timings, errors=raw["errors"],
        code_cells=raw["codeCells"], executed=raw["executed"], plotly_outputs=raw["plotlyOutputs"],
        widget_outputs=raw["widgetOutputs"], plots=raw["plots"], plot_titles=raw["plotTitles"],
        widget_views=raw["widgetViews"], bad_texts=raw["badTexts"], text=raw["text"])
    TIMINGS.append(f"{run.path}: app {timings['app']:.1f}s, kernel {timings['kernel']:.1f}s, "
                   f"run all {timings['run_all']:.1f}s, render {timings['render']:.1f}s, "
                   f"total {timings['total']:.1f}s ({report.code_cells} code cells, "
                   f"{report.plots} plots, {report.widget_views} widget views, "
                   f"{watch.workers} worker(s){', kernel reused' if run.reused else ''})")
    run.report = report
    return report


def run_notebook(page, watch: Watcher, server: StaticServer, path: str, nb: dict | None = None,
                 run_timeout_s: float = RUN_TIMEOUT_S, url_tail: str = "",
                 before=None) -> NotebookReport:
    """Open ``path`` in ``page`` (whose context ``watch`` watches), wait for the Pyodide kernel,
    run all cells, wait for their views, and report (one notebook, start to end).
    ``url_tail`` follows ``lab/index.html`` in the address; ``before(page)`` runs once the
    app is restored, before the notebook is opened (an upload, say)."""
    started = time.monotonic()
    page.goto(server.url + "lab/index.html" + url_tail, wait_until="commit")
    if before is not None:
        page.wait_for_function("() => !!window.jupyterapp", timeout=run_timeout_s * 1000,
                               polling=250)
        page.evaluate("() => window.jupyterapp.restored.then(() => true)")
        before(page)
    _drive(page, path, nb, reuse=False)
    run = LiteRun(path=path, context=page.context, page=page, watch=watch, started=started)
    return finish_run(run, run_timeout_s)


# A notebook that displays live widgets (the Lab, a FigureWidget) gets a kernel and page of its
# own: after a reset kernel, the Lab of notebook 08 drew only its outer box (its controls and
# live figures never came; seen 2026-12-02, notebook 07 then 08 in one page), while the notebooks
# that show plain plotly figures run the same in a reset kernel as in a new one.
WIDGET_SOURCE = re.compile(r"\bLab\(|\bimport ipywidgets|\bfrom ipywidgets|\bwidgets\."
                           r"|FigureWidget\(|LiveFigure\(|\binteract(?:ive)?\(")


def needs_own_kernel(path: str, nb: dict | None = None) -> bool:
    """True when the notebook's code displays live widgets (:data:`WIDGET_SOURCE`: a Lab, an
    ipywidgets import, a FigureWidget; a mention in a docstring does not count)."""
    if nb is None:
        nb = json.loads((REPO_ROOT / path).read_text(encoding="utf-8"))
    return any(WIDGET_SOURCE.search("".join(c.get("source", ""))) for c in nb.get("cells", [])
               if c.get("cell_type") == "code")


class RunQueue:
    """The notebooks of a session in ``parallel`` lanes. A lane is one page with one Pyodide
    kernel: its first notebook opens a context of its own; each next one starts in the same page
    and kernel (:func:`start_run` with ``after``: widgets closed, namespace reset, previous tab
    closed) once the test of the one before is done with it (``release``). A Pyodide kernel
    costs about 12 s of CPU to start (measured 2026-12-02, idle machine), so the course
    notebooks share a few instead of starting one each; a notebook with live widgets
    (:func:`needs_own_kernel`) starts a fresh one in its lane. A lane whose last notebook failed (no
    report, an error output or a page error) is not reused: the next notebook gets a fresh
    context. ``get(key)`` starts that run (and the next ones in order, into free lanes) and
    waits for it."""

    def __init__(self, browser, server: StaticServer, order: list[tuple[str, str, dict | None]],
                 parallel: int = 2):
        self.browser, self.server, self.parallel = browser, server, max(1, parallel)
        self.order = order
        self.runs: dict[str, LiteRun] = {}
        self.released: set[str] = set()
        self.lanes: list[str] = []  # each lane's current (last started) notebook
        self.started = 0  # Pyodide kernels started
        self.reused = 0

    def _open(self) -> int:
        return sum(1 for k in self.lanes if k not in self.released)

    @staticmethod
    def _reusable(run: LiteRun) -> bool:
        rep = run.report
        return rep is not None and not rep.unexpected_errors() and not run.watch.page_errors

    def _start(self, key: str) -> None:
        _, path, nb = next(item for item in self.order if item[0] == key)
        free = [i for i, k in enumerate(self.lanes) if k in self.released]
        if free and not needs_own_kernel(path, nb) and self._reusable(self.runs[self.lanes[free[0]]]):
            lane = free[0]
            self.runs[key] = start_run(self.browser, self.server, path, nb,
                                       after=self.runs[self.lanes[lane]])
            self.reused += 1
        else:
            if free:  # a failed lane: closed, its place taken by a fresh context
                lane = free[0]
                self.runs[self.lanes[lane]].context.close()
            else:
                lane = len(self.lanes)
                self.lanes.append(key)
            self.runs[key] = start_run(self.browser, self.server, path, nb)
            self.started += 1
        self.lanes[lane] = key

    def _fill(self, after: str | None = None) -> None:
        keys = [k for k, _, _ in self.order]
        i = keys.index(after) + 1 if after in keys else 0
        for key in keys[i:]:
            if key in self.runs:
                continue
            lanes_free = len(self.lanes) < self.parallel or self._open() < len(self.lanes)
            if self._open() >= self.parallel or not lanes_free:
                break
            self._start(key)

    def get(self, key: str, ceiling_s: float = RUN_TIMEOUT_S) -> LiteRun:
        if key not in self.runs:
            self._start(key)
        self._fill(after=key)
        run = self.runs[key]
        finish_run(run, ceiling_s)
        return run

    def release(self, key: str) -> None:
        """The test is done with ``key``: its lane takes the next notebook in order."""
        if key in self.runs and key not in self.released:
            self.released.add(key)
            self._fill(after=key)

    def close(self) -> None:
        for key in self.lanes:
            self.runs[key].context.close()
        self.lanes = []


_JS_EXECUTE = """async ({code, ms}) => {
  const kernel = window.__klPanel.sessionContext.session.kernel;
  const future = kernel.requestExecute({code, silent: false, store_history: false,
                                        stop_on_error: false});
  let stdout = '', error = null;
  future.onIOPub = (msg) => {
    const t = msg.header.msg_type;
    if (t === 'stream' && msg.content.name === 'stdout') stdout += msg.content.text;
    else if (t === 'error') error = msg.content.ename + ': ' + msg.content.evalue + '\\n'
        + msg.content.traceback.join('\\n').replace(/\\u001b\\[[0-9;]*[A-Za-z]/g, '');
  };
  let timer = null;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the kernel did not answer in ${ms} ms`)), ms);
  });
  const reply = await Promise.race([future.done, timeout]);
  clearTimeout(timer);
  return {status: reply.content.status, stdout, error};
}"""


def kernel_eval(page, expr: str, timeout_s: float = WAIT_S):
    """A Python expression's value (JSON-serialisable), evaluated in the kernel of the notebook
    the run opened (``window.__klPanel``), not as a cell."""
    code = f"import json as __j\nprint('\\x00' + __j.dumps({expr}))"
    reply = page.evaluate(_JS_EXECUTE, {"code": code, "ms": int(timeout_s * 1000)})
    if reply["status"] != "ok" or reply["error"]:
        raise AssertionError(f"the kernel raised evaluating {expr!r}: {reply['error']}")
    return json.loads(reply["stdout"].rsplit("\x00", 1)[1])


def next_frames(page, n: int = 2) -> None:
    """Wait until the page has painted ``n`` more frames (after a scroll, before a screenshot)."""
    page.evaluate("(n) => new Promise(r => { const f = k => k ? requestAnimationFrame(() => f(k - 1))"
                  " : r(); f(n); })", n)


def screenshot(page, name: str, selector: str | None = ".js-plotly-plot") -> Path:
    """Scroll the first ``selector`` match into view and save build/screenshots/lite-<name>.png."""
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    if selector:
        page.evaluate("(s) => { const n = window.__klPanel && window.__klPanel.node.querySelector(s);"
                      " if (n) n.scrollIntoView({block: 'center'}); }", selector)
        next_frames(page)
    out = SCREENSHOT_DIR / f"lite-{name}.png"
    page.screenshot(path=str(out))
    return out
