"""Loss against epochs for NAE (additive), NAE (multiplicative) and NMF (multiplicative).

The measurement behind the seeds' figure "Approximation Loss" (log-log axes,
loss against epochs 10⁰ … 10³) and notebook 08, on the bundled piano data
(``nmfedu.data.DEFAULT_PIECE``, magnitude spectrogram with the series' STFT):

* setting "notebook": the first 512 bins (0 … 5.5 kHz), all frames, R = 32 —
  the size notebook 08 uses, so its wall-clock is what a reader waits for;
* setting "full": all 1025 bins, R = 88 (one template per piano key).

For each setting, :func:`nmfedu.demos.nb08.compare` runs the three methods from one
random initialisation (seed 0) for 1000 epochs; the additive NAE uses the
adaptive Lipschitz step (the default). A fourth curve, the additive NAE with
a *fixed* learning rate (the smaller Lipschitz step at the initial weights,
kept constant — a choice that needs no tuning), shows what a plain fixed-γ
projected gradient descent does. Printed: the losses after 10, 100 and 1000
epochs (absolute and relative to ‖V‖²), the first epoch at which the
multiplicative NAE reaches the additive NAE's 1000-epoch loss, and the
wall-clock time of each curve.

With ``--separation`` it also separates the left and right hands of the
default piece with the score-informed NAE (both rules, ``--sep-epochs``
epochs) and with the NMF path (:func:`nmfedu.separation.separate`, same number
of iterations), and prints SDR/SIR/SAR (BSS Eval against the bundled stems)
for each, plus the oracle ratio mask as the ceiling.

Measured (schumann_polonaise, seed 0, 1000 epochs; losses are deterministic,
times are from 2 shared cores at load ≈ 10, ``OPENBLAS_NUM_THREADS=1``)::

    setting "full" (K=1025, N=560, R=88)     epoch 10     epoch 100    epoch 1000
    NAE (additive, Lipschitz step)           4.295e+06    1.170e+06    2.772e+05  (3.53 % of ‖V‖²)
    NAE (multiplicative)                     3.423e+06    2.642e+05    1.063e+05  (1.36 %)
    NMF (multiplicative)                     8.310e+05    6.198e+04    3.177e+04  (0.40 %)
    NAE (additive, fixed lr 1.48e-07)        4.558e+06    1.157e+06    2.689e+05  (3.43 %)
    NAE (mult.) reaches NAE (additive)'s 1000-epoch loss at epoch 93 (NMF at epoch 20).

    setting "notebook" (K=512, N=560, R=32)
    NAE (additive, Lipschitz step)           4.301e+06    1.259e+06    3.203e+05  (4.09 %)
    NAE (multiplicative)                     3.431e+06    3.408e+05    2.355e+05  (3.01 %)
    NMF (multiplicative)                     1.062e+06    1.884e+05    1.383e+05  (1.77 %)
    NAE (additive, fixed lr 1.52e-07)        4.611e+06    1.221e+06    3.239e+05  (4.13 %)
    NAE (mult.) reaches NAE (additive)'s 1000-epoch loss at epoch 130 (NMF at epoch 25).
    compare() wall-clock, R = 32: 32 s (additive 14 s, multiplicative 13 s, NMF 5 s);
    R = 20: 24 s — under heavy load; a quiet core should be several times faster.

The ordering of the seeds' figure holds at every checkpoint: NMF lowest, the
multiplicative NAE next, the additive NAE highest. Two differences in size:
(1) the multiplicative NAE stays clearly above NMF (×3.3 at 1000 epochs in
"full", ×1.7 in "notebook"), because an NAE's code ``H = W_E V`` must be a
nonnegative linear function of the frame, a subset of NMF's free activations,
so its best loss is higher; (2) the additive NAE is "far behind" mainly early
(×4.4 at epoch 100) and ×2.6 / ×1.4 at epoch 1000: projected gradient descent
with a 1/Lipschitz step is limited by the largest curvature of the loss, while
the multiplicative rule's entrywise step ``W ⊘ den`` rescales every weight by
its own curvature. A fixed learning rate at the initial Lipschitz step gives
nearly the same curve, so this is not an artefact of the adaptive option.

Separation (``--separation``, schumann_polonaise, 100 epochs / iterations,
score-informed initialisation, masks with exponent 2), BSS Eval in dB::

    method                      left SDR  SIR    SAR    right SDR  SIR    SAR
    NMF (multiplicative)        15.31     19.73  17.30  13.42      23.43  13.89
    NAE (additive)              14.77     18.67  17.10  12.93      21.52  13.61
    NAE (multiplicative)        15.45     19.86  17.45  13.51      22.60  14.11
    oracle ratio mask           18.29     23.25  19.98  16.44      26.97  16.85

Run: ``.venv/bin/python benchmarks/nae_comparison.py [--epochs 1000]
[--setting notebook|full|both|none] [--separation] [--sep-epochs 100]``.
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from nmfedu import nae  # noqa: E402
from nmfedu.demos import nb08  # noqa: E402

SETTINGS = {"notebook": dict(bins=512, R=32), "full": dict(bins=None, R=88)}


def spectrogram_of_default_piece():
    from nmfedu import data, spectrogram
    piece = data.load(data.DEFAULT_PIECE)
    return spectrogram.magnitude(piece.x), piece.name


def run(V, R, n_epochs, seed=0):
    cmp = nb08.compare(V, R, n_epochs=n_epochs, seed=seed)
    W_E0 = cmp.results["NAE (additive)"].W_E0
    W_D0 = cmp.results["NAE (additive)"].W_D0
    gamma = min(nae.lipschitz_steps(V, W_E0, W_D0))
    fixed = nae.fit(V, R, rule="additive", n_epochs=n_epochs, lr=gamma, W_D0=W_D0, W_E0=W_E0)
    curves = dict(cmp.curves)
    times = dict(cmp.times)
    name = f"NAE (additive, fixed lr={gamma:.3g})"
    curves[name] = nb08.pad_curve(fixed.curve, n_epochs + 1)
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
    cross = nb08.crossing_epoch(curves["NAE (multiplicative)"], ref)
    cross_nmf = nb08.crossing_epoch(curves["NMF (multiplicative)"], ref)
    print(f"NAE (multiplicative) first reaches NAE (additive)'s {n_epochs}-epoch loss "
          f"{ref:.4g} at epoch {cross} (NMF at epoch {cross_nmf})")
    fixed = [n for n in curves if "fixed" in n][0]
    cross_f = nb08.crossing_epoch(curves["NAE (multiplicative)"], curves[fixed][n_epochs])
    print(f"... and the fixed-lr additive NAE's {n_epochs}-epoch loss "
          f"{curves[fixed][n_epochs]:.4g} at epoch {cross_f}")
    total = sum(times[n] for n in nb08.CURVES)
    print(f"wall-clock of compare() (three curves): {total:.1f} s")


def separation_quality(n_epochs=100, seed=0):
    """BSS Eval of the NAE and NMF hand separations of the default piece."""
    import time

    from nmfedu import data, evaluation, separation
    piece = data.load(data.DEFAULT_PIECE)
    if not piece.stems:
        print("no stems bundled; separation quality not measured")
        return None
    refs = {g: np.asarray(s) for g, s in piece.stems.items()}
    rows = {}
    t0 = time.perf_counter()
    est = separation.separate(piece.x, piece.sr, piece.notes, n_iter=n_epochs)
    rows[f"NMF (multiplicative), {n_epochs} it."] = (est, time.perf_counter() - t0)
    for rule in nae.RULES:
        t0 = time.perf_counter()
        est = separation.separate(piece.x, piece.sr, piece.notes, factorization="nae",
                                  nae_rule=rule, n_iter=n_epochs)
        rows[f"NAE ({rule}), {n_epochs} epochs"] = (est, time.perf_counter() - t0)
    oracle = evaluation.oracle_ratio_mask(refs, piece.x)
    oracle = oracle[0] if isinstance(oracle, tuple) else oracle
    if isinstance(oracle, dict) and set(oracle) == set(refs):
        rows["oracle ratio mask"] = (oracle, 0.0)
    print(f"\n== separation of {piece.name} ({piece.x.size / piece.sr:.1f} s) by "
          f"{sorted(refs)}: BSS Eval (dB)")
    print(f"{'method':34s}" + "".join(f"{g + ' ' + m:>12s}" for g in refs
                                       for m in ('SDR', 'SIR', 'SAR')) + f"{'time':>8s}")
    out = {}
    for name, (est, t) in rows.items():
        table = evaluation.bss_eval(refs, {g: est[g] for g in refs}, as_frame=False)
        out[name] = table
        cells = "".join(f"{table[g][m]:12.2f}" for g in refs for m in ("SDR", "SIR", "SAR"))
        print(f"{name:34s}{cells}{t:7.1f}s")
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=1000)
    ap.add_argument("--setting", choices=["notebook", "full", "both", "none"], default="both")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--separation", action="store_true")
    ap.add_argument("--sep-epochs", type=int, default=100)
    args = ap.parse_args(argv)
    V_full, name = spectrogram_of_default_piece()
    print(f"piece: {name}")
    out = {}
    labels = {"both": ["notebook", "full"], "none": []}.get(args.setting, [args.setting])
    for label in labels:
        s = SETTINGS[label]
        V = V_full if s["bins"] is None else np.ascontiguousarray(V_full[:s["bins"]])
        cmp, curves, times = run(V, s["R"], args.epochs, seed=args.seed)
        report(label, V, s["R"], args.epochs, curves, times)
        out[label] = (curves, times)
    if args.separation:
        out["separation"] = separation_quality(args.sep_epochs, seed=args.seed)
    return out


if __name__ == "__main__":
    main()
