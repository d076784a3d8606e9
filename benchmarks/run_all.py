"""Run every ``benchmarks/bench_*.py`` one after the other (``make bench``).

Each benchmark runs in its own Python process (the interpreter running this
script), so that one's imports, caches and threads do not affect the next;
its output is printed as it comes. Benchmarks only report ratios measured in
their own run; none of them fails on a missed target. The exit status is
non-zero if a benchmark script itself crashed.

Usage::

    .venv/bin/python benchmarks/run_all.py            # all of them
    .venv/bin/python benchmarks/run_all.py nmf nae    # only bench_nmf.py and bench_nae.py
    .venv/bin/python benchmarks/run_all.py --list

Set ``OPENBLAS_NUM_THREADS`` (e.g. to 1) in the environment for steadier
numbers on a shared machine; it is passed on to every benchmark.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def find(selected=None):
    """The benchmark scripts, sorted; ``selected`` filters by name (``nmf`` or ``bench_nmf.py``)."""
    scripts = sorted(HERE.glob("bench_*.py"))
    if selected:
        keep = {s.removeprefix("bench_").removesuffix(".py") for s in selected}
        unknown = keep - {p.stem.removeprefix("bench_") for p in scripts}
        if unknown:
            raise SystemExit(f"run_all.py: no benchmark named {', '.join(sorted(unknown))} in {HERE}")
        scripts = [p for p in scripts if p.stem.removeprefix("bench_") in keep]
    return scripts


def main(argv=None):
    ap = argparse.ArgumentParser(description="Run every benchmarks/bench_*.py.")
    ap.add_argument("names", nargs="*", help="run only these (e.g. nmf nae)")
    ap.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    args = ap.parse_args(argv)
    scripts = find(args.names)
    if args.list:
        print("\n".join(p.name for p in scripts))
        return 0
    if not scripts:
        print(f"run_all.py: no bench_*.py in {HERE}")
        return 0
    env = dict(os.environ)
    root = str(HERE.parent)
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    failed = []
    for path in scripts:
        print(f"\n=== {path.name} " + "=" * max(0, 66 - len(path.name)), flush=True)
        t0 = time.perf_counter()
        rc = subprocess.call([sys.executable, str(path)], cwd=root, env=env)
        dt = time.perf_counter() - t0
        status = "ok" if rc == 0 else f"FAILED (exit status {rc})"
        print(f"=== {path.name}: {status} in {dt:.1f} s", flush=True)
        if rc != 0:
            failed.append(path.name)
    print(f"\n{len(scripts) - len(failed)} of {len(scripts)} benchmarks ran"
          + (f"; crashed: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
