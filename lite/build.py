"""Build kafkalab's JupyterLite site (no server: Python runs in the browser on Pyodide).

    python3 lite/build.py            # -> build/lite/ (serve it with: python3 -m http.server -d build/lite)

Everything the site loads is in build/lite/: the JupyterLab front end, the widget and plotly
extensions, the Pyodide interpreter, and every wheel the kernel imports. Nothing is fetched from a
CDN or PyPI at run time (``disablePyPIFallback``). Steps:

1. a separate build environment, build/lite-venv, from lite/requirements-build.txt (pinned);
   the script re-runs itself inside it;
2. the npm package ``pyodide`` at the version jupyterlite-pyodide-kernel pins (``npm pack``);
3. wheels: kafkalab (``pip wheel`` of this checkout), its runtime dependencies
   (lite/requirements-site.txt), and the PyPI copies of the Pyodide-lock packages the kernel needs;
4. a pruned pyodide-lock.json that lists exactly those wheels (lite/pyodide_lock.py); the kernel
   preloads kafkalab, plotly, ipywidgets, anywidget and networkx (``loadPyodideOptions.packages`` in
   lite/jupyter-lite.json), so notebooks need no ``%pip install`` cell;
5. notebooks/ and exercises/ as the site's files (notebooks that need a real Jupyter server are
   left out, see ``server_only_reason``);
6. ``jupyter lite build``.

Downloads are cached under build/lite-cache/, so a rebuild needs no network. A summary (sizes,
versions, timings) goes to build/lite-build.json.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BUILD = ROOT / "build"
VENV = BUILD / "lite-venv"
CACHE = BUILD / "lite-cache"
STAGE = BUILD / "lite-src"  # the generated lite_dir (never edit: rebuilt every time)
OUT = BUILD / "lite"
SUMMARY = BUILD / "lite-build.json"
CONTENT_DIRS = ("notebooks", "exercises")

# Files of the npm package that the site needs (no source maps, type stubs, demo consoles).
PYODIDE_CORE = ("pyodide.mjs", "pyodide.asm.mjs", "pyodide.asm.wasm", "python_stdlib.zip", "pyodide.js")

# Pure wheels only, for the Python inside Pyodide.
PIP_PURE = ["--no-deps", "--only-binary=:all:", "--platform", "any", "--python-version", "3.14",
            "--implementation", "py", "--abi", "none"]

# Notebooks that cannot run in Pyodide at all opt out with a line in their FIRST markdown cell
# matching this. (09_run_it_for_real stays in: its real-client cell says in one line that
# librdkafka cannot run in the browser, and the simulation side still runs.)
SERVER_ONLY_TEXT = re.compile(r"needs? a (real |local )?(jupyter |python )?server", re.I)


def log(msg: str) -> None:
    print(f"[lite] {msg}", flush=True)


def run(cmd: list, **kw) -> subprocess.CompletedProcess:
    log("$ " + " ".join(str(c) for c in cmd))
    return subprocess.run([str(c) for c in cmd], check=True, **kw)


def file_hash(*paths: Path) -> str:
    h = hashlib.sha256()
    for p in paths:
        h.update(p.read_bytes())
    return h.hexdigest()[:16]


# --------------------------------------------------------------------------- notebooks


def server_only_reason(nb_path: Path) -> str | None:
    """Why a notebook cannot run in the JupyterLite site, or None when it can."""
    nb = json.loads(nb_path.read_text())
    cells = nb.get("cells", [])
    md = next((c for c in cells if c.get("cell_type") == "markdown"), None)
    if md is not None:
        text = "".join(md.get("source", []))
        m = SERVER_ONLY_TEXT.search(text)
        if m:
            return f"first markdown cell says {m.group(0)!r}"
    return None


def stage_notebook(src: Path, dst: Path) -> None:
    """Copy a notebook for the site, with the Pyodide kernel as its kernelspec."""
    nb = json.loads(src.read_text())
    meta = nb.setdefault("metadata", {})
    meta["kernelspec"] = {"name": "python", "display_name": "Python (Pyodide)", "language": "python"}
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")


def stage_contents(dest: Path, roots=CONTENT_DIRS) -> dict:
    staged, skipped = [], {}
    for folder in roots:
        src_dir = ROOT / folder
        if not src_dir.is_dir():
            continue
        for src in sorted(src_dir.rglob("*")):
            rel = src.relative_to(ROOT)
            if src.is_dir() or any(p.startswith(".") or p == "__pycache__" for p in rel.parts):
                continue
            if src.suffix == ".ipynb":
                reason = server_only_reason(src)
                if reason:
                    skipped[str(rel)] = reason
                    log(f"left out {rel}: {reason}")
                    continue
                stage_notebook(src, dest / rel)
            else:
                (dest / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, dest / rel)
            staged.append(str(rel))
    return {"files": staged, "left_out": skipped}


# --------------------------------------------------------------------------- environment


def ensure_venv() -> None:
    """Create or refresh build/lite-venv, then continue inside it."""
    reqs = HERE / "requirements-build.txt"
    stamp = VENV / f".installed-{file_hash(reqs)}"
    py = VENV / "bin" / "python"
    if not stamp.exists():
        t0 = time.monotonic()
        if not py.exists():
            run([sys.executable, "-m", "venv", VENV])
        run([py, "-m", "pip", "install", "--quiet", "--upgrade", "pip"])
        run([py, "-m", "pip", "install", "--quiet", "-r", reqs])
        for old in VENV.glob(".installed-*"):
            old.unlink()
        stamp.touch()
        log(f"build environment ready in {time.monotonic() - t0:.0f}s")
    if Path(sys.prefix).resolve() != VENV.resolve():
        os.execv(str(py), [str(py), str(Path(__file__).resolve()), *sys.argv[1:]])


# --------------------------------------------------------------------------- downloads


def fetch_pyodide(version: str, dest: Path) -> Path:
    """The npm package pyodide@version (the core only: no wheels), extracted into dest."""
    npm_dir = CACHE / "npm"
    npm_dir.mkdir(parents=True, exist_ok=True)
    tgz = npm_dir / f"pyodide-{version}.tgz"
    if not tgz.exists():
        run(["npm", "pack", f"pyodide@{version}", "--pack-destination", npm_dir, "--silent"],
            stdout=subprocess.DEVNULL)
    dest.mkdir(parents=True, exist_ok=True)
    with tarfile.open(tgz) as tf:
        for name in (*PYODIDE_CORE, "pyodide-lock.json"):
            member = tf.getmember(f"package/{name}")
            data = tf.extractfile(member).read()
            (dest / name).write_bytes(data)
    return dest / "pyodide-lock.json"


def _cached_wheel(folder: Path, name: str, version: str) -> Path | None:
    stem = re.sub(r"[-_.]+", "_", name).lower()
    for p in folder.glob("*.whl"):
        n, v = p.name.split("-")[:2]
        if re.sub(r"[-_.]+", "_", n).lower() == stem and v == version:
            return p
    return None


def download_pure(requirements: list[str], folder: Path) -> dict[str, Path]:
    """``name==version`` -> wheel file, downloading only what the cache lacks."""
    folder.mkdir(parents=True, exist_ok=True)
    pairs = [r.split("==") for r in requirements]
    missing = [f"{n}=={v}" for n, v in pairs if _cached_wheel(folder, n, v) is None]
    if missing:
        run([sys.executable, "-m", "pip", "download", "--quiet", *PIP_PURE, "-d", folder, *missing])
    out = {}
    for (n, v), req in zip(pairs, requirements, strict=True):
        w = _cached_wheel(folder, n, v)
        if w is None:
            raise SystemExit(f"pip did not produce a wheel for {req}")
        out[req] = w
    return out


def read_requirements(path: Path) -> list[str]:
    reqs = []
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            if "==" not in line:
                raise SystemExit(f"{path}: pin every requirement with ==, got {line!r}")
            reqs.append(line)
    return reqs


def build_kafkalab_wheel(dest: Path) -> Path:
    """A wheel of this checkout (working tree, not HEAD), built from a clean copy so no stale
    build/lib leaks into it."""
    dest.mkdir(parents=True, exist_ok=True)
    for old in dest.glob("kafkalab-*.whl"):
        old.unlink()
    with tempfile.TemporaryDirectory(prefix="kafkalab-wheel-") as tmp:
        src = Path(tmp) / "src"
        src.mkdir()
        for name in ("pyproject.toml", "README.md", "LICENSE"):
            if (ROOT / name).exists():
                shutil.copy2(ROOT / name, src / name)
        shutil.copytree(ROOT / "kafkalab", src / "kafkalab",
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        # Quiet: setuptools' deprecation warnings would drown the build log; shown on failure.
        proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                               "--no-build-isolation", "-w", str(dest), str(src)],
                              capture_output=True, text=True)
        if proc.returncode:
            raise SystemExit(f"pip wheel of kafkalab failed:\n{proc.stdout}\n{proc.stderr}")
    (wheel,) = dest.glob("kafkalab-*.whl")
    return wheel


# --------------------------------------------------------------------------- build


def dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def build(output: Path) -> dict:
    import pyodide_lock  # lives next to this file (main() puts lite/ on sys.path)
    from jupyterlite_pyodide_kernel.constants import PYODIDE_VERSION

    timings = {}
    t0 = time.monotonic()
    shutil.rmtree(STAGE, ignore_errors=True)
    pyodide_dir = STAGE / "static" / "pyodide"

    lock_path = fetch_pyodide(PYODIDE_VERSION, pyodide_dir)
    timings["pyodide core"] = time.monotonic() - t0

    t = time.monotonic()
    site_reqs = read_requirements(HERE / "requirements-site.txt")
    site_wheels = list(download_pure(site_reqs, CACHE / "site-wheels").values())
    kafkalab_wheel = build_kafkalab_wheel(CACHE / "kafkalab-wheel")
    local = [kafkalab_wheel, *site_wheels]
    timings["local wheels"] = time.monotonic() - t

    t = time.monotonic()
    lock = pyodide_lock.load_lock(lock_path)
    the_plan = pyodide_lock.plan(lock, local)
    by_req = download_pure(the_plan.pypi_requirements(), CACHE / "lock-wheels")
    pypi_wheels = {pyodide_lock.canonical(r.split("==")[0]): w for r, w in by_req.items()}
    for w in [*pypi_wheels.values(), *local]:
        shutil.copy2(w, pyodide_dir / w.name)
    new_lock = pyodide_lock.write_lock(lock, the_plan, pypi_wheels, lock_path)
    timings["lock wheels + lock"] = time.monotonic() - t

    config = json.loads((HERE / "jupyter-lite.json").read_text())
    kernel = config["jupyter-config-data"]["litePluginSettings"][
        "@jupyterlite/pyodide-kernel-extension:kernel"]
    for pkg in kernel.get("loadPyodideOptions", {}).get("packages", []):
        if pyodide_lock.canonical(pkg) not in new_lock["packages"]:
            raise SystemExit(f"lite/jupyter-lite.json preloads {pkg!r}, which the lock does not hold")
    (STAGE / "jupyter-lite.json").write_text(json.dumps(config, indent=2) + "\n")
    shutil.copy2(HERE / "jupyter_lite_config.json", STAGE / "jupyter_lite_config.json")

    contents = stage_contents(STAGE / "contents")

    t = time.monotonic()
    shutil.rmtree(output, ignore_errors=True)
    env = dict(os.environ)
    # Only the build environment's labextensions: not whatever the user has in ~/.local.
    env["JUPYTER_DATA_DIR"] = str(STAGE / ".jupyter-data")
    env["JUPYTER_CONFIG_DIR"] = str(STAGE / ".jupyter-config")
    env.pop("JUPYTER_PATH", None)
    cmd = [Path(sys.executable).parent / "jupyter", "lite", "build", "--lite-dir", STAGE,
           "--output-dir", output]
    if (STAGE / "contents").is_dir():
        cmd += ["--contents", STAGE / "contents"]
    run(cmd, cwd=STAGE, env=env, stdout=subprocess.DEVNULL)
    timings["jupyter lite build"] = time.monotonic() - t

    extensions = sorted(
        str(p.parent.relative_to(output / "extensions"))
        for p in (output / "extensions").rglob("package.json")
        if p.parent.parent.name in ("extensions", "@jupyter-widgets", "@jupyterlite")
    )
    sizes = {p.name: dir_size(p) if p.is_dir() else p.stat().st_size for p in output.iterdir()}
    summary = {
        "output": str(output),
        "size_bytes": dir_size(output),
        "size_by_top_level": dict(sorted(sizes.items(), key=lambda kv: -kv[1])),
        "pyodide": PYODIDE_VERSION,
        "lock_packages": {k: v["version"] for k, v in sorted(new_lock["packages"].items())},
        "preloaded": kernel.get("loadPyodideOptions", {}).get("packages", []),
        "extensions": extensions,
        "contents": contents,
        "timings_s": {k: round(v, 1) for k, v in timings.items()},
        "total_s": round(time.monotonic() - t0, 1),
    }
    SUMMARY.write_text(json.dumps(summary, indent=2) + "\n")
    mb = summary["size_bytes"] / 1e6
    log(f"site: {output} ({mb:.1f} MB); {len(new_lock['packages'])} wheels in the lock; "
        f"extensions: {', '.join(extensions)}")
    for name, size in summary["size_by_top_level"].items():
        if size > 500_000:
            log(f"  {name}: {size / 1e6:.1f} MB")
    if contents["left_out"]:
        log(f"left out (need a server): {', '.join(contents['left_out'])}")
    log(f"built in {summary['total_s']}s; summary in {SUMMARY.relative_to(ROOT)}")
    return summary


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--output", type=Path, default=OUT, help=f"output folder (default {OUT})")
    args = ap.parse_args(argv)
    ensure_venv()
    sys.path.insert(0, str(HERE))
    build(args.output.resolve())
    return 0


if __name__ == "__main__":
    sys.exit(main())
