"""Execute notebooks in place, top to bottom on a fresh kernel, storing outputs and widget state.

Usage: python scripts/execute_notebooks.py [NOTEBOOK ...]   (default: notebooks/[0-9]*.ipynb)

This is what `make notebooks` runs before a notebook is committed. It reports each notebook's
execution time and size against the series' budgets (60 s, 3 MB) and fails on a cell error.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
TIME_BUDGET_S = 60
SIZE_BUDGET_MB = 3.0


def execute(path: Path, timeout: int = 600) -> tuple[float, float]:
    nb = nbformat.read(path, as_version=4)
    nb.metadata["kernelspec"] = {"display_name": "Python 3 (ipykernel)", "language": "python",
                                 "name": "python3"}
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=False,
                            store_widget_state=True, record_timing=False,
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    client.execute()
    elapsed = time.perf_counter() - start
    for cell in nb.cells:  # keep diffs small: no per-cell execution metadata
        cell.metadata.pop("execution", None)
    tmp = path.with_suffix(".ipynb.tmp")
    nbformat.write(nb, tmp)
    os.replace(tmp, path)
    return elapsed, path.stat().st_size / 1e6


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path)
    args = parser.parse_args(argv)
    paths = args.notebooks or sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))
    os.environ.setdefault("PYTHONHASHSEED", "0")
    failed = False
    for path in paths:
        if not path.exists():
            print(f"{path}: no such notebook", file=sys.stderr)
            return 2
        try:
            elapsed, size = execute(path)
        except Exception as exc:  # report and go on with the next notebook
            print(f"FAILED {path.name}: {type(exc).__name__}: {str(exc).strip().splitlines()[-1] if str(exc).strip() else ''}")
            failed = True
            continue
        flags = []
        if elapsed > TIME_BUDGET_S:
            flags.append(f"over the {TIME_BUDGET_S} s budget")
        if size > SIZE_BUDGET_MB:
            flags.append(f"over the {SIZE_BUDGET_MB} MB budget")
        print(f"{path.name}: executed in {elapsed:.1f} s, {size:.2f} MB" + (f"  ({'; '.join(flags)})" if flags else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
