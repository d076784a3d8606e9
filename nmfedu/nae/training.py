"""Training a nonnegative autoencoder: the additive and the multiplicative rule.

:func:`fit` runs either rule (see :mod:`nmfedu.nae` for the formulas); the two epoch loops
(:func:`_run_additive`, :func:`_run_multiplicative`) are the hot code measured by
``benchmarks/bench_nae.py``.

Notebooks: 06 (additive rule, :func:`lipschitz_steps`), 07 (both rules with a mask),
08 (loss against epochs).
"""
from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field

import numpy as np

from .._validation import (
    check_callback,
    check_choice,
    check_dtype,
    check_matrix,
    check_n_iter,
    check_number,
    check_positive_int,
    check_rng,
)
from .initialization import _balance, _clipped_pinv, init_random
from .model import _backward, _check_model, _mask, _masked, _sumsq, decode, encode, reconstruct

__all__ = ["RULES", "NAEResult", "fit", "lipschitz_steps"]

#: Training rules accepted by :func:`fit`.
RULES = ("additive", "multiplicative")


def _lr(lr):
    """``"lipschitz"`` or a finite learning rate > 0."""
    if isinstance(lr, str):
        return check_choice(lr, "lr", ("lipschitz",))
    try:
        return check_number(lr, "lr")
    except ValueError:
        raise ValueError(f"lr must be a finite number > 0 or 'lipschitz', got {lr!r}") from None


class _Workspace:
    """Preallocated K × N and R × N buffers for the additive rule's forward pass."""

    def __init__(self, V, R):
        K, N = V.shape
        self.Y = np.empty((K, N), dtype=V.dtype)
        self.Z = np.empty((R, N), dtype=V.dtype)
        self.Hp = np.empty((R, N), dtype=V.dtype)


def _forward_nonneg(V, W_E, W_D, M, ws):
    """Forward pass of training (all weights >= 0, so Z >= 0 and Y >= 0 and the
    ReLUs are identities). Same results as :func:`_forward` with ``relu=True``:

    * ``[Z > 0]`` is needed only if Z has zeros (an R × N check);
    * ``[Y > 0]`` can change the gradients only at decoder entries that are 0:
      if ``Y[k, n] = 0`` then ``W_D[k, r] H'[r, n] = 0`` for every r, so ``D[k, n]``
      reaches ``∂L/∂W_D[k, r]`` only where ``W_D[k, r] = 0``, and reaches
      ``∂L/∂W_E`` only through code entries that are 0 (killed by ``[Z > 0]`` or
      ``M_H``). The K × N indicator is therefore built only when W_D has zeros.
    """
    Z = np.matmul(W_E, V, out=ws.Z)
    zact = (Z > 0) if Z.min() <= 0 else None
    if M is None:
        Hp = Z
    else:
        Hp = np.multiply(Z, M, out=ws.Hp)
    Y = np.matmul(W_D, Hp, out=ws.Y)
    yact = (Y > 0) if W_D.min() <= 0 else None
    Y -= V
    err = _sumsq(Y)
    if yact is not None:
        Y *= yact
    return Z, Hp, zact, Y, err


@dataclass
class NAEResult:
    """A trained nonnegative autoencoder (returned by :func:`fit`).

    Notebooks: 06, 07, 08.

    Attributes
    ----------
    W_E : ndarray (R, K)
        Encoder.
    W_D : ndarray (K, R)
        Decoder (the templates, like NMF's ``W``).
    H : ndarray (R, N)
        Code after dropout, ``H' = max(W_E V, 0) ⊙ M_H`` (like NMF's ``H``:
        ``V̂ = W_D H``).
    H_full : ndarray (R, N)
        Code before dropout, ``max(W_E V, 0)``.
    M_H : ndarray (R, N) or None
        The dropout mask used (None: no mask).
    loss : ndarray (n_epochs,)
        ``‖V − V̂‖²`` after each epoch (``loss[e-1]`` after ``e`` epochs).
    initial_loss : float
        Loss of the initialisation (as :attr:`nmfedu.NMFResult.initial_loss`).
    times : ndarray (n_epochs,)
        Wall-clock seconds since the start of training after each epoch.
    n_epochs : int
        Epochs run (fewer than asked if the callback stopped training or the
        loss became non-finite).
    rule : str
    lr : ndarray (n_epochs, 2) or float or None
        Fixed learning rate (float), the adaptive steps ``(γ_E, γ_D)`` of every
        epoch (``lr="lipschitz"``), or None for the multiplicative rule.
    W_E0, W_D0 : ndarray
        The initialisation.
    params : dict
    """

    W_E: np.ndarray
    W_D: np.ndarray
    H: np.ndarray
    H_full: np.ndarray
    M_H: np.ndarray | None
    loss: np.ndarray
    initial_loss: float
    times: np.ndarray
    n_epochs: int
    rule: str
    lr: object
    W_E0: np.ndarray
    W_D0: np.ndarray
    params: dict = field(default_factory=dict)

    @property
    def runtime(self):
        """Total training time in seconds."""
        return float(self.times[-1]) if len(self.times) else 0.0

    @property
    def curve(self):
        """Loss after 0, 1, …, n_epochs epochs (``initial_loss`` prepended)."""
        return np.concatenate([[self.initial_loss], self.loss])

    def encode(self, V, M_H=None):
        """:func:`encode` with this model's encoder."""
        return encode(V, self.W_E, M_H=M_H)

    def decode(self, H, M_H=None):
        """:func:`decode` with this model's decoder."""
        return decode(H, self.W_D, M_H=M_H)

    def reconstruct(self, V, M_H=None):
        """``decode(encode(V, M_H))`` with this model."""
        return reconstruct(V, self, M_H=M_H)


