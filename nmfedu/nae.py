r"""Nonnegative autoencoders (NAE): NMF as a two-layer network, trained two ways.

The model of the seed lecture (Smaragdis & Venkataramani, ICASSP 2017; Ewert &
Sandler, ICASSP 2017; Zunner, MSc thesis FAU 2021), for a magnitude spectrogram
``V`` (K × N), an encoder ``W_E`` (R × K), a decoder ``W_D`` (K × R) and a
binary dropout mask ``M_H`` (R × N, all ones when not given)::

    Z  = W_E V            H  = max(Z, 0)        (code, "1. layer")
    H' = H ⊙ M_H                                (structured dropout)
    Y  = W_D H'           V̂  = max(Y, 0)        (output, "2. layer")
    L  = ‖V − V̂‖²                               (squared Frobenius norm, no ½ —
                                                 the same scale as nmfedu.nmf's loss)

The decoder plays the role of NMF's templates ``W``, the code ``H'`` the role
of NMF's activations ``H``, and the encoder learns "a kind of pseudo-inverse"
of the decoder (``V ≈ W H`` implies ``W⁺ V ≈ H``).

**The ReLUs.** Both training rules keep ``W_E ≥ 0`` and ``W_D ≥ 0``; with
``V ≥ 0`` this makes ``Z ≥ 0`` and ``Y ≥ 0``, so the two ReLUs are identities
and both rules minimise the *same* loss. The seeds write the multiplicative
variant without ReLUs (``H = W_E V``, ``V̂ = W_D H'``); the additive rule keeps
them, and they matter only through the derivative convention at exact zeros:
we use ``[Z > 0]`` and ``[Y > 0]`` (a ReLU has derivative 0 at 0), so an output
bin or a code entry that is exactly 0 passes no gradient.

Additive rule: projected gradient descent (notebook 06)
--------------------------------------------------------
With ``E = V̂ − V`` the hand-derived gradients (chain rule through both ReLUs
and the mask) are::

    D        = E ⊙ [Y > 0]
    ∂L/∂W_D  = 2 D H'ᵀ
    ∂L/∂W_E  = 2 ((W_Dᵀ D) ⊙ M_H ⊙ [Z > 0]) Vᵀ

and one epoch is a simultaneous step of both layers followed by the projection
onto the constraint set::

    W_D ← max(W_D − γ_D ∂L/∂W_D, 0) ⊙ S_D        W_E ← max(W_E − γ_E ∂L/∂W_E, 0)

``S_D = [W_D0 > 0]`` is the support of the initial decoder: entries that start
at zero are projected back to zero (the seeds' *template constraints*). Zeros
of the initial *encoder* (e.g. the clipped entries of a pseudo-inverse) are
not constraints: the additive rule may make them positive again, while the
multiplicative rule keeps every zero of both layers. With
``lr=<float>`` the learning rate is fixed, ``γ_D = γ_E = lr``. With
``lr="lipschitz"`` (the adaptive option, the default) each layer gets the step
``1 / Lip`` of its own block, recomputed every epoch from the current weights::

    γ_D = 1 / (2 λmax(H' H'ᵀ))                (Lipschitz constant of ∂L/∂W_D in W_D)
    γ_E = 1 / (2 λmax(W_Dᵀ W_D) σmax(V)²)     (an upper bound for the one of ∂L/∂W_E in W_E)

(both R × R eigenvalue problems; ``σmax(V)`` is computed once). This needs no
tuning and is invariant to the scale of ``V``, but it is the step of a first
order method, so the additive rule still converges slowly; see :func:`compare`.

Multiplicative rule: the seeds' update rules (notebook 07)
----------------------------------------------------------
Without the ReLUs (``H' = (W_E V) ⊙ M_H``, ``V̂ = W_D H'``) the gradients split
into a positive and a negative part::

    ∂L/∂W_E = 2 ( ((W_Dᵀ W_D H') ⊙ M_H) Vᵀ  −  ((W_Dᵀ V) ⊙ M_H) Vᵀ )  =: 2 (den_E − num_E)
    ∂L/∂W_D = 2 ( W_D H' H'ᵀ                −  V H'ᵀ )                 =: 2 (den_D − num_D)

Choosing the entrywise (adaptive) learning rate ``γ = W ⊘ (2 den)`` in the
additive step ``W − γ ⊙ ∂L/∂W`` gives ``W − W ⊙ (den − num) ⊘ den``, i.e. ::

    W_E ← W_E ⊙ ((W_Dᵀ V) ⊙ M_H) Vᵀ ⊘ ((W_Dᵀ W_D H') ⊙ M_H) Vᵀ
    W_D ← W_D ⊙ (V H'ᵀ) ⊘ (W_D H' H'ᵀ)

exactly the rules on the slide "NAE with Multiplicative Update Rules" — the
same trick as NMF's multiplicative updates. ``num`` and ``den`` are
nonnegative, so the weights stay nonnegative without a projection, and an
entry that starts at zero stays zero (template constraints for free). Each
block update is the Lee–Seung auxiliary-function step of a quadratic whose
Hessian has nonnegative entries, so neither update increases the loss.

*Order.* One epoch updates the encoder first (with ``H'`` and ``W_D`` of the
previous epoch), then recomputes ``H' = (W_E V) ⊙ M_H`` with the new encoder,
then updates the decoder with the new ``H'`` — the order of NMF's updates
(first the activations, then the templates with the new activations).

*Division.* The ratio ``num ⊘ den`` is used where ``den > tiny`` (the smallest
normal number of the dtype, ``np.finfo(dtype).tiny``) and replaced by 1
elsewhere. ``den`` vanishes only where the gradient vanishes too (an entry that
influences no unmasked output) or the entry is already 0; both are left
unchanged. No ε is added, so the rule is exactly the seeds' formula and
independent of the scale of ``V``.

*Cost.* An epoch of either rule needs five products of the size of ``V``
(R·K·N multiply–adds each); everything else is R × R, R × K or R × N sized.
Multiplicative: ``W_E V``, ``W_Dᵀ V``, ``V H'ᵀ`` and the two products with
``Vᵀ`` (numerator and denominator of the encoder rule, done as one product of
a 2R × N stack); ``W_Dᵀ W_D`` and ``H' H'ᵀ`` are R × R, and the loss comes for
free from ``‖V‖² − 2⟨H', W_Dᵀ V⟩ + ⟨W_Dᵀ W_D, H' H'ᵀ⟩``. Additive: ``W_E V``,
``W_D H'``, ``D H'ᵀ``, ``W_Dᵀ D`` and ``(…) Vᵀ``. NMF's multiplicative
iteration needs two (``Wᵀ V`` and ``V Hᵀ``); see ``benchmarks/bench_nae.py``.

Used by: notebook 06 (the autoencoder view: :func:`fit` with the additive rule,
:func:`encode`, :func:`decode`, :func:`gradients`), notebook 07 (structured
dropout and template constraints: ``M_H``, :func:`init_score_informed`,
the multiplicative rule; separation with the NAE is
``nmfedu.separate(..., factorization="nae")``) and notebook 08 (loss against epochs:
:func:`compare`).
"""
from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "RULES",
    "NAEResult",
    "Comparison",
    "fit",
    "encode",
    "decode",
    "reconstruct",
    "loss",
    "gradients",
    "init_random",
    "init_from_nmf",
    "init_score_informed",
    "lipschitz_steps",
    "compare",
    "crossing_epoch",
    "pad_curve",
]

