"""Initial weights of a nonnegative autoencoder: random, from an NMF, or from a score.

Every initialiser returns the layers in the model's order, encoder first: ``(W_E0, W_D0)``
(as :func:`nmfedu.nae.fit` takes them).

Notebooks: 06 (random, from NMF), 07 (score-informed), 08 (random).
"""
from __future__ import annotations

import numpy as np

from .._validation import check_dtype, check_matrix, check_positive_int, check_rng
from .model import _masked, _mask, _sumsq

__all__ = ["init_random", "init_from_nmf", "init_score_informed"]


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
    from ``numpy.random.defaultcheck_rng(seed)``), then both layers are multiplied
    by ``√c`` with ``c = ⟨V, V̂⟩ / ‖V̂‖²`` the least-squares optimal scale of
    the initial output, so the first ``V̂`` has the size of ``V``.

    Returns
    -------
    W_E0 : ndarray, shape (R, K)
    W_D0 : ndarray, shape (K, R)

    Notebooks: 06, 08 (also :func:`nmfedu.nae.fit` and :func:`nmfedu.demos.nb08.compare`).
    """
    dt = check_dtype(dtype)
    V = check_matrix(V, "V", dtype=dt, copy=True, what="K x N")
    R = check_positive_int(R, "R")
    M = _mask(M_H, (R, V.shape[1]), dt)
    rng = check_rng(seed)
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

    Notebooks: 06.
    """
    dt = check_dtype(dtype)
    V = check_matrix(V, "V", dtype=dt, copy=True, what="K x N")
    W = getattr(W, "W", W)
    W_D = check_matrix(W, "W", dtype=dt, copy=True, what="K x R")
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

    Notebooks: 07.
    """
    from .. import constraints

    V = check_matrix(V, "V", dtype=np.float64, copy=True, what="K x N")
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
