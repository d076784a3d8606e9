"""The four places that name dependencies agree: pyproject.toml (bounds), requirements/lock.txt
(exact versions CI uses), environment.yml (conda) and binder/environment.yml (Binder).

Conda and Binder cannot run on CI; these tests make drift between them fail instead.
"""
from __future__ import annotations

import configparser
import re
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]


def read_lock():
    pins = {}
    for line in (ROOT / "requirements" / "lock.txt").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, version = line.split("==")
            pins[canonicalize_name(name)] = version
    return pins


def read_pyproject():
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = [Requirement(r) for r in data["dependencies"]]
    dev = [Requirement(r) for r in data["optional-dependencies"]["dev"]]
    return data, runtime, dev


def read_env(path):
    env = yaml.safe_load((ROOT / path).read_text())
    deps = env["dependencies"]
    conda = [d for d in deps if isinstance(d, str)]
    pip = next(d["pip"] for d in deps if isinstance(d, dict) and "pip" in d)
    pins = {}
    for item in pip:
        if item.startswith("-"):
            continue
        name, version = item.split("==")
        pins[canonicalize_name(name)] = version
    return conda, pip, pins


LOCK = read_lock()
PROJECT, RUNTIME, DEV = read_pyproject()


@pytest.mark.parametrize("req", RUNTIME + DEV, ids=str)
def test_lock_satisfies_pyproject_bounds(req):
    name = canonicalize_name(req.name)
    assert name in LOCK, f"{req.name} is in pyproject.toml but not pinned in requirements/lock.txt"
    assert req.specifier.contains(LOCK[name], prereleases=True), (
        f"lock pins {req.name}=={LOCK[name]}, outside pyproject's bounds {req.specifier}")


@pytest.mark.parametrize("path", ["environment.yml", "binder/environment.yml"])
def test_conda_envs_pin_lock_versions(path):
    conda, _, pins = read_env(path)
    assert "python=3.11" in conda, f"{path} must ask for python=3.11"
    for name, version in pins.items():
        assert name in LOCK, f"{path} pins {name}, which requirements/lock.txt does not have"
        assert LOCK[name] == version, f"{path} pins {name}=={version} but the lock has {LOCK[name]}"
    for req in RUNTIME:
        assert canonicalize_name(req.name) in pins, f"{path} lacks runtime dependency {req.name}"


def test_environment_yml_has_dev_tools_and_installs_nmfedu():
    _, pip, pins = read_env("environment.yml")
    for req in DEV:
        assert canonicalize_name(req.name) in pins, f"environment.yml lacks dev dependency {req.name}"
    assert "-e ." in pip


def test_binder_has_jupyterlab_widgets_pair_and_postbuild():
    _, _, pins = read_env("binder/environment.yml")
    # ipywidgets and the front end's jupyterlab_widgets must be installed as a pair
    for name in ("jupyterlab", "jupyterlab-widgets", "ipywidgets", "ipykernel"):
        assert name in pins
    post = (ROOT / "binder" / "postBuild").read_text()
    assert "set -e" in post and "pip install" in post and "-e ." in post


def test_python_requirement_is_stated_once_and_met():
    """requires-python, the Makefile's PYTHON, both conda environments and the running
    interpreter agree on the minor version (a bump in one place fails here)."""
    import sys

    spec = PROJECT["requires-python"]
    m = re.fullmatch(r">=\s*(\d+)\.(\d+)", spec)
    assert m, f"requires-python should be '>=X.Y', got {spec!r}"
    minimum = (int(m.group(1)), int(m.group(2)))
    version = f"{minimum[0]}.{minimum[1]}"
    assert sys.version_info[:2] >= minimum, (sys.version_info, spec)
    make = (ROOT / "Makefile").read_text()
    assert re.search(rf"^PYTHON \?= python{re.escape(version)}$", make, re.M), "Makefile PYTHON"
    for env in ("environment.yml", "binder/environment.yml"):
        text = (ROOT / env).read_text()
        assert re.search(rf"^\s*- python={re.escape(version)}\b", text, re.M), env


def test_readme_two_commands_and_ci():
    readme = (ROOT / "README.md").read_text().splitlines()
    commands = [l.strip() for l in readme[:40] if l.strip().startswith("make ")]
    assert commands[:2] == ["make lab", "make test"], commands
    ci = (ROOT / ".ci" / "run").read_text()
    run_lines = [l for l in ci.splitlines() if l.strip() and not l.startswith("#")
                 and not l.startswith("set ") and not l.startswith("cd ")]
    assert run_lines == ["make test"], run_lines


def test_binder_badge_opens_index_notebook():
    readme = (ROOT / "README.md").read_text()
    assert re.search(r"mybinder\.org/v2/[^)\s]*urlpath=lab(/|%2F)tree(/|%2F)notebooks(/|%2F)00_index\.ipynb", readme)


def test_sanitize_file_parses():
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "tests" / "nbval_sanitize.cfg")
    assert cfg.sections()
    for section in cfg.sections():
        re.compile(cfg[section]["regex"])