#: Training rules accepted by :func:`fit`.
RULES = ("additive", "multiplicative")

#: Curve names of :func:`compare`, in the legend order of the seeds' figure.
CURVES = ("NAE (additive)", "NAE (multiplicative)", "NMF (multiplicative)")


# ----------------------------------------------------------------------------- validation

def _dtype(dtype):
    if dtype is None:
        return np.dtype(np.float64)
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise ValueError(f"dtype must be float32 or float64, got {dtype!r}") from None
    if dt not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise ValueError(f"dtype must be float32 or float64, got {dtype!r}")
    return dt


def _matrix(X, name, dtype, shape=None, nonneg=True, what="matrix"):
    """Validated C-contiguous copy of a 2-D finite (nonnegative) array."""
    if X is None:
        raise ValueError(f"{name} must be a 2-D array, got None")
    try:
        A = np.array(X, dtype=dtype, order="C", copy=True)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a 2-D numeric array, got {type(X).__name__}") from None
    if A.ndim != 2:
        raise ValueError(f"{name} must be a 2-D {what}, got shape {A.shape}")
    if A.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {A.shape}")
    if shape is not None and A.shape != tuple(shape):
        raise ValueError(f"{name} must have shape {tuple(shape)}, got {A.shape}")
    if not np.all(np.isfinite(A)):
        raise ValueError(f"{name} contains NaN or inf")
    if nonneg and np.any(A < 0):
        raise ValueError(f"{name} must be nonnegative, got a minimum of {A.min():g}")
    return A


