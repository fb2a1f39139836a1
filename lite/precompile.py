"""Byte-compile the site's Python ahead of time, in the site's own Pyodide.

A Pyodide kernel imports from wheels and from ``python_stdlib.zip`` that hold source only, and it
cannot keep what it compiles (``sys.dont_write_bytecode``, an in-memory file system): every kernel
start compiled IPython, ipykernel, plotly, ipywidgets, kafkalab and the standard library modules
they use, in WebAssembly, again. This step does that compile once, at build time, with the same
interpreter the browser runs (``lite/precompile.mjs`` starts the site's Pyodide in Node.js and
runs this file inside it), so the bytecode matches its magic number exactly
(measured in Node.js: the kernel's imports 10.7 s -> 4.4 s).

What each archive becomes (one entry of ``plan``'s list):

- ``keep-source`` (kafkalab, the standard library): every ``.py`` stays and gets a checked-hash
  ``.pyc`` beside it (``__pycache__/x.cpython-314.pyc`` in a wheel; ``x.pyc`` next to ``x.py``
  in the standard library's zip, where zipimport looks). Tracebacks and ``inspect`` still show
  the source; a ``.pyc`` whose source changed is recompiled, never trusted.
- ``sourceless`` (third-party wheels): each ``.py`` is replaced by its ``.pyc``, like the
  standard library of Python's Windows embeddable distribution, and their ``tests`` folders are
  left out (Pyodide ships packages' tests apart too: ``unvendored_tests`` in its lock). The
  site stays about as large as with sources.

A file that does not compile (a Python 2 leftover, say) is kept as it was and counted. Each
wheel's RECORD is rewritten to list the files it now holds. The file names stay the same; the
lock gets the new files' sha256 (lite/pyodide_lock.py hashes whatever it is given).

Host side (the build environment, standard library only): ``precompile(pyodide_dir, jobs)``.
Pyodide side: ``run(jobs_json_path)``, called by lite/precompile.mjs.
"""

from __future__ import annotations

import base64
import hashlib
import importlib._bootstrap_external as bootstrap  # the running interpreter's pyc writer
import importlib.util
import json
import os
import shutil
import subprocess
import tempfile
import warnings
import zipfile
from pathlib import Path

KEEP_SOURCE = "keep-source"
SOURCELESS = "sourceless"
MODES = (KEEP_SOURCE, SOURCELESS)
# Where the kernel puts each kind of archive (co_filename, so tracebacks name the real path).
SITE_PACKAGES = "/lib/python3.14/site-packages/"
STDLIB_ZIP = "/lib/python314.zip/"

HERE = Path(__file__).resolve().parent


# --------------------------------------------------------------------------- inside Pyodide


def _is_test_path(name: str) -> bool:
    return "tests" in name.split("/")[:-1]


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def compile_archive(src: str, dst: str, mode: str, prefix: str) -> dict:
    """Write ``dst``: the zip ``src`` with bytecode compiled for this interpreter (see the module
    docstring for ``mode``). ``prefix`` is where the archive's files live at run time."""
    if mode not in MODES:
        raise ValueError(f"kafkalab: precompile mode {mode!r} is not one of {MODES}")
    stats = {"compiled": 0, "kept_source_uncompilable": [], "dropped_tests": 0,
             "bytes_in": os.path.getsize(src)}
    with zipfile.ZipFile(src) as zin:
        names = zin.namelist()
        record = next((n for n in names if n.endswith(".dist-info/RECORD")), None)
        out: list[tuple[zipfile.ZipInfo, bytes]] = []

        def add(like: zipfile.ZipInfo, name: str, data: bytes) -> None:
            info = zipfile.ZipInfo(name, date_time=like.date_time)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = like.external_attr
            out.append((info, data))

        for info in zin.infolist():
            name = info.filename
            if name == record or info.is_dir():
                continue
            if mode == SOURCELESS and record is not None and _is_test_path(name):
                stats["dropped_tests"] += 1
                continue
            data = zin.read(info)
            if not name.endswith(".py"):
                add(info, name, data)
                continue
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # SyntaxWarnings: the source's, not ours
                    code = compile(data, prefix + name, "exec", dont_inherit=True)
            except (SyntaxError, ValueError):
                stats["kept_source_uncompilable"].append(name)
                add(info, name, data)
                continue
            checked = mode == KEEP_SOURCE
            pyc = bytes(bootstrap._code_to_hash_pyc(code, importlib.util.source_hash(data), checked))
            stats["compiled"] += 1
            if mode == SOURCELESS:
                add(info, name + "c", pyc)
                continue
            add(info, name, data)
            if record is None:  # a zip on sys.path: zipimport finds x.pyc next to x.py
                add(info, name + "c", pyc)
            else:  # a wheel unpacked into site-packages: the import system's __pycache__
                add(info, importlib.util.cache_from_source(name), pyc)
        if record is not None:
            lines = [_record_line(i.filename, d) for i, d in out] + [f"{record},,"]
            like = zin.getinfo(record)
            add(like, record, ("\n".join(lines) + "\n").encode())
    with zipfile.ZipFile(dst, "w") as zout:
        for info, data in out:
            zout.writestr(info, data)
    stats["bytes_out"] = os.path.getsize(dst)
    return stats


