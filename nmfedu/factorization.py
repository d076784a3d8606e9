r"""Nonnegative matrix factorization (NMF) by multiplicative and additive updates.

Notation of the seed lecture: a nonnegative matrix :math:`V` of size K × N (a
magnitude spectrogram: K frequency bins, N frames) is approximated by
:math:`WH` with nonnegative templates :math:`W` (K × R) and activations
:math:`H` (R × N).

Conventions used throughout (notebooks 01, 02, 03, 04 and 08 rely on them):

* **Frobenius loss** is the squared norm of the seeds,
  :math:`\|V - WH\|^2 = \sum_{k,n} (V_{kn} - (WH)_{kn})^2`, *without* a factor
  ½. scikit-learn's ``NMF`` reports half of this value.
* **KL loss** is the generalized Kullback–Leibler divergence
  :math:`D(V \mid WH) = \sum_{k,n} V_{kn}\log\frac{V_{kn}}{(WH)_{kn}} - V_{kn} + (WH)_{kn}`
  with :math:`0 \log 0 = 0` (equal to scikit-learn's ``beta_loss="kullback-leibler"``).
* **Gradients** carry the factor 2 of the chain rule:
  :math:`\nabla_H \|V-WH\|^2 = 2(W^\top W H - W^\top V)`.
* :func:`nmf_gd` steps along *half* the gradient, exactly as the seeds' update
  :math:`H \leftarrow H - \gamma \odot (W^\top W H - W^\top V)` (the 2 is
  absorbed into the learning rate γ), so that γ = H ⊘ (WᵀWH) turns the gradient
  step into the multiplicative update.

Public functions: :func:`nmf`, :func:`nmf_gd`, :func:`loss`, :func:`gradient_H`,
:func:`gradient_W`, :func:`init_random`, :func:`mu_learning_rate_H`,
:func:`mu_learning_rate_W`; the result type :class:`NMFResult`.

Notebooks: 01, 02, 03, 04, 08.
"""
from __future__ import annotations

import math
import numbers
import time
from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np

from ._validation import (
    check_callback,
    check_choice,
    check_dtype,
    check_matrix,
    check_n_iter,
    check_number,
    check_positive_int,
    check_rank,
    check_rng,
    check_tol,
)

__all__ = [
    "NMFResult",
    "nmf",
    "nmf_gd",
    "loss",
    "gradient_H",
    "gradient_W",
    "init_random",
    "mu_learning_rate_H",
    "mu_learning_rate_W",
    "inner_iterations",
]

_BETAS = {
    "frobenius": "frobenius", "euclidean": "frobenius", "fro": "frobenius",
    "kl": "kl", "kullback-leibler": "kl",
}


# --------------------------------------------------------------------------- #
# result type
# --------------------------------------------------------------------------- #
@dataclass
class NMFResult:
    """Result of :func:`nmf` or :func:`nmf_gd`.

    Notebooks: 01, 02, 03, 04, 08.

    Attributes
    ----------
    W : ndarray, shape (K, R)
        Templates after the last iteration.
    H : ndarray, shape (R, N)
        Activations after the last iteration.
    loss : ndarray of float
        The objective actually minimised (``beta``), evaluated after the
        iterations listed in ``loss_iterations`` (every iteration by default).
        ``loss[i]`` belongs to the factors after ``loss_iterations[i]``
        iterations.
    n_iter : int
        Number of iterations carried out.
    converged : bool
        True if the stop rule on the change of W and H (``tol``) ended the run.
    loss_iterations : ndarray of int
        Iteration numbers (1-based) of the entries of ``loss``.
    initial_loss : float
        The objective at the initial factors W0, H0.
    beta : str
        ``"frobenius"`` or ``"kl"``.
    stop_reason : str
        ``"tol"``, ``"callback"``, ``"n_iter"`` or ``"diverged"`` (:func:`nmf_gd`).
    changes : ndarray, shape (n_iter, 2) or None
        Frobenius norms ‖W⁽ℓ⁾ − W⁽ℓ⁻¹⁾‖ and ‖H⁽ℓ⁾ − H⁽ℓ⁻¹⁾‖ per iteration
        (absolute, whatever ``relative_tol`` says); None when ``tol == 0``
        (they are then not computed).
    runtime : float
        Wall time of the iterations in seconds (as :attr:`nmfedu.nae.NAEResult.runtime`).
    n_negative : ndarray, shape (n_iter, 2) or None
        :func:`nmf_gd` only: how many entries of W and of H were negative
        right after each gradient step (before any projection).
    diverged : bool
        :func:`nmf_gd` only: the loss became inf or NaN.
    """

    W: np.ndarray
    H: np.ndarray
    loss: np.ndarray
    n_iter: int
    converged: bool = False
    loss_iterations: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))
    initial_loss: float = float("nan")
    beta: str = "frobenius"
    stop_reason: str = "n_iter"
    changes: Optional[np.ndarray] = None
    runtime: float = 0.0
    n_negative: Optional[np.ndarray] = None
    diverged: bool = False

    def __repr__(self):  # short: the matrices are large
        K, R = self.W.shape
        N = self.H.shape[1]
        last = self.loss[-1] if len(self.loss) else self.initial_loss
        return (f"NMFResult(K={K}, R={R}, N={N}, beta={self.beta!r}, n_iter={self.n_iter}, "
                f"loss={last:.6g}, converged={self.converged}, stop_reason={self.stop_reason!r})")