def _mask(M_H, shape, dtype, name="M_H"):
    """Binary mask as a float array of 0/1, or None when absent or all ones."""
    if M_H is None:
        return None
    try:
        M = np.asarray(M_H)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a binary array of shape {shape}") from None
    if M.shape != tuple(shape):
        raise ValueError(f"{name} must have shape (R, N) = {tuple(shape)}, got {M.shape}")
    if M.dtype != bool:
        if not np.issubdtype(M.dtype, np.number):
            raise ValueError(f"{name} must be a binary (0/1 or bool) array, got dtype {M.dtype}")
        if not np.all((M == 0) | (M == 1)):
            raise ValueError(f"{name} must be binary: every entry 0 or 1 (or bool)")
    M = np.ascontiguousarray(M, dtype=dtype)
    if np.all(M == 1):
        return None
    return M


def _positive_int(value, name, allow_zero=False):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if value < 0 or (value == 0 and not allow_zero):
        raise ValueError(f"{name} must be {'>= 0' if allow_zero else '>= 1'}, got {value!r}")
    return int(value)


def _lr(lr):
    if isinstance(lr, str):
        if lr != "lipschitz":
            raise ValueError(f"lr must be a positive number or 'lipschitz', got {lr!r}")
        return lr
    if isinstance(lr, bool):
        raise ValueError(f"lr must be a positive number or 'lipschitz', got {lr!r}")
    try:
        v = float(lr)
    except (TypeError, ValueError):
        raise ValueError(f"lr must be a positive number or 'lipschitz', got {lr!r}") from None
    if not np.isfinite(v) or v <= 0:
        raise ValueError(f"lr must be a finite number > 0 (or 'lipschitz'), got {lr!r}")
    return v


def _rule(rule):
    if rule not in RULES:
        raise ValueError(f"rule must be 'additive' or 'multiplicative', got {rule!r}")
    return rule


def _rng(seed):
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))):
        raise ValueError(f"seed must be None, an int or a numpy Generator, got {seed!r}")
    return np.random.default_rng(seed)


def _callback(callback):
    if callback is not None and not callable(callback):
        raise ValueError(f"callback must be callable or None, got {callback!r}")
    return callback


# ----------------------------------------------------------------------------- model pieces

def _masked(H, M):
    return H if M is None else H * M


def encode(V, W_E, M_H=None, relu=True):
    """Code ``H' = max(W_E V, 0) ⊙ M_H`` of the frames ``V`` (the first layer).

    Parameters
    ----------
    V : ndarray, shape (K, N)
        Nonnegative frames (columns), e.g. new frames of a magnitude spectrogram.
    W_E : ndarray (R, K) or NAEResult
        Encoder weights, or a trained model (its ``W_E`` is used).
    M_H : ndarray (R, N) of 0/1 or bool, optional
        Structured-dropout mask for these frames; None keeps every entry.
    relu : bool
        Apply the ReLU (for nonnegative weights it changes nothing).

    Returns
    -------
    H : ndarray, shape (R, N)

    Used in notebooks 06 and 07.

    Examples
    --------
    >>> import numpy as np
    >>> encode(np.ones((3, 2)), np.array([[1.0, 0.0, 1.0]]))
    array([[2., 2.]])
    """
    W_E = getattr(W_E, "W_E", W_E)
    W_E = np.asarray(W_E, dtype=float)
    if W_E.ndim != 2:
        raise ValueError(f"W_E must be a 2-D encoder matrix (R, K), got shape {W_E.shape}")
    V = _matrix(V, "V", W_E.dtype, what="spectrogram (K, N)")
    if V.shape[0] != W_E.shape[1]:
        raise ValueError(f"V must have K = {W_E.shape[1]} rows to match W_E {W_E.shape}, "
                         f"got shape {V.shape}")
    M = _mask(M_H, (W_E.shape[0], V.shape[1]), W_E.dtype)
    H = W_E @ V
    if relu:
        np.maximum(H, 0, out=H)
    return _masked(H, M)