def run(jobs_path: str, root: str = "") -> None:
    """Pyodide side: compile every job of the JSON list at ``root + jobs_path`` ({src, dst, mode,
    prefix}; host paths, which this interpreter sees under ``root``) and write their stats next
    to it."""
    jobs = json.loads(Path(root + jobs_path).read_text())
    results = [compile_archive(root + j["src"], root + j["dst"], j["mode"], j["prefix"])
               for j in jobs]
    Path(root + jobs_path + ".out").write_text(json.dumps(results))


# --------------------------------------------------------------------------- host side


def tool_digest() -> str:
    """What a compiled archive depends on besides its input: this file and the Node.js driver."""
    h = hashlib.sha256()
    for name in ("precompile.py", "precompile.mjs"):
        h.update((HERE / name).read_bytes())
    return h.hexdigest()[:12]


def precompile(pyodide_dir: Path, jobs: list[tuple[Path, str, str]], cache: Path,
               node: str = "node") -> tuple[dict[Path, Path], dict]:
    """Compile each ``(archive, mode, prefix)`` of ``jobs`` with the Pyodide in ``pyodide_dir``.

    Returns {archive: compiled copy} and a summary. A compiled copy is kept in ``cache`` under
    the input's sha256, the Pyodide core's and this tool's digest, so a rebuild compiles only
    what changed (kafkalab's wheel, typically), in one Node.js process."""
    for _, mode, _ in jobs:
        if mode not in MODES:
            raise ValueError(f"kafkalab: precompile mode {mode!r} is not one of {MODES}")
    # Host side only: pyodide_lock lives next to this file, which runs inside Pyodide alone.
    from pyodide_lock import sha256

    core = sha256(pyodide_dir / "pyodide.asm.wasm")[:12]
    tool = tool_digest()
    done: dict[Path, Path] = {}
    todo = []
    for src, mode, prefix in jobs:
        folder = cache / f"{sha256(src)[:16]}-{mode}-{core}-{tool}"
        dst = folder / src.name
        done[src] = dst
        if not dst.is_file():
            todo.append({"src": str(src.resolve()), "dst": str(dst.resolve()), "mode": mode,
                         "prefix": prefix, "folder": folder})
    summary: dict = {"archives": len(jobs), "compiled_now": len(todo), "stats": {}}
    if not todo:
        return done, summary
    if shutil.which(node) is None:
        raise SystemExit("kafkalab: lite/precompile needs Node.js (`node`), as `npm pack` does; "
                         "it was not found on PATH")
    with tempfile.TemporaryDirectory(prefix="kafkalab-precompile-") as tmp:
        staged = []
        for job in todo:
            part = Path(tmp) / f"{len(staged)}-{Path(job['dst']).name}"
            staged.append((job, part))
        jobs_file = Path(tmp) / "jobs.json"
        jobs_file.write_text(json.dumps([{"src": j["src"], "dst": str(p), "mode": j["mode"],
                                          "prefix": j["prefix"]} for j, p in staged]))
        proc = subprocess.run([node, str(HERE / "precompile.mjs"), str(pyodide_dir.resolve()),
                               str(HERE / "precompile.py"), str(jobs_file)],
                              capture_output=True, text=True)
        if proc.returncode:
            raise SystemExit(f"kafkalab: precompiling the site's Python failed "
                             f"({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
        results = json.loads(Path(str(jobs_file) + ".out").read_text())
        for (job, part), stats in zip(staged, results, strict=True):
            job["folder"].mkdir(parents=True, exist_ok=True)
            shutil.move(part, job["dst"])  # whole files only: a cache entry is complete or absent
            summary["stats"][Path(job["dst"]).name] = stats
    return done, summary
