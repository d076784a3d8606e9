"""Binder's environment, checked without Docker (``make test-binder-env``; issue 17).

repo2docker cannot run here, but what it installs can: Binder reads only ``binder/``, so its
Python packages are exactly the pip list of ``binder/environment.yml`` (no dev extra, no lock
file: pip resolves the rest as Binder's pip does), then ``binder/postBuild`` runs. The Makefile
target creates a fresh venv outside the checkout for that list and runs postBuild with it, then
calls this script, in three steps:

``requirements OUT``  (project .venv) write binder/environment.yml's pip list to OUT;
``wheel OUTDIR``      (project .venv) build nmfedu's wheel from a copy of the sources (no stale
                      ``build/lib``), to install it non-editable over postBuild's editable one;
``run VENV``          (Binder venv) copy the notebooks into a scratch folder outside the
                      checkout and execute each on a fresh kernel of that venv; print each one's
                      time and the kernel's peak memory (VmHWM: peak resident set size), the
                      venv's install size, and ``N passed, M failed``. A notebook that needs a
                      package only the dev extra brings fails here with its ImportError.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUILD_INPUTS = ["pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "LICENSE",
                "LICENSE-CC-BY-4.0.md", "nmfedu", "data"]


def write_requirements(out: Path) -> int:
    import yaml

    env = yaml.safe_load((ROOT / "binder" / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    out.write_text("\n".join(pip) + "\n")
    print(f"{out}: {len(pip)} packages from binder/environment.yml")
    return 0


def build_wheel(outdir: Path) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "src"
        ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
        for name in BUILD_INPUTS:
            if (ROOT / name).is_dir():
                shutil.copytree(ROOT / name, src / name, ignore=ignore)
            else:
                src.mkdir(parents=True, exist_ok=True)
                shutil.copy2(ROOT / name, src / name)
        outdir.mkdir(parents=True, exist_ok=True)
        for old in outdir.glob("nmfedu-*.whl"):
            old.unlink()
        r = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-index",
                            "--no-build-isolation", "-w", str(outdir), str(src)],
                           capture_output=True, text=True)
        if r.returncode:
            print(r.stderr[-3000:], file=sys.stderr)
            return 1
    (whl,) = outdir.glob("nmfedu-*.whl")
    print(f"{whl}: {whl.stat().st_size / 1e6:.1f} MB")
    return 0


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def dir_size_mb(path: Path) -> float:
    return sum(f.lstat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink()) / 1e6


def run_notebooks(venv: Path, paths: list[Path], timeout: int) -> int:
    import nbformat
    from nbclient import NotebookClient

    if Path(sys.prefix).resolve() != venv.resolve():
        print(f"run this step with {venv}/bin/python (this is {sys.executable})", file=sys.stderr)
        return 2
    import nmfedu

    where = Path(nmfedu.__file__).resolve()
    if ROOT in where.parents:
        print(f"nmfedu is imported from the checkout ({where}), not from the installed wheel",
              file=sys.stderr)
        return 1
    print(f"Binder venv {venv}: {dir_size_mb(venv):.0f} MB installed; nmfedu from {where.parent}")
    print("timings from a shared machine; peak memory = the kernel's VmHWM")
    passed = failed = 0
    with tempfile.TemporaryDirectory(prefix="nmfedu-binder-nb-") as scratch:
        # only this venv's kernel: no user-level kernelspec named python3 may win
        os.environ["JUPYTER_DATA_DIR"] = str(Path(scratch) / "jupyter-data")
        os.environ.pop("JUPYTER_PATH", None)
        for path in paths:
            nb_path = Path(scratch) / path.name
            shutil.copy2(path, nb_path)
            nb = nbformat.read(nb_path, as_version=4)
            client = NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=False,
                                    resources={"metadata": {"path": scratch}})
            start = time.perf_counter()
            peak = float("nan")
            try:
                with client.setup_kernel():
                    pid = client.km.provisioner.process.pid
                    kernel_python = Path(client.km.kernel_spec.argv[0])
                    if kernel_python.is_absolute() and not kernel_python.is_relative_to(venv):
                        raise RuntimeError(f"kernel runs {kernel_python}, not the Binder venv's Python")
                    for index, cell in enumerate(nb.cells):
                        client.execute_cell(cell, index)
                    peak = peak_rss_mb(pid)
            except Exception as exc:
                lines = str(exc).strip().splitlines()
                reason = next((l for l in reversed(lines) if "Error" in l), lines[-1] if lines else "")
                print(f"FAILED {path.name}: {type(exc).__name__}: {reason[:300]}")
                failed += 1
                continue
            passed += 1
            print(f"{path.name}: executed in {time.perf_counter() - start:.1f} s, "
                  f"kernel peak memory {peak:.0f} MB")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="step", required=True)
    sub.add_parser("requirements").add_argument("out", type=Path)
    sub.add_parser("wheel").add_argument("outdir", type=Path)
    run = sub.add_parser("run")
    run.add_argument("venv", type=Path)
    run.add_argument("notebooks", nargs="*", type=Path)
    run.add_argument("--timeout", type=int, default=900, help="per cell, seconds")
    args = parser.parse_args(argv)
    if args.step == "requirements":
        return write_requirements(args.out)
    if args.step == "wheel":
        return build_wheel(args.outdir)
    paths = args.notebooks or sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))
    return run_notebooks(args.venv, [p.resolve() for p in paths], args.timeout)


if __name__ == "__main__":
    sys.exit(main())
