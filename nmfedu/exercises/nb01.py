"""Solutions to the exercises of notebook 01 (the gradient of the NMF loss).

Each function prints its answer and returns the numbers it printed (so tests
can check them). They take the notebook's toy problem as arguments — the toy
spectrogram ``V`` (K × N), the fixed templates ``W`` (K × R) and the initial
activations ``H0`` (R × N) — and work for any such matrices.

Exercises
---------
1. :func:`gradient_W_derivation` — derive ∂‖V − WH‖²/∂W entry by entry, and
   check the result against :func:`nmfedu.gradient_W` and central differences.
2. :func:`largest_stable_learning_rate` — the largest learning rate for which
   gradient descent on H converges, 2 / λ_max(WᵀW), confirmed just below and
   just above it.
3. :func:`projected_gradient_descent` — set negative entries to zero after each
   step: nonnegative, but at the price of a (slightly) higher loss.

Notebooks: 01.
"""
from __future__ import annotations

import numpy as np

__all__ = ["gradient_W_derivation", "largest_stable_learning_rate", "projected_gradient_descent"]

_DERIVATION_W = r"""
Fix H and view φ^H(W) := ‖V − WH‖² as a function of the KR entries of W.
Pick one entry W_κρ (κ in [1:K], ρ in [1:R]).

1) Write the norm as a sum:
   ∂φ^H/∂W_κρ = ∂/∂W_κρ  Σ_k Σ_n ( V_kn − Σ_r W_kr H_rn )²

2) Drop the summands that do not depend on W_κρ: W_κρ appears only in row k = κ of WH,
   so every summand with k ≠ κ has derivative zero:
             = ∂/∂W_κρ  Σ_n ( V_κn − Σ_r W_κr H_rn )²

3) Chain rule: the outer derivative is 2(·); the inner sum contains W_κρ only in the
   summand r = ρ, with derivative −H_ρn:
             = Σ_n 2 ( V_κn − Σ_r W_κr H_rn ) · (−H_ρn)

4) Rearrange the summands:
             = 2 ( Σ_r W_κr Σ_n H_rn H_ρn  −  Σ_n V_κn H_ρn )

5) Introduce the transpose, H_ρn = Hᵀ_nρ, and read off matrix products:
             = 2 ( Σ_r W_κr (H Hᵀ)_rρ  −  Σ_n V_κn Hᵀ_nρ )
             = 2 ( (W H Hᵀ)_κρ − (V Hᵀ)_κρ )

Matrix form:  ∇_W ‖V − WH‖² = 2 (W H Hᵀ − V Hᵀ)   (K × R).
This time the summands over k ≠ κ (other frequency bins) drop out, where for H the
summands over n ≠ ν (other frames) did; H Hᵀ (R × R) plays the role of Wᵀ W.
""".strip("\n")


def gradient_W_derivation(V, W, H, h: float = 1e-3):
    """Exercise 1: the gradient with respect to W, step by step, checked numerically.

    Prints the five steps of the derivation (as in the notebook's derivation for H), then
    compares ``2 (W H Hᵀ − V Hᵀ)`` with :func:`nmfedu.gradient_W` and with central
    differences of :func:`nmfedu.loss` over every entry of ``W``.

    Notebooks: 01.

    Parameters
    ----------
    V : ndarray, shape (K, N)
    W : ndarray, shape (K, R)
    H : ndarray, shape (R, N)
    h : float
        Step of the central differences.

    Returns
    -------
    dict with ``matches_library`` (bool) and ``max_error`` (float, central differences).
    """
    import nmfedu

    V, W, H = (np.asarray(A, dtype=float) for A in (V, W, H))
    print(_DERIVATION_W)
    mine = 2 * (W @ (H @ H.T) - V @ H.T)
    matches = bool(np.allclose(mine, nmfedu.gradient_W(V, W, H)))
    numeric = np.zeros_like(W)
    for kappa in range(W.shape[0]):
        for rho in range(W.shape[1]):
            E = np.zeros_like(W)
            E[kappa, rho] = h
            numeric[kappa, rho] = (nmfedu.loss(V, W + E, H) - nmfedu.loss(V, W - E, H)) / (2 * h)
    max_error = float(np.abs(numeric - mine).max())
    print()
    print(f"2 (W H H^T - V H^T) equals nmfedu.gradient_W: {matches}")
    print(f"central differences (h = {h:g}) agree: max error below 1e-8: {max_error < 1e-8}")
    return dict(matches_library=matches, max_error=max_error)


