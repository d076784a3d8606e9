"""Benchmark of the interactive figures: how long a reader waits after moving a control.

Every case is a builder factory (returns an :class:`nmfedu.widgets.InteractiveFigure`) and
a list of parameter changes. The harness builds the widget headless (Agg, no front end),
then applies each change with ``InteractiveFigure.update`` — exactly the callback a slider
or the Run button runs — and prints per case the build time, the median and maximum
latency over the changes to new values (wall time, and the process's CPU time, which is what the wall
time would be on an idle machine), and the median split into compute / draw / render (PNG) with
the number and median latency of cache hits (changes back to earlier values).

Adding a notebook's default widget is one line at the bottom of this file::

    register("02 rank", "nmfedu.exercises.nb02:rank_widget", [dict(R=r) for r in (2, 5, 8, 2)])

where the factory is a callable or a ``"module:function"`` string (imported lazily: a
factory that cannot be imported yet is reported as skipped, not as a failure).

Latencies come from one run on a possibly busy machine (the numpy thread count is printed);
they are measurements, not assertions. Notebook target: a slider responds in < 0.5 s
(a cache hit in < 0.1 s); anything slower belongs behind a Run button.

Run: ``.venv/bin/python benchmarks/bench_widgets.py [--only SUBSTRING] [--repeat 2]``.
"""
from __future__ import annotations

import argparse
import importlib
import os
import statistics
import sys
import time
from dataclasses import dataclass

import matplotlib

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import numpy as np  # noqa: E402

from nmfedu import plot, widgets  # noqa: E402


@dataclass
class Case:
    name: str
    factory: object  # callable or "module:function"
    changes: list
    slow_ms: float = 500.0  # flag a median CPU time above this (run-button cases: larger)


REGISTRY: list[Case] = []


def register(name, factory, changes, slow_ms=500.0):
    """Add a case: ``factory()`` → InteractiveFigure, ``changes`` a list of dicts for
    ``update(**change)``; ``slow_ms`` the median CPU time (ms) above which it is flagged SLOW."""
    if not changes:
        raise ValueError(f"case {name!r} needs at least one parameter change")
    REGISTRY.append(Case(name, factory, [dict(c) for c in changes], slow_ms))


def _resolve(factory):
    if callable(factory):
        return factory
    module, _, attr = str(factory).partition(":")
    return getattr(importlib.import_module(module), attr)


def time_case(case: Case, repeat: int = 1) -> dict:
    """Build the widget of ``case`` and time every change; returns the measurements."""
    factory = _resolve(case.factory)
    t0 = time.perf_counter()
    fw = factory()
    build = time.perf_counter() - t0
    rows = []
    for _ in range(repeat):
        for change in case.changes:
            t, c = time.perf_counter(), time.process_time()
            fw.update(**change)
            rows.append({**fw.timing, "total": time.perf_counter() - t,
                         "cpu": time.process_time() - c})
    fw.close()
    miss = [r for r in rows if not r["cached"]] or rows
    hit = [r for r in rows if r["cached"]]
    med = lambda rs, key: statistics.median(r[key] for r in rs)  # noqa: E731
    return dict(
        build=build,
        n=len(rows),
        median=med(miss, "total"),
        max=max(r["total"] for r in miss),
        cpu=med(miss, "cpu"),
        compute=med(miss, "compute"),
        draw=med(miss, "draw"),
        render=med(miss, "render"),
        hits=len(hit),
        hit_median=med(hit, "total") if hit else float("nan"),
    )


def _ms(seconds):
    return f"{1000 * seconds:8.0f}" if seconds == seconds else f"{'-':>8s}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", default="", help="run only cases whose name contains this")
    parser.add_argument("--repeat", type=int, default=1, help="apply the change list N times")
    args = parser.parse_args(argv)
    matplotlib.use("Agg")  # headless; not at import, so a notebook importing a factory keeps its backend

    threads = os.environ.get("OPENBLAS_NUM_THREADS", "default")
    print(f"bench_widgets: OPENBLAS_NUM_THREADS={threads}, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f}")
    print("new values (cache misses): median / max wall time, median CPU time and its split;"
          " cache hits: count and median wall time; all in ms")
    header = (f"{'case':42s} {'build':>8s} {'n':>3s} {'median':>8s} {'max':>8s} {'cpu':>8s} "
              f"{'compute':>8s} {'draw':>8s} {'render':>8s} {'hits':>4s} {'hit med':>8s}")
    print(header)
    print("-" * len(header))
    failed = 0
    for case in REGISTRY:
        if args.only not in case.name:
            continue
        try:
            m = time_case(case, args.repeat)
        except ImportError as exc:
            print(f"{case.name:42s} skipped: {exc}")
            continue
        except Exception as exc:  # noqa: BLE001 - report and go on with the other cases
            failed += 1
            print(f"{case.name:42s} FAILED: {type(exc).__name__}: {exc}")
            continue
        flag = "  SLOW" if m["cpu"] * 1000 > case.slow_ms else ""  # CPU: robust to a busy machine
        print(f"{case.name:42s} {_ms(m['build'])} {m['n']:3d} {_ms(m['median'])} {_ms(m['max'])} {_ms(m['cpu'])} "
              f"{_ms(m['compute'])} {_ms(m['draw'])} {_ms(m['render'])} {m['hits']:4d} {_ms(m['hit_median'])}{flag}")
    return 1 if failed else 0


