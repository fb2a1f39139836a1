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
4. bytecode for all of them and for Pyodide's standard library, compiled by the site's own Pyodide
   in Node.js (lite/precompile.py), so a kernel does not compile them again at every start;
5. a pruned pyodide-lock.json that lists exactly those wheels (lite/pyodide_lock.py); the kernel
   preloads kafkalab, plotly, ipywidgets, anywidget and networkx (``loadPyodideOptions.packages`` in
   lite/jupyter-lite.json), so notebooks need no ``%pip install`` cell;
6. notebooks/ and exercises/ as the site's files (notebooks that need a real Jupyter server are
   left out, see ``server_only_reason``);
7. ``jupyter lite build``.

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
# What the site is built from: a site whose summary carries the same digest is reused as it is
# (tests/lite/lite_harness.ensure_site), whatever the files' modification times.
SOURCE_DIRS = ("kafkalab", "notebooks", "exercises", "lite")
# Federated extensions the build environment brings along that no notebook uses: left out of the
# site. jupyterlab_pygments is a Pygments CSS theme for nbconvert's HTML export (a dependency of
# the build tools), not something JupyterLab draws with.
UNUSED_EXTENSIONS = ("jupyterlab_pygments",)

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


def sources_digest(root: Path = ROOT) -> str:
    """sha256 over the path and bytes of every file the site is built from (SOURCE_DIRS)."""
    h = hashlib.sha256()
    for folder in SOURCE_DIRS:
        for p in sorted((root / folder).rglob("*")):
            rel = p.relative_to(root)
            if p.is_dir() or any(part.startswith(".") or part == "__pycache__" for part in rel.parts):
                continue
            if p.suffix == ".pyc":
                continue
            h.update(rel.as_posix().encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()


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


def kernel_own_wheels() -> list[Path]:
    """piplite, pyodide-kernel and its ipykernel shim: the wheels jupyterlite-pyodide-kernel ships
    in its own piplite index. As entries of the site's lock they are preloaded with everything else
    (lite/jupyter-lite.json), and the kernel then skips its boot-time ``piplite.install`` of each
    (its worker checks ``loadPyodideOptions.packages`` for them), one micropip resolve apiece."""
    pypi = (Path(sys.prefix) / "share" / "jupyter" / "labextensions" / "@jupyterlite"
            / "pyodide-kernel-extension" / "static" / "pypi")
    wheels = [w for w in sorted(pypi.glob("*.whl"))
              if w.name.split("-")[0] in ("piplite", "pyodide_kernel", "ipykernel")]
    if len(wheels) != 3:
        raise SystemExit(f"expected piplite, pyodide_kernel and ipykernel wheels in {pypi}, "
                         f"found {[w.name for w in wheels]}")
    return wheels


# --------------------------------------------------------------------------- build


def dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def drop_extensions(output: Path, names) -> list[str]:
    """Remove the named federated extensions from the built site (folder and config entry)."""
    config_path = output / "jupyter-lite.json"
    config = json.loads(config_path.read_text())
    data = config.get("jupyter-config-data", {})
    dropped = []
    for name in names:
        folder = output / "extensions" / name
        if folder.is_dir():
            shutil.rmtree(folder)
            dropped.append(name)
        feds = data.get("federated_extensions", [])
        data["federated_extensions"] = [e for e in feds if e.get("name") != name]
    config_path.write_text(json.dumps(config, indent=2) + "\n")
    return dropped


def make_up(output: Path, lock: dict, kernel: dict) -> dict:
    """What the site is made of, in bytes: the JupyterLab app, each extension, the Pyodide core,
    each wheel (preloaded by the kernel, or needed by the kernel to boot), the notebooks."""
    import pyodide_lock  # lives next to this file (main() puts lite/ on sys.path)

    pyodide = output / "static" / "pyodide"
    preload = {pyodide_lock.canonical(p) for p in kernel.get("loadPyodideOptions", {}).get("packages", [])}
    wheels = {}
    for name, entry in sorted(lock["packages"].items()):
        f = pyodide / entry["file_name"]
        if f.is_file():
            wheels[name] = {"bytes": f.stat().st_size,
                            "why": "preloaded" if name in preload else "dependency or kernel boot"}
    core = sum((pyodide / n).stat().st_size for n in (*PYODIDE_CORE, "pyodide-lock.json")
               if (pyodide / n).is_file())
    ext_root = output / "extensions"
    exts = {}
    for pkg in ext_root.rglob("package.json"):
        if pkg.parent.parent == ext_root or pkg.parent.parent.parent == ext_root:
            exts[pkg.parent.relative_to(ext_root).as_posix()] = dir_size(pkg.parent)
    total = dir_size(output)
    known = {"app (build/, JupyterLite's prebuilt JupyterLab)": dir_size(output / "build"),
             "extensions": sum(exts.values()), "pyodide core": core,
             "wheels": sum(w["bytes"] for w in wheels.values()),
             "contents (files/)": dir_size(output / "files") if (output / "files").is_dir() else 0}
    known["other (html, config, icons, service worker)"] = total - sum(known.values())
    return {"total": total, "parts": known,
            "extensions": dict(sorted(exts.items(), key=lambda kv: -kv[1])),
            "wheels": dict(sorted(wheels.items(), key=lambda kv: -kv[1]["bytes"]))}


def build(output: Path) -> dict:
    import precompile  # these two live next to this file (main() puts lite/ on sys.path)
    import pyodide_lock
    from jupyterlite_pyodide_kernel.constants import PYODIDE_VERSION

    timings = {}
    t0 = time.monotonic()
    digest = sources_digest()
    shutil.rmtree(STAGE, ignore_errors=True)
    pyodide_dir = STAGE / "static" / "pyodide"

    lock_path = fetch_pyodide(PYODIDE_VERSION, pyodide_dir)
    timings["pyodide core"] = time.monotonic() - t0

    t = time.monotonic()
    site_reqs = read_requirements(HERE / "requirements-site.txt")
    site_wheels = list(download_pure(site_reqs, CACHE / "site-wheels").values())
    kafkalab_wheel = build_kafkalab_wheel(CACHE / "kafkalab-wheel")
    local = [kafkalab_wheel, *site_wheels, *kernel_own_wheels()]
    timings["local wheels"] = time.monotonic() - t

    t = time.monotonic()
    lock = pyodide_lock.load_lock(lock_path)
    by_req = download_pure(pyodide_lock.plan(lock, local).pypi_requirements(), CACHE / "lock-wheels")
    pypi_wheels = {pyodide_lock.canonical(r.split("==")[0]): w for r, w in by_req.items()}
    timings["lock wheels"] = time.monotonic() - t

    # Bytecode compiled once here, in this Pyodide, instead of in every kernel the site starts
    # (lite/precompile.py): kafkalab and the standard library keep their source beside it.
    t = time.monotonic()
    stdlib = pyodide_dir / "python_stdlib.zip"
    jobs = [(stdlib, precompile.KEEP_SOURCE, precompile.STDLIB_ZIP),
            (kafkalab_wheel, precompile.KEEP_SOURCE, precompile.SITE_PACKAGES)]
    jobs += [(w, precompile.SOURCELESS, precompile.SITE_PACKAGES)
             for w in [*local, *pypi_wheels.values()] if w != kafkalab_wheel]
    compiled, precompiled = precompile.precompile(pyodide_dir, jobs, CACHE / "precompiled")
    shutil.copy2(compiled[stdlib], stdlib)
    local = [compiled[w] for w in local]
    pypi_wheels = {name: compiled[w] for name, w in pypi_wheels.items()}
    for w in [*pypi_wheels.values(), *local]:
        shutil.copy2(w, pyodide_dir / w.name)
    timings["precompile"] = time.monotonic() - t

    t = time.monotonic()
    the_plan = pyodide_lock.plan(lock, local)
    new_lock = pyodide_lock.write_lock(lock, the_plan, pypi_wheels, lock_path)
    timings["lock"] = time.monotonic() - t

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

    dropped = drop_extensions(output, UNUSED_EXTENSIONS)

    extensions = sorted(
        str(p.parent.relative_to(output / "extensions"))
        for p in (output / "extensions").rglob("package.json")
        if p.parent.parent.name in ("extensions", "@jupyter-widgets", "@jupyterlite")
    )
    sizes = {p.name: dir_size(p) if p.is_dir() else p.stat().st_size for p in output.iterdir()}
    summary = {
        "output": str(output),
        "sources_sha256": digest,
        "size_bytes": dir_size(output),
        "make_up_bytes": make_up(output, new_lock, kernel),
        "extensions_left_out": dropped,
        "size_by_top_level": dict(sorted(sizes.items(), key=lambda kv: -kv[1])),
        "pyodide": PYODIDE_VERSION,
        "lock_packages": {k: v["version"] for k, v in sorted(new_lock["packages"].items())},
        "preloaded": kernel.get("loadPyodideOptions", {}).get("packages", []),
        "extensions": extensions,
        "contents": contents,
        "precompiled": precompiled,
        "timings_s": {k: round(v, 1) for k, v in timings.items()},
        "total_s": round(time.monotonic() - t0, 1),
    }
    SUMMARY.write_text(json.dumps(summary, indent=2) + "\n")
    mb = summary["size_bytes"] / 1e6
    log(f"site: {output} ({mb:.1f} MB); {len(new_lock['packages'])} wheels in the lock; "
        f"extensions: {', '.join(extensions)}")
    for name, size in summary["make_up_bytes"]["parts"].items():
        log(f"  {name}: {size / 1e6:.1f} MB")
    big = [f"{n} {w['bytes'] / 1e6:.1f}" for n, w in summary["make_up_bytes"]["wheels"].items()
           if w["bytes"] > 500_000]
    log(f"  largest wheels (MB): {', '.join(big)}")
    if dropped:
        log(f"  left out (no notebook uses them): {', '.join(dropped)}")
    if contents["left_out"]:
        log(f"left out (need a server): {', '.join(contents['left_out'])}")
    log(f"built in {summary['total_s']}s; summary in {SUMMARY.relative_to(ROOT)}")
    return summary


def up_to_date(output: Path) -> bool:
    """The site in ``output`` was built from exactly these sources (see sources_digest)."""
    if not (output / "index.html").exists() or not SUMMARY.exists():
        return False
    summary = json.loads(SUMMARY.read_text())
    return summary.get("output") == str(output) and summary.get("sources_sha256") == sources_digest()


def build_lock():
    """An exclusive lock on build/lite-build.lock: one build at a time (CI starts one in the
    background while the tests start; the tests' ensure_site then waits for it)."""
    import fcntl

    global _LOCK_FD
    if _LOCK_FD is None:
        BUILD.mkdir(exist_ok=True)
        _LOCK_FD = os.open(BUILD / "lite-build.lock", os.O_CREAT | os.O_RDWR, 0o644)
        fcntl.flock(_LOCK_FD, fcntl.LOCK_EX)  # released when the process ends or execs
    return _LOCK_FD


_LOCK_FD: int | None = None


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--output", type=Path, default=OUT, help=f"output folder (default {OUT})")
    ap.add_argument("--if-stale", action="store_true",
                    help="do nothing when the site was already built from the same sources")
    args = ap.parse_args(argv)
    build_lock()
    ensure_venv()
    build_lock()  # again: ensure_venv may have re-executed this script in the build venv
    output = args.output.resolve()
    if args.if_stale and up_to_date(output):
        log(f"{output} is up to date (built from the same sources)")
        return 0
    sys.path.insert(0, str(HERE))
    build(output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