# --------------------------------------------------------------------------- #
# helpers
# --------------------------------------------------------------------------- #
def _check_beta(beta):
    key = beta.lower() if isinstance(beta, str) else None
    if key not in _BETAS:
        check_choice(beta, "beta", ("frobenius", "kl"))
    return _BETAS[key]


def _default_loss_every(beta):
    """Default thinning of the loss history: 1 for Frobenius, 10 for KL."""
    return 1 if beta == "frobenius" else 10


def _eps_for(dtype, eps):
    if eps is None:
        return float(np.finfo(dtype).eps)
    return check_number(eps, "eps")


_DOT_BLOCK = 1 << 18


def _dot(a, b):
    """Sum of the entrywise product, accumulated in float64 (float32 input in blocks of
    2**18 entries, so that no float64 copy of a K × N matrix is made)."""
    a = a.ravel()
    b = b.ravel()
    if a.dtype == np.float64 and b.dtype == np.float64:
        return float(np.dot(a, b))
    total = 0.0
    for i in range(0, a.size, _DOT_BLOCK):
        total += float(np.dot(a[i:i + _DOT_BLOCK].astype(np.float64),
                              b[i:i + _DOT_BLOCK].astype(np.float64)))
    return total


def _norm(a):
    """Frobenius norm in the array's own precision (used for the stop rule)."""
    a = a.ravel()
    return math.sqrt(max(float(np.dot(a, a)), 0.0))


def init_random(V, R, seed=None, dtype=None, scale=None):
    """Random nonnegative initial factors ``W0`` (K × R) and ``H0`` (R × N) for ``V`` (K × N).

    Entries are uniform on [0, c) with c = 2·sqrt(scale / R), so that the
    expected value of every entry of ``W0 @ H0`` is ``scale`` — by default the
    mean of ``V``, so the initial model has the right level. The signature is
    the one of :func:`nmfedu.nae.init_random`: the data first, then the rank.

    Notebooks: 01, 02, 03 (and :func:`nmf` when no W0/H0 is given).

    Parameters
    ----------
    V : array_like, shape (K, N)
        The nonnegative data; only its shape and (for ``scale=None``) its mean are used.
    R : int
        The rank (≥ 1).
    seed : int, numpy.random.Generator or None
        Seed for :func:`numpy.random.default_rng`; W0 is drawn before H0.
    dtype : None, float32 or float64
        None means float64.
    scale : float, optional
        Target mean of ``W0 @ H0`` (> 0); default ``mean(V)`` (1 if that is 0).

    Returns
    -------
    W0, H0 : ndarray

    Examples
    --------
    >>> import numpy as np
    >>> W0, H0 = init_random(np.ones((4, 5)), 2, seed=0)
    >>> W0.shape, H0.shape
    ((4, 2), (2, 5))
    """
    if isinstance(V, numbers.Integral):
        raise ValueError(f"V must be the data matrix (K x N), got the integer {V!r}; "
                         f"init_random(K, N, R) is now init_random(V, R)")
    V = check_matrix(V, "V", dtype=None)
    K, N = V.shape
    R = check_rank(R)
    dt = check_dtype(dtype)
    if scale is None:
        mean = float(V.mean(dtype=np.float64))
        scale = mean if mean > 0 else 1.0
    scale = check_number(scale, "scale")
    rng = check_rng(seed)
    c = 2.0 * math.sqrt(float(scale) / R)
    W0 = (rng.random((K, R)) * c).astype(dt, copy=False)
    H0 = (rng.random((R, N)) * c).astype(dt, copy=False)
    return W0, H0


def _prepare(V, R, W0, H0, seed, dtype):
    dt = check_dtype(dtype)
    V = check_matrix(V, "V", dtype=dt)
    R = check_rank(R)
    K, N = V.shape
    if W0 is None or H0 is None:
        Wr, Hr = init_random(V, R, seed=seed, dtype=dt)
    W = check_matrix(W0, "W0", dtype=dt, shape=(K, R), copy=True) if W0 is not None else Wr
    H = check_matrix(H0, "H0", dtype=dt, shape=(R, N), copy=True) if H0 is not None else Hr
    return V, R, W, H, dt


def inner_iterations(K, N, R, accel=0.5):
    """Gillis–Glineur numbers of inner updates for H and for W.

    The cost of one outer computation (WᵀV and WᵀW for H; VHᵀ and HHᵀ for W)
    relative to one inner update gives ρ_H = 1 + (KN + KR)/(NR + N) and
    ρ_W = 1 + (KN + NR)/(KR + K); the maximal numbers of inner updates are
    ⌊1 + accel · ρ⌋ (``accel`` is Gillis & Glineur's α, renamed because a
    scikit-learn user reads ``alpha`` as a regularisation weight).

    Notebooks: 02 (through :func:`nmf` with ``method="accelerated"``).

    Returns
    -------
    (inner_H, inner_W) : tuple of int

    Examples
    --------
    >>> inner_iterations(1025, 2900, 88)
    (7, 19)
    """
    rho_H = 1.0 + (K * N + K * R) / (N * R + N)
    rho_W = 1.0 + (K * N + N * R) / (K * R + K)
    return int(1 + accel * rho_H), int(1 + accel * rho_W)


