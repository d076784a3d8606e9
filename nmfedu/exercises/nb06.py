"""Exercise solutions for notebook 06 (the autoencoder view)."""
from __future__ import annotations

import warnings

import numpy as np

from .. import nae


def parameter_count(K: int = 1025, N: int = 2900, R: int = 88):
    """How many numbers NMF and the NAE learn, and what it costs to code new frames.

    NMF learns ``W`` (K·R) and ``H`` (R·N): its size grows with the recording. The NAE learns
    ``W_E`` (R·K) and ``W_D`` (K·R), independent of N; coding M new frames is one product
    ``W_E V_new`` (R·K·M multiply–adds) instead of an iterative NMF with ``W`` fixed.
    """
    nmf_params = K * R + R * N
    nae_params = 2 * K * R
    print(f"K = {K}, N = {N}, R = {R}")
    print(f"NMF learns W and H: {K} x {R} + {R} x {N} = {nmf_params:,} numbers (grows with N)")
    print(f"NAE learns W_E and W_D: 2 x {R} x {K} = {nae_params:,} numbers (independent of N)")
    print(f"coding one new frame: NAE one product, {R * K:,} multiply-adds; "
          f"NMF one multiplicative update of H costs about {R * K + R * R:,} per frame and iteration")
    return nmf_params, nae_params


def dead_unit(V, R: int = 4, unit: int = 0, n_epochs: int = 100, seed: int = 0):
    """A code unit whose encoder row is all zero never comes back under the additive rule.

    Its pre-activation ``Z = W_E V`` is 0 in every frame, so the ReLU passes no gradient
    (``[Z > 0] = 0``): ``∂L/∂W_E`` is zero in that row, and with ``H`` zero in that row
    ``∂L/∂W_D = 2 D Hᵀ`` is zero in that column. Projected gradient descent leaves both as
    they are — the unit is dead. (The multiplicative rule has the same fixed point.)
    """
    W_E0, W_D0 = nae.init_random(V, R, seed=seed)
    W_E0 = W_E0.copy()
    W_E0[unit] = 0.0
    L, grad_E, grad_D = nae.gradients(V, W_E0, W_D0)
    print(f"largest |gradient| in encoder row {unit}: {np.abs(grad_E[unit]).max():.3g}; "
          f"in the other rows: {np.abs(np.delete(grad_E, unit, axis=0)).max():.3g}")
    print(f"largest |gradient| in decoder column {unit}: {np.abs(grad_D[:, unit]).max():.3g}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = nae.fit(V, rule="additive", n_epochs=n_epochs, W_E0=W_E0, W_D0=W_D0)
    print(f"after {n_epochs} epochs: encoder row {unit} sums to {result.W_E[unit].sum():.3g}, "
          f"code row {unit} sums to {result.H[unit].sum():.3g}")
    return result


def encoder_gradient_check(V, R: int = 3, seed: int = 1, entries=((0, 10), (1, 40), (2, 100)),
                           h: float = 1e-6):
    """Central finite differences for three entries of ``∂L/∂W_E`` against the formula
    ``2 ((W_Dᵀ D) ⊙ [Z > 0]) Vᵀ`` (relative step ``h``)."""
    W_E, W_D = nae.init_random(V, R, seed=seed)
    _, grad_E, _ = nae.gradients(V, W_E, W_D)
    for r, k in entries:
        step = h * max(1.0, abs(W_E[r, k]))
        plus, minus = W_E.copy(), W_E.copy()
        plus[r, k] += step
        minus[r, k] -= step
        fd = (nae.loss(V, plus, W_D) - nae.loss(V, minus, W_D)) / (2 * step)
        print(f"dL/dW_E[{r},{k}]: formula {grad_E[r, k]: .6g}   finite difference {fd: .6g}")
    return grad_E