def _spectral_norm_sq(V, n_iter=100, rtol=1e-7):
    """σmax(V)² by power iteration on VᵀV (deterministic start)."""
    V64 = V.astype(np.float64, copy=False)
    x = np.ones(V.shape[1])
    lam = 0.0
    for _ in range(n_iter):
        y = V64.T @ (V64 @ x)
        new = float(np.linalg.norm(y))
        if new == 0:
            return 0.0
        x = y / new
        if abs(new - lam) <= rtol * new:
            lam = new
            break
        lam = new
    return lam


def lipschitz_steps(V, W_E, W_D, M_H=None):
    """The adaptive additive steps ``(γ_E, γ_D)`` of ``lr="lipschitz"`` at given weights.

    ``γ_D = 1 / (2 λmax(H' H'ᵀ))`` is one over the Lipschitz constant of
    ``∂L/∂W_D`` (as a function of ``W_D``); ``γ_E = 1 / (2 λmax(W_Dᵀ W_D) σmax(V)²)``
    one over an upper bound of the one of ``∂L/∂W_E`` (``‖X ⊙ M_H‖ ≤ ‖X‖``).
    A fixed learning rate below ``min(γ_E, γ_D)`` at the initial weights is a
    tuning-free choice for ``fit(..., lr=...)``.

    Returns
    -------
    (float, float)

    Notebooks: 08 (the adaptive steps against the formula).
    """
    V, W_E, W_D, M = _check_model(V, W_E, W_D, M_H, nonneg=True)
    Hp = _masked(np.maximum(W_E @ V, 0), M)
    lam_H, lam_D = _lam_max(Hp @ Hp.T), _lam_max(W_D.T @ W_D)
    s2 = _spectral_norm_sq(V)
    g_D = 1.0 / (2.0 * lam_H) if lam_H > 0 else float("inf")
    g_E = 1.0 / (2.0 * lam_D * s2) if lam_D * s2 > 0 else float("inf")
    return g_E, g_D


def _lam_max(S):
    return float(np.linalg.eigvalsh(S.astype(np.float64, copy=False))[-1])


def _ratio(num, den, tiny):
    """num ⊘ den where den > tiny, 1 elsewhere."""
    out = np.ones_like(num)
    np.divide(num, den, out=out, where=den > tiny)
    return out


def _freeze(*arrays):
    views = []
    for a in arrays:
        v = a.view()
        v.flags.writeable = False
        views.append(v)
    return views


def _run_multiplicative(V, W_E, W_D, M, n_epochs, callback):
    dt = V.dtype
    tiny = np.finfo(dt).tiny
    R = W_E.shape[0]
    VT = V.T
    normV2 = _sumsq(V)

    def lossval(Hp, A, G, S):
        return normV2 - 2.0 * float(np.vdot(Hp.astype(np.float64), A.astype(np.float64))) \
            + float(np.vdot(G.astype(np.float64), S.astype(np.float64)))

    Hp = _masked(W_E @ V, M)
    A = W_D.T @ V
    G = W_D.T @ W_D
    S = Hp @ Hp.T
    loss0 = max(lossval(Hp, A, G, S), 0.0)
    stack = np.empty((2 * R, V.shape[1]), dtype=dt)
    losses, times = [], []
    t0 = time.perf_counter()
    for epoch in range(1, n_epochs + 1):
        # encoder: numerator ((W_Dᵀ V) ⊙ M) Vᵀ and denominator ((W_Dᵀ W_D H') ⊙ M) Vᵀ
        # in one product of the stacked 2R × N matrix with Vᵀ
        np.matmul(G, Hp, out=stack[R:])
        if M is None:
            stack[:R] = A
        else:
            np.multiply(A, M, out=stack[:R])
            stack[R:] *= M
        ND = stack @ VT
        W_E *= _ratio(ND[:R], ND[R:], tiny)
        # new code with the new encoder
        np.matmul(W_E, V, out=Hp)
        if M is not None:
            Hp *= M
        # decoder: (V H'ᵀ) ⊘ (W_D H' H'ᵀ)
        P = V @ Hp.T
        S = Hp @ Hp.T
        W_D *= _ratio(P, W_D @ S, tiny)
        # for the loss of this epoch and the next encoder update
        np.matmul(W_D.T, V, out=A)
        G = W_D.T @ W_D
        err = max(lossval(Hp, A, G, S), 0.0)
        losses.append(err)
        times.append(time.perf_counter() - t0)
        if not np.isfinite(err):
            warnings.warn(f"NAE training stopped at epoch {epoch}: the loss is not finite",
                          RuntimeWarning, stacklevel=3)
            break
        if callback is not None and callback(epoch, *_freeze(W_E, W_D), err):
            break
    return loss0, losses, times, None