# --------------------------------------------------------------------------- #
# loss and gradients
# --------------------------------------------------------------------------- #
def _check_triplet(V, W, H):
    V = np.asarray(V)
    dt = np.float32 if V.dtype == np.float32 else np.float64
    V = check_matrix(V, "V", dtype=dt)
    W = np.asarray(W)
    H = np.asarray(H)
    if W.ndim != 2 or W.shape[0] != V.shape[0]:
        raise ValueError(f"W must be a 2-D array with {V.shape[0]} rows (K x R), got shape {W.shape}")
    if H.ndim != 2 or H.shape != (W.shape[1], V.shape[1]):
        raise ValueError(f"H must have shape {(W.shape[1], V.shape[1])} (R x N), got {H.shape}")
    return V, W.astype(dt, copy=False), H.astype(dt, copy=False)


def loss(V, W, H, beta="frobenius"):
    r"""The NMF objective of factors W, H for V.

    * ``beta="frobenius"``: :math:`\|V - WH\|^2` (squared Frobenius norm, no ½ —
      scikit-learn's objective is half of it).
    * ``beta="kl"``: :math:`\sum V\log(V/WH) - V + WH` with 0 log 0 = 0;
      inf where WH = 0 < V.

    Computed directly (one product WH), in float64 accumulation.

    Notebooks: 01, 03 (and 02, 08 through :func:`nmf`'s loss curves).

    Parameters
    ----------
    V : array_like, shape (K, N), nonnegative
    W : array_like, shape (K, R)
    H : array_like, shape (R, N)
    beta : {"frobenius", "kl"}

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> loss(np.ones((2, 2)), np.ones((2, 1)), np.ones((1, 2)))
    0.0
    """
    b = _check_beta(beta)
    V, W, H = _check_triplet(V, W, H)
    WH = (W @ H).astype(np.float64)
    V = V.astype(np.float64, copy=False)
    if b == "frobenius":
        D = V - WH
        return _dot(D, D)
    if (WH < 0).any():
        raise ValueError("W and H must give a nonnegative WH for beta='kl'")
    pos = V > 0
    if (WH[pos] == 0).any():
        return float("inf")
    with np.errstate(divide="ignore", invalid="ignore"):
        term = np.where(pos, V * np.log(np.where(pos, V, 1.0) / np.where(pos, WH, 1.0)), 0.0)
    return float(term.sum() - V.sum() + WH.sum())


def gradient_H(V, W, H):
    r"""Gradient of :math:`\|V - WH\|^2` with respect to H: :math:`2(W^\top W H - W^\top V)`.

    Computed in the cheap order (WᵀW)H − WᵀV; shape R × N. The factor 2 is
    included (the seeds' gradient-descent step drops it, see :func:`nmf_gd`).

    Notebooks: 01 (the gradient, checked against finite differences).

    Examples
    --------
    >>> import numpy as np
    >>> gradient_H(np.zeros((2, 2)), np.ones((2, 1)), np.ones((1, 2)))
    array([[4., 4.]])
    """
    V, W, H = _check_triplet(V, W, H)
    return 2.0 * ((W.T @ W) @ H - W.T @ V)


def gradient_W(V, W, H):
    r"""Gradient of :math:`\|V - WH\|^2` with respect to W: :math:`2(W H H^\top - V H^\top)`.

    Computed as W(HHᵀ) − VHᵀ; shape K × R; factor 2 included.

    Notebooks: 01, 03 (exercise 1).
    """
    V, W, H = _check_triplet(V, W, H)
    return 2.0 * (W @ (H @ H.T) - V @ H.T)


def mu_learning_rate_H(W, H, V=None, eps=None):
    """The seeds' adaptive learning rate γ = H ⊘ (WᵀWH) for the H step.

    With this γ the gradient step of :func:`nmf_gd` equals the multiplicative
    update of :func:`nmf`. ``V`` is accepted and ignored so the function can be
    passed as ``lr_H``. Denominators are clamped at ``eps`` (default: machine
    epsilon of H's dtype), as in :func:`nmf`.

    Notebooks: 02 (which writes γ out; :func:`nmf_gd` accepts this function as ``lr_H``).
    """
    H = np.asarray(H)
    e = _eps_for(H.dtype if H.dtype in (np.float32, np.float64) else np.float64, eps)
    return H / np.maximum((W.T @ W) @ H, e)


def mu_learning_rate_W(W, H, V=None, eps=None):
    """The adaptive learning rate γ = W ⊘ (WHHᵀ) for the W step (notebooks 01, 02).

    Notebooks: 02 (exercise 1).
    """
    W = np.asarray(W)
    e = _eps_for(W.dtype if W.dtype in (np.float32, np.float64) else np.float64, eps)
    return W / np.maximum(W @ (H @ H.T), e)


