"""The nonnegative autoencoder as a model: forward pass, loss and hand-derived gradients.

``Z = W_E V``, ``H' = max(Z, 0) ⊙ M_H``, ``V̂ = max(W_D H', 0)``, ``L = ‖V − V̂‖²`` (see
:mod:`nmfedu.nae` for the whole story). Training is in :mod:`nmfedu.nae.training`,
initialisations in :mod:`nmfedu.nae.initialization`.

Notebooks: 06 (encode, decode, gradients), 07 (the mask ``M_H``), 08 (loss).
"""
from __future__ import annotations

import numpy as np

from .._validation import check_dtype, check_matrix
from ..factorization import _dot

__all__ = ["encode", "decode", "reconstruct", "loss", "gradients"]


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

    Notebooks: 06, 07 (through :meth:`NAEResult.encode` and the exercises).

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
    V = check_matrix(V, "V", dtype=W_E.dtype, copy=True, what="K x N")
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

    Notebooks: 06, 07 (through :meth:`NAEResult.reconstruct` and the exercises).
    """
    W_D = getattr(W_D, "W_D", W_D)
    W_D = np.asarray(W_D, dtype=float)
    if W_D.ndim != 2:
        raise ValueError(f"W_D must be a 2-D decoder matrix (K, R), got shape {W_D.shape}")
    H = check_matrix(H, "H", dtype=W_D.dtype, nonnegative=False, copy=True, what="R x N")
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

    Notebooks: 06, 08 (``result.reconstruct``).
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


def _sumsq(X):
    """‖X‖² accumulated in float64 (the one implementation is nmfedu.factorization's)."""
    return _dot(X, X)


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

    Notebooks: 06, 07.
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

    Notebooks: 06 (gradient check).

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
    dt = check_dtype(dtype)
    V = check_matrix(V, "V", dtype=dt, copy=True, what="K x N")
    K, N = V.shape
    W_E = check_matrix(W_E, "W_E", dtype=dt, nonnegative=nonneg, copy=True, what="R x K")
    R = W_E.shape[0]
    if W_E.shape[1] != K:
        raise ValueError(f"W_E must have shape (R, K) = (R, {K}) to match V {V.shape}, "
                         f"got {W_E.shape}")
    W_D = check_matrix(W_D, "W_D", dtype=dt, shape=(K, R), nonnegative=nonneg, copy=True, what="K x R")
    M = _mask(M_H, (R, N), dt)
    return V, W_E, W_D, M