def decode(H, W_D, M_H=None, relu=True):
    """Output ``V̂ = max(W_D (H ⊙ M_H), 0)`` of a code (the second layer).

    Parameters
    ----------
    H : ndarray, shape (R, N)
        Code, e.g. from :func:`encode`.
    W_D : ndarray (K, R) or NAEResult
        Decoder weights (templates), or a trained model (its ``W_D`` is used).
    M_H : ndarray (R, N) of 0/1 or bool, optional
        Dropout mask applied to ``H`` first; masked entries of ``H`` have no
        influence on the output.
    relu : bool
        Apply the output ReLU.

    Returns
    -------
    V_hat : ndarray, shape (K, N)

    Used in notebooks 06 and 07.
    """
    W_D = getattr(W_D, "W_D", W_D)
    W_D = np.asarray(W_D, dtype=float)
    if W_D.ndim != 2:
        raise ValueError(f"W_D must be a 2-D decoder matrix (K, R), got shape {W_D.shape}")
    H = _matrix(H, "H", W_D.dtype, nonneg=False, what="code (R, N)")
    if H.shape[0] != W_D.shape[1]:
        raise ValueError(f"H must have R = {W_D.shape[1]} rows to match W_D {W_D.shape}, "
                         f"got shape {H.shape}")
    M = _mask(M_H, H.shape, W_D.dtype)
    if M is not None:
        H = np.where(M > 0, H, 0.0)
    Y = W_D @ H
    if relu:
        np.maximum(Y, 0, out=Y)
    return Y


def reconstruct(V, model, M_H=None):
    """``decode(encode(V))`` with a trained model's ``W_E`` and ``W_D``.

    Used in notebooks 06 and 07.
    """
    return decode(encode(V, model.W_E, M_H=M_H), model.W_D)


def _forward(V, W_E, W_D, M, relu):
    """Forward pass: returns (Z, Hp, zact, Y-as-D, loss). ``zact``/``yact`` are
    None when every entry is active (the common case), so no mask is applied."""
    Z = W_E @ V
    zact = None
    if relu and Z.size and Z.min() <= 0:
        zact = Z > 0
        H = np.where(zact, Z, 0.0).astype(Z.dtype, copy=False)
    else:
        H = Z
    Hp = _masked(H, M)
    Y = W_D @ Hp
    if relu and Y.min() <= 0:
        yact = Y > 0
        np.maximum(Y, 0, out=Y)
        Y -= V                     # E = V̂ − V
        err = _sumsq(Y)
        Y *= yact                  # D = E ⊙ [Y > 0]
    else:
        Y -= V
        err = _sumsq(Y)
    return Z, Hp, zact, Y, err


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


def _sumsq(X):
    x = X.reshape(-1)
    if x.dtype == np.float32:
        x = x.astype(np.float64)
    return float(np.dot(x, x))


def _backward(V, W_D, Hp, zact, D, M):
    """Gradients (without the factor 2) of the loss: (G_E, G_D)."""
    G_D = D @ Hp.T
    B = W_D.T @ D
    if M is not None:
        B *= M
    if zact is not None:
        B *= zact
    G_E = B @ V.T
    return G_E, G_D


def loss(V, W_E, W_D, M_H=None, relu=True):
    """Loss ``‖V − V̂‖²`` of an autoencoder (squared Frobenius norm, without ½).

    Parameters
    ----------
    V : ndarray, shape (K, N)
    W_E : ndarray, shape (R, K)
    W_D : ndarray, shape (K, R)
    M_H : ndarray (R, N), optional
    relu : bool
        With the ReLUs (``V̂ = max(W_D (max(W_E V, 0) ⊙ M_H), 0)``) or without.

    Returns
    -------
    float

    Used in notebooks 06 and 08.
    """
    V, W_E, W_D, M = _check_model(V, W_E, W_D, M_H, nonneg=False)
    return _forward(V, W_E, W_D, M, relu)[4]


