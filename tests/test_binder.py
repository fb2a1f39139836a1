"""Binder: the pins learners get are the versions CI tested, and a Binder-like build works.

binder/requirements.txt pins (==) the runtime packages and everything they pull in, taken from
the test environment. Regenerate it after changing dependencies (then review the diff):

    .venv/bin/python tests/test_binder.py --write

The slow test emulates repo2docker without Docker: a fresh venv on the system python3.11,
``pip install -r binder/requirements.txt``, ``bash binder/postBuild`` from the repo root, then
``import kafkalab`` and executing notebooks/00_start_here.ipynb (the landing page) and
notebooks/09_run_it_for_real.ipynb (the real librdkafka client) with nbclient in that venv.
"""

from __future__ import annotations

import importlib.metadata as md
import os
import shutil
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parents[1]
BINDER = REPO / "binder"
REQUIREMENTS = BINDER / "requirements.txt"
# The landing page, and the notebook that needs the most from the image (confluent-kafka).
BINDER_NOTEBOOKS = [REPO / "notebooks" / "00_start_here.ipynb",
                    REPO / "notebooks" / "09_run_it_for_real.ipynb"]

# What a learner's Binder needs besides kafkalab's own runtime dependencies from pyproject.
RUNTIME_ROOTS = [
    "jupyterlab",
    "ipywidgets",
    "jupyterlab_widgets",
    "plotly",
    "anywidget",
    "networkx",
    "ipykernel",
]
# Front-end extensions the Lab must find in the Binder image.
LAB_EXTENSIONS = ["@jupyter-widgets/jupyterlab-manager", "jupyterlab-plotly", "anywidget"]


def runtime_roots() -> list[str]:
    """RUNTIME_ROOTS plus pyproject's dependencies and its ``notebook`` and ``real`` extras
    (minus kafkalab): on Binder the guided path runs to its end, real client included."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    reqs = list(project.get("dependencies", []))
    for extra in ("notebook", "real"):
        reqs += project.get("optional-dependencies", {}).get(extra, [])
    roots = [r for r in reqs if canonicalize_name(Requirement(r).name) != "kafkalab"]
    return RUNTIME_ROOTS + roots


def installed_closure(roots: list[str]) -> dict[str, str]:
    """Installed name -> version for ``roots`` and all they require here (markers evaluated
    for this interpreter, extras followed). Raises PackageNotFoundError for a missing one."""
    seen: dict[str, tuple[md.Distribution, set[str]]] = {}
    stack = [Requirement(r) for r in roots]
    while stack:
        req = stack.pop()
        key = canonicalize_name(req.name)
        extras = set(req.extras)
        if key in seen and extras <= seen[key][1]:
            continue
        dist = md.distribution(req.name)
        extras |= seen.get(key, (dist, set()))[1]
        seen[key] = (dist, extras)
        for raw in dist.requires or []:
            sub = Requirement(raw)
            envs = [{"extra": e} for e in sorted(extras | {""})]
            if sub.marker is None or any(sub.marker.evaluate(env) for env in envs):
                stack.append(sub)
    return {dist.metadata["Name"]: dist.version for dist, _ in seen.values()}


def read_pins(path: Path = REQUIREMENTS) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        name, sep, version = line.partition("==")
        assert sep and version and not any(c in version for c in "<>=!~;, "), (
            f"not an exact pin: {line!r}"
        )
        pins[name.strip()] = version.strip()
    return pins


def render_requirements() -> str:
    closure = installed_closure(runtime_roots())
    header = textwrap.dedent(
        f"""\
        # Binder runtime for kafkalab learners: exactly the versions CI tests with.
        # Generated from the test environment by `.venv/bin/python tests/test_binder.py --write`
        # (closure of: {", ".join(RUNTIME_ROOTS)} and pyproject's notebook extra).
        # kafkalab itself is installed by binder/postBuild (pip install --no-deps .).
        """
    )
    lines = [f"{name}=={closure[name]}" for name in sorted(closure, key=str.lower)]
    return header + "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- fast checks


def test_pins_equal_test_environment():
    mismatched, missing = [], []
    for name, pinned in read_pins().items():
        try:
            installed = md.version(name)
        except md.PackageNotFoundError:
            missing.append(name)
            continue
        if installed != pinned:
            mismatched.append(f"{name}: pinned {pinned}, installed {installed}")
    assert not mismatched, (
        "binder/requirements.txt differs from the test environment "
        "(regenerate: .venv/bin/python tests/test_binder.py --write):\n" + "\n".join(mismatched)
    )
    # Packages pinned but not installed here are not checked; there should be none.
    assert not missing, f"pinned but not installed in the test environment: {missing}"


def test_pins_cover_runtime_dependencies():
    pins = {canonicalize_name(n) for n in read_pins()}
    needed = installed_closure(runtime_roots())
    unpinned = sorted(n for n in needed if canonicalize_name(n) not in pins)
    assert not unpinned, (
        f"runtime packages missing from binder/requirements.txt: {unpinned} "
        "(regenerate: .venv/bin/python tests/test_binder.py --write)"
    )


def test_binder_files_follow_repo2docker_rules():
    assert (BINDER / "runtime.txt").read_text().strip() == "python-3.11"
    post = BINDER / "postBuild"
    assert os.access(post, os.X_OK), "binder/postBuild must be executable"
    lines = post.read_text().splitlines()
    assert lines[0] == "#!/bin/bash"
    assert "set -e" in [line.strip() for line in lines]
    assert any("pip install --no-deps ." in line for line in lines)
    # A local path in requirements.txt would disable repo2docker's cached dependency layer.
    assert all(not n.startswith((".", "/", "-e")) for n in read_pins())


# --------------------------------------------------------------------------- slow emulation

RUN_NOTEBOOK = """
import sys
import nbformat
from nbclient import NotebookClient

