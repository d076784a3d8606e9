"""Benchmark of nmfedu.nae: cost of one training epoch against the matrix products it needs.

An epoch of either NAE rule needs five products of the size of V (R·K·N
multiply-adds each), NMF's multiplicative iteration two (see the docstring of
:mod:`nmfedu.nae`). This script times, in the same run and on the same data
(K = 1025 bins, N = 2900 frames, R = 88 — the bundled piano pieces' magnitude
spectrograms concatenated and repeated to 2900 frames):

* the five products of each rule alone (plain ``numpy`` matmuls of the same shapes),
* one epoch of each rule (``fit`` with the loss recorded every epoch), timed
  between two calls of the callback, which times the products alone right
  after each epoch, so every epoch is compared with products measured a
  moment later (medians over the epochs; the additive rule with a fixed learning
  rate and with the adaptive ``"lipschitz"`` step, which adds two R × R
  eigenvalue problems and the R × R Gram matrices per epoch),
* one NMF iteration (``nmfedu.nmf``) and NMF's two products alone,

and prints epochs/s, the ratio ``epoch / five products`` (target ≤ 1.2) and the
ratio to an NMF iteration (ideal: 5/2). Ratios are from one run on a possibly busy
machine; run it with ``OPENBLAS_NUM_THREADS=1`` when the cores are shared.

One run (08:45 UTC, 2 shared cores at load ≈ 12, ``OPENBLAS_NUM_THREADS=1``):
epoch / five products = 1.08 (additive, fixed lr), 1.13 (additive, Lipschitz),
1.06 (multiplicative); 2.6–2.9 epochs/s; an epoch costs 2.6–2.8 NMF iterations.

Run: ``.venv/bin/python benchmarks/bench_nae.py [--epochs 15] [--reps 3]``.
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
    ap.add_argument("--epochs", type=int, default=15)
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args(argv)

    V, source = piano_spectrogram()
    W_E, W_D = nae.init_random(V, R, seed=0)
    Hp = W_E @ V
    D = W_D @ Hp - V
    B = W_D.T @ D
    stack = np.vstack([B, B])
    print(f"NAE benchmark: K={V.shape[0]}, N={V.shape[1]}, R={R}, data: {source}")
    print(f"BLAS threads: OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}")

    Ybuf = np.empty_like(V)   # preallocated, so the baseline pays no K × N allocation either

    def five_additive():
        W_E @ V            # Z = W_E V
        np.matmul(W_D, Hp, out=Ybuf)   # Y = W_D H'
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

    try:
        from nmfedu import nmf
    except ImportError as exc:  # pragma: no cover - before factorization.py exists
        nmf = None
        print(f"(NMF not available: {exc})")

    rules = [("NAE additive (fixed lr)", "additive", 1e-12, five_additive),
             ("NAE additive (lipschitz)", "additive", "lipschitz", five_additive),
             ("NAE multiplicative", "multiplicative", "lipschitz", five_multiplicative)]
    # Finest interleaving: the callback, called after every epoch (loss
    # included), times the products alone right there; an epoch's duration is
    # the time from the end of one callback to the start of the next. Every
    # epoch is thus compared with products timed a moment later, so changes
    # of machine load cancel in the per-epoch ratios (medians reported).

    def timed(run, five):
        state = {"last": None, "epoch": [], "five": [], "ratio": []}

        def cb(*_):
            now = time.perf_counter()
            if state["last"] is not None:
                ep = now - state["last"]
                t5 = median_time(five, args.reps)
                state["epoch"].append(ep)
                state["five"].append(t5)
                state["ratio"].append(ep / t5)
            state["last"] = time.perf_counter()

        run(cb)
        return {k: float(np.median(v)) for k, v in state.items() if k != "last"}

    per, ratio5, five_t = {}, {}, {}
    for label, rule, lr, five in rules:
        m = timed(lambda cb: nae.fit(V, R, rule=rule, n_epochs=args.epochs, lr=lr, W_D0=W_D,
                                     W_E0=W_E, callback=cb), five)
        per[label], five_t[label], ratio5[label] = m["epoch"], m["five"], m["ratio"]
    nmf_it, nmf_ratio2 = [], []
    if nmf is not None:
        m = timed(lambda cb: nmf(V, R, W0=W_D, H0=Hp, n_iter=args.epochs, tol=0, seed=0,
                                 callback=cb), two_nmf)
        nmf_it, nmf_ratio2 = [m["epoch"]], [m["ratio"]]

    t_nmf = float(np.median(nmf_it)) if nmf_it else None
    print(f"\n{args.epochs} epochs per rule; after each, the products alone (median of "
          f"{args.reps}); medians over epochs")
    print(f"{'rule':28s} {'ms/epoch':>9s} {'epochs/s':>9s} {'5 prod ms':>10s} "
          f"{'epoch/5 prod':>13s} {'epoch/NMF it':>13s}")
    rows = []
    for label, *_ in rules:
        t = per[label]
        r5 = ratio5[label]
        ratio_nmf = f"{t / t_nmf:13.2f}" if t_nmf else f"{'n/a':>13s}"
        print(f"{label:28s} {t * 1e3:9.1f} {1 / t:9.2f} {five_t[label] * 1e3:10.1f} "
              f"{r5:13.2f} {ratio_nmf}")
        rows.append((label, t, r5))
    if t_nmf:
        print(f"{'NMF multiplicative':28s} {t_nmf * 1e3:9.1f} {1 / t_nmf:9.2f} "
              f"{'(2 prod)':>10s} {float(np.median(nmf_ratio2)):13.2f} {1.0:13.2f}")
    ok = all(r5 <= 1.2 for label, t, r5 in rows if "lipschitz" not in label)
    print(f"\ntarget: an epoch (loss included) costs <= 1.2 x its five products "
          f"(fixed-lr additive and multiplicative): {'met' if ok else 'NOT met'} in this run")
    return rows


if __name__ == "__main__":
    main()