def gradients(V, W_E, W_D, M_H=None, relu=True):
    """Hand-derived gradients of ``L = ‖V − V̂‖²`` with respect to both layers.

    With ``Z = W_E V``, ``H = max(Z, 0)``, ``H' = H ⊙ M_H``, ``Y = W_D H'``,
    ``V̂ = max(Y, 0)``, ``E = V̂ − V`` and ``D = E ⊙ [Y > 0]``::

        ∂L/∂W_D = 2 D H'ᵀ
        ∂L/∂W_E = 2 ((W_Dᵀ D) ⊙ M_H ⊙ [Z > 0]) Vᵀ

    (with ``relu=False`` the indicator factors are dropped). The weights may
    have any sign here, so the ReLUs' active sets can be explored; the formulas
    hold away from the kinks ``Z = 0``, ``Y = 0``, where the ReLU's derivative
    is taken as 0.

    Parameters
    ----------
    V : ndarray, shape (K, N)
        Nonnegative data.
    W_E : ndarray, shape (R, K)
    W_D : ndarray, shape (K, R)
    M_H : ndarray (R, N) of 0/1 or bool, optional
    relu : bool

    Returns
    -------
    loss : float
    grad_E : ndarray, shape (R, K)
    grad_D : ndarray, shape (K, R)

    Used in notebooks 06 (gradient check) and 07.

    Examples
    --------
    >>> import numpy as np
    >>> V = np.ones((2, 1)); W_E = np.array([[0.5, 0.5]]); W_D = np.array([[1.0], [1.0]])
    >>> L, gE, gD = gradients(V, W_E, W_D)
    >>> L, gE.tolist(), gD.tolist()
    (0.0, [[0.0, 0.0]], [[0.0], [0.0]])
    """
    V, W_E, W_D, M = _check_model(V, W_E, W_D, M_H, nonneg=False)
    Z, Hp, zact, D, err = _forward(V, W_E, W_D, M, relu)
    G_E, G_D = _backward(V, W_D, Hp, zact, D, M)
    return err, 2 * G_E, 2 * G_D


def _check_model(V, W_E, W_D, M_H, nonneg, dtype=None):
    dt = _dtype(dtype)
    V = _matrix(V, "V", dt, what="spectrogram (K, N)")
    K, N = V.shape
    W_E = _matrix(W_E, "W_E", dt, nonneg=nonneg, what="encoder (R, K)")
    R = W_E.shape[0]
    if W_E.shape[1] != K:
        raise ValueError(f"W_E must have shape (R, K) = (R, {K}) to match V {V.shape}, "
                         f"got {W_E.shape}")
    W_D = _matrix(W_D, "W_D", dt, shape=(K, R), nonneg=nonneg, what="decoder (K, R)")
    M = _mask(M_H, (R, N), dt)
    return V, W_E, W_D, M


# ----------------------------------------------------------------------------- initialisation

def _balance(V, W_E, W_D, M, scale_E=True, scale_D=True):
    """Scale the layers by the least-squares optimal factor c of V ≈ c V̂
    (split as √c on each scaled layer, or c on the only scaled one)."""
    Vh = W_D @ _masked(W_E @ V, M)
    den = _sumsq(Vh)
    if den <= 0 or not np.isfinite(den):
        return W_E, W_D
    c = float(np.vdot(V.astype(np.float64), Vh.astype(np.float64))) / den
    if not np.isfinite(c) or c <= 0:
        return W_E, W_D
    if scale_E and scale_D:
        s = np.sqrt(c)
        W_E *= W_E.dtype.type(s)
        W_D *= W_D.dtype.type(s)
    elif scale_E:
        W_E *= W_E.dtype.type(c)
    elif scale_D:
        W_D *= W_D.dtype.type(c)
    return W_E, W_D


def _clipped_pinv(W_D):
    P = np.linalg.pinv(W_D.astype(np.float64))
    np.maximum(P, 0, out=P)
    return np.ascontiguousarray(P, dtype=W_D.dtype)


def init_random(V, R, M_H=None, seed=None, dtype=None):
    """Random (seeded) nonnegative initialisation ``(W_E0, W_D0)``.

    Entries are drawn uniformly from (0, 1] (``W_D0`` first, then ``W_E0``,
    from ``numpy.random.default_rng(seed)``), then both layers are multiplied
    by ``√c`` with ``c = ⟨V, V̂⟩ / ‖V̂‖²`` the least-squares optimal scale of
    the initial output, so the first ``V̂`` has the size of ``V``.

    Returns
    -------
    W_E0 : ndarray, shape (R, K)
    W_D0 : ndarray, shape (K, R)

    Used in notebooks 06 and 08 (and by :func:`fit` and :func:`compare`).
    """
    dt = _dtype(dtype)
    V = _matrix(V, "V", dt, what="spectrogram (K, N)")
    R = _positive_int(R, "R")
    M = _mask(M_H, (R, V.shape[1]), dt)
    rng = _rng(seed)
    W_D = (1.0 - rng.random((V.shape[0], R))).astype(dt)
    W_E = (1.0 - rng.random((R, V.shape[0]))).astype(dt)
    return _balance(V, W_E, W_D, M)


