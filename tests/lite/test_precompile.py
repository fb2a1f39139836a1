"""lite/precompile.py: the site's bytecode, compiled once at build time instead of in every kernel.

The archive rewriting is interpreter-agnostic, so most of it is checked here with this CPython:
a small wheel and a small zip are compiled, unpacked or put on sys.path, and imported in a fresh
``python -B`` (which writes no bytecode, like Pyodide), which must take the compiled code. The
Node.js driver is checked against the built site's own Pyodide (its cpython-314 bytecode), and
the built site itself: every wheel in its lock compiled, its lock hashes those files.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from . import lite_harness as h

sys.path.insert(0, str(h.REPO_ROOT / "lite"))
import precompile  # lite/ is not a package
import pyodide_lock

FILES = {
    "demo/__init__.py": "VALUE = 41\n",
    "demo/calc.py": "def boom():\n    raise RuntimeError('from calc')  # the source line\n",
    "demo/tests/test_demo.py": "def test_x():\n    assert True\n",
    "demo/py2.py": "print 'python 2'\n",
    "demo/data.json": '{"k": 1}\n',
    "demo-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n",
    "demo-1.0.dist-info/WHEEL": "Wheel-Version: 1.0\nTag: py3-none-any\n",
    "demo-1.0.dist-info/RECORD": "stale,,\n",
}


def _archive(path: Path, files: dict[str, str]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, text in files.items():
            zf.writestr(name, text)
    return path


def _python(code: str, path: Path) -> str:
    proc = subprocess.run([sys.executable, "-B", "-c", code], capture_output=True, text=True,
                          env={"PYTHONPATH": str(path), "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def _compile(tmp_path: Path, files: dict[str, str], mode: str, name="demo-1.0-py3-none-any.whl"):
    src = _archive(tmp_path / f"in-{name}", files)
    dst = tmp_path / name
    stats = precompile.compile_archive(str(src), str(dst), mode, "/somewhere/")
    return dst, stats


def _unpack(wheel: Path, into: Path) -> Path:
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(into)
    return into


def test_sourceless_wheel_imports_from_bytecode_without_its_tests(tmp_path):
    wheel, stats = _compile(tmp_path, FILES, precompile.SOURCELESS)
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"demo/__init__.pyc", "demo/calc.pyc", "demo/data.json"} <= names
    assert not {"demo/__init__.py", "demo/calc.py"} & names, names
    assert not [n for n in names if "/tests/" in n], names
    # A file that does not compile stays as it was, and is named in the stats.
    assert "demo/py2.py" in names and stats["kept_source_uncompilable"] == ["demo/py2.py"]
    assert stats["compiled"] == 2 and stats["dropped_tests"] == 1

    site = _unpack(wheel, tmp_path / "site")
    out = _python("import demo, demo.calc; print(demo.VALUE, demo.__file__, demo.calc.__file__)",
                  site)
    value, init, calc = out.split()
    assert value == "41" and init.endswith("demo/__init__.pyc") and calc.endswith("calc.pyc")


def test_a_rewritten_wheel_records_exactly_what_it_holds(tmp_path):
    wheel, _ = _compile(tmp_path, FILES, precompile.SOURCELESS)
    with zipfile.ZipFile(wheel) as zf:
        record = zf.read("demo-1.0.dist-info/RECORD").decode().splitlines()
        rows = dict(line.split(",", 1) for line in record)
        assert set(rows) == set(zf.namelist()), "RECORD lists other files than the wheel holds"
        assert rows.pop("demo-1.0.dist-info/RECORD") == ","
        for name, row in rows.items():
            data = zf.read(name)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            assert row == f"sha256={digest},{len(data)}", name


def test_keep_source_wheel_has_checked_bytecode_that_never_outlives_its_source(tmp_path):
    wheel, stats = _compile(tmp_path, FILES, precompile.KEEP_SOURCE)
    tag = sys.implementation.cache_tag
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"demo/__init__.py", f"demo/__pycache__/__init__.{tag}.pyc",
            "demo/tests/test_demo.py"} <= names, names  # tests stay: nothing is left out
    assert stats["dropped_tests"] == 0

    site = _unpack(wheel, tmp_path / "site")
    pyc = site / "demo" / "__pycache__" / f"__init__.{tag}.pyc"
    flags = int.from_bytes(pyc.read_bytes()[4:8], "little")
    assert flags == 0b11, "a checked hash-based pyc (PEP 552)"
    source = (site / "demo" / "__init__.py").read_bytes()
    assert pyc.read_bytes()[8:16] == importlib.util.source_hash(source)
    code = "import demo; print(demo.VALUE, demo.__cached__)"
    assert _python(code, site).split()[0] == "41"
    # The source changes after the build: the import takes the source, not the old bytecode.
    (site / "demo" / "__init__.py").write_text("VALUE = 42\n")
    assert _python(code, site).split()[0] == "42"


def test_keep_source_zip_puts_bytecode_where_zipimport_looks_and_keeps_tracebacks(tmp_path):
    files = {k: v for k, v in FILES.items() if ".dist-info" not in k}
    zipped, _ = _compile(tmp_path, files, precompile.KEEP_SOURCE, name="lib.zip")
    names = set(zipfile.ZipFile(zipped).namelist())
    assert {"demo/__init__.py", "demo/__init__.pyc", "demo/calc.py", "demo/calc.pyc"} <= names
    out = _python("import traceback, demo.calc\n"
                  "print(demo.calc.__file__)\n"
                  "try:\n    demo.calc.boom()\n"
                  "except RuntimeError:\n    traceback.print_exc(file=__import__('sys').stdout)",
                  zipped)
    assert out.splitlines()[0].endswith("lib.zip/demo/calc.pyc"), out
    assert "# the source line" in out, f"the traceback lost its source line:\n{out}"


def test_an_unknown_mode_is_named(tmp_path):
    src = _archive(tmp_path / "a.zip", {"a.py": "x = 1\n"})
    with pytest.raises(ValueError, match=r"kafkalab: precompile mode 'fast' is not one of"):
        precompile.compile_archive(str(src), str(tmp_path / "b.zip"), "fast", "/")
    with pytest.raises(ValueError, match=r"kafkalab: precompile mode 'fast' is not one of"):
        precompile.precompile(tmp_path, [(src, "fast", "/")], tmp_path / "cache")


@pytest.mark.slow
def test_node_driver_compiles_for_the_sites_pyodide_and_caches(lite_site, tmp_path):
    pyodide = lite_site / "static" / "pyodide"
    src = _archive(tmp_path / "demo-1.0-py3-none-any.whl", FILES)
    jobs = [(src, precompile.KEEP_SOURCE, precompile.SITE_PACKAGES)]
    done, summary = precompile.precompile(pyodide, jobs, tmp_path / "cache")
    assert summary["compiled_now"] == 1, summary
    names = set(zipfile.ZipFile(done[src]).namelist())
    assert "demo/__pycache__/__init__.cpython-314.pyc" in names, names  # Pyodide's Python 3.14
    again, summary = precompile.precompile(pyodide, jobs, tmp_path / "cache")
    assert summary["compiled_now"] == 0 and again == done, "an unchanged input is compiled again"


def test_the_built_site_ships_bytecode_and_its_lock_hashes_it(lite_site):
    pyodide = lite_site / "static" / "pyodide"
    lock = json.loads((pyodide / "pyodide-lock.json").read_text())
    summary = json.loads((h.REPO_ROOT / "build" / "lite-build.json").read_text())["precompiled"]
    assert summary["archives"] == len(lock["packages"]) + 1, "every wheel and the stdlib zip"
    for name, entry in lock["packages"].items():
        wheel = pyodide / entry["file_name"]
        assert entry["sha256"] == pyodide_lock.sha256(wheel), f"{name}: lock hash is stale"
        names = zipfile.ZipFile(wheel).namelist()
        sources = [n for n in names if n.endswith(".py")]
        if name == "kafkalab":  # the learner's subject keeps its source, with bytecode beside
            assert sources and all(importlib.util.cache_from_source(s).replace(
                sys.implementation.cache_tag, "cpython-314") in names for s in sources)
        else:
            assert not sources, f"{name}: sources left uncompiled: {sources[:5]}"
            assert any(n.endswith(".pyc") for n in names), name
    stdlib = zipfile.ZipFile(pyodide / "python_stdlib.zip").namelist()
    missing = [n for n in stdlib if n.endswith(".py") and n + "c" not in stdlib]
    assert not missing, f"standard library modules without bytecode: {missing[:5]}"
