r"""Audio mosaicing ("Let it Bee"): a target rebuilt from the frames of another sound.

Driedger, Prätzlich and Müller (ISMIR 2015) rebuilt the Beatles' "Let it Be" from a
recording of buzzing bees. NMF does it with **fixed** templates: the columns of the
source's magnitude spectrogram, :math:`W = |X_\mathrm{src}|` (K × M, one template per
source frame), and KL multiplicative updates of the activations :math:`H` (M × N) only, so
that :math:`WH \approx V` (the target's magnitude spectrogram). Between updates, three
restrictions shape H so that the mosaic *sounds like the source*:

* **repetition restriction** (``repetition = r`` frames): an entry of H that is not the
  maximum of its row within ±r frames is damped, so a source frame is not reused in
  consecutive target frames (no stuttering);
* **polyphony restriction** (``polyphony = p``): in each column only the p largest entries
  survive undamped, so each target frame is explained by few source frames;
* **continuity enhancement** (``continuity = c``): H is convolved with a c × c diagonal
  (identity) kernel, which rewards diagonal runs — source frames played in their original
  order, so the source's texture survives.

"Damped" means multiplied by :math:`1 - (\ell+1)/L` in iteration ℓ of L, so the
restrictions grow stronger as the iterations proceed (the paper's schedule). Every
restriction can be switched off (``None`` or 0). The mosaic is **resynthesised from the
source's complex frames**, :math:`Y = X_\mathrm{src} H` (so the source's phases come
along), or from :math:`|WH|` with Griffin–Lim (:func:`griffin_lim_mosaic`; 2 × n_iter
STFTs, several times slower and with a smeared, phasey sound).

References: J. Driedger, T. Prätzlich, M. Müller, "Let it Bee — towards NMF-inspired audio
mosaicing", ISMIR 2015, pp. 350–356 (https://www.audiolabs-erlangen.de/resources/MIR/2015-ISMIR-LetItBee).
libnmfd's ``nmf_diag`` (MIT) was read for the algorithm, not copied.

Notebooks: 09_applications.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> W = rng.random((30, 40)); V = W[:, 5:25] * 2.0
>>> res = mosaic(V, W, n_iter=20, repetition=None, polyphony=None, continuity=None)
>>> all(b <= a * (1 + 1e-9) for a, b in zip(res.kl, res.kl[1:]))
True
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from ._validation import check_matrix
from .spectrogram import HOP_LENGTH, N_FFT, istft, stft

__all__ = ["mosaic", "MosaicResult", "repetition_restriction", "polyphony_restriction",
           "continuity_enhancement", "diagonal_runs", "resynthesize_mosaic",
           "griffin_lim_mosaic", "load_source", "MOSAIC_DEFAULTS"]

#: Defaults of :func:`mosaic` (the paper's values scaled to nmfedu's 23 ms hop).
MOSAIC_DEFAULTS = dict(n_iter=20, repetition=3, polyphony=10, continuity=7)
_EPS = 1e-12


def _opt_int(v, name, minimum=1):
    if v is None or v is False or v == 0:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < minimum:
        raise ValueError(f"{name} must be None/0 (off) or an integer >= {minimum}, got {v!r}")
    return int(v)


def repetition_restriction(H, r: int, damping: float):
    """Damp every entry that is not the maximum of its row within ±r frames.

    Examples
    --------
    >>> repetition_restriction(np.array([[1.0, 3.0, 2.0, 0.5]]), 1, 0.0).tolist()
    [[0.0, 3.0, 0.0, 0.0]]
    """
    from scipy.ndimage import maximum_filter1d

    peak = maximum_filter1d(H, size=2 * int(r) + 1, axis=1, mode="constant", cval=0.0)
    return np.where(H >= peak, H, H * damping)


def polyphony_restriction(H, p: int, damping: float):
    """Damp all but the p largest entries of every column.

    Examples
    --------
    >>> polyphony_restriction(np.array([[1.0], [3.0], [2.0]]), 2, 0.0).ravel().tolist()
    [0.0, 3.0, 2.0]
    """
    M = H.shape[0]
    if p >= M:
        return H
    kth = np.partition(H, M - p, axis=0)[M - p]
    return np.where(H >= kth[None, :], H, H * damping)


def continuity_enhancement(H, c: int):
    """Convolve H with a c × c identity kernel (sums along diagonals, centred).

    Entry (m, n) becomes Σ_{j} H[m + j, n + j] for j in −⌊c/2⌋ … c − 1 − ⌊c/2⌋.

    Examples
    --------
    >>> continuity_enhancement(np.eye(3), 3).tolist()
    [[2.0, 0.0, 0.0], [0.0, 3.0, 0.0], [0.0, 0.0, 2.0]]
    """
    M, N = H.shape
    out = np.zeros_like(H)
    lo = -(c // 2)
    for j in range(lo, lo + c):
        ms, me = max(0, -j), min(M, M - j)
        ns, ne = max(0, -j), min(N, N - j)
        if me - ms <= 0 or ne - ns <= 0:
            continue
        out[ms:me, ns:ne] += H[ms + j:me + j, ns + j:ne + j]
    return out


def _kl(V, L):
    Ls = np.maximum(L, _EPS)
    pos = V > 0
    return float(np.sum(V[pos] * np.log(V[pos] / Ls[pos])) - V.sum() + L.sum())


@dataclass
class MosaicResult:
    """Activations ``H`` (M × N) and the KL divergence D(V | WH) before the first and after
    every iteration (``kl``); ``kl_restricted[i]`` is the divergence just before the KL update
    of iteration i + 1, after that iteration's restrictions. Each KL update lowers the
    divergence of the H it starts from (``kl[i + 1] <= kl_restricted[i]``); the
    restrictions themselves may raise it — they trade fit for the source's character, so
    ``kl`` falls monotonically only with every restriction switched off."""

    H: np.ndarray
    kl: list = field(default_factory=list)
    kl_restricted: list = field(default_factory=list)
    params: dict = field(default_factory=dict)
    seconds: float = float("nan")


def mosaic(V, W, n_iter: int = MOSAIC_DEFAULTS["n_iter"],
           repetition: int | None = MOSAIC_DEFAULTS["repetition"],
           polyphony: int | None = MOSAIC_DEFAULTS["polyphony"],
           continuity: int | None = MOSAIC_DEFAULTS["continuity"], H0=None, seed=0,
           callback=None) -> MosaicResult:
    r"""Let-It-Bee mosaicing: KL updates of H with W fixed, restrictions in between.

    Parameters
    ----------
    V : ndarray (K, N)
        Target magnitude spectrogram.
    W : ndarray (K, M)
        Source magnitude spectrogram (its frames are the templates; fixed).
    n_iter : int
        Iterations L.
    repetition, polyphony, continuity : int or None
        Neighbourhood ±r (frames), number of frames p per column, diagonal kernel length
        c (frames); None or 0 switches the restriction off.
    H0 : ndarray (M, N), optional
        Initial activations (random in [0, 1), seeded, otherwise).
    callback : callable(iteration, H, kl), optional

    Returns
    -------
    MosaicResult

    Notes
    -----
    Cost per iteration: two K × M × N products (WH and Wᵀ(V ⊘ WH)); the restrictions are
    O(M N) (repetition, polyphony) and O(c M N) (continuity).

    Raises
    ------
    ValueError
        If the source has fewer frames than the continuity kernel (or than 1), or a
        restriction is not None/0 or a positive integer.
    """
    V = check_matrix(V, "V")
    W = check_matrix(W, "W")
    if W.shape[0] != V.shape[0]:
        raise ValueError(f"W must have as many rows (frequency bins) as V ({V.shape[0]}), got "
                         f"{W.shape[0]}")
    if isinstance(n_iter, bool) or not isinstance(n_iter, (int, np.integer)) or n_iter < 0:
        raise ValueError(f"n_iter must be an integer >= 0, got {n_iter!r}")
    r = _opt_int(repetition, "repetition")
    p = _opt_int(polyphony, "polyphony")
    c = _opt_int(continuity, "continuity")
    M, N = W.shape[1], V.shape[1]
    need = c or 1
    if M < need:
        raise ValueError(f"source: the source has {M} frames, fewer than the continuity length "
                         f"T = {need} frames; use a longer source or a shorter continuity")
    if H0 is None:
        H = np.random.default_rng(seed).random((M, N)) + 1e-3
        H *= V.sum() / max(float((W @ H).sum()), _EPS)      # start at the target's level
    else:
        H = check_matrix(H0, "H0").copy()
        if H.shape != (M, N):
            raise ValueError(f"H0 must have shape ({M}, {N}), got {H.shape}")
    den = np.maximum(W.sum(axis=0), _EPS)[:, None]          # Wᵀ 1
    kl = [_kl(V, W @ H)]
    kl_restricted = []
    t0 = time.perf_counter()
    L = max(int(n_iter), 1)
    for it in range(int(n_iter)):
        damping = 1.0 - (it + 1) / L
        if r:
            H = repetition_restriction(H, r, damping)
        if p:
            H = polyphony_restriction(H, p, damping)
        if c:
            H = continuity_enhancement(H, c)
        WH = np.maximum(W @ H, _EPS)
        kl_restricted.append(_kl(V, WH))
        H = H * (W.T @ (V / WH)) / den
        kl.append(_kl(V, W @ H))
        if callback is not None and callback(it + 1, H, kl[-1]):
            break
    return MosaicResult(H=H, kl=kl, kl_restricted=kl_restricted, params=dict(n_iter=n_iter, repetition=r, polyphony=p,
                                                continuity=c),
                        seconds=time.perf_counter() - t0)


def diagonal_runs(H, threshold: float = 0.5):
    """Lengths of the diagonal runs in H: maximal chains (m, n), (m+1, n+1), … of *active*
    entries, where active means ≥ ``threshold`` × the column's maximum (and > 0).

    A mosaic that plays the source in its own order has long runs; one that jumps
    between unrelated source frames has runs of length 1.

    Returns
    -------
    ndarray of int
        One length per run (empty if nothing is active).

    Examples
    --------
    >>> H = np.zeros((5, 5)); H[0, 0] = H[1, 1] = H[2, 2] = 1.0; H[4, 3] = 1.0; H[0, 4] = 1.0
    >>> sorted(diagonal_runs(H).tolist())
    [1, 1, 3]
    """
    H = np.asarray(H, dtype=float)
    if H.ndim != 2:
        raise ValueError(f"H must be a 2-D activation matrix, got shape {H.shape}")
    colmax = H.max(axis=0, keepdims=True)
    A = (H >= threshold * colmax) & (H > 0)
    M, N = A.shape
    prev = np.zeros_like(A)
    prev[1:, 1:] = A[:-1, :-1]
    starts = np.argwhere(A & ~prev)
    runs = []
    for m, n in starts:
        k = 1
        while m + k < M and n + k < N and A[m + k, n + k]:
            k += 1
        runs.append(k)
    return np.array(runs, dtype=int)


def resynthesize_mosaic(X_src, H, length: int | None = None, n_fft: int = N_FFT,
                        hop_length: int = HOP_LENGTH):
    """The mosaic from the source's complex frames: ``istft(X_src @ H)``.

    Examples
    --------
    >>> x = np.random.default_rng(0).standard_normal(8192); X = stft(x)
    >>> y = resynthesize_mosaic(X, np.eye(X.shape[1]), length=x.size)
    >>> bool(np.allclose(x, y))
    True
    """
    X_src = np.asarray(X_src)
    H = np.asarray(H, dtype=float)
    if X_src.ndim != 2 or H.ndim != 2 or X_src.shape[1] != H.shape[0]:
        raise ValueError(f"X_src (K, M) and H (M, N) must fit, got {X_src.shape} and {H.shape}")
    return istft(X_src @ H, length=length, n_fft=n_fft, hop_length=hop_length)


def griffin_lim_mosaic(W, H, length: int | None = None, n_iter: int = 32,
                       n_fft: int = N_FFT, hop_length: int = HOP_LENGTH, seed=0):
    """The alternative: the magnitude ``W H`` with a phase estimated by Griffin–Lim
    (:func:`librosa.griffinlim`, ``n_iter`` iterations of one inverse and one forward STFT
    each — about 2 · n_iter times the cost of :func:`resynthesize_mosaic`)."""
    import librosa

    return librosa.griffinlim(np.asarray(W, float) @ np.asarray(H, float), n_iter=int(n_iter),
                              hop_length=hop_length, n_fft=n_fft, length=length,
                              init="random", random_state=seed)


def load_source(name: str = "bird_tweets"):
    """The bundled mosaicing source (``data/mosaic``): ``(x, sr, meta)``."""
    import json

    import soundfile as sf

    from .data import data_dir

    p = data_dir() / "applications.json"
    if not p.is_file():
        raise FileNotFoundError(f"no mosaicing source found ({p} is missing); run 'make data'")
    cat = json.loads(p.read_text(encoding="utf-8"))["mosaic_sources"]
    if name not in cat:
        raise ValueError(f"name must be one of {list(cat)}, got {name!r}")
    meta = cat[name]
    x, sr = sf.read(str(data_dir() / meta["files"]["source"]), dtype="float64")
    return x, int(sr), meta