# --------------------------------------------------------------------------- #
# multiplicative updates: Frobenius
# --------------------------------------------------------------------------- #
class _Stopper:
    """Bookkeeping shared by the loops: loss history, changes, callback, stop rule."""

    def __init__(self, n_iter, tol, relative, loss_every, callback, K, R, N):
        self.n_iter = n_iter
        self.tol = tol
        self.relative = relative
        self.loss_every = loss_every
        self.callback = callback
        self.track = tol > 0
        self.losses = []
        self.loss_its = []
        self.changes = np.zeros((n_iter, 2)) if self.track else None
        self.reason = "n_iter"
        self.done = 0

    def want_loss(self, it, stopping):
        return (self.callback is not None or stopping or it == self.n_iter
                or it % self.loss_every == 0)

    def converged(self, it, dW, dH, nW_prev, nH_prev):
        """Record the changes of iteration ``it`` (1-based); True if below tol."""
        if not self.track:
            return False
        self.changes[it - 1] = (dW, dH)
        if self.relative:
            return dW <= self.tol * nW_prev and dH <= self.tol * nH_prev
        return dW <= self.tol and dH <= self.tol

    def record(self, it, value, W, H):
        """Store the loss of iteration ``it``; call the callback. True to stop."""
        self.done = it
        if value is not None:
            self.losses.append(value)
            self.loss_its.append(it)
        if self.callback is not None:
            if self.callback(it, W, H, value):
                self.reason = "callback"
                return True
        return False


def _mu_step(X, spare, num, den, prod, eps, n_inner, delta, start_buf, need_change):
    """Multiplicative update(s) X ← X ⊙ num ⊘ max(prod(X), eps).

    ``prod(X, out)`` writes the denominator (e.g. (WᵀW)H) into ``out``. Up to
    ``n_inner`` updates; after the first, stop once the change of one update is
    at most ``delta`` times the first one (Gillis & Glineur). The new X is
    written into ``spare`` and the buffers swap (no copy of the old X).
    Returns ``(X_new, spare_new, change)`` with the Frobenius norm of the total
    change of X if ``need_change`` else NaN.
    """
    if n_inner == 1 and not need_change:
        prod(X, den)
        np.maximum(den, eps, out=den)
        np.divide(num, den, out=den)
        np.multiply(X, den, out=X)
        return X, spare, float("nan")
    if n_inner > 1 and need_change:
        np.copyto(start_buf, X)
    first = step = None
    for k in range(n_inner):
        prod(X, den)
        np.maximum(den, eps, out=den)
        np.divide(num, den, out=den)
        np.multiply(X, den, out=spare)
        np.subtract(spare, X, out=den)
        X, spare = spare, X
        step = _norm(den)
        if k == 0:
            first = step
        elif step <= delta * first:
            break
    if not need_change:
        return X, spare, float("nan")
    if n_inner == 1:
        return X, spare, step
    np.subtract(X, start_buf, out=den)
    return X, spare, _norm(den)


def _nmf_frobenius(V, W, H, stopper, fix_W, fix_H, eps, inner_H, inner_W, delta, project_H=None):
    K, N = V.shape
    R = W.shape[1]
    dt = V.dtype
    normV2 = _dot(V, V)
    track = stopper.track

    WtV = np.empty((R, N), dt)
    WtW = np.empty((R, R), dt)
    den_H = np.empty((R, N), dt)
    VHt = np.empty((K, R), dt)
    HHt = np.empty((R, R), dt)
    den_W = np.empty((K, R), dt)
    Hspare = np.empty((R, N), dt) if (track or inner_H > 1) else None
    Hstart = np.empty((R, N), dt) if (inner_H > 1 and track) else None
    Wspare = np.empty((K, R), dt) if (track or inner_W > 1) else None
    Wstart = np.empty((K, R), dt) if (inner_W > 1 and track) else None

    def prod_H(X, out):
        np.matmul(WtW, X, out=out)

    def prod_W(X, out):
        np.matmul(X, HHt, out=out)

    np.matmul(W.T, W, out=WtW)
    np.matmul(W.T, V, out=WtV)
    np.matmul(H, H.T, out=HHt)
    # loss = ||V||^2 - 2 <W^T V, H> + <W^T W, H H^T>
    initial = max(normV2 - 2.0 * _dot(WtV, H) + _dot(WtW, HHt), 0.0)
    if fix_H:
        np.matmul(V, H.T, out=VHt)
    nW = _norm(W) if (track and stopper.relative) else 0.0
    nH = _norm(H) if (track and stopper.relative) else 0.0

    it = 0
    while it < stopper.n_iter:
        it += 1
        dW = dH = 0.0
        if not fix_H:
            if it > 1 and not fix_W:
                np.matmul(W.T, V, out=WtV)          # W^T V   (WtW is current)
            H, Hspare, dH = _mu_step(H, Hspare, WtV, den_H, prod_H, eps, inner_H, delta, Hstart, track)
            if project_H is not None:
                project_H(H)
        if not fix_W:
            if not fix_H:
                np.matmul(V, H.T, out=VHt)          # V H^T
                np.matmul(H, H.T, out=HHt)          # H H^T
            W, Wspare, dW = _mu_step(W, Wspare, VHt, den_W, prod_W, eps, inner_W, delta, Wstart, track)
            np.matmul(W.T, W, out=WtW)              # W^T W, reused by the next H update
        stop = stopper.converged(it, dW, dH, nW, nH)
        if track and stopper.relative:
            nW = _norm(W)
            nH = _norm(H)
        value = None
        if stopper.want_loss(it, stop):
            if fix_W:
                np.matmul(H, H.T, out=HHt)
                value = normV2 - 2.0 * _dot(WtV, H) + _dot(WtW, HHt)
            else:
                value = normV2 - 2.0 * _dot(W, VHt) + _dot(WtW, HHt)
            value = max(value, 0.0)
        if stopper.record(it, value, W, H):
            break
        if stop:
            stopper.reason = "tol"
            break
    return W, H, initial


