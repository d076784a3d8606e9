"""Benchmark of nmfedu.nae: cost of one training epoch against the matrix products it needs.

An epoch of either NAE rule needs five products of the size of V (R·K·N
multiply-adds each), NMF's multiplicative iteration two (see the docstring of
:mod:`nmfedu.nae`). This script times, in the same run and on the same data
(K = 1025 bins, N = 2900 frames, R = 88 — the bundled piano pieces' magnitude
spectrograms concatenated and repeated to 2900 frames):

* the five products of each rule alone (plain ``numpy`` matmuls of the same shapes),
* one epoch of each rule (``fit`` with the loss recorded every epoch), as the
  median over the epochs of one run,
* one NMF iteration (``nmfedu.nmf``) and NMF's two products alone,

and prints epochs/s, the ratio ``epoch / five products`` (target ≤ 1.2) and the
ratio to an NMF iteration. Ratios are from one run on a possibly busy machine.

Run: ``.venv/bin/python benchmarks/bench_nae.py [--epochs 20] [--reps 15]``.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from nmfedu import nae  # noqa: E402

K, N, R = 1025, 2900, 88


def piano_spectrogram(N=N):
    """|STFT| of the bundled pieces, concatenated and repeated to N frames
    (random data of the same shape if nmfedu.data is not available)."""
    try:
        from nmfedu import data, spectrogram
        parts = [spectrogram.magnitude(data.load(name).x) for name in data.names()]
        V = np.concatenate(parts, axis=1)
        reps = int(np.ceil(N / V.shape[1]))
        return np.ascontiguousarray(np.tile(V, (1, reps))[:, :N]), "bundled piano pieces"
    except Exception as exc:  # pragma: no cover - before data/ exists
        rng = np.random.default_rng(0)
        V = rng.random((K, 40)) @ rng.random((40, N))
        return V, f"random rank-40 data ({type(exc).__name__}: {exc})"


def median_time(fn, reps):
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return float(np.median(ts))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--reps", type=int, default=15)
    args = ap.parse_args(argv)

    V, source = piano_spectrogram()
    W_E, W_D = nae.init_random(V, R, seed=0)
    Hp = W_E @ V
    D = W_D @ Hp - V
    B = W_D.T @ D
    stack = np.vstack([B, B])
    print(f"NAE benchmark: K={V.shape[0]}, N={V.shape[1]}, R={R}, data: {source}")
    print(f"BLAS threads: OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}")

    def five_additive():
        W_E @ V            # Z = W_E V
        W_D @ Hp           # Y = W_D H'
        D @ Hp.T           # ∂L/∂W_D ∝ D H'ᵀ
        W_D.T @ D          # W_Dᵀ D
        B @ V.T            # ∂L/∂W_E ∝ (…) Vᵀ

    def five_multiplicative():
        stack @ V.T        # numerator and denominator of the encoder rule (2 products)
        W_E @ V            # H' = W_E V
        V @ Hp.T           # V H'ᵀ
        W_D.T @ V          # W_Dᵀ V

    W, H = W_D, Hp

    def two_nmf():
        W.T @ V
        V @ H.T

    t_add5 = median_time(five_additive, args.reps)
    t_mul5 = median_time(five_multiplicative, args.reps)
    t_nmf2 = median_time(two_nmf, args.reps)

    rows = []
    for label, rule, lr in [("NAE additive (fixed lr)", "additive", 1e-12),
                            ("NAE additive (lipschitz)", "additive", "lipschitz"),
                            ("NAE multiplicative", "multiplicative", "lipschitz")]:
        res = nae.fit(V, R, rule=rule, n_epochs=args.epochs, lr=lr, W_D0=W_D, W_E0=W_E)
        per_epoch = float(np.median(np.diff(np.concatenate([[0.0], res.times]))))
        five = t_mul5 if rule == "multiplicative" else t_add5
        rows.append((label, per_epoch, five))

    t_nmf = None
    try:
        from nmfedu import nmf
        n_it = args.epochs
        t0 = time.perf_counter()
        nmf(V, R, W0=W_D, H0=np.maximum(Hp, 0), n_iter=n_it, tol=0, seed=0)
        t_nmf = (time.perf_counter() - t0) / n_it
    except ImportError as exc:  # pragma: no cover - before factorization.py exists
        print(f"(NMF not available: {exc})")

    print(f"\nfive products alone: additive {t_add5 * 1e3:.1f} ms, "
          f"multiplicative {t_mul5 * 1e3:.1f} ms; NMF's two products {t_nmf2 * 1e3:.1f} ms")
    print(f"{'rule':28s} {'ms/epoch':>9s} {'epochs/s':>9s} {'epoch/5 prod':>13s} "
          f"{'epoch/NMF it':>13s}")
    for label, t, five in rows:
        ratio_nmf = f"{t / t_nmf:13.2f}" if t_nmf else f"{'n/a':>13s}"
        print(f"{label:28s} {t * 1e3:9.1f} {1 / t:9.2f} {t / five:13.2f} {ratio_nmf}")
    if t_nmf:
        print(f"{'NMF multiplicative':28s} {t_nmf * 1e3:9.1f} {1 / t_nmf:9.2f} "
              f"{t_nmf / t_nmf2:13.2f} (÷ its 2 products) {1.0:8.2f}")
    ok = all(t / five <= 1.2 for label, t, five in rows if "lipschitz" not in label)
    print(f"\ntarget: an epoch (loss included) costs <= 1.2 x its five products: "
          f"{'met' if ok else 'NOT met'} in this run")
    return rows


if __name__ == "__main__":
    main()
