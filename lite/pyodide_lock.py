"""Rewrite Pyodide's pyodide-lock.json into a small, offline lock for the JupyterLite site.

Pyodide's npm package ships the interpreter and a lock that names ~350 wheels, none of them
included: a kernel that loads one of them fetches it from the CDN. This tool keeps only what the
site needs and makes every entry point at a wheel that sits next to the lock:

- the kernel's own boot set (micropip, ipython and its dependencies, jedi, parso), taken at the
  lock's versions from PyPI. Pyodide repacks its pure-Python wheels, so file names match PyPI's but
  every sha256 differs: the entries get the hashes of the files actually shipped.
- local wheels (kafkalab and its runtime dependencies) become lock entries too, replacing the
  lock's own entry of the same name (networkx's entry, for instance, depends on numpy and
  matplotlib, which the site does not ship). Being in the lock, they can be preloaded with
  ``loadPyodideOptions.packages`` and micropip/piplite install them from the lock.
- entries are keyed by canonical names (``prompt-toolkit``); keying by the ``name`` field
  (``prompt_toolkit``) makes Pyodide's dependency resolution miss them.

Usable as a library (``lite/build.py``) or on its own::

    python lite/pyodide_lock.py --lock pyodide-lock.json --wheel-dir DIR --local a.whl b.whl \\
        --root micropip --root ipython --out new-lock.json   # prints the PyPI wheels still missing
"""

from __future__ import annotations

import argparse
import copy
import email.parser
import hashlib
import json
import re
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

# What the Pyodide kernel loads from the lock before any notebook code runs (see
# jupyterlite-pyodide-kernel's worker: loadPackage("micropip"), then piplite installs ipykernel
# (its own shim), comm, pyodide-kernel, jedi and ipython).
KERNEL_BOOT = ("micropip", "ipython", "jedi", "parso")

# Requirements the kernel satisfies by itself: jupyterlite-pyodide-kernel ships these as shims in
# its own piplite index (widgetsnbextension 4.0.999 is an empty stand-in; ipykernel is a shim).
# Dropped from the depends of lock entries, as Pyodide's own lock does.
PROVIDED_BY_KERNEL = frozenset({"widgetsnbextension", "ipykernel", "pyodide-kernel", "piplite"})

# Environment markers as seen inside Pyodide (for Requires-Dist of local wheels).
PYODIDE_MARKER_ENV = {
    "implementation_name": "cpython",
    "implementation_version": "3.14.2",
    "os_name": "posix",
    "platform_machine": "wasm32",
    "platform_python_implementation": "CPython",
    "platform_release": "",
    "platform_system": "Emscripten",
    "platform_version": "",
    "python_full_version": "3.14.2",
    "python_version": "3.14",
    "sys_platform": "emscripten",
    "extra": "",
}