def largest_stable_learning_rate(V, W, H0, n_iter: int = 300):
    """Exercise 2: gradient descent on H converges iff γ < 2 / λ_max(WᵀW).

    With W fixed, the optimum H* satisfies WᵀW H* = WᵀV, so one step of the notebook's
    convention (factor 2 absorbed into γ) gives

        H⁽ℓ⁺¹⁾ − H* = (I − γ WᵀW)(H⁽ℓ⁾ − H*).

    The error shrinks in every direction iff every eigenvalue 1 − γλ of I − γWᵀW lies in
    (−1, 1), i.e. 0 < γ < 2/λ for all eigenvalues λ of WᵀW: γ < 2/λ_max. The fastest
    single rate, 2/(λ_min + λ_max), still converges only as fast as the ratio
    λ_min/λ_max allows — the slow direction is what a per-entry rate (notebook 02) fixes.

    Runs :func:`nmfedu.nmf_gd` (W fixed, no projection) at 0.95 and 1.05 times the bound.

    Notebooks: 01.

    Returns
    -------
    dict with ``eigenvalues``, ``gamma_max``, ``gamma_best``, ``loss_below``, ``loss_above``.
    """
    import nmfedu

    V, W, H0 = (np.asarray(A, dtype=float) for A in (V, W, H0))
    lam = np.linalg.eigvalsh(W.T @ W)
    gamma_max = 2.0 / lam.max()
    gamma_best = 2.0 / (lam.min() + lam.max())
    print("One step, W fixed:  H(l+1) - H* = (I - γ W^T W)(H(l) - H*).")
    print("It converges iff |1 - γ λ| < 1 for every eigenvalue λ of W^T W, i.e. γ < 2 / λ_max.")
    print(f"eigenvalues of W^T W: {', '.join(f'{x:.3g}' for x in lam)}")
    print(f"largest stable learning rate 2 / λ_max = {gamma_max:.3g}")
    print(f"best single learning rate 2 / (λ_min + λ_max) = {gamma_best:.3g}")
    out = dict(eigenvalues=lam, gamma_max=float(gamma_max), gamma_best=float(gamma_best))
    for name, factor in (("below", 0.95), ("above", 1.05)):
        gamma = factor * gamma_max
        res = nmfedu.nmf_gd(V, W.shape[1], W0=W, H0=H0, n_iter=n_iter, lr_H=gamma,
                            fix_W=True, project=False)
        out[f"loss_{name}"] = float(res.loss[-1])
        print(f"γ = {factor:.2f} · 2/λ_max = {gamma:.3g}: loss after {res.n_iter} iterations "
              f"{res.loss[-1]:.3g} (initial {res.initial_loss:.3g})")
    return out


def projected_gradient_descent(V, W, H0, gamma: float = 0.3, n_iter: int = 200):
    """Exercise 3: projected gradient descent, H ← max(H − γ(WᵀWH − WᵀV), 0).

    Compares plain gradient descent (``project=False``) with the projected one
    (``project=True``) of :func:`nmfedu.nmf_gd`, W fixed, same γ and start, and with the
    nonnegative optimum reached by many multiplicative updates (:func:`nmfedu.nmf`,
    notebook 02). The projected iterates are nonnegative; their loss cannot go below the
    unconstrained one, because the nonnegative matrices are a subset of all matrices: plain
    gradient descent lowers the loss further by using negative activations that have no
    meaning for a spectrogram.

    Notebooks: 01.

    Returns
    -------
    dict with ``loss_plain``, ``negative_plain``, ``loss_projected``, ``negative_projected``,
    ``loss_nonnegative_optimum``.
    """
    import nmfedu

    V, W, H0 = (np.asarray(A, dtype=float) for A in (V, W, H0))
    R = W.shape[1]
    plain = nmfedu.nmf_gd(V, R, W0=W, H0=H0, n_iter=n_iter, lr_H=gamma, fix_W=True, project=False)
    proj = nmfedu.nmf_gd(V, R, W0=W, H0=H0, n_iter=n_iter, lr_H=gamma, fix_W=True, project=True)
    best = nmfedu.nmf(V, R, W0=W, H0=H0, n_iter=5000, tol=0, fix_W=True)
    out = dict(loss_plain=float(plain.loss[-1]), negative_plain=int(np.sum(plain.H < 0)),
               loss_projected=float(proj.loss[-1]), negative_projected=int(np.sum(proj.H < 0)),
               loss_nonnegative_optimum=float(best.loss[-1]))
    print(f"γ = {gamma:g}, {n_iter} iterations, W fixed")
    print(f"plain gradient descent    : loss {out['loss_plain']:.4g}, negative entries in H: "
          f"{out['negative_plain']}")
    print(f"projected gradient descent: loss {out['loss_projected']:.4g}, negative entries in H: "
          f"{out['negative_projected']}")
    print(f"nonnegative optimum (5000 multiplicative updates): loss "
          f"{out['loss_nonnegative_optimum']:.4g}")
    print("The projection keeps H nonnegative, and it reaches the best nonnegative H. Its loss is\n"
          "higher than that of plain gradient descent, which can never be beaten by a nonnegative H:\n"
          "the plain iterates reach a lower loss only by cancelling noise with negative activations.")
    return out