# --------------------------------------------------------------------------- example cases
def _toy_V(K=40, N=60, R=4, seed=0):
    """A small nonnegative matrix of rank about R (plus a little noise)."""
    rng = np.random.default_rng(seed)
    return rng.random((K, R)) @ rng.random((R, N)) + 0.01 * rng.random((K, N))


def _nmf(V, R, n_iter, seed):
    """nmfedu.nmf, or a tiny local multiplicative update while it does not exist."""
    try:
        from nmfedu import nmf
    except ImportError:  # pragma: no cover - only before nmfedu.factorization landed
        rng = np.random.default_rng(seed)
        W, H = rng.random((V.shape[0], R)), rng.random((R, V.shape[1]))
        for _ in range(n_iter):
            H *= (W.T @ V) / np.maximum(W.T @ W @ H, 1e-12)
            W *= (V @ H.T) / np.maximum(W @ (H @ H.T), 1e-12)
        return W, H
    result = nmf(V, R, n_iter=n_iter, tol=0, seed=seed)
    return result.W, result.H


def toy_nmf_widget(V=None, R=3, n_iter=50, seed=0):
    """Toy NMF: rank, iterations and seed sliders on a small V (index axes), with the loss.

    The shortest pattern: :func:`nmfedu.widgets.decomposition_figure` with a compute that
    returns the factorization (here ``(W, H, loss)``; an ``NMFResult`` works as well).
    """
    V = _toy_V() if V is None else V

    def compute(R, n_iter, seed, V):
        try:
            from nmfedu import nmf
        except ImportError:  # pragma: no cover - before nmfedu.factorization landed
            return _nmf(V, R, n_iter, seed)
        return nmf(V, R, n_iter=n_iter, tol=0, seed=seed)

    controls = {"R": widgets.rank_slider(R, max=8), "n_iter": widgets.iterations_slider(n_iter),
                "seed": widgets.seed_slider(seed)}
    return widgets.decomposition_figure(compute, controls, V, sr=None, loss=True,
                                        figsize=(9.0, 4.4), title="Toy NMF")


def spectrogram_nmf_widget(R=5, n_iter=50):
    """NMF of a real spectrogram excerpt (K = 1025 bins, ~5 s): rank and iterations, with
    templates / activations / V / WH on physical axes — the size of notebook 02's figure.

    The general pattern: fixed inputs computed once, compute → data, setup → artists
    (:func:`nmfedu.plot.plot_decomposition`), draw → :func:`nmfedu.plot.update_image`.
    """
    try:
        from nmfedu import data, spectrogram
        x = data.load(data.TOY).x
        V = spectrogram.magnitude(x)[:, :220]
    except Exception:  # noqa: BLE001 - data not built: a synthetic stand-in of the same size
        V = _toy_V(1025, 220, 6)

    def compute(R, n_iter, V):
        W, H = _nmf(V, R, n_iter, 0)
        return W, H, W @ H

    def setup(fig, d):
        return plot.plot_decomposition(V, d[0], d[1], WH=d[2], fmax=3000, log=True, gamma=10,
                                       fig=fig)[2]

    def draw(images, d):
        for key, M in zip(("W", "H", "WH"), d):
            plot.update_image(images[key], M)

    controls = {"R": widgets.rank_slider(R, max=12), "n_iter": widgets.iterations_slider(n_iter)}
    return widgets.InteractiveFigure(compute, draw, controls, setup=setup, fixed=dict(V=V),
                                     figsize=(10.0, 4.6), title="NMF of a spectrogram")