def canonical(name: str) -> str:
    """PEP 503 normalised name: ``Prompt_Toolkit`` -> ``prompt-toolkit``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@dataclass
class WheelInfo:
    path: Path
    name: str  # canonical
    version: str
    requires: list[str] = field(default_factory=list)  # canonical names, markers evaluated
    imports: list[str] = field(default_factory=list)


def _marker_ok(marker: str) -> bool:
    if "extra" in marker:
        return False
    try:
        from packaging.markers import Marker
    except ImportError:  # pragma: no cover - packaging is in the build env
        return True
    return Marker(marker).evaluate(PYODIDE_MARKER_ENV)


def read_wheel(path: Path) -> WheelInfo:
    """Name, version, runtime requirements (for Pyodide) and top-level imports of a wheel."""
    path = Path(path)
    if not path.name.endswith("-none-any.whl"):
        raise ValueError(f"{path.name}: only pure-Python (none-any) wheels load in Pyodide")
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
        meta_name = next(n for n in names if n.count("/") == 1 and n.endswith(".dist-info/METADATA"))
        meta = email.parser.Parser().parsestr(z.read(meta_name).decode())
        tops = set()
        top_level = meta_name.replace("METADATA", "top_level.txt")
        if top_level in names:
            tops = {t.strip() for t in z.read(top_level).decode().split() if t.strip()}
    if not tops:
        for n in names:
            first = n.split("/", 1)[0]
            if first.endswith((".dist-info", ".data")):
                continue
            if "/" in n and n.endswith("/__init__.py") and n.count("/") == 1:
                tops.add(first)
            elif "/" not in n and n.endswith(".py"):
                tops.add(n[:-3])
    requires = []
    for req in meta.get_all("Requires-Dist") or []:
        spec, _, marker = req.partition(";")
        if marker.strip() and not _marker_ok(marker.strip()):
            continue
        m = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", spec)
        if m:
            name = canonical(m.group(1))
            if name not in PROVIDED_BY_KERNEL:
                requires.append(name)
    return WheelInfo(path, canonical(meta["Name"]), meta["Version"], sorted(set(requires)),
                     sorted(t for t in tops if not t.startswith("_") or t == "_distutils_hack"))


def load_lock(path: Path) -> dict:
    lock = json.loads(Path(path).read_text())
    # Re-key by canonical name (Pyodide's own lock already does; be tolerant).
    lock["packages"] = {canonical(k): v for k, v in lock["packages"].items()}
    return lock


@dataclass
class Plan:
    """What the pruned lock holds: entries from Pyodide's lock (to fetch from PyPI at the lock's
    version) and entries made from local wheels."""

    from_lock: dict[str, dict]  # canonical name -> original entry
    local: dict[str, WheelInfo]

    def pypi_requirements(self) -> list[str]:
        return sorted(f"{e['name']}=={e['version']}" for e in self.from_lock.values())


def plan(lock: dict, local_wheels: list[Path], roots=KERNEL_BOOT) -> Plan:
    """The closure of the kernel's boot set and the local wheels' requirements.

    A requirement is satisfied by a local wheel first, then by the original lock; anything in
    neither is an error (the kernel would try to fetch it from PyPI and fail offline)."""
    packages = lock["packages"]
    local = {}
    for p in local_wheels:
        w = read_wheel(p)
        local[w.name] = w
    from_lock: dict[str, dict] = {}
    todo = [canonical(r) for r in roots] + [req for w in local.values() for req in w.requires]
    missing = []
    while todo:
        name = todo.pop()
        if name in local or name in from_lock:
            continue
        entry = packages.get(name)
        if entry is None:
            missing.append(name)
            continue
        if entry.get("package_type", "package") != "package":
            raise ValueError(f"{name} is a shared library in the Pyodide lock: not supported offline")
        if not entry["file_name"].endswith("-none-any.whl"):
            raise ValueError(f"{name} ({entry['file_name']}) is a compiled Pyodide wheel: it is on the "
                             "CDN only, not on PyPI; the site cannot ship it offline")
        from_lock[name] = entry
        todo.extend(canonical(d) for d in entry.get("depends", []))
    # Depends of local wheels on each other: also checked here.
    for w in local.values():
        for req in w.requires:
            if req not in local and req not in from_lock and req not in missing:
                missing.append(req)
    if missing:
        raise ValueError("not in the local wheels nor in Pyodide's lock: " + ", ".join(sorted(set(missing)))
                         + " (add them to lite/requirements-site.txt)")
    return Plan(from_lock, local)


def write_lock(lock: dict, the_plan: Plan, pypi_wheels: dict[str, Path], out: Path) -> dict:
    """Write the pruned lock next to its wheels. ``pypi_wheels``: canonical name -> wheel file
    downloaded from PyPI for each ``the_plan.from_lock`` entry. Returns the new lock."""
    new = {"info": copy.deepcopy(lock["info"]), "packages": {}}
    for name, entry in sorted(the_plan.from_lock.items()):
        wheel = pypi_wheels[name]
        e = copy.deepcopy(entry)
        e["file_name"] = wheel.name
        e["sha256"] = sha256(wheel)
        e["depends"] = [canonical(d) for d in e.get("depends", [])]
        e["unvendored_tests"] = False
        new["packages"][name] = e
    for name, w in sorted(the_plan.local.items()):
        new["packages"][name] = {
            "name": name,
            "version": w.version,
            "file_name": w.path.name,
            "install_dir": "site",
            "sha256": sha256(w.path),
            "package_type": "package",
            "imports": w.imports,
            "depends": w.requires,
            "unvendored_tests": False,
        }
    for name, e in new["packages"].items():
        unknown = [d for d in e["depends"] if d not in new["packages"]]
        if unknown:
            raise ValueError(f"lock entry {name} depends on {unknown}, which the lock does not hold")
    Path(out).write_text(json.dumps(new, indent=1, sort_keys=True) + "\n")
    return new


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lock", required=True, type=Path, help="Pyodide's pyodide-lock.json")
    ap.add_argument("--wheel-dir", required=True, type=Path,
                    help="folder with the PyPI wheels for the lock's entries (and the output lock)")
    ap.add_argument("--local", nargs="*", default=[], type=Path, help="local wheels to add")
    ap.add_argument("--root", action="append", default=None, help="boot packages (default: kernel's)")
    ap.add_argument("--out", type=Path, help="where to write the pruned lock")
    args = ap.parse_args(argv)
    lock = load_lock(args.lock)
    p = plan(lock, args.local, args.root or KERNEL_BOOT)
    found, missing = {}, []
    for name, entry in p.from_lock.items():
        f = args.wheel_dir / entry["file_name"]
        (found.__setitem__(name, f) if f.exists() else missing.append(f"{entry['name']}=={entry['version']}"))
    if missing:
        print("download first (pip download --no-deps --only-binary=:all: --python-version 3.14):")
        print("\n".join(sorted(missing)))
        return 1
    if args.out:
        write_lock(lock, p, found, args.out)
        print(f"wrote {args.out}: {len(p.from_lock)} from Pyodide's lock, {len(p.local)} local")
    return 0


if __name__ == "__main__":
    sys.exit(main())
