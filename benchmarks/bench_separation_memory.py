"""Peak memory and run time of ``nmfedu.separate`` on long recordings (issue 13).

A long recording is made by playing the bundled pieces one after the other (mixture and
score shifted in time together) until it lasts 1, 2, 5 or 10 minutes. Every measurement
runs in a fresh Python process (``--child``), which imports nmfedu, warms up on one second,
and then separates the whole recording with the defaults; it reports

* the peak resident set size of the process (``ru_maxrss``) during a first, timed separation,
  and the resident size before it (the interpreter, its libraries and the recording),
* the wall time of that separation, and
* the tracemalloc peak of a second, identical separation (numpy reports its buffers to
  tracemalloc; tracing slows Python code, so it is not timed).

``--reference DIR`` also measures another checkout of nmfedu in the same run (e.g. the
code before issue 13, ``git archive 5a76b8a nmfedu | tar -x -C DIR``), so the ratio is
meaningful on a shared machine.

Targets (issue 13): ≤ 800 MB peak resident and ≤ 15 s for 5 minutes on this 2-core
machine; growth linear in the duration.

Run:  OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/bench_separation_memory.py
          [--minutes 1,2,5,10] [--reference DIR] [--reference-minutes 1,2,5]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TARGET_MB, TARGET_S = 800, 15.0


def long_recording(minutes):
    """Mixture and note table of ``minutes`` of the bundled pieces, one after the other."""
    import numpy as np
    import pandas as pd

    from nmfedu import data

    pieces = [data.load(n) for n in data.names() if n != data.TOY]
    sr = pieces[0].sr
    L = int(minutes * 60 * sr)
    xs, tables, t = [], [], 0.0
    while t * sr < L:
        for p in pieces:
            xs.append(p.x)
            nt = p.notes.copy()
            nt["Start"] += t
            tables.append(nt)
            t += p.x.size / sr
    x = np.concatenate(xs)[:L]
    notes = pd.concat(tables, ignore_index=True)
    notes = notes[notes["Start"] < L / sr - 0.1].copy()
    notes["Duration"] = np.minimum(notes["Duration"], L / sr - notes["Start"])
    return x, sr, notes.reset_index(drop=True)


def child(minutes):
    import resource
    import tracemalloc
    import warnings

    from nmfedu import separation

    x, sr, notes = long_recording(minutes)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        separation.separate(x[:int(sr)], sr, notes[notes["Start"] < 0.5])   # warm-up imports
        rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        t0 = time.perf_counter()
        separation.separate(x, sr, notes)                 # timed without tracemalloc
        dt = time.perf_counter() - t0
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        tracemalloc.start()
        separation.separate(x, sr, notes)                 # traced (tracemalloc slows Python)
        _, traced = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    print(json.dumps(dict(minutes=minutes, rss_mb=rss, rss_before_mb=rss0,
                          traced_mb=traced / 1e6, seconds=dt, notes=len(notes))))


def measure(code_dir, minutes):
    env = dict(os.environ, PYTHONPATH=str(code_dir))
    proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child", str(minutes)],
                          capture_output=True, text=True, env=env, cwd=str(code_dir))
    if proc.returncode != 0:
        return dict(minutes=minutes, error=(proc.stderr.strip().splitlines() or ["?"])[-1])
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", default="1,2,5,10")
    ap.add_argument("--reference", type=Path, default=None, help="another nmfedu checkout")
    ap.add_argument("--reference-minutes", default="1,2,5")
    ap.add_argument("--child", type=float, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child is not None:
        sys.path.insert(0, os.environ.get("PYTHONPATH", str(REPO)))
        child(args.child)
        return 0
    print(f"# separate() on long recordings; OPENBLAS_NUM_THREADS="
          f"{os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}; shared 2-core machine (times are "
          f"indicative; the reference runs in the same session)")
    rows = [("nmfedu", REPO, [float(m) for m in args.minutes.split(",")])]
    if args.reference:
        rows.append(("reference", args.reference.resolve(),
                     [float(m) for m in args.reference_minutes.split(",")]))
    print("| code | minutes | notes | peak RSS (MB) | RSS before (MB) | tracemalloc peak (MB) "
          "| MB per minute | time (s) |")
    print("|---|---|---|---|---|---|---|---|")
    results = {}
    for label, code, mins in rows:
        for m in mins:
            r = measure(code, m)
            results[(label, m)] = r
            if "error" in r:
                print(f"| {label} | {m:g} | | failed: {r['error']} | | | | |", flush=True)
                continue
            print(f"| {label} | {m:g} | {r['notes']} | {r['rss_mb']:.0f} | {r['rss_before_mb']:.0f} "
                  f"| {r['traced_mb']:.0f} | {r['traced_mb'] / m:.0f} | {r['seconds']:.1f} |",
                  flush=True)
    five = results.get(("nmfedu", 5.0))
    if five and "error" not in five:
        ok_m = five["rss_mb"] <= TARGET_MB
        ok_t = five["seconds"] <= TARGET_S
        print(f"\ntargets for 5 minutes: peak RSS {five['rss_mb']:.0f} MB (≤ {TARGET_MB}: "
              f"{'PASS' if ok_m else 'FAIL'}), {five['seconds']:.1f} s (≤ {TARGET_S:g}: "
              f"{'PASS' if ok_t else 'FAIL'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