def init_from_nmf(V, W, M_H=None, dtype=None):
    """Initialisation from an NMF result: ``W_D0 = W``, ``W_E0 = c·max(W⁺, 0)``.

    ``W⁺`` is the Moore–Penrose pseudo-inverse of the templates (``V ≈ W H``
    implies ``W⁺ V ≈ H``); negative entries are clipped to 0 and the encoder is
    rescaled by the least-squares factor ``c`` (see :func:`init_random`),
    because clipping changes the size of the code.

    Parameters
    ----------
    V : ndarray, shape (K, N)
    W : ndarray (K, R) or an NMF result (its ``.W`` is used)
    M_H : ndarray (R, N), optional

    Returns
    -------
    W_E0 : ndarray, shape (R, K)
    W_D0 : ndarray, shape (K, R)

    Used in notebooks 06 and 07.
    """
    dt = _dtype(dtype)
    V = _matrix(V, "V", dt, what="spectrogram (K, N)")
    W = getattr(W, "W", W)
    W_D = _matrix(W, "W", dt, what="template matrix (K, R)")
    if W_D.shape[0] != V.shape[0]:
        raise ValueError(f"W must have K = {V.shape[0]} rows to match V {V.shape}, "
                         f"got shape {W_D.shape}")
    M = _mask(M_H, (W_D.shape[1], V.shape[1]), dt)
    W_E = _clipped_pinv(W_D)
    return _balance(V, W_E, W_D, M, scale_D=False)


def init_score_informed(V, notes, by="Instrument", sr=None, hop_length=None, **constraint_kwargs):
    """Score-informed initialisation from :func:`nmfedu.constraints.build_constraints`.

    The decoder starts at the harmonic (and onset) templates ``W0`` — their
    zeros are template constraints that both rules keep — the dropout mask is
    the activation constraint ``M_H = [H0 > 0]``, and the encoder starts at the
    clipped, rescaled pseudo-inverse of ``W0`` (:func:`init_from_nmf`).

    Parameters
    ----------
    V : ndarray, shape (K, N)
        Magnitude spectrogram of the recording the (synchronised) notes describe.
    notes : DataFrame
        Note table (see :mod:`nmfedu.score`).
    by : str or None
        Group column passed to ``build_constraints``.
    sr, hop_length : optional
        STFT parameters (defaults of :mod:`nmfedu.spectrogram`).
    **constraint_kwargs
        Further arguments of ``build_constraints`` (``n_harmonics``, ``tolerance``, …).

    Returns
    -------
    W_E0 : ndarray (R, K)
    W_D0 : ndarray (K, R)
    M_H : ndarray (R, N) of 0.0/1.0
    labels : DataFrame
        One row per code entry / decoder column (``pitch``, ``kind``, ``group``).

    Used in notebook 07.
    """
    from . import constraints

    V = _matrix(V, "V", np.float64, what="spectrogram (K, N)")
    K, N = V.shape
    kw = dict(constraint_kwargs)
    if sr is not None:
        kw["sr"] = sr
    if hop_length is not None:
        kw["hop_length"] = hop_length
    W0, H0, labels = constraints.build_constraints(notes, K, N, by=by, **kw)
    M = (np.asarray(H0) > 0).astype(np.float64)
    W_E0, W_D0 = init_from_nmf(V, W0, M_H=M)
    return W_E0, W_D0, M, labels


# ----------------------------------------------------------------------------- training