# --------------------------------------------------------------------------- #
# multiplicative updates: generalized KL divergence
# --------------------------------------------------------------------------- #
class _KLBuffers:
    """The in-place buffers of :func:`_nmf_kl` and its two K × N passes (model, loss).

    The model is WH + eps: an extra column eps of W times an extra row of ones in H,
    so that one product gives WH + eps (no separate pass to avoid division by 0).
    ``W`` and ``H`` are views into the augmented factors, updated in place; ``Q`` holds
    WH + eps, then V / (WH + eps).
    """

    def __init__(self, V, W_in, H_in, eps, track):
        K, N = V.shape
        R = W_in.shape[1]
        dt = V.dtype
        self.V, self.eps = V, eps
        self.sumV = float(V.sum(dtype=np.float64))
        self.W_aug = np.empty((K, R + 1), dt)
        self.W_aug[:, :R] = W_in
        self.W_aug[:, R] = eps
        self.H_aug = np.empty((R + 1, N), dt)
        self.H_aug[:R] = H_in
        self.H_aug[R] = 1
        self.W = self.W_aug[:, :R]
        self.H = self.H_aug[:R]
        self.Q = np.empty((K, N), dt)
        self.G = np.empty((R, N), dt)
        self.P = np.empty((K, R), dt)
        self.Hprev = np.empty((R, N), dt) if track else None
        self.Wprev = np.empty((K, R), dt) if track else None
        # the logarithm is taken in row blocks that stay in cache
        self.rows = rows = max(1, min(K, (1 << 16) // max(N, 1)))
        self.Lbuf = np.empty((rows, N), dt)
        Vflat = V.ravel()
        self.zero_rows = [np.flatnonzero(Vflat[a * N:min(a + rows, K) * N] == 0)
                          for a in range(0, K, rows)]

    def compute_Q(self):
        np.matmul(self.W_aug, self.H_aug, out=self.Q)
        np.divide(self.V, self.Q, out=self.Q)

    def kl_value(self):
        # sum V log(V / (WH + eps)) - sum V + sum (WH + eps), with sum WH = (1^T W)(H 1)
        V, Q, rows = self.V, self.Q, self.rows
        K, N = V.shape
        s = 0.0
        for b, a in enumerate(range(0, K, rows)):
            e = min(a + rows, K)
            L = self.Lbuf[:e - a]
            np.log(Q[a:e], out=L)
            z = self.zero_rows[b]
            if z.size:
                L.ravel()[z] = 0.0
            s += _dot(V[a:e], L)
        sWH = float(np.dot(self.W.sum(axis=0, dtype=np.float64),
                           self.H.sum(axis=1, dtype=np.float64)))
        return max(s - self.sumV + sWH + self.eps * K * N, 0.0)


def _nmf_kl(V, W_in, H_in, stopper, fix_W, fix_H, eps, project_H=None):
    dt = V.dtype
    track = stopper.track
    buf = _KLBuffers(V, W_in, H_in, eps, track)
    W, H, Q, G, P, Hprev, Wprev = buf.W, buf.H, buf.Q, buf.G, buf.P, buf.Hprev, buf.Wprev
    compute_Q, kl_value = buf.compute_Q, buf.kl_value
    nW = _norm(W) if (track and stopper.relative) else 0.0
    nH = _norm(H) if (track and stopper.relative) else 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        compute_Q()
        initial = kl_value()
        it = 0
        while it < stopper.n_iter:
            it += 1
            dW = dH = 0.0
            if not fix_H:
                if track:
                    np.copyto(Hprev, H)
                np.matmul(W.T, Q, out=G)                      # W^T (V / WH)
                cs = np.maximum(W.sum(axis=0), eps).astype(dt, copy=False)
                np.divide(G, cs[:, None], out=G)
                np.multiply(H, G, out=H)
                if track:
                    np.subtract(H, Hprev, out=G)
                    dH = _norm(G)
                if project_H is not None:
                    project_H(H)
                if not fix_W:
                    compute_Q()
            if not fix_W:
                if track:
                    np.copyto(Wprev, W)
                np.matmul(Q, H.T, out=P)                      # (V / WH) H^T
                rs = np.maximum(H.sum(axis=1), eps).astype(dt, copy=False)
                np.divide(P, rs[None, :], out=P)
                np.multiply(W, P, out=W)
                if track:
                    np.subtract(W, Wprev, out=P)
                    dW = _norm(P)
            compute_Q()                                       # for the loss and the next H update
            stop = stopper.converged(it, dW, dH, nW, nH)
            if track and stopper.relative:
                nW = _norm(W)
                nH = _norm(H)
            value = kl_value() if stopper.want_loss(it, stop) else None
            if stopper.record(it, value, W, H):
                break
            if stop:
                stopper.reason = "tol"
                break
    W_in[...] = W
    H_in[...] = H
    return W_in, H_in, initial


# --------------------------------------------------------------------------- #
# public NMF
# --------------------------------------------------------------------------- #
def nmf(V, R, W0=None, H0=None, n_iter=200, tol=1e-4, beta="frobenius", fix_W=False,
        fix_H=False, seed=None, dtype=None, callback=None, *, relative_tol=False,
        method="mu", inner=None, inner_delta=0.1, accel=0.5, loss_every=None, eps=None,
        project_H=None):
    r"""NMF V ≈ WH by the Lee–Seung multiplicative updates of the seed lecture.

    Each iteration ℓ applies, in this order (the seeds' algorithm box),

    1. :math:`H^{(\ell+1)} = H^{(\ell)} \odot (W^\top V) \oslash (W^\top W H^{(\ell)})` with :math:`W = W^{(\ell)}`,
    2. :math:`W^{(\ell+1)} = W^{(\ell)} \odot (V H^\top) \oslash (W^{(\ell)} H H^\top)` with :math:`H = H^{(\ell+1)}`,

    (for ``beta="kl"``: :math:`H \leftarrow H \odot W^\top(V \oslash WH) \oslash W^\top 1`, then
    :math:`W \leftarrow W \odot (V \oslash WH) H^\top \oslash 1 H^\top`). Products are taken in
    their cheapest order (WᵀW first, HHᵀ first): no K × N matrix is formed for
    Frobenius. Divisions by zero are avoided with ``eps`` (Frobenius:
    denominators clamped from below at ``eps``; KL: the model WH + eps), so
    every factor is finite and an entry that is exactly zero stays exactly
    zero (0 · finite = 0), which is how notebook 03 constrains W and H.

    **Stop rule** (the seeds' box, with a concrete norm): after iteration ℓ,
    stop if :math:`\|H^{(\ell)} - H^{(\ell-1)}\|_F \le` ``tol`` and
    :math:`\|W^{(\ell)} - W^{(\ell-1)}\|_F \le` ``tol`` (Frobenius norms of
    the change; a fixed factor has change 0). With ``relative_tol=True`` each
    change is compared with ``tol`` times the Frobenius norm of the previous
    factor instead. ``tol=0`` runs exactly ``n_iter`` iterations (and skips
    computing the changes).

    Notebooks: 02 (multiplicative update), 03 (constrained NMF),
    04 (separation) and 08 (loss comparison).

    Parameters
    ----------
    V : array_like, shape (K, N)
        Nonnegative, finite, nonempty matrix (e.g. a magnitude spectrogram).
    R : int
        Rank, ≥ 1.
    W0, H0 : array_like or None
        Initial factors (K × R, R × N), nonnegative; copied, never modified.
        Missing ones come from :func:`init_random` with ``scale=mean(V)``.
    n_iter : int
        Maximal number of iterations (≥ 0).
    tol : float
        Threshold of the stop rule (≥ 0).
    beta : {"frobenius", "kl"}
        Objective: squared Frobenius norm ‖V − WH‖² (no ½) or generalized KL
        divergence D(V | WH).
    fix_W, fix_H : bool
        Keep W (or H) at its initial value and update only the other factor
        (e.g. notebook 04 with fixed templates).
    seed : int, Generator or None
        Seed of the random initialisation.
    dtype : None, float32 or float64
        Working precision; None means float64. float32 is about twice as fast.
    callback : callable or None
        ``callback(iteration, W, H, loss)`` after every iteration (1-based
        iteration number; W and H are the live working arrays, which later
        iterations overwrite — copy them to keep them; the loss is computed
        every iteration when a callback is given). Returning True stops the
        run (``stop_reason="callback"``).
    relative_tol : bool
        Compare the changes relative to the factors' norms (see above).
    method : {"mu", "accelerated"}
        ``"accelerated"`` (Frobenius only): Gillis & Glineur's accelerated MU —
        per computation of WᵀV and WᵀW, up to ``inner`` updates of H, stopping
        early once an update changes H by at most ``inner_delta`` times the
        first one; likewise for W with VHᵀ and HHᵀ. Zeros stay zeros.
    inner : int, (int, int) or None
        Maximal inner updates (for H, for W); None: :func:`inner_iterations`
        with ``accel``. Ignored for ``method="mu"`` (one update each).
    inner_delta, accel : float
        Parameters of the accelerated method (see above); ``accel`` is Gillis &
        Glineur's α (not a regularisation weight as in scikit-learn).
    loss_every : int or None
        Record the loss every ``loss_every`` iterations (and always after the
        last one; every iteration when a callback is given). None: 1 for
        Frobenius, 10 for KL. For Frobenius the loss is nearly free
        (‖V‖² − 2⟨W, VHᵀ⟩ + ⟨WᵀW, HHᵀ⟩ from products the update already has);
        for KL it costs a logarithm of K × N entries (about a third of a matrix
        product at K = 1025, N = 2900, R = 88), hence the thinner default; pass
        ``loss_every=1`` for a per-iteration KL curve.
    eps : float or None
        None: machine epsilon of ``dtype`` (2.2e-16 for float64, 1.2e-7 for
        float32). Frobenius: the denominators (WᵀWH, WHHᵀ) are clamped from
        below at ``eps``. KL: the model is WH + eps (a fixed background
        component), so V ⊘ (WH + eps) stays finite; the KL loss reported is
        D(V | WH + eps), which the updates never increase.
    project_H : callable or None
        A projection onto a constraint set, ``project_H(H)``, called right
        after every update of H (after the inner updates of the accelerated
        method), before W is updated; it must change H **in place** and keep
        it nonnegative (e.g. :func:`nmfedu.constraints.project_decay`, the
        decay constraint of :func:`nmfedu.separation.separate`). The W update,
        the loss and the stop rule's change of W see the projected H (the
        change of H is measured before the projection). With a projection the
        loss is no longer guaranteed to fall at every iteration.

    Returns
    -------
    NMFResult
        ``.W``, ``.H``, ``.loss`` (objective after each iteration),
        ``.n_iter``, ``.converged``, ``.initial_loss``, ``.changes``, ...

    Raises
    ------
    ValueError
        V negative, NaN, inf, not 2-D or empty; R < 1 or not an integer;
        W0/H0 of the wrong shape or negative; tol < 0; unknown beta/method.

    Examples
    --------
    >>> import numpy as np
    >>> V = np.random.default_rng(0).random((20, 30))
    >>> res = nmf(V, 3, n_iter=50, seed=0)
    >>> res.W.shape, res.H.shape, len(res.loss)
    ((20, 3), (3, 30), 50)
    >>> bool(np.all(np.diff(res.loss) <= 1e-9))
    True
    """
    b = _check_beta(beta)
    n_iter = check_n_iter(n_iter)
    tol = check_tol(tol)
    loss_every = _default_loss_every(b) if loss_every is None else \
        check_positive_int(loss_every, "loss_every")
    check_choice(method, "method", ("mu", "accelerated"))
    if method == "accelerated" and b != "frobenius":
        raise ValueError("method='accelerated' needs beta='frobenius' (KL has no cheap inner update)")
    check_callback(callback)
    if project_H is not None and not callable(project_H):
        raise ValueError(f"project_H must be callable or None, got {type(project_H).__name__}")
    if not isinstance(inner_delta, (int, float)) or not 0 <= inner_delta < 1:
        raise ValueError(f"inner_delta must be a number in [0, 1), got {inner_delta!r}")
    V, R, W, H, dt = _prepare(V, R, W0, H0, seed, dtype)
    e = _eps_for(dt, eps)
    K, N = V.shape
    inner_H = inner_W = 1
    if method == "accelerated":
        if inner is None:
            accel = check_number(accel, "accel", allow_zero=True)
            inner_H, inner_W = inner_iterations(K, N, R, accel)
        elif isinstance(inner, tuple):
            if len(inner) != 2:
                raise ValueError(f"inner must be an int >= 1 or a pair of them, got {inner!r}")
            inner_H = check_positive_int(inner[0], "inner")
            inner_W = check_positive_int(inner[1], "inner")
        else:
            inner_H = inner_W = check_positive_int(inner, "inner")
    stopper = _Stopper(n_iter, tol, bool(relative_tol), loss_every, callback, K, R, N)
    t0 = time.perf_counter()
    if b == "frobenius":
        W, H, initial = _nmf_frobenius(V, W, H, stopper, fix_W, fix_H, e, inner_H, inner_W,
                                       float(inner_delta), project_H)
    else:
        W, H, initial = _nmf_kl(V, W, H, stopper, fix_W, fix_H, e, project_H)
    elapsed = time.perf_counter() - t0
    changes = stopper.changes[:stopper.done] if stopper.changes is not None else None
    return NMFResult(
        W=W, H=H, loss=np.asarray(stopper.losses, dtype=np.float64), n_iter=stopper.done,
        converged=stopper.reason == "tol", loss_iterations=np.asarray(stopper.loss_its, dtype=int),
        initial_loss=float(initial), beta=b, stop_reason=stopper.reason, changes=changes,
        runtime=elapsed)


# --------------------------------------------------------------------------- #
# additive gradient descent
# --------------------------------------------------------------------------- #
def _rate(lr, W, H, V, target, name):
    if callable(lr):
        g = lr(W, H)
    else:
        g = lr
    if np.isscalar(g) or (isinstance(g, np.ndarray) and g.ndim == 0):
        g = float(g)
        if not np.isfinite(g) or g < 0:
            raise ValueError(f"{name} must be >= 0 and finite, got {g!r}")
        return g
    g = np.asarray(g)
    if g.shape != target.shape:
        raise ValueError(f"{name} must be a number, an array of shape {target.shape} or a callable "
                         f"gamma(W, H) returning one, got shape {g.shape}")
    return g


def nmf_gd(V, R, W0=None, H0=None, n_iter=100, lr_H=1e-3, lr_W=None, project=True,
           fix_W=False, fix_H=False, seed=None, dtype=None, callback=None, eps=None):
    r"""NMF by additive gradient descent, with or without projection onto ≥ 0.

    The step is the seeds' one, along *half* the gradient (the factor 2 of
    :func:`gradient_H` is absorbed into the learning rate γ):

    .. math::
        H \leftarrow H - \gamma_H \odot (W^\top W H - W^\top V),\qquad
        W \leftarrow W - \gamma_W \odot (W H H^\top - V H^\top),

    H first (with the old W), then W (with the new H), as in :func:`nmf`.
    With ``project=True`` negative entries are set to 0 after each step
    (projected gradient descent). With γ_H = H ⊘ (WᵀWH) and γ_W = W ⊘ (WHHᵀ)
    (:func:`mu_learning_rate_H`, :func:`mu_learning_rate_W`) the step *is*
    the multiplicative update. Notebook 01 uses it to show divergence (too
    large γ), slow convergence (too small γ) and negative entries
    (``project=False``); notebook 02 for the adaptive rate.

    Parameters
    ----------
    V, R, W0, H0, seed, dtype, fix_W, fix_H, callback, eps
        As in :func:`nmf` (``callback(iteration, W, H, loss)``; True stops).
    n_iter : int
        Number of iterations (≥ 0); the run also stops if the loss becomes
        inf or NaN (``diverged=True``).
    lr_H : float, ndarray (R × N) or callable
        Learning rate γ_H: a scalar, a per-entry array, or ``gamma(W, H)``
        returning either (evaluated before each H step).
    lr_W : float, ndarray (K × R), callable or None
        Learning rate γ_W; None: the same as ``lr_H`` if that is a scalar,
        else an error unless ``fix_W``.
    project : bool
        Project onto the nonnegative orthant after each step.

    Returns
    -------
    NMFResult
        ``.loss`` (‖V − WH‖² after each iteration, computed directly),
        ``.n_negative`` (entries of W and H that were negative right after
        each step, before projection), ``.diverged``.

    Notebooks: 01 (learning rates, divergence, negative entries), 02 (the adaptive rate).

    Examples
    --------
    With the adaptive learning rates, a gradient step is a multiplicative update:

    >>> import numpy as np
    >>> V = np.random.default_rng(0).random((6, 8))
    >>> gd = nmf_gd(V, 2, n_iter=20, lr_H=mu_learning_rate_H, lr_W=mu_learning_rate_W, seed=0)
    >>> mu = nmf(V, 2, n_iter=20, tol=0, seed=0)
    >>> bool(np.allclose(gd.W, mu.W) and np.allclose(gd.H, mu.H))
    True

    A fixed learning rate that is too large diverges (the loss becomes inf or NaN):

    >>> bad = nmf_gd(V, 2, n_iter=200, lr_H=5.0, seed=0)
    >>> bad.diverged, bad.stop_reason
    (True, 'diverged')
    """
    n_iter = check_n_iter(n_iter)
    check_callback(callback)
    V, R, W, H, dt = _prepare(V, R, W0, H0, seed, dtype)
    e = _eps_for(dt, eps)
    if lr_W is None:
        if fix_W or np.isscalar(lr_H):
            lr_W = lr_H if np.isscalar(lr_H) else 0.0
        else:
            raise ValueError("lr_W must be given when lr_H is an array or a callable (W has another shape)")
    if lr_H is mu_learning_rate_H:
        lr_H = lambda W_, H_: mu_learning_rate_H(W_, H_, eps=e)  # noqa: E731
    if lr_W is mu_learning_rate_W:
        lr_W = lambda W_, H_: mu_learning_rate_W(W_, H_, eps=e)  # noqa: E731
    losses, negs = [], []
    reason = "n_iter"
    diverged = False
    t0 = time.perf_counter()

    def current_loss():
        D = V - W @ H
        return _dot(D, D)

    with np.errstate(over="ignore", invalid="ignore"):
        initial = current_loss()
        WtV = W.T @ V if fix_W else None
        it = 0
        while it < n_iter:
            it += 1
            nW = nH = 0
            if not fix_H:
                g = _rate(lr_H, W, H, V, H, "lr_H")
                WtW = W.T @ W
                step = WtW @ H - (WtV if fix_W else W.T @ V)
                H = H - g * step
                nH = int(np.count_nonzero(H < 0))
                if project:
                    np.maximum(H, 0, out=H)
            if not fix_W:
                g = _rate(lr_W, W, H, V, W, "lr_W")
                HHt = H @ H.T
                step = W @ HHt - V @ H.T
                W = W - g * step
                nW = int(np.count_nonzero(W < 0))
                if project:
                    np.maximum(W, 0, out=W)
            value = current_loss()
            losses.append(value)
            negs.append((nW, nH))
            if callback is not None and callback(it, W, H, value):
                reason = "callback"
                break
            if not np.isfinite(value):
                reason = "diverged"
                diverged = True
                break
    return NMFResult(
        W=W, H=H, loss=np.asarray(losses, dtype=np.float64), n_iter=it,
        loss_iterations=np.arange(1, it + 1), initial_loss=initial, beta="frobenius",
        stop_reason=reason, runtime=time.perf_counter() - t0,
        n_negative=np.asarray(negs, dtype=int).reshape(-1, 2), diverged=diverged)
