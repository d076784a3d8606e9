"""How long a student waits for ``import nmfedu`` and for each notebook's first code cell (issue 17).

For every ``notebooks/[0-9]*.ipynb`` a fresh kernel of the project's environment is started
(not timed), the notebook's first code cell is sent to it and the wall time until its reply is
measured, twice:

- **cold**: the page cache of every file under the environment's ``lib/`` and of nmfedu's
  sources is dropped first (``posix_fadvise(DONTNEED)`` file by file: no root, nothing else on
  the machine is affected), as after a reboot or a fresh Binder pod;
- **warm**: straight afterwards, in another fresh kernel.

``import nmfedu`` alone, and ``import librosa`` + the first ``nmfedu.spectrogram.stft`` call
(the first spectrogram cell), are measured the same way in a plain interpreter. Each figure is
the median of ``--repeat`` runs.

Usage: .venv/bin/python benchmarks/bench_first_cell.py [--repeat 3] [NOTEBOOK ...]
Before and after a change, taking turns in one run:
  mkdir -p /tmp/before && git archive HEAD~1 nmfedu | tar -x -C /tmp/before
  .venv/bin/python benchmarks/bench_first_cell.py --compare /tmp/before
(the machine is shared with other jobs: compare rows of one run, not runs with each other)
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BASE_ENV = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
ENV = dict(BASE_ENV)


def drop_page_cache() -> int:
    """Evict the cached pages of the environment's and nmfedu's files; return the file count."""
    roots = [Path(sys.prefix) / "lib", Path(sys.base_prefix) / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}",
             ROOT / "nmfedu"] + [Path(p) for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    n = 0
    for root in roots:
        for dirpath, _, files in os.walk(root):
            for name in files:
                try:
                    fd = os.open(os.path.join(dirpath, name), os.O_RDONLY)
                except OSError:
                    continue
                try:
                    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
                    n += 1
                finally:
                    os.close(fd)
    return n


def first_code_cell(path: Path) -> str:
    nb = json.loads(path.read_text(encoding="utf-8"))
    return next("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")


def time_in_kernel(code: str, cwd: Path) -> float:
    from jupyter_client.manager import start_new_kernel

    km, kc = start_new_kernel(kernel_name="python3", cwd=str(cwd), env=ENV, stderr=subprocess.DEVNULL)
    try:
        kc.execute_interactive("pass", timeout=120)  # kernel fully up
        t0 = time.perf_counter()
        reply = kc.execute_interactive(code, timeout=300, output_hook=lambda msg: None)
        elapsed = time.perf_counter() - t0
        if reply["content"]["status"] != "ok":
            raise RuntimeError(f"first cell failed: {reply['content'].get('ename')}: {reply['content'].get('evalue')}")
        return elapsed
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def time_in_python(code: str) -> float:
    script = f"import time; t0 = time.perf_counter()\n{code}\nprint(time.perf_counter() - t0)"
    out = subprocess.run([sys.executable, "-c", script], env=ENV, cwd=ROOT / "notebooks", check=True,
                         capture_output=True, text=True).stdout
    return float(out.strip().splitlines()[-1])


def use_version(code_dir: Path | None) -> None:
    """Make the next runs import nmfedu from ``code_dir`` (None: this checkout)."""
    ENV.clear()
    ENV.update(BASE_ENV)
    if code_dir is not None:
        ENV["PYTHONPATH"] = str(code_dir)
        ENV["NMFEDU_DATA"] = str(ROOT / "data")


def measure(fn, repeat: int, versions) -> list[tuple[float, float]]:
    """Median cold and warm time per version; the versions take turns, so load hits both."""
    cold = {v: [] for v in versions}
    warm = {v: [] for v in versions}
    for _ in range(repeat):
        for v in versions:
            use_version(v)
            drop_page_cache()
            cold[v].append(fn())
            warm[v].append(fn())
    return [(statistics.median(cold[v]), statistics.median(warm[v])) for v in versions]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--compare", type=Path, metavar="DIR",
                        help="also measure the nmfedu package in DIR (e.g. an older commit's), "
                             "alternating with this checkout's")
    args = parser.parse_args(argv)
    paths = args.notebooks or sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))
    use_version(args.compare)
    probe = subprocess.run([sys.executable, "-c", "import nmfedu; print(nmfedu.__file__)"], env=ENV, cwd=ROOT / "notebooks",
                           capture_output=True, text=True).stdout.strip()
    print(f"nmfedu from {probe}; shared machine (load average {os.getloadavg()[0]:.1f}); "
          f"median of {args.repeat}; seconds, cold | warm")
    rows = [("import nmfedu", lambda: time_in_python("import nmfedu")),
            ("import numpy (reference)", lambda: time_in_python("import numpy")),
            ("first spectrogram (librosa)", lambda: time_in_python(
                "import numpy as np; from nmfedu import spectrogram; spectrogram.stft(np.zeros(22050))"))]
    rows += [(f"{p.stem}: first cell", lambda p=p: time_in_kernel(first_code_cell(p), p.parent))
             for p in paths]
    versions = [args.compare.resolve(), None] if args.compare else [None]
    if args.compare:
        print(f"columns: {args.compare} (cold | warm), then this checkout (cold | warm)")
    for label, fn in rows:
        cells = "   ".join(f"{c:6.3f} | {w:6.3f}" for c, w in measure(fn, args.repeat, versions))
        print(f"{label:42s} {cells}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