@dataclass
class NAEResult:
    """A trained nonnegative autoencoder (returned by :func:`fit`).

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
    loss0 : float
        Loss of the initialisation.
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
    loss0: float
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
        """Loss after 0, 1, …, n_epochs epochs (``loss0`` prepended)."""
        return np.concatenate([[self.loss0], self.loss])

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

    Used in notebooks 06 and 08.
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


def fit(V, R=None, rule="additive", n_epochs=200, lr="lipschitz", W_D0=None, W_E0=None,
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
    W_D0 : ndarray (K, R), optional
        Initial decoder. Its zeros are template constraints: they stay zero
        under both rules. Default: random (see :func:`init_random`).
    W_E0 : ndarray (R, K), optional
        Initial encoder. Default: if ``W_D0`` is given, its clipped, rescaled
        pseudo-inverse (:func:`init_from_nmf`); otherwise random.
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

    Used in notebooks 06 (additive rule), 07 (both rules, structured dropout)
    and 08 (via :func:`compare`).

    Examples
    --------
    >>> import numpy as np
    >>> V = np.random.default_rng(0).random((20, 30))
    >>> res = fit(V, R=3, rule="multiplicative", n_epochs=50, seed=0)
    >>> res.W_E.shape, res.W_D.shape, res.H.shape, res.loss.shape
    ((3, 20), (20, 3), (3, 30), (50,))
    >>> bool(res.loss[-1] < res.loss0)
    True
    """
    rule = _rule(rule)
    dt = _dtype(dtype)
    lr = _lr(lr)
    n_epochs = _positive_int(n_epochs, "n_epochs", allow_zero=True)
    callback = _callback(callback)
    V = _matrix(V, "V", dt, what="spectrogram (K, N)")
    K, N = V.shape
    if W_D0 is not None:
        W_D = _matrix(W_D0, "W_D0", dt, what="decoder (K, R)")
        if W_D.shape[0] != K:
            raise ValueError(f"W_D0 must have shape (K, R) with K = {K} to match V {V.shape}, "
                             f"got {W_D.shape}")
        R_D = W_D.shape[1]
    else:
        W_D, R_D = None, None
    if W_E0 is not None:
        W_E = _matrix(W_E0, "W_E0", dt, what="encoder (R, K)")
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
    R = _positive_int(R, "R")
    for name, r in (("W_D0", R_D), ("W_E0", R_E)):
        if r is not None and r != R:
            raise ValueError(f"{name} has R = {r} columns/rows but R = {R}")
    M = _mask(M_H, (R, N), dt)
    rng = _rng(seed)
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
                     loss0=float(loss0), times=np.asarray(times), n_epochs=len(losses),
                     rule=rule, lr=lr_out if rule == "additive" else None,
                     W_E0=W_E0_used, W_D0=W_D0_used, params=params)


# ----------------------------------------------------------------------------- comparison

@dataclass
class Comparison:
    """Loss curves of :func:`compare` (the data of the seeds' log–log figure).

    Attributes
    ----------
    epochs : ndarray (n_epochs + 1,)
        0, 1, …, n_epochs.
    curves : dict name -> ndarray (n_epochs + 1,)
        ``‖V − V̂‖²`` after each epoch (index 0: the common initialisation) for
        ``"NAE (additive)"``, ``"NAE (multiplicative)"``, ``"NMF (multiplicative)"``.
        A curve that stopped early (non-finite loss) is padded with NaN.
    times : dict name -> float
        Wall-clock seconds of each training run.
    results : dict name -> NAEResult or NMF result
    params : dict
    """

    epochs: np.ndarray
    curves: dict
    times: dict
    results: dict
    params: dict = field(default_factory=dict)

    def loss_at(self, epoch):
        """dict name -> loss after ``epoch`` epochs."""
        return {name: float(c[epoch]) for name, c in self.curves.items()}

    def crossing(self, name="NAE (multiplicative)", reference="NAE (additive)", at=None):
        """First epoch at which curve ``name`` reaches ``reference``'s loss after
        ``at`` epochs (default: its last epoch); None if never."""
        ref = self.curves[reference]
        level = ref[-1] if at is None else ref[at]
        return crossing_epoch(self.curves[name], level)


def crossing_epoch(curve, level):
    """First index ``e`` with ``curve[e] <= level`` (None if there is none).

    Used in notebook 08.

    Examples
    --------
    >>> crossing_epoch([5.0, 3.0, 2.0, 1.0], 2.5)
    2
    """
    c = np.asarray(curve, dtype=float)
    idx = np.flatnonzero(c <= float(level))
    return int(idx[0]) if idx.size else None