path = sys.argv[1]
nb = nbformat.read(path, as_version=4)
NotebookClient(nb, timeout=300, kernel_name="python3",
               resources={"metadata": {"path": sys.argv[2]}}).execute()
errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
          if o.output_type == "error"]
assert not errors, errors
print("executed", path, "cells:", len(nb.cells))
"""


def _python311() -> str | None:
    for candidate in (shutil.which("python3.11"), sys._base_executable):
        if not candidate:
            continue
        out = subprocess.run(
            [candidate, "-c", "import sys; print(sys.version_info[:2] == (3, 11))"],
            capture_output=True,
            text=True,
        )
        if out.stdout.strip() == "True":
            return candidate
    return None


def _run(cmd, *, env, cwd, timeout) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, (
        f"{cmd} failed ({proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    )
    return proc


@pytest.mark.slow
def test_binder_build_emulation(tmp_path):
    python = _python311()
    if python is None:
        pytest.skip("no python3.11 interpreter for the Binder emulation (runtime.txt)")
    venv = tmp_path / "binder-venv"
    subprocess.run([python, "-m", "venv", str(venv)], check=True, timeout=120)
    bindir = venv / "bin"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env.update(
        PATH=f"{bindir}{os.pathsep}{env.get('PATH', '')}",
        VIRTUAL_ENV=str(venv),
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        JUPYTER_DATA_DIR=str(tmp_path / "jupyter-data"),
        JUPYTER_CONFIG_DIR=str(tmp_path / "jupyter-config"),
        JUPYTER_RUNTIME_DIR=str(tmp_path / "jupyter-runtime"),
        IPYTHONDIR=str(tmp_path / "ipython"),
        JUPYTER_PLATFORM_DIRS="1",
        JUPYTER_PREFER_ENV_PATH="1",
    )

    _run(
        [str(bindir / "python"), "-m", "pip", "install", "-q", "-r", str(REQUIREMENTS)],
        env=env,
        cwd=REPO,
        timeout=1200,
    )
    _run(["bash", "binder/postBuild"], env=env, cwd=REPO, timeout=600)

    # Import from outside the repo, so the installed kafkalab is used, not the source tree.
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    found = _run(
        [str(bindir / "python"), "-c", "import kafkalab; print(kafkalab.__file__)"],
        env=env,
        cwd=outside,
        timeout=120,
    ).stdout.strip()
    assert found.startswith(str(venv)), f"kafkalab imported from {found}, not the venv"

    # The installed package holds every subpackage of the source tree.
    source_pkgs = {
        p.parent.relative_to(REPO).as_posix() for p in (REPO / "kafkalab").rglob("__init__.py")
    }
    site = Path(found).parents[1]
    installed_pkgs = {
        p.parent.relative_to(site).as_posix() for p in (site / "kafkalab").rglob("__init__.py")
    }
    assert source_pkgs <= installed_pkgs, f"not installed: {sorted(source_pkgs - installed_pkgs)}"

    extensions = _run(
        [str(bindir / "jupyter"), "labextension", "list"], env=env, cwd=outside, timeout=120
    )
    listing = extensions.stdout + extensions.stderr
    for ext in LAB_EXTENSIONS:
        assert ext in listing, f"lab extension {ext} missing in the Binder env:\n{listing}"

    script = tmp_path / "run_notebook.py"
    script.write_text(RUN_NOTEBOOK)
    for notebook in BINDER_NOTEBOOKS:
        _run(
            [str(bindir / "python"), str(script), str(notebook), str(notebook.parent)],
            env=env,
            cwd=outside,
            timeout=600,
        )


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        REQUIREMENTS.write_text(render_requirements())
        print(f"wrote {REQUIREMENTS.relative_to(REPO)}")
    else:
        sys.stdout.write(render_requirements())