def _run_additive(V, W_E, W_D, M, support, n_epochs, lr, callback):
    adaptive = lr == "lipschitz"
    sigma2 = _spectral_norm_sq(V) if adaptive else None
    ws = _Workspace(V, W_E.shape[0])
    Z, Hp, zact, D, err = _forward_nonneg(V, W_E, W_D, M, ws)
    loss0 = err
    losses, times, steps = [], [], []
    two = V.dtype.type(2)
    t0 = time.perf_counter()
    for epoch in range(1, n_epochs + 1):
        G_E, G_D = _backward(V, W_D, Hp, zact, D, M)
        if adaptive:
            lam_H = _lam_max(Hp @ Hp.T)
            lam_D = _lam_max(W_D.T @ W_D)
            g_D = 1.0 / (2.0 * lam_H) if lam_H > 0 else 0.0
            g_E = 1.0 / (2.0 * lam_D * sigma2) if lam_D * sigma2 > 0 else 0.0
            steps.append((g_E, g_D))
        else:
            g_E = g_D = lr
        # W ← max(W − γ ∂L/∂W, 0), ∂L/∂W = 2 G
        G_D *= two * V.dtype.type(g_D)
        W_D -= G_D
        np.maximum(W_D, 0, out=W_D)
        if support is not None:
            W_D *= support
        G_E *= two * V.dtype.type(g_E)
        W_E -= G_E
        np.maximum(W_E, 0, out=W_E)
        Z, Hp, zact, D, err = _forward_nonneg(V, W_E, W_D, M, ws)
        losses.append(err)
        times.append(time.perf_counter() - t0)
        if not np.isfinite(err):
            warnings.warn(f"NAE training stopped at epoch {epoch}: the loss is not finite "
                          f"(learning rate {lr!r} too large?)", RuntimeWarning, stacklevel=3)
            break
        if callback is not None and callback(epoch, *_freeze(W_E, W_D), err):
            break
    lr_out = np.array(steps, dtype=float).reshape(-1, 2) if adaptive else lr
    return loss0, losses, times, lr_out


