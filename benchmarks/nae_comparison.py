"""Loss against epochs for NAE (additive), NAE (multiplicative) and NMF (multiplicative).

The measurement behind the seeds' figure "Approximation Loss" (log-log axes,
loss against epochs 10⁰ … 10³) and notebook 07, on the bundled piano data
(``nmfedu.data.DEFAULT_PIECE``, magnitude spectrogram with the series' STFT):

* setting "notebook": the first 512 bins (0 … 5.5 kHz), all frames, R = 32 —
  the size notebook 07 uses, so its wall-clock is what a reader waits for;
* setting "full": all 1025 bins, R = 88 (one template per piano key).

For each setting, :func:`nmfedu.nae.compare` runs the three methods from one
random initialisation (seed 0) for 1000 epochs; the additive NAE uses the
adaptive Lipschitz step (the default). A fourth curve, the additive NAE with
a *fixed* learning rate (the smaller Lipschitz step at the initial weights,
kept constant — a choice that needs no tuning), shows what a plain fixed-γ
projected gradient descent does. Printed: the losses after 10, 100 and 1000
epochs (absolute and relative to ‖V‖²), the first epoch at which the
multiplicative NAE reaches the additive NAE's 1000-epoch loss, and the
wall-clock time of each curve.

Run: ``.venv/bin/python benchmarks/nae_comparison.py [--epochs 1000] [--setting notebook|full|both]``.
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from nmfedu import nae  # noqa: E402

SETTINGS = {"notebook": dict(bins=512, R=32), "full": dict(bins=None, R=88)}


def spectrogram_of_default_piece():
    from nmfedu import data, spectrogram
    piece = data.load(data.DEFAULT_PIECE)
    return spectrogram.magnitude(piece.x), piece.name


def run(V, R, n_epochs, seed=0):
    cmp = nae.compare(V, R, n_epochs=n_epochs, seed=seed)
    W_E0 = cmp.results["NAE (additive)"].W_E0
    W_D0 = cmp.results["NAE (additive)"].W_D0
    gamma = min(nae.lipschitz_steps(V, W_E0, W_D0))
    fixed = nae.fit(V, R, rule="additive", n_epochs=n_epochs, lr=gamma, W_D0=W_D0, W_E0=W_E0)
    curves = dict(cmp.curves)
    times = dict(cmp.times)
    name = f"NAE (additive, fixed lr={gamma:.3g})"
    curves[name] = nae._pad(fixed.curve, n_epochs + 1)
    times[name] = fixed.runtime
    return cmp, curves, times


def report(label, V, R, n_epochs, curves, times):
    normV2 = float(np.sum(V ** 2))
    at = [e for e in (10, 100, 1000) if e <= n_epochs]
    print(f"\n== setting {label}: K={V.shape[0]}, N={V.shape[1]}, R={R}, {n_epochs} epochs, "
          f"‖V‖² = {normV2:.4g}, initial loss = {curves['NAE (additive)'][0]:.4g}")
    head = "".join(f"{'epoch ' + str(e):>22s}" for e in at)
    print(f"{'curve':34s}{head}{'time':>9s}")
    for name, c in curves.items():
        cells = "".join(f"{c[e]:12.4g} ({c[e] / normV2:6.2%})" for e in at)
        print(f"{name:34s}{cells}{times[name]:8.2f}s")
    ref = curves["NAE (additive)"][n_epochs]
    cross = nae.crossing_epoch(curves["NAE (multiplicative)"], ref)
    cross_nmf = nae.crossing_epoch(curves["NMF (multiplicative)"], ref)
    print(f"NAE (multiplicative) first reaches NAE (additive)'s {n_epochs}-epoch loss "
          f"{ref:.4g} at epoch {cross} (NMF at epoch {cross_nmf})")
    fixed = [n for n in curves if "fixed" in n][0]
    cross_f = nae.crossing_epoch(curves["NAE (multiplicative)"], curves[fixed][n_epochs])
    print(f"... and the fixed-lr additive NAE's {n_epochs}-epoch loss "
          f"{curves[fixed][n_epochs]:.4g} at epoch {cross_f}")
    total = sum(times[n] for n in nae.CURVES)
    print(f"wall-clock of compare() (three curves): {total:.1f} s")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=1000)
    ap.add_argument("--setting", choices=["notebook", "full", "both"], default="both")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    V_full, name = spectrogram_of_default_piece()
    print(f"piece: {name}")
    out = {}
    for label in (["notebook", "full"] if args.setting == "both" else [args.setting]):
        s = SETTINGS[label]
        V = V_full if s["bins"] is None else np.ascontiguousarray(V_full[:s["bins"]])
        cmp, curves, times = run(V, s["R"], args.epochs, seed=args.seed)
        report(label, V, s["R"], args.epochs, curves, times)
        out[label] = (curves, times)
    return out


if __name__ == "__main__":
    main()