def gradient_descent_widget(lr=1e-2, n_iter=100):
    """Loss curves of gradient descent for a learning rate (notebook 01's figure), behind a
    Run button; the multiplicative update as the reference curve."""
    V = _toy_V()

    def compute(lr, n_iter, V):
        from nmfedu import nmf, nmf_gd
        gd = nmf_gd(V, 4, n_iter=n_iter, lr_H=lr, seed=0)
        mu = nmf(V, 4, n_iter=n_iter, tol=0, seed=0)
        return {"gradient descent": gd.loss, "multiplicative": mu.loss}

    def setup(fig, curves):
        return plot.plot_loss(curves, ax=fig.add_subplot(), logx=True)[2]

    controls = {"lr": widgets.learning_rate_slider(lr, min=1e-4, max=1.0),
                "n_iter": widgets.iterations_slider(n_iter)}
    return widgets.InteractiveFigure(compute, plot.update_lines, controls, setup=setup,
                                     fixed=dict(V=V), run_button=True, figsize=(7.0, 3.4),
                                     title="Learning rate")


# --------------------------------------------------------------------------- the registry
register("example: toy NMF rank/iterations/seed", toy_nmf_widget,
         [dict(R=4), dict(R=5), dict(n_iter=200), dict(seed=1), dict(R=3, n_iter=50, seed=0),
          dict(R=4)])
register("example: spectrogram NMF rank/iterations", spectrogram_nmf_widget,
         [dict(R=3), dict(R=8), dict(n_iter=100), dict(R=5, n_iter=50), dict(R=3)])
register("example: gradient descent learning rate (Run)", gradient_descent_widget,
         [dict(lr=1e-3), dict(lr=1e-1), dict(n_iter=500), dict(lr=1e-2, n_iter=100)],
         slow_ms=2000.0)
register("06 NAE training (Run)", "nmfedu.demos.nb06:training_widget",
         [dict(R=3), dict(lr=3e-7), dict(adaptive=True), dict(n_epochs=500), dict(R=5)],
         slow_ms=3000.0)
register("07 structured dropout on/off (Run)", "nmfedu.demos.nb07:dropout_widget",
         [dict(use_mask=False), dict(rule="additive"), dict(use_mask=True, rule="multiplicative")],
         slow_ms=5000.0)
register("01 gradient descent on H: γ/iterations/projection", "nmfedu.demos.nb01:gradient_descent_widget", [dict(gamma=g) for g in (0.01, 0.7, 0.75, 1.0)] + [dict(project=True), dict(n_iter=1000), dict(gamma=0.3)])
register("02 toy NMF: rank/iterations/seed", "nmfedu.demos.nb02:toy_nmf_widget", [dict(R=1), dict(R=4), dict(seed=3), dict(n_iter=5), dict(R=2, n_iter=100, seed=0)])
register("02 piano NMF: rank/iterations/seed", "nmfedu.demos.nb02:piano_nmf_widget", [dict(seed=1), dict(seed=2), dict(R=3), dict(R=8), dict(n_iter=50), dict(R=5, n_iter=200, seed=0)])
register("03 constrained NMF: toggles/tolerances", "nmfedu.exercises.nb03:constraint_widget", [dict(tolerance=1.0), dict(onset_tol=0.3), dict(offset_tol=0.0), dict(activations=False), dict(onsets=False), dict(templates=False), dict(templates=True, activations=True, onsets=True, tolerance=0.5, onset_tol=0.1, offset_tol=0.5)])
register("04 audio editing: mask exponent/hand levels", "nmfedu.exercises.nb04:editing_widget", [dict(gain_left=-12.0), dict(gain_right=6.0), dict(p=1.0), dict(p=8.0), dict(gain_left=-30.0), dict(p=2.0, gain_left=0.0, gain_right=0.0)])
register("08 loss comparison: learning rate/R/epochs (Run)", "nmfedu.demos.nb08:comparison_widget", [dict(adaptive=False), dict(lr=3e-7), dict(lr=1e-6), dict(adaptive=True, R=4), dict(R=32), dict(R=16, n_epochs=500)], slow_ms=3000.0)
# Notebook developers: add your notebook's default widget here, one line each, e.g.
# register("03 constraints: tolerances", "nmfedu.exercises.nb03:constraint_widget",
#          [dict(tolerance=1.0), dict(onset_tol=0.3), dict(tolerance=0.5)])


if __name__ == "__main__":
    sys.exit(main())