def fit(V, R=None, rule="additive", n_epochs=200, lr="lipschitz", W_E0=None, W_D0=None,
        M_H=None, seed=None, callback=None, *, dtype=None):
    """Train a nonnegative autoencoder ``V ≈ max(W_D (max(W_E V, 0) ⊙ M_H), 0)``.

    Parameters
    ----------
    V : ndarray, shape (K, N)
        Nonnegative, finite data (a magnitude spectrogram; frames are columns).
    R : int, optional
        Code size (number of templates). May be omitted when ``W_D0`` or
        ``W_E0`` is given.
    rule : {"additive", "multiplicative"}
        Projected gradient descent with the hand-derived gradients, or the
        seeds' multiplicative update rules (see the module docstring).
    n_epochs : int
        Number of epochs (full passes over ``V``; each is one update of both layers).
    lr : float or "lipschitz"
        Additive rule only (ignored by the multiplicative rule, which chooses
        its own entrywise learning rate): a fixed learning rate ``γ > 0`` for
        both layers, or ``"lipschitz"`` for the adaptive per-layer step
        ``1 / Lipschitz constant`` recomputed every epoch.
    W_E0 : ndarray (R, K), optional
        Initial encoder. Default: if ``W_D0`` is given, its clipped, rescaled
        pseudo-inverse (:func:`init_from_nmf`); otherwise random.
    W_D0 : ndarray (K, R), optional
        Initial decoder. Its zeros are template constraints: they stay zero
        under both rules. Default: random (see :func:`init_random`).
    M_H : ndarray (R, N) of 0/1 or bool, optional
        Structured-dropout mask (activation constraints, e.g. from
        :func:`init_score_informed`). Masked code entries influence neither
        the output nor any gradient.
    seed : int, numpy Generator or None
        Seed of the random initialisation; equal seeds give bit-for-bit equal
        results.
    callback : callable, optional
        ``callback(epoch, W_E, W_D, loss)`` after every epoch (read-only
        views of the weights); returning True stops training.
    dtype : float32 or float64, optional
        Working precision (default float64).

    Returns
    -------
    NAEResult
        ``.W_E``, ``.W_D``, ``.H`` (masked code), ``.loss`` (per epoch), … .

    Raises
    ------
    ValueError
        Bad shapes, negative / NaN / inf entries, a mask of the wrong shape or
        not binary, ``lr <= 0``, an unknown rule, ``n_epochs < 0``.

    Notebooks: 06 (additive rule), 07 (both rules, structured dropout)
    and 08 (via :func:`compare`).

    Examples
    --------
    >>> import numpy as np
    >>> V = np.random.default_rng(0).random((20, 30))
    >>> res = fit(V, R=3, rule="multiplicative", n_epochs=50, seed=0)
    >>> res.W_E.shape, res.W_D.shape, res.H.shape, res.loss.shape
    ((3, 20), (20, 3), (3, 30), (50,))
    >>> bool(res.loss[-1] < res.initial_loss)
    True
    """
    rule = check_choice(rule, "rule", RULES)
    dt = check_dtype(dtype)
    lr = _lr(lr)
    n_epochs = check_n_iter(n_epochs, "n_epochs")
    callback = check_callback(callback)
    V = check_matrix(V, "V", dtype=dt, copy=True, what="K x N")
    K, N = V.shape
    if W_D0 is not None:
        W_D = check_matrix(W_D0, "W_D0", dtype=dt, copy=True, what="K x R")
        if W_D.shape[0] != K:
            raise ValueError(f"W_D0 must have shape (K, R) with K = {K} to match V {V.shape}, "
                             f"got {W_D.shape}")
        R_D = W_D.shape[1]
    else:
        W_D, R_D = None, None
    if W_E0 is not None:
        W_E = check_matrix(W_E0, "W_E0", dtype=dt, copy=True, what="R x K")
        if W_E.shape[1] != K:
            raise ValueError(f"W_E0 must have shape (R, K) with K = {K} to match V {V.shape}, "
                             f"got {W_E.shape}")
        R_E = W_E.shape[0]
    else:
        W_E, R_E = None, None
    if R is None:
        R = R_D if R_D is not None else R_E
        if R is None:
            raise ValueError("R must be a positive integer (or give W_D0 / W_E0), got None")
    R = check_positive_int(R, "R")
    for name, r in (("W_D0", R_D), ("W_E0", R_E)):
        if r is not None and r != R:
            raise ValueError(f"{name} has R = {r} columns/rows but R = {R}")
    M = _mask(M_H, (R, N), dt)
    rng = check_rng(seed)
    if W_D is None and W_E is None:
        W_E, W_D = init_random(V, R, M_H=M, seed=rng, dtype=dt)
    elif W_E is None:
        W_E = _clipped_pinv(W_D)
        W_E, W_D = _balance(V, W_E, W_D, M, scale_D=False)
    elif W_D is None:
        W_D = (1.0 - rng.random((K, R))).astype(dt)
        W_E, W_D = _balance(V, W_E, W_D, M, scale_E=False)
    W_E0_used, W_D0_used = W_E.copy(), W_D.copy()
    support = None
    if rule == "additive" and np.any(W_D == 0):
        support = (W_D > 0).astype(dt)
    if rule == "multiplicative":
        loss0, losses, times, lr_out = _run_multiplicative(V, W_E, W_D, M, n_epochs, callback)
    else:
        loss0, losses, times, lr_out = _run_additive(V, W_E, W_D, M, support, n_epochs, lr,
                                                     callback)
    H_full = np.maximum(W_E @ V, 0)
    H = _masked(H_full, M)
    params = dict(rule=rule, lr=lr, n_epochs=n_epochs, seed=seed if not isinstance(
        seed, np.random.Generator) else "Generator", dtype=str(dt), K=K, N=N, R=R)
    return NAEResult(W_E=W_E, W_D=W_D, H=H, H_full=H_full, M_H=M, loss=np.asarray(losses),
                     initial_loss=float(loss0), times=np.asarray(times), n_epochs=len(losses),
                     rule=rule, lr=lr_out if rule == "additive" else None,
                     W_E0=W_E0_used, W_D0=W_D0_used, params=params)
