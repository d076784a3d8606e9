r"""Nonnegative matrix factor deconvolution (NMFD): templates that last T frames.

Plain NMF explains each frame of :math:`V` (K × N) by one column per template. A drum
sound, however, is a short *time–frequency pattern*: a kick is a low thump that decays, a
hi-hat a burst of high noise. NMFD (Smaragdis 2004) gives every component r a template
of T frames, :math:`W_\tau` (K × R) for :math:`\tau = 0, \dots, T-1`, and explains

.. math::  V \approx \Lambda = \sum_{\tau=0}^{T-1} W_\tau \cdot \overset{\tau\rightarrow}{H},

where :math:`\overset{\tau\rightarrow}{H}` shifts the columns of :math:`H` (R × N) by
:math:`\tau` frames to the right, filling zeros (:func:`shift`). For T = 1 this is NMF.

Multiplicative updates (written out once; :math:`\oslash` and the fraction are
elementwise, :math:`J` a K × N matrix of ones, :math:`\overset{\leftarrow\tau}{\cdot}` the
shift to the left):

* KL divergence :math:`D(V \mid \Lambda)`:
  :math:`W_\tau \leftarrow W_\tau \odot \frac{(V \oslash \Lambda)\,(\overset{\tau\rightarrow}{H})^\top}{J\,(\overset{\tau\rightarrow}{H})^\top}`,
  :math:`H \leftarrow H \odot \frac{\sum_\tau W_\tau^\top \overset{\leftarrow\tau}{(V \oslash \Lambda)}}{\sum_\tau W_\tau^\top \overset{\leftarrow\tau}{J}}`.
* Frobenius :math:`\|V - \Lambda\|^2`:
  :math:`W_\tau \leftarrow W_\tau \odot \frac{V (\overset{\tau\rightarrow}{H})^\top}{\Lambda (\overset{\tau\rightarrow}{H})^\top}`,
  :math:`H \leftarrow H \odot \frac{\sum_\tau W_\tau^\top \overset{\leftarrow\tau}{V}}{\sum_\tau W_\tau^\top \overset{\leftarrow\tau}{\Lambda}}`.

The H update sums numerator and denominator over τ before dividing (the ratio of sums
is the majorise–minimise update, so the loss never increases); libnmfd and Smaragdis'
paper average the T per-τ ratios instead, a heuristic without that guarantee.

**Order of the products.** A loop over τ costs T products of K × R × N *and* T full
K × N temporaries and additions. Here the T shifted copies of H are stacked into one
(T·R) × N matrix and the templates into one K × (T·R) matrix, so Λ, both numerators and
both denominators are *one* BLAS product each; the shifts are applied to the small
(T·R) × N side only. ``order="loop"`` keeps the plain loop for comparison
(``benchmarks/bench_applications.py`` times both).

**Score-informed drums** (Dittmar & Müller 2016): :func:`drum_activations` sets H to zero
everywhere except a few frames around each hit of each drum, so the multiplicative
updates keep it zero there; :func:`drum_templates` starts each drum's template from the
mixture frames after its hits.

References: P. Smaragdis, "Non-negative matrix factor deconvolution", ICA 2004,
doi:10.1007/978-3-540-30110-3_63; C. Dittmar and M. Müller, "Reverse engineering the
Amen break — score-informed separation and restoration applied to drum recordings",
IEEE/ACM TASLP 24(9), 2016, doi:10.1109/TASLP.2016.2567645. libnmfd (MIT) was read for
the algorithm, not copied.

Notebooks: 09_applications.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> W = rng.random((3, 20, 2)); H = rng.random((2, 40))
>>> V = model(W, H)
>>> res = nmfd(V, R=2, T=3, n_iter=50, seed=0)
>>> res.W.shape, res.H.shape, bool(res.loss[-1] < res.loss[0])
((3, 20, 2), (2, 40), True)
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from ._validation import check_matrix

__all__ = ["shift", "model", "loss", "nmfd", "NMFDResult", "drum_activations",
           "drum_templates", "GM_DRUMS", "drum_class"]

_EPS = 1e-12


def _check_T(T):
    if isinstance(T, bool) or not isinstance(T, (int, np.integer)) or T < 1:
        raise ValueError(f"T must be an integer >= 1 (template length in frames), got {T!r}")
    return int(T)


def shift(H, tau: int):
    r"""Shift the columns of ``H`` by ``tau`` frames, filling zeros.

    ``tau > 0`` moves to the right (:math:`\overset{\tau\rightarrow}{H}`: column n of the
    result is column n − τ of H), ``tau < 0`` to the left.

    Examples
    --------
    >>> shift(np.array([[1., 2., 3.]]), 1).tolist(), shift(np.array([[1., 2., 3.]]), -1).tolist()
    ([[0.0, 1.0, 2.0]], [[2.0, 3.0, 0.0]])
    """
    H = np.asarray(H)
    tau = int(tau)
    out = np.zeros_like(H)
    N = H.shape[-1]
    if tau == 0:
        out[...] = H
    elif 0 < tau < N:
        out[..., tau:] = H[..., :N - tau]
    elif -N < tau < 0:
        out[..., :N + tau] = H[..., -tau:]
    return out


def _stack(H, T):
    """(T, R, N): block τ is shift(H, τ)."""
    R, N = H.shape
    S = np.zeros((T, R, N), dtype=H.dtype)
    for tau in range(T):
        if tau < N:
            S[tau, :, tau:] = H[:, :N - tau]
    return S


def _unshift_sum(P):
    """Σ_τ shift(P[τ], −τ) for P of shape (T, R, N)."""
    T, R, N = P.shape
    out = P[0].copy()
    for tau in range(1, min(T, N)):
        out[:, :N - tau] += P[tau, :, tau:]
    return out


def _flat(W):
    """(T, K, R) → K × (T·R), column τ·R + r."""
    T, K, R = W.shape
    return np.ascontiguousarray(W.transpose(1, 0, 2).reshape(K, T * R))


def _unflat(Wf, T):
    K, TR = Wf.shape
    return Wf.reshape(K, T, TR // T).transpose(1, 0, 2).copy()


def _check_W(W):
    W = np.asarray(W, dtype=float)
    if W.ndim != 3:
        raise ValueError(f"W must have shape (T, K, R) (one K × R matrix W_tau per shift), "
                         f"got shape {W.shape}")
    if W.shape[0] < 1:
        raise ValueError(f"T must be an integer >= 1 (template length in frames), got {W.shape[0]}")
    if not np.all(np.isfinite(W)) or np.any(W < 0):
        raise ValueError("W must be finite and nonnegative")
    return W


def model(W, H, order: str = "stacked"):
    r"""The NMFD model :math:`\Lambda = \sum_\tau W_\tau \overset{\tau\rightarrow}{H}`.

    Parameters
    ----------
    W : ndarray, shape (T, K, R)
        ``W[tau]`` is :math:`W_\tau`.
    H : ndarray, shape (R, N)
    order : {"stacked", "loop"}
        One product of the stacked matrices, or the plain loop over τ (same result).

    Returns
    -------
    ndarray, shape (K, N)

    Examples
    --------
    >>> W = np.zeros((2, 1, 1)); W[:, 0, 0] = [1.0, 0.5]
    >>> model(W, np.array([[1.0, 0.0, 2.0]])).tolist()
    [[1.0, 0.5, 2.0]]
    """
    W = _check_W(W)
    H = np.asarray(H, dtype=float)
    if H.ndim != 2 or H.shape[0] != W.shape[2]:
        raise ValueError(f"H must have shape (R, N) with R = {W.shape[2]} to match W {W.shape}, "
                         f"got {H.shape}")
    T = W.shape[0]
    if order == "loop":
        L = np.zeros((W.shape[1], H.shape[1]))
        for tau in range(T):
            L += W[tau] @ shift(H, tau)
        return L
    if order != "stacked":
        raise ValueError(f"order must be 'stacked' or 'loop', got {order!r}")
    return _flat(W) @ _stack(H, T).reshape(T * H.shape[0], -1)


def loss(V, L, beta: str = "kl"):
    """KL divergence D(V | Λ) or squared Frobenius distance ‖V − Λ‖² (no factor ½).

    Examples
    --------
    >>> loss(np.array([[1.0]]), np.array([[1.0]])), loss(np.array([[2.0]]), np.array([[1.0]]), "frobenius")
    (0.0, 1.0)
    """
    V = np.asarray(V, dtype=float)
    L = np.asarray(L, dtype=float)
    if beta == "frobenius":
        return float(np.sum((V - L) ** 2))
    if beta != "kl":
        raise ValueError(f"beta must be 'kl' or 'frobenius', got {beta!r}")
    Ls = np.maximum(L, _EPS)
    pos = V > 0
    return float(np.sum(V[pos] * np.log(V[pos] / Ls[pos])) - V.sum() + L.sum())


@dataclass
class NMFDResult:
    """Result of :func:`nmfd`: templates ``W`` (T, K, R), activations ``H`` (R, N),
    the loss before the first and after every iteration, and the time per iteration."""

    W: np.ndarray
    H: np.ndarray
    loss: list = field(default_factory=list)
    n_iter: int = 0
    beta: str = "kl"
    seconds_per_iter: float = float("nan")

    @property
    def T(self) -> int:
        return self.W.shape[0]

    def model(self):
        """Λ of the fitted factors."""
        return model(self.W, self.H)


def _step_stacked(V, W, H, beta, fix_W, fix_H):
    T, K, R = W.shape
    N = H.shape[1]
    Wf = _flat(W)
    if not fix_H:
        S = _stack(H, T).reshape(T * R, N)
        L = np.maximum(Wf @ S, _EPS)
        if beta == "kl":
            num = _unshift_sum((Wf.T @ (V / L)).reshape(T, R, N))
            colsum = Wf.sum(axis=0).reshape(T, R)                   # Σ_k W_τ[k, r]
            den = np.zeros((R, N))
            for tau in range(min(T, N)):
                den[:, :N - tau] += colsum[tau][:, None]
        else:
            num = _unshift_sum((Wf.T @ V).reshape(T, R, N))
            den = _unshift_sum((Wf.T @ L).reshape(T, R, N))
        H = H * num / np.maximum(den, _EPS)
    if not fix_W:
        S = _stack(H, T).reshape(T * R, N)
        L = np.maximum(Wf @ S, _EPS)
        if beta == "kl":
            num = (V / L) @ S.T
            den = np.broadcast_to(S.sum(axis=1), num.shape)
        else:
            num = V @ S.T
            den = L @ S.T
        Wf = Wf * num / np.maximum(den, _EPS)
        W = _unflat(Wf, T)
    return W, H


def _step_loop(V, W, H, beta, fix_W, fix_H):
    T, K, R = W.shape
    N = H.shape[1]
    ones = np.ones_like(V)
    if not fix_H:
        L = np.maximum(model(W, H, order="loop"), _EPS)
        num = np.zeros_like(H)
        den = np.zeros_like(H)
        for tau in range(T):
            if beta == "kl":
                num += W[tau].T @ shift(V / L, -tau)
                den += W[tau].T @ shift(ones, -tau)
            else:
                num += W[tau].T @ shift(V, -tau)
                den += W[tau].T @ shift(L, -tau)
        H = H * num / np.maximum(den, _EPS)
    if not fix_W:
        L = np.maximum(model(W, H, order="loop"), _EPS)
        W = W.copy()
        for tau in range(T):
            Hs = shift(H, tau)
            if beta == "kl":
                W[tau] *= ((V / L) @ Hs.T) / np.maximum(ones @ Hs.T, _EPS)
            else:
                W[tau] *= (V @ Hs.T) / np.maximum(L @ Hs.T, _EPS)
    return W, H


def nmfd(V, R: int | None = None, T: int = 8, W0=None, H0=None, n_iter: int = 50,
         beta: str = "kl", fix_W: bool = False, fix_H: bool = False, seed=None,
         order: str = "stacked", callback=None) -> NMFDResult:
    r"""Fit :math:`V \approx \sum_\tau W_\tau \overset{\tau\rightarrow}{H}` by multiplicative updates.

    Parameters
    ----------
    V : ndarray, shape (K, N)
        Nonnegative matrix (a magnitude spectrogram).
    R : int, optional
        Number of components; taken from ``W0`` or ``H0`` when given.
    T : int
        Template length in frames (≥ 1; T = 1 is NMF). Ignored if ``W0`` is given.
    W0 : ndarray (T, K, R), optional
        Initial templates (random in [0, 1) otherwise).
    H0 : ndarray (R, N), optional
        Initial activations; zeros stay zero (the score-informed constraint).
    n_iter : int
        Iterations (one H and one W update each).
    beta : {"kl", "frobenius"}
    fix_W, fix_H : bool
        Keep templates / activations fixed.
    seed : int, optional
        Seed of the random initialisation.
    order : {"stacked", "loop"}
        How the shifted products are computed (see the module docstring); same result.
    callback : callable(iteration, W, H, loss), optional
        Returning True stops early.

    Returns
    -------
    NMFDResult

    Examples
    --------
    >>> V = np.abs(np.random.default_rng(1).random((10, 30)))
    >>> r = nmfd(V, R=2, T=4, n_iter=20, seed=0, beta="frobenius")
    >>> all(b <= a * (1 + 1e-9) for a, b in zip(r.loss, r.loss[1:]))
    True
    """
    V = check_matrix(V, "V")
    K, N = V.shape
    if beta not in ("kl", "frobenius"):
        raise ValueError(f"beta must be 'kl' or 'frobenius', got {beta!r}")
    if order not in ("stacked", "loop"):
        raise ValueError(f"order must be 'stacked' or 'loop', got {order!r}")
    if isinstance(n_iter, bool) or not isinstance(n_iter, (int, np.integer)) or n_iter < 0:
        raise ValueError(f"n_iter must be an integer >= 0, got {n_iter!r}")
    rng = np.random.default_rng(seed)
    if W0 is not None:
        W = _check_W(W0).copy()
        if W.shape[1] != K:
            raise ValueError(f"W0 must have shape (T, {K}, R) to match V {V.shape}, got {W.shape}")
        T = W.shape[0]
        if R is not None and R != W.shape[2]:
            raise ValueError(f"R = {R} does not match W0 with {W.shape[2]} components")
        R = W.shape[2]
    T = _check_T(T)
    if R is None:
        if H0 is None:
            raise ValueError("R must be given when neither W0 nor H0 is")
        R = np.shape(H0)[0]
    if isinstance(R, bool) or not isinstance(R, (int, np.integer)) or R < 1:
        raise ValueError(f"R must be an integer >= 1, got {R!r}")
    if W0 is None:
        W = rng.random((T, K, R)) + 1e-3
    if H0 is not None:
        H = check_matrix(H0, "H0").copy()
        if H.shape != (R, N):
            raise ValueError(f"H0 must have shape ({R}, {N}), got {H.shape}")
    else:
        H = rng.random((R, N)) + 1e-3
    step = _step_stacked if order == "stacked" else _step_loop
    losses = [loss(V, model(W, H), beta)]
    t0 = time.perf_counter()
    it = 0
    for it in range(1, n_iter + 1):
        W, H = step(V, W, H, beta, fix_W, fix_H)
        losses.append(loss(V, model(W, H), beta))
        if callback is not None and callback(it, W, H, losses[-1]):
            break
    spi = (time.perf_counter() - t0) / it if it else float("nan")
    return NMFDResult(W=W, H=H, loss=losses, n_iter=it, beta=beta, seconds_per_iter=spi)


# ----------------------------------------------------------------------------- drums
#: General MIDI percussion notes (channel 10) → drum class.
GM_DRUMS = {
    35: "kick", 36: "kick",
    37: "snare", 38: "snare", 39: "snare", 40: "snare",
    42: "hihat", 44: "hihat", 46: "hihat",
    41: "tom", 43: "tom", 45: "tom", 47: "tom", 48: "tom", 50: "tom",
    49: "cymbal", 51: "cymbal", 52: "cymbal", 53: "cymbal", 55: "cymbal", 57: "cymbal",
    59: "cymbal",
}


def drum_class(pitch) -> str:
    """Drum class of a General MIDI percussion note (36 → ``"kick"``, 38 → ``"snare"``,
    42/44/46 → ``"hihat"``, toms, cymbals).

    Examples
    --------
    >>> drum_class(36), drum_class(42)
    ('kick', 'hihat')
    """
    p = int(pitch)
    if p not in GM_DRUMS:
        raise ValueError(f"Pitch must be a General MIDI drum note ({sorted(GM_DRUMS)}), got {pitch!r}")
    return GM_DRUMS[p]


def _hit_frames(times, N, sr, hop):
    return np.clip(np.round(np.asarray(times, float) * sr / hop).astype(int), 0, N - 1)


def drum_activations(hits, N: int, labels, *, sr: float = 22050, hop_length: int = 512,
                     before: int = 1, after: int = 1, by: str = "Instrument"):
    """Score-informed initial activations: nonzero only near each instrument's hits.

    Row r of the result belongs to ``labels[r]``; for every hit of that instrument at
    time t (frame n = round(t · sr / hop)) the frames n − ``before`` … n + ``after`` get
    the hit's velocity / 127 (at least 0.05); all other entries are exactly 0, so the
    multiplicative updates of :func:`nmfd` keep them 0.

    Parameters
    ----------
    hits : pandas.DataFrame
        Note table (``Start``, ``Velocity``, the column ``by``).
    N : int
        Number of frames.
    labels : list of str
        One instrument label per component (row of H).
    sr, hop_length : STFT sample rate and hop.
    before, after : int
        Frames of tolerance before / after the hit frame.
    by : str
        Column with the instrument labels.

    Returns
    -------
    ndarray, shape (len(labels), N)

    Examples
    --------
    >>> import pandas as pd
    >>> hits = pd.DataFrame({"Start": [0.0, 0.5], "Velocity": [127, 127],
    ...                      "Instrument": ["kick", "snare"]})
    >>> H0 = drum_activations(hits, 30, ["kick", "snare"], before=0, after=0)
    >>> np.flatnonzero(H0[0]).tolist(), np.flatnonzero(H0[1]).tolist()
    ([0], [22])
    """
    if isinstance(before, bool) or isinstance(after, bool) or int(before) != before or \
            int(after) != after or before < 0 or after < 0:
        raise ValueError(f"before and after must be integers >= 0 (frames), got {before!r}, {after!r}")
    H0 = np.zeros((len(labels), int(N)))
    groups = hits[by].astype(str).to_numpy()
    vel = hits["Velocity"].to_numpy(float) if "Velocity" in hits else np.full(len(hits), 100.0)
    for r, lab in enumerate(labels):
        sel = groups == str(lab)
        frames = _hit_frames(hits["Start"].to_numpy(float)[sel], N, sr, hop_length)
        for n, v in zip(frames, vel[sel]):
            lo, hi = max(0, n - int(before)), min(N, n + int(after) + 1)
            H0[r, lo:hi] = np.maximum(H0[r, lo:hi], max(v / 127.0, 0.05))
    return H0


def drum_templates(V, hits, labels, T: int, *, sr: float = 22050, hop_length: int = 512,
                   by: str = "Instrument", isolated: bool = True, floor: float = 1e-3):
    """Initial NMFD templates per drum from the mixture frames that follow its hits.

    For instrument r, ``W[τ][:, r]`` is the mean of ``V[:, n + τ]`` over the hit frames n of
    r; with ``isolated`` (default) only hits at which no other instrument starts within
    two frames are used when there are any, so that a kick template is not the kick *plus*
    the hi-hat played with it. Each template is scaled to a maximum of 1, plus ``floor``
    (so no entry is stuck at zero).

    Returns
    -------
    ndarray, shape (T, K, len(labels))

    Examples
    --------
    >>> import pandas as pd
    >>> V = np.zeros((2, 10)); V[0, 3] = 2.0; V[0, 4] = 1.0
    >>> hits = pd.DataFrame({"Start": [3 * 512 / 22050], "Instrument": ["kick"]})
    >>> W = drum_templates(V, hits, ["kick"], T=2, floor=0.0)
    >>> W[:, 0, 0].tolist()
    [1.0, 0.5]
    """
    T = _check_T(T)
    V = np.asarray(V, dtype=float)
    K, N = V.shape
    W = np.zeros((T, K, len(labels)))
    groups = hits[by].astype(str).to_numpy()
    frames_all = _hit_frames(hits["Start"].to_numpy(float), N, sr, hop_length)
    for r, lab in enumerate(labels):
        sel = groups == str(lab)
        frames = frames_all[sel]
        if isolated:
            others = frames_all[~sel]
            iso = np.array([others.size == 0 or np.min(np.abs(others - n)) > 2 for n in frames],
                           dtype=bool)
            if iso.any():
                frames = frames[iso]
        acc = np.zeros((T, K))
        for n in frames:
            seg = V[:, n:n + T]
            acc[:seg.shape[1]] += seg.T
        acc /= max(len(frames), 1)
        peak = acc.max()
        W[:, :, r] = (acc / peak if peak > 0 else 1.0) + floor
    return W