def compare(V, R, n_epochs=1000, lr="lipschitz", M_H=None, W_D0=None, W_E0=None, seed=0,
            *, dtype=None):
    """Loss per epoch of NAE (additive), NAE (multiplicative) and NMF (multiplicative).

    All three start from the same model output: the NAEs from ``(W_E0, W_D0)``
    (random and rescaled, see :func:`init_random`, unless given), NMF from
    ``W0 = W_D0`` and ``H0 = max(W_E0 V, 0) ⊙ M_H`` — the NAE's initial code —
    so every curve starts at the same loss. NMF runs :func:`nmfedu.nmf` with the
    Frobenius loss and no early stop (``tol=0``); zeros of ``H0`` (masked
    entries) stay zero under its multiplicative updates, like the NAE's mask.

    One NMF iteration (update of ``H`` and ``W``) counts as one epoch. The loss
    is ``‖V − V̂‖²`` for all three (no ½), so the curves are comparable; plot
    them on log–log axes against epochs 10⁰ … 10³ as in the seeds' figure.

    Parameters
    ----------
    V : ndarray (K, N)
    R : int
    n_epochs : int
    lr : float or "lipschitz"
        Learning rate of the additive NAE (see :func:`fit`).
    M_H, W_D0, W_E0 : optional
        As in :func:`fit`.
    seed : int or None
        Seed of the common random initialisation.
    dtype : optional
        Working precision of the NAEs.

    Returns
    -------
    Comparison

    Cost: two NAE runs at five and one NMF run at two V-sized products per
    epoch; on a subsampled spectrogram (e.g. K = 513 bins, N = 600 frames,
    R = 32) 1000 epochs of all three take a few seconds (see
    ``benchmarks/nae_comparison.py``).

    Used in notebook 08.
    """
    dt = _dtype(dtype)
    V = _matrix(V, "V", dt, what="spectrogram (K, N)")
    n_epochs = _positive_int(n_epochs, "n_epochs")
    lr = _lr(lr)
    from .factorization import nmf
    if W_D0 is None or W_E0 is None:
        R = _positive_int(R, "R")
    if W_D0 is None and W_E0 is None:
        M = _mask(M_H, (R, V.shape[1]), dt)
        W_E0, W_D0 = init_random(V, R, M_H=M, seed=seed, dtype=dt)
    elif W_E0 is None or W_D0 is None:
        probe = fit(V, R, n_epochs=0, W_D0=W_D0, W_E0=W_E0, M_H=M_H, seed=seed, dtype=dt)
        W_E0, W_D0 = probe.W_E0, probe.W_D0
    results, curves, times = {}, {}, {}
    for name, rule in zip(CURVES[:2], RULES):
        res = fit(V, R, rule=rule, n_epochs=n_epochs, lr=lr, W_D0=W_D0, W_E0=W_E0, M_H=M_H,
                  dtype=dt)
        results[name] = res
        times[name] = res.runtime
        curves[name] = _pad(res.curve, n_epochs + 1)
    res = results[CURVES[1]]
    H0 = _masked(np.maximum(np.asarray(W_E0, dtype=dt) @ V, 0), res.M_H)
    W0 = np.array(W_D0, dtype=dt)
    loss0 = _sumsq(V - W0 @ H0)
    t0 = time.perf_counter()
    nres = nmf(V, W0.shape[1], W0=W0, H0=H0, n_iter=n_epochs, tol=0, seed=seed, dtype=dt)
    times[CURVES[2]] = float(getattr(nres, "time", 0.0)) or time.perf_counter() - t0
    nl = np.asarray(nres.loss, dtype=float).ravel()
    if nl.size == n_epochs:
        init = float(getattr(nres, "initial_loss", loss0))
        nl = np.concatenate([[init if np.isfinite(init) else loss0], nl])
    results[CURVES[2]] = nres
    curves[CURVES[2]] = _pad(nl, n_epochs + 1)
    params = dict(K=V.shape[0], N=V.shape[1], R=int(np.shape(W0)[1]), n_epochs=n_epochs,
                  lr=lr, seed=seed, masked=M_H is not None, dtype=str(dt))
    return Comparison(epochs=np.arange(n_epochs + 1), curves=curves, times=times,
                      results=results, params=params)


def pad_curve(curve, n):
    """A loss curve cut or padded with NaN to length ``n`` (curves that stopped
    early line up with full ones). Used in notebook 08."""
    return _pad(curve, n)


def _pad(c, n):
    c = np.asarray(c, dtype=float)[:n]
    if c.size < n:
        c = np.concatenate([c, np.full(n - c.size, np.nan)])
    return c
