"""The wheel is complete, and the package works outside the repository.

Builds the wheel once per session from a copy of the files the build uses (so nothing is
written into the checkout), checks it holds every package under ``nmfedu/`` (found by walking
the source, not from a list) and the bundled data, then installs it with ``--no-deps
--no-index`` into a fresh venv in a temporary folder. That venv sees the project's
dependencies through a path entry to .venv's site-packages (fast, offline) but not the editable
nmfedu; from a working directory outside the checkout it imports every module of the wheel and
loads a piece, and with ``NMFEDU_DATA`` pointing nowhere it fails with one line saying what
to do. Also: what the code imports is declared in pyproject.toml.
"""
from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
BUILD_INPUTS = ["pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "LICENSE",
                "LICENSE-CC-BY-4.0.md", "nmfedu", "data"]
IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", ".ipynb_checkpoints")


def source_packages() -> set[str]:
    return {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "nmfedu").rglob("__init__.py")
            if "__pycache__" not in p.parts}


@pytest.fixture(scope="session")
def wheel(tmp_path_factory) -> Path:
    src = tmp_path_factory.mktemp("src")
    for name in BUILD_INPUTS:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, src / name, ignore=IGNORE)
        else:
            shutil.copy2(ROOT / name, src / name)
    dist = tmp_path_factory.mktemp("dist")
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-index",
                        "--no-build-isolation", "-w", str(dist), str(src)], cwd=src,
                       capture_output=True, text=True)
    assert r.returncode == 0, f"building the wheel failed:\n{r.stderr[-3000:]}"
    (whl,) = dist.glob("nmfedu-*.whl")
    return whl


@pytest.fixture(scope="session")
def venv(wheel, tmp_path_factory) -> Path:
    env = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env)], check=True)
    py = env / "bin" / "python"
    site = Path(subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())
    # the project's dependencies, as a plain path: .venv's .pth files (the editable nmfedu) are
    # not processed, so `import nmfedu` can only find the wheel's copy
    (site / "project-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(py), "install", "--quiet",
                    "--no-deps", "--no-index", str(wheel)], check=True)
    return env


def run_outside(venv: Path, code: str, tmp_path: Path, **env) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if k not in ("NMFEDU_DATA", "PYTHONPATH")}
    environ.update(env, OPENBLAS_NUM_THREADS="1", MPLBACKEND="Agg")
    return subprocess.run([str(venv / "bin" / "python"), "-c", code], cwd=tmp_path, env=environ,
                          capture_output=True, text=True, timeout=300)


def test_wheel_holds_every_package_and_the_data(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    in_wheel = {n.rsplit("/", 1)[0].replace("/", ".") for n in names if n.endswith("/__init__.py")}
    assert source_packages() <= in_wheel, f"missing from the wheel: {source_packages() - in_wheel}"
    files = {p.relative_to(ROOT).as_posix() for p in (ROOT / "nmfedu").rglob("*")
             if p.is_file() and "__pycache__" not in p.parts and ".ipynb_checkpoints" not in p.parts
             and p.suffix not in (".pyc", ".pyo")}
    assert files <= set(names), f"package files missing from the wheel: {sorted(files - set(names))[:5]}"
    data = {f"nmfedu/_data/{p.relative_to(ROOT / 'data').as_posix()}"
            for p in (ROOT / "data").rglob("*") if p.is_file()}
    assert data <= set(names), f"data files missing from the wheel: {sorted(data - set(names))[:5]}"
    print(f"wheel {wheel.name}: {wheel.stat().st_size / 1e6:.1f} MB, {len(names)} files")


def test_installed_wheel_works_outside_the_checkout(venv, tmp_path):
    code = f"""
import importlib, json, pkgutil, nmfedu
mods = [m.name for m in pkgutil.walk_packages(nmfedu.__path__, 'nmfedu.')]
for m in mods:
    importlib.import_module(m)
from nmfedu import data
piece = data.load(data.TOY)
print(json.dumps({{"file": nmfedu.__file__, "data": str(data.data_dir()), "mods": mods,
                   "sr": piece.sr, "n": int(piece.x.size), "names": data.names()}}))
"""
    r = run_outside(venv, code, tmp_path)
    assert r.returncode == 0, r.stderr[-2000:]
    info = json.loads(r.stdout.strip().splitlines()[-1])
    assert Path(info["file"]).is_relative_to(venv), f"imported {info['file']}, not the wheel's copy"
    assert Path(info["data"]).is_relative_to(venv)
    expected = {p.parent.name for p in (ROOT / "data").glob("*/mix.wav")}
    assert set(info["names"]) == expected
    assert info["sr"] > 0 and info["n"] > 0
    assert {"nmfedu.demos", "nmfedu.exercises"} <= set(info["mods"])


def test_missing_data_fails_with_one_line_saying_what_to_do(venv, tmp_path):
    code = """
from nmfedu import data
try:
    data.load(data.TOY)
except FileNotFoundError as e:
    print(str(e))
else:
    raise SystemExit("loaded although NMFEDU_DATA points at an empty folder")
"""
    r = run_outside(venv, code, tmp_path, NMFEDU_DATA=str(tmp_path))
    assert r.returncode == 0, r.stderr[-2000:]
    message = r.stdout.strip()
    assert "\n" not in message and "NMFEDU_DATA" in message and "set" in message, message


def _declared() -> tuple[set[str], set[str]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = {canonicalize_name(Requirement(r).name) for r in project["dependencies"]}
    dev = {canonicalize_name(Requirement(r).name) for r in project["optional-dependencies"]["dev"]}
    return runtime, dev


def _imports(paths) -> set[str]:
    """Top-level modules imported (at any depth) by these files, outside ``try`` blocks."""
    found = set()
    for path in paths:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        guarded = {id(n) for t in ast.walk(tree) if isinstance(t, ast.Try) for n in ast.walk(t)}
        for node in ast.walk(tree):
            if id(node) in guarded:
                continue
            if isinstance(node, ast.Import):
                found |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return found


def _undeclared(paths, allowed: set[str]) -> set[str]:
    dists = metadata.packages_distributions()
    missing = set()
    for mod in _imports(paths) - set(sys.stdlib_module_names) - {"nmfedu", "__future__"}:
        providers = {canonicalize_name(d) for d in dists.get(mod, [])}
        if not providers:
            continue  # a local helper module (conftest, tests/browser/...)
        if not providers & allowed:
            missing.add(f"{mod} (from {sorted(providers)})")
    return missing


def test_package_imports_are_runtime_dependencies():
    runtime, _ = _declared()
    files = [p for p in (ROOT / "nmfedu").rglob("*.py") if "__pycache__" not in p.parts]
    assert not _undeclared(files, runtime), "declare in [project] dependencies"


def test_test_imports_are_declared():
    runtime, dev = _declared()
    files = [p for p in (ROOT / "tests").rglob("*.py") if "__pycache__" not in p.parts]
    assert not _undeclared(files, runtime | dev), "declare in the dev extra"


def test_requires_python_agrees_with_the_makefile():
    makefile = (ROOT / "Makefile").read_text()
    (minimum,) = [l.split("=", 1)[1].strip() for l in makefile.splitlines()
                  if l.startswith("PYTHON_MIN")]
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["requires-python"] == f">={minimum}"
