"""Exercise solutions for notebook 08 (loss against epochs)."""
from __future__ import annotations

import time
import warnings

import matplotlib.pyplot as plt
import numpy as np

from .. import nae, spectrogram
from ..factorization import nmf

#: V-sized products (R·K·N multiply–adds each) per epoch / iteration, from the module
#: docstring of :mod:`nmfedu.nae`.
PRODUCTS = {"NAE (additive)": 5, "NAE (multiplicative)": 5, "NMF (multiplicative)": 2}


def cost_per_epoch(V, R: int = 32, n_epochs: int = 50, seed: int = 0):
    """Time per epoch of the three rules and what the count of V-sized products predicts.

    Every rule's cost is dominated by products of a K × N matrix with an R-sized one
    (R·K·N multiply–adds): five per NAE epoch (both rules), two per NMF iteration
    (``Wᵀ V`` and ``V Hᵀ``). So an NAE epoch should cost about 2.5 NMF iterations, and
    the two NAE rules about the same; the measured ratios are printed next to it.
    """
    W_E0, W_D0 = nae.init_random(V, R, seed=seed)
    H0 = np.maximum(W_E0 @ V, 0)
    per_epoch = {}
    for name, rule in (("NAE (additive)", "additive"), ("NAE (multiplicative)", "multiplicative")):
        t0 = time.process_time()
        nae.fit(V, R, rule=rule, n_epochs=n_epochs, W_E0=W_E0, W_D0=W_D0)
        per_epoch[name] = (time.process_time() - t0) / n_epochs
    t0 = time.process_time()
    nmf(V, R, W0=W_D0, H0=H0, n_iter=n_epochs, tol=0)
    per_epoch["NMF (multiplicative)"] = (time.process_time() - t0) / n_epochs
    base = per_epoch["NMF (multiplicative)"]
    K, N = V.shape
    print(f"K = {K}, N = {N}, R = {R}: one V-sized product is {R * K * N / 1e6:.1f} M multiply-adds")
    print(f"{'rule':22s} {'CPU ms/epoch':>13s} {'ratio to NMF':>13s} {'products':>9s} {'predicted':>10s}")
    for name, t in per_epoch.items():
        print(f"{name:22s} {1000 * t:13.2f} {t / base:13.2f} {PRODUCTS[name]:9d} "
              f"{PRODUCTS[name] / PRODUCTS['NMF (multiplicative)']:10.2f}")
    return per_epoch


def float32(V, R: int = 32, n_epochs: int = 300, seed: int = 0):
    """The comparison in single precision: the curves agree to about four digits, faster.

    float32 halves the memory traffic and doubles the SIMD width of the products, so an
    epoch is faster; its 7 significant digits are plenty for a loss that changes by far
    more than 1e-7 relative per epoch. (Where the loss barely changes any more, single
    precision would show it first; the losses themselves are summed in float64.)
    """
    out = {}
    for dtype in (np.float64, np.float32):
        t0 = time.perf_counter()
        out[np.dtype(dtype).name] = (nae.compare(V, R, n_epochs=n_epochs, seed=seed, dtype=dtype),
                                     time.perf_counter() - t0)
    c64, t64 = out["float64"]
    c32, t32 = out["float32"]
    for e in sorted({e for e in (10, 100, n_epochs) if e <= n_epochs}):
        row = "  ".join(f"{name}: {c64.curves[name][e]:.4g} / {c32.curves[name][e]:.4g}"
                        for name in c64.curves)
        print(f"epoch {e:4d} (float64 / float32)  {row}")
    worst = max(np.nanmax(np.abs(c32.curves[n] - c64.curves[n]) / c64.curves[n])
                for n in c64.curves)
    print(f"largest relative difference of the curves: {worst:.2g}")
    print(f"wall-clock: float64 {t64:.1f} s, float32 {t32:.1f} s")
    return out


def structured_dropout(piece, n_epochs: int = 300):
    """The comparison with the score-informed start of notebook 07: harmonic templates
    (their zeros kept) and the structured-dropout mask ``M_H`` of the score.

    All three methods now start from the same musically meaningful model and keep the
    same zeros. The mask removes most of the NMF code's freedom too (masked activations
    stay zero), so the gap between NMF and the multiplicative NAE narrows; the additive
    rule still lags, for the step-size reason of the notebook.
    """
    V = spectrogram.magnitude(piece.x)
    W_E0, W_D0, M_H, labels = nae.init_score_informed(V, piece.notes)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cmp = nae.compare(V, W_D0.shape[1], n_epochs=n_epochs, M_H=M_H, W_D0=W_D0, W_E0=W_E0)
    print(f"K = {V.shape[0]}, N = {V.shape[1]}, R = {W_D0.shape[1]} (one code unit per pitch "
          f"and kind), M_H keeps {100 * M_H.mean():.1f} % of the code")
    for name, c in cmp.curves.items():
        cells = "  ".join(f"{e}: {c[e]:.3g}" for e in sorted({10, 100, n_epochs}) if e <= n_epochs)
        print(f"{name:22s} {cells}")
    r = cmp.curves["NAE (multiplicative)"][-1] / cmp.curves["NMF (multiplicative)"][-1]
    print(f"NAE (multiplicative) / NMF after {n_epochs} epochs: {r:.2f}")
    fig, ax = plt.subplots(figsize=(6, 3.4), layout="constrained")
    for name, c in cmp.curves.items():
        ax.loglog(np.arange(1, len(c)), c[1:], label=name)
    ax.set_xlabel("Number of training iterations (epochs)")
    ax.set_ylabel("Loss $\\|V - \\hat V\\|^2$ (log scale)")
    ax.set_title("Score-informed start with structured dropout")
    ax.legend(frameon=False)
    plt.show()
    return cmp
